//! The readable end-of-run summary that `livesell demo` prints: GMV, units, top products, escalations, order drafts and buyer messages.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::io::BufRead;
use std::path::Path;

/// The demo's summary of a run: each show's figures, then its order drafts and buyer messages.
pub fn demo_summary(summary_json: &str, decisions: &Path) -> anyhow::Result<String> {
    let mut s = shows_summary(summary_json, decisions)?;
    let dir = decisions.parent().unwrap_or(Path::new("."));
    writeln!(s, "\nwinners to orders: {}", orders_line(dir)?)?;
    let notes = std::fs::read_to_string(dir.join("notifications.jsonl")).unwrap_or_default();
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    for line in notes.lines() {
        let v: serde_json::Value = serde_json::from_str(line)?;
        *kinds
            .entry(v["kind"].as_str().unwrap_or("?").to_string())
            .or_default() += 1;
    }
    let parts: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
    writeln!(
        s,
        "buyer messages: {} in notifications.jsonl ({})",
        kinds.values().sum::<u64>(),
        parts.join(", ")
    )?;
    Ok(s)
}

/// How many order drafts `DIR/orders_out.jsonl` holds by kind, and the carts they make (one
/// per buyer and show with a reservation).
pub fn orders_line(dir: &Path) -> anyhow::Result<String> {
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    let mut carts = std::collections::BTreeSet::new();
    let path = dir.join("orders_out.jsonl");
    let f = std::fs::File::open(&path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    for line in std::io::BufReader::new(f).lines() {
        let d: serde_json::Value = serde_json::from_str(&line?)?;
        let kind = d["kind"].as_str().unwrap_or("?").to_string();
        if kind == "draft_order" {
            carts.insert((
                d["session_id"].to_string(),
                d["platform"].to_string(),
                d["user_id"].to_string(),
            ));
        }
        *kinds.entry(kind).or_default() += 1;
    }
    let n = |k: &str| kinds.get(k).copied().unwrap_or(0);
    Ok(format!(
        "{} order drafts in orders_out.jsonl ({} created, {} completed, {} cancelled), {} carts",
        kinds.values().sum::<u64>(),
        n("draft_order"),
        n("complete_draft"),
        n("cancel_draft"),
        carts.len()
    ))
}

/// Each show's figures from `summary.json`, and the escalations by reason.
fn shows_summary(summary_json: &str, decisions: &Path) -> anyhow::Result<String> {
    let v: serde_json::Value = serde_json::from_str(summary_json)?;
    let mut s = String::new();
    let mut by_reason: BTreeMap<String, u64> = BTreeMap::new();
    let f = std::fs::File::open(decisions)?;
    for line in std::io::BufReader::new(f).lines() {
        let d: serde_json::Value = serde_json::from_str(&line?)?;
        if d["outcome"] == "escalated" {
            *by_reason
                .entry(d["reason"].as_str().unwrap_or("?").to_string())
                .or_default() += 1;
        }
    }
    let empty = serde_json::Map::new();
    for (id, sess) in v.as_object().unwrap_or(&empty) {
        let n = |k: &str| sess[k].as_i64().unwrap_or(0);
        writeln!(s, "\n== {id} ==")?;
        writeln!(s, "  GMV            ${:.2}", n("gmv_cents") as f64 / 100.0)?;
        writeln!(
            s,
            "  units sold     {}   (held now {})",
            n("units_sold"),
            n("held_units")
        )?;
        writeln!(
            s,
            "  comments       {}   claims {}   buyers {}",
            n("comments"),
            n("claims"),
            n("buyers")
        )?;
        writeln!(
            s,
            "  reservations   {} created, {} paid, {} expired, {} cancelled, {} revoked",
            n("reservations_created"),
            n("reservations_converted"),
            n("reservations_expired"),
            n("reservations_cancelled"),
            n("reservations_revoked")
        )?;
        writeln!(
            s,
            "  orders         {} paid, {} refunded, {} oversells",
            n("orders_paid"),
            n("orders_refunded"),
            n("oversells")
        )?;
        writeln!(
            s,
            "  escalations    {}   waitlisted {}   rejected {}",
            n("escalations"),
            n("waitlisted"),
            n("rejected")
        )?;
        let mut skus: Vec<(&String, i64)> = sess["skus"]
            .as_object()
            .unwrap_or(&empty)
            .iter()
            .map(|(k, v)| (k, v["sold"].as_i64().unwrap_or(0)))
            .collect();
        skus.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let top: Vec<String> = skus
            .iter()
            .take(5)
            .map(|(k, n)| format!("{k} ×{n}"))
            .collect();
        writeln!(s, "  top skus       {}", top.join(", "))?;
    }
    if !by_reason.is_empty() {
        let parts: Vec<String> = by_reason.iter().map(|(k, n)| format!("{k} {n}")).collect();
        writeln!(s, "\nescalations by reason: {}", parts.join(", "))?;
    }
    Ok(s)
}

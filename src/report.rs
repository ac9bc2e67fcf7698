//! The readable end-of-run summary that `livesell demo` prints: GMV, units, top products, escalations.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::io::BufRead;
use std::path::Path;

pub fn demo_summary(summary_json: &str, decisions: &Path) -> anyhow::Result<String> {
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

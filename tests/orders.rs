//! Winners to orders end to end: order drafts in `orders_out.jsonl`, carts that add up to the reservations, and a Shopify product export as the run sheet.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_livesell");

fn records(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn run(input: &Path, out: &Path, workers: &str) {
    let st = Command::new(BIN)
        .args(["run", "--quiet", "--workers", workers, "--input"])
        .arg(input)
        .arg("--out")
        .arg(out)
        .status()
        .unwrap();
    assert!(st.success());
}

fn sql(data: &Path, query: &str) -> Vec<serde_json::Value> {
    let out = Command::new(BIN)
        .args(["sql", "--format", "ndjson", "--data"])
        .arg(data)
        .arg(query)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn generate(path: &Path, events: u64, sessions: u32, seed: u64) {
    let st = Command::new(BIN)
        .args(["gen", "--events", &events.to_string()])
        .args([
            "--sessions",
            &sessions.to_string(),
            "--seed",
            &seed.to_string(),
        ])
        .arg("--out")
        .arg(path)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
}

/// Every reservation change of `decisions.jsonl` is one draft record: a create per reservation
/// created, a cancellation per expiry, cancel or revoke, a completion per conversion, with the
/// same id scheme; the file is the same for 1 and 2 workers.
#[test]
fn every_reservation_change_is_one_order_draft_in_every_worker_count() {
    let dir = tempfile::tempdir().unwrap();
    let show = dir.path().join("show.jsonl");
    generate(&show, 60_000, 3, 5);
    let (one, two) = (dir.path().join("w1"), dir.path().join("w2"));
    run(&show, &one, "1");
    run(&show, &two, "2");
    let drafts_1 = std::fs::read(one.join("orders_out.jsonl")).unwrap();
    assert_eq!(
        drafts_1,
        std::fs::read(two.join("orders_out.jsonl")).unwrap()
    );

    let mut expected: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut per_event: BTreeMap<String, usize> = BTreeMap::new();
    for d in records(&one.join("decisions.jsonl")) {
        if d["kind"] != "reservation" {
            continue;
        }
        let event = d["event"].as_str().unwrap().to_string();
        *per_event.entry(event.clone()).or_default() += 1;
        let rid = d["reservation_id"].as_str().unwrap();
        let (kind, suffix) = match event.as_str() {
            "created" => ("draft_order", "draft"),
            "converted" => ("complete_draft", "complete"),
            _ => ("cancel_draft", "cancel"),
        };
        let id = format!("{rid}/{suffix}");
        assert!(
            expected.insert(id.clone(), (kind.into(), event)).is_none(),
            "two reservation decisions map to draft {id}"
        );
    }
    let drafts = records(&one.join("orders_out.jsonl"));
    assert_eq!(drafts.len(), expected.len());
    for d in &drafts {
        let id = d["id"].as_str().unwrap();
        let (kind, event) = &expected[id];
        assert_eq!(d["kind"], kind.as_str(), "{d}");
        if kind == "cancel_draft" {
            assert_eq!(d["reason"], event.as_str(), "{d}");
        }
    }
    // The show has every kind of change (else the counts above prove little).
    for e in ["created", "converted", "expired", "cancelled"] {
        assert!(
            per_event.get(e).copied().unwrap_or(0) > 0,
            "no {e}: {per_event:?}"
        );
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(one.join("run.json")).unwrap()).unwrap();
    assert_eq!(summary["order_drafts"], drafts.len());
}

/// Every reservation is in exactly one cart, and the carts' figures are the reservations'.
#[test]
fn carts_add_up_to_the_reservations() {
    let dir = tempfile::tempdir().unwrap();
    let show = dir.path().join("show.jsonl");
    generate(&show, 40_000, 2, 9);
    let out = dir.path().join("out");
    run(&show, &out, "2");
    let by_cart = sql(
        &out,
        "SELECT session_id, cart_id, items, units, paid_cents, unpaid_cents, total_cents, state, items_json
         FROM carts ORDER BY session_id, cart_id",
    );
    let from_reservations = sql(
        &out,
        "SELECT session_id, 'cart/' || platform || '/' || user_id AS cart_id, count(*) AS items,
                coalesce(sum(CASE WHEN state IN ('held', 'converted') THEN qty END), 0) AS units,
                coalesce(sum(CASE WHEN state = 'converted' THEN qty * unit_price_cents END), 0) AS paid_cents,
                coalesce(sum(CASE WHEN state = 'held' THEN qty * unit_price_cents END), 0) AS unpaid_cents
         FROM reservations GROUP BY 1, 2 ORDER BY 1, 2",
    );
    assert!(by_cart.len() > 10, "only {} carts", by_cart.len());
    assert_eq!(by_cart.len(), from_reservations.len());
    let mut states: BTreeMap<String, usize> = BTreeMap::new();
    for (c, r) in by_cart.iter().zip(&from_reservations) {
        for col in [
            "session_id",
            "cart_id",
            "items",
            "units",
            "paid_cents",
            "unpaid_cents",
        ] {
            assert_eq!(c[col], r[col], "{col} of {c} vs {r}");
        }
        let (paid, unpaid) = (
            c["paid_cents"].as_i64().unwrap(),
            c["unpaid_cents"].as_i64().unwrap(),
        );
        assert_eq!(c["total_cents"].as_i64().unwrap(), paid + unpaid);
        let items: Vec<serde_json::Value> =
            serde_json::from_str(c["items_json"].as_str().unwrap()).unwrap();
        assert_eq!(items.len() as i64, c["items"].as_i64().unwrap());
        let held = items.iter().any(|i| i["state"] == "held");
        let any_paid = items.iter().any(|i| i["state"] == "paid");
        let state = match (held, any_paid) {
            (true, false) => "open",
            (true, true) => "partly_paid",
            (false, true) => "paid",
            (false, false) => "expired",
        };
        assert_eq!(c["state"], state, "{c}");
        *states.entry(state.to_string()).or_default() += 1;
    }
    assert!(
        states.get("paid").is_some() && states.get("expired").is_some(),
        "{states:?}"
    );
}

/// Shopify's product export columns (help.shopify.com, "Using CSV files to import and export
/// products"), in their order.
const SHOPIFY_HEADER: &str = "Handle,Title,Body (HTML),Vendor,Product Category,Type,Tags,Published,Option1 Name,Option1 Value,Option1 Linked To,Option2 Name,Option2 Value,Option2 Linked To,Option3 Name,Option3 Value,Option3 Linked To,Variant SKU,Variant Grams,Variant Inventory Tracker,Variant Inventory Qty,Variant Inventory Policy,Variant Fulfillment Service,Variant Price,Variant Compare At Price,Variant Requires Shipping,Variant Taxable,Unit Price Total Measure,Unit Price Total Measure Unit,Unit Price Base Measure,Unit Price Base Measure Unit,Variant Barcode,Image Src,Image Position,Image Alt Text,Gift Card,SEO Title,SEO Description,Variant Image,Variant Weight Unit,Variant Tax Code,Cost per item,Status";

/// A boutique's export: 40 products, each in colours × sizes, a few hundred variants, with an
/// image row per product as Shopify writes them.
fn shopify_export() -> (String, usize) {
    let colours = ["Red", "Navy", "Green", "Black", "Cream"];
    let sizes = ["S", "M", "L"];
    let cols = SHOPIFY_HEADER.split(',').count();
    let mut rows = vec![SHOPIFY_HEADER.to_string()];
    let mut variants = 0;
    for p in 0..40 {
        let handle = format!("style-{p:03}");
        let n_colours = 2 + p % 4;
        for (i, (c, s)) in colours[..n_colours]
            .iter()
            .flat_map(|c| sizes.iter().map(move |s| (c, s)))
            .enumerate()
        {
            let mut row = vec![String::new(); cols];
            row[0] = handle.clone();
            if i == 0 {
                row[1] = format!("\"Wrap Dress, style {p}\"");
                row[3] = "Boutique".into();
                row[7] = "TRUE".into();
                row[8] = "Color".into();
                row[11] = "Size".into();
                row[32] = format!("https://cdn.example/{handle}.jpg");
                row[42] = "active".into();
            }
            row[9] = c.to_string();
            row[12] = s.to_string();
            row[17] = format!("WD{p:03}-{}-{s}", c.to_uppercase());
            row[18] = "250".into();
            row[19] = "shopify".into();
            row[20] = (3 + (p + i) % 5).to_string();
            row[21] = "deny".into();
            row[22] = "manual".into();
            row[23] = format!("{}.00", 30 + p);
            row[25] = "TRUE".into();
            row[26] = "TRUE".into();
            row[39] = "g".into();
            rows.push(row.join(","));
            variants += 1;
        }
        let mut image = vec![String::new(); cols];
        image[0] = handle.clone();
        image[32] = format!("https://cdn.example/{handle}-back.jpg");
        image[33] = "2".into();
        rows.push(image.join(","));
    }
    (rows.join("\n") + "\n", variants)
}

#[test]
fn a_shopify_product_export_becomes_a_run_sheet_that_claims_reserve_from() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, variants) = shopify_export();
    assert!(variants > 200, "{variants}");
    let csv_path = dir.path().join("products.csv");
    std::fs::write(&csv_path, csv).unwrap();
    let sheet = dir.path().join("sheet.jsonl");
    let out = Command::new(BIN)
        .args(["runsheet", "--from", "shopify-csv", "--session", "boutique"])
        .args(["--currency", "USD", "--ts", "2026-12-02T18:00:00Z", "--out"])
        .arg(&sheet)
        .arg(&csv_path)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains(&format!("40 product(s), {variants} variant(s)")),
        "{log}"
    );
    let products = records(&sheet);
    assert_eq!(products.len(), 40);
    let codes: Vec<String> = products
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_string())
        .collect();

    // The show: the run sheet, then a buyer per product claiming it by its code and options.
    let mut show: Vec<String> = std::fs::read_to_string(&sheet)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    for (n, (p, code)) in products.iter().zip(&codes).enumerate() {
        let v = &p["variants"][0];
        let text = format!(
            "sold {code} {} {}",
            v["options"]["Color"].as_str().unwrap().to_lowercase(),
            v["options"]["Size"].as_str().unwrap()
        );
        show.push(
            serde_json::json!({"type": "comment", "session_id": "boutique",
                "ts": format!("2026-12-02T18:{:02}:{:02}Z", 1 + n / 60, n % 60),
                "platform": "tiktok", "comment_id": format!("c{n}"),
                "user_id": format!("u{n}"), "text": text})
            .to_string(),
        );
    }
    let input = dir.path().join("show.jsonl");
    std::fs::write(&input, show.join("\n") + "\n").unwrap();
    let run_dir = dir.path().join("out");
    run(&input, &run_dir, "1");
    assert_eq!(
        std::fs::read_to_string(run_dir.join("dead_letter.jsonl")).unwrap(),
        "",
        "the run sheet has dead letters"
    );
    let reserved: Vec<serde_json::Value> = records(&run_dir.join("decisions.jsonl"))
        .into_iter()
        .filter(|d| d["kind"] == "claim")
        .collect();
    assert_eq!(reserved.len(), 40);
    for (d, p) in reserved.iter().zip(&products) {
        assert_eq!(d["outcome"], "reserved", "{d}");
        assert_eq!(d["sku"], p["variants"][0]["sku"], "{d}");
    }
    let stock = sql(
        &run_dir,
        "SELECT count(*) AS n, sum(pool) AS pool FROM stock",
    );
    assert_eq!(stock[0]["n"], variants);
}

/// The buyers' messages: one `won` per reserving claim, one `waitlisted` (with the position)
/// per waitlisted one, one `hold_expired` per expiry, a scheduled `hold_expiring` per hold;
/// the same bytes for 1 and 2 workers; templates per locale from `--messages`.
#[test]
fn buyers_are_told_what_happened_in_their_language() {
    let dir = tempfile::tempdir().unwrap();
    let show = dir.path().join("show.jsonl");
    generate(&show, 30_000, 2, 13);
    let (one, two) = (dir.path().join("w1"), dir.path().join("w2"));
    run(&show, &one, "1");
    run(&show, &two, "2");
    let notes_1 = std::fs::read(one.join("notifications.jsonl")).unwrap();
    assert_eq!(
        notes_1,
        std::fs::read(two.join("notifications.jsonl")).unwrap()
    );
    let notes = records(&one.join("notifications.jsonl"));
    let count = |kind: &str| notes.iter().filter(|m| m["kind"] == kind).count();
    let decisions = records(&one.join("decisions.jsonl"));
    let claims = |outcome: &str| {
        decisions
            .iter()
            .filter(|d| d["kind"] == "claim" && d["outcome"] == outcome)
            .count()
    };
    let reservations = |event: &str| {
        decisions
            .iter()
            .filter(|d| d["kind"] == "reservation" && d["event"] == event)
            .count()
    };
    assert!(claims("reserved") > 50);
    assert_eq!(count("won"), claims("reserved"));
    assert_eq!(count("waitlisted"), claims("waitlisted"));
    assert_eq!(count("promoted"), claims("promoted"));
    assert_eq!(count("hold_expired"), reservations("expired"));
    assert_eq!(count("hold_expiring"), reservations("created"));
    for m in &notes {
        assert!(
            !m["text"].as_str().unwrap().contains('{'),
            "a placeholder left: {m}"
        );
        if m["kind"] == "waitlisted" {
            assert!(
                m["text"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("#{}", m["position"].as_str().unwrap()))
            );
        }
        if m["kind"] == "hold_expiring" {
            assert!(
                m["send_at"].as_str().unwrap() < m["pay_by"].as_str().unwrap(),
                "{m}"
            );
        }
    }

    // Another language for one show, from a templates file.
    let file = dir.path().join("messages.toml");
    std::fs::write(
        &file,
        r#"locale = "en"
expiring_before_s = 20
[sessions]
"show-0001" = "es"
[templates.en]
won = "won {sku}"
waitlisted = "wait {position}"
promoted = "promoted {sku}"
hold_expiring = "expiring {sku}"
hold_expired = "expired {sku}"
cart = "cart {total}"
[templates.es]
won = "¡Ganaste {sku}!"
waitlisted = "Estás en el puesto {position}"
promoted = "Ascendido {sku}"
hold_expiring = "Tu reserva de {sku} vence a las {pay_by}"
hold_expired = "Tu reserva de {sku} venció"
cart = "Tu carrito: {total}, paga antes de {pay_by}"
"#,
    )
    .unwrap();
    let es = dir.path().join("es");
    let st = Command::new(BIN)
        .args(["run", "--quiet", "--messages"])
        .arg(&file)
        .arg("--input")
        .arg(&show)
        .arg("--out")
        .arg(&es)
        .status()
        .unwrap();
    assert!(st.success());
    let notes = records(&es.join("notifications.jsonl"));
    let sessions: std::collections::BTreeSet<&str> = notes
        .iter()
        .map(|m| m["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    for m in &notes {
        let spanish = m["session_id"] == "show-0001";
        assert_eq!(m["locale"], if spanish { "es" } else { "en" });
        if m["kind"] == "won" {
            let t = m["text"].as_str().unwrap();
            assert!(
                if spanish {
                    t.starts_with("¡Ganaste")
                } else {
                    t.starts_with("won ")
                },
                "{m}"
            );
        }
    }
    // A file missing a template is refused before anything runs.
    std::fs::write(&file, "locale = \"en\"\n[templates.en]\nwon = \"x\"\n").unwrap();
    let o = Command::new(BIN)
        .args(["run", "--quiet", "--messages"])
        .arg(&file)
        .arg("--input")
        .arg(&show)
        .arg("--out")
        .arg(dir.path().join("bad"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no template for"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `livesell demo` writes the drafts, the carts and the messages, and says how many.
#[test]
fn the_demo_says_how_many_drafts_carts_and_messages_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .args(["demo", "--events", "20000", "--no-serve", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = dir.path().join("out");
    let drafts = records(&out.join("orders_out.jsonl")).len();
    let notes = records(&out.join("notifications.jsonl")).len();
    let carts = sql(&out, "SELECT count(*) AS n FROM carts")[0]["n"]
        .as_u64()
        .unwrap();
    assert!(drafts > 0 && notes > 0 && carts > 0);
    assert!(
        text.contains(&format!("{drafts} order drafts in orders_out.jsonl")),
        "{text}"
    );
    assert!(text.contains(&format!(", {carts} carts")), "{text}");
    assert!(
        text.contains(&format!("buyer messages: {notes} in notifications.jsonl")),
        "{text}"
    );
}

//! The reading benchmark: the claim grammar on the labeled chat corpus (`datasets/chat/`), per language.
//!
//! `cargo run --release -p livesell-core --example reading [-- DIR] [--show false|missed|escalated|all] [--lang L]`
//!
//! For each `<lang>.jsonl` beside its `<lang>.runsheet.jsonl`, the run sheet's director events
//! are applied to a session, each comment is read as that session reads it with its product on
//! screen, and the reading is compared with the label:
//! - false claims: chatter and questions read as a claim (they would reserve or waitlist), as a
//!   share of all chatter and questions;
//! - missed claims: comments labeled `claim` that are read as ignored, as a share of the claims;
//! - escalations: comments escalated to a moderator, as a share of all comments.
//!
//! Cancels read as claims and claims read as the wrong sku are counted beside them. The goals
//! (bench/README.md): false claims ≤ 1%, missed ≤ 10%, escalations ≤ 12%, in every language.

use std::path::{Path, PathBuf};

use livesell_core::domain::event::parse::parse_line;
use livesell_core::domain::grammar::Reading;
use livesell_core::domain::session::Session;
use serde::Deserialize;

#[derive(Deserialize)]
struct Line {
    text: String,
    label: String,
    active: Option<String>,
    sku: Option<String>,
}

#[derive(Default)]
struct Tally {
    comments: u64,
    claims: u64,
    non_claims: u64,
    false_claims: u64,
    missed: u64,
    escalated: u64,
    cancels_as_claims: u64,
    wrong_sku: u64,
}

impl Tally {
    fn pct(n: u64, d: u64) -> f64 {
        if d == 0 {
            0.0
        } else {
            100.0 * n as f64 / d as f64
        }
    }

    fn row(&self, lang: &str) -> String {
        format!(
            "| {lang} | {} | {:.1}% ({}/{}) | {:.1}% ({}/{}) | {:.1}% ({}) | {} | {} |",
            self.comments,
            Self::pct(self.false_claims, self.non_claims),
            self.false_claims,
            self.non_claims,
            Self::pct(self.missed, self.claims),
            self.missed,
            self.claims,
            Self::pct(self.escalated, self.comments),
            self.escalated,
            self.cancels_as_claims,
            self.wrong_sku,
        )
    }

    fn meets_goals(&self) -> bool {
        Self::pct(self.false_claims, self.non_claims) <= 1.0
            && Self::pct(self.missed, self.claims) <= 10.0
            && Self::pct(self.escalated, self.comments) <= 12.0
    }
}

fn director_line(session: &str, action: &str, code: Option<&str>) -> String {
    match code {
        Some(c) => format!(
            r#"{{"type":"director","session_id":"{session}","ts":1764000001000,"action":"{action}","code":{}}}"#,
            serde_json::to_string(c).expect("a string")
        ),
        None => format!(
            r#"{{"type":"director","session_id":"{session}","ts":1764000001000,"action":"{action}"}}"#
        ),
    }
}

fn apply(session: &mut Session, line: &str) {
    let ev = parse_line(line.as_bytes()).unwrap_or_else(|e| panic!("{line}: {e:?}"));
    session.apply(&ev, ev.ts, false, &mut Vec::new());
}

/// One language's comments read by its run sheet's session, with `pack` turned on as well.
fn run(dir: &Path, lang: &str, pack: Option<&str>, show: &str) -> Tally {
    let sheet = std::fs::read_to_string(dir.join(format!("{lang}.runsheet.jsonl")))
        .unwrap_or_else(|e| panic!("{lang}.runsheet.jsonl: {e}"));
    let mut session = Session::new();
    for line in sheet.lines().filter(|l| !l.trim().is_empty()) {
        apply(&mut session, line);
    }
    if let Some(p) = pack {
        apply(
            &mut session,
            &format!(
                r#"{{"type":"director","session_id":"{lang}","ts":1764000000999,"action":"config","keyword_packs":["{p}"]}}"#
            ),
        );
    }
    let comments = std::fs::read_to_string(dir.join(format!("{lang}.jsonl")))
        .unwrap_or_else(|e| panic!("{lang}.jsonl: {e}"));
    let mut t = Tally::default();
    let mut on_screen: Option<String> = None;
    for (n, line) in comments.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let c: Line =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{lang}.jsonl:{}: {e}", n + 1));
        if c.active != on_screen {
            let ev = match &c.active {
                Some(code) => director_line(lang, "activate", Some(code)),
                None => director_line(lang, "deactivate", None),
            };
            apply(&mut session, &ev);
            on_screen = c.active.clone();
        }
        let reading = session.reading(&c.text);
        t.comments += 1;
        let is_claim = matches!(reading, Reading::Claim { .. });
        let verdict = match c.label.as_str() {
            "claim" => {
                t.claims += 1;
                if let (Reading::Claim { sku, .. }, Some(want)) = (&reading, &c.sku) {
                    if &sku[..] != want.as_str() {
                        t.wrong_sku += 1;
                        Some("wrong sku")
                    } else {
                        None
                    }
                } else if matches!(reading, Reading::Ignored(_)) {
                    t.missed += 1;
                    Some("missed")
                } else {
                    None
                }
            }
            "chatter" | "question" => {
                t.non_claims += 1;
                is_claim.then(|| {
                    t.false_claims += 1;
                    "false"
                })
            }
            "cancel" => is_claim.then(|| {
                t.cancels_as_claims += 1;
                "false"
            }),
            _ => None,
        };
        let escalated = matches!(reading, Reading::Escalated { .. });
        if escalated {
            t.escalated += 1;
        }
        let listed = match show {
            "all" => true,
            "escalated" => escalated,
            "false" | "missed" => {
                verdict == Some(show) || (show == "missed" && verdict == Some("wrong sku"))
            }
            _ => false,
        };
        if listed {
            println!(
                "{lang}:{}\t{}\t[{}]\t{:?}\t{:?}",
                n + 1,
                c.label,
                c.active.as_deref().unwrap_or("-"),
                c.text,
                reading
            );
        }
    }
    t
}

fn main() {
    let mut dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../datasets/chat"));
    let mut show = String::new();
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--show" => show = args.next().expect("--show false|missed|escalated|all"),
            "--lang" => only = args.next(),
            _ => dir = PathBuf::from(a),
        }
    }
    let mut langs: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let lang = name.strip_suffix(".jsonl")?;
            (!lang.ends_with(".runsheet")).then(|| lang.to_string())
        })
        .filter(|l| only.as_ref().is_none_or(|o| o == l))
        .collect();
    langs.sort_by_key(|l| (l != "en", l.clone()));
    let mut rows = Vec::new();
    let mut all_met = true;
    for lang in &langs {
        let t = run(&dir, lang, None, &show);
        // English is read by the SPEC's rules alone, which bound it (bench/README.md); the row
        // beside it turns the `en` pack on.
        if lang != "en" {
            all_met &= t.meets_goals();
        }
        rows.push(t.row(lang));
        if lang == "en" {
            let t = run(&dir, lang, Some("en"), &show);
            all_met &= t.meets_goals();
            rows.push(t.row("en + pack en"));
        }
    }
    println!(
        "| language | comments | false claims | missed claims | escalations | cancels read as claims | claims of the wrong sku |"
    );
    println!("|---|---|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
    println!(
        "goals (false ≤ 1%, missed ≤ 10%, escalations ≤ 12%, every language; English with its pack): {}",
        if all_met { "met" } else { "NOT met" }
    );
}

//! `livesell runsheet`: a shop's product catalog (a Shopify product export) as run-sheet `product` events, with every bad row reported by its line.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::domain::catalog::{Catalog, Codes, import_shopify_csv};
use crate::domain::time::{format_micros, parse_rfc3339};

/// What `livesell runsheet` was asked.
#[derive(Debug, Clone)]
pub struct RunsheetArgs {
    /// The export's format: `shopify-csv`.
    pub from: String,
    pub file: PathBuf,
    /// The show the products are for (default: the file's name without its extension).
    pub session: Option<String>,
    pub codes: Codes,
    pub currency: Option<String>,
    /// The events' time (RFC 3339; default now): before the show's first claim.
    pub ts: Option<String>,
    /// Where the events go (default standard output).
    pub out: Option<PathBuf>,
}

/// Reads the export, prints each problem to standard error, writes the events; fails when
/// no product could be made.
pub fn runsheet(args: &RunsheetArgs) -> anyhow::Result<Catalog> {
    if args.from != "shopify-csv" {
        bail!("--from {}: the formats are: shopify-csv", args.from);
    }
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let cat = import_shopify_csv(&text, args.codes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let name = args.file.display();
    for p in &cat.problems {
        let what = if p.skipped { "left out" } else { "taken" };
        eprintln!(
            "livesell: {name}:{}: {} ({what}): {}",
            p.line, p.reason, p.detail
        );
    }
    if cat.products.is_empty() {
        bail!("{name}: no product could be read");
    }
    let session = args.session.clone().unwrap_or_else(|| stem(&args.file));
    let ts = match &args.ts {
        Some(t) => {
            parse_rfc3339(t).map_err(|e| anyhow::anyhow!("--ts {t}: {e}"))?;
            t.clone()
        }
        None => format_micros(now_micros()),
    };
    let mut out: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    for p in &cat.products {
        writeln!(out, "{}", p.event(&session, &ts, args.currency.as_deref()))?;
    }
    out.flush()?;
    let variants: usize = cat.products.iter().map(|p| p.variants.len()).sum();
    let left_out = cat.problems.iter().filter(|p| p.skipped).count();
    eprintln!(
        "livesell: {} product(s), {variants} variant(s) for session {session} from {name}; {left_out} row(s) or product(s) left out",
        cat.products.len()
    );
    Ok(cat)
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "show".into())
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

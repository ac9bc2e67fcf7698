//! `livesell report`: the post-session report from SQL over the run's snapshot tables, one self-contained HTML page (with the SVG of `charts`) and its Markdown twin.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::charts::{bar_chart, minute_chart};
use super::{SqlError, context, query};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::execution::context::SessionContext;

/// A query result as text cells, for tables and charts.
struct Table {
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn from_batches(batches: &[RecordBatch]) -> Result<Table, SqlError> {
        let columns = batches
            .first()
            .map(|b| {
                b.schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect()
            })
            .unwrap_or_default();
        let options = FormatOptions::default().with_null("–");
        let mut rows = Vec::new();
        for b in batches {
            let fmts: Vec<ArrayFormatter> = b
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                .collect::<Result<_, _>>()?;
            for r in 0..b.num_rows() {
                rows.push(fmts.iter().map(|f| f.value(r).to_string()).collect());
            }
        }
        Ok(Table { columns, rows })
    }

    fn num(&self, row: usize, col: usize) -> f64 {
        self.rows
            .get(row)
            .and_then(|r| r.get(col))
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0)
    }

    fn cell(&self, row: usize, col: usize) -> &str {
        self.rows
            .get(row)
            .and_then(|r| r.get(col))
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// The report's queries; `{s}` is the session id as an SQL string literal (the SQL benchmark
/// runs the same ones).
pub const QUERIES: &[(&str, &str)] = &[
    (
        "totals",
        "SELECT (SELECT coalesce(sum(gmv_cents), 0) FROM orders WHERE session_id = {s}) AS gmv_cents,
                (SELECT coalesce(sum(CASE WHEN outcome = 'refunded' THEN -qty ELSE qty END), 0) FROM orders WHERE session_id = {s}) AS units,
                (SELECT count(*) FROM orders WHERE session_id = {s} AND outcome <> 'refunded') AS orders_paid,
                (SELECT count(*) FROM orders WHERE session_id = {s} AND outcome = 'refunded') AS refunds,
                (SELECT count(*) FROM comments WHERE session_id = {s}) AS comments,
                (SELECT count(*) FROM reservations WHERE session_id = {s}) AS reservations",
    ),
    (
        "per_minute",
        "SELECT minute, sum(gmv_cents) AS gmv_cents, sum(units) AS units, sum(claims) AS claims
         FROM gmv_minute WHERE session_id = {s} GROUP BY minute ORDER BY minute",
    ),
    (
        "top_products",
        "SELECT p.code, p.title, sum(o.gmv_cents) AS gmv_cents, sum(o.qty) AS units
         FROM orders o JOIN products p ON p.session_id = o.session_id AND p.sku = o.sku
         WHERE o.session_id = {s} AND o.outcome <> 'refunded'
         GROUP BY p.code, p.title ORDER BY gmv_cents DESC, p.code LIMIT 10",
    ),
    (
        "platforms",
        "SELECT c.platform, c.comments, c.claims, coalesce(o.gmv_cents, 0) AS gmv_cents
         FROM (SELECT platform, count(*) AS comments,
                      sum(CASE WHEN reading IN ('claim', 'escalated', 'rejected') THEN 1 ELSE 0 END) AS claims
               FROM comments WHERE session_id = {s} GROUP BY platform) c
         LEFT JOIN (SELECT platform, sum(gmv_cents) AS gmv_cents FROM orders
                    WHERE session_id = {s} GROUP BY platform) o ON o.platform = c.platform
         ORDER BY c.platform",
    ),
    (
        "funnel",
        "SELECT step, n FROM (
           SELECT 1 AS k, 'comments' AS step, count(*) AS n FROM comments WHERE session_id = {s}
           UNION ALL SELECT 2, 'claims', count(*) FROM comments
             WHERE session_id = {s} AND reading IN ('claim', 'escalated', 'rejected')
           UNION ALL SELECT 3, 'reserved', count(*) FROM reservations WHERE session_id = {s}
           UNION ALL SELECT 4, 'paid', count(*) FROM reservations
             WHERE session_id = {s} AND state = 'converted') ORDER BY k",
    ),
    (
        "locks",
        "SELECT state, count(*) AS reservations, sum(qty) AS units FROM reservations
         WHERE session_id = {s} GROUP BY state ORDER BY state",
    ),
    (
        "carts",
        // One cart per buyer (schemas/snapshots.md): how many were paid in full, and what the
        // holds still open at the end were worth.
        "SELECT count(*) AS carts,
                coalesce(sum(CASE WHEN state = 'paid' THEN 1 ELSE 0 END), 0) AS paid,
                coalesce(sum(CASE WHEN state = 'partly_paid' THEN 1 ELSE 0 END), 0) AS partly_paid,
                CASE WHEN count(*) = 0 THEN 0.0
                     ELSE round(100.0 * sum(CASE WHEN state = 'paid' THEN 1 ELSE 0 END) / count(*), 1)
                END AS paid_share_pct,
                coalesce(sum(paid_cents), 0) AS paid_cents,
                coalesce(sum(unpaid_cents), 0) AS unpaid_cents
         FROM carts WHERE session_id = {s}",
    ),
    (
        "non_payers",
        "SELECT platform, user_id, count(*) AS expired FROM reservations
         WHERE session_id = {s} AND state = 'expired'
         GROUP BY platform, user_id HAVING count(*) > 1
         ORDER BY expired DESC, platform, user_id LIMIT 20",
    ),
    (
        "promotions",
        "SELECT sku, count(*) AS promotions FROM claims
         WHERE session_id = {s} AND outcome = 'promoted'
         GROUP BY sku ORDER BY promotions DESC, sku LIMIT 10",
    ),
    (
        "oversells",
        "SELECT ts, order_id, sku, qty, platform, user_id FROM orders
         WHERE session_id = {s} AND outcome = 'oversell' ORDER BY seq LIMIT 50",
    ),
    (
        "moderation",
        // An escalation's answer is the first later decision of its claim: a moderator's
        // rejection, or what the allocator did with the moderator's accept.
        "WITH esc AS (SELECT session_id, claim_id, ts, reason FROM claims
                      WHERE session_id = {s} AND outcome = 'escalated'),
              answered AS (SELECT session_id, claim_id, min(ts) AS answered_at FROM claims
                           WHERE session_id = {s} AND outcome <> 'escalated'
                           GROUP BY session_id, claim_id),
              waits AS (SELECT e.reason, a.answered_at,
                               (CAST(a.answered_at AS BIGINT) - CAST(e.ts AS BIGINT)) / 1e6 AS secs
                        FROM esc e LEFT JOIN answered a
                          ON a.session_id = e.session_id AND a.claim_id = e.claim_id)
         SELECT reason, count(*) AS escalations, count(answered_at) AS answered,
                count(*) - count(answered_at) AS unanswered,
                round(approx_percentile_cont(0.5) WITHIN GROUP (ORDER BY secs), 1) AS p50_seconds,
                round(approx_percentile_cont(0.9) WITHIN GROUP (ORDER BY secs), 1) AS p90_seconds,
                round(max(secs), 1) AS max_seconds
         FROM waits GROUP BY reason ORDER BY escalations DESC, reason",
    ),
    (
        "moderation_minute",
        // The show's minutes are the minutes with any comment, escalation or answer; the
        // backlog is what is still open at the end of each.
        "WITH esc AS (SELECT session_id, claim_id, ts FROM claims
                      WHERE session_id = {s} AND outcome = 'escalated'),
              answered AS (SELECT c.claim_id, min(c.ts) AS answered_at FROM claims c
                           JOIN esc e ON e.session_id = c.session_id AND e.claim_id = c.claim_id
                           WHERE c.session_id = {s} AND c.outcome <> 'escalated'
                           GROUP BY c.claim_id),
              events AS (SELECT date_trunc('minute', ts) AS minute, 1 AS comments, 0 AS escalations, 0 AS answers
                         FROM comments WHERE session_id = {s}
                         UNION ALL SELECT date_trunc('minute', ts), 0, 1, 0 FROM esc
                         UNION ALL SELECT date_trunc('minute', answered_at), 0, 0, 1 FROM answered),
              minutes AS (SELECT minute, sum(comments) AS comments, sum(escalations) AS escalations,
                                 sum(answers) AS answered
                          FROM events GROUP BY minute)
         SELECT minute, comments, escalations, answered,
                sum(escalations - answered) OVER (ORDER BY minute ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS open_at_end
         FROM minutes ORDER BY minute",
    ),
    (
        "latency",
        "SELECT count(*) AS claims,
                approx_percentile_cont(0.5) WITHIN GROUP (ORDER BY d) / 1000.0 AS p50_ms,
                approx_percentile_cont(0.99) WITHIN GROUP (ORDER BY d) / 1000.0 AS p99_ms,
                max(d) / 1000.0 AS max_ms
         FROM (SELECT CAST(f.first_ts AS BIGINT) - CAST(c.ts AS BIGINT) AS d
               FROM comments c JOIN (SELECT session_id, claim_id, min(ts) AS first_ts FROM claims
                                     WHERE session_id = {s} GROUP BY session_id, claim_id) f
                 ON f.session_id = c.session_id AND f.claim_id = c.platform || ':' || c.comment_id
               WHERE c.session_id = {s})",
    ),
];

pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn money(cents: f64) -> String {
    format!("{:.2}", cents / 100.0)
}

/// The written report: the HTML page and its Markdown twin.
pub struct Written {
    pub html: PathBuf,
    pub markdown: PathBuf,
}

/// Runs the report's queries for `session` over `data` and writes `out` (HTML) and the same
/// name with `.md`.
pub fn write_report(data: &Path, session: &str, out: &Path) -> anyhow::Result<Written> {
    let tables = super::runtime()?.block_on(async {
        let ctx = context(data).await?;
        gather(&ctx, session).await
    })?;
    let known = tables
        .iter()
        .find(|(n, _)| *n == "totals")
        .is_some_and(|(_, t)| t.num(0, 4) > 0.0);
    if !known {
        anyhow::bail!(
            "no session {session:?} in {} (no comments for it)",
            data.display()
        );
    }
    let html = render_html(session, &tables)?;
    let markdown = render_markdown(session, &tables);
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let md_path = out.with_extension("md");
    std::fs::write(out, html)?;
    std::fs::write(&md_path, markdown)?;
    Ok(Written {
        html: out.to_path_buf(),
        markdown: md_path,
    })
}

async fn gather(
    ctx: &SessionContext,
    session: &str,
) -> Result<Vec<(&'static str, Table)>, SqlError> {
    let mut out = Vec::new();
    for (name, sql) in QUERIES {
        let batches = query(ctx, &sql.replace("{s}", &literal(session))).await?;
        out.push((*name, Table::from_batches(&batches)?));
    }
    Ok(out)
}

fn get<'a>(tables: &'a [(&str, Table)], name: &str) -> &'a Table {
    &tables
        .iter()
        .find(|(n, _)| *n == name)
        .expect("every query ran")
        .1
}

fn html_table(t: &Table) -> String {
    if t.rows.is_empty() {
        return "<p class=\"none\">none</p>\n".into();
    }
    let mut s = String::from("<table><thead><tr>");
    for c in &t.columns {
        let _ = write!(s, "<th>{}</th>", esc(c));
    }
    s.push_str("</tr></thead><tbody>");
    for r in &t.rows {
        s.push_str("<tr>");
        for v in r {
            let _ = write!(s, "<td>{}</td>", esc(v));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>\n");
    s
}

fn md_table(t: &Table) -> String {
    if t.rows.is_empty() {
        return "none\n".into();
    }
    let mut s = format!("| {} |\n|", t.columns.join(" | "));
    for _ in &t.columns {
        s.push_str("---|");
    }
    s.push('\n');
    for r in &t.rows {
        let cells: Vec<String> = r.iter().map(|v| v.replace('|', "\\|")).collect();
        let _ = writeln!(s, "| {} |", cells.join(" | "));
    }
    s
}

fn render_html(session: &str, tables: &[(&str, Table)]) -> anyhow::Result<String> {
    let totals = get(tables, "totals");
    let per_minute = get(tables, "per_minute");
    let top = get(tables, "top_products");
    let platforms = get(tables, "platforms");
    let funnel = get(tables, "funnel");
    let oversells = get(tables, "oversells");
    let [minute_svg, top_svg, platform_svg, funnel_svg] = charts(tables)?;
    let mut h = html_head(session);
    h.push_str("<div class=\"kpi\">");
    for (label, value) in kpis(totals) {
        let _ = write!(h, "<div>{label}<b>{}</b></div>", esc(&value));
    }
    h.push_str("</div>\n");
    let mut section = |title: &str, svg: Option<&str>, t: &Table, note: &str| {
        let _ = write!(h, "<h2>{}</h2>\n", esc(title));
        if !note.is_empty() {
            let _ = write!(h, "<p>{}</p>\n", esc(note));
        }
        if let Some(svg) = svg {
            let _ = write!(h, "<figure class=\"chart\">{svg}</figure>\n");
        }
        h.push_str(&html_table(t));
    };
    section(
        "GMV and units over the show",
        Some(&minute_svg),
        per_minute,
        "",
    );
    section("Top products", Some(&top_svg), top, "");
    section("Per platform", Some(&platform_svg), platforms, "");
    section(
        "Funnel: comments → claims → reserved → paid",
        Some(&funnel_svg),
        funnel,
        "",
    );
    section(
        "Reservations by state (expired locks)",
        None,
        get(tables, "locks"),
        "",
    );
    section(
        "Carts",
        None,
        get(tables, "carts"),
        "One cart per buyer: its reservations bundled (one invoice, one shipping). Paid share: carts paid in full; unpaid: what the holds still open at the end were worth, in cents.",
    );
    section(
        "Repeat non-payers",
        None,
        get(tables, "non_payers"),
        "Buyers whose locks expired more than once.",
    );
    section("Waitlist promotions", None, get(tables, "promotions"), "");
    let oversell_note = format!(
        "{} oversell incident(s); 0 expected: the allocator never oversells, so an oversell is a paid order with no live reservation and no stock left.",
        oversells.rows.len()
    );
    section("Oversell incidents", None, oversells, &oversell_note);
    let workload = moderation_note(tables);
    section(
        "Moderator workload",
        None,
        get(tables, "moderation"),
        &format!(
            "{workload} Per reason: how many were answered, and the time from escalation to the moderator's answer (median, 90th percentile, longest; seconds of show time)."
        ),
    );
    section(
        "Escalations per minute",
        None,
        get(tables, "moderation_minute"),
        "Per minute of the show: comments, escalations raised, answers given, and the queue left open at the end of the minute.",
    );
    section(
        "Claim-to-decision latency",
        None,
        get(tables, "latency"),
        "From the platform's timestamp of a claim comment to its first decision, in event time.",
    );
    h.push_str("</body></html>\n");
    Ok(h)
}

/// The page's four charts: GMV and units per minute, top products, platforms, funnel.
fn charts(tables: &[(&str, Table)]) -> anyhow::Result<[String; 4]> {
    let per_minute = get(tables, "per_minute");
    let chart_err = |e: String| anyhow::anyhow!("cannot draw a chart: {e}");
    let points = |col: usize, scale: f64| -> Vec<(f64, f64)> {
        (0..per_minute.rows.len())
            .map(|i| (i as f64, per_minute.num(i, col) / scale))
            .collect()
    };
    let minute_svg = minute_chart(&points(1, 100.0), &points(2, 1.0)).map_err(chart_err)?;
    let bars = |name: &str, label: usize, value: usize, scale: f64| -> Vec<(String, f64)> {
        let t = get(tables, name);
        (0..t.rows.len())
            .map(|i| (t.cell(i, label).to_string(), t.num(i, value) / scale))
            .collect()
    };
    let top_svg =
        bar_chart("Top products by GMV", &bars("top_products", 0, 2, 100.0)).map_err(chart_err)?;
    let platform_svg =
        bar_chart("GMV by platform", &bars("platforms", 0, 3, 100.0)).map_err(chart_err)?;
    let funnel_svg = bar_chart("Funnel", &bars("funnel", 0, 1, 1.0)).map_err(chart_err)?;
    Ok([minute_svg, top_svg, platform_svg, funnel_svg])
}

/// The page's head (its style) and title.
fn html_head(session: &str) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Live Selling OS — {s}</title>\n<style>\
         body{{font-family:sans-serif;max-width:820px;margin:2em auto;color:#222}}\
         table{{border-collapse:collapse;margin:.5em 0 1.5em}}\
         td,th{{border:1px solid #ccc;padding:.25em .6em;text-align:left}}\
         th{{background:#f3f3f3}} .kpi{{display:flex;gap:1.5em;flex-wrap:wrap}}\
         .kpi div{{background:#f6f8fb;padding:.6em 1em;border-radius:6px}}\
         .kpi b{{display:block;font-size:1.4em}} figure{{margin:0 0 1.5em}} .none{{color:#777}}\
         </style></head><body>\n<h1>Post-session report: {s}</h1>\n",
        s = esc(session)
    );
    h
}

/// The headline figures, in the order of the totals query.
fn kpis(totals: &Table) -> Vec<(&'static str, String)> {
    let labels = [
        "units",
        "orders paid",
        "refunds",
        "comments",
        "reservations",
    ];
    std::iter::once(("GMV", money(totals.num(0, 0))))
        .chain(
            labels
                .into_iter()
                .enumerate()
                .map(|(i, l)| (l, totals.cell(0, i + 1).to_string())),
        )
        .collect()
}

/// The moderator's load in one sentence: escalations per minute of the show, and what was left.
fn moderation_note(tables: &[(&str, Table)]) -> String {
    let per_reason = get(tables, "moderation");
    let minutes = get(tables, "moderation_minute").rows.len();
    let sum = |col: usize| -> f64 {
        (0..per_reason.rows.len())
            .map(|i| per_reason.num(i, col))
            .sum()
    };
    let (raised, open) = (sum(1), sum(3));
    let rate = if minutes > 0 {
        raised / minutes as f64
    } else {
        0.0
    };
    format!(
        "{raised} escalations over {minutes} minute(s) of the show: {rate:.1} per minute; {open} still unanswered at the end."
    )
}

fn render_markdown(session: &str, tables: &[(&str, Table)]) -> String {
    let totals = get(tables, "totals");
    let mut m = format!("# Post-session report: {session}\n\n");
    let line: Vec<String> = kpis(totals)
        .into_iter()
        .map(|(label, value)| format!("{label} **{value}**"))
        .collect();
    let _ = writeln!(m, "{}.\n", line.join(", "));
    let workload = moderation_note(tables);
    for (title, name) in [
        ("GMV and units over the show", "per_minute"),
        ("Top products", "top_products"),
        ("Per platform", "platforms"),
        ("Funnel: comments → claims → reserved → paid", "funnel"),
        ("Reservations by state (expired locks)", "locks"),
        ("Carts (one per buyer)", "carts"),
        ("Repeat non-payers", "non_payers"),
        ("Waitlist promotions", "promotions"),
        ("Oversell incidents (0 expected)", "oversells"),
        ("Moderator workload", "moderation"),
        ("Escalations per minute", "moderation_minute"),
        ("Claim-to-decision latency (event time)", "latency"),
    ] {
        let note = if name == "moderation" {
            format!("{workload} Time to answer in seconds of show time.\n\n")
        } else {
            String::new()
        };
        let _ = writeln!(m, "## {title}\n\n{note}{}", md_table(get(tables, name)));
    }
    m
}

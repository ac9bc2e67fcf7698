//! `livesell sql`, `report` and `serve-sql`: queries printed (a bad one exits 2), the post-session report written, the tables served over pgwire.

use std::path::PathBuf;

use livesell::config::ServeFile;
use livesell::sql::SqlError;

#[derive(clap::Args)]
pub struct SqlArgs {
    /// The run's output directory (`livesell run --out DIR`).
    #[arg(long)]
    pub data: PathBuf,
    /// The query, e.g. "SELECT session_id, sum(gmv_cents) FROM orders GROUP BY 1".
    pub query: String,
    #[arg(long, value_enum, default_value = "table")]
    pub format: livesell::sql::Format,
}

#[derive(clap::Args)]
pub struct ReportArgs {
    /// The run's output directory (`livesell run --out DIR`).
    #[arg(long)]
    pub data: PathBuf,
    #[arg(long)]
    pub session: String,
    /// Where the HTML goes (the Markdown takes the same name with `.md`); default
    /// DIR/report-SESSION.html.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct ServeSqlArgs {
    #[arg(long)]
    pub data: PathBuf,
    /// Beyond loopback only with a password (`[sql] password` or LIVESELL_SQL_PASSWORD).
    #[arg(long, default_value = "127.0.0.1:5433")]
    pub listen: String,
    /// A TOML file with an `[sql]` table (`user`, `password`): logins by SCRAM-SHA-256.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// `livesell sql`: one query, printed; a bad query is the user's to fix (exit 2).
pub fn sql(args: SqlArgs) -> anyhow::Result<()> {
    match livesell::sql::run(&args.data, &args.query, args.format) {
        Ok(text) => {
            print!("{text}");
            Ok(())
        }
        // A bad query is the user's to fix: DataFusion's own words, exit code 2.
        Err(e @ SqlError::Query(_)) => {
            eprintln!("livesell: query failed: {e}");
            std::process::exit(2);
        }
        Err(e) => Err(e.into()),
    }
}

/// `livesell report`: the HTML page (default `DIR/report-SESSION.html`) and its Markdown twin.
pub fn report(args: ReportArgs) -> anyhow::Result<()> {
    let ReportArgs { data, session, out } = args;
    let out = out.unwrap_or_else(|| {
        let safe: String = session
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        data.join(format!("report-{safe}.html"))
    });
    let w = livesell::sql::report::write_report(&data, &session, &out)?;
    eprintln!(
        "livesell: report for {session}: {} and {}",
        w.html.display(),
        w.markdown.display()
    );
    Ok(())
}

/// `livesell serve-sql`: until the process is stopped.
pub fn serve_sql(args: ServeSqlArgs) -> anyhow::Result<()> {
    let ServeSqlArgs {
        data,
        listen,
        config,
    } = args;
    let auth =
        ServeFile::load_or_default(config.as_deref())?.sql_logins(|k| std::env::var(k).ok())?;
    let login = if auth.password.is_some() {
        "a password"
    } else {
        "no password"
    };
    livesell::sql::pgwire::serve(&data, &listen, &auth, |addr| {
        eprintln!(
            "livesell: serving {} over the Postgres protocol on {addr} (read-only, {login})",
            data.display()
        );
    })
}

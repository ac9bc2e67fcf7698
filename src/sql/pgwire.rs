//! `livesell serve-sql`: the snapshot tables over the Postgres wire protocol (pgwire), read-only.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::execution::context::SessionContext;
use futures::stream;
use pgwire::api::auth::noop::NoopStartupHandler;
use pgwire::api::auth::sasl::SASLAuthStartupHandler;
use pgwire::api::auth::sasl::scram::{ScramAuth, gen_salted_password};
use pgwire::api::auth::{
    AuthSource, DefaultServerParameterProvider, LoginInfo, Password, StartupHandler,
};
use pgwire::api::portal::Portal;
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{
    DataRowEncoder, DescribePortalResponse, DescribeStatementResponse, FieldFormat, FieldInfo,
    QueryResponse, Response, Tag,
};
use pgwire::api::stmt::{NoopQueryParser, StoredStatement};
use pgwire::api::{ClientInfo, ClientPortalStore, PgWireServerHandlers, Type};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::data::DataRow;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use serde::Deserialize;

use super::read_only;

/// Answers simple queries (what `psql` sends) and unparameterised extended ones (what drivers
/// and BI tools send) from the run's tables.
pub struct Handler {
    ctx: SessionContext,
    parser: Arc<NoopQueryParser>,
    /// A statement running longer is cancelled.
    timeout: std::time::Duration,
}

impl NoopStartupHandler for Handler {}

/// A Postgres error the client shows: SQLSTATE `code` and DataFusion's message.
fn user_error(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".to_string(),
        code.to_string(),
        message,
    )))
}

/// The Postgres type a column is announced as (values always travel as text).
fn pg_type(t: &DataType) -> Type {
    match t {
        DataType::Boolean => Type::BOOL,
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => Type::INT2,
        DataType::Int32 | DataType::UInt16 => Type::INT4,
        DataType::Int64 | DataType::UInt32 => Type::INT8,
        DataType::UInt64 | DataType::Decimal128(..) | DataType::Decimal256(..) => Type::NUMERIC,
        DataType::Float16 | DataType::Float32 => Type::FLOAT4,
        DataType::Float64 => Type::FLOAT8,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Type::VARCHAR,
        DataType::Timestamp(_, Some(_)) => Type::TIMESTAMPTZ,
        DataType::Timestamp(_, None) => Type::TIMESTAMP,
        DataType::Date32 | DataType::Date64 => Type::DATE,
        _ => Type::TEXT,
    }
}

fn fields(schema: &Schema) -> Vec<FieldInfo> {
    schema
        .fields()
        .iter()
        .map(|f| {
            FieldInfo::new(
                f.name().clone(),
                None,
                None,
                pg_type(f.data_type()),
                FieldFormat::Text,
            )
        })
        .collect()
}

/// Every row of `batches` in Postgres text format (`t`/`f`, `2026-11-21 20:00:00+00`).
fn rows(batches: &[RecordBatch], fields: Arc<Vec<FieldInfo>>) -> PgWireResult<Vec<DataRow>> {
    let options = FormatOptions::default()
        .with_timestamp_tz_format(Some("%Y-%m-%d %H:%M:%S%.f%:::z"))
        .with_timestamp_format(Some("%Y-%m-%d %H:%M:%S%.f"));
    let mut encoder = DataRowEncoder::new(fields);
    let mut out = Vec::new();
    for batch in batches {
        let columns: Vec<ArrayFormatter> = batch
            .columns()
            .iter()
            .map(|c| {
                ArrayFormatter::try_new(c.as_ref(), &options)
                    .map_err(|e| user_error("XX000", e.to_string()))
            })
            .collect::<PgWireResult<_>>()?;
        for row in 0..batch.num_rows() {
            for (col, fmt) in columns.iter().enumerate() {
                let array = batch.column(col);
                let value = if array.is_null(row) {
                    None
                } else if let Some(b) = array.as_boolean_opt() {
                    Some(if b.value(row) { "t" } else { "f" }.to_string())
                } else {
                    Some(fmt.value(row).to_string())
                };
                encoder.encode_field(&value)?;
            }
            out.push(encoder.take_row());
        }
    }
    Ok(out)
}

/// What a query (already trimmed) answers.
enum Answer {
    Empty,
    /// Session and transaction commands (`SET`, `BEGIN`, `COMMIT`, …) that drivers send on
    /// their own: acknowledged with their tag and ignored, since nothing here can change.
    Ack(&'static str),
    Rows(Schema, Vec<RecordBatch>),
}

/// What a query text is, before anything is planned.
enum Statement<'a> {
    Empty,
    Ignored(&'static str),
    Sql(&'a str),
}

fn classify(query: &str) -> Statement<'_> {
    let trimmed = query.trim().trim_end_matches(';').trim();
    if trimmed.is_empty() {
        Statement::Empty
    } else if let Some(tag) = ignored_command(trimmed) {
        Statement::Ignored(tag)
    } else {
        Statement::Sql(trimmed)
    }
}

/// The tag of a session or transaction command, which is acknowledged and ignored.
fn ignored_command(query: &str) -> Option<&'static str> {
    let first = query.split_whitespace().next()?.to_ascii_uppercase();
    [
        "SET", "RESET", "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "DISCARD",
    ]
    .into_iter()
    .find(|c| *c == first)
    .map(|c| match c {
        "START" => "START TRANSACTION",
        "END" => "COMMIT",
        c => c,
    })
}

impl Handler {
    async fn plan(&self, query: &str) -> PgWireResult<datafusion::dataframe::DataFrame> {
        self.ctx
            .sql_with_options(query, read_only())
            .await
            .map_err(|e| user_error("42000", e.to_string()))
    }

    async fn answer(&self, query: &str) -> PgWireResult<Answer> {
        let sql = match classify(query) {
            Statement::Empty => return Ok(Answer::Empty),
            Statement::Ignored(tag) => return Ok(Answer::Ack(tag)),
            Statement::Sql(sql) => sql,
        };
        let df = self.plan(sql).await?;
        let schema: Schema = df.schema().as_arrow().clone();
        let batches = tokio::time::timeout(self.timeout, df.collect())
            .await
            .map_err(|_| {
                user_error(
                    "57014",
                    format!(
                        "canceling statement due to statement timeout ({} s)",
                        self.timeout.as_secs_f64()
                    ),
                )
            })?
            .map_err(|e| user_error("XX000", e.to_string()))?;
        Ok(Answer::Rows(schema, batches))
    }

    fn respond(answer: Answer) -> PgWireResult<Response> {
        Ok(match answer {
            Answer::Empty => Response::EmptyQuery,
            Answer::Ack(tag) => Response::Execution(Tag::new(tag)),
            Answer::Rows(schema, batches) => {
                let fields = Arc::new(fields(&schema));
                let data = rows(&batches, fields.clone())?;
                Response::Query(QueryResponse::new(
                    fields,
                    stream::iter(data.into_iter().map(Ok)),
                ))
            }
        })
    }

    /// The columns a query would return, planned but not run.
    async fn describe(&self, query: &str) -> PgWireResult<Vec<FieldInfo>> {
        let Statement::Sql(sql) = classify(query) else {
            return Ok(Vec::new());
        };
        let df = self.plan(sql).await?;
        Ok(fields(df.schema().as_arrow()))
    }
}

#[async_trait]
impl SimpleQueryHandler for Handler {
    async fn do_query<C>(&self, _client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Unpin + Send + Sync,
    {
        Ok(vec![Self::respond(self.answer(query).await?)?])
    }
}

#[async_trait]
impl ExtendedQueryHandler for Handler {
    type Statement = String;
    type QueryParser = NoopQueryParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        self.parser.clone()
    }

    async fn do_query<C>(
        &self,
        _client: &mut C,
        portal: &Portal<Self::Statement>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Unpin + Send + Sync,
    {
        if !portal.parameters.is_empty() {
            return Err(user_error(
                "0A000",
                "query parameters are not supported: send the values in the SQL".into(),
            ));
        }
        Self::respond(self.answer(&portal.statement.statement).await?)
    }

    async fn do_describe_statement<C>(
        &self,
        _client: &mut C,
        stmt: &StoredStatement<Self::Statement>,
    ) -> PgWireResult<DescribeStatementResponse>
    where
        C: ClientInfo + ClientPortalStore + Unpin + Send + Sync,
    {
        let fields = self.describe(&stmt.statement).await?;
        Ok(DescribeStatementResponse::new(Vec::new(), fields))
    }

    async fn do_describe_portal<C>(
        &self,
        _client: &mut C,
        portal: &Portal<Self::Statement>,
    ) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo + ClientPortalStore + Unpin + Send + Sync,
    {
        let fields = self.describe(&portal.statement.statement).await?;
        Ok(DescribePortalResponse::new(fields))
    }
}

/// The `[sql]` table of the config file: who may log in to `serve-sql`, and its limits.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlAuth {
    /// The one user name taken (any, when unset).
    pub user: Option<String>,
    /// The password, checked by SCRAM-SHA-256 (it never crosses the wire); also
    /// `LIVESELL_SQL_PASSWORD`. Without one, only loopback is served.
    pub password: Option<String>,
    /// Connections served at once (default 64); more wait in the listen backlog.
    pub max_connections: Option<usize>,
    /// The memory all queries together may hold, MiB (default 1024): DataFusion's memory pool;
    /// a query that needs more fails with "Resources exhausted" and the others go on.
    pub memory_limit_mib: Option<usize>,
    /// A statement running longer is cancelled, SQLSTATE 57014 (default 30 s).
    pub statement_timeout_s: Option<f64>,
}

impl SqlAuth {
    fn max_connections(&self) -> usize {
        self.max_connections.unwrap_or(64).max(1)
    }

    fn memory_limit(&self) -> usize {
        self.memory_limit_mib.unwrap_or(1024).max(1) << 20
    }

    fn statement_timeout(&self) -> std::time::Duration {
        let s = self.statement_timeout_s.unwrap_or(30.0);
        std::time::Duration::from_secs_f64(if s > 0.0 && s.is_finite() { s } else { 30.0 })
    }
}

impl SqlAuth {
    /// Fills an unset password from `LIVESELL_SQL_PASSWORD`; refuses one too short to hold.
    pub fn with_env(mut self, var: impl Fn(&str) -> Option<String>) -> anyhow::Result<SqlAuth> {
        if self.password.is_none() {
            self.password = var("LIVESELL_SQL_PASSWORD").filter(|p| !p.is_empty());
        }
        if self
            .password
            .as_ref()
            .is_some_and(|p| p.chars().count() < 16)
        {
            anyhow::bail!("the [sql] password is shorter than 16 characters: too easy to guess");
        }
        Ok(self)
    }

    /// Refuses to serve beyond this machine without a password.
    pub fn check_listen(&self, listen: &str) -> anyhow::Result<()> {
        use std::net::ToSocketAddrs;
        let addrs: Vec<std::net::SocketAddr> = listen
            .to_socket_addrs()
            .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?
            .collect();
        let beyond = addrs.iter().any(|a| !a.ip().is_loopback());
        if beyond && self.password.is_none() {
            anyhow::bail!(
                "serve-sql would listen on {listen}, beyond this machine, with no password: set \
                 [sql] password in --config or LIVESELL_SQL_PASSWORD, or listen on 127.0.0.1"
            );
        }
        Ok(())
    }
}

/// PBKDF2 rounds the client runs to prove it knows the password.
const SCRAM_ITERATIONS: usize = 4096;

/// The configured password, salted afresh for each login.
#[derive(Debug)]
struct Secret {
    user: Option<String>,
    password: String,
}

#[async_trait]
impl AuthSource for Secret {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| user_error("XX000", format!("no salt: {e}")))?;
        // Another user is asked to prove a password no one knows: refused like a wrong one.
        let known = self.user.is_none() || login.user() == self.user.as_deref();
        let password = if known {
            self.password.clone()
        } else {
            crate::random::random_token()
                .map_err(|e| user_error("XX000", format!("no random password: {e}")))?
        };
        let salted = gen_salted_password(&password, &salt, SCRAM_ITERATIONS);
        Ok(Password::new(Some(salt.to_vec()), salted))
    }
}

/// How a connection logs in: without a password (loopback only), or by SCRAM-SHA-256.
pub enum Login {
    Open(Arc<Handler>),
    Scram(SASLAuthStartupHandler<DefaultServerParameterProvider>),
}

#[async_trait]
impl StartupHandler for Login {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + futures::Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as futures::Sink<PgWireBackendMessage>>::Error>,
    {
        match self {
            Login::Open(h) => h.on_startup(client, message).await,
            Login::Scram(s) => s.on_startup(client, message).await,
        }
    }
}

/// The handlers of one server: simple and extended queries, and the login.
pub struct Handlers {
    handler: Arc<Handler>,
    secret: Option<Arc<Secret>>,
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.handler.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.handler.clone()
    }

    /// One per connection: a SCRAM exchange keeps its state.
    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        Arc::new(match &self.secret {
            None => Login::Open(self.handler.clone()),
            Some(secret) => {
                let mut scram = ScramAuth::new(secret.clone());
                scram.set_iterations(SCRAM_ITERATIONS);
                Login::Scram(
                    SASLAuthStartupHandler::new(
                        Arc::new(DefaultServerParameterProvider::default()),
                    )
                    .with_scram(scram),
                )
            }
        })
    }
}

/// Serves `data`'s tables on `listen` until the process is stopped; `ready` is told the bound
/// address (port 0 picks a free one). Beyond loopback only with a password.
pub fn serve(
    data: &Path,
    listen: &str,
    auth: &SqlAuth,
    ready: impl FnOnce(std::net::SocketAddr),
) -> anyhow::Result<()> {
    auth.check_listen(listen)?;
    let secret = auth.password.clone().map(|password| {
        Arc::new(Secret {
            user: auth.user.clone(),
            password,
        })
    });
    let permits = Arc::new(tokio::sync::Semaphore::new(auth.max_connections()));
    super::runtime()?.block_on(async {
        let ctx = super::context_limited(data, Some(auth.memory_limit())).await?;
        let handlers = Arc::new(Handlers {
            handler: Arc::new(Handler {
                ctx,
                parser: Arc::new(NoopQueryParser::new()),
                timeout: auth.statement_timeout(),
            }),
            secret,
        });
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
        ready(listener.local_addr()?);
        let mut said: Option<std::time::Instant> = None;
        loop {
            let permit = permits.clone().acquire_owned().await?;
            let socket = match listener.accept().await {
                Ok((socket, _)) => socket,
                Err(e) => {
                    // Too many open files, a connection reset before it was taken: the server
                    // goes on (said at most once a second) after a short pause.
                    if said.is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(1)) {
                        eprintln!("livesell: serve-sql: cannot accept a connection: {e}");
                        said = Some(std::time::Instant::now());
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let handlers = handlers.clone();
            tokio::spawn(async move {
                if let Err(e) = pgwire::tokio::process_socket(socket, None, handlers).await {
                    eprintln!("livesell: serve-sql: a connection ended with {e}");
                }
                drop(permit);
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beyond_loopback_only_with_a_password() {
        let open = SqlAuth::default();
        assert!(open.check_listen("127.0.0.1:0").is_ok());
        assert!(open.check_listen("[::1]:0").is_ok());
        let e = open.check_listen("0.0.0.0:5433").unwrap_err().to_string();
        assert!(e.contains("no password"), "{e}");
        let locked = SqlAuth {
            password: Some("a-password-long-enough".into()),
            ..SqlAuth::default()
        };
        assert!(locked.check_listen("0.0.0.0:5433").is_ok());
    }

    #[test]
    fn the_password_comes_from_the_environment_and_must_be_long() {
        let from_env = SqlAuth::default()
            .with_env(|k| (k == "LIVESELL_SQL_PASSWORD").then(|| "p".repeat(20)))
            .unwrap();
        assert_eq!(from_env.password.as_deref(), Some("pppppppppppppppppppp"));
        let short = SqlAuth {
            password: Some("short".into()),
            ..SqlAuth::default()
        };
        assert!(short.with_env(|_| None).is_err());
    }

    /// A handler over no tables, with the `[sql]` limits given.
    async fn limited(memory_mib: usize, timeout_s: f64) -> Handler {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("snapshots/claims")).unwrap();
        let ctx = super::super::context_limited(tmp.path(), Some(memory_mib << 20))
            .await
            .unwrap();
        Handler {
            ctx,
            parser: Arc::new(NoopQueryParser::new()),
            timeout: std::time::Duration::from_secs_f64(timeout_s),
        }
    }

    fn sqlstate(e: PgWireError) -> String {
        match e {
            PgWireError::UserError(info) => format!("{} {}", info.code, info.message),
            other => other.to_string(),
        }
    }

    #[test]
    fn a_long_statement_is_cancelled_and_a_greedy_one_runs_out_of_its_pool() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let h = limited(64, 0.3).await;
            let started = std::time::Instant::now();
            let Err(e) = h.answer("SELECT sum(value) FROM range(100000000000)").await else {
                panic!("a hundred billion rows in 0.3 s")
            };
            let e = sqlstate(e);
            assert!(e.starts_with("57014 canceling statement"), "{e}");
            assert!(started.elapsed() < std::time::Duration::from_secs(3));
            let h = limited(1, 30.0).await;
            let Err(e) = h
                .answer("SELECT array_agg(value) FROM range(10000000)")
                .await
            else {
                panic!("80 MB in a pool of 1 MiB")
            };
            let e = sqlstate(e);
            assert!(e.contains("Resources exhausted"), "{e}");
            // What fits is answered.
            assert!(h.answer("SELECT count(*) FROM range(1000)").await.is_ok());
        });
    }
}

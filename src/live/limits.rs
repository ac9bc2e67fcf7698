//! The live server's limits: connections, event streams, requests in flight, timeouts and body sizes, as tower and tower-http layers over the router.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

use super::reply::retry_later;

/// The `[limits]` table of the serve config file. The defaults hold a show of 15K viewers'
/// overlays and tickers on one machine whose open-files limit allows it (`ulimit -n`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Connections open at once; more wait in the listen backlog until one closes.
    pub max_connections: usize,
    /// Event streams (ticker, overlay) open at once; more are answered 503.
    pub max_streams: usize,
    /// Requests being answered at once (a stream counts until it starts); more are 503.
    pub max_in_flight: usize,
    /// A request not answered in this long is answered 408; so is a body this slow.
    pub request_timeout_s: f64,
    /// The largest request body, KiB (413 beyond it).
    pub body_limit_kib: usize,
    /// The largest product export for `/api/runsheet/import`, KiB.
    pub import_limit_kib: usize,
    /// Actions waiting for the pipeline, MiB: beyond it 503 with Retry-After.
    pub input_queue_mib: usize,
    /// Connections open at once from one address; more are closed as they come, so that one
    /// client's half-open or slow connections cannot take the others' room.
    pub max_connections_per_client: usize,
    /// A request's headers must arrive within this long of the connection's start or of the
    /// previous answer (hyper's header-read timeout): a half-sent request or an idle
    /// keep-alive connection is closed then.
    pub header_timeout_s: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 40_000,
            max_streams: 32_000,
            max_in_flight: 1024,
            request_timeout_s: 10.0,
            body_limit_kib: 256,
            import_limit_kib: 16 << 10,
            input_queue_mib: 32,
            max_connections_per_client: 256,
            header_timeout_s: 5.0,
        }
    }
}

impl Limits {
    /// Refuses limits that would stop the server from serving anything.
    pub fn checked(self) -> anyhow::Result<Limits> {
        let whole = [
            ("max_connections", self.max_connections),
            ("max_streams", self.max_streams),
            ("max_in_flight", self.max_in_flight),
            ("body_limit_kib", self.body_limit_kib),
            ("import_limit_kib", self.import_limit_kib),
            ("input_queue_mib", self.input_queue_mib),
            (
                "max_connections_per_client",
                self.max_connections_per_client,
            ),
        ];
        for (name, v) in whole {
            if v == 0 {
                anyhow::bail!("[limits] {name} must be at least 1");
            }
        }
        for (name, v) in [
            ("request_timeout_s", self.request_timeout_s),
            ("header_timeout_s", self.header_timeout_s),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                anyhow::bail!("[limits] {name} must be a number of seconds above 0");
            }
        }
        Ok(self)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.request_timeout_s)
    }

    /// The layers every route goes through: a body limit (the import's own is larger), a
    /// timeout for the answer and for the body, and a bound on requests in flight that sheds
    /// the rest with 503.
    pub fn apply(&self, router: Router) -> Router {
        let timeout = self.request_timeout();
        router
            .layer(DefaultBodyLimit::max(
                self.body_limit_kib.saturating_mul(1024),
            ))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                timeout,
            ))
            .layer(RequestBodyTimeoutLayer::new(timeout))
            .layer(
                ServiceBuilder::new()
                    .layer(HandleErrorLayer::new(overloaded))
                    .load_shed()
                    .layer(GlobalConcurrencyLimitLayer::new(self.max_in_flight)),
            )
    }
}

async fn overloaded(_: tower::BoxError) -> Response {
    retry_later(
        "overloaded",
        "too many requests at once: retry after a second",
        1,
    )
}

/// The listener, holding one permit per open connection: at `max_connections` it stops
/// accepting until one closes; a client (an address) at its own cap has further connections
/// closed as they come.
pub struct BoundedListener {
    inner: TcpListener,
    permits: Arc<Semaphore>,
    per_client: usize,
    clients: Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>>,
    /// Connections closed at once because their client was at its cap.
    pub refused: Arc<std::sync::atomic::AtomicU64>,
}

impl BoundedListener {
    pub fn new(inner: TcpListener, limits: &Limits) -> BoundedListener {
        BoundedListener {
            inner,
            permits: Arc::new(Semaphore::new(limits.max_connections.max(1))),
            per_client: limits.max_connections_per_client.max(1),
            clients: Default::default(),
            refused: Default::default(),
        }
    }

    /// Counts a connection of `ip` in, unless it is at its cap.
    fn admit(&self, ip: std::net::IpAddr) -> Option<ClientSlot> {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        let n = clients.entry(ip).or_default();
        if *n >= self.per_client {
            return None;
        }
        *n += 1;
        Some(ClientSlot {
            ip,
            clients: self.clients.clone(),
        })
    }

    /// Accepts connections and serves each with hyper under `router`, with the header-read
    /// timeout (hyper's own, on tokio's timer); never returns.
    pub async fn serve(mut self, router: Router, header_timeout: Duration) {
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(header_timeout)
            .keep_alive(true);
        loop {
            let (io, _) = axum::serve::Listener::accept(&mut self).await;
            let service = hyper_util::service::TowerToHyperService::new(router.clone());
            let connection = http.serve_connection(hyper_util::rt::TokioIo::new(io), service);
            tokio::spawn(async move {
                let _ = connection.await;
            });
        }
    }
}

/// One counted connection of a client; counted out when it closes.
struct ClientSlot {
    ip: std::net::IpAddr,
    clients: Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>>,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = clients.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                clients.remove(&self.ip);
            }
        }
    }
}

impl axum::serve::Listener for BoundedListener {
    type Io = Connection;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Connection, SocketAddr) {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        loop {
            let (io, addr) = axum::serve::Listener::accept(&mut self.inner).await;
            let Some(slot) = self.admit(addr.ip()) else {
                self.refused
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                drop(io);
                continue;
            };
            // Frames of the ticker are small and must not wait for Nagle's algorithm.
            let _ = io.set_nodelay(true);
            return (
                Connection {
                    io,
                    _permit: permit,
                    _slot: slot,
                },
                addr,
            );
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// A connection and its permit, given back when it closes.
pub struct Connection {
    io: TcpStream,
    _permit: OwnedSemaphorePermit,
    _slot: ClientSlot,
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

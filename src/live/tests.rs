//! The live server's doors under pressure, over real HTTP: a full input queue, a silent broker, too many streams, bodies too large, requests too slow or too many at once, and connections past the limit.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use super::app::App;
use super::auth::{AuthConfig, Role, TokenEntry};
use super::input::{ChannelReader, LiveInput};
use super::limits::{BoundedListener, Limits};
use super::routes::router;
use crate::sinks::hub::LiveHub;

const DIRECTOR: &str = "director-token-for-tests";

/// A server of `input` with `limits` on a runtime of two threads (as `serve` runs it).
struct Server {
    addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

fn start(input: Arc<LiveInput>, limits: Limits) -> Server {
    let auth = AuthConfig {
        public: true,
        tokens: vec![TokenEntry {
            role: Role::Director,
            token: DIRECTOR.into(),
        }],
    };
    let app = Arc::new(App {
        hub: Arc::new(LiveHub::default()),
        input,
        auth,
        ticker_every: Duration::from_millis(50),
        sse_clients: AtomicU64::new(0),
        webhooks: Default::default(),
        seen: Default::default(),
        limits: limits.clone(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let addr = std_listener.local_addr().unwrap();
    runtime.spawn(async move {
        let listener = BoundedListener::new(
            tokio::net::TcpListener::from_std(std_listener).unwrap(),
            &limits,
        );
        let header_timeout = Duration::from_secs_f64(limits.header_timeout_s);
        listener.serve(router(app), header_timeout).await;
    });
    Server {
        addr,
        _runtime: runtime,
    }
}

/// Sends a whole request on a fresh connection; the response's status line, headers and body.
fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {DIRECTOR}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

fn product(session: &str) -> String {
    format!(
        r#"{{"session_id":"{session}","action":"product","code":"A1","price_cents":100,"variants":[{{"sku":"A1","stock":5}}]}}"#
    )
}

/// An input nobody reads: what is queued stays queued.
fn unread(capacity: usize) -> (Arc<LiveInput>, ChannelReader) {
    LiveInput::bounded(1.0, Duration::from_secs(60), capacity)
}

#[test]
fn a_full_queue_answers_503_with_retry_after_and_takes_nothing() {
    let (input, _reader) = unread(100);
    let server = start(input.clone(), Limits::default());
    let (first, _) = request(server.addr, "POST", "/api/director", &product("s"));
    assert_eq!(first, 202);
    let (second, text) = request(server.addr, "POST", "/api/director", &product("s"));
    assert_eq!(second, 503, "{text}");
    assert!(text.to_lowercase().contains("retry-after: 1"), "{text}");
    assert!(text.contains(r#""error":"busy""#), "{text}");
    assert_eq!(input.lines_in.load(std::sync::atomic::Ordering::Relaxed), 1);
}

#[test]
fn a_silent_broker_holds_up_neither_other_requests_nor_streams() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let brokers = silent.local_addr().unwrap().to_string();
    let input = LiveInput::kafka(&brokers, "t".into(), Duration::from_secs(4)).unwrap();
    let server = start(input, Limits::default());
    let addr = server.addr;
    // Four actions wait for the broker at once: more than the runtime has threads.
    let waiting: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                request(addr, "POST", "/api/director", &product(&format!("s{i}")))
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let (status, _) = request(addr, "GET", "/metrics", "");
    assert_eq!(status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    for w in waiting {
        let (status, text) = w.join().unwrap();
        assert_eq!(status, 503, "{text}");
        assert!(text.contains("input_unavailable"), "{text}");
        assert!(text.to_lowercase().contains("retry-after: 5"), "{text}");
    }
}

#[test]
fn streams_past_the_limit_are_refused_and_a_closed_one_frees_its_place() {
    let (input, _reader) = unread(1 << 20);
    let limits = Limits {
        max_streams: 1,
        ..Limits::default()
    };
    let server = start(input, limits);
    let mut first = TcpStream::connect(server.addr).unwrap();
    write!(first, "GET /api/ticker HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = [0u8; 256];
    first
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let n = first.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let (status, text) = request(server.addr, "GET", "/api/ticker", "");
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("too_many_streams"), "{text}");
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut s = TcpStream::connect(server.addr).unwrap();
        write!(s, "GET /api/ticker HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let n = s.read(&mut buf).unwrap_or(0);
        if String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the closed stream's place was not freed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn bodies_past_the_limit_are_413() {
    let (input, _reader) = unread(1 << 20);
    let limits = Limits {
        body_limit_kib: 1,
        ..Limits::default()
    };
    let server = start(input, limits);
    let big = format!(
        r#"{{"session_id":"s","action":"config","pad":"{}"}}"#,
        "x".repeat(2048)
    );
    let (status, text) = request(server.addr, "POST", "/api/director", &big);
    assert_eq!(status, 413, "{text}");
    let (status, _) = request(server.addr, "POST", "/api/director", &product("s"));
    assert_eq!(status, 202);
}

#[test]
fn slow_answers_are_408_and_requests_past_the_in_flight_limit_are_shed() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let brokers = silent.local_addr().unwrap().to_string();
    let input = LiveInput::kafka(&brokers, "t".into(), Duration::from_secs(30)).unwrap();
    let limits = Limits {
        max_in_flight: 1,
        request_timeout_s: 1.5,
        ..Limits::default()
    };
    let server = start(input, limits);
    let addr = server.addr;
    let slow = std::thread::spawn(move || request(addr, "POST", "/api/director", &product("s")));
    std::thread::sleep(Duration::from_millis(400));
    let (status, text) = request(addr, "GET", "/api/sessions", "");
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("overloaded"), "{text}");
    assert!(text.to_lowercase().contains("retry-after: 1"), "{text}");
    let (status, text) = slow.join().unwrap();
    assert_eq!(status, 408, "{text}");
    // Its place is free again.
    let (status, _) = request(addr, "GET", "/api/sessions", "");
    assert_eq!(status, 200);
}

#[test]
fn connections_past_the_limit_wait_until_one_closes() {
    let (input, _reader) = unread(1 << 20);
    let limits = Limits {
        max_connections: 2,
        ..Limits::default()
    };
    let server = start(input, limits);
    // Two idle keep-alive connections take both places.
    let idle: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = TcpStream::connect(server.addr).unwrap();
            write!(s, "GET /api/sessions HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            let mut buf = [0u8; 512];
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let n = s.read(&mut buf).unwrap();
            assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
            s
        })
        .collect();
    let mut third = TcpStream::connect(server.addr).unwrap();
    write!(
        third,
        "GET /api/sessions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    third
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; 512];
    assert!(
        third.read(&mut buf).is_err(),
        "the third connection was served at once"
    );
    drop(idle);
    third
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let n = third.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
}

/// A connection to `addr` from another loopback address: another client, as the server sees it.
fn from_another_client(addr: SocketAddr) -> TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        let s = socket.connect(addr).await.unwrap();
        let s = s.into_std().unwrap();
        s.set_nonblocking(false).unwrap();
        s
    })
}

#[test]
fn half_open_connections_and_slow_bodies_of_one_client_do_not_hold_up_another() {
    let (input, _reader) = unread(1 << 20);
    let server = start(input, Limits::default());
    let addr = server.addr;
    // 2,000 connections that never finish their headers, and 1,024 whose bodies never come.
    let mut held = Vec::new();
    for _ in 0..2_000 {
        let mut s = TcpStream::connect(addr).unwrap();
        let _ = s.write_all(b"GET /api/sessions HTTP/1.1\r\nHo");
        held.push(s);
    }
    for _ in 0..1_024 {
        let mut s = TcpStream::connect(addr).unwrap();
        let _ = write!(
            s,
            "POST /api/director HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {DIRECTOR}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"session_id\""
        );
        held.push(s);
    }
    let started = std::time::Instant::now();
    let mut s = from_another_client(addr);
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET /api/sessions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let took = started.elapsed();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(took < Duration::from_secs(1), "answered in {took:?}");
    drop(held);
}

#[test]
fn a_half_sent_request_is_closed_after_the_header_timeout() {
    let (input, _reader) = unread(1 << 20);
    let limits = Limits {
        header_timeout_s: 0.3,
        ..Limits::default()
    };
    let server = start(input, limits);
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.write_all(b"GET /api/sessions HTTP/1.1\r\nHo").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let started = std::time::Instant::now();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "held for {took:?}");
    assert!(took >= Duration::from_millis(250), "closed after {took:?}");
    // An idle keep-alive connection is closed the same way after its answer.
    let mut k = TcpStream::connect(server.addr).unwrap();
    k.write_all(b"GET /api/sessions HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    k.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let started = std::time::Instant::now();
    let mut all = Vec::new();
    let _ = k.read_to_end(&mut all);
    assert!(String::from_utf8_lossy(&all).starts_with("HTTP/1.1 200"));
    assert!(started.elapsed() < Duration::from_secs(3));
}

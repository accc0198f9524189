//! Slow and flooding clients: a request head or body that does not arrive in time gets 408 and a
//! closed connection, and one address cannot hold more than its share of connections.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use municipal_kpi::connections::ConnectionSettings;
use municipal_kpi::db::DatabaseSettings;
use municipal_kpi::startup::ServerSettings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::{Backend, TestApp, spawn_app_with};
use crate::on_both_backends;

on_both_backends!(
    a_body_that_never_finishes_gets_408_and_a_closed_connection,
    a_head_that_never_finishes_gets_408_and_a_closed_connection,
    an_address_over_its_connection_limit_is_closed_while_another_is_served,
);

/// Short deadlines so that the tests wait a second or less; the assertions allow several times as
/// much, for a loaded machine. actix reads its clock for the header deadline every 500 ms, so that
/// deadline can come up to 500 ms early: shorter ones would cut off a head the test sends at once.
const HEADER_TIMEOUT_MS: u64 = 1_500;
const BODY_TIMEOUT_MS: u64 = 400;
const MARGIN: Duration = Duration::from_secs(5);

async fn spawn(backend: Backend, connections: ConnectionSettings) -> TestApp {
    let server = ServerSettings { connections, ..ServerSettings::default() };
    spawn_app_with(backend, DatabaseSettings::default(), server).await
}

fn server_address(app: &TestApp) -> SocketAddr {
    app.address.trim_start_matches("http://").parse().expect("socket address")
}

/// A connection from `local` (a loopback address: Linux routes all of 127.0.0.0/8 to `lo`).
async fn connect_from(local: &str, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.bind(format!("{local}:0").parse().expect("address")).expect("bind");
    socket.connect(server).await.expect("connect")
}

/// Reads until the server closes the connection (or `MARGIN` passes); what it sent, and whether
/// it closed.
async fn read_until_closed(stream: &mut TcpStream, trickle: Option<Duration>) -> (String, bool) {
    let deadline = tokio::time::Instant::now() + MARGIN;
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let wait = trickle.unwrap_or(MARGIN);
        match tokio::time::timeout_at(deadline.min(tokio::time::Instant::now() + wait), stream.read(&mut buffer)).await
        {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&received).into_owned(), true),
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            Err(_) if tokio::time::Instant::now() >= deadline => {
                return (String::from_utf8_lossy(&received).into_owned(), false);
            }
            // One more byte of the body, as a slow client would send it; the server may have
            // closed already, which the next read shows.
            Err(_) => {
                let _ = stream.write_all(b" ").await;
            }
        }
    }
}

async fn a_body_that_never_finishes_gets_408_and_a_closed_connection(backend: Backend) {
    let app =
        spawn(backend, ConnectionSettings { body_timeout_ms: BODY_TIMEOUT_MS, ..ConnectionSettings::default() }).await;
    let server = server_address(&app);
    // Once trickling a byte every 100 ms, once sending nothing after the first byte.
    for trickle in [Some(Duration::from_millis(100)), None] {
        let mut stream = connect_from("127.0.0.1", server).await;
        let started = Instant::now();
        stream
            .write_all(
                b"POST /api/v1/auth/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
                  Content-Length: 200000\r\n\r\n{",
            )
            .await
            .expect("send");
        let (response, closed) = read_until_closed(&mut stream, trickle).await;
        let elapsed = started.elapsed();
        assert!(response.starts_with("HTTP/1.1 408"), "{trickle:?}: after {elapsed:?}: {response:?}");
        assert!(closed, "{trickle:?}: the connection stays open after the 408");
        assert!(elapsed < MARGIN, "{trickle:?}: {elapsed:?}");
        let lower = response.to_ascii_lowercase();
        assert!(lower.contains("content-type: application/problem+json"), "{response}");
        assert!(lower.contains("connection: close"), "{response}");
        assert!(response.contains("/problems/request-timeout"), "{response}");
    }
}

async fn a_head_that_never_finishes_gets_408_and_a_closed_connection(backend: Backend) {
    let app =
        spawn(backend, ConnectionSettings { header_timeout_ms: HEADER_TIMEOUT_MS, ..ConnectionSettings::default() })
            .await;
    let mut stream = connect_from("127.0.0.1", server_address(&app)).await;
    let started = Instant::now();
    stream.write_all(b"POST /api/v1/auth/token HTTP/1.1\r\nHost: localhost\r\n").await.expect("send");
    let (response, closed) = read_until_closed(&mut stream, None).await;
    let elapsed = started.elapsed();
    assert!(response.starts_with("HTTP/1.1 408"), "after {elapsed:?}: {response:?}");
    assert!(closed, "the connection stays open after the 408");
    // actix's default is 5 s; the configured 1.5 s must be what applies.
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
}

async fn an_address_over_its_connection_limit_is_closed_while_another_is_served(backend: Backend) {
    const LIMIT: usize = 4;
    let settings = ConnectionSettings {
        // Long enough that the held connections stay open throughout the test.
        header_timeout_ms: 60_000,
        max_connections_per_address: LIMIT,
        ..ConnectionSettings::default()
    };
    let app = spawn(backend, settings).await;
    let server = server_address(&app);
    // Two more than the limit. Which ones the server closes depends on the order its workers take
    // them up; exactly two are closed, the others stay open.
    let mut connections = Vec::new();
    for _ in 0..LIMIT + 2 {
        connections.push(connect_from("127.0.0.2", server).await);
    }
    let outcomes = futures_util::future::join_all(connections.iter_mut().map(|stream| async move {
        let mut buffer = [0u8; 64];
        // Open: nothing to read until the header timeout, long after this wait.
        match tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => true,
            Ok(Ok(n)) => panic!("unexpected answer: {:?}", String::from_utf8_lossy(&buffer[..n])),
            Err(_) => false,
        }
    }))
    .await;
    assert_eq!(outcomes.iter().filter(|closed| **closed).count(), 2, "closed: {outcomes:?}");
    let mut held: Vec<TcpStream> =
        connections.into_iter().zip(outcomes).filter(|(_, closed)| !closed).map(|(stream, _)| stream).collect();

    // Another address is served meanwhile.
    let mut other = connect_from("127.0.0.1", server).await;
    other.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.expect("send");
    let (response, _) = read_until_closed(&mut other, None).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response:?}");

    // A held connection that closes makes room again for its address.
    drop(held.pop());
    let started = Instant::now();
    loop {
        let mut again = connect_from("127.0.0.2", server).await;
        again.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.expect("send");
        let (response, _) = read_until_closed(&mut again, None).await;
        if response.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(started.elapsed() < MARGIN, "no room after a connection closed: {response:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(held);
}

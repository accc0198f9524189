//! Bounds on what a client's connections may hold: how long a request head and a request body may
//! take to arrive, and how many connections one client address, and all together, may keep open.
//!
//! Each open connection holds a file descriptor and a little memory until it closes; without these
//! bounds a client that sends headers with a large `Content-Length` and then a byte now and then
//! (or nothing) keeps its connection forever, and enough of them exhaust the descriptors.

use std::any::Any;
use std::collections::HashMap;
use std::net::{IpAddr, Shutdown};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::Extensions;

/// Default of `REQUEST_HEADER_TIMEOUT_MS`: actix's own default for the first request head.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// Default of `REQUEST_BODY_TIMEOUT_MS`: the largest upload (4 MiB) at about 1.1 Mbit/s.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Default of `MAX_CONNECTIONS`, well below the usual descriptor limits of a service (65,536 and
/// more), leaving room for database connections and files.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Default of `MAX_CONNECTIONS_PER_ADDRESS`: an office behind one NAT address, each browser
/// keeping up to six connections, stays well within it.
pub const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS: usize = 256;
/// Largest `MAX_CONNECTIONS` accepted.
pub const MAX_MAX_CONNECTIONS: usize = 1_000_000;

/// Connection and request-time bounds (`serve` flags and environment variables).
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct ConnectionSettings {
    /// How long the head (request line and headers) of a connection's first request may take to
    /// arrive; later answers 408 and closes
    #[arg(long, env = "REQUEST_HEADER_TIMEOUT_MS", value_parser = crate::cli::milliseconds,
        default_value_t = crate::cli::millis(DEFAULT_HEADER_TIMEOUT))]
    pub header_timeout_ms: u64,
    /// How long a request body may take to arrive in full, from the end of its head; later
    /// answers 408 and closes
    #[arg(long, env = "REQUEST_BODY_TIMEOUT_MS", value_parser = crate::cli::milliseconds,
        default_value_t = crate::cli::millis(DEFAULT_BODY_TIMEOUT))]
    pub body_timeout_ms: u64,
    /// Open connections in all; past it new ones wait in the listen backlog
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_MAX_CONNECTIONS as u64))]
    pub max_connections: usize,
    /// Open connections per client (peer) address; past it new ones are closed at once
    #[arg(long, env = "MAX_CONNECTIONS_PER_ADDRESS", default_value_t = DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_MAX_CONNECTIONS as u64))]
    pub max_connections_per_address: usize,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        Self {
            header_timeout_ms: crate::cli::millis(DEFAULT_HEADER_TIMEOUT),
            body_timeout_ms: crate::cli::millis(DEFAULT_BODY_TIMEOUT),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_address: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
        }
    }
}

impl ConnectionSettings {
    pub fn header_timeout(&self) -> Duration {
        Duration::from_millis(self.header_timeout_ms)
    }

    pub fn body_timeout(&self) -> Duration {
        Duration::from_millis(self.body_timeout_ms)
    }
}

/// Counts open connections per peer address and closes, as soon as they are accepted, those past
/// [`ConnectionSettings::max_connections_per_address`]. The address is the TCP peer's, never a
/// forwarded header: the limit is on what this process holds open, which is per peer (behind a
/// reverse proxy that is the proxy, so raise the limit there).
pub struct ConnectionLimiter {
    per_address: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One admitted connection; dropped with the connection (actix keeps it in the connection's data,
/// which goes when the connection's socket does).
pub struct AdmittedConnection {
    limiter: Arc<ConnectionLimiter>,
    address: IpAddr,
}

impl ConnectionLimiter {
    pub fn new(per_address: usize) -> Arc<Self> {
        Arc::new(Self { per_address, open: Mutex::new(HashMap::new()) })
    }

    /// Counts a connection from `address`, or `None` if the address holds its limit already.
    pub fn admit(self: &Arc<Self>, address: IpAddr) -> Option<AdmittedConnection> {
        let address = address.to_canonical();
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = open.entry(address).or_insert(0);
        if *count >= self.per_address {
            return None;
        }
        *count += 1;
        Some(AdmittedConnection { limiter: Arc::clone(self), address })
    }

    /// Connections open from `address` now.
    pub fn open_from(&self, address: IpAddr) -> usize {
        let open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        open.get(&address.to_canonical()).copied().unwrap_or(0)
    }

    /// actix's `on_connect` hook: runs for each accepted connection before its first byte is read.
    pub fn on_connect(self: &Arc<Self>, connection: &dyn Any, data: &mut Extensions) {
        let Some(stream) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() else { return };
        let Ok(peer) = stream.peer_addr() else { return };
        match self.admit(peer.ip()) {
            Some(admitted) => {
                data.insert(admitted);
            }
            None => {
                // actix offers no way to refuse here; shutting the socket down makes the
                // connection read end-of-file at once, so actix drops it and frees the descriptor.
                let _ = socket2::SockRef::from(stream).shutdown(Shutdown::Both);
                tracing::debug!(address = %peer.ip(), "connection closed: too many open from this address");
            }
        }
    }
}

impl Drop for AdmittedConnection {
    fn drop(&mut self) {
        let mut open = self.limiter.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.address);
            }
        }
    }
}

/// Connections the kernel queues for accepting. `std::net::TcpListener::bind` asks for 128, which
/// a connection flood from one address fills before its connections reach the per-address check,
/// and others' connection attempts then wait for a SYN retransmission (1 s and more). Linux caps
/// it at `net.core.somaxconn` (4,096 by default since 5.4).
pub const LISTEN_BACKLOG: i32 = 4_096;

/// Binds `address` as `std::net::TcpListener::bind` does (the first resolved address that binds,
/// `SO_REUSEADDR` set), with a backlog of [`LISTEN_BACKLOG`].
pub fn bind(address: &str) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let mut last_error = None;
    for resolved in std::net::ToSocketAddrs::to_socket_addrs(address)? {
        let bound = Socket::new(Domain::for_address(resolved), Type::STREAM, None).and_then(|socket| {
            socket.set_reuse_address(true)?;
            socket.bind(&resolved.into())?;
            socket.listen(LISTEN_BACKLOG)?;
            Ok(socket)
        });
        match bound {
            Ok(socket) => return Ok(socket.into()),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error
        .unwrap_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "the address resolved to nothing")))
}

/// actix's worker count (its default, made explicit so that the total can be split among them).
pub fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

/// actix limits connections per worker; the share of each so that all together hold at most
/// `total` (rounded up, so up to `workers - 1` more).
pub fn per_worker(total: usize, workers: usize) -> usize {
    total.div_ceil(workers.max(1)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_admitted_up_to_its_limit_and_again_once_one_closes() {
        let limiter = ConnectionLimiter::new(2);
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.3".parse().unwrap();
        let first = limiter.admit(a).expect("first");
        let _second = limiter.admit(a).expect("second");
        assert!(limiter.admit(a).is_none(), "third from the same address");
        let _other = limiter.admit(b).expect("another address has its own allowance");
        drop(first);
        assert_eq!(limiter.open_from(a), 1);
        assert!(limiter.admit(a).is_some());
    }

    #[test]
    fn an_ipv4_mapped_address_counts_as_its_ipv4_address() {
        let limiter = ConnectionLimiter::new(1);
        let _v4 = limiter.admit("192.0.2.1".parse().unwrap()).expect("first");
        assert!(limiter.admit("::ffff:192.0.2.1".parse().unwrap()).is_none());
    }

    #[test]
    fn the_total_is_split_among_workers_rounding_up() {
        assert_eq!(per_worker(10_000, 2), 5_000);
        assert_eq!(per_worker(5, 2), 3);
        assert_eq!(per_worker(1, 8), 1);
    }
}

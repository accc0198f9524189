//! Login throttling: failed logins are counted per username and per client address in fixed
//! windows; past the limit, `POST /auth/token` answers 429 with `Retry-After` until the window ends.
//!
//! The counters live in this process (one server process, or a few behind a load balancer, each
//! with its own allowance) and in memory bounded by [`DEFAULT_MAX_TRACKED_KEYS`]. Usernames are
//! counted whether or not they exist, and a 429 reads the same for both, so throttling reveals
//! nothing about which accounts exist. An attempt is counted *before* its password is checked, so
//! that concurrent guesses cannot all slip past the check; a successful login takes it back and
//! resets the username's counter.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::HttpRequest;
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// Failed logins allowed per username within [`DEFAULT_USERNAME_WINDOW_SECONDS`].
pub const DEFAULT_MAX_FAILURES_PER_USERNAME: u32 = 5;
/// The window in which failures per username are counted (15 minutes).
pub const DEFAULT_USERNAME_WINDOW_SECONDS: u64 = 15 * 60;
/// Failed logins allowed per client address within [`DEFAULT_ADDRESS_WINDOW_SECONDS`].
pub const DEFAULT_MAX_FAILURES_PER_ADDRESS: u32 = 20;
/// The window in which failures per client address are counted (1 minute).
pub const DEFAULT_ADDRESS_WINDOW_SECONDS: u64 = 60;
/// Most usernames, and separately most addresses, tracked at once; past it expired entries are
/// dropped first, then the oldest.
pub const DEFAULT_MAX_TRACKED_KEYS: usize = 10_000;

/// Login throttling settings (`serve` flags and environment variables).
#[derive(Debug, Clone, clap::Args)]
pub struct LoginThrottleSettings {
    /// Failed logins allowed per username per window
    #[arg(long, env = "LOGIN_MAX_FAILURES_PER_USERNAME", default_value_t = DEFAULT_MAX_FAILURES_PER_USERNAME,
        value_parser = clap::value_parser!(u32).range(1..))]
    pub max_failures_per_username: u32,
    /// Length of the per-username window, in seconds
    #[arg(long, env = "LOGIN_USERNAME_WINDOW_SECONDS", default_value_t = DEFAULT_USERNAME_WINDOW_SECONDS,
        value_parser = clap::value_parser!(u64).range(1..))]
    pub username_window_seconds: u64,
    /// Failed logins allowed per client address per window
    #[arg(long, env = "LOGIN_MAX_FAILURES_PER_ADDRESS", default_value_t = DEFAULT_MAX_FAILURES_PER_ADDRESS,
        value_parser = clap::value_parser!(u32).range(1..))]
    pub max_failures_per_address: u32,
    /// Length of the per-address window, in seconds
    #[arg(long, env = "LOGIN_ADDRESS_WINDOW_SECONDS", default_value_t = DEFAULT_ADDRESS_WINDOW_SECONDS,
        value_parser = clap::value_parser!(u64).range(1..))]
    pub address_window_seconds: u64,
    /// Most usernames (and, separately, addresses) whose failures are remembered
    #[arg(long, env = "LOGIN_THROTTLE_MAX_KEYS", default_value_t = DEFAULT_MAX_TRACKED_KEYS,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_tracked_keys: usize,
    /// Take the client address from the last X-Forwarded-For entry instead of the connection's
    /// peer. Only behind a reverse proxy that appends it; otherwise clients could pick their address.
    #[arg(long, env = "TRUST_X_FORWARDED_FOR")]
    pub trust_x_forwarded_for: bool,
}

impl Default for LoginThrottleSettings {
    fn default() -> Self {
        Self {
            max_failures_per_username: DEFAULT_MAX_FAILURES_PER_USERNAME,
            username_window_seconds: DEFAULT_USERNAME_WINDOW_SECONDS,
            max_failures_per_address: DEFAULT_MAX_FAILURES_PER_ADDRESS,
            address_window_seconds: DEFAULT_ADDRESS_WINDOW_SECONDS,
            max_tracked_keys: DEFAULT_MAX_TRACKED_KEYS,
            trust_x_forwarded_for: false,
        }
    }
}

/// A username as counted: its digest, so that long names cost no memory.
type UsernameKey = [u8; 32];

pub struct LoginThrottle {
    trust_x_forwarded_for: bool,
    usernames: Mutex<FailureCounts<UsernameKey>>,
    addresses: Mutex<FailureCounts<IpAddr>>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(&LoginThrottleSettings::default())
    }
}

/// A login attempt that has been counted as a failure until [`LoginThrottle::succeeded`] or
/// [`LoginThrottle::abandoned`] says otherwise.
#[must_use = "report how the attempt ended"]
pub struct LoginAttempt {
    username: UsernameKey,
    address: Option<IpAddr>,
}

impl LoginThrottle {
    pub fn new(settings: &LoginThrottleSettings) -> Self {
        Self {
            trust_x_forwarded_for: settings.trust_x_forwarded_for,
            usernames: Mutex::new(FailureCounts::new(
                settings.max_failures_per_username,
                Duration::from_secs(settings.username_window_seconds),
                settings.max_tracked_keys,
            )),
            addresses: Mutex::new(FailureCounts::new(
                settings.max_failures_per_address,
                Duration::from_secs(settings.address_window_seconds),
                settings.max_tracked_keys,
            )),
        }
    }

    /// The address failures are counted against: the connection's peer, or, when the setting
    /// says a proxy in front appends it, the last `X-Forwarded-For` entry.
    pub fn client_address(&self, req: &HttpRequest) -> Option<IpAddr> {
        let forwarded = self
            .trust_x_forwarded_for
            .then(|| req.headers().get("x-forwarded-for"))
            .flatten()
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.rsplit(',').next())
            .and_then(|last| last.trim().parse::<IpAddr>().ok());
        forwarded.or_else(|| req.peer_addr().map(|peer| peer.ip())).map(address_key)
    }

    /// Counts an attempt, or refuses it (429) while the username or the address is over its limit.
    pub fn begin(&self, username: &str, address: Option<IpAddr>) -> Result<LoginAttempt, AppError> {
        self.begin_at(username, address, Instant::now())
    }

    fn begin_at(&self, username: &str, address: Option<IpAddr>, now: Instant) -> Result<LoginAttempt, AppError> {
        let username: UsernameKey = Sha256::digest(username.as_bytes()).into();
        let mut usernames = lock(&self.usernames);
        let mut addresses = lock(&self.addresses);
        let wait = [usernames.blocked_for(&username, now), address.and_then(|a| addresses.blocked_for(&a, now))]
            .into_iter()
            .flatten()
            .max();
        if let Some(wait) = wait {
            // Whole seconds, rounded up: a client that waits this long is let in.
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            return Err(AppError::TooManyRequests { retry_after_seconds: seconds.max(1) });
        }
        usernames.count(username, now);
        if let Some(address) = address {
            addresses.count(address, now);
        }
        Ok(LoginAttempt { username, address })
    }

    /// The password was right: the username starts afresh and the address gets its attempt back.
    pub fn succeeded(&self, attempt: LoginAttempt) {
        lock(&self.usernames).forget(&attempt.username);
        if let Some(address) = attempt.address {
            lock(&self.addresses).take_back(&address);
        }
    }

    /// The attempt could not be decided (the database was unreachable): it does not count.
    pub fn abandoned(&self, attempt: LoginAttempt) {
        lock(&self.usernames).take_back(&attempt.username);
        if let Some(address) = attempt.address {
            lock(&self.addresses).take_back(&address);
        }
    }
}

/// A poisoned lock only means a panic while counting; the counts are still usable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// IPv4 addresses count one by one; IPv6 ones by /64, the block one subscriber usually gets, so
/// that rotating through one's own block does not reset the count.
fn address_key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        v4 => v4,
    }
}

struct Window {
    started: Instant,
    failures: u32,
}

struct FailureCounts<K> {
    limit: u32,
    length: Duration,
    max_keys: usize,
    windows: HashMap<K, Window>,
}

impl<K: Hash + Eq + Copy> FailureCounts<K> {
    fn new(limit: u32, length: Duration, max_keys: usize) -> Self {
        Self { limit, length, max_keys: max_keys.max(1), windows: HashMap::new() }
    }

    fn is_over(&self, window: &Window, now: Instant) -> bool {
        now.duration_since(window.started) >= self.length
    }

    /// How long the key must wait, if it has used up its window.
    fn blocked_for(&self, key: &K, now: Instant) -> Option<Duration> {
        let window = self.windows.get(key)?;
        if self.is_over(window, now) || window.failures < self.limit {
            return None;
        }
        Some((window.started + self.length).saturating_duration_since(now))
    }

    fn count(&mut self, key: K, now: Instant) {
        if !self.windows.contains_key(&key) && self.windows.len() >= self.max_keys {
            self.make_room(now);
        }
        let length = self.length;
        let window = self.windows.entry(key).or_insert(Window { started: now, failures: 0 });
        if now.duration_since(window.started) >= length {
            *window = Window { started: now, failures: 0 };
        }
        window.failures = window.failures.saturating_add(1);
    }

    fn take_back(&mut self, key: &K) {
        if let Some(window) = self.windows.get_mut(key) {
            window.failures = window.failures.saturating_sub(1);
        }
    }

    fn forget(&mut self, key: &K) {
        self.windows.remove(key);
    }

    fn make_room(&mut self, now: Instant) {
        let length = self.length;
        self.windows.retain(|_, window| now.duration_since(window.started) < length);
        if self.windows.len() >= self.max_keys
            && let Some(oldest) = self.windows.iter().min_by_key(|(_, window)| window.started).map(|(key, _)| *key)
        {
            self.windows.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> LoginThrottleSettings {
        LoginThrottleSettings {
            max_failures_per_username: 3,
            username_window_seconds: 600,
            max_failures_per_address: 5,
            address_window_seconds: 60,
            max_tracked_keys: 4,
            trust_x_forwarded_for: false,
        }
    }

    const HOME: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)));

    fn retry_after(result: Result<LoginAttempt, AppError>) -> u64 {
        match result {
            Err(AppError::TooManyRequests { retry_after_seconds }) => retry_after_seconds,
            Err(other) => panic!("expected 429, got {other:?}"),
            Ok(_) => panic!("expected 429, got through"),
        }
    }

    #[test]
    fn a_username_is_refused_after_its_limit_until_the_window_ends() {
        let throttle = LoginThrottle::new(&settings());
        let start = Instant::now();
        for _ in 0..3 {
            let _failed = throttle.begin_at("hq", HOME, start).unwrap();
        }
        let later = start + Duration::from_secs(100);
        assert_eq!(retry_after(throttle.begin_at("hq", None, later)), 500);
        assert!(throttle.begin_at("viewer", HOME, later).is_ok(), "other usernames are not affected");
        assert!(throttle.begin_at("hq", HOME, start + Duration::from_secs(600)).is_ok(), "a new window");
    }

    #[test]
    fn an_address_is_refused_after_its_limit_whatever_the_username() {
        let throttle = LoginThrottle::new(&settings());
        let start = Instant::now();
        for n in 0..5 {
            let _failed = throttle.begin_at(&format!("user{n}"), HOME, start).unwrap();
        }
        assert_eq!(retry_after(throttle.begin_at("someone-else", HOME, start + Duration::from_millis(1500))), 59);
        assert!(throttle.begin_at("someone-else", None, start).is_ok(), "another address is not affected");
    }

    #[test]
    fn success_resets_the_username_and_returns_the_address_attempt() {
        let throttle = LoginThrottle::new(&settings());
        let now = Instant::now();
        for _ in 0..2 {
            let _failed = throttle.begin_at("hq", HOME, now).unwrap();
        }
        let attempt = throttle.begin_at("hq", HOME, now).unwrap();
        throttle.succeeded(attempt);
        for _ in 0..2 {
            let _failed = throttle.begin_at("hq", HOME, now).unwrap();
        }
        // 2 + 2 failures from the address, under its limit of 5; the username has 2 of 3.
        let _failed = throttle.begin_at("hq", HOME, now).unwrap();
        assert!(throttle.begin_at("hq", HOME, now).is_err(), "the username is now at its limit");
    }

    #[test]
    fn an_abandoned_attempt_does_not_count() {
        let throttle = LoginThrottle::new(&settings());
        let now = Instant::now();
        for _ in 0..10 {
            let attempt = throttle.begin_at("hq", HOME, now).unwrap();
            throttle.abandoned(attempt);
        }
        assert!(throttle.begin_at("hq", HOME, now).is_ok());
    }

    #[test]
    fn memory_stays_bounded_dropping_the_oldest_entries() {
        let throttle = LoginThrottle::new(&settings());
        let start = Instant::now();
        for n in 0..100u64 {
            let _failed = throttle.begin_at(&format!("user{n}"), None, start + Duration::from_millis(n)).unwrap();
        }
        let usernames = lock(&throttle.usernames);
        assert_eq!(usernames.windows.len(), 4);
        let newest: UsernameKey = Sha256::digest(b"user99").into();
        assert!(usernames.windows.contains_key(&newest));
    }

    #[test]
    fn ipv6_addresses_count_per_64_block() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(Some(address_key(mapped)), HOME);
    }

    #[derive(clap::Parser)]
    struct Flags {
        #[command(flatten)]
        throttle: LoginThrottleSettings,
    }

    #[test]
    fn the_flags_default_to_the_documented_limits_and_refuse_zero() {
        use clap::Parser;
        let defaults = Flags::parse_from(["serve"]).throttle;
        assert_eq!(defaults.max_failures_per_username, DEFAULT_MAX_FAILURES_PER_USERNAME);
        assert_eq!(defaults.username_window_seconds, DEFAULT_USERNAME_WINDOW_SECONDS);
        assert_eq!(defaults.max_failures_per_address, DEFAULT_MAX_FAILURES_PER_ADDRESS);
        assert_eq!(defaults.address_window_seconds, DEFAULT_ADDRESS_WINDOW_SECONDS);
        assert_eq!(defaults.max_tracked_keys, DEFAULT_MAX_TRACKED_KEYS);
        assert!(!defaults.trust_x_forwarded_for);
        let set = Flags::parse_from(["serve", "--max-failures-per-username", "3", "--trust-x-forwarded-for"]).throttle;
        assert_eq!((set.max_failures_per_username, set.trust_x_forwarded_for), (3, true));
        assert!(Flags::try_parse_from(["serve", "--max-failures-per-address", "0"]).is_err());
        assert!(Flags::try_parse_from(["serve", "--max-tracked-keys", "0"]).is_err());
    }

    #[test]
    fn x_forwarded_for_is_ignored_unless_trusted() {
        let request = actix_web::test::TestRequest::default()
            .peer_addr("192.0.2.1:4000".parse().unwrap())
            .insert_header(("x-forwarded-for", "203.0.113.9, 198.51.100.7"))
            .to_http_request();
        assert_eq!(LoginThrottle::new(&settings()).client_address(&request), HOME);
        let trusting = LoginThrottle::new(&LoginThrottleSettings { trust_x_forwarded_for: true, ..settings() });
        assert_eq!(trusting.client_address(&request), Some("198.51.100.7".parse().unwrap()));
    }
}

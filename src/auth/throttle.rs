//! Login throttling (OWASP Authentication Cheat Sheet): failed logins are limited per client
//! address and per client address and account, never per account alone, so that failures from
//! elsewhere cannot lock out someone who has the password. Past a limit, `POST /auth/token` answers
//! 429 with `Retry-After`.
//!
//! The limits are `governor`'s GCRA rate limiters: N failures at once, then one more every window/N.
//! Only failures use up the allowance. An attempt first asks the limiters, without recording
//! anything, whether one more failure would still be allowed, and records its failure only once
//! the password has been found wrong; a correct login, however many at once, uses nothing. So that
//! concurrent guesses cannot all pass that question before any of them is recorded, attempts of one
//! key still undecided are counted too: an attempt is let in only while the allowance covers them
//! all, and otherwise waits for them (a burst of correct logins waits briefly and gets in).
//!
//! The state lives in this process (one server process, or a few behind a load balancer, each with
//! its own allowance) and in memory bounded by [`DEFAULT_MAX_TRACKED_KEYS`] entries per limiter.
//! Usernames are counted whether or not they exist, and a 429 reads the same for both, so
//! throttling reveals nothing about which accounts exist.

use std::collections::HashMap;
use std::convert::Infallible;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::HttpRequest;
use governor::clock::{Clock, DefaultClock};
use governor::nanos::Nanos;
use governor::state::keyed::ShrinkableKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed, StateStore};
use governor::{Quota, RateLimiter};
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// Failed logins allowed per client address and username within
/// [`DEFAULT_ADDRESS_AND_USERNAME_WINDOW_SECONDS`].
pub const DEFAULT_MAX_FAILURES_PER_ADDRESS_AND_USERNAME: u32 = 5;
/// The window of the failures per address and username (15 minutes: one more every 3 minutes).
pub const DEFAULT_ADDRESS_AND_USERNAME_WINDOW_SECONDS: u64 = 15 * 60;
/// Failed logins allowed per client address within [`DEFAULT_ADDRESS_WINDOW_SECONDS`].
pub const DEFAULT_MAX_FAILURES_PER_ADDRESS: u32 = 20;
/// The window of the failures per client address (1 minute: one more every 3 seconds).
pub const DEFAULT_ADDRESS_WINDOW_SECONDS: u64 = 60;
/// Most address-and-username pairs, and separately most addresses, remembered at once; past it
/// entries whose allowance is whole again are dropped first, then those closest to it.
pub const DEFAULT_MAX_TRACKED_KEYS: usize = 10_000;
/// Longest an attempt waits for concurrent attempts of the same key to be decided; a password check
/// takes well under a second, so only a flood of them waits this long.
const MAX_QUEUE_WAIT: Duration = Duration::from_secs(10);

/// Login throttling settings (`serve` flags and environment variables).
#[derive(Debug, Clone, clap::Args)]
pub struct LoginThrottleSettings {
    /// Failed logins allowed per client address and username per window
    #[arg(long, env = "LOGIN_MAX_FAILURES_PER_USERNAME",
        default_value_t = DEFAULT_MAX_FAILURES_PER_ADDRESS_AND_USERNAME, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_failures_per_address_and_username: u32,
    /// Length of the per-address-and-username window, in seconds
    #[arg(long, env = "LOGIN_USERNAME_WINDOW_SECONDS",
        default_value_t = DEFAULT_ADDRESS_AND_USERNAME_WINDOW_SECONDS, value_parser = clap::value_parser!(u64).range(1..))]
    pub address_and_username_window_seconds: u64,
    /// Failed logins allowed per client address per window
    #[arg(long, env = "LOGIN_MAX_FAILURES_PER_ADDRESS", default_value_t = DEFAULT_MAX_FAILURES_PER_ADDRESS,
        value_parser = clap::value_parser!(u32).range(1..))]
    pub max_failures_per_address: u32,
    /// Length of the per-address window, in seconds
    #[arg(long, env = "LOGIN_ADDRESS_WINDOW_SECONDS", default_value_t = DEFAULT_ADDRESS_WINDOW_SECONDS,
        value_parser = clap::value_parser!(u64).range(1..))]
    pub address_window_seconds: u64,
    /// Most address-and-username pairs (and, separately, addresses) whose failures are remembered
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
            max_failures_per_address_and_username: DEFAULT_MAX_FAILURES_PER_ADDRESS_AND_USERNAME,
            address_and_username_window_seconds: DEFAULT_ADDRESS_AND_USERNAME_WINDOW_SECONDS,
            max_failures_per_address: DEFAULT_MAX_FAILURES_PER_ADDRESS,
            address_window_seconds: DEFAULT_ADDRESS_WINDOW_SECONDS,
            max_tracked_keys: DEFAULT_MAX_TRACKED_KEYS,
            trust_x_forwarded_for: false,
        }
    }
}

/// An address and account as counted: the account key digested, so that long keys cost no memory.
type AccountKey = (Option<IpAddr>, [u8; 32]);

/// Failure limiters keyed by address and by address and account, on `C` (a fake clock in tests).
pub struct LoginThrottle<C: Clock + Clone = DefaultClock> {
    trust_x_forwarded_for: bool,
    max_tracked_keys: usize,
    addresses: FailureLimiter<IpAddr, C>,
    accounts: FailureLimiter<AccountKey, C>,
    undecided: Mutex<Undecided>,
    /// Woken whenever an attempt is decided, for the attempts waiting for room.
    decided: tokio::sync::Notify,
}

/// Attempts let in and not yet decided, per key; keys leave when their count drops to zero.
#[derive(Default)]
struct Undecided {
    addresses: HashMap<IpAddr, u32>,
    accounts: HashMap<AccountKey, u32>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(&LoginThrottleSettings::default())
    }
}

/// A login attempt that was let in. Call [`LoginAttempt::failed`] when the password was wrong;
/// dropping it otherwise (a success, or an attempt that could not be decided) uses no allowance.
#[must_use = "report a failed attempt"]
pub struct LoginAttempt<'a, C: Clock + Clone = DefaultClock> {
    throttle: &'a LoginThrottle<C>,
    address: Option<IpAddr>,
    account: AccountKey,
}

impl LoginThrottle {
    pub fn new(settings: &LoginThrottleSettings) -> Self {
        Self::with_clock(settings, DefaultClock::default())
    }
}

impl<C: Clock + Clone> LoginThrottle<C> {
    pub fn with_clock(settings: &LoginThrottleSettings, clock: C) -> Self {
        let max_keys = settings.max_tracked_keys.max(1);
        Self {
            trust_x_forwarded_for: settings.trust_x_forwarded_for,
            max_tracked_keys: max_keys,
            addresses: failure_limiter(
                quota(settings.max_failures_per_address, settings.address_window_seconds),
                max_keys,
                clock.clone(),
            ),
            accounts: failure_limiter(
                quota(settings.max_failures_per_address_and_username, settings.address_and_username_window_seconds),
                max_keys,
                clock,
            ),
            undecided: Mutex::new(Undecided::default()),
            decided: tokio::sync::Notify::new(),
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

    /// Lets an attempt for `account` (an opaque key the caller builds, such as the username) in,
    /// or refuses it (429) while the address, or the address and account, has no failures left.
    /// Waits while the attempts of the same key already let in could use up what is left.
    pub async fn begin(&self, address: Option<IpAddr>, account: &str) -> Result<LoginAttempt<'_, C>, AppError> {
        let account: AccountKey = (address, Sha256::digest(account.as_bytes()).into());
        let give_up = Instant::now() + MAX_QUEUE_WAIT;
        loop {
            // Made before looking, so that an attempt decided in between still wakes this one.
            let decided = self.decided.notified();
            if let Some(attempt) = self.try_begin(address, account)? {
                return Ok(attempt);
            }
            let left = give_up.saturating_duration_since(Instant::now());
            if actix_web::rt::time::timeout(left, decided).await.is_err() {
                return Err(AppError::TooManyRequests { retry_after_seconds: 1 });
            }
        }
    }

    /// [`LoginThrottle::begin`] without waiting: `None` when the attempt would have to wait.
    fn try_begin(&self, address: Option<IpAddr>, account: AccountKey) -> Result<Option<LoginAttempt<'_, C>>, AppError> {
        let mut undecided = lock(&self.undecided);
        let account_room = self.accounts.room(&account, count(&undecided.accounts, &account));
        let address_room = match address {
            Some(address) => self.addresses.room(&address, count(&undecided.addresses, &address)),
            None => Room::Free,
        };
        let wait = [&account_room, &address_room]
            .into_iter()
            .filter_map(|room| match room {
                Room::Exhausted(wait) => Some(*wait),
                _ => None,
            })
            .max();
        if let Some(wait) = wait {
            // Whole seconds, rounded up: a client that waits this long is let in.
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            return Err(AppError::TooManyRequests { retry_after_seconds: seconds.max(1) });
        }
        if matches!(account_room, Room::Busy) || matches!(address_room, Room::Busy) {
            return Ok(None);
        }
        *undecided.accounts.entry(account).or_default() += 1;
        if let Some(address) = address {
            *undecided.addresses.entry(address).or_default() += 1;
        }
        Ok(Some(LoginAttempt { throttle: self, address, account }))
    }

    /// Records a failure, first dropping forgiven keys when the limiter is full.
    fn record_failure(&self, attempt: &LoginAttempt<'_, C>) {
        self.accounts.record(&attempt.account, self.max_tracked_keys);
        if let Some(address) = attempt.address {
            self.addresses.record(&address, self.max_tracked_keys);
        }
    }
}

impl<C: Clock + Clone> LoginAttempt<'_, C> {
    /// The password was wrong (or the user unknown or deactivated): this uses one failure of the
    /// address and of the address and account.
    pub fn failed(self) {
        self.throttle.record_failure(&self);
    }
}

impl<C: Clock + Clone> Drop for LoginAttempt<'_, C> {
    fn drop(&mut self) {
        let mut undecided = lock(&self.throttle.undecided);
        release(&mut undecided.accounts, &self.account);
        if let Some(address) = self.address {
            release(&mut undecided.addresses, &address);
        }
        drop(undecided);
        self.throttle.decided.notify_waiters();
    }
}

fn count<K: Hash + Eq>(undecided: &HashMap<K, u32>, key: &K) -> u32 {
    undecided.get(key).copied().unwrap_or(0)
}

fn release<K: Hash + Eq>(undecided: &mut HashMap<K, u32>, key: &K) {
    if let Some(count) = undecided.get_mut(key) {
        *count = count.saturating_sub(1);
        if *count == 0 {
            undecided.remove(key);
        }
    }
}

/// `failures` at once, then one more every `seconds / failures`.
fn quota(failures: u32, seconds: u64) -> Quota {
    let burst = NonZeroU32::new(failures).unwrap_or(NonZeroU32::MIN);
    let period = (Duration::from_secs(seconds) / burst.get()).max(Duration::from_nanos(1));
    Quota::with_period(period).unwrap_or_else(|| Quota::per_second(burst)).allow_burst(burst)
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

type FailureLimiter<K, C> =
    RateLimiter<Probe<K>, FailureStore<K>, C, governor::middleware::NoOpMiddleware<<C as Clock>::Instant>>;

fn failure_limiter<K: Hash + Eq + Clone, C: Clock>(quota: Quota, max_keys: usize, clock: C) -> FailureLimiter<K, C> {
    RateLimiter::new(quota, FailureStore::new(max_keys), clock)
}

/// What the limiter says about one more failure of a key.
enum Room {
    /// The attempts undecided and this one could all fail within the allowance.
    Free,
    /// There is room for this one, but not if all the undecided ones fail too.
    Busy,
    /// Not even one more failure is allowed for this long.
    Exhausted(Duration),
}

trait Failures<K> {
    fn room(&self, key: &K, undecided: u32) -> Room;
    fn record(&self, key: &K, max_keys: usize);
}

impl<K: Hash + Eq + Clone, C: Clock + Clone> Failures<K> for FailureLimiter<K, C> {
    fn room(&self, key: &K, undecided: u32) -> Room {
        let peek = Probe { key: key.clone(), record: false };
        if let Ok(Err(refused)) = self.check_key_n(&peek, NonZeroU32::MIN) {
            return Room::Exhausted(refused.wait_time_from(self.clock().now()));
        }
        match NonZeroU32::new(undecided.saturating_add(1)).map(|all| self.check_key_n(&peek, all)) {
            Some(Ok(Ok(()))) => Room::Free,
            _ => Room::Busy,
        }
    }

    fn record(&self, key: &K, max_keys: usize) {
        if self.len() >= max_keys {
            self.retain_recent();
        }
        // Refused only when the key's allowance is already used up by other attempts' failures;
        // it stays used up either way.
        let _ = self.check_key(&Probe { key: key.clone(), record: true });
    }
}

/// A key as the limiter sees it, and whether the decision is recorded: a peek gets governor's
/// decision (and its wait time) for the key's current state without changing it.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Probe<K> {
    key: K,
    record: bool,
}

/// governor's per-key state ([`InMemoryState`], as in its own keyed stores) in a map that can be
/// read without being written and holds at most `max_keys` keys.
struct FailureStore<K> {
    max_keys: usize,
    states: Mutex<HashMap<K, InMemoryState>>,
}

impl<K> FailureStore<K> {
    fn new(max_keys: usize) -> Self {
        Self { max_keys, states: Mutex::new(HashMap::new()) }
    }
}

/// The theoretical arrival time governor keeps for a key, read without writing.
fn arrival(state: &InMemoryState) -> Option<Nanos> {
    state.measure_and_replace(&NotKeyed::NonKey, Err::<((), Nanos), _>).err().flatten()
}

impl<K: Hash + Eq + Clone> StateStore for FailureStore<K> {
    type Key = Probe<K>;

    fn measure_and_replace<T, F, E>(&self, probe: &Probe<K>, decide: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let mut states = lock(&self.states);
        if !probe.record {
            let Some(state) = states.get(&probe.key) else {
                return decide(None).map(|(decision, _)| decision);
            };
            // Always "refused" to the state, so it is never written; the decision rides in the error.
            let peeked = state.measure_and_replace(&NotKeyed::NonKey, |tat| match decide(tat) {
                Ok((decision, _)) => Err::<(Infallible, Nanos), _>(Ok(decision)),
                Err(refused) => Err(Err(refused)),
            });
            return match peeked {
                Ok(never) => match never {},
                Err(decision) => decision,
            };
        }
        if !states.contains_key(&probe.key) && states.len() >= self.max_keys {
            // Full even after dropping forgiven keys: the key closest to forgiven goes.
            let closest = states.iter().min_by_key(|(_, state)| arrival(state)).map(|(key, _)| key.clone());
            if let Some(closest) = closest {
                states.remove(&closest);
            }
        }
        states.entry(probe.key.clone()).or_default().measure_and_replace(&NotKeyed::NonKey, decide)
    }
}

impl<K: Hash + Eq + Clone> ShrinkableKeyedStateStore<Probe<K>> for FailureStore<K> {
    fn retain_recent(&self, drop_below: Nanos) {
        lock(&self.states).retain(|_, state| arrival(state).is_some_and(|tat| tat > drop_below));
    }

    fn len(&self) -> usize {
        lock(&self.states).len()
    }

    fn is_empty(&self) -> bool {
        lock(&self.states).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;

    fn settings() -> LoginThrottleSettings {
        LoginThrottleSettings {
            max_failures_per_address_and_username: 3,
            address_and_username_window_seconds: 600,
            max_failures_per_address: 5,
            address_window_seconds: 60,
            max_tracked_keys: 4,
            trust_x_forwarded_for: false,
        }
    }

    fn throttle() -> (LoginThrottle<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        (LoginThrottle::with_clock(&settings(), clock.clone()), clock)
    }

    const HOME: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)));
    const AWAY: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 7)));

    fn key(address: Option<IpAddr>, account: &str) -> AccountKey {
        (address, Sha256::digest(account.as_bytes()).into())
    }

    /// Begins an attempt that must not wait.
    fn begin<'a>(
        throttle: &'a LoginThrottle<FakeRelativeClock>,
        address: Option<IpAddr>,
        account: &str,
    ) -> Result<LoginAttempt<'a, FakeRelativeClock>, AppError> {
        throttle.try_begin(address, key(address, account)).map(|attempt| attempt.expect("let in without waiting"))
    }

    fn fail(throttle: &LoginThrottle<FakeRelativeClock>, address: Option<IpAddr>, account: &str, times: u32) {
        for _ in 0..times {
            begin(throttle, address, account).unwrap().failed();
        }
    }

    fn retry_after(result: Result<LoginAttempt<'_, FakeRelativeClock>, AppError>) -> u64 {
        match result {
            Err(AppError::TooManyRequests { retry_after_seconds }) => retry_after_seconds,
            Err(other) => panic!("expected 429, got {other:?}"),
            Ok(_) => panic!("expected 429, got through"),
        }
    }

    #[test]
    fn an_address_and_account_is_refused_for_governors_wait_then_regains_one_failure() {
        let (throttle, clock) = throttle();
        fail(&throttle, HOME, "hq", 3);
        // 3 per 600 s: one failure comes back every 200 s.
        clock.advance(Duration::from_secs(50));
        assert_eq!(retry_after(begin(&throttle, HOME, "hq")), 150);
        assert!(begin(&throttle, AWAY, "hq").is_ok(), "the account from elsewhere is not affected");
        assert!(begin(&throttle, HOME, "viewer").is_ok(), "other accounts from the address are not affected");
        clock.advance(Duration::from_secs(150));
        fail(&throttle, HOME, "hq", 1);
        assert_eq!(retry_after(begin(&throttle, HOME, "hq")), 200);
    }

    #[test]
    fn an_address_is_refused_after_its_limit_whatever_the_account() {
        let (throttle, clock) = throttle();
        for n in 0..5 {
            fail(&throttle, HOME, &format!("user{n}"), 1);
        }
        clock.advance(Duration::from_millis(1500));
        // 5 per 60 s: one comes back every 12 s.
        assert_eq!(retry_after(begin(&throttle, HOME, "someone-else")), 11);
        assert!(begin(&throttle, AWAY, "someone-else").is_ok(), "another address is not affected");
    }

    #[test]
    fn correct_or_undecided_attempts_use_nothing() {
        let (throttle, _clock) = throttle();
        for _ in 0..100 {
            let succeeded = begin(&throttle, HOME, "hq").unwrap();
            drop(succeeded);
        }
        fail(&throttle, HOME, "hq", 3);
        assert!(begin(&throttle, HOME, "hq").is_err(), "all three failures were still allowed");
    }

    #[test]
    fn undecided_attempts_wait_while_they_could_use_up_the_allowance() {
        let (throttle, _clock) = throttle();
        let first = begin(&throttle, HOME, "hq").unwrap();
        let second = begin(&throttle, HOME, "hq").unwrap();
        let _third = begin(&throttle, HOME, "hq").unwrap();
        assert!(throttle.try_begin(HOME, key(HOME, "hq")).unwrap().is_none(), "a fourth waits");
        first.failed();
        assert!(throttle.try_begin(HOME, key(HOME, "hq")).unwrap().is_none(), "the failure took the place");
        drop(second);
        assert!(begin(&throttle, HOME, "hq").is_ok(), "a success gave its place back");
    }

    #[actix_web::test]
    async fn a_waiting_attempt_is_let_in_when_another_is_decided() {
        let (throttle, _clock) = throttle();
        let held: Vec<_> = (0..3).map(|_| begin(&throttle, HOME, "hq").unwrap()).collect();
        let waiting = throttle.begin(HOME, "hq");
        let release = async {
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
            drop(held);
        };
        let (attempt, ()) = futures_util::join!(waiting, release);
        assert!(attempt.is_ok());
    }

    #[test]
    fn memory_stays_bounded_dropping_forgiven_then_closest_to_forgiven_keys() {
        let (throttle, clock) = throttle();
        for n in 0..100u64 {
            clock.advance(Duration::from_millis(1));
            fail(&throttle, None, &format!("user{n}"), 1);
        }
        assert_eq!(throttle.accounts.len(), 4);
        fail(&throttle, None, "user99", 2);
        assert!(begin(&throttle, None, "user99").is_err(), "the newest key kept its failures");
        clock.advance(Duration::from_secs(1000));
        fail(&throttle, None, "late", 1);
        assert_eq!(throttle.accounts.len(), 1, "forgiven keys were dropped first");
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
        assert_eq!(defaults.max_failures_per_address_and_username, DEFAULT_MAX_FAILURES_PER_ADDRESS_AND_USERNAME);
        assert_eq!(defaults.address_and_username_window_seconds, DEFAULT_ADDRESS_AND_USERNAME_WINDOW_SECONDS);
        assert_eq!(defaults.max_failures_per_address, DEFAULT_MAX_FAILURES_PER_ADDRESS);
        assert_eq!(defaults.address_window_seconds, DEFAULT_ADDRESS_WINDOW_SECONDS);
        assert_eq!(defaults.max_tracked_keys, DEFAULT_MAX_TRACKED_KEYS);
        assert!(!defaults.trust_x_forwarded_for);
        let set =
            Flags::parse_from(["serve", "--max-failures-per-address-and-username", "3", "--trust-x-forwarded-for"])
                .throttle;
        assert_eq!((set.max_failures_per_address_and_username, set.trust_x_forwarded_for), (3, true));
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
        assert_eq!(trusting.client_address(&request), AWAY);
    }
}

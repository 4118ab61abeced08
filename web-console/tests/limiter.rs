//! The login limiter's arithmetic on virtual time: five tries per IPv4 address or IPv6 /64
//! counted before the check, two checks at once over all sources, a bounded table.

#![allow(clippy::expect_used)]

use std::net::IpAddr;
use std::time::{Duration, Instant};

use web_console::limiter::{
    LoginLimiter, Refusal, Source, CHECKS_IN_FLIGHT, MAX_SOURCES, MAX_TRIES, WINDOW,
};

fn ip(text: &str) -> IpAddr {
    text.parse().expect("address")
}

/// Spends `tries` of `address`'s tries at `now`, each check ending at once (its place given
/// back) and failing.
fn spend(limiter: &LoginLimiter, address: &str, now: Instant, tries: usize) {
    for _ in 0..tries {
        drop(limiter.begin(ip(address), now).expect("a try left"));
    }
}

#[test]
fn five_tries_per_ipv4_address_then_a_minute_of_waiting() {
    let limiter = LoginLimiter::default();
    let now = Instant::now();
    spend(&limiter, "192.0.2.7", now, MAX_TRIES);
    let refused = limiter.begin(ip("192.0.2.7"), now).map(|_| ());
    assert_eq!(refused, Err(Refusal::TooManyTries));
    assert_eq!(
        limiter.begin(ip("::ffff:192.0.2.7"), now).map(|_| ()),
        Err(Refusal::TooManyTries),
        "the same address seen on a dual-stack socket"
    );
    assert!(
        limiter.begin(ip("192.0.2.8"), now).is_ok(),
        "the neighbour is another source"
    );
    let later = now + WINDOW.saturating_sub(Duration::from_millis(1));
    assert!(limiter.begin(ip("192.0.2.7"), later).is_err());
    assert!(limiter.begin(ip("192.0.2.7"), now + WINDOW).is_ok());
}

#[test]
fn ipv6_addresses_count_by_their_64() {
    let limiter = LoginLimiter::default();
    let now = Instant::now();
    for host in ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:aaaa::9"] {
        spend(&limiter, host, now, 1);
    }
    spend(
        &limiter,
        "2001:db8:1:2:ffff:ffff:ffff:ffff",
        now,
        MAX_TRIES - 3,
    );
    assert_eq!(
        limiter.begin(ip("2001:db8:1:2:1234::1"), now).map(|_| ()),
        Err(Refusal::TooManyTries),
        "a new privacy address in the same /64"
    );
    assert!(
        limiter.begin(ip("2001:db8:1:3::1"), now).is_ok(),
        "the next /64"
    );
    assert_eq!(
        Source::of(ip("2001:db8:1:2::1")),
        Source::of(ip("2001:db8:1:2:ffff::1"))
    );
    assert_ne!(
        Source::of(ip("2001:db8:1:2::1")),
        Source::of(ip("2001:db8:1:3::1"))
    );
}

#[test]
fn tries_are_counted_before_the_check_and_only_two_run_at_once() {
    let limiter = LoginLimiter::default();
    let now = Instant::now();
    let running: Vec<_> = (0..CHECKS_IN_FLIGHT)
        .map(|_| limiter.begin(ip("198.51.100.1"), now).expect("a place"))
        .collect();
    assert_eq!(
        limiter.begin(ip("203.0.113.9"), now).map(|_| ()),
        Err(Refusal::Busy),
        "no third check, from anyone"
    );
    drop(running);
    // The two running were counted although neither finished: three tries are left.
    spend(&limiter, "198.51.100.1", now, MAX_TRIES - CHECKS_IN_FLIGHT);
    assert_eq!(
        limiter.begin(ip("198.51.100.1"), now).map(|_| ()),
        Err(Refusal::TooManyTries)
    );
    assert!(
        limiter.begin(ip("203.0.113.9"), now).is_ok(),
        "a refusal for being busy was not counted"
    );
}

#[test]
fn a_successful_login_gives_its_try_back() {
    let limiter = LoginLimiter::default();
    let now = Instant::now();
    for _ in 0..MAX_TRIES * 3 {
        let attempt = limiter.begin(ip("192.0.2.1"), now).expect("a try left");
        limiter.succeeded(attempt.source, attempt.at);
    }
}

#[test]
fn many_sources_do_not_grow_the_table_without_bound() {
    let limiter = LoginLimiter::default();
    let start = Instant::now();
    for i in 0..MAX_SOURCES as u32 * 4 {
        let address = IpAddr::from((0x0a00_0000 + i).to_be_bytes());
        let now = start + Duration::from_millis(u64::from(i));
        drop(limiter.begin(address, now).expect("a try"));
        assert!(limiter.sources() <= MAX_SOURCES);
    }
    assert_eq!(limiter.sources(), MAX_SOURCES);
    let newest = IpAddr::from((0x0a00_0000 + MAX_SOURCES as u32 * 4 - 1).to_be_bytes());
    let now = start + Duration::from_secs(10);
    spend(&limiter, &newest.to_string(), now, MAX_TRIES - 1);
    assert!(
        limiter.begin(newest, now).is_err(),
        "the newest sources are the ones kept"
    );
}

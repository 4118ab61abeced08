//! The popups' "Block" button against a real web console (the `web-console` crate serving a
//! store with a password): it logs in and adds the block filter first in the list; a wrong
//! password adds nothing; the filter is for exactly that number, so a caller numbered `*` or
//! `1555*` is blocked alone.

#![allow(clippy::expect_used)]

use desktop_client::console::block;
use ringside_core::caller_id::{CallerId, CallerIdSource};
use ringside_core::filters::Field;
use ringside_store::Store;

#[test]
fn block_logs_in_and_adds_a_filter_first_in_the_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    let hash = web_console::auth::hash_password("correct horse battery").expect("hash");
    store
        .set_console_password_hash(Some(&hash))
        .expect("password");
    drop(store);
    let mut store = Store::open(dir.path()).expect("store");
    store
        .add_filter(
            "1555*",
            ringside_core::filters::Field::Number,
            ringside_core::filters::Action::Allow,
            None,
            "now",
        )
        .expect("an existing filter");
    let listener = web_console::bind("127.0.0.1:0".parse().expect("address"), true).expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let state = web_console::ConsoleState::new(dir.path().to_owned());
    std::thread::spawn(move || web_console::serve(listener, state));

    let refused = block(&url, Some("wrong password"), "12125550100");
    assert!(refused.is_err(), "a wrong password blocks nothing");
    assert_eq!(store.filters().expect("filters").len(), 1);

    block(&url, Some("correct horse battery"), "12125550100").expect("blocked");
    let filters = store.filters().expect("filters");
    assert_eq!(filters.len(), 2);
    assert_eq!(filters[0].pattern, "12125550100", "first in the list");
    assert_eq!(filters[0].action, ringside_core::filters::Action::Block);
    assert_eq!(filters[0].field, Field::ExactNumber);

    // The bug: a caller numbered `*` blocked from the popup became `block *` (everyone).
    for number in ["*", "1555*"] {
        block(&url, Some("correct horse battery"), number).expect("blocked");
    }
    let policy = store.policy().expect("policy");
    let blocked = |number: &str| {
        let caller = CallerId {
            number: Some(number.to_owned()),
            name: None,
            presentation: ringside_core::caller_id::Presentation::Number,
            source: CallerIdSource::From,
            raw: String::new(),
        };
        policy.filters.decide(&caller, true).block.applies
    };
    for number in ["*", "1555*", "12125550100"] {
        assert!(blocked(number), "{number} is blocked");
    }
    for number in ["15550100001", "19005550100", "1555"] {
        assert!(!blocked(number), "{number} still rings");
    }
}

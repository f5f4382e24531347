//! The challenge table's rules: single use, bound to account and uid, quotas that evict
//! no one else's, a full table refusing, and ceremonies riding on challenges.

use super::*;

const STAMP: [u8; 32] = [7; 32];

fn holder(account: &str, uid: u32) -> Holder<'_> {
    Holder {
        account,
        uid,
        limited: uid != 0,
        stamp: STAMP,
    }
}

#[test]
fn a_challenge_is_single_use_and_bound_to_account_and_uid() {
    let c = Challenges::default();
    let now = Instant::now();
    let t = c.issue(holder("alice", 1000), now).unwrap();
    assert_eq!(c.take(&t, "alice", 1000, now), Some(STAMP));
    assert_eq!(c.take(&t, "alice", 1000, now), None, "second use");

    let t = c.issue(holder("alice", 1000), now).unwrap();
    assert_eq!(c.take(&t, "bob", 1000, now), None);
    assert_eq!(
        c.take(&t, "alice", 1000, now),
        None,
        "a failed try burns it"
    );

    let t = c.issue(holder("alice", 1000), now).unwrap();
    assert_eq!(c.take(&t, "alice", 1001, now), None);

    let t = c.issue(holder("alice", 1000), now).unwrap();
    assert_eq!(c.take(&t, "alice", 1000, now + CHALLENGE_TTL), None);

    assert_eq!(c.take(&Secret::new("zz"), "alice", 1000, now), None);
}

#[test]
fn a_peek_spends_nothing_but_a_failed_one_burns_it() {
    let c = Challenges::default();
    let now = Instant::now();
    let t = c.issue(holder("alice", 1000), now).unwrap();
    assert_eq!(c.peek(&t, "alice", 1000, now), Some(STAMP));
    assert_eq!(c.peek(&t, "alice", 1000, now), Some(STAMP), "still there");
    assert_eq!(c.take(&t, "alice", 1000, now), Some(STAMP));
    assert_eq!(c.peek(&t, "alice", 1000, now), None, "spent by take");

    let t = c.issue(holder("alice", 1000), now).unwrap();
    assert_eq!(c.peek(&t, "bob", 1000, now), None, "another account's");
    assert_eq!(
        c.take(&t, "alice", 1000, now),
        None,
        "a failed peek burns it"
    );
    let t = c.issue(holder("alice", 1000), now).unwrap();
    assert_eq!(c.peek(&t, "alice", 1001, now), None, "another uid");
    let t = c.issue(holder("alice", 1000), now).unwrap();
    assert_eq!(c.peek(&t, "alice", 1000, now + CHALLENGE_TTL), None);
}

#[test]
fn malformed_challenges_are_refused_without_panicking() {
    let c = Challenges::default();
    let now = Instant::now();
    let t = c.issue(holder("alice", 1000), now).unwrap();
    let wire = t.expose();
    let mut inputs = vec![
        String::new(),
        "00".into(),
        wire[..78].to_string(),
        format!("{wire}00"),
        format!("{}zz", &wire[..78]),
    ];
    // 80 bytes, not ASCII, with a two-byte character across a pair of hex digits.
    inputs.push(format!("0\u{e9}{}", &wire[3..]));
    for input in inputs {
        assert_eq!(c.take(&Secret::new(input), "alice", 1000, now), None);
    }
    assert!(c.take(&t, "alice", 1000, now).is_some(), "still there");
}

#[test]
fn one_account_replaces_only_its_own_oldest() {
    let c = Challenges::default();
    let now = Instant::now();
    let bobs = c.issue(holder("bob", 0), now).unwrap();
    let first = c.issue(holder("alice", 0), now).unwrap();
    let mut last = None;
    for _ in 0..1000 {
        last = Some(c.issue(holder("alice", 0), now).unwrap());
    }
    assert_eq!(c.len(), PER_ACCOUNT + 1);
    assert_eq!(c.take(&first, "alice", 0, now), None, "replaced");
    assert!(c.take(&last.unwrap(), "alice", 0, now).is_some());
    assert!(c.take(&bobs, "bob", 0, now).is_some(), "bob's survives");
}

#[test]
fn an_ordinary_uid_holds_a_handful_whatever_the_accounts() {
    let c = Challenges::default();
    let now = Instant::now();
    let names: Vec<String> = (0..100).map(|i| format!("a{i}")).collect();
    for name in &names {
        c.issue(holder(name, 1000), now).unwrap();
    }
    assert_eq!(c.len(), PER_UID);
}

#[test]
fn a_full_table_refuses_rather_than_evicting() {
    assert_eq!(Challenges::default().max_pending, MAX_PENDING);
    let c = Challenges::with_max_pending(20);
    let now = Instant::now();
    for i in 0..20 {
        c.issue(holder(&format!("a{i}"), 0), now).unwrap();
    }
    let before = crate::time::now();
    let refused = c.issue(holder("late", 0), now);
    let after = crate::time::now();
    match refused {
        Err(Error::RateLimited { until }) => {
            let ttl = CHALLENGE_TTL.as_secs();
            assert!((before + ttl..=after + ttl).contains(&until), "{until}");
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    assert_eq!(c.len(), 20, "nobody's challenge was pushed out");
    c.issue(holder("late", 0), now + CHALLENGE_TTL).unwrap();
    assert_eq!(c.len(), 1);
}

#[test]
fn a_ceremony_rides_on_a_challenge_that_still_redeems_once() {
    use webauthn_rs::prelude::{Url, WebauthnBuilder};
    let origin = Url::parse("https://login.example.test").unwrap();
    let webauthn = WebauthnBuilder::new("login.example.test", &origin)
        .unwrap()
        .build()
        .unwrap();
    let ceremony = || {
        let (_, state) = webauthn
            .start_securitykey_registration(
                webauthn_rs::prelude::Uuid::nil(),
                "alice",
                "alice",
                None,
                None,
                None,
            )
            .unwrap();
        Ceremony::Register {
            state: Box::new(state),
            key_name: "yk".into(),
        }
    };
    let c = Challenges::default();
    let now = Instant::now();
    let t = c.issue(holder("alice", 1000), now).unwrap();
    assert!(c.attach(&t, "alice", 1000, now, ceremony()).is_ok());
    assert!(
        c.attach(&t, "alice", 1000, now, ceremony()).is_ok(),
        "replaced"
    );
    assert_eq!(c.table().unwrap().ceremonies, 1);
    let (stamp, carried) = c.take_with(&t, "alice", 1000, now).unwrap();
    assert_eq!(stamp, STAMP);
    assert!(matches!(carried, Some(Ceremony::Register { .. })));
    assert!(c.take_with(&t, "alice", 1000, now).is_none(), "second use");
    assert_eq!(c.table().unwrap().ceremonies, 0);

    // Another uid's attempt burns it, as a failed take would.
    let t = c.issue(holder("alice", 1000), now).unwrap();
    assert!(matches!(
        c.attach(&t, "alice", 1001, now, ceremony()),
        Err(Error::ChallengeExpired)
    ));
    assert!(c.take(&t, "alice", 1000, now).is_none());
    // Expired: refused.
    let t = c.issue(holder("alice", 1000), now).unwrap();
    let late = now + CHALLENGE_TTL;
    assert!(c.attach(&t, "alice", 1000, late, ceremony()).is_err());
    // A code still redeems a challenge that carries a ceremony (no key answered).
    let t = c.issue(holder("alice", 1000), now).unwrap();
    c.attach(&t, "alice", 1000, now, ceremony()).unwrap();
    assert_eq!(c.take(&t, "alice", 1000, now), Some(STAMP));
    assert_eq!(c.table().unwrap().ceremonies, 0);
}

#[test]
fn expired_challenges_make_room() {
    let c = Challenges::default();
    let now = Instant::now();
    for i in 0..10 {
        c.issue(holder(&format!("a{i}"), 0), now).unwrap();
    }
    c.issue(holder("late", 0), now + CHALLENGE_TTL).unwrap();
    assert_eq!(c.len(), 1);
}

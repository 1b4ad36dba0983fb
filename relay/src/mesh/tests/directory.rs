//! The [`Directory`] on its own: new, renewed and replayed entries, the tag of the relay
//! itself, eviction of the stalest when full, expiry and order.

use std::time::{Duration, Instant};

use super::fake_swarm::{entry, secret};
use crate::mesh::directory::{Directory, Offered};

const TTL: Duration = Duration::from_secs(120);

#[test]
fn new_renewed_and_not_newer_announcements() {
    let t0 = Instant::now();
    let mut d = Directory::new(secret(0).public(), 8, TTL);
    let e1 = entry(&secret(1), "127.0.0.1");
    assert_eq!(d.offer(e1.clone(), None, 100, t0), Offered::New);
    assert_eq!(d.offer(e1.clone(), None, 100, t0), Offered::NotNewer);
    assert_eq!(d.offer(e1.clone(), None, 99, t0), Offered::NotNewer);
    assert_eq!(d.offer(e1.clone(), None, 101, t0), Offered::Renewed);
    assert_eq!(d.get(e1.node_key()).unwrap().issued_at_ms, 101);
    assert_eq!(d.get(e1.node_key()).unwrap().entry_bytes, e1.to_bytes());
    assert_eq!(d.len(), 1);
}

#[test]
fn the_relays_own_entry_and_tag_are_never_taken() {
    let t0 = Instant::now();
    let own = secret(0);
    let mut d = Directory::new(own.public(), 8, TTL);
    assert_eq!(
        d.offer(entry(&own, "127.0.0.1"), None, 1, t0),
        Offered::TagTaken
    );
    assert!(d.is_empty());
    assert_eq!(
        d.owner(crate::protocol::RelayTag::of(&own.public())),
        Some(&own.public())
    );
}

#[test]
fn a_full_directory_evicts_the_stalest() {
    let t0 = Instant::now();
    let mut d = Directory::new(secret(0).public(), 2, TTL);
    let [e1, e2, e3] = [1, 2, 3].map(|i| entry(&secret(i), "127.0.0.1"));
    d.offer(e1.clone(), None, 1, t0);
    d.offer(e2.clone(), None, 1, t0 + Duration::from_secs(1));
    d.offer(e1.clone(), None, 2, t0 + Duration::from_secs(2));
    assert_eq!(
        d.offer(e3.clone(), None, 1, t0 + Duration::from_secs(3)),
        Offered::New
    );
    assert_eq!(d.len(), 2);
    assert!(d.get(e2.node_key()).is_none(), "2 was the stalest");
    assert!(d.get(e1.node_key()).is_some() && d.get(e3.node_key()).is_some());
    let tag2 = crate::protocol::RelayTag::of(e2.node_key());
    assert_eq!(d.owner(tag2), None, "an evicted relay's tag is free");
    let none = Directory::new(secret(0).public(), 0, TTL);
    assert!(none.is_empty());
}

#[test]
fn entries_expire_after_the_ttl_and_list_freshest_first() {
    let t0 = Instant::now();
    let mut d = Directory::new(secret(0).public(), 8, TTL);
    let [e1, e2, e3] = [1, 2, 3].map(|i| entry(&secret(i), "127.0.0.1"));
    d.offer(e1.clone(), None, 1, t0);
    d.offer(e2.clone(), None, 1, t0 + Duration::from_secs(10));
    d.offer(e3.clone(), None, 1, t0 + Duration::from_secs(20));
    let order: Vec<_> = d
        .freshest_first()
        .iter()
        .map(|k| *k.entry.node_key())
        .collect();
    assert_eq!(order, vec![*e3.node_key(), *e2.node_key(), *e1.node_key()]);
    assert!(
        d.expire(t0 + TTL).is_empty(),
        "exactly the ttl is still fresh"
    );
    assert_eq!(d.expire(t0 + TTL + Duration::from_secs(11)).len(), 2);
    let left: Vec<_> = d
        .freshest_first()
        .iter()
        .map(|k| *k.entry.node_key())
        .collect();
    assert_eq!(left, vec![*e3.node_key()]);
}

//! The outbox record as version 1 stored it, frozen: the shape of `OutboxItem` before
//! delivered messages were kept. Messages not yet delivered are still written in it
//! (`encode_outbox`), so their bytes never change; a delivered one is `V2`.

use serde::{Deserialize, Serialize};

use super::{decode, encode, Channel, OutboxItem};
use crate::error::Error;

#[derive(Serialize, Deserialize)]
enum OutboxRecord {
    V1(OutboxItemV1),
    V2(OutboxItem),
}

#[derive(Serialize, Deserialize)]
struct OutboxItemV1 {
    id: u64,
    account: String,
    channel: Channel,
    sealed: Vec<u8>,
    created: u64,
    attempts: u32,
    next_attempt: u64,
    last_error: Option<String>,
    failed: bool,
}

impl From<OutboxItemV1> for OutboxItem {
    fn from(m: OutboxItemV1) -> OutboxItem {
        OutboxItem {
            id: m.id,
            account: m.account,
            channel: m.channel,
            sealed: m.sealed,
            created: m.created,
            attempts: m.attempts,
            next_attempt: m.next_attempt,
            last_error: m.last_error,
            failed: m.failed,
            delivered: None,
        }
    }
}

pub fn encode_outbox(item: &OutboxItem) -> Vec<u8> {
    if item.delivered.is_some() {
        return encode(&OutboxRecord::V2(item.clone()));
    }
    let m = item.clone();
    encode(&OutboxRecord::V1(OutboxItemV1 {
        id: m.id,
        account: m.account,
        channel: m.channel,
        sealed: m.sealed,
        created: m.created,
        attempts: m.attempts,
        next_attempt: m.next_attempt,
        last_error: m.last_error,
        failed: m.failed,
    }))
}

pub fn decode_outbox(bytes: &[u8]) -> Result<OutboxItem, Error> {
    match decode(bytes, "outbox message")? {
        OutboxRecord::V1(m) => Ok(m.into()),
        OutboxRecord::V2(m) => Ok(m),
    }
}

//! Wake-ups for the couriers when another daemon queues a message: every transaction
//! that queues one (or puts a message back in the queue) sends `NOTIFY authd_outbox`
//! before its COMMIT, so PostgreSQL delivers the notification once the message is
//! committed, never for a rolled-back one. Each daemon keeps one connection of its own,
//! outside the pool, that LISTENs on the channel and wakes its couriers on each
//! notification; they then claim as ever (`outbox`), so a notification is only a hint.
//!
//! The connection is checked every `PING` and replaced when it fails (the server
//! restarted, the network went away), after 1 s, doubling up to 30 s. The couriers are
//! woken each time it is (re)established, for messages queued while it was down; and
//! they poll the queue every `[store] outbox_poll` whatever happens here, so a lost
//! notification delays a message by that much at most.

use std::time::Duration;

use tokio_postgres::AsyncMessage;

use super::{pg, PgStore};
use crate::error::{DisplayChain, Error};
use crate::store::OutboxWake;

/// The channel (a constant: it is part of how daemons of one database talk).
pub(super) const CHANNEL: &str = "authd_outbox";

/// The statement a queuing transaction runs before its COMMIT.
pub(super) const NOTIFY: &str = "NOTIFY authd_outbox";

/// How often the listening connection is checked.
const PING: Duration = Duration::from_secs(30);

/// Longest wait for the check's answer.
const PING_TIMEOUT: Duration = Duration::from_secs(10);

const FIRST_RETRY: Duration = Duration::from_secs(1);
const MAX_RETRY: Duration = Duration::from_secs(30);

impl PgStore {
    /// Start listening (on the connections' runtime, for as long as the store lives).
    pub(super) fn listen(&self, wake: OutboxWake) {
        let mut config = self.pg_config.clone();
        // Told apart from the pool's connections in pg_stat_activity.
        config.application_name("authd-listen");
        let (url, tls) = (self.url.clone(), self.connector.clone());
        self.driver.handle.spawn(listen(config, tls, url, wake));
    }
}

async fn listen(
    config: tokio_postgres::Config,
    tls: super::tls::Connector,
    url: String,
    wake: OutboxWake,
) {
    let mut retry = FIRST_RETRY;
    let mut lost = false;
    loop {
        let ended = session(&config, &tls, &wake, || {
            if lost {
                tracing::info!(database = %url, "outbox notifications: listening again");
            }
            lost = false;
            retry = FIRST_RETRY;
        })
        .await;
        if !lost {
            tracing::warn!(
                database = %url,
                error = %DisplayChain(&ended),
                "outbox notifications: no connection; other daemons' messages are \
                 found by polling until it is back"
            );
        }
        lost = true;
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(MAX_RETRY);
    }
}

/// One listening connection, until it fails: connect, LISTEN, call `up`, wake the
/// couriers, then wake them on every notification.
async fn session(
    config: &tokio_postgres::Config,
    tls: &super::tls::Connector,
    wake: &OutboxWake,
    up: impl FnOnce(),
) -> Error {
    let (client, mut connection) = match config.connect(tls.clone()).await {
        Ok(pair) => pair,
        Err(e) => return pg(e),
    };
    // The connection does its work (answers, notifications) only while it is polled.
    let notified = wake.clone();
    let mut driven = tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(_))) => notified(),
                Some(Ok(_)) => {}
                Some(Err(e)) => return pg(e),
                None => return super::db("the server closed the connection"),
            }
        }
    });
    if let Err(e) = client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
        driven.abort();
        return pg(e);
    }
    up();
    wake();
    loop {
        tokio::select! {
            ended = &mut driven => {
                return ended.unwrap_or_else(super::db);
            }
            _ = tokio::time::sleep(PING) => {
                match tokio::time::timeout(PING_TIMEOUT, client.simple_query("")).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        driven.abort();
                        return pg(e);
                    }
                    Err(_) => {
                        driven.abort();
                        return super::db("the server did not answer a check in time");
                    }
                }
            }
        }
    }
}

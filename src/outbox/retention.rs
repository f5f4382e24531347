//! Delivered messages are kept, without their bodies, for `outbox.keep_delivered`, so
//! `authctl outbox` shows what went out; this task removes them after that, in bounded
//! batches, at start and then every `keep_delivered / 4` (between a second and an hour).
//! No history entry: the delivery already has one. `0s` keeps none (the courier removes
//! a message when it is delivered), and then this task has nothing to do.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Outbox;
use crate::time;

/// Messages removed per store change.
const BATCH: usize = 1000;

pub(super) async fn run(outbox: Arc<Outbox>, shutdown: CancellationToken) {
    loop {
        let keep = outbox.settings().retry.keep_delivered;
        if !keep.is_zero() {
            if let Err(e) = prune(&outbox, keep).await {
                tracing::error!(error = %crate::error::DisplayChain(&e), "removing delivered outbox messages failed");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval(keep)) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

/// How long to wait between passes.
fn interval(keep: Duration) -> Duration {
    (keep / 4).clamp(Duration::from_secs(1), Duration::from_secs(3600))
}

async fn prune(outbox: &Outbox, keep: Duration) -> Result<(), crate::error::Error> {
    let before = time::now().saturating_sub(keep.as_secs());
    let mut removed = 0;
    loop {
        let batch = outbox.store.outbox_prune_delivered(before, BATCH)?;
        outbox.store.durable().await?;
        removed += batch;
        if batch < BATCH as u64 {
            break;
        }
    }
    if removed > 0 {
        tracing::info!(
            removed,
            keep = %humantime::format_duration(keep),
            "removed delivered outbox messages past outbox.keep_delivered"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_come_four_times_per_period_between_a_second_and_an_hour() {
        assert_eq!(interval(Duration::ZERO), Duration::from_secs(1));
        assert_eq!(interval(Duration::from_secs(2)), Duration::from_secs(1));
        assert_eq!(interval(Duration::from_secs(40)), Duration::from_secs(10));
        assert_eq!(
            interval(Duration::from_secs(30 * 86400)),
            Duration::from_secs(3600)
        );
    }
}

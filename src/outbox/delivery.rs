//! The delivery task: wakes when a message is queued or a retry falls due, hands each due
//! message to its transport, and records the outcome. Stops on shutdown after the
//! delivery in hand; the rest stay queued for the next start.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::service::Service;
use crate::time;

/// Longest sleep between looks at the queue (a safety net; enqueueing wakes the task).
const MAX_IDLE: Duration = Duration::from_secs(60);

pub async fn run(service: Arc<Service>, shutdown: CancellationToken) {
    loop {
        let next_due = match service.deliver_due(&shutdown).await {
            Ok(next) => next,
            Err(e) => {
                tracing::error!(error = %crate::error::DisplayChain(&e), "outbox delivery failed");
                Some(time::now() + 5)
            }
        };
        let wait = next_due
            .map(|at| Duration::from_secs(at.saturating_sub(time::now())))
            .unwrap_or(MAX_IDLE)
            .min(MAX_IDLE);
        tokio::select! {
            _ = service.outbox_queued() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

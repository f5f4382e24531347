//! Pipelining: the statements of one transaction sent together and their answers awaited
//! together, so a change costs one round trip to the server instead of one per statement.
//!
//! tokio-postgres sends a request when its future is first polled, and the server answers
//! in the order it got them; `all` and `both` poll every future once, in order, before
//! waiting on any. A statement that fails aborts the transaction on the server: the ones
//! after it fail too, and a COMMIT sent behind it rolls back (it answers ROLLBACK, not an
//! error), so every answer is checked and the first failure is the one reported.

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::task::Poll;

use deadpool_postgres::Object;

/// A statement sent in a pipeline: its row count.
pub(super) type Sent<'a> =
    Pin<Box<dyn Future<Output = Result<u64, tokio_postgres::Error>> + Send + 'a>>;

/// A simple-protocol statement (BEGIN, COMMIT) in a pipeline.
pub(super) fn simple<'a>(conn: &'a Object, sql: &'static str) -> Sent<'a> {
    Box::pin(async move { conn.batch_execute(sql).await.map(|()| 0) })
}

/// Every future's output, in order; each is polled first in the order given.
pub(super) async fn all<T>(
    mut futures: Vec<Pin<Box<dyn Future<Output = T> + Send + '_>>>,
) -> Vec<T> {
    let mut done: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    poll_fn(|cx| {
        let mut pending = false;
        for (future, out) in futures.iter_mut().zip(done.iter_mut()) {
            if out.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(v) => *out = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    done.into_iter().flatten().collect()
}

/// The row counts of a pipeline, or its first failure.
pub(super) async fn counts(sent: Vec<Sent<'_>>) -> Result<Vec<u64>, tokio_postgres::Error> {
    all(sent).await.into_iter().collect()
}

/// Both outputs; `a` is polled (sent) first.
pub(super) async fn both<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut ra, mut rb) = (None, None);
    poll_fn(|cx| {
        if ra.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        match (ra.take(), rb.take()) {
            (Some(x), Some(y)) => Poll::Ready((x, y)),
            (x, y) => {
                ra = x;
                rb = y;
                Poll::Pending
            }
        }
    })
    .await
}

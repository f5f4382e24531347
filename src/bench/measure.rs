//! The measuring loop: one thread per client, all started together, each timing its
//! requests until the run's end.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// When a run ends.
#[derive(Debug, Clone, Copy)]
pub enum Stop {
    After(Duration),
    Requests(u64),
}

/// One client's work: `step(i)` prepares request number i (untimed) and returns the
/// timed part, which carries it out and says whether the answer was the expected one;
/// `None` when the client has nothing left to send.
pub trait Client: Send {
    fn prepare(&mut self, i: u64) -> Option<Prepared<'_>>;
}

/// A request ready to go: running it is what is timed.
pub type Prepared<'a> = Box<dyn FnOnce() -> bool + 'a>;

/// Makes a client inside its thread (e.g. connects), before the start; `None` if it
/// cannot, which counts as one error.
pub type Start = Box<dyn FnOnce() -> Option<Box<dyn Client>> + Send>;

/// What the clients measured together.
pub struct Measured {
    /// (request number within its client, latency in µs)
    pub latencies: Vec<(u64, u64)>,
    pub errors: u64,
    pub seconds: f64,
}

/// Run every client until `stop`, all starting at once.
pub fn measure(starts: Vec<Start>, stop: Stop) -> Measured {
    let barrier = Arc::new(Barrier::new(starts.len() + 1));
    let threads: Vec<_> = starts
        .into_iter()
        .map(|start| {
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || -> (Vec<(u64, u64)>, u64) {
                let client = start();
                barrier.wait();
                let Some(mut client) = client else {
                    return (Vec::new(), 1);
                };
                let (mut latencies, mut errors) = (Vec::new(), 0u64);
                let started = Instant::now();
                for i in 0.. {
                    let done = match stop {
                        Stop::After(d) => started.elapsed() >= d,
                        Stop::Requests(n) => i >= n,
                    };
                    let Some(request) = (!done).then(|| client.prepare(i)).flatten() else {
                        break;
                    };
                    let t = Instant::now();
                    let ok = request();
                    latencies.push((i, t.elapsed().as_micros() as u64));
                    errors += u64::from(!ok);
                }
                (latencies, errors)
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    let mut measured = Measured {
        latencies: Vec::new(),
        errors: 0,
        seconds: 0.0,
    };
    for thread in threads {
        match thread.join() {
            Ok((latencies, errors)) => {
                measured.latencies.extend(latencies);
                measured.errors += errors;
            }
            Err(_) => measured.errors += 1,
        }
    }
    measured.seconds = started.elapsed().as_secs_f64();
    measured
}

//! A process a test started — a daemon, an SMTP sink, a terminal, any helper — that is
//! killed (SIGKILL) and reaped when its guard is dropped, also when the test panics, so
//! nothing a test started outlives it. Dropping never panics: a panic while unwinding
//! would abort the whole test binary and hide which test failed.
//!
//! Shared by the integration tests and the PAM tests (`#[path]`-included).

#![allow(dead_code)]

use std::ops::{Deref, DerefMut};
use std::process::{Child, Command, Output};

/// A running child, killed and reaped on drop unless it was waited for.
pub struct Spawned(Option<Child>);

impl Spawned {
    /// Start `cmd`, failing the test (with the command line) if it cannot start.
    #[track_caller]
    pub fn spawn(cmd: &mut Command) -> Spawned {
        match cmd.spawn() {
            Ok(child) => Spawned(Some(child)),
            Err(e) => panic!("cannot start {cmd:?}: {e}"),
        }
    }

    /// Guard a child started elsewhere.
    pub fn guard(child: Child) -> Spawned {
        Spawned(Some(child))
    }

    /// Wait for it to exit and collect its piped output (blocks until it exits).
    pub fn wait_with_output(mut self) -> std::io::Result<Output> {
        let child = self.0.take().expect("a guarded child");
        child.wait_with_output()
    }
}

impl Deref for Spawned {
    type Target = Child;

    fn deref(&self) -> &Child {
        self.0.as_ref().expect("a guarded child")
    }
}

impl DerefMut for Spawned {
    fn deref_mut(&mut self) -> &mut Child {
        self.0.as_mut().expect("a guarded child")
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            // Already exited (and reaped by `try_wait`): `kill` then signals nothing.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

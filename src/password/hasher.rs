//! argon2id on a fixed pool of `hash_workers` threads.
//!
//! However many clients wait, at most `workers` hashes run at once, so hash memory stays
//! within workers x `argon2_m_kib`; the rest wait in a queue of small jobs. The async
//! side never blocks: it sends a job and awaits a oneshot.

use std::sync::{mpsc, Arc, Mutex};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::oneshot;

use crate::config::PasswordConfig;
use crate::error::Error;
use crate::protocol::Secret;

type Job = Box<dyn FnOnce() + Send>;

/// The result of checking a password.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Wrong,
    /// Right; `rehash` is a fresh hash when the stored one used other parameters.
    Right {
        rehash: Option<String>,
    },
}

pub struct Hasher {
    jobs: mpsc::Sender<Job>,
    params: Params,
    /// Verified against when there is no real hash, so unknown names cost the same time.
    dummy: Arc<String>,
}

fn argon2(params: Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_with(params: &Params, password: &[u8]) -> Result<String, Error> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Internal(e.to_string()))?;
    argon2(params.clone())
        .hash_password(password, &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("argon2 hashing failed: {e}")))
}

/// Does the stored hash use exactly the configured algorithm and parameters?
fn is_current(hash: &PasswordHash<'_>, params: &Params) -> bool {
    hash.algorithm.as_str() == "argon2id"
        && hash.version == Some(Version::V0x13.into())
        && Params::try_from(hash).is_ok_and(|p| {
            (p.m_cost(), p.t_cost(), p.p_cost())
                == (params.m_cost(), params.t_cost(), params.p_cost())
        })
}

fn verify_with(params: &Params, password: &[u8], stored: &str, real: bool) -> Verdict {
    let Ok(hash) = PasswordHash::new(stored) else {
        return Verdict::Wrong;
    };
    let ok = argon2(params.clone())
        .verify_password(password, &hash)
        .is_ok();
    if !(ok && real) {
        return Verdict::Wrong;
    }
    let rehash = if is_current(&hash, params) {
        None
    } else {
        hash_with(params, password).ok()
    };
    Verdict::Right { rehash }
}

impl Hasher {
    /// Start `workers` hashing threads with the configured parameters.
    pub fn start(config: &PasswordConfig, workers: usize) -> Result<Hasher, Error> {
        let params = Params::new(config.argon2_m_kib, config.argon2_t, config.argon2_p, None)
            .map_err(|e| Error::Internal(format!("argon2 parameters: {e}")))?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..workers.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("authd-hash-{i}"))
                .spawn(move || loop {
                    let job = match queue.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                })
                .map_err(|e| Error::Internal(format!("cannot start hash worker: {e}")))?;
        }
        let mut dummy_password = [0u8; 32];
        getrandom::fill(&mut dummy_password)
            .map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
        let dummy = Arc::new(hash_with(&params, &dummy_password)?);
        Ok(Hasher {
            jobs,
            params,
            dummy,
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(work());
        });
        self.jobs
            .send(job)
            .map_err(|_| Error::Internal("hash workers have stopped".into()))?;
        rx.await
            .map_err(|_| Error::Internal("a hash worker failed".into()))
    }

    /// A new argon2id PHC string for `password`.
    pub async fn hash(&self, password: Secret) -> Result<String, Error> {
        let params = self.params.clone();
        self.run(move || hash_with(&params, password.expose().as_bytes()))
            .await?
    }

    /// Check `password` against `stored`; with no stored hash, a dummy hash is checked
    /// instead (same cost) and the answer is `Wrong`.
    pub async fn verify(&self, password: Secret, stored: Option<String>) -> Result<Verdict, Error> {
        let params = self.params.clone();
        let dummy = Arc::clone(&self.dummy);
        self.run(move || match stored {
            Some(stored) => verify_with(&params, password.expose().as_bytes(), &stored, true),
            None => verify_with(&params, password.expose().as_bytes(), &dummy, false),
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap(m_kib: u32) -> PasswordConfig {
        PasswordConfig {
            argon2_m_kib: m_kib,
            argon2_t: 1,
            ..PasswordConfig::default()
        }
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let h = Hasher::start(&cheap(64), 2).unwrap();
        let phc = h.hash(Secret::new("pw-one")).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
        assert_eq!(
            h.verify(Secret::new("pw-one"), Some(phc.clone()))
                .await
                .unwrap(),
            Verdict::Right { rehash: None }
        );
        assert_eq!(
            h.verify(Secret::new("pw-two"), Some(phc)).await.unwrap(),
            Verdict::Wrong
        );
        assert_eq!(
            h.verify(Secret::new("x"), None).await.unwrap(),
            Verdict::Wrong
        );
    }

    #[tokio::test]
    async fn changed_parameters_give_a_rehash() {
        let old = Hasher::start(&cheap(64), 1).unwrap();
        let phc = old.hash(Secret::new("pw")).await.unwrap();
        let new = Hasher::start(&cheap(128), 1).unwrap();
        match new.verify(Secret::new("pw"), Some(phc)).await.unwrap() {
            Verdict::Right { rehash: Some(r) } => assert!(r.contains("m=128,"), "{r}"),
            other => panic!("expected a rehash, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_corrupt_stored_hash_is_wrong_not_an_error() {
        let h = Hasher::start(&cheap(64), 1).unwrap();
        let v = h.verify(Secret::new("pw"), Some("garbage".into())).await;
        assert_eq!(v.unwrap(), Verdict::Wrong);
    }
}

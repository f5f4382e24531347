//! argon2id on a fixed pool of `hash_workers` threads.
//!
//! The stored hash is a string whose prefix says what it is: an argon2 PHC string, or a
//! crypt(3) hash imported from /etc/shadow (`super::crypt`), checked on the same pool in
//! the same fair turns and replaced by argon2id when it matches.
//!
//! However many clients wait, at most `workers` hashes run at once, so hash memory stays
//! within workers x `argon2_m_kib`; the rest wait as small jobs in a fair queue
//! (`super::fair`), where each uid takes its turn. The async side never blocks: it queues
//! a job and awaits a oneshot.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;

use super::crypt::{self, Scheme};
use super::fair::{FairQueue, Share};
use crate::config::PasswordConfig;
use crate::error::Error;
use crate::protocol::Secret;

/// Work for a hashing thread, handed that thread's own argon2 memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

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
    jobs: Arc<FairQueue<Job>>,
    /// Jobs the pool has started (each hashes or checks one password): `status` shows it.
    done: Arc<AtomicU64>,
    params: Params,
    /// Verified against when there is no real hash, so unknown names cost the same time.
    dummy: Arc<Dummy>,
}

/// The hash an unknown name is checked against: a random password and salt chosen at
/// start, hashed on the pool once (`Hasher::prepare`, or the first check that needs it),
/// never while the daemon starts.
struct Dummy {
    password: [u8; 32],
    salt: [u8; 16],
    /// `None` if hashing failed (it cannot with parameters that `Params::new` accepted).
    hash: OnceLock<Option<String>>,
}

impl Dummy {
    fn new() -> Result<Dummy, Error> {
        Ok(Dummy {
            password: crate::vault::random_bytes()?,
            salt: crate::vault::random_bytes()?,
            hash: OnceLock::new(),
        })
    }

    /// The dummy hash, made in `memory` by the first caller; others wait for it.
    fn get(&self, params: &Params, memory: &mut Vec<Block>) -> Option<&str> {
        self.hash
            .get_or_init(|| {
                hash_salted(params, &self.password, &self.salt, memory)
                    .inspect_err(|e| tracing::error!(error = %e, "cannot make the dummy hash"))
                    .ok()
            })
            .as_deref()
    }
}

/// Run argon2 for `params` into `out`, in the thread's reusable memory: each worker
/// holds one m_cost-sized buffer for its whole life, so hashing memory is exactly
/// workers x m_cost, with no allocation (and no page faults) per hash.
fn raw_hash(
    algorithm: Algorithm,
    version: Version,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    memory: &mut Vec<Block>,
) -> Result<(), Error> {
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    Argon2::new(algorithm, version, params.clone())
        .hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
        .map_err(|e| Error::Internal(format!("argon2 hashing failed: {e}")))
}

fn hash_with(params: &Params, password: &[u8], memory: &mut Vec<Block>) -> Result<String, Error> {
    let salt: [u8; 16] = crate::vault::random_bytes()?;
    hash_salted(params, password, &salt, memory)
}

/// The argon2id PHC string of `password` with `salt`.
fn hash_salted(
    params: &Params,
    password: &[u8],
    salt: &[u8; 16],
    memory: &mut Vec<Block>,
) -> Result<String, Error> {
    let mut out = [0u8; 32];
    raw_hash(
        Algorithm::Argon2id,
        Version::V0x13,
        params,
        password,
        salt,
        &mut out,
        memory,
    )?;
    let internal = |e: argon2::password_hash::Error| Error::Internal(e.to_string());
    let salt = SaltString::encode_b64(salt).map_err(internal)?;
    let out = Output::new(&out).map_err(internal)?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        salt.as_str(),
        out
    ))
}

/// Is `stored` a hash authd can verify against: an argon2 PHC string with a salt, an
/// output, and parameters within what `password.argon2_*` allows, or a crypt(3) hash
/// within `crypt`'s bounds? (A planted hash with a huge memory cost would make every
/// login against it allocate that much.)
pub fn check_stored(stored: &str) -> Result<(), String> {
    use crate::config::{ARGON2_MAX_M_KIB, ARGON2_MAX_P, ARGON2_MAX_T};
    if let Some(scheme) = Scheme::of(stored) {
        return crypt::check(scheme, stored);
    }
    let hash = PasswordHash::new(stored).map_err(|_| "not a PHC hash string".to_string())?;
    Algorithm::try_from(hash.algorithm)
        .map_err(|_| format!("not an argon2 hash ({})", hash.algorithm.as_str()))?;
    if let Some(v) = hash.version {
        Version::try_from(v).map_err(|_| format!("unknown argon2 version {v}"))?;
    }
    let params = Params::try_from(&hash).map_err(|e| format!("bad argon2 parameters: {e}"))?;
    if params.m_cost() > ARGON2_MAX_M_KIB
        || params.t_cost() > ARGON2_MAX_T
        || params.p_cost() > ARGON2_MAX_P
    {
        return Err(format!(
            "argon2 parameters m={},t={},p={} beyond what authd allows",
            params.m_cost(),
            params.t_cost(),
            params.p_cost()
        ));
    }
    match (&hash.salt, &hash.hash) {
        (Some(_), Some(output)) if output.len() >= 16 => Ok(()),
        _ => Err("no salt or no hash output".into()),
    }
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

/// Recompute the stored hash's argon2 for `password` and compare in constant time.
fn matches(hash: &PasswordHash<'_>, password: &[u8], memory: &mut Vec<Block>) -> bool {
    let mut check = || -> Option<bool> {
        let algorithm = Algorithm::try_from(hash.algorithm).ok()?;
        let version = match hash.version {
            Some(v) => Version::try_from(v).ok()?,
            None => Version::V0x13,
        };
        let params = Params::try_from(hash).ok()?;
        let mut salt_buf = [0u8; 64];
        let salt = hash.salt?.decode_b64(&mut salt_buf).ok()?;
        let expected = hash.hash?;
        let mut out = vec![0u8; expected.len()];
        raw_hash(
            algorithm, version, &params, password, salt, &mut out, memory,
        )
        .ok()?;
        Some(bool::from(out.as_slice().ct_eq(expected.as_bytes())))
    };
    check().unwrap_or(false)
}

fn verify_with(
    params: &Params,
    password: &[u8],
    stored: &str,
    real: bool,
    memory: &mut Vec<Block>,
) -> Verdict {
    if let Some(scheme) = Scheme::of(stored) {
        // Imported from /etc/shadow: right once, then argon2id from here on.
        if !(crypt::matches(scheme, stored, password) && real) {
            return Verdict::Wrong;
        }
        let rehash = hash_with(params, password, memory).ok();
        return Verdict::Right { rehash };
    }
    let Ok(hash) = PasswordHash::new(stored) else {
        return Verdict::Wrong;
    };
    if !(matches(&hash, password, memory) && real) {
        return Verdict::Wrong;
    }
    let rehash = if is_current(&hash, params) {
        None
    } else {
        hash_with(params, password, memory).ok()
    };
    Verdict::Right { rehash }
}

impl Hasher {
    /// Start `workers` hashing threads with the configured parameters.
    pub fn start(config: &PasswordConfig, workers: usize) -> Result<Hasher, Error> {
        let params = Params::new(config.argon2_m_kib, config.argon2_t, config.argon2_p, None)
            .map_err(|e| Error::Internal(format!("argon2 parameters: {e}")))?;
        let jobs = Arc::new(FairQueue::<Job>::default());
        let done = Arc::new(AtomicU64::new(0));
        for i in 0..workers.max(1) {
            let queue = Arc::clone(&jobs);
            let done = Arc::clone(&done);
            let started = std::thread::Builder::new()
                .name(format!("authd-hash-{i}"))
                .spawn(move || {
                    let mut memory = Vec::new();
                    while let Some((share, job)) = queue.next() {
                        // A panicking job loses only its own answer (its oneshot is
                        // dropped); its uid's turn and this worker carry on.
                        // Counted as it starts, so an answer never outruns its count.
                        done.fetch_add(1, Ordering::Relaxed);
                        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut memory)));
                        queue.done(share);
                    }
                });
            if let Err(e) = started {
                jobs.close();
                return Err(Error::Internal(format!("cannot start hash worker: {e}")));
            }
        }
        Ok(Hasher {
            jobs,
            done,
            params,
            dummy: Arc::new(Dummy::new()?),
        })
    }

    /// How many jobs the pool has started since it started: each hashes or checks one
    /// password (argon2 or crypt(3)), or skips it for a request that went away.
    pub fn hashes(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Make the dummy hash now, on the pool, in `share`'s turn (once the daemon is ready),
    /// so the first unknown name does not wait for it.
    pub fn prepare(&self, share: Share) {
        let (params, dummy) = (self.params.clone(), Arc::clone(&self.dummy));
        // In memory of its own, freed after: a worker that has not hashed yet keeps
        // holding none.
        let job: Job = Box::new(move |_| {
            dummy.get(&params, &mut Vec::new());
        });
        // Stopped workers: nothing will need the dummy either.
        let _ = self.jobs.push(share, job);
    }

    /// Queue `work` in `share`'s turn; the receiver gets its result.
    fn queue<T: Send + 'static>(
        &self,
        share: Share,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<oneshot::Receiver<T>, Error> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |memory| {
            // Nobody waits for it any more (the request was dropped): skip the hash.
            if !tx.is_closed() {
                let _ = tx.send(work(memory));
            }
        });
        self.jobs
            .push(share, job)
            .map_err(|_| Error::Internal("hash workers have stopped".into()))?;
        Ok(rx)
    }

    async fn run<T: Send + 'static>(
        &self,
        share: Share,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, Error> {
        let rx = self.queue(share, work)?;
        rx.await
            .map_err(|_| Error::Internal("a hash worker failed".into()))
    }

    /// A new argon2id PHC string for `password`, hashed in `share`'s turn.
    pub async fn hash(&self, share: Share, password: Secret) -> Result<String, Error> {
        let params = self.params.clone();
        self.run(share, move |memory| {
            hash_with(&params, password.expose().as_bytes(), memory)
        })
        .await?
    }

    /// argon2id PHC strings for `passwords`, in order: all queued at once in `share`'s
    /// turn, so they spread over the workers (a bulk import's plain passwords).
    pub async fn hash_many(
        &self,
        share: Share,
        passwords: Vec<Secret>,
    ) -> Result<Vec<String>, Error> {
        let mut answers = Vec::with_capacity(passwords.len());
        for password in passwords {
            let params = self.params.clone();
            answers.push(self.queue(share, move |memory| {
                hash_with(&params, password.expose().as_bytes(), memory)
            })?);
        }
        let mut hashes = Vec::with_capacity(answers.len());
        for answer in answers {
            let hash = answer
                .await
                .map_err(|_| Error::Internal("a hash worker failed".into()))??;
            hashes.push(hash);
        }
        Ok(hashes)
    }

    /// Check `password` against `stored` in `share`'s turn; with no stored hash, a dummy
    /// hash is checked instead (same cost, same queue) and the answer is `Wrong`.
    pub async fn verify(
        &self,
        share: Share,
        password: Secret,
        stored: Option<String>,
    ) -> Result<Verdict, Error> {
        let params = self.params.clone();
        let dummy = Arc::clone(&self.dummy);
        self.run(share, move |memory| {
            let pw = password.expose().as_bytes();
            match stored {
                Some(stored) => verify_with(&params, pw, &stored, true, memory),
                None => match dummy.get(&params, memory) {
                    Some(dummy) => verify_with(&params, pw, dummy, false, memory),
                    None => Verdict::Wrong,
                },
            }
        })
        .await
    }
}

impl Drop for Hasher {
    /// Let the worker threads end.
    fn drop(&mut self) {
        self.jobs.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: Share = Share::exempt(0);

    fn cheap(m_kib: u32) -> PasswordConfig {
        PasswordConfig {
            argon2_m_kib: m_kib,
            argon2_t: 1,
            ..PasswordConfig::default()
        }
    }

    #[test]
    fn only_argon2_hashes_within_the_config_limits_are_usable() {
        let phc = hash_with(
            &Params::new(64, 1, 1, None).unwrap(),
            b"pw",
            &mut Vec::new(),
        )
        .unwrap();
        assert_eq!(check_stored(&phc), Ok(()));
        let salt_and_hash = phc.rsplitn(3, '$').take(2).collect::<Vec<_>>();
        let (out, salt) = (salt_and_hash[0], salt_and_hash[1]);
        let huge = format!("$argon2id$v=19$m=4294967295,t=1,p=1${salt}${out}");
        assert!(check_stored(&huge).unwrap_err().contains("beyond"));
        for bad in [
            "",
            "hunter2",
            "$6$salt$abcdefghijklmnop",
            "$argon2id$v=19$m=64,t=1,p=1",
            &format!("$scrypt$ln=4,r=8,p=1${salt}${out}"),
        ] {
            assert!(check_stored(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let h = Hasher::start(&cheap(64), 2).unwrap();
        let phc = h.hash(ME, Secret::new("pw-one")).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
        assert_eq!(
            h.verify(ME, Secret::new("pw-one"), Some(phc.clone()))
                .await
                .unwrap(),
            Verdict::Right { rehash: None }
        );
        assert_eq!(
            h.verify(ME, Secret::new("pw-two"), Some(phc))
                .await
                .unwrap(),
            Verdict::Wrong
        );
        assert_eq!(
            h.verify(ME, Secret::new("x"), None).await.unwrap(),
            Verdict::Wrong
        );
    }

    #[tokio::test]
    async fn the_dummy_hash_is_made_on_the_pool_when_asked_not_at_start() {
        let h = Hasher::start(&cheap(64), 1).unwrap();
        assert!(h.dummy.hash.get().is_none(), "hashed at start");
        h.prepare(ME);
        // The check queues behind `prepare` in the same share: the dummy is there by then.
        assert_eq!(
            h.verify(ME, Secret::new("x"), None).await.unwrap(),
            Verdict::Wrong
        );
        let made = h.dummy.hash.get().cloned().flatten().unwrap();
        assert!(made.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{made}");
    }

    #[tokio::test]
    async fn changed_parameters_give_a_rehash() {
        let old = Hasher::start(&cheap(64), 1).unwrap();
        let phc = old.hash(ME, Secret::new("pw")).await.unwrap();
        let new = Hasher::start(&cheap(128), 1).unwrap();
        match new.verify(ME, Secret::new("pw"), Some(phc)).await.unwrap() {
            Verdict::Right { rehash: Some(r) } => assert!(r.contains("m=128,"), "{r}"),
            other => panic!("expected a rehash, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn hashes_made_by_the_argon2_crate_itself_verify() {
        use argon2::password_hash::PasswordHasher;
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let params = Params::new(64, 1, 1, None).unwrap();
        let phc = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"pw", &salt)
            .unwrap()
            .to_string();
        let h = Hasher::start(&cheap(64), 1).unwrap();
        assert_eq!(
            h.verify(ME, Secret::new("pw"), Some(phc.clone()))
                .await
                .unwrap(),
            Verdict::Right { rehash: None }
        );
        assert_eq!(
            h.verify(ME, Secret::new("px"), Some(phc)).await.unwrap(),
            Verdict::Wrong
        );
    }

    #[tokio::test]
    async fn a_corrupt_stored_hash_is_wrong_not_an_error() {
        let h = Hasher::start(&cheap(64), 1).unwrap();
        let v = h
            .verify(ME, Secret::new("pw"), Some("garbage".into()))
            .await;
        assert_eq!(v.unwrap(), Verdict::Wrong);
    }
}

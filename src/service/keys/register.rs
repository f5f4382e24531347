//! Registering, listing and removing an account's security keys. Registration is two
//! steps: `key_register_start` hands out the creation options and a challenge carrying
//! webauthn-rs's state (single use, bound to account, caller and the account's credential
//! stamp), `key_register_finish` verifies the key's answer and stores the credential.
//! The account's first second factor brings recovery codes (`Service::activate`).

use std::time::Instant;

use webauthn_rs::prelude::RegisterPublicKeyCredential;

use super::super::login::challenge::Holder;
use super::super::{refuse_sso, Service};
use super::{key_id, user_handle, Ceremony};
use crate::audit::{Action, Event, Outcome};
use crate::authz::Caller;
use crate::error::Error;
use crate::protocol::{
    KeyInfo, KeyRegisterFinish, KeyRegisterStart, ListKeys, RemoveKey, Response, Secret, MAX_KEYS,
};
use crate::store::{Account, SecurityKeyRecord};
use crate::time;

/// The longest name a key may be given.
const MAX_KEY_NAME: usize = 64;

fn check_key_name(name: &str) -> Result<String, Error> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_KEY_NAME || name.chars().any(char::is_control)
    {
        return Err(Error::InvalidInput(format!(
            "a key name is 1 to {MAX_KEY_NAME} characters, without control characters"
        )));
    }
    Ok(name.to_string())
}

fn refuse_full(acc: &Account) -> Result<(), Error> {
    if acc.security_keys.len() >= MAX_KEYS {
        return Err(Error::InvalidInput(format!(
            "`{}` has {MAX_KEYS} security keys already, the most an account may have; \
             remove one first",
            acc.name
        )));
    }
    Ok(())
}

fn refuse_sso_keys(acc: &Account) -> Result<(), Error> {
    match acc.sso {
        Some(_) => Err(Error::SsoTwoFactor(acc.name.clone())),
        None => Ok(()),
    }
}

impl Service {
    pub async fn key_register_start(
        &self,
        caller: &Caller,
        req: KeyRegisterStart,
    ) -> Result<Response, Error> {
        let KeyRegisterStart {
            name,
            key_name,
            proof,
        } = req;
        check_key_name(&key_name)?;
        let account = self.existing(&name)?;
        refuse_sso_keys(&account)?;
        refuse_full(&account)?;
        match proof {
            Some(proof) => {
                self.require_factor_proof(caller, &name, proof, "add-key")
                    .await?
            }
            None if caller.is_admin() => {}
            None => return Err(Error::ProofRequired),
        }
        self.start_key_registration(caller, &name, key_name)
    }

    /// The creation options and the challenge carrying the ceremony, once the caller has
    /// proved itself (or is an admin, or a portal session with a fresh proof).
    pub(in crate::service) fn start_key_registration(
        &self,
        caller: &Caller,
        name: &str,
        key_name: String,
    ) -> Result<Response, Error> {
        let key_name = check_key_name(&key_name)?;
        // The proof may have changed the record (a spent recovery code): start from now.
        let account = self.existing(name)?;
        refuse_sso_keys(&account)?;
        refuse_full(&account)?;
        let party = self.party()?;
        let exclude = account
            .security_keys
            .iter()
            .map(|k| k.credential_id.clone())
            .collect();
        let (options, state) = party
            .webauthn
            .start_securitykey_registration(
                user_handle(&account),
                name,
                name,
                Some(exclude),
                None,
                None,
            )
            .map_err(|e| Error::Internal(format!("starting a key registration: {e}")))?;
        let holder = Holder {
            account: name,
            uid: caller.peer().uid,
            // As for login challenges: the portal registers for many accounts.
            limited: !matches!(caller, Caller::Admin { .. } | Caller::Portal { .. }),
            stamp: account.credential_stamp(),
        };
        let ceremony = Ceremony::Register {
            state: Box::new(state),
            key_name,
        };
        let challenge = self
            .challenges
            .issue_with(holder, Instant::now(), Some(ceremony))?;
        Ok(Response::KeyRegistration {
            challenge,
            options: party.options_json(&options)?,
            origin: party.origin(),
        })
    }

    pub async fn key_register_finish(
        &self,
        caller: &Caller,
        req: KeyRegisterFinish,
    ) -> Result<Response, Error> {
        let KeyRegisterFinish {
            name,
            challenge,
            credential,
        } = req;
        let taken = self
            .challenges
            .take_with(&challenge, &name, caller.peer().uid, Instant::now());
        let Some((stamp, Some(Ceremony::Register { state, key_name }))) = taken else {
            return Err(Error::ChallengeExpired);
        };
        let answer: RegisterPublicKeyCredential = serde_json::from_str(&credential)
            .map_err(|e| Error::InvalidInput(format!("the key's answer is not valid: {e}")))?;
        let party = self.party()?;
        let key = party
            .webauthn
            .finish_securitykey_registration(&answer, &state)
            .map_err(|e| Error::KeyRefused(e.to_string()))?;
        super::aaguid::check(&party.rp.allowed_aaguids, &answer)?;
        let json = serde_json::to_value(&key)
            .map_err(|e| Error::Internal(format!("a key credential does not serialise: {e}")))?;
        if party.requires_verification() && json["cred"]["user_verified"] != true {
            return Err(Error::KeyRefused(
                "user verification (a PIN or fingerprint) is required and the key did not \
                 verify its user"
                    .into(),
            ));
        }
        let credential_id: &[u8] = key.cred_id().as_ref();
        let credential_id = credential_id.to_vec();
        self.refuse_registered_elsewhere(&name, &credential_id)?;
        let transports = json["cred"]["transports"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let now = time::now();
        let record = SecurityKeyRecord {
            id: key_id(&credential_id),
            name: key_name,
            sealed_credential: self.seal_key(&name, &key)?,
            credential_id,
            counter: 0,
            transports,
            created: now,
            last_used: None,
        };
        let codes = self
            .record(&name, now, |acc, _| {
                refuse_sso_keys(acc)?;
                if acc.credential_stamp() != stamp {
                    return Err(Error::ChallengeExpired);
                }
                refuse_full(acc)?;
                if acc.security_keys.iter().any(|k| k.id == record.id) {
                    return Err(Error::AlreadyEnrolled(format!(
                        "this key is registered to `{}` already",
                        acc.name
                    )));
                }
                let mut activated = self.activate(caller, acc, Action::KeyRegistered, |acc| {
                    acc.security_keys.push(record.clone());
                })?;
                let key = format!("key {} ({})", record.id, record.name);
                let event = &mut activated.event;
                event.detail = match event.detail.is_empty() {
                    true => key,
                    false => format!("{key}; {}", event.detail),
                };
                Ok(activated)
            })
            .await?;
        Ok(Response::Confirmed {
            recovery_codes: codes.into_iter().map(Secret::new).collect(),
        })
    }

    /// webauthn-rs: a credential id must never be registered to two accounts.
    fn refuse_registered_elsewhere(&self, name: &str, credential_id: &[u8]) -> Result<(), Error> {
        let mut after: Option<String> = None;
        loop {
            let (names, more) = self.store.list(after.as_deref(), 1000)?;
            for other in &names {
                if other == name {
                    continue;
                }
                let Some(acc) = self.store.account(other)? else {
                    continue;
                };
                if acc
                    .security_keys
                    .iter()
                    .any(|k| k.credential_id == credential_id)
                {
                    return Err(Error::AlreadyEnrolled(
                        "this security key is registered to another account".into(),
                    ));
                }
            }
            if !more {
                return Ok(());
            }
            after = names.last().cloned();
        }
    }

    pub fn list_keys(&self, req: ListKeys) -> Result<Response, Error> {
        let account = self.existing(&req.name)?;
        let keys = account
            .security_keys
            .iter()
            .map(|k| KeyInfo {
                id: k.id.clone(),
                name: k.name.clone(),
                created: k.created,
                last_used: k.last_used,
                counter: k.counter,
                transports: k.transports.clone(),
            })
            .collect();
        Ok(Response::Keys { keys })
    }

    pub async fn remove_key(&self, caller: &Caller, req: RemoveKey) -> Result<Response, Error> {
        let RemoveKey { name, id, proof } = req;
        self.has_key(&name, &id)?;
        self.require_factor_proof(caller, &name, proof, "remove-key")
            .await?;
        self.drop_key(caller, &name, &id).await
    }

    /// Refuse (before any proof) to remove a key the account does not have.
    pub(in crate::service) fn has_key(&self, name: &str, id: &str) -> Result<(), Error> {
        let account = self.existing(name)?;
        refuse_sso(&account)?;
        if !account.security_keys.iter().any(|k| k.id == id) {
            return Err(Error::NotEnrolled(format!(
                "`{name}` has no security key `{}`",
                crate::escape::clipped(id, 16)
            )));
        }
        Ok(())
    }

    /// Remove the key `id`, once the caller has proved itself.
    pub(in crate::service) async fn drop_key(
        &self,
        caller: &Caller,
        name: &str,
        id: &str,
    ) -> Result<Response, Error> {
        self.record(name, time::now(), |acc, _| {
            let Some(at) = acc.security_keys.iter().position(|k| k.id == id) else {
                return Err(Error::NotEnrolled(format!(
                    "`{}` has no security key `{id}`",
                    acc.name
                )));
            };
            let key = acc.security_keys.remove(at);
            let mut detail = format!("key {} ({})", key.id, key.name);
            if acc.second_factors().is_empty() && !acc.recovery_codes.is_empty() {
                acc.recovery_codes.clear();
                detail.push_str("; recovery codes removed");
            }
            Ok(Event::by(caller, Action::KeyRemoved, Outcome::Ok, detail).into())
        })
        .await?;
        Ok(Response::Done)
    }
}

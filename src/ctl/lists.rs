//! The listings that take more than one page (`list-users`, `outbox`, `log`): fetched
//! page by page until the daemon says there is no more, then shown at once.

use super::output::Outcome;
use super::session::Session;
use super::{unexpected, CtlError};
use crate::protocol::{ListUsers, Log, Outbox, Request, Response, MAX_PAGE};

pub fn list_users(s: &mut Session) -> Result<Outcome, CtlError> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let request = Request::ListUsers(ListUsers {
            after: after.take(),
            limit: MAX_PAGE,
        });
        match s.call(request)? {
            Response::Users { names, next } => {
                all.extend(names);
                match next {
                    Some(n) => after = Some(n),
                    None => return Ok(Outcome::Users(all)),
                }
            }
            other => return Err(unexpected(other)),
        }
    }
}

pub fn log(s: &mut Session, name: String, limit: u32) -> Result<Outcome, CtlError> {
    let mut events = Vec::new();
    let mut before = None;
    while events.len() < limit as usize {
        let want = (limit as usize - events.len()).min(MAX_PAGE as usize) as u32;
        let request = Request::Log(Log {
            name: name.clone(),
            before,
            limit: want,
        });
        match s.call(request)? {
            Response::Log { events: page, next } => {
                events.extend(page);
                match next {
                    Some(seq) => before = Some(seq),
                    None => break,
                }
            }
            other => return Err(unexpected(other)),
        }
    }
    events.reverse();
    Ok(Outcome::Log(name, events))
}

pub fn outbox(s: &mut Session) -> Result<Outcome, CtlError> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let request = Request::Outbox(Outbox {
            after: after.take(),
            limit: MAX_PAGE,
        });
        match s.call(request)? {
            Response::Outbox { messages, next } => {
                all.extend(messages);
                match next {
                    Some(n) => after = Some(n),
                    None => return Ok(Outcome::Outbox(all)),
                }
            }
            other => return Err(unexpected(other)),
        }
    }
}

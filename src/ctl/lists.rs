//! The listings that take more than one page (`list-users`, `outbox`, `log`): fetched
//! page by page (`pages`, the one paging loop) until the daemon says there is no more,
//! then shown at once. Also the portal sessions (`sessions`, one page: an account holds
//! a few at most) and ending them (`logout`).

use super::output::Outcome;
use super::session::Session;
use super::{unexpected, CtlError};
use authd_proto::protocol::{
    ListSessions, ListUsers, Log, Logout, Outbox, Request, Response, MAX_PAGE,
};

/// Up to `limit` items, a page at a time: `request` asks for the page after `cursor`
/// (`None`: the first) of at most the given size; `page` takes the items and the next
/// cursor out of the answer (no cursor: that was the last page).
fn pages<T, C>(
    s: &mut Session,
    limit: usize,
    mut request: impl FnMut(Option<C>, u32) -> Request,
    mut page: impl FnMut(Response) -> Result<(Vec<T>, Option<C>), CtlError>,
) -> Result<Vec<T>, CtlError> {
    let mut all = Vec::new();
    let mut cursor = None;
    while all.len() < limit {
        let want = (limit - all.len()).min(MAX_PAGE as usize) as u32;
        let (items, next) = page(s.call(request(cursor.take(), want))?)?;
        all.extend(items);
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(all)
}

pub fn list_users(s: &mut Session) -> Result<Outcome, CtlError> {
    let users = pages(
        s,
        usize::MAX,
        |after, limit| Request::ListUsers(ListUsers { after, limit }),
        |response| match response {
            Response::Users { names, next } => Ok((names, next)),
            other => Err(unexpected(other)),
        },
    )?;
    Ok(Outcome::Users(users))
}

/// The newest `limit` events, shown oldest first.
pub fn log(s: &mut Session, name: String, limit: u32) -> Result<Outcome, CtlError> {
    let mut events = pages(
        s,
        limit as usize,
        |before, limit| {
            Request::Log(Log {
                name: name.clone(),
                before,
                limit,
            })
        },
        |response| match response {
            Response::Log { events, next } => Ok((events, next)),
            other => Err(unexpected(other)),
        },
    )?;
    events.reverse();
    Ok(Outcome::Log(name, events))
}

pub fn outbox(s: &mut Session) -> Result<Outcome, CtlError> {
    let messages = pages(
        s,
        usize::MAX,
        |after, limit| Request::Outbox(Outbox { after, limit }),
        |response| match response {
            Response::Outbox { messages, next } => Ok((messages, next)),
            other => Err(unexpected(other)),
        },
    )?;
    Ok(Outcome::Outbox(messages))
}

pub fn sessions(s: &mut Session, name: String) -> Result<Outcome, CtlError> {
    let request = Request::ListSessions(ListSessions { name: name.clone() });
    match s.call(request)? {
        Response::Sessions { sessions } => Ok(Outcome::Sessions(name, sessions)),
        other => Err(unexpected(other)),
    }
}

pub fn logout(s: &mut Session, name: String, id: Option<u64>) -> Result<Outcome, CtlError> {
    let request = Request::Logout(Logout {
        name: name.clone(),
        id,
    });
    match s.call(request)? {
        Response::SessionsEnded { count } => Ok(Outcome::SessionsEnded {
            message: match (id, count) {
                (Some(id), _) => format!("ended portal session {id} of {name}"),
                (None, 1) => format!("ended 1 portal session of {name}"),
                (None, n) => format!("ended {n} portal sessions of {name}"),
            },
            count,
        }),
        other => Err(unexpected(other)),
    }
}

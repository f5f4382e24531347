//! Accounts for the scenarios, made over an admin connection before the clock starts:
//! plain `bench-NNNNNNN` accounts (add-user only, no password hashing), and accounts with
//! a password and an active TOTP secret.

use crate::client::{Client, ClientError, DEFAULT_TIMEOUT};
use crate::config::TotpConfig;
use crate::protocol::{
    AddUser, ConfirmTotp, EnableTotp, ErrorCode, Request, Response, Secret, SetPassword, StatusInfo,
};
use crate::totp;

/// The password of every account the bench gives one.
pub const PASSWORD: &str = "Bench-Horse-Battery-Staple-9";

pub type Setup = Result<(), ClientError>;

pub fn connect(socket: &std::path::Path) -> Result<Client, ClientError> {
    Client::connect(socket, "authd-bench", DEFAULT_TIMEOUT)
}

pub fn status(client: &mut Client) -> Result<StatusInfo, ClientError> {
    match client.call(&Request::Status)? {
        Response::Status(s) => Ok(s),
        other => Err(ClientError::Unexpected(format!("{other:?}"))),
    }
}

/// Create account `name`; one that exists already is fine.
pub fn add(client: &mut Client, name: &str) -> Setup {
    let request = Request::AddUser(AddUser {
        name: name.into(),
        email: None,
        phone: None,
        sso: None,
    });
    match client.call(&request) {
        Ok(_) => Ok(()),
        Err(ClientError::Remote(e)) if e.code == ErrorCode::Exists => Ok(()),
        Err(e) => Err(e),
    }
}

pub fn set_password(client: &mut Client, name: &str) -> Setup {
    let request = Request::SetPassword(SetPassword {
        name: name.into(),
        password: Secret::new(PASSWORD),
    });
    client.call(&request).map(|_| ())
}

/// The name of plain account `i`.
pub fn account(i: usize) -> String {
    format!("bench-{i:07}")
}

/// Run `work(connection, i)` for every i in 0..count on `parallel` admin connections
/// at once (i is spread round-robin); returns the results in order of i.
pub fn in_parallel<T: Send + 'static>(
    socket: &std::path::Path,
    count: usize,
    parallel: usize,
    work: impl Fn(&mut Client, usize) -> Result<T, ClientError> + Send + Sync + 'static,
) -> Result<Vec<T>, ClientError> {
    let parallel = parallel.clamp(1, 64);
    let work = std::sync::Arc::new(work);
    let threads: Vec<_> = (0..parallel)
        .map(|p| {
            let socket = socket.to_path_buf();
            let work = std::sync::Arc::clone(&work);
            std::thread::spawn(move || -> Result<Vec<T>, ClientError> {
                let mut client = connect(&socket)?;
                (p..count)
                    .step_by(parallel)
                    .map(|i| work(&mut client, i))
                    .collect()
            })
        })
        .collect();
    let mut lanes = Vec::with_capacity(parallel);
    for thread in threads {
        let lane = thread
            .join()
            .map_err(|_| ClientError::Unexpected("setup thread panicked".into()))??;
        lanes.push(lane.into_iter());
    }
    // Lane p holds p, p + parallel, ...: interleave them back into order.
    let mut all = Vec::with_capacity(count);
    for i in 0..count {
        all.extend(lanes[i % parallel].next());
    }
    Ok(all)
}

/// Create plain accounts 0..count, `parallel` connections at once.
pub fn populate(socket: &std::path::Path, count: usize, parallel: usize) -> Setup {
    in_parallel(socket, count, parallel, |client, i| {
        add(client, &account(i))
    })
    .map(|_| ())
}

/// An account with a password and an active TOTP secret: the raw secret and the step
/// its confirmation used (no code at or before it is accepted again).
pub struct Enrolled {
    pub name: String,
    pub secret: Vec<u8>,
    pub last_step: u64,
}

/// Create `name` with the bench password and confirm a TOTP secret for it.
pub fn enrol_totp(client: &mut Client, name: &str) -> Result<Enrolled, ClientError> {
    add(client, name)?;
    set_password(client, name)?;
    let Response::TotpEnrolment { secret, .. } = client.call(&Request::EnableTotp(EnableTotp {
        name: name.into(),
        proof: None,
    }))?
    else {
        return Err(ClientError::Unexpected("enable-totp".into()));
    };
    let raw = totp::base32_decode(secret.expose())
        .ok_or_else(|| ClientError::Unexpected("bad secret".into()))?;
    // The oldest step the window takes now (and still will when authd checks it): the
    // account then has the rest of the window for its logins.
    let config = TotpConfig::default();
    let step = *super::totp_pool::window(&config, crate::time::now()).start();
    let code = totp::code_at_step(&raw, &config, step);
    client.call(&Request::ConfirmTotp(ConfirmTotp {
        name: name.into(),
        code: Secret::new(code),
    }))?;
    Ok(Enrolled {
        name: name.into(),
        secret: raw,
        last_step: step,
    })
}

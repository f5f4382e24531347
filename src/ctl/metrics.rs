//! `authctl metrics` (the Prometheus text the daemon renders, printed as it is, or its
//! samples as JSON) and the same samples in `status --json`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::output::Outcome;
use super::session::Session;
use super::{unexpected, CtlError};
use authd_proto::protocol::{Request, Response};

/// One sample of the exposition: `name{labels} value`.
#[derive(Debug, Serialize)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

pub fn metrics(s: &mut Session) -> Result<Outcome, CtlError> {
    Ok(Outcome::Metrics(fetch(s)?))
}

/// The exposition text (admins only: anyone else gets `permission_denied`).
pub fn fetch(s: &mut Session) -> Result<String, CtlError> {
    match s.call(Request::Metrics)? {
        Response::Metrics { text } => Ok(text),
        other => Err(unexpected(other)),
    }
}

/// For `status`: the metrics when the daemon gives them (to an admin), else none (a
/// refusal, or a daemon that does not know the request). A broken connection is still an
/// error.
pub fn for_status(s: &mut Session) -> Result<Option<String>, CtlError> {
    match fetch(s) {
        Ok(text) => Ok(Some(text)),
        Err(CtlError::Client(e)) if e.remote_code().is_some() => Ok(None),
        Err(e) => Err(e),
    }
}

/// The samples of an exposition, in order (comment lines skipped).
pub fn samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(sample)
        .collect()
}

fn sample(line: &str) -> Option<Sample> {
    let (series, value) = line.rsplit_once(' ')?;
    let value: f64 = value.parse().ok()?;
    let (name, labels) = match series.split_once('{') {
        None => (series, BTreeMap::new()),
        Some((name, rest)) => (name, labels(rest.strip_suffix('}')?)?),
    };
    Some(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// `k="v",k2="v2"` with `\"` and `\\` escapes in the values.
fn labels(mut text: &str) -> Option<BTreeMap<String, String>> {
    let mut map = BTreeMap::new();
    while !text.is_empty() {
        let (key, rest) = text.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next()? {
                (_, '\\') => value.push(chars.next()?.1),
                (i, '"') => break i,
                (_, c) => value.push(c),
            }
        };
        map.insert(key.to_string(), value);
        text = rest[end + 1..].trim_start_matches(',');
    }
    Some(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_with_and_without_labels() {
        let text = "# HELP a_total x\n# TYPE a_total counter\na_total 3\n\
                    b{method=\"totp\",result=\"ok\"} 2\nc{le=\"+Inf\",q=\"a\\\"b\"} 1.5\n";
        let got = samples(text);
        assert_eq!(got.len(), 3);
        assert_eq!((got[0].name.as_str(), got[0].value), ("a_total", 3.0));
        assert_eq!(got[1].labels["method"], "totp");
        assert_eq!(got[1].labels["result"], "ok");
        assert_eq!(got[2].labels["q"], "a\"b");
        assert_eq!(got[2].value, 1.5);
    }
}

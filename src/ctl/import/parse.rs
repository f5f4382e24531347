//! Reading an import file: chpasswd lines or JSON lines, into `ImportEntry`s, with every
//! check that needs no daemon (`import_line`: names, addresses, numbers, provider
//! names, hash formats; and duplicates). The password policy and the accounts as they are stay the daemon's to
//! check. A line that fails is reported with its number, and nothing is sent.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::ctl::args::ImportFormat;
use crate::ctl::CtlError;
use crate::import_line::check_entry;
use authd_proto::protocol::{Change, ImportEntry, ImportPassword, Secret, MAX_IMPORT_LINES};

/// The provider name `"sso": true` stands for.
pub const DEFAULT_PROVIDER: &str = "sso";

fn bad(line: u64, why: impl std::fmt::Display) -> String {
    format!("line {line}: {why}")
}

/// Every entry of `text`, or the first bad line (`CtlError::Input`, exit 65).
pub fn parse(
    text: &str,
    format: ImportFormat,
    encrypted: bool,
) -> Result<Vec<ImportEntry>, CtlError> {
    let mut entries = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for (index, raw) in text.split('\n').enumerate() {
        let line = index as u64 + 1;
        let content = raw.strip_suffix('\r').unwrap_or(raw);
        if content.trim().is_empty() || content.starts_with('#') {
            continue;
        }
        let entry = match format {
            ImportFormat::Chpasswd => chpasswd(line, content, encrypted),
            ImportFormat::Jsonl => jsonl(line, content),
        }
        .and_then(|entry| check_entry(entry).map_err(|e| e.to_string()))
        .map_err(CtlError::Input)?;
        if let Some(first) = seen.insert(entry.name.clone(), line) {
            return Err(CtlError::Input(bad(
                line,
                format!("`{}` is on line {first} already", entry.name),
            )));
        }
        entries.push(entry);
        if entries.len() as u64 > MAX_IMPORT_LINES {
            return Err(CtlError::Input(format!(
                "more than {MAX_IMPORT_LINES} accounts in one import: split the file"
            )));
        }
    }
    Ok(entries)
}

fn entry(line: u64, name: String, password: Option<ImportPassword>) -> ImportEntry {
    ImportEntry {
        line,
        name,
        password,
        email: Change::Keep,
        phone: Change::Keep,
        sso: Change::Keep,
        disabled: None,
    }
}

/// `name:password`, or with `encrypted` `name:HASH` (the rest of a shadow line, from the
/// next `:` on, is ignored: a hash never holds one).
fn chpasswd(line: u64, content: &str, encrypted: bool) -> Result<ImportEntry, String> {
    let Some((name, rest)) = content.split_once(':') else {
        return Err(bad(line, "expected name:password (no `:` found)"));
    };
    let password = if encrypted {
        let hash = rest.split(':').next().unwrap_or_default();
        ImportPassword::Hashed(Secret::new(hash))
    } else {
        ImportPassword::Plain(Secret::new(rest))
    };
    Ok(entry(line, name.to_string(), Some(password)))
}

fn string(line: u64, key: &str, value: Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(bad(
            line,
            format!("\"{key}\" must be a string, not {other}"),
        )),
    }
}

/// A field that may also be `null` (remove it).
fn change(line: u64, key: &str, value: Option<Value>) -> Result<Change<String>, String> {
    match value {
        None => Ok(Change::Keep),
        Some(Value::Null) => Ok(Change::Clear),
        Some(value) => string(line, key, value).map(Change::Set),
    }
}

/// One JSON object: name, password or password_hash, email, phone, sso, disabled.
fn jsonl(line: u64, content: &str) -> Result<ImportEntry, String> {
    let mut object: Map<String, Value> = match serde_json::from_str(content) {
        Ok(Value::Object(object)) => object,
        Ok(_) => return Err(bad(line, "expected a JSON object")),
        Err(e) => return Err(bad(line, format!("not JSON: {e}"))),
    };
    let mut take = |key: &str| object.remove(key);
    let name = match take("name") {
        Some(value) => string(line, "name", value)?,
        None => return Err(bad(line, "\"name\" is missing")),
    };
    let password = match (take("password"), take("password_hash")) {
        (Some(_), Some(_)) => {
            return Err(bad(
                line,
                "give \"password\" or \"password_hash\", not both",
            ))
        }
        (Some(pw), None) => Some(ImportPassword::Plain(Secret::new(string(
            line, "password", pw,
        )?))),
        (None, Some(hash)) => Some(ImportPassword::Hashed(Secret::new(string(
            line,
            "password_hash",
            hash,
        )?))),
        (None, None) => None,
    };
    let mut parsed = entry(line, name, password);
    parsed.email = change(line, "email", take("email"))?;
    parsed.phone = change(line, "phone", take("phone"))?;
    parsed.sso = match take("sso") {
        None => Change::Keep,
        Some(Value::Bool(true)) => Change::Set(DEFAULT_PROVIDER.into()),
        Some(Value::Bool(false)) => Change::Clear,
        Some(Value::String(provider)) => Change::Set(provider),
        Some(other) => {
            return Err(bad(
                line,
                format!("\"sso\" must be true, false or a provider name, not {other}"),
            ))
        }
    };
    parsed.disabled = match take("disabled") {
        None => None,
        Some(Value::Bool(b)) => Some(b),
        Some(other) => {
            return Err(bad(
                line,
                format!("\"disabled\" must be true or false, not {other}"),
            ))
        }
    };
    if let Some(key) = object.keys().next() {
        return Err(bad(line, format!("unknown field \"{key}\"")));
    }
    Ok(parsed)
}

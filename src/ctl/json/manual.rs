//! authctl(1) JSON OUTPUT read back: which fields each object documents, and a check
//! that a printed object has exactly those (recursively). The tests hold authctl's
//! output to the page with it (`json::tests`, `tests/integration/json_output.rs`);
//! authctl itself never reads its man page.
//!
//! The page writes each object as `.SS NAME`, then one `.TP` entry per field whose first
//! line is `.BR FIELD " TYPE"`; a TYPE naming another object does so in italics
//! (`array of \fIkey\fR`), and a field that may be left out says `optional`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// One documented field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    /// The object it holds (or holds a list of), when the type names one.
    pub object: Option<String>,
    pub optional: bool,
}

/// Every object of the JSON OUTPUT section, by name.
pub fn objects(page: &str) -> BTreeMap<String, Vec<Field>> {
    let section = page
        .split("\n.SH JSON OUTPUT\n")
        .nth(1)
        .and_then(|rest| rest.split("\n.SH ").next())
        .unwrap_or_default();
    let mut objects = BTreeMap::new();
    for block in section.split("\n.SS ").skip(1) {
        let mut lines = block.lines();
        let name = lines.next().unwrap_or_default().trim().trim_matches('"');
        let mut fields = Vec::new();
        let mut after_tp = false;
        for line in lines {
            if after_tp {
                if let Some(field) = field(line) {
                    fields.push(field);
                }
            }
            after_tp = line == ".TP";
        }
        objects.insert(name.to_string(), fields);
    }
    objects
}

/// `.BR name " type"`.
fn field(line: &str) -> Option<Field> {
    let rest = line.strip_prefix(".BR ")?;
    let (name, kind) = rest.split_once(' ')?;
    let kind = kind.trim().trim_matches('"');
    let object = kind
        .split("\\fI")
        .nth(1)
        .and_then(|r| r.split("\\fR").next());
    Some(Field {
        name: name.replace("\\-", "-"),
        object: object.map(str::to_string),
        optional: kind.contains("optional"),
    })
}

/// Check that `value` is the object `name` with exactly its documented fields, and the
/// objects inside it likewise; add the name of every object checked to `seen`.
pub fn check(
    value: &Value,
    name: &str,
    objects: &BTreeMap<String, Vec<Field>>,
    seen: &mut BTreeSet<String>,
) -> Result<(), String> {
    let fields = objects
        .get(name)
        .ok_or_else(|| format!("authctl(1) JSON OUTPUT has no object `{name}`"))?;
    let map = value
        .as_object()
        .ok_or_else(|| format!("`{name}` is not an object: {value}"))?;
    seen.insert(name.to_string());
    let printed: BTreeSet<&str> = map.keys().map(String::as_str).collect();
    let documented: BTreeSet<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    let required: BTreeSet<&str> = fields
        .iter()
        .filter(|f| !f.optional)
        .map(|f| f.name.as_str())
        .collect();
    let undocumented: Vec<_> = printed.difference(&documented).collect();
    let missing: Vec<_> = required.difference(&printed).collect();
    if !undocumented.is_empty() || !missing.is_empty() {
        return Err(format!(
            "`{name}`: printed but not documented {undocumented:?}, documented but not \
             printed {missing:?}, in {value}"
        ));
    }
    for field in fields {
        let (Some(inner), Some(v)) = (&field.object, map.get(&field.name)) else {
            continue;
        };
        match v {
            Value::Array(items) => {
                for item in items {
                    check(item, inner, objects, seen)?;
                }
            }
            Value::Null => {}
            v => check(v, inner, objects, seen)?,
        }
    }
    Ok(())
}

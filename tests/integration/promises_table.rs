//! docs/TESTING.md, "Promises and their tests", names a test for every promise; this
//! keeps the names true: each one must still exist, so a renamed or removed test fails
//! here instead of leaving a promise silently untested.

use std::path::{Path, PathBuf};

const SECTION: &str = "## Promises and their tests";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `a::b` names in backticks in the section's table rows.
fn named_tests() -> Vec<String> {
    let doc = std::fs::read_to_string(root().join("docs/TESTING.md")).unwrap();
    let start = doc
        .find(SECTION)
        .expect("no promise table in docs/TESTING.md");
    let rest = &doc[start + SECTION.len()..];
    let section = &rest[..rest.find("\n## ").unwrap_or(rest.len())];
    let rows: Vec<&str> = section.lines().filter(|l| l.starts_with('|')).collect();
    rows.join("\n")
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            s.contains("::")
                && s.split("::").all(|p| {
                    p == "*"
                        || (!p.is_empty()
                            && p.bytes()
                                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
                })
        })
        .map(str::to_string)
        .collect()
}

/// Every `.rs` file below `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    found
}

/// A module of a PAM test binary (`pamtester::logins::NAME`).
fn pam_module(binary: &str, module: &str) -> PathBuf {
    root().join(format!("pam/tests/{binary}/{module}.rs"))
}

fn defines(file: &Path, test: &str) -> bool {
    std::fs::read_to_string(file).is_ok_and(|text| text.contains(&format!("fn {test}(")))
}

#[test]
fn every_test_the_promise_table_names_exists() {
    let names = named_tests();
    assert!(names.len() > 100, "only {} names found", names.len());
    let unit_sources: Vec<PathBuf> = sources(&root().join("src"))
        .into_iter()
        .chain(sources(&root().join("proto/src")))
        .chain(sources(&root().join("pam/src")))
        .chain(sources(&root().join("web/src")))
        .collect();
    let missing: Vec<&String> = names
        .iter()
        .filter(|name| {
            let parts: Vec<&str> = name.split("::").collect();
            match parts.as_slice() {
                // An integration test file, the PAM tests or authd-web's.
                [file, test] => {
                    let candidates = [
                        root().join(format!("tests/integration/{file}.rs")),
                        root().join(format!("pam/tests/{file}.rs")),
                        root().join(format!("web/tests/{file}.rs")),
                    ];
                    !candidates
                        .iter()
                        .any(|f| f.exists() && (*test == "*" || defines(f, test)))
                }
                // A module of a PAM test binary: `pam/tests/BINARY/MODULE.rs`.
                [binary, module, test] if pam_module(binary, module).exists() => {
                    !defines(&pam_module(binary, module), test)
                }
                // A unit test: `module::tests::name` somewhere in the sources.
                [.., test] => !unit_sources.iter().any(|f| defines(f, test)),
                [] => true,
            }
        })
        .collect();
    assert!(
        missing.is_empty(),
        "docs/TESTING.md names tests that do not exist (renamed? update the table): {missing:#?}"
    );
}

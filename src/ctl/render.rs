//! How authctl renders the items of a list or a report as text for a terminal, every
//! foreign string escaped: security keys, portal sessions, outbox messages, audit events,
//! and the reports of `import-google-authenticator` and `outbox retry|purge`. `output`
//! puts them together; their `--json` objects are in `json`.

use authd_proto::escape::escaped;
use authd_proto::protocol::{AuditEntry, KeyInfo, OutboxEntry, SessionInfo};
use authd_proto::time;

pub(super) fn imported_text(
    name: &str,
    recovery_codes: u32,
    replaced: bool,
    ignored: &[String],
) -> String {
    let name = escaped(name);
    let mut text = format!(
        "{name}: authenticator app {} with the google-authenticator secret (the phone's \
         codes work as before); {recovery_codes} scratch codes added as recovery codes",
        if replaced { "replaced" } else { "turned on" }
    );
    if !ignored.is_empty() {
        let names: Vec<_> = ignored.iter().map(|o| escaped(o)).collect();
        text.push_str(&format!(
            "\nnot taken over (authd's [lockout] and [totp] skew apply): {}",
            names.join(", ")
        ));
    }
    if recovery_codes == 0 {
        text.push_str(&format!(
            "\nthe file had no scratch codes: make recovery codes with \
             `authctl recovery-codes {name} --regenerate`"
        ));
    }
    text
}

pub(super) fn outbox_changed_text(action: &str, count: u32, dropped: u32) -> String {
    let messages = |n: u32| if n == 1 { "message" } else { "messages" };
    match action {
        "retry" => {
            let queued = count - dropped;
            let mut text = format!("{queued} {} queued again", messages(queued));
            if dropped > 0 {
                text.push_str(&format!(
                    "; {dropped} SMS login {} dropped: the code's validity had passed \
                     (send a new one with `authctl send-code USER`)",
                    if dropped == 1 { "code" } else { "codes" }
                ));
            }
            text
        }
        _ => format!("{count} {} removed from the outbox", messages(count)),
    }
}

pub(super) fn key_text(k: &KeyInfo) -> String {
    let last = k.last_used.map_or("never used".to_string(), |t| {
        format!("last used {}", time::format(t))
    });
    format!(
        "{}  {}  registered {}, {last}",
        escaped(&k.id),
        escaped(&k.name),
        time::format(k.created)
    )
}

pub(super) fn session_text(s: &SessionInfo) -> String {
    format!(
        "{:>6}  created {}  last used {}  expires {}{}{}",
        s.id,
        time::format(s.created),
        time::format(s.last_used),
        time::format(s.expires),
        if s.origin.is_empty() { "" } else { "  " },
        escaped(&s.origin)
    )
}

pub(super) fn outbox_text(m: &OutboxEntry) -> String {
    let state = match m.delivered {
        Some(at) => format!("delivered {}", time::format(at)),
        None if m.failed => "failed".to_string(),
        None => format!("queued, next try {}", time::format(m.next_attempt)),
    };
    let mut line = format!(
        "{:>6}  {}  {} {} -> {}  \"{}\"  {}, {}",
        m.id,
        time::format(m.created),
        escaped(&m.channel),
        escaped(&m.account),
        escaped(&m.to),
        escaped(&m.subject),
        crate::words::count(m.attempts, "attempt", "attempts"),
        state
    );
    if let Some(e) = &m.last_error {
        line.push_str(&format!("\n        last error: {}", escaped(e)));
    }
    line
}

/// `log`: one line per event, columns as wide as their widest entry (an action such as
/// `recovery-codes-regenerated` or the outcome `permission-denied` keeps the rest aligned).
pub(super) fn log_text(events: &[AuditEntry]) -> String {
    let rows: Vec<[String; 4]> = events
        .iter()
        .map(|e| {
            [
                escaped(&e.action).into_owned(),
                escaped(&e.outcome).into_owned(),
                escaped(&e.actor).into_owned(),
                escaped(&e.detail).into_owned(),
            ]
        })
        .collect();
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (action, outcome, actor) = (width(0), width(1), width(2));
    events
        .iter()
        .zip(&rows)
        .map(|(e, [a, o, who, detail])| {
            let line = format!(
                "{}  {a:<action$}  {o:<outcome$}  {who:<actor$}  {detail}",
                time::format(e.at)
            );
            line.trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

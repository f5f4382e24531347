//! Text that came from somewhere else (stored records, an SMTP server, an SMS gateway, a
//! client's request, the daemon's messages), made safe to show on a terminal or in a
//! message: one rule, used by authctl's text output, by the messages authd sends back,
//! and by the audit details it stores.
//!
//! A terminal acts on control characters (ESC starts sequences that move the cursor, set
//! the window title or clear the screen; C1 controls such as U+009B do the same on some
//! terminals), and bidirectional formatting characters reorder what is shown, so
//! `evil\u{202e}gro.elpmaxe` reads as something else. Such characters, and the invisible
//! and white-space characters that hide or fake text, are shown as visible escapes:
//! `\n`, `\r`, `\t`, `\xNN` for the other C0 controls, DEL and the C1 controls, and
//! `\u{NNNN}` for the rest. Everything else, including a backslash, stays as it is, so
//! escaping is idempotent (text escaped once, by the daemon, is unchanged when authctl
//! escapes it again); the exact text is what `--json` gives.
//!
//! Nothing here logs, allocates when nothing needs escaping, or touches the store.

use std::borrow::Cow;

/// The bidirectional formatting characters: marks, embeddings, overrides and isolates.
pub fn is_bidi(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Other invisible format characters (zero-width, joiners, fillers, tags, selectors).
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2065}'
        | '\u{206A}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}' | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}')
}

/// Characters shown escaped: controls (C0, DEL, C1), bidi and invisible formatting
/// characters, and white space other than a plain space.
pub fn needs_escape(c: char) -> bool {
    c.is_control() || is_bidi(c) || is_invisible(c) || (c.is_whitespace() && c != ' ')
}

/// `text` with every character that `needs_escape` shown as a visible escape; borrowed
/// when there is nothing to escape.
pub fn escaped(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // The controls (C0, DEL, C1) all lie below U+0100: two hex digits.
            c if c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// At most `max` characters of `text`, escaped, and how much was left out: for caller-
/// supplied text in log lines and stored details, whose size the caller chose.
pub fn clipped(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => escaped(text).into_owned(),
        Some((cut, _)) => format!(
            "{}... ({} more bytes)",
            escaped(&text[..cut]),
            text.len() - cut
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn clipped_keeps_a_short_escaped_prefix_and_says_what_was_left_out() {
        assert_eq!(clipped("alice", 8), "alice");
        assert_eq!(clipped("\u{1b}[2J", 8), "\\x1b[2J");
        let long = "\u{1b}".repeat(60_000);
        let shown = clipped(&long, 4);
        assert_eq!(shown, "\\x1b\\x1b\\x1b\\x1b... (59996 more bytes)");
    }

    #[test]
    fn terminal_controls_become_visible() {
        assert_eq!(
            escaped("a\u{1b}[2J\u{1b}]0;title\u{7}b"),
            "a\\x1b[2J\\x1b]0;title\\x07b"
        );
        assert_eq!(
            escaped("x\u{9b}31m\u{85}\u{7f}\0"),
            "x\\x9b31m\\x85\\x7f\\x00"
        );
        assert_eq!(escaped("one\ntwo\r\tthree"), "one\\ntwo\\r\\tthree");
    }

    #[test]
    fn bidi_invisible_and_odd_spaces_become_visible() {
        assert_eq!(
            escaped("a\u{202E}gro.elpmaxe\u{2066}\u{2069}\u{061C}\u{200E}\u{200F}"),
            "a\\u{202e}gro.elpmaxe\\u{2066}\\u{2069}\\u{61c}\\u{200e}\\u{200f}"
        );
        assert_eq!(
            escaped("a\u{200B}b\u{A0}c\u{2028}d\u{FEFF}"),
            "a\\u{200b}b\\u{a0}c\\u{2028}d\\u{feff}"
        );
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for text in ["alice@example.org", "Bücher ö 日本 \\x1b", "a b", ""] {
            assert!(matches!(escaped(text), Cow::Borrowed(t) if t == text));
        }
    }

    proptest! {
        #[test]
        fn nothing_hidden_survives_and_escaping_twice_changes_nothing(text in any::<String>()) {
            let once = escaped(&text).into_owned();
            prop_assert!(!once.chars().any(needs_escape), "{:?}", once);
            prop_assert_eq!(escaped(&once), once.as_str());
        }

        #[test]
        fn text_without_backslashes_reads_back_exactly(text in "[^\\\\]*") {
            prop_assert_eq!(unescape(&escaped(&text)), text);
        }
    }

    /// The inverse, for the round-trip test (escaped text holds no `\` of its own there).
    fn unescape(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(i) = rest.find('\\') {
            out.push_str(&rest[..i]);
            let tail = &rest[i + 1..];
            let (c, used) = match tail.as_bytes()[0] {
                b'n' => ('\n', 1),
                b'r' => ('\r', 1),
                b't' => ('\t', 1),
                b'x' => (char::from(u8::from_str_radix(&tail[1..3], 16).unwrap()), 3),
                _ => {
                    let end = tail.find('}').unwrap();
                    let n = u32::from_str_radix(&tail[2..end], 16).unwrap();
                    (char::from_u32(n).unwrap(), end + 1)
                }
            };
            out.push(c);
            rest = &tail[used..];
        }
        out.push_str(rest);
        out
    }
}

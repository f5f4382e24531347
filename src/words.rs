//! Small rules for English in messages, so each is written once.

/// `1 attempt`, `3 attempts`: `n` with the noun in the right number.
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A sentence from elsewhere (zxcvbn's feedback: "Add another word or two.") continued
/// inside ours: no final full stop, the first letter in lower case.
pub fn clause(sentence: &str) -> String {
    let trimmed = sentence.trim().trim_end_matches('.');
    let mut chars = trimmed.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_clauses() {
        assert_eq!(count(1u32, "attempt", "attempts"), "1 attempt");
        assert_eq!(count(0u32, "attempt", "attempts"), "0 attempts");
        assert_eq!(count(3u32, "attempt", "attempts"), "3 attempts");
        assert_eq!(
            clause("Add another word or two. Uncommon words are better."),
            "add another word or two. Uncommon words are better"
        );
        assert_eq!(
            clause("This is a top-10 common password."),
            "this is a top-10 common password"
        );
        assert_eq!(clause(""), "");
    }
}

//! The store's trees, declared once: each one's name in sled and its number in a backup
//! file. The store opens them by these names, a snapshot writes their records under these
//! numbers and a restore reads them back by the same numbers, so no two lists have to
//! agree by position. The numbers are part of the backup format (`backup`): a new tree
//! takes the next number, and none is ever renumbered.

/// A tree a backup holds; its discriminant is its number in the backup file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Tree {
    /// Account name -> `Account`.
    Accounts = 0,
    /// Account name, NUL, big-endian sequence -> `AuditEntry`.
    Audit = 1,
    /// Schema version, account and outbox counts, store id, generation, key check value.
    Meta = 2,
    /// Keyed hash of a token -> `ResetToken`.
    ResetTokens = 3,
    /// Big-endian id -> `OutboxItem`.
    Outbox = 4,
}

/// The index of queued messages by channel and due time (see `outbox.rs`): derived from
/// `Tree::Outbox` and rebuilt at every open, so it is in no backup and has no number.
pub const OUTBOX_DUE: &str = "outbox_due";

impl Tree {
    /// Every tree a backup holds, in the order of their numbers (the order of a backup).
    pub const ALL: [Tree; 5] = [
        Tree::Accounts,
        Tree::Audit,
        Tree::Meta,
        Tree::ResetTokens,
        Tree::Outbox,
    ];

    /// Its name in sled.
    pub const fn name(self) -> &'static str {
        match self {
            Tree::Accounts => "accounts",
            Tree::Audit => "audit",
            Tree::Meta => "meta",
            Tree::ResetTokens => "reset_tokens",
            Tree::Outbox => "outbox",
        }
    }

    /// Its number in a backup file.
    pub const fn number(self) -> u8 {
        self as u8
    }

    /// The tree a backup record's number names, if any.
    pub fn from_number(number: u8) -> Option<Tree> {
        Tree::ALL.get(usize::from(number)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The backup format's tree numbers and the sled names, as authd at schema 1 has
    /// always written them: a backup made before must restore, a store made before must
    /// open.
    #[test]
    fn names_and_numbers_are_those_of_every_existing_store_and_backup() {
        let declared: Vec<(u8, &str)> = Tree::ALL.iter().map(|t| (t.number(), t.name())).collect();
        assert_eq!(
            declared,
            [
                (0, "accounts"),
                (1, "audit"),
                (2, "meta"),
                (3, "reset_tokens"),
                (4, "outbox")
            ]
        );
        for tree in Tree::ALL {
            assert_eq!(Tree::from_number(tree.number()), Some(tree));
        }
        assert_eq!(Tree::from_number(5), None);
        assert_eq!(Tree::from_number(0xFF), None);
    }
}

//! The store's trees, declared once: each one's name in sled and, for those a backup
//! holds, its number in the backup file. The store opens them by these names and stages
//! changes by them, a snapshot writes their records under these numbers and a restore
//! reads them back by the same numbers, so no two lists have to agree by position. The
//! numbers are part of the backup format (`backup`): a new tree takes the next free
//! number, and none is ever renumbered.

/// One record with its tree, as a migration carries it: (tree, key, value).
pub type TreeRecord = (Tree, Vec<u8>, Vec<u8>);

/// A tree of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tree {
    /// Account name -> `Account`.
    Accounts,
    /// Account name, NUL, big-endian sequence -> `AuditEntry`.
    Audit,
    /// Schema version, account and outbox counts, store id, generation, key check value.
    Meta,
    /// Keyed hash of a password-reset token -> `ResetToken`.
    Tokens,
    /// Big-endian id -> `OutboxItem`.
    Outbox,
    /// The queued messages by channel and due time (see `outbox.rs`): derived from
    /// `Outbox` and rebuilt at every open, so no backup holds it.
    OutboxDue,
}

impl Tree {
    /// Every tree.
    pub const ALL: [Tree; 6] = [
        Tree::Accounts,
        Tree::Audit,
        Tree::Meta,
        Tree::Tokens,
        Tree::Outbox,
        Tree::OutboxDue,
    ];

    /// Its name in sled.
    pub const fn name(self) -> &'static str {
        match self {
            Tree::Accounts => "accounts",
            Tree::Audit => "audit",
            Tree::Meta => "meta",
            Tree::Tokens => "reset_tokens",
            Tree::Outbox => "outbox",
            Tree::OutboxDue => "outbox_due",
        }
    }

    /// Its number in a backup file; `None` for a tree no backup holds.
    pub const fn backup_number(self) -> Option<u8> {
        match self {
            Tree::Accounts => Some(0),
            Tree::Audit => Some(1),
            Tree::Meta => Some(2),
            Tree::Tokens => Some(3),
            Tree::Outbox => Some(4),
            Tree::OutboxDue => None,
        }
    }

    /// The tree a backup record's number names, if any.
    pub fn from_backup_number(number: u8) -> Option<Tree> {
        Tree::ALL
            .into_iter()
            .find(|tree| tree.backup_number() == Some(number))
    }

    /// The trees a backup holds with their numbers, in the order of the numbers (the
    /// order of a backup file).
    pub fn backed_up() -> impl Iterator<Item = (u8, Tree)> {
        (0..=u8::MAX).map_while(|n| Tree::from_backup_number(n).map(|tree| (n, tree)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names and backup numbers authd at schema 1 has always used: a store made
    /// before must open, a backup made before must restore.
    #[test]
    fn names_and_numbers_are_those_of_every_existing_store_and_backup() {
        let named: Vec<(&str, Option<u8>)> = Tree::ALL
            .iter()
            .map(|t| (t.name(), t.backup_number()))
            .collect();
        assert_eq!(
            named,
            [
                ("accounts", Some(0)),
                ("audit", Some(1)),
                ("meta", Some(2)),
                ("reset_tokens", Some(3)),
                ("outbox", Some(4)),
                ("outbox_due", None),
            ]
        );
        let backed_up: Vec<(u8, Tree)> = Tree::backed_up().collect();
        assert_eq!(
            backed_up,
            [
                (0, Tree::Accounts),
                (1, Tree::Audit),
                (2, Tree::Meta),
                (3, Tree::Tokens),
                (4, Tree::Outbox),
            ]
        );
        assert_eq!(Tree::from_backup_number(5), None);
        assert_eq!(Tree::from_backup_number(0xFF), None);
    }
}

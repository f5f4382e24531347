-- authd's PostgreSQL store, schema version 1 (see src/store/postgres/schema.rs).
-- Records are the same versioned bincode bytes the sled store keeps; the columns beside
-- them are the keys the queries need. Applied by authd itself, in one transaction under
-- an advisory lock; never edit a migration that has shipped, add the next one.

-- Single values: the store id, the secret key's check value.
CREATE TABLE meta (
    key   text PRIMARY KEY,
    value bytea NOT NULL
);

-- Counts kept in the transactions that change what they count (`status`).
CREATE TABLE counters (
    name  text PRIMARY KEY,
    value bigint NOT NULL
);
INSERT INTO counters (name, value) VALUES ('accounts', 0), ('outbox_queued', 0), ('outbox_failed', 0);

-- Account name -> `Account`; names in byte order, as sled lists them.
CREATE TABLE accounts (
    name   text COLLATE "C" PRIMARY KEY,
    record bytea NOT NULL
);

-- Each account's bounded history: (name, seq) -> `AuditEntry`.
CREATE TABLE audit (
    name   text COLLATE "C" NOT NULL,
    seq    bigint NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (name, seq)
);

-- Keyed hash of a password-reset token -> `ResetToken`.
CREATE TABLE reset_tokens (
    hash   bytea PRIMARY KEY,
    record bytea NOT NULL
);

-- The outbox shared by every daemon: a courier claims a due message (FOR UPDATE SKIP
-- LOCKED, then a lease in claimed_until, unix seconds) and settles it when done.
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    kind          smallint NOT NULL,
    failed        boolean NOT NULL,
    next_attempt  bigint NOT NULL,
    claimed_until bigint,
    record        bytea NOT NULL
);
CREATE INDEX outbox_due ON outbox (kind, next_attempt, id) WHERE NOT failed;

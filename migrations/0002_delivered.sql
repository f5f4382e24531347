-- authd's PostgreSQL store, schema version 2: delivered messages are kept, without
-- their bodies, for `outbox.keep_delivered` (`authctl outbox purge --delivered-before`).
-- `delivered` is when (unix seconds); such a row is never claimed again and counts
-- neither as queued nor as failed.
ALTER TABLE outbox ADD COLUMN delivered bigint;
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (kind, next_attempt, id) WHERE NOT failed AND delivered IS NULL;
CREATE INDEX outbox_delivered ON outbox (delivered) WHERE delivered IS NOT NULL;

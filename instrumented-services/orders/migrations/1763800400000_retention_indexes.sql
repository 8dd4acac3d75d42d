-- Up Migration

-- The retention job deletes in batches of the oldest rows past their retention: without these, each batch would
-- scan the table (and the dead rows the batches before it left).
CREATE INDEX outbox_sent_at_idx ON outbox (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

-- Down Migration

DROP INDEX idempotency_keys_created_at_idx;
DROP INDEX outbox_sent_at_idx;

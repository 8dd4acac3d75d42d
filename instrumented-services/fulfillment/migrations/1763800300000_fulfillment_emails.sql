-- Up Migration

-- One row per order event whose confirmation e-mail was sent, keyed by the event's message id: a redelivered
-- event (at-least-once delivery, a DLQ replay, a restart) finds its row and sends nothing. No foreign key to
-- orders: that table belongs to the orders service's migrations.
CREATE TABLE IF NOT EXISTS fulfillment_emails (
  message_id text        PRIMARY KEY,
  order_id   bigint      NOT NULL,
  sent_at    timestamptz NOT NULL DEFAULT now()
);

-- Down Migration

DROP TABLE fulfillment_emails;

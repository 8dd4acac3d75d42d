-- Up Migration

CREATE TABLE orders (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  client_id      text        NOT NULL,
  customer_email text        NOT NULL,
  status         text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'failed')),
  total_cents    bigint      NOT NULL CHECK (total_cents >= 0),
  currency       char(3)     NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE order_items (
  order_id         bigint  NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  product_id       bigint  NOT NULL,
  quantity         integer NOT NULL CHECK (quantity > 0),
  unit_price_cents integer NOT NULL CHECK (unit_price_cents >= 0),
  PRIMARY KEY (order_id, product_id)
);

-- Idempotency keys are scoped per client: two clients may use the same key for different orders.
CREATE TABLE idempotency_keys (
  client_id    text        NOT NULL,
  key          text        NOT NULL,
  request_hash text        NOT NULL,
  order_id     bigint      REFERENCES orders (id),
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (client_id, key)
);

-- Transactional outbox: written in the order's transaction, relayed to RabbitMQ, marked sent once confirmed.
CREATE TABLE outbox (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  routing_key  text        NOT NULL,
  payload      jsonb       NOT NULL,
  headers      jsonb       NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL DEFAULT now(),
  sent_at      timestamptz
);
CREATE INDEX outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL;

-- Down Migration

DROP TABLE outbox;
DROP TABLE idempotency_keys;
DROP TABLE order_items;
DROP TABLE orders;

-- Up Migration

-- pg_trgm is a trusted extension (PostgreSQL >= 13): the database owner may create it without superuser.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE products (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sku         text        NOT NULL,
  name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text        NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
  category    text        NOT NULL CHECK (length(category) BETWEEN 1 AND 50),
  price_cents integer     NOT NULL CHECK (price_cents >= 0),
  currency    char(3)     NOT NULL DEFAULT 'USD',
  stock       integer     NOT NULL DEFAULT 0 CHECK (stock >= 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT products_sku_key UNIQUE (sku)
);

-- Search: `name ILIKE '%term%'` is served by a trigram GIN index; browsing a category by a composite index that
-- also gives the `ORDER BY id` of the paginated listing.
CREATE INDEX products_name_trgm_idx ON products USING gin (name gin_trgm_ops);
CREATE INDEX products_category_id_idx ON products (category, id);

-- Down Migration

DROP TABLE products;

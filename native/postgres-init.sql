-- One database per service owner (catalog; orders, shared with fulfillment), created on the first start of the
-- Postgres container. The native stack creates the same databases itself.
CREATE DATABASE catalog;
CREATE DATABASE orders;

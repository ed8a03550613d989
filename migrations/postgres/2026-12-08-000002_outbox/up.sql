-- The outbox: one row per admin event that changes what a credential may do (client,
-- secret, service account, role), written in the same transaction as the change. Every
-- node reads it as its change feed (docs/architecture.md, "Credential freshness") and drops
-- exactly the cached credentials a row names; rows go after cache.change_feed_retention_seconds.
-- Appended only under the admin lock, so seq grows in commit order on PostgreSQL too.
CREATE TABLE outbox (
    seq         BIGSERIAL PRIMARY KEY,
    event       TEXT NOT NULL,                -- client.changed, secret.revoked, role.deleted, …
    subject     TEXT NOT NULL,                -- client | service_account | role
    subject_id  TEXT NOT NULL,                -- its client_id, id or name
    occurred_at BIGINT NOT NULL
);
CREATE INDEX outbox_occurred_at ON outbox(occurred_at);

-- RFC 7009 revocation: access tokens revoked by their client, kept until they expire.
-- Introspection answers active:false for these; local validators see them only through
-- introspection (docs/security.md).
CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY NOT NULL,
    client_id  TEXT NOT NULL,
    expires_at BIGINT NOT NULL,          -- the token's exp; the row may go after it
    revoked_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expires_at ON revoked_tokens(expires_at);

-- Gatepass initial schema (SQLite). Portable types only (TEXT, BIGINT, BOOLEAN, BLOB):
-- timestamps are BIGINT seconds since the Unix epoch (UTC) on every backend.

CREATE TABLE roles (
    name        TEXT PRIMARY KEY NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    scopes      TEXT NOT NULL,               -- space-separated scope tokens
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE service_accounts (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    disabled    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE service_account_roles (
    service_account_id TEXT NOT NULL REFERENCES service_accounts(id) ON DELETE CASCADE,
    role_name          TEXT NOT NULL REFERENCES roles(name) ON DELETE CASCADE,
    PRIMARY KEY (service_account_id, role_name)
);

CREATE TABLE clients (
    client_id          TEXT PRIMARY KEY NOT NULL,
    name               TEXT NOT NULL UNIQUE,
    service_account_id TEXT REFERENCES service_accounts(id) ON DELETE RESTRICT,
    scopes             TEXT NOT NULL,        -- space-separated scope tokens
    audiences          TEXT NOT NULL,        -- space-separated audiences
    labels             TEXT NOT NULL DEFAULT '{}', -- JSON object of string → string
    token_ttl_seconds  BIGINT,
    disabled           BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at         BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    last_used_at       BIGINT
);
CREATE INDEX clients_service_account_id ON clients(service_account_id);

CREATE TABLE client_secrets (
    id           TEXT PRIMARY KEY NOT NULL,
    client_id    TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    secret_hash  BLOB NOT NULL UNIQUE,       -- HMAC-SHA256(pepper, secret); never the secret
    key_prefix   TEXT NOT NULL,
    label        TEXT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    last_used_at BIGINT,
    use_count    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX client_secrets_client_id ON client_secrets(client_id);

CREATE TABLE signing_keys (
    kid                TEXT PRIMARY KEY NOT NULL,
    algorithm          TEXT NOT NULL,        -- ES256 | EdDSA
    public_jwk         TEXT NOT NULL,        -- JSON
    private_key        BLOB NOT NULL,        -- AES-256-GCM(nonce || ciphertext) of the PKCS#8 document
    master_key_id      TEXT NOT NULL,        -- which master key encrypted private_key
    created_at         BIGINT NOT NULL,
    activates_at       BIGINT NOT NULL,      -- signs from here on (published from created_at)
    retires_at         BIGINT,               -- stops signing here
    expires_at         BIGINT                -- leaves the JWKS here
);

CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY NOT NULL,   -- UUIDv7, sorts by time
    occurred_at BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT,
    outcome     TEXT NOT NULL,               -- success | failure
    reason      TEXT,
    request_id  TEXT,
    source_addr TEXT,
    details     TEXT                         -- JSON
);
CREATE INDEX audit_events_occurred_at ON audit_events(occurred_at);
CREATE INDEX audit_events_target ON audit_events(target);

-- Named locks: a transaction that updates a row here holds that name until it ends, on
-- SQLite (the database write lock) and PostgreSQL (a row lock) alike. Used so that two
-- nodes can not change the signing-key schedule at once.
CREATE TABLE locks (
    name       TEXT PRIMARY KEY NOT NULL,
    touched_at BIGINT NOT NULL DEFAULT 0
);
INSERT INTO locks (name) VALUES ('signing_keys');

-- Four-eyes requests: a change waiting for a second, different admin.
CREATE TABLE approvals (
    id           TEXT PRIMARY KEY NOT NULL,    -- UUIDv7
    action       TEXT NOT NULL,                -- a PendingChange: client.create | client.change | secret.create |
                                               -- service_account.create | service_account.change | role.create | role.change
    payload      TEXT NOT NULL,                -- the request, JSON
    requested_by TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    status       TEXT NOT NULL,                -- pending | approved | rejected
    decided_by   TEXT,
    decided_at   BIGINT
);
CREATE INDEX approvals_status ON approvals(status);

-- Default roles; administrators add their own.
INSERT INTO roles (name, description, scopes, created_at, updated_at) VALUES
    ('admin', 'Everything', 'gatepass:admin', 0, 0),
    ('client-manager', 'Manage API clients and their secrets', 'gatepass:clients:read gatepass:clients:write', 0, 0),
    ('auditor', 'Read the audit log and client metadata', 'gatepass:audit:read gatepass:clients:read', 0, 0);

//! Diesel table definitions, written to match `migrations/`.
#![allow(missing_docs)]

diesel::table! {
    roles (name) {
        name -> Text,
        description -> Text,
        scopes -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    service_accounts (id) {
        id -> Text,
        name -> Text,
        description -> Text,
        disabled -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    service_account_roles (service_account_id, role_name) {
        service_account_id -> Text,
        role_name -> Text,
    }
}

diesel::table! {
    clients (client_id) {
        client_id -> Text,
        name -> Text,
        service_account_id -> Nullable<Text>,
        scopes -> Text,
        audiences -> Text,
        labels -> Text,
        token_ttl_seconds -> Nullable<BigInt>,
        disabled -> Bool,
        expires_at -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    client_secrets (id) {
        id -> Text,
        client_id -> Text,
        secret_hash -> Binary,
        key_prefix -> Text,
        label -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
        last_used_at -> Nullable<BigInt>,
        use_count -> BigInt,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        algorithm -> Text,
        public_jwk -> Text,
        private_key -> Binary,
        master_key_id -> Text,
        created_at -> BigInt,
        activates_at -> BigInt,
        retires_at -> Nullable<BigInt>,
        expires_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        occurred_at -> BigInt,
        actor -> Text,
        action -> Text,
        target -> Nullable<Text>,
        outcome -> Text,
        reason -> Nullable<Text>,
        request_id -> Nullable<Text>,
        source_addr -> Nullable<Text>,
        details -> Nullable<Text>,
    }
}

diesel::joinable!(client_secrets -> clients (client_id));
diesel::joinable!(clients -> service_accounts (service_account_id));
diesel::joinable!(service_account_roles -> service_accounts (service_account_id));
diesel::joinable!(service_account_roles -> roles (role_name));

diesel::table! {
    locks (name) {
        name -> Text,
        touched_at -> BigInt,
    }
}

diesel::table! {
    revoked_tokens (jti) {
        jti -> Text,
        client_id -> Text,
        expires_at -> BigInt,
        revoked_at -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    roles,
    service_accounts,
    service_account_roles,
    clients,
    client_secrets,
    signing_keys,
    audit_events,
    locks,
    approvals,
    outbox,
);

diesel::table! {
    approvals (id) {
        id -> Text,
        action -> Text,
        payload -> Text,
        requested_by -> Text,
        requested_at -> BigInt,
        status -> Text,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<BigInt>,
        requested_by_service_account -> Nullable<Text>,
    }
}

diesel::table! {
    outbox (seq) {
        seq -> BigInt,
        event -> Text,
        subject -> Text,
        subject_id -> Text,
        occurred_at -> BigInt,
    }
}

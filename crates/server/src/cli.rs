//! The command line (clap).
#![allow(clippy::doc_markdown)] // these doc comments are the --help text, shown as written

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Gatepass: an OAuth 2.0 client-credentials authorization server.
#[derive(Debug, Parser)]
#[command(name = "gatepass", version, about)]
pub struct Cli {
    /// A TOML file layered over the built-in defaults (config/default.toml).
    #[arg(long, global = true, env = "GATEPASS_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (migrates the database first).
    Serve,
    /// Apply pending database migrations.
    Migrate {
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Create an admin client holding `gatepass:admin`; prints its secret once.
    Bootstrap {
        /// Client name (default: bootstrap-<dd_mm_yyyy>-<hh_mm>).
        #[arg(long)]
        name: Option<String>,
        /// Print one JSON document: {"client_id", "client_secret"}.
        #[command(flatten)]
        output: Output,
    },
    /// API clients.
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// Service accounts.
    #[command(subcommand, name = "service-accounts")]
    ServiceAccounts(ServiceAccountsCommand),
    /// Roles.
    #[command(subcommand)]
    Roles(RolesCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Print the OpenAPI 3.1 document (as committed in docs/openapi.json).
    Openapi,
}

/// `--json`: print exactly one JSON document (the admin API's answer) instead of text.
#[derive(Debug, Clone, Copy, Args)]
pub struct Output {
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ServiceAccountsCommand {
    /// List service accounts with their roles.
    List {
        #[command(flatten)]
        output: Output,
    },
    /// Show one service account.
    Show {
        /// The service account's id.
        id: String,
        #[command(flatten)]
        output: Output,
    },
    /// Create a service account.
    Create {
        /// Name: 1-63 of a-z, 0-9, '.', '_', '-'.
        #[arg(long)]
        name: String,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        /// A role; repeat for several.
        #[arg(long = "role")]
        roles: Vec<String>,
        #[command(flatten)]
        output: Output,
    },
    /// Change a service account; only the options given change.
    Update {
        /// The service account's id.
        id: String,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        /// New description.
        #[arg(long)]
        description: Option<String>,
        /// The roles, replacing the current ones; repeat for several.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// active or disabled (disabling stops all its clients at once).
        #[arg(long)]
        status: Option<String>,
        #[command(flatten)]
        output: Output,
    },
    /// Delete a service account that has no clients.
    Delete {
        /// The service account's id.
        id: String,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum RolesCommand {
    /// List roles with their scopes.
    List {
        #[command(flatten)]
        output: Output,
    },
    /// Show one role.
    Show {
        /// The role's name.
        name: String,
        #[command(flatten)]
        output: Output,
    },
    /// Create a role.
    Create {
        /// Name: 1-63 of a-z, 0-9, '.', '_', '-'.
        #[arg(long)]
        name: String,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        /// A scope; repeat for several.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        #[command(flatten)]
        output: Output,
    },
    /// Change a role; only the options given change.
    Update {
        /// The role's name.
        name: String,
        /// New description.
        #[arg(long)]
        description: Option<String>,
        /// The scopes, replacing the current ones; repeat for several.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        #[command(flatten)]
        output: Output,
    },
    /// Delete a role.
    Delete {
        /// The role's name.
        name: String,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// The newest audit events, optionally filtered.
    List {
        /// Only events at or after this time (yyyy-MM-ddTHH:mm:ssZ).
        #[arg(long)]
        since: Option<String>,
        /// Only events before this time (yyyy-MM-ddTHH:mm:ssZ).
        #[arg(long)]
        until: Option<String>,
        /// Only this action, e.g. token.auth_failed.
        #[arg(long)]
        action: Option<String>,
        /// Only this actor (a client id, or cli).
        #[arg(long)]
        actor: Option<String>,
        /// Only this target.
        #[arg(long)]
        target: Option<String>,
        /// How many (1-500, default 50).
        #[arg(long)]
        limit: Option<u32>,
        /// Continue after a page (its next_cursor).
        #[arg(long)]
        cursor: Option<String>,
        #[command(flatten)]
        output: Output,
    },
}

/// The fields of a client that `create` sets and `update` changes.
#[derive(Debug, Args)]
pub struct ClientFields {
    /// Client name.
    #[arg(long)]
    pub name: Option<String>,
    /// An allowed scope; repeat for several (e.g. --scope sites:read --scope scripts:write).
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
    /// An allowed audience; repeat for several. None: tokens carry the issuer as audience.
    #[arg(long = "audience")]
    pub audiences: Vec<String>,
    /// A label as key=value; repeat for several.
    #[arg(long = "label")]
    pub labels: Vec<String>,
    /// Token lifetime in seconds (60-86400; default tokens.default_ttl_seconds).
    #[arg(long)]
    pub ttl: Option<i64>,
    /// When the client stops working (yyyy-MM-ddTHH:mm:ssZ).
    #[arg(long)]
    pub expires_at: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// List clients, a page at a time.
    List {
        /// Only clients with this label, as key:value.
        #[arg(long)]
        label: Option<String>,
        /// Only active, disabled or expired clients.
        #[arg(long)]
        status: Option<String>,
        /// Page size (1-500, default 50).
        #[arg(long)]
        limit: Option<u32>,
        /// Continue after a page (its next_cursor).
        #[arg(long)]
        cursor: Option<String>,
        #[command(flatten)]
        output: Output,
    },
    /// Show one client.
    Show {
        /// The client id, gpc_….
        client_id: String,
        #[command(flatten)]
        output: Output,
    },
    /// Create a client; prints it and its first secret, once.
    Create {
        #[command(flatten)]
        fields: ClientFields,
        /// The service account it belongs to (its scopes then follow the account's roles).
        #[arg(long)]
        service_account: Option<String>,
        #[command(flatten)]
        output: Output,
    },
    /// Change a client; only the options given change (--scope, --audience and --label replace
    /// the whole list).
    Update {
        /// The client id, gpc_….
        client_id: String,
        #[command(flatten)]
        fields: ClientFields,
        /// active or disabled.
        #[arg(long)]
        status: Option<String>,
        #[command(flatten)]
        output: Output,
    },
    /// Delete a client and its secrets.
    Delete {
        /// The client id, gpc_….
        client_id: String,
        #[command(flatten)]
        output: Output,
    },
    /// A client's secrets: list, rotate, revoke, delete.
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Export every client, secret's metadata or audit event as JSON or CSV.
    Export {
        /// clients, secrets or audit-events.
        what: String,
        /// CSV with a header row instead of JSON.
        #[arg(long)]
        csv: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// A client's secrets (metadata only).
    List {
        /// The client id, gpc_….
        client_id: String,
        #[command(flatten)]
        output: Output,
    },
    /// Add a secret, printed once; with a grace period the older ones expire after it.
    Rotate {
        /// The client id, gpc_….
        client_id: String,
        /// A label for the new secret.
        #[arg(long)]
        label: Option<String>,
        /// Seconds the older secrets keep working (0-7776000); without it they stay.
        #[arg(long)]
        grace_period: Option<i64>,
        /// When the new secret stops working (yyyy-MM-ddTHH:mm:ssZ).
        #[arg(long)]
        expires_at: Option<String>,
        #[command(flatten)]
        output: Output,
    },
    /// Stop a secret now.
    Revoke {
        /// The client id, gpc_….
        client_id: String,
        /// The secret's id.
        secret_id: String,
        #[command(flatten)]
        output: Output,
    },
    /// Delete a secret for good.
    Delete {
        /// The client id, gpc_….
        client_id: String,
        /// The secret's id.
        secret_id: String,
        /// Delete even if it was used in the last 24 hours.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        output: Output,
    },
    /// Every usable secret older than secrets.max_age_days.
    Due {
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum KeysCommand {
    /// List signing keys and their schedule.
    List {
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Publish a new key now; it starts signing after keys.publish_ahead_seconds.
    Rotate {
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
}

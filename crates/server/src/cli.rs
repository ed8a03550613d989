//! The command line (clap).
#![allow(clippy::doc_markdown)] // these doc comments are the --help text, shown as written

use std::path::PathBuf;

use clap::{Parser, Subcommand};

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
        #[arg(long)]
        json: bool,
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

#[derive(Debug, Subcommand)]
pub enum ServiceAccountsCommand {
    /// List service accounts with their roles.
    List {
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Create a service account.
    Create {
        /// Name: 1-63 of a-z, 0-9, '.', '_', '-'.
        #[arg(long)]
        name: String,
        /// Description.
        #[arg(long, default_value = "")]
        description: String,
        /// A role; repeat for several.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RolesCommand {
    /// List roles with their scopes.
    List {
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Create a role.
    Create {
        /// Name: 1-63 of a-z, 0-9, '.', '_', '-'.
        #[arg(long)]
        name: String,
        /// Description.
        #[arg(long, default_value = "")]
        description: String,
        /// A scope; repeat for several.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// The newest audit events, optionally filtered.
    List {
        /// Only this action, e.g. token.denied.
        #[arg(long)]
        action: Option<String>,
        /// Only this actor (a client id, or cli).
        #[arg(long)]
        actor: Option<String>,
        /// Only this target.
        #[arg(long)]
        target: Option<String>,
        /// How many (default 50).
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Create a client; prints its id and its first secret, once.
    Create {
        /// Client name (default: client-<dd_mm_yyyy>-<hh_mm>).
        #[arg(long)]
        name: Option<String>,
        /// An allowed scope; repeat for several (e.g. --scope sites:read --scope scripts:write).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// An allowed audience; repeat for several. None: tokens carry the issuer as audience.
        #[arg(long = "audience")]
        audiences: Vec<String>,
        /// Token lifetime in seconds (60-86400; default tokens.default_ttl_seconds).
        #[arg(long)]
        ttl: Option<i64>,
        /// Print one JSON document: {"client_id", "client_secret", …}.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
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

//! Integration tests: the real `gatepass` binary on a random port, a fresh data
//! directory each, spoken to over HTTP.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly where its setup or check does"
)]

mod abuse;
mod admin;
mod admin_authorization;
mod admin_directory;
mod adversarial;
mod cli;
mod client;
mod contract;
mod forge;
mod freshness;
mod guard;
mod helpers;
mod introspection;
mod keys;
mod limits;
mod multi_node;
mod observability;
mod outage;
mod resource_servers;
mod rotation;
mod standards;
mod tls;
mod token;
mod token_errors;

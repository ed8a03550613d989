//! Calls the downstream service with tokens from `gatepass-client`.
//!
//! Needs `CLIENT_ID` and `CLIENT_SECRET`; `GATEPASS_ISSUER` (default
//! `http://127.0.0.1:8080`) and `SERVICE_URL` (default `http://127.0.0.1:9000`) are optional.

use std::env;
use std::process::ExitCode;

use gatepass_client::TokenSource;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let (Ok(client_id), Ok(client_secret)) = (env::var("CLIENT_ID"), env::var("CLIENT_SECRET")) else {
        eprintln!("set CLIENT_ID and CLIENT_SECRET");
        return ExitCode::from(2);
    };
    let issuer = env::var("GATEPASS_ISSUER").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let service = env::var("SERVICE_URL").unwrap_or_else(|_| "http://127.0.0.1:9000".into());
    let tokens = TokenSource::new(format!("{issuer}/oauth2/token"), client_id, client_secret)
        .with_audience("https://api.example.com");
    let http = reqwest::Client::new();
    for (method, path) in [(reqwest::Method::GET, "/sites"), (reqwest::Method::POST, "/scripts")] {
        let token = match tokens.token().await {
            Ok(token) => token,
            Err(error) => {
                eprintln!("no token: {error}");
                return ExitCode::FAILURE;
            }
        };
        match http
            .request(method.clone(), format!("{service}{path}"))
            .bearer_auth(&token)
            .send()
            .await
        {
            Ok(response) => {
                let status = response.status();
                println!(
                    "{method} {path} -> {status} {}",
                    response.text().await.unwrap_or_default()
                );
            }
            Err(error) => {
                eprintln!("{method} {path} failed: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

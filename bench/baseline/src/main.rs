//! The practical limit the token-endpoint benchmark compares Gatepass with (docs/benchmarks.md): an
//! actix-web endpoint that reads the form, checks that a Basic header is present and signs an
//! ES256 JWT with ring — no client lookup, no policy, no audit, no metrics.
//! `cargo run --release -p token-baseline` prints the address it listens on.

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};

struct Signer {
    key: EcdsaKeyPair,
    rng: SystemRandom,
    header: String,
}

async fn token(req: HttpRequest, body: web::Bytes, signer: web::Data<Signer>) -> HttpResponse {
    if req.headers().get("authorization").is_none() || body.is_empty() {
        return HttpResponse::Unauthorized().finish();
    }
    #[allow(
        clippy::disallowed_methods,
        reason = "the baseline is not Gatepass: it has no clock to inject"
    )]
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let claims = serde_json::json!({
        "iss": "http://baseline", "sub": "client", "aud": "https://api.example.com",
        "exp": now + 900, "iat": now, "nbf": now, "jti": uuid::Uuid::now_v7().simple().to_string(),
        "client_id": "client", "scope": "api:read",
    });
    let message = format!("{}.{}", signer.header, URL_SAFE_NO_PAD.encode(claims.to_string()));
    let Ok(signature) = signer.key.sign(&signer.rng, message.as_bytes()) else {
        return HttpResponse::ServiceUnavailable().finish();
    };
    let token = format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()));
    HttpResponse::Ok().insert_header(("cache-control", "no-store")).json(
        serde_json::json!({"access_token": token, "token_type": "Bearer", "expires_in": 900, "scope": "api:read"}),
    )
}

fn main() -> std::io::Result<()> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| std::io::Error::other("no randomness"))?;
    let header = URL_SAFE_NO_PAD.encode(r#"{"typ":"at+jwt","alg":"ES256","kid":"baseline"}"#);
    let signer = web::Data::new(Signer {
        key: EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|_| std::io::Error::other("bad key"))?,
        rng,
        header,
    });
    let listener = std::net::TcpListener::bind(std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:0".into()))?;
    println!("listening on http://{}", listener.local_addr()?);
    actix_web::rt::System::new().block_on(
        HttpServer::new(move || {
            App::new()
                .app_data(signer.clone())
                .route("/oauth2/token", web::post().to(token))
        })
        .listen(listener)?
        .run(),
    )
}

//! The OpenAPI 3.1 document of the whole server, generated from the code (utoipa), served
//! at `/openapi.json` with a reference UI at `/docs` whose assets are inside the binary.

use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpResponse, web};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(info(
    title = "Gatepass",
    description = "OAuth 2.0 client-credentials authorization server: token endpoint, discovery and the admin API."
))]
struct ServerDoc;

/// The merged document: token endpoint and discovery, and the admin API.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ServerDoc::openapi();
    doc.merge(gatepass_auth::http::ApiDoc::openapi());
    doc.merge(gatepass_admin::ApiDoc::openapi());
    // `bearer` comes with the admin API's document.
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "basic",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
    );
    doc
}

/// The document as pretty JSON, as committed in `docs/openapi.json`.
pub fn to_json() -> String {
    document().to_pretty_json().unwrap_or_default()
}

/// What the reference UI may do. Swagger UI's `index.html` loads its bundled scripts and
/// styles from `/docs/` and has no inline script, so `'self'` is enough; the one inline
/// `<style>` it adds at run time (the colours of its SVG logo,
/// `.logo_small_svg__cls-2{fill:#fff}.logo_small_svg__cls-3{fill:#85ea2d}`) is allowed by
/// its hash, not by `'unsafe-inline'`. Its CSS draws icons from `data:` URIs; it fetches
/// `/openapi.json` and "try it out" calls this server. It may not be framed (clickjacking),
/// here and in browsers without CSP 2. `tests/api/standards.rs` loads it in Chromium and
/// fails on any violation, so a Swagger UI upgrade that needs more shows up there.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; img-src 'self' data:; \
     connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Mounts `/openapi.json` and the reference UI at `/docs`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let json = to_json();
    cfg.route(
        "/openapi.json",
        web::get().to(move || {
            let json = json.clone();
            async move { HttpResponse::Ok().content_type("application/json").body(json) }
        }),
    )
    .service(
        web::scope("/docs")
            .wrap(
                DefaultHeaders::new()
                    .add((header::CONTENT_SECURITY_POLICY, DOCS_CSP))
                    .add((header::X_FRAME_OPTIONS, "DENY"))
                    .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                    .add((header::REFERRER_POLICY, "no-referrer")),
            )
            .service(SwaggerUi::new("/{_:.*}").config(utoipa_swagger_ui::Config::from("/openapi.json")))
            .route(
                "",
                web::get().to(|| async { HttpResponse::Found().insert_header(("location", "/docs/")).finish() }),
            ),
    );
}

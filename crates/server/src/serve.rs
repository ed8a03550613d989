//! `gatepass serve`: wiring and the HTTP server.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use gatepass_admin::{AdminState, Callers};
use gatepass_auth::audit::AuditLog;
use gatepass_auth::keys::KeyManager;
use gatepass_auth::metrics::TokenMetrics;
use gatepass_auth::usage::UsageRecorder;
use gatepass_auth::{TokenService, TokenSettings};
use gatepass_console::Console;
use gatepass_core::Clock;
use gatepass_resource_guard::{GuardConfig, Validator};
use tokio::signal::unix::{SignalKind, signal};

use crate::config::Settings;
use crate::context::Context;
use crate::metrics::{Metrics, Sources};
use crate::routes::{self, Mount, Parts};
use crate::signing_keys::Schedule;
use crate::tls::{Certificates, ListenerTls};

/// Runs the server until SIGINT/SIGTERM.
pub fn run(settings: &Settings) -> Result<(), Box<dyn std::error::Error>> {
    let context = Context::open(settings, false)?;
    let listener =
        TcpListener::bind(settings.bind_addr()?).map_err(|e| format!("server.bind {}: {e}", settings.server.bind))?;
    run_with(settings, &context, listener, std::future::pending())
}

/// Runs the server on `listener` with an opened `context` (whose clock tests may drive)
/// until SIGINT/SIGTERM (a graceful stop) or until `stop` completes (every connection closed
/// at once: how a test ends a server it runs in its own process).
pub fn run_with(
    settings: &Settings,
    context: &Context,
    listener: TcpListener,
    stop: impl Future<Output = ()> + 'static,
) -> Result<(), Box<dyn std::error::Error>> {
    let address = listener.local_addr()?;
    let issuer = settings.issuer(address);
    let tls = ListenerTls::load(settings)?;
    let workers = if settings.server.workers == 0 {
        std::thread::available_parallelism().map_or(2, usize::from)
    } else {
        settings.server.workers
    };

    actix_web::rt::System::new().block_on(async move {
        let Services {
            parts,
            audit,
            usage,
            background,
        } = start(context, settings, &issuer).await?;
        let admin_listener = settings.admin_bind_addr()?.map(TcpListener::bind).transpose()?;
        let public_service = parts.service.clone();
        let public_mount = if admin_listener.is_some() {
            Mount::Public
        } else {
            Mount::All
        };
        let public = listen(settings, &parts, public_mount, listener, tls.public.as_ref(), workers)?;
        let admin_server = match admin_listener {
            None => None,
            Some(admin_listener) => {
                let admin_address = admin_listener.local_addr()?;
                let server = listen(settings, &parts, Mount::Admin, admin_listener, tls.admin.as_ref(), 1)?;
                Some((server, admin_address))
            }
        };
        // Signals are ours, registered before the address is printed: a supervisor that
        // sends SIGTERM as soon as it reads the address still gets a graceful stop.
        stop_on_signal(
            std::iter::once(public.handle())
                .chain(admin_server.as_ref().map(|(server, _)| server.handle()))
                .collect(),
            stop,
        )?;
        announce(&tls, address, admin_server.as_ref().map(|(_, a)| *a), &issuer, workers)?;
        match admin_server {
            None => public.await?,
            Some((admin_server, _)) => {
                tokio::try_join!(public, admin_server)?;
            }
        }
        for task in background {
            task.abort();
        }
        if let Err(error) = usage.flush().await {
            log::error!("usage counts lost at shutdown: {error}");
        }
        public_service.write_failures(true);
        audit.flush().await;
        log::info!("stopped");
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}

/// One listener: the route table's `mount`, behind the same limits and middleware on every
/// listener, plain or TLS.
fn listen(
    settings: &Settings,
    parts: &Parts,
    mount: Mount,
    listener: TcpListener,
    tls: Option<&Arc<Certificates>>,
    workers: usize,
) -> Result<Server, Box<dyn std::error::Error>> {
    let limits = settings.connection_limits();
    let edge = crate::edge::Edge {
        head: settings.head_limits(),
        body_deadline: settings.body_timeout(),
    };
    let connections = crate::connections::ConnectionCounts::new(settings.server.max_connections_per_address);
    let parts = parts.clone();
    let server = HttpServer::new(move || {
        let parts = parts.clone();
        App::new()
            .app_data(web::Data::new(edge))
            .wrap(from_fn(crate::edge::edge))
            .configure(move |cfg| routes::configure(cfg, &parts, mount))
    })
    .on_connect(connections.on_connect())
    .workers(workers)
    .max_connections(limits.max_connections.div_ceil(workers))
    .client_request_timeout(limits.request_timeout)
    .keep_alive(limits.keep_alive)
    .shutdown_timeout(limits.shutdown_timeout)
    .disable_signals();
    Ok(match tls {
        Some(tls) => server.listen_rustls_0_23(listener, tls.server_config()?)?,
        None => server.listen(listener)?,
    }
    .run())
}

/// Once the servers run: registers the TLS reload on SIGHUP (before the address is printed,
/// like the stop signals), then prints the listening addresses (scripts and tests read these
/// lines) and logs them.
fn announce(
    tls: &ListenerTls,
    address: SocketAddr,
    admin_address: Option<SocketAddr>,
    issuer: &str,
    workers: usize,
) -> std::io::Result<()> {
    tls.reload_on_sighup()?;
    println!(
        "gatepass listening on {}://{address} (issuer {issuer})",
        tls.public_scheme()
    );
    if let Some(admin_address) = admin_address {
        println!("gatepass admin listening on {}://{admin_address}", tls.admin_scheme());
    }
    std::io::stdout().flush()?;
    let separate_admin = admin_address.is_some();
    log::info!("listening address={address} issuer={issuer} workers={workers} separate_admin={separate_admin}");
    Ok(())
}

/// On SIGTERM or SIGINT, stops the servers gracefully: no new connections, requests in
/// flight finish. When `stop` completes first, stops them at once.
fn stop_on_signal(
    handles: Vec<actix_web::dev::ServerHandle>,
    stop: impl Future<Output = ()> + 'static,
) -> std::io::Result<()> {
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    actix_web::rt::spawn(async move {
        let graceful = tokio::select! {
            _ = terminate.recv() => {
                log::info!("SIGTERM: no new connections; finishing the requests in flight");
                true
            }
            _ = interrupt.recv() => {
                log::info!("SIGINT: no new connections; finishing the requests in flight");
                true
            }
            () = stop => {
                log::info!("stop: closing every connection now");
                false
            }
        };
        for handle in handles {
            handle.stop(graceful).await;
        }
    });
    Ok(())
}

/// Everything `serve` starts before it listens.
struct Services {
    parts: Parts,
    audit: AuditLog,
    usage: Arc<UsageRecorder>,
    /// Key maintenance and the usage flusher, stopped at shutdown.
    background: Vec<tokio::task::JoinHandle<()>>,
}

/// Loads the keys, starts the audit writer, the usage recorder and key maintenance, and
/// builds the token service and the admin API.
async fn start(context: &Context, settings: &Settings, issuer: &str) -> Result<Services, Box<dyn std::error::Error>> {
    gatepass_core::jwt_crypto::install();
    let keys = Arc::new(KeyManager::new(
        context.db.clone(),
        &context.master_key,
        settings.key_settings(),
        context.clock.clone(),
    ));
    keys.maintain().await?;
    let metrics = Metrics::new()?;
    let audit = AuditLog::start(context.db.clone(), context.clock.clone(), &metrics.registry)?;
    let usage = Arc::new(UsageRecorder::new(context.db.clone()));
    let usage_flusher = usage.start(std::time::Duration::from_millis(
        settings.tokens.usage_flush_interval_ms,
    ));
    let token_settings = TokenSettings {
        issuer: issuer.to_owned(),
        default_ttl_seconds: settings.tokens.default_ttl_seconds,
        cache: settings.cache_settings(),
        feed: settings.feed_settings(),
        body_limit: settings.tokens.body_limit_bytes,
        failure_limits: settings.failure_limits(),
    };
    let token_metrics = TokenMetrics::new(&metrics.registry)?;
    let service = web::Data::new(TokenService::new(
        context.db.clone(),
        Arc::clone(&keys),
        &context.master_key,
        audit.clone(),
        Arc::clone(&usage),
        token_settings,
        token_metrics,
        context.clock.clone(),
    )?);
    // The admin API is a resource server of Gatepass, validating against our own keys.
    let admin_validator = Validator::from_jwks(
        GuardConfig::new(issuer, issuer).with_clock(context.clock.clone()),
        &keys.ring().jwks_json(context.clock.now().unix_timestamp()),
    )?;
    let admin = web::Data::new(AdminState {
        db: context.db.clone(),
        callers: Callers::Tokens(admin_validator.clone()),
        pepper: Arc::new(context.master_key.secret_pepper()),
        secret_prefix: settings.secret_prefix(),
        max_secrets: settings.secrets.max_per_client,
        max_secret_age: settings.max_secret_age(),
        four_eyes: settings.admin.four_eyes,
        admin_audience: issuer.to_owned(),
        keys: Arc::new(Schedule::serving(&context.master_key, Arc::clone(&keys))),
        clock: context.clock.clone(),
    });
    let maintenance = actix_web::rt::spawn(maintain_keys(
        service.clone(),
        Arc::clone(&keys),
        admin_validator,
        context.clock.clone(),
        settings.key_settings().refresh_interval,
    ));
    let failures = {
        let service = service.clone();
        actix_web::rt::spawn(async move { service.maintain_failures().await })
    };
    // The first read of the change feed sets this node's position before it serves; after
    // it, the feed is followed in the background.
    service.read_changes().await?;
    let changes = {
        let service = service.clone();
        actix_web::rt::spawn(async move { service.follow_changes().await })
    };
    let retention = actix_web::rt::spawn(gatepass_auth::audit::retain(
        context.db.clone(),
        context.clock.clone(),
        settings.audit.retention_days,
        std::time::Duration::from_secs(600),
    ));
    let sources = Sources {
        db: context.db.clone(),
        keys: Arc::clone(&keys),
        clock: context.clock.clone(),
    };
    let console = web::Data::new(Console::new(
        admin.clone(),
        Arc::new(crate::sign_in::TokenEndpoint(service.clone())),
        context.clock.clone(),
        issuer,
    ));
    let parts = Parts {
        service,
        admin,
        console,
        metrics: web::Data::new(metrics),
        sources: web::Data::new(sources),
    };
    Ok(Services {
        parts,
        audit,
        usage,
        background: vec![maintenance, usage_flusher, failures, changes, retention],
    })
}

/// Runs the key schedule every `every`, hands the admin API's validator the keys, and
/// forgets revocations of tokens that have expired.
async fn maintain_keys(
    service: web::Data<TokenService>,
    keys: Arc<KeyManager>,
    admin_validator: Validator,
    clock: Arc<dyn Clock>,
    every: std::time::Duration,
) {
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tick.tick().await;
        if let Err(error) = keys.maintain().await {
            log::error!("key schedule maintenance failed: {error}");
        }
        let jwks = keys.ring().jwks_json(clock.now().unix_timestamp());
        if let Err(error) = admin_validator.update_jwks(&jwks) {
            log::error!("admin token validator could not take the new keys: {error}");
        }
        if let Err(error) = service.prune_revocations().await {
            log::warn!("could not prune expired token revocations: {error}");
        }
    }
}

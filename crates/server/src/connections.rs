//! A cap on connections open at once from one address (`server.max_connections_per_address`),
//! counted per listener, IPv6 by /64.
//!
//! `HttpServer::on_connect` registers each connection in the listener's [`ConnectionCounts`]
//! and leaves a [`ConnectionSlot`] in the connection's data; the slot gives its count back
//! when the connection closes. Requests on a connection over the cap are answered 503 with
//! `Connection: close`, so a flood of connections from one address is refused cleanly (never
//! a hang) and an honest caller elsewhere is still served.

use std::any::Any;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::HttpResponse;
use actix_web::dev::{Extensions, ServiceRequest};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{ConnectionType, StatusCode};
use gatepass_auth::throttle::address_bucket;

/// A plain connection, as actix-web hands it to `on_connect`.
type Tcp = actix_web::rt::net::TcpStream;

/// Open connections per address bucket of one listener.
#[derive(Clone, Default)]
pub struct ConnectionCounts {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    cap: usize,
}

/// One connection's place in its listener's count.
pub struct ConnectionSlot {
    counts: ConnectionCounts,
    bucket: IpAddr,
    /// Whether this connection is over the cap.
    over: bool,
}

impl ConnectionCounts {
    /// Counts for a listener with this cap (0: no cap, nothing is counted).
    pub fn new(cap: usize) -> Self {
        Self {
            open: Arc::default(),
            cap,
        }
    }

    /// Registers a new connection from `address`.
    pub fn open(&self, address: IpAddr) -> ConnectionSlot {
        let bucket = address_bucket(address);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(bucket).or_insert(0);
        *count += 1;
        ConnectionSlot {
            counts: self.clone(),
            bucket,
            over: *count > self.cap,
        }
    }

    /// Connections open from `address`'s bucket.
    #[cfg(test)]
    fn open_from(&self, address: IpAddr) -> usize {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(&address_bucket(address)).copied().unwrap_or(0)
    }

    /// The `on_connect` callback of a listener: registers plain TCP and TLS connections.
    pub fn on_connect(&self) -> impl Fn(&dyn Any, &mut Extensions) + Send + Sync + 'static {
        let counts = self.clone();
        move |connection, data| {
            if counts.cap == 0 {
                return;
            }
            let tcp = connection.downcast_ref::<Tcp>().or_else(|| {
                connection
                    .downcast_ref::<actix_tls::accept::rustls_0_23::TlsStream<Tcp>>()
                    .map(|tls| tls.get_ref().0)
            });
            let peer = tcp.and_then(|tcp| tcp.peer_addr().ok());
            if let Some(peer) = peer {
                data.insert(counts.open(peer.ip()));
            }
        }
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut open = self.counts.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.bucket) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.bucket);
            }
        }
    }
}

/// The answer for a request on a connection over the per-address cap (503 with `Retry-After`,
/// and the connection closed), or `None` for one within it.
pub fn refusal(req: &ServiceRequest) -> Option<HttpResponse> {
    if !req.conn_data::<ConnectionSlot>().is_some_and(|slot| slot.over) {
        return None;
    }
    log::info!(
        "connection refused: too many from one address peer={}",
        req.peer_addr()
            .map_or_else(|| "-".to_owned(), |a| address_bucket(a.ip()).to_string())
    );
    let mut response = HttpResponse::build(StatusCode::SERVICE_UNAVAILABLE)
        .insert_header((header::CONNECTION, HeaderValue::from_static("close")))
        .insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")))
        .json(serde_json::json!({
            "error": "temporarily_unavailable",
            "error_description": "too many connections from this address",
        }));
    response.head_mut().set_connection_type(ConnectionType::Close);
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_over_the_cap_are_marked_and_slots_give_their_count_back() {
        let counts = ConnectionCounts::new(2);
        let here: IpAddr = "192.0.2.1".parse().unwrap();
        let (a, b, c) = (counts.open(here), counts.open(here), counts.open(here));
        assert!(!a.over && !b.over && c.over);
        assert!(!counts.open("192.0.2.2".parse().unwrap()).over, "another address");
        drop((a, c));
        assert_eq!(counts.open_from(here), 1);
        assert!(!counts.open(here).over, "room again");
        drop(b);
        assert_eq!(counts.open_from(here), 0);
        assert!(
            counts.open.lock().unwrap().is_empty(),
            "nothing kept for closed connections"
        );
    }

    #[test]
    fn ipv6_is_counted_by_64() {
        let counts = ConnectionCounts::new(1);
        let _first = counts.open("2001:db8:0:1::1".parse().unwrap());
        assert!(counts.open("2001:db8:0:1::2".parse().unwrap()).over);
        assert!(!counts.open("2001:db8:0:2::1".parse().unwrap()).over);
    }
}

//! Requests to Gatepass's own HTTP handlers inside this process: the CLI's admin commands and
//! the web console are clients of the admin API (and the console of the token endpoint), so
//! they validate, answer and audit exactly as the API does, without a network hop.

use std::net::SocketAddr;

use actix_web::http::{Method, StatusCode};
use actix_web::{App, test, web};
use serde_json::Value;

/// One request.
pub struct Call {
    method: Method,
    path: String,
    json: Option<Value>,
    form: Option<Vec<(String, String)>>,
    headers: Vec<(&'static str, String)>,
    peer: Option<SocketAddr>,
}

/// The answer: status and body.
pub struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

impl Call {
    /// A request without a body.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            json: None,
            form: None,
            headers: Vec::new(),
            peer: None,
        }
    }

    /// `GET path`.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    /// With a JSON body.
    #[must_use]
    pub fn json(mut self, body: Value) -> Self {
        self.json = Some(body);
        self
    }

    /// With a form body.
    #[must_use]
    pub fn form(mut self, fields: &[(&str, &str)]) -> Self {
        self.form = Some(fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect());
        self
    }

    /// With a header.
    #[must_use]
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// As if from this address (audit log, failure limits).
    #[must_use]
    pub fn peer(mut self, peer: Option<SocketAddr>) -> Self {
        self.peer = peer;
        self
    }

    /// Runs the request through an app made by `configure`.
    pub async fn send(self, configure: impl FnOnce(&mut web::ServiceConfig)) -> Answer {
        let app = test::init_service(App::new().configure(configure)).await;
        let mut request = test::TestRequest::default().method(self.method).uri(&self.path);
        for (name, value) in self.headers {
            request = request.insert_header((name, value));
        }
        if let Some(peer) = self.peer {
            request = request.peer_addr(peer);
        }
        if let Some(body) = self.json {
            request = request.set_json(body);
        }
        if let Some(fields) = self.form {
            request = request.set_form(fields);
        }
        let response = test::call_service(&app, request.to_request()).await;
        let status = response.status();
        Answer {
            status,
            body: test::read_body(response).await.to_vec(),
        }
    }
}

impl Answer {
    /// The body as JSON (`null` when empty or not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// A refusal's problem detail (RFC 9457) or error description (RFC 6749), for a person.
    pub fn detail(&self) -> String {
        let doc = self.json();
        doc["detail"]
            .as_str()
            .or_else(|| doc["error_description"].as_str())
            .unwrap_or_else(|| self.status.canonical_reason().unwrap_or("failed"))
            .to_owned()
    }
}

/// A path segment, encoded so an id cannot leave its place in the path.
pub fn segment(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A query string (`?a=1&b=2`, or nothing) of the pairs that have a value.
pub fn query(pairs: &[(&str, Option<&str>)]) -> String {
    let given: Vec<(&str, &str)> = pairs.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
    if given.is_empty() {
        String::new()
    } else {
        format!("?{}", serde_urlencoded::to_string(given).unwrap_or_default())
    }
}

/// A field of an answer as text for people: lists joined by spaces, objects as `key=value`
/// pairs, and `nothing` for null or empty.
pub fn plain(value: &Value, nothing: &str) -> String {
    match value {
        Value::Null => nothing.to_owned(),
        Value::String(s) if s.is_empty() => nothing.to_owned(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => nothing.to_owned(),
        Value::Array(items) => items.iter().map(|v| plain(v, nothing)).collect::<Vec<_>>().join(" "),
        Value::Object(map) if map.is_empty() => nothing.to_owned(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}={}", plain(v, nothing)))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

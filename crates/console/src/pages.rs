//! The console's HTML, server-rendered with maud (every value escaped), in the admin API's words.

use maud::{DOCTYPE, Markup, html};
use serde_json::Value;

use super::session::Session;

/// Which page is shown, for the navigation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Keys,
    ServiceAccounts,
    Roles,
    Audit,
    SigningKeys,
    Approvals,
}

/// A message above the page: a notice (`status`) or an error (`alert`).
pub enum Flash {
    None,
    Notice(String),
    Error(String),
}

/// A field as text, `—` for nothing.
pub fn text(value: &Value) -> String {
    plain(value, "—")
}

/// A field as text for people: lists joined by spaces, objects as `key=value` pairs, and
/// `nothing` for null or empty.
fn plain(value: &Value, nothing: &str) -> String {
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

/// The items of a page answer.
pub fn items(doc: &Value) -> &[Value] {
    doc["items"].as_array().map_or(&[], Vec::as_slice)
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · Gatepass" }
            link rel="stylesheet" href="/console/assets/console.css";
            script src="/console/assets/console.js" defer {}
        }
    }
}

/// A hidden CSRF field for forms.
pub fn csrf(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

fn flash_box(flash: &Flash) -> Markup {
    html! {
        @match flash {
            Flash::None => {}
            Flash::Notice(message) => p.notice role="status" { (message) }
            Flash::Error(message) => p.error role="alert" { (message) }
        }
    }
}

/// A signed-in page.
pub fn page(session: &Session, nav: Nav, title: &str, flash: &Flash, body: &Markup) -> Markup {
    let link = |target: Nav, href: &str, label: &str| {
        html! {
            @if target == nav { a href=(href) aria-current="page" { (label) } } @else { a href=(href) { (label) } }
        }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                a.skip href="#main" { "Skip to content" }
                header {
                    span.brand { "Gatepass" }
                    nav aria-label="Console" {
                        (link(Nav::Keys, "/console/keys", "API keys"))
                        (link(Nav::ServiceAccounts, "/console/service-accounts", "Service accounts"))
                        (link(Nav::Roles, "/console/roles", "Roles"))
                        (link(Nav::Audit, "/console/audit", "Audit log"))
                        (link(Nav::SigningKeys, "/console/signing-keys", "Signing keys"))
                        (link(Nav::Approvals, "/console/approvals", "Approvals"))
                        a href="/docs/" { "API reference" }
                    }
                    form.signout method="post" action="/console/logout" {
                        (csrf(session))
                        span.who { "Signed in as " code { (session.client_id) } }
                        button type="submit" { "Sign out" }
                    }
                }
                main #main {
                    h1 { (title) }
                    (flash_box(flash))
                    (body)
                }
            }
        }
    }
}

/// The sign-in page.
pub fn login(flash: &Flash) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head("Sign in"))
            body.login {
                main #main {
                    h1 { "Sign in to Gatepass" }
                    p { "Use the client id and secret of an admin client (one holding a " code { "gatepass:" } " scope), for example the one " code { "gatepass bootstrap" } " printed." }
                    (flash_box(flash))
                    form method="post" action="/console/login" {
                        label for="client_id" { "Client id" }
                        input #client_id name="client_id" autocomplete="username" required placeholder="gpc_…";
                        label for="client_secret" { "Client secret" }
                        input #client_secret name="client_secret" type="password" autocomplete="current-password" required placeholder="gps_…";
                        button type="submit" { "Sign in" }
                    }
                }
            }
        }
    }
}

/// A secret shown once, with a copy button.
pub fn secret_once(client_id: &str, secret: &str, what: &str) -> Markup {
    html! {
        section.once aria-labelledby="once-title" {
            h2 #once-title { (what) }
            p.warning { strong { "Copy it now: you will not see this secret again." } " Gatepass stores only a keyed hash of it." }
            dl {
                dt { "client_id" } dd { code #new-client-id { (client_id) } }
                dt { "client_secret" } dd { code #new-secret { (secret) } " " button type="button" data-copy="new-secret" { "Copy" } }
            }
            p { a href={ "/console/keys/" (client_id) } { "Go to the key" } }
        }
    }
}

/// A table of `items` with `columns` (header, field); `link` makes the first column a link.
pub fn table(
    caption: &str,
    items: &[Value],
    columns: &[(&str, &str)],
    link: Option<&dyn Fn(&Value) -> String>,
) -> Markup {
    html! {
        div.scroll {
            table {
                caption { (caption) }
                thead { tr { @for (header, _) in columns { th scope="col" { (header) } } } }
                tbody {
                    @if items.is_empty() {
                        tr { td colspan=(columns.len()) { "Nothing here yet." } }
                    }
                    @for item in items {
                        tr {
                            @for (i, (_, field)) in columns.iter().enumerate() {
                                @if i == 0 && link.is_some() {
                                    td { a href=(link.map(|l| l(item)).unwrap_or_default()) { (text(&item[*field])) } }
                                } @else {
                                    td { (text(&item[*field])) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A one-button form posting to `action` (with the CSRF token), optionally confirmed first.
pub fn button_form(session: &Session, action: &str, label: &str, confirm: Option<&str>, extra: &Markup) -> Markup {
    html! {
        form.inline method="post" action=(action) data-confirm=[confirm] {
            (csrf(session))
            (extra)
            button type="submit" { (label) }
        }
    }
}

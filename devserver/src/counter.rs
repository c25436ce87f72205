//! The API request counter behind `GET /_devserver/requests`: plain data, filled by a layer
//! in front of the API routes (requests) and by the accept loop (connections).

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// API requests seen, keyed by `METHOD /route/{template}`.
#[derive(Debug, Default)]
pub(crate) struct Counter {
    /// TCP connections accepted (any route, the control routes' own included).
    connections: u64,
    total: u64,
    by_route: BTreeMap<String, u64>,
}

impl Counter {
    /// Counts one request to `key` (`METHOD /route/{template}`).
    pub(crate) fn record(&mut self, key: String) {
        self.total += 1;
        *self.by_route.entry(key).or_insert(0) += 1;
    }

    /// Counts one accepted connection.
    pub(crate) fn connection(&mut self) {
        self.connections += 1;
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({ "total": self.total, "byRoute": self.by_route, "connections": self.connections })
    }
}

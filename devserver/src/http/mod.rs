//! HTTP plumbing shared by every route module: JSON errors and answers, extractors with JSON
//! rejections, Bearer authentication, the guards on every route (Host, security headers,
//! JSON errors, JSON-only writes), and the counter and fault layers in front of the API.
//!
//! Nothing here knows a route; the route modules and `app` build on it.

pub(crate) mod auth;
pub(crate) mod error;
pub(crate) mod extract;
pub(crate) mod guard;
pub(crate) mod observe;

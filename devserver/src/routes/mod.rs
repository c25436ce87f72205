//! The route modules. Each builds a bare `Router<AppState>`; `app` merges them and adds the
//! layers. They never use each other: what two of them share lives in `http` or below.

pub(crate) mod api;
pub(crate) mod backup;
pub(crate) mod backup_push;
pub(crate) mod control;
pub(crate) mod dashboard;
pub(crate) mod primitives;
pub(crate) mod signin;

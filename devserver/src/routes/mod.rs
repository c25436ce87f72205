//! The route modules. Each builds a bare `Router<AppState>`; `app` merges them and adds the
//! layers. They never use each other (what two of them share lives in `http` or below), with
//! one exception: `backup_push` (lua-cli's upload protocol) uses `backup`'s signed URLs and
//! loading, never the reverse.

pub(crate) mod api;
pub(crate) mod backup;
pub(crate) mod backup_push;
pub(crate) mod control;
pub(crate) mod dashboard;
pub(crate) mod primitives;
pub(crate) mod signin;

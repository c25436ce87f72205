//! Retry policy: which answers are worth another attempt, full-jitter backoff, and the
//! server's `Retry-After` (integer seconds or an HTTP date, else the NestJS body's
//! `retryAfterSeconds`). Knows nothing about sending requests.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderValue;
use serde_json::Value;

use crate::error::PlatformError;

/// First backoff bound; doubled per retry, never above the reference's caps.
const BACKOFF_BASE: Duration = Duration::from_millis(200);
/// The reference's backoff caps for retries 1, 2 and 3+.
const BACKOFF_CAPS: [Duration; 3] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
];
/// A `Retry-After` longer than this is shortened: a CLI run must not stall for minutes.
pub(crate) const RETRY_AFTER_CAP: Duration = Duration::from_secs(5);

/// The result of one attempt: final, or worth another try (after the given delay, if the
/// server asked for one).
pub(crate) enum Attempt {
    Done(Result<Value, PlatformError>),
    Retry {
        error: PlatformError,
        retry_after: Option<Duration>,
    },
}

impl Attempt {
    /// A failure that only a GET may retry (a write may have been applied).
    pub(crate) fn retry_if(is_get: bool, error: PlatformError) -> Self {
        if is_get {
            Self::Retry {
                error,
                retry_after: None,
            }
        } else {
            Self::Done(Err(error))
        }
    }
}

/// Decides for an error status: GETs retry on 429 and 500-504; writes only when the server
/// asked for it (429/503 with a `Retry-After`), since they may have been applied.
pub(crate) fn for_status(
    is_get: bool,
    status: u16,
    error: PlatformError,
    retry_after: Option<Duration>,
) -> Attempt {
    let retryable = status == 429 || (500..=504).contains(&status);
    if retryable && (is_get || ((status == 429 || status == 503) && retry_after.is_some())) {
        Attempt::Retry { error, retry_after }
    } else {
        Attempt::Done(Err(error))
    }
}

/// The delay before the next attempt: the server's `Retry-After` (capped), else backoff.
pub(crate) fn delay(attempt: u32, retry_after: Option<Duration>) -> Duration {
    retry_after.map_or_else(|| backoff(attempt), |d| d.min(RETRY_AFTER_CAP))
}

/// `Retry-After` as integer seconds or an HTTP date (a date in the past means now), else
/// the NestJS body's `retryAfterSeconds`.
pub(crate) fn retry_after(header: Option<&HeaderValue>, body: &[u8]) -> Option<Duration> {
    retry_after_at(header, body, SystemTime::now())
}

fn retry_after_at(header: Option<&HeaderValue>, body: &[u8], now: SystemTime) -> Option<Duration> {
    if let Some(text) = header.and_then(|h| h.to_str().ok()).map(str::trim) {
        if let Ok(secs) = text.parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
        if let Ok(when) = httpdate::parse_http_date(text) {
            return Some(when.duration_since(now).unwrap_or(Duration::ZERO));
        }
    }
    serde_json::from_slice::<Value>(body)
        .ok()?
        .get("retryAfterSeconds")?
        .as_u64()
        .map(Duration::from_secs)
}

/// Upper bound of the full-jitter delay before retry number `attempt + 1`.
fn backoff_bound(attempt: u32) -> Duration {
    let cap = BACKOFF_CAPS[usize::try_from(attempt)
        .unwrap_or(usize::MAX)
        .min(BACKOFF_CAPS.len() - 1)];
    BACKOFF_BASE
        .saturating_mul(2u32.saturating_pow(attempt.min(16)))
        .min(cap)
}

/// Full jitter: uniform in `[0, bound]`, so clients that failed together do not retry
/// together.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(fastrand::u64(0..=millis(backoff_bound(attempt))))
}

pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_bounds_follow_the_caps() {
        assert_eq!(backoff_bound(0), Duration::from_millis(200));
        assert_eq!(backoff_bound(1), Duration::from_millis(400));
        assert_eq!(backoff_bound(2), Duration::from_millis(800));
        assert_eq!(backoff_bound(3), Duration::from_millis(1600));
        assert_eq!(
            backoff_bound(4),
            Duration::from_secs(3).saturating_add(Duration::from_millis(200))
        );
        assert_eq!(backoff_bound(5), Duration::from_secs(4));
        assert_eq!(backoff_bound(u32::MAX), Duration::from_secs(4));
        for attempt in 0..6 {
            assert!(backoff(attempt) <= backoff_bound(attempt));
        }
        assert_eq!(
            delay(0, Some(Duration::from_secs(60))),
            RETRY_AFTER_CAP,
            "a long Retry-After is capped"
        );
    }

    #[test]
    fn retry_after_seconds_date_then_body() {
        let h = HeaderValue::from_static(" 3 ");
        assert_eq!(retry_after(Some(&h), b""), Some(Duration::from_secs(3)));

        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        let later = HeaderValue::from_static("Wed, 21 Oct 2015 07:28:04 GMT");
        assert_eq!(
            retry_after_at(Some(&later), b"", now),
            Some(Duration::from_secs(4))
        );
        let past = HeaderValue::from_static("Wed, 21 Oct 2015 07:27:00 GMT");
        assert_eq!(retry_after_at(Some(&past), b"", now), Some(Duration::ZERO));
        // The obsolete RFC 850 form is an HTTP date too.
        let rfc850 = HeaderValue::from_static("Wednesday, 21-Oct-15 07:28:02 GMT");
        assert_eq!(
            retry_after_at(Some(&rfc850), b"", now),
            Some(Duration::from_secs(2))
        );

        let junk = HeaderValue::from_static("soon");
        assert_eq!(retry_after(Some(&junk), b""), None);
        assert_eq!(
            retry_after(Some(&junk), br#"{"retryAfterSeconds": 2}"#),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            retry_after(None, br#"{"retryAfterSeconds": 2}"#),
            Some(Duration::from_secs(2))
        );
        assert_eq!(retry_after(None, b"not json"), None);
    }

    #[test]
    fn writes_retry_only_when_asked() {
        let e = || PlatformError::Server {
            url: "u".into(),
            status: 503,
            excerpt: String::new(),
        };
        let retried = |a: Attempt| matches!(a, Attempt::Retry { .. });
        assert!(retried(for_status(true, 500, e(), None)));
        assert!(!retried(for_status(false, 500, e(), None)));
        assert!(!retried(for_status(false, 503, e(), None)));
        assert!(retried(for_status(
            false,
            503,
            e(),
            Some(Duration::from_secs(1))
        )));
        assert!(!retried(for_status(true, 505, e(), None)));
        assert!(!retried(for_status(true, 404, e(), None)));
    }
}

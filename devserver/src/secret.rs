//! Secrets handled without leaking them: the API key kept only as a SHA-256 digest and
//! compared in constant time (digests have a fixed length, so the key's length does not show
//! in timing either), and random tokens from the OS generator.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The SHA-256 digest of the API key: the only form in which the running server keeps it.
#[derive(Clone)]
pub(crate) struct KeyDigest([u8; 32]);

impl KeyDigest {
    pub(crate) fn of(key: &str) -> KeyDigest {
        KeyDigest(sha256(key.as_bytes()))
    }

    /// Whether `given` is the key: compares the two digests in constant time.
    pub(crate) fn matches(&self, given: &str) -> bool {
        sha256(given.as_bytes()).ct_eq(&self.0).into()
    }
}

impl std::fmt::Debug for KeyDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyDigest(<redacted>)")
    }
}

pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// SHA-256 of `parts` joined by NUL bytes (a separator no part contains), as hex.
pub(crate) fn digest_hex(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hasher.update([0u8]);
        }
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

/// Whether two tokens are equal, without an early exit (compares their digests).
pub(crate) fn same_token(a: &str, b: &str) -> bool {
    sha256(a.as_bytes()).ct_eq(&sha256(b.as_bytes())).into()
}

/// A fresh random token: 244 random bits (two v4 UUIDs, from the OS generator) as 64 hex
/// characters.
pub(crate) fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_only_the_key() {
        let k = KeyDigest::of("abc");
        assert!(k.matches("abc"));
        assert!(!k.matches("abd"));
        assert!(!k.matches("ab"));
        assert!(!k.matches(""));
        assert!(!k.matches("abc "));
        assert!(!format!("{k:?}").contains("abc"));
    }

    #[test]
    fn tokens_are_random_and_compared_whole() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(same_token(&a, &a.clone()));
        assert!(!same_token(&a, &b));
        assert_ne!(digest_hex(&[b"a", b"bc"]), digest_hex(&[b"ab", b"c"]));
    }
}

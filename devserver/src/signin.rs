//! lua-cli's e-mail sign-in, emulated (API_CONTRACT "E-mail sign-in sessions"): users with
//! refresh tokens that rotate on every use (a used one is refused), short-lived ID tokens
//! the API accepts as a Bearer, and the states a test puts a user in: `revoked` (the API
//! answers `SESSION_REVOKED`), `disabled` and `expired` (the token endpoint refuses the
//! refresh with `USER_DISABLED` / `TOKEN_EXPIRED`). In memory only: data, no HTTP.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::secret::random_token;

/// A user's state, as a test sets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UserState {
    Active,
    Revoked,
    Disabled,
    Expired,
}

impl UserState {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "active" => UserState::Active,
            "revoked" => UserState::Revoked,
            "disabled" => UserState::Disabled,
            "expired" => UserState::Expired,
            _ => return None,
        })
    }
}

/// What the token endpoint answers.
pub(crate) enum Refresh {
    Ok {
        id_token: String,
        refresh_token: String,
        expires_in: u64,
        uid: String,
    },
    /// The `error.message` of a 400.
    Refused(&'static str),
}

/// What a Bearer token is, for the API.
pub(crate) enum Bearer {
    /// A live ID token of an active user.
    Valid,
    /// An ID token of a revoked user.
    Revoked,
    /// Not an ID token (or an expired one).
    Unknown,
}

#[derive(Default)]
pub(crate) struct SignIns {
    users: HashMap<String, UserState>,
    /// Live refresh tokens -> user.
    refresh: HashMap<String, String>,
    /// ID tokens -> (user, valid until).
    ids: HashMap<String, (String, Instant)>,
    /// Seconds an ID token lives (`expires_in`).
    pub(crate) id_lifetime: u64,
    /// Refreshes answered (for tests: how many rotations happened).
    pub(crate) refreshes: u64,
}

impl SignIns {
    pub(crate) fn new() -> Self {
        SignIns {
            id_lifetime: 3600,
            ..Self::default()
        }
    }

    /// Sign `uid` in (a new user, or a new session of one): its first refresh token.
    pub(crate) fn sign_in(&mut self, uid: &str) -> String {
        self.users.insert(uid.to_owned(), UserState::Active);
        let token = format!("rt-{}", random_token());
        self.refresh.insert(token.clone(), uid.to_owned());
        token
    }

    /// `None` for an unknown user.
    pub(crate) fn set_state(&mut self, uid: &str, state: UserState) -> Option<()> {
        *self.users.get_mut(uid)? = state;
        Some(())
    }

    /// Exchange a refresh token: it is consumed, a new one and an ID token are issued.
    pub(crate) fn refresh(&mut self, grant_type: Option<&str>, token: Option<&str>) -> Refresh {
        if grant_type != Some("refresh_token") {
            return Refresh::Refused("INVALID_GRANT_TYPE");
        }
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Refresh::Refused("MISSING_REFRESH_TOKEN");
        };
        let Some(uid) = self.refresh.get(token).cloned() else {
            return Refresh::Refused("INVALID_REFRESH_TOKEN");
        };
        match self.users.get(&uid).copied().unwrap_or(UserState::Active) {
            UserState::Disabled => return Refresh::Refused("USER_DISABLED"),
            UserState::Expired => return Refresh::Refused("TOKEN_EXPIRED"),
            UserState::Active | UserState::Revoked => {}
        }
        self.refresh.remove(token);
        let refresh_token = format!("rt-{}", random_token());
        self.refresh.insert(refresh_token.clone(), uid.clone());
        let id_token = format!("id-{}", random_token());
        self.ids.insert(
            id_token.clone(),
            (
                uid.clone(),
                Instant::now() + Duration::from_secs(self.id_lifetime),
            ),
        );
        self.refreshes += 1;
        Refresh::Ok {
            id_token,
            refresh_token,
            expires_in: self.id_lifetime,
            uid,
        }
    }

    pub(crate) fn bearer(&self, token: &str) -> Bearer {
        match self.ids.get(token) {
            Some((_, until)) if *until < Instant::now() => Bearer::Unknown,
            Some((uid, _)) if self.users.get(uid) == Some(&UserState::Revoked) => Bearer::Revoked,
            Some(_) => Bearer::Valid,
            None => Bearer::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_rotate_and_states_refuse() {
        let mut s = SignIns::new();
        let first = s.sign_in("u1");
        let Refresh::Ok {
            refresh_token,
            id_token,
            uid,
            ..
        } = s.refresh(Some("refresh_token"), Some(&first))
        else {
            panic!("refused");
        };
        assert_eq!(uid, "u1");
        assert!(matches!(s.bearer(&id_token), Bearer::Valid));
        // The used token is refused: a lost rotation shows.
        assert!(matches!(
            s.refresh(Some("refresh_token"), Some(&first)),
            Refresh::Refused("INVALID_REFRESH_TOKEN")
        ));
        s.set_state("u1", UserState::Revoked).unwrap();
        assert!(matches!(s.bearer(&id_token), Bearer::Revoked));
        s.set_state("u1", UserState::Disabled).unwrap();
        assert!(matches!(
            s.refresh(Some("refresh_token"), Some(&refresh_token)),
            Refresh::Refused("USER_DISABLED")
        ));
        assert!(matches!(
            s.refresh(Some("password"), Some(&refresh_token)),
            Refresh::Refused("INVALID_GRANT_TYPE")
        ));
        assert!(matches!(
            s.refresh(Some("refresh_token"), None),
            Refresh::Refused("MISSING_REFRESH_TOKEN")
        ));
    }
}

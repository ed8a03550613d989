//! The key schedule: when a key is published, signs, retires and leaves the JWKS.
//!
//! A key is *pending* from creation until `activates_at` (published, not signing),
//! *active* until `retires_at` (signing), *retired* until `expires_at` (published so
//! tokens it signed still verify) and then gone. Every node reads the same rows and
//! picks the signer with the same rule, so all nodes sign with the same key.

use std::time::Duration;

use serde::Serialize;

use super::SigningAlgorithm;

/// How keys are rotated.
#[derive(Clone, Debug)]
pub struct KeySettings {
    /// Algorithm of new keys.
    pub algorithm: SigningAlgorithm,
    /// A key signs for this long before the next one takes over.
    pub rotation_interval: Duration,
    /// A new key is published this long before it signs. At least the JWKS max-age
    /// plus the refresh interval, so every cache has it before it is used.
    pub publish_ahead: Duration,
    /// `Cache-Control: max-age` of the JWKS.
    pub jwks_max_age: Duration,
    /// How often a node reloads the schedule from the database.
    pub refresh_interval: Duration,
    /// The longest token lifetime: a retired key stays published this long (plus a
    /// minute of clock-skew margin) after it stops signing.
    pub max_token_ttl: Duration,
}

/// Where a key stands at a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Published, not yet signing.
    Pending,
    /// Signing new tokens.
    Active,
    /// No longer signing; published until the tokens it signed have expired.
    Retired,
    /// Gone from the JWKS.
    Expired,
}

/// The times of one key, in seconds since the epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyTimes {
    /// The key id.
    pub kid: String,
    /// Signs from here.
    pub activates_at: i64,
    /// Stops signing here.
    pub retires_at: Option<i64>,
    /// Leaves the JWKS here.
    pub expires_at: Option<i64>,
}

impl KeyTimes {
    /// The state at `now`.
    pub fn state(&self, now: i64) -> KeyState {
        if self.expires_at.is_some_and(|at| now >= at) {
            KeyState::Expired
        } else if self.retires_at.is_some_and(|at| now >= at) {
            KeyState::Retired
        } else if now < self.activates_at {
            KeyState::Pending
        } else {
            KeyState::Active
        }
    }
}

/// The key that signs at `now`: of the active keys, the latest to activate (ties broken
/// by kid), so every node agrees.
pub fn signer<T>(keys: &[T], times: impl Fn(&T) -> &KeyTimes, now: i64) -> Option<&T> {
    keys.iter()
        .filter(|k| times(k).state(now) == KeyState::Active)
        .max_by(|a, b| {
            let (a, b) = (times(a), times(b));
            (a.activates_at, &a.kid).cmp(&(b.activates_at, &b.kid))
        })
}

/// What to do to the schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Nothing to do.
    Keep,
    /// A rotation is already under way: the pending key activates at this time.
    AlreadyPending(i64),
    /// Make a key that activates at `activates_at`, retiring the current signers then.
    Create {
        /// When the new key starts signing.
        activates_at: i64,
        /// Keys to retire: (`kid`, `retires_at`, `expires_at`).
        retire: Vec<(String, i64, i64)>,
    },
}

/// Decides the next step of the schedule at `now`. `forced` asks for a rotation even
/// if the current key is not due (the `keys rotate` command).
pub fn plan(keys: &[KeyTimes], now: i64, settings: &KeySettings, forced: bool) -> Plan {
    if let Some(pending) = keys.iter().find(|k| k.state(now) == KeyState::Pending) {
        return Plan::AlreadyPending(pending.activates_at);
    }
    let Some(current) = signer(keys, |k| k, now) else {
        // Nothing signs: the very first key, published and active at once.
        return Plan::Create {
            activates_at: now,
            retire: Vec::new(),
        };
    };
    let ahead = secs(settings.publish_ahead);
    let due = current.activates_at + secs(settings.rotation_interval) - ahead;
    if !forced && now < due {
        return Plan::Keep;
    }
    let activates_at = now + ahead;
    let keep_published = secs(settings.max_token_ttl) + 60;
    let retire = keys
        .iter()
        .filter(|k| matches!(k.state(now), KeyState::Active))
        .map(|k| (k.kid.clone(), activates_at, activates_at + keep_published))
        .collect();
    Plan::Create { activates_at, retire }
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> KeySettings {
        KeySettings {
            algorithm: SigningAlgorithm::ES256,
            rotation_interval: Duration::from_secs(90 * 86_400),
            publish_ahead: Duration::from_secs(600),
            jwks_max_age: Duration::from_secs(300),
            refresh_interval: Duration::from_secs(10),
            max_token_ttl: Duration::from_secs(86_400),
        }
    }

    fn key(kid: &str, activates_at: i64, retires_at: Option<i64>, expires_at: Option<i64>) -> KeyTimes {
        KeyTimes {
            kid: kid.into(),
            activates_at,
            retires_at,
            expires_at,
        }
    }

    #[test]
    fn first_key_is_active_at_once() {
        assert_eq!(
            plan(&[], 1000, &settings(), false),
            Plan::Create {
                activates_at: 1000,
                retire: vec![]
            }
        );
    }

    #[test]
    fn young_key_is_kept_and_due_key_is_rotated_with_prepublication() {
        let keys = [key("a", 0, None, None)];
        assert_eq!(plan(&keys, 1000, &settings(), false), Plan::Keep);
        let due = 90 * 86_400 - 600;
        let Plan::Create { activates_at, retire } = plan(&keys, due, &settings(), false) else {
            panic!()
        };
        assert_eq!(activates_at, due + 600);
        assert_eq!(retire, vec![("a".to_owned(), due + 600, due + 600 + 86_400 + 60)]);
    }

    #[test]
    fn forced_rotation_still_prepublishes_and_a_pending_key_blocks_another() {
        let keys = [key("a", 0, None, None)];
        let Plan::Create { activates_at, .. } = plan(&keys, 1000, &settings(), true) else {
            panic!()
        };
        assert_eq!(activates_at, 1600);
        let rotated = [key("a", 0, Some(1600), Some(1600 + 86_460)), key("b", 1600, None, None)];
        assert_eq!(plan(&rotated, 1000, &settings(), true), Plan::AlreadyPending(1600));
    }

    #[test]
    fn states_follow_the_schedule_and_the_signer_hands_over_without_a_gap() {
        let keys = [key("a", 0, Some(1600), Some(90_000)), key("b", 1600, None, None)];
        assert_eq!(signer(&keys, |k| k, 1599).unwrap().kid, "a");
        assert_eq!(keys[1].state(1599), KeyState::Pending);
        assert_eq!(signer(&keys, |k| k, 1600).unwrap().kid, "b");
        assert_eq!(keys[0].state(1600), KeyState::Retired);
        assert_eq!(keys[0].state(90_000), KeyState::Expired);
    }

    #[test]
    fn nodes_that_raced_to_make_a_first_key_agree_on_the_signer() {
        let keys = [key("b", 10, None, None), key("a", 10, None, None)];
        assert_eq!(signer(&keys, |k| k, 20).unwrap().kid, "b");
    }
}

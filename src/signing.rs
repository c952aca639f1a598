//! Signatures and secret comparisons, for every door that checks who is calling (a webhook's
//! HMAC, a link's signed URL): each comparison takes the same time whatever the input.

use subtle::ConstantTimeEq as _;

use crate::config::kinds::HmacAlgorithm;

/// Whether `given` equals `expected`, in time that depends only on their lengths.
pub(crate) fn equal(given: &[u8], expected: &[u8]) -> bool {
    given.ct_eq(expected).into()
}

/// Whether `signature` is the HMAC of `message` under `key`, checked in constant time.
pub(crate) fn hmac_matches(
    algorithm: HmacAlgorithm,
    key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> bool {
    fn check<M: hmac::Mac + hmac::KeyInit>(key: &[u8], message: &[u8], signature: &[u8]) -> bool {
        let Ok(mut mac) = <M as hmac::KeyInit>::new_from_slice(key) else {
            return false;
        };
        mac.update(message);
        mac.verify_slice(signature).is_ok()
    }
    match algorithm {
        HmacAlgorithm::Sha1 => check::<hmac::Hmac<sha1::Sha1>>(key, message, signature),
        HmacAlgorithm::Sha256 => check::<hmac::Hmac<sha2::Sha256>>(key, message, signature),
        HmacAlgorithm::Sha512 => check::<hmac::Hmac<sha2::Sha512>>(key, message, signature),
    }
}

/// Whether a timestamp `sent` (Unix seconds, as the sender claims) is within `tolerance` of
/// `now`. Any timestamp is safe to give: the arithmetic cannot overflow.
pub(crate) fn within_window(sent: i64, now: i64, tolerance: std::time::Duration) -> bool {
    now.checked_sub(sent)
        .is_some_and(|age| age.unsigned_abs() <= tolerance.as_secs())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{equal, within_window};

    #[test]
    fn equal_compares_whole_values() {
        assert!(equal(b"s3cret", b"s3cret"));
        assert!(!equal(b"s3cret", b"s3cre"));
        assert!(!equal(b"", b"x"));
    }

    #[test]
    fn the_replay_window_holds_at_the_edges_of_time() {
        let five_minutes = Duration::from_secs(300);
        let now = 1_800_000_000;
        assert!(within_window(now, now, five_minutes));
        assert!(within_window(now - 300, now, five_minutes));
        assert!(within_window(now + 300, now, five_minutes));
        assert!(!within_window(now - 301, now, five_minutes));
        // `now − 2^63` once wrapped around into the window.
        assert!(!within_window(i64::MIN, now, five_minutes));
        assert!(!within_window(i64::MAX, now, five_minutes));
        assert!(!within_window(
            now.wrapping_sub(i64::MIN),
            now,
            five_minutes
        ));
    }
}

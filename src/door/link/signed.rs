//! Signed, expiring links (`integ link`): an HMAC-SHA256 over the path, the link's params
//! (sorted, percent-encoded) and its expiry, with the id of the key that made it, so keys can
//! be rotated. A changed param, path or expiry, an unknown key or a past expiry is refused.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit as _, Mac as _};

use crate::signing;
use crate::template::escape::percent_encoded;

/// What a signature covers, first: the scheme's version.
const VERSION: &str = "integ-link-v1";

/// How long after its expiry a link still passes: clocks differ a little.
const SKEW: i64 = 60;

/// The query names the scheme itself uses.
pub(crate) const RESERVED: [&str; 3] = ["exp", "kid", "sig"];

/// Why a signed link is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// No signature, expiry or key id at all.
    Unsigned,
    /// Signed with a key the link does not (or no longer) know.
    UnknownKey(String),
    /// The signature does not match: a param, the expiry or the path changed.
    Tampered,
    /// Past its expiry (Unix seconds).
    Expired(i64),
}

impl Refused {
    /// What the person is told, which says what to do.
    pub(crate) fn message(&self) -> String {
        match self {
            Refused::Unsigned => "this link is not signed: ask for a link made by `integ link`".to_owned(),
            Refused::UnknownKey(kid) => format!(
                "this link was signed with key `{kid}`, which this integration does not accept (any more): ask for a new link"
            ),
            Refused::Tampered => "this link was changed after it was signed (a param, its expiry or its path): ask for a new link".to_owned(),
            Refused::Expired(at) => format!(
                "this link expired at {}: ask for a new one",
                chrono::DateTime::from_timestamp(*at, 0)
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| at.to_string())
            ),
        }
    }
}

/// The query of a link to `path` with `params`, signed with key `kid` and valid until `exp`.
pub(crate) fn sign(
    key: &[u8],
    kid: &str,
    path: &str,
    params: &[(String, String)],
    exp: i64,
) -> String {
    let signature = URL_SAFE_NO_PAD.encode(mac(key, path, params, exp));
    let mut query = canonical_query(params);
    if !query.is_empty() {
        query.push('&');
    }
    query.push_str(&format!(
        "exp={exp}&kid={}&sig={signature}",
        percent_encoded(kid)
    ));
    query
}

/// Checks a request's query against the link's keys (`(kid, key)`); the signed params (all
/// but `exp`, `kid`, `sig`) and the id of the key that signed them when it passes.
pub(crate) fn verify(
    keys: &[(String, Vec<u8>)],
    path: &str,
    query: &[(String, String)],
    now: i64,
) -> Result<(Vec<(String, String)>, String), Refused> {
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let (Some(exp), Some(kid), Some(sig)) = (get("exp"), get("kid"), get("sig")) else {
        return Err(Refused::Unsigned);
    };
    let exp: i64 = exp.parse().map_err(|_| Refused::Tampered)?;
    let Some((_, key)) = keys.iter().find(|(id, _)| id == kid) else {
        return Err(Refused::UnknownKey(kid.to_owned()));
    };
    let params: Vec<(String, String)> = query
        .iter()
        .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
        .cloned()
        .collect();
    let given = URL_SAFE_NO_PAD.decode(sig).map_err(|_| Refused::Tampered)?;
    if !signing::equal(&given, &mac(key, path, &params, exp)) {
        return Err(Refused::Tampered);
    }
    if now > exp.saturating_add(SKEW) {
        return Err(Refused::Expired(exp));
    }
    Ok((params, kid.to_owned()))
}

fn mac(key: &[u8], path: &str, params: &[(String, String)], exp: i64) -> Vec<u8> {
    let message = format!("{VERSION}\n{path}\n{}\n{exp}", canonical_query(params));
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The params sorted by name then value, each percent-encoded as RFC 3986 says (a space is
/// `%20`, never `+`), so that signer and checker agree whatever order and encoding a browser
/// or a CRM gives them.
fn canonical_query(params: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (percent_encoded(k), percent_encoded(v)))
        .collect();
    pairs.sort();
    pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::{Refused, sign, verify};

    fn parse(query: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect()
    }

    #[test]
    fn a_signed_link_passes_as_made_and_fails_when_anything_changes() {
        let keys = vec![
            ("k2".to_owned(), b"new key".to_vec()),
            ("k1".to_owned(), b"old key".to_vec()),
        ];
        let params = vec![
            ("month".to_owned(), "2026-11".to_owned()),
            ("note".to_owned(), "a b+c".to_owned()),
        ];
        let query = sign(b"new key", "k2", "/run/report", &params, 2_000);
        let passes = |path: &str, query: &str, now| verify(&keys, path, &parse(query), now);
        let mut expected = params.clone();
        expected.sort();
        let (mut got, kid) = passes("/run/report", &query, 1_000).unwrap();
        assert_eq!(kid, "k2");
        got.sort();
        assert_eq!(got, expected);
        // An old key still passes while it is listed.
        let old = sign(b"old key", "k1", "/run/report", &params, 2_000);
        assert!(passes("/run/report", &old, 1_000).is_ok());
        assert_eq!(
            passes("/run/report", &query.replace("2026-11", "2026-12"), 1_000),
            Err(Refused::Tampered)
        );
        assert_eq!(
            passes("/run/report", &query.replace("exp=2000", "exp=9000"), 1_000),
            Err(Refused::Tampered)
        );
        assert_eq!(passes("/run/other", &query, 1_000), Err(Refused::Tampered));
        assert_eq!(
            passes("/run/report", &format!("{query}&extra=1"), 1_000),
            Err(Refused::Tampered)
        );
        assert_eq!(
            passes("/run/report", &query, 2_061),
            Err(Refused::Expired(2_000))
        );
        assert!(
            passes("/run/report", &query, 2_059).is_ok(),
            "a minute of skew"
        );
        let unknown = sign(b"gone", "k0", "/run/report", &params, 2_000);
        assert_eq!(
            passes("/run/report", &unknown, 1_000),
            Err(Refused::UnknownKey("k0".into()))
        );
        assert_eq!(
            passes("/run/report", "month=2026-11", 1_000),
            Err(Refused::Unsigned)
        );
    }
}

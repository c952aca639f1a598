//! Checking who sent a webhook: a shared token, a bearer token, basic auth, or an HMAC of the
//! raw body. Every comparison takes the same time whatever the input, and no error says what
//! was expected.

use axum::http::HeaderMap;
use base64::Engine as _;

use crate::config::kinds::{HmacAlgorithm, HookAuth, SignatureEncoding, SignedStyle};
use crate::signing::{equal, hmac_matches, within_window};
use crate::template::Templates;

/// A hook's auth with its secrets rendered.
pub(super) enum Verifier {
    None,
    Token {
        header: String,
        secret: String,
    },
    Bearer(String),
    Basic(String),
    Hmac {
        header: String,
        prefix: String,
        algorithm: HmacAlgorithm,
        encoding: SignatureEncoding,
        secrets: Vec<String>,
    },
    Signed {
        style: SignedStyle,
        /// The HMAC keys (for Standard Webhooks, decoded from `whsec_<base64>`).
        keys: Vec<Vec<u8>>,
        tolerance: std::time::Duration,
    },
}

impl Verifier {
    pub(super) fn new(
        auth: &HookAuth,
        templates: &Templates,
        ctx: &minijinja::Value,
    ) -> anyhow::Result<Verifier> {
        let render = |text| templates.render_str(text, ctx);
        Ok(match auth {
            HookAuth::None => Verifier::None,
            HookAuth::Token { header, secret } => Verifier::Token {
                header: header.clone(),
                secret: render(secret)?,
            },
            HookAuth::Bearer { secret } => Verifier::Bearer(format!("Bearer {}", render(secret)?)),
            HookAuth::Basic { user, password } => {
                let pair = format!("{}:{}", render(user)?, render(password)?);
                Verifier::Basic(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                ))
            }
            HookAuth::Hmac {
                header,
                prefix,
                algorithm,
                encoding,
                secrets,
            } => Verifier::Hmac {
                header: header.clone(),
                prefix: prefix.clone(),
                algorithm: *algorithm,
                encoding: *encoding,
                secrets: secrets.iter().map(render).collect::<anyhow::Result<_>>()?,
            },
            HookAuth::Signed {
                style,
                secrets,
                tolerance,
            } => Verifier::Signed {
                style: *style,
                keys: secrets
                    .iter()
                    .map(|secret| {
                        let secret = render(secret)?;
                        Ok(match (style, secret.strip_prefix("whsec_")) {
                            (SignedStyle::Standard, Some(encoded)) => {
                                base64::engine::general_purpose::STANDARD
                                    .decode(encoded)
                                    .map_err(|_| {
                                        anyhow::anyhow!("a `whsec_` secret must be base64")
                                    })?
                            }
                            _ => secret.into_bytes(),
                        })
                    })
                    .collect::<anyhow::Result<_>>()?,
                tolerance: *tolerance,
            },
        })
    }

    /// The headers that carry this hook's credential or signature (besides `Authorization`):
    /// a run never sees them and the store never keeps them.
    pub(super) fn credential_headers(&self) -> Vec<&str> {
        match self {
            Verifier::None | Verifier::Bearer(_) | Verifier::Basic(_) => Vec::new(),
            Verifier::Token { header, .. } | Verifier::Hmac { header, .. } => vec![header],
            Verifier::Signed { style, .. } => vec![match style {
                SignedStyle::Stripe => "stripe-signature",
                SignedStyle::Slack => "x-slack-signature",
                SignedStyle::Standard => "webhook-signature",
            }],
        }
    }

    /// The `WWW-Authenticate` of a 401, for the schemes of `Authorization` (RFC 9110 asks for
    /// it; a browser or `curl --anyauth` needs it to know what to send).
    pub(super) fn challenge(&self) -> Option<&'static str> {
        match self {
            Verifier::Basic(_) => Some(r#"Basic realm="integ", charset="UTF-8""#),
            Verifier::Bearer(_) => Some(r#"Bearer realm="integ""#),
            _ => None,
        }
    }

    /// `Err` with a reason fit for the log (never a secret or the expected value).
    pub(super) fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), &'static str> {
        let header = |name: &str| headers.get(name).map(|v| v.as_bytes());
        match self {
            Verifier::None => Ok(()),
            Verifier::Token {
                header: name,
                secret,
            } => {
                let given = header(name).ok_or("the token header is missing")?;
                equal(given, secret.as_bytes())
                    .then_some(())
                    .ok_or("wrong token")
            }
            Verifier::Bearer(expected) | Verifier::Basic(expected) => {
                let given = header("authorization").ok_or("no Authorization header")?;
                equal(given, expected.as_bytes())
                    .then_some(())
                    .ok_or("wrong credentials")
            }
            Verifier::Hmac {
                header: name,
                prefix,
                algorithm,
                encoding,
                secrets,
            } => {
                let given = header(name).ok_or("the signature header is missing")?;
                let given = std::str::from_utf8(given).map_err(|_| "the signature is not text")?;
                let given = given
                    .trim()
                    .strip_prefix(prefix.as_str())
                    .ok_or("the signature lacks its prefix")?;
                let signature = match encoding {
                    SignatureEncoding::Hex => {
                        hex::decode(given).map_err(|_| "the signature is not hex")?
                    }
                    SignatureEncoding::Base64 => base64::engine::general_purpose::STANDARD
                        .decode(given)
                        .map_err(|_| "the signature is not base64")?,
                };
                // Any of the secrets (rotation); each check is constant-time.
                let matched = secrets
                    .iter()
                    .any(|secret| hmac_matches(*algorithm, secret.as_bytes(), body, &signature));
                matched.then_some(()).ok_or("wrong signature")
            }
            Verifier::Signed {
                style,
                keys,
                tolerance,
            } => verify_signed(*style, keys, *tolerance, headers, body),
        }
    }
}

/// A timestamped signature: the timestamp must be recent, and the HMAC of the scheme's
/// signing string must match one of the keys.
fn verify_signed(
    style: SignedStyle,
    keys: &[Vec<u8>],
    tolerance: std::time::Duration,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), &'static str> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    // (timestamp, signing string prefix, candidate signatures as bytes)
    let (timestamp, prefix, candidates): (&str, String, Vec<Vec<u8>>) = match style {
        SignedStyle::Stripe => {
            let header = text("stripe-signature").ok_or("the signature header is missing")?;
            let mut timestamp = None;
            let mut signatures = Vec::new();
            for part in header.split(',') {
                match part.trim().split_once('=') {
                    Some(("t", t)) => timestamp = Some(t),
                    Some(("v1", signature)) => signatures.extend(hex::decode(signature).ok()),
                    _ => {}
                }
            }
            let timestamp = timestamp.ok_or("the signature has no timestamp")?;
            (timestamp, format!("{timestamp}."), signatures)
        }
        SignedStyle::Slack => {
            let timestamp =
                text("x-slack-request-timestamp").ok_or("the timestamp header is missing")?;
            let signature = text("x-slack-signature").ok_or("the signature header is missing")?;
            let signature = signature
                .strip_prefix("v0=")
                .ok_or("the signature lacks its prefix")?;
            let signature = hex::decode(signature).map_err(|_| "the signature is not hex")?;
            (timestamp, format!("v0:{timestamp}:"), vec![signature])
        }
        SignedStyle::Standard => {
            let id = text("webhook-id").ok_or("the webhook-id header is missing")?;
            let timestamp = text("webhook-timestamp").ok_or("the timestamp header is missing")?;
            let header = text("webhook-signature").ok_or("the signature header is missing")?;
            let signatures = header
                .split_whitespace()
                .filter_map(|s| s.strip_prefix("v1,"))
                .filter_map(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
                .collect();
            (timestamp, format!("{id}.{timestamp}."), signatures)
        }
    };
    let sent: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| "the timestamp is not a number")?;
    if !within_window(sent, chrono::Utc::now().timestamp(), tolerance) {
        return Err("the timestamp is outside the replay window (a replay, or a wrong clock)");
    }
    let mut signed = prefix.into_bytes();
    signed.extend_from_slice(body);
    let matched = keys.iter().any(|key| {
        candidates
            .iter()
            .any(|candidate| hmac_matches(HmacAlgorithm::Sha256, key, &signed, candidate))
    });
    matched.then_some(()).ok_or("wrong signature")
}

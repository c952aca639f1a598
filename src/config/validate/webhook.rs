//! Validating an integration's `webhook`: its path, how the sender authenticates, and how the
//! request maps to params.

use toml::Spanned;
use toml::de::DeValue;

use super::{Scope, Validator};
use crate::config::kinds::{
    HmacAlgorithm, HookAuth, MappedParam, SignatureEncoding, SignedStyle, Webhook,
};
use crate::config::raw::{
    RawHmacAlgorithm, RawRespond, RawSignatureEncoding, RawSignedStyle, RawWebhook,
};
use crate::diagnostic::line_col;
use crate::template::Kind;

/// The dedupe key of a hook signed the Standard Webhooks way, unless it names its own.
const STANDARD_DEDUPE: &str = "{{ trigger.headers['webhook-id'] }}";

/// Senders re-deliver for days (Raynet: up to a week); a month covers them with room.
const DEFAULT_DEDUPE_FOR: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

// What the auth secrets may read, and what the params mapping, `dedupe` and `when` may read.
use crate::scope::{HOOK_ROOTS as TRIGGER_ROOTS, SECRET_ROOTS};

impl Validator<'_> {
    pub(super) fn webhook(
        &mut self,
        integration: &str,
        value: Spanned<DeValue<'_>>,
        params: &[String],
        secrets: &[String],
    ) -> Option<Webhook> {
        let span = value.span();
        let raw: RawWebhook = self.de(value)?;
        let path = format!("integration.{integration}.webhook");
        let hook_path = raw.path.get_ref().trim_matches('/').to_owned();
        let path_ok = !hook_path.is_empty()
            && hook_path
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '.'));
        if !path_ok {
            self.error(
                format!(
                    "invalid webhook path `{}`: use letters, digits, `-`, `_`, `.` and `/`",
                    raw.path.get_ref()
                ),
                raw.path.span(),
            );
        } else if let Some((first, at)) = self.hook_paths.get(&hook_path) {
            // The listener routes a path to one integration: the other would never run.
            let (line, col) = line_col(self.source, at.start);
            let hint = format!(
                "`{first}` has it first, at {}:{line}:{col}; give each webhook its own path",
                self.display
            );
            self.error_with_hint(
                format!("webhook path `/hooks/{hook_path}` is already the path of `{first}`"),
                raw.path.span(),
                Some(hint),
            );
        } else {
            self.hook_paths
                .insert(hook_path.clone(), (integration.to_owned(), raw.path.span()));
        }
        let scope_of = |roots: &[&'static str]| Scope::outside_steps(roots, params, secrets);
        let secret_scope = scope_of(SECRET_ROOTS);
        let trigger_scope = scope_of(TRIGGER_ROOTS);
        // The listener reads these secrets, not a run: keep them out of the run's list.
        let used_by_steps = std::mem::take(&mut self.secrets_used);
        let auth = match raw.auth {
            None => {
                self.error_with_hint(
                    format!("webhook of `{integration}` has no `auth`"),
                    span.clone(),
                    Some("say how the sender proves who it is (`auth.token`, `auth.hmac`, …), or declare `auth.none = true`".into()),
                );
                None
            }
            Some(auth) => self.hook_auth(&path, auth, &secret_scope),
        };
        self.secrets_used = used_by_steps;
        let mut mapped = Vec::new();
        for (name, text) in &raw.params {
            if !params.contains(name) {
                self.error(
                    format!("webhook maps param `{name}`, which `{integration}` does not declare"),
                    text.span(),
                );
                continue;
            }
            if let Some((text, reads)) = self.template_reading(
                &format!("{path}.params.{name}"),
                text,
                &trigger_scope,
                Kind::Plain,
            ) {
                let reads: Vec<String> = reads
                    .into_iter()
                    .filter(|var| var.split('.').next() == Some("trigger"))
                    .collect();
                if !reads.is_empty() {
                    self.hook_params.push(name.clone());
                }
                mapped.push(MappedParam {
                    name: name.clone(),
                    text,
                    reads,
                });
            }
        }
        // Standard Webhooks' `webhook-id` is that spec's idempotency key: a re-delivery repeats
        // it. A `dedupe` of the hook's own (`""` for none) says otherwise.
        let standard = matches!(
            auth,
            Some(HookAuth::Signed {
                style: SignedStyle::Standard,
                ..
            })
        );
        let dedupe_source = raw
            .dedupe
            .or_else(|| standard.then(|| Spanned::new(span.clone(), STANDARD_DEDUPE.to_owned())));
        let has_dedupe = dedupe_source.is_some();
        let dedupe = dedupe_source
            .and_then(|d| self.template(&format!("{path}.dedupe"), &d, &trigger_scope));
        let when = raw.when.and_then(|w| {
            let expression = Spanned::new(w.span(), super::steps::when_expression(w.get_ref()));
            self.template(&format!("{path}.when"), &expression, &trigger_scope)
        });
        let dedupe_for = match &raw.dedupe_for {
            Some(keep) if !has_dedupe => {
                self.error("`dedupe_for` has no `dedupe` key to keep", keep.span());
                None
            }
            Some(keep) => self.duration(keep),
            None => Some(DEFAULT_DEDUPE_FOR),
        };
        let backoff = match raw.backoff {
            Some(backoff) => self.duration(&backoff)?,
            None => std::time::Duration::from_secs(30),
        };
        Some(Webhook {
            path: hook_path,
            auth: auth?,
            params: mapped,
            dedupe,
            dedupe_for: dedupe_for?,
            when,
            retries: raw.retries.unwrap_or(3),
            backoff,
            respond_with_output: match raw.respond {
                Some(RawRespond::Output) => Some(match raw.respond_timeout {
                    Some(t) => self.duration(&t)?,
                    None => std::time::Duration::from_secs(10),
                }),
                _ => None,
            },
        })
    }

    fn hook_auth(
        &mut self,
        path: &str,
        raw: Spanned<crate::config::raw::RawHookAuth>,
        scope: &Scope<'_>,
    ) -> Option<HookAuth> {
        let span = raw.span();
        let raw = raw.into_inner();
        let given = [
            raw.token.is_some(),
            raw.bearer.is_some(),
            raw.basic.is_some(),
            raw.hmac.is_some(),
            raw.signed.is_some(),
            raw.none == Some(true),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            self.error(
                "`auth` needs exactly one of `token`, `bearer`, `basic`, `hmac`, `signed` or `none = true`",
                span,
            );
            return None;
        }
        if let Some(signed) = raw.signed {
            let mut sources: Vec<Spanned<String>> = signed.secrets.unwrap_or_default();
            sources.extend(signed.secret);
            if sources.is_empty() {
                self.error(
                    "`auth.signed` needs a `secret` (or `secrets`, for rotation)",
                    span,
                );
                return None;
            }
            let mut secrets = Vec::new();
            for (i, source) in sources.iter().enumerate() {
                secrets.push(self.template(
                    &format!("{path}.auth.signed.secrets[{i}]"),
                    source,
                    scope,
                ));
            }
            let tolerance = match signed.tolerance {
                Some(t) => self.duration(&t)?,
                None => std::time::Duration::from_secs(300),
            };
            return Some(HookAuth::Signed {
                style: match signed.style {
                    RawSignedStyle::Stripe => SignedStyle::Stripe,
                    RawSignedStyle::Slack => SignedStyle::Slack,
                    RawSignedStyle::Standard => SignedStyle::Standard,
                },
                secrets: secrets.into_iter().collect::<Option<Vec<_>>>()?,
                tolerance,
            });
        }
        if let Some(token) = raw.token {
            let secret =
                self.template(&format!("{path}.auth.token.secret"), &token.secret, scope)?;
            return Some(HookAuth::Token {
                header: token.header,
                secret,
            });
        }
        if let Some(bearer) = raw.bearer {
            let secret =
                self.template(&format!("{path}.auth.bearer.secret"), &bearer.secret, scope)?;
            return Some(HookAuth::Bearer { secret });
        }
        if let Some(basic) = raw.basic {
            let user = self.template(&format!("{path}.auth.basic.user"), &basic.user, scope);
            let password = self.template(
                &format!("{path}.auth.basic.password"),
                &basic.password,
                scope,
            );
            return Some(HookAuth::Basic {
                user: user?,
                password: password?,
            });
        }
        if let Some(hmac) = raw.hmac {
            let mut sources: Vec<Spanned<String>> = hmac.secrets.unwrap_or_default();
            sources.extend(hmac.secret);
            if sources.is_empty() {
                self.error(
                    "`auth.hmac` needs a `secret` (or `secrets`, for rotation)",
                    span,
                );
                return None;
            }
            let mut secrets = Vec::new();
            for (i, source) in sources.iter().enumerate() {
                secrets.push(self.template(
                    &format!("{path}.auth.hmac.secrets[{i}]"),
                    source,
                    scope,
                ));
            }
            return Some(HookAuth::Hmac {
                header: hmac.header,
                prefix: hmac.prefix.unwrap_or_default(),
                algorithm: match hmac.algorithm.unwrap_or(RawHmacAlgorithm::Sha256) {
                    RawHmacAlgorithm::Sha1 => HmacAlgorithm::Sha1,
                    RawHmacAlgorithm::Sha256 => HmacAlgorithm::Sha256,
                    RawHmacAlgorithm::Sha512 => HmacAlgorithm::Sha512,
                },
                encoding: match hmac.encoding.unwrap_or(RawSignatureEncoding::Hex) {
                    RawSignatureEncoding::Hex => SignatureEncoding::Hex,
                    RawSignatureEncoding::Base64 => SignatureEncoding::Base64,
                },
                secrets: secrets.into_iter().collect::<Option<Vec<_>>>()?,
            });
        }
        Some(HookAuth::None)
    }
}

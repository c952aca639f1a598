//! Validating a `link` table: how a button or link proves it may run the integration, and what
//! it is answered with.

use std::time::Duration;

use toml::Spanned;
use toml::de::DeValue;

use super::{Scope, Validator};
use crate::config::kinds::{Answer, Link, LinkAuth, RaynetCheck};
use crate::config::raw::{RawAnswer, RawLink};
use crate::scope::SECRET_ROOTS;
use crate::template::Kind;
use crate::trigger::LINK_FIELDS;

/// How long a link's request waits for its run by default: within Raynet's 10 s.
const ANSWER_WITHIN: Duration = Duration::from_secs(8);

impl Validator<'_> {
    pub(super) fn link(
        &mut self,
        integration: &str,
        value: Spanned<DeValue<'_>>,
        params: &[String],
        secrets: &[String],
    ) -> Option<Link> {
        let span = value.span();
        let raw: RawLink = self.de(value)?;
        let path = format!("integration.{integration}.link");
        let scope_of = |roots: &[&'static str]| Scope::outside_steps(roots, params, secrets);
        let secret_scope = scope_of(SECRET_ROOTS);
        // The listener reads these secrets, not a run: keep them out of the run's list.
        let used_by_steps = std::mem::take(&mut self.secrets_used);
        let auth = match raw.auth {
            None => {
                self.error_with_hint(
                    format!("link of `{integration}` has no `auth`"),
                    span,
                    Some("say how a link proves it may run it (`auth.signed`, `auth.token`, `auth.basic`), or declare `auth.none = true`".into()),
                );
                None
            }
            Some(auth) => {
                let auth_span = auth.span();
                let auth = auth.into_inner();
                let given = [
                    auth.signed.is_some(),
                    auth.token.is_some(),
                    auth.basic.is_some(),
                    auth.none == Some(true),
                ];
                if given.iter().filter(|g| **g).count() != 1 {
                    self.error(
                        "`auth` needs exactly one of `signed`, `token`, `basic` or `none = true`",
                        auth_span,
                    );
                    None
                } else if let Some(signed) = auth.signed {
                    let kid = signed
                        .key_id
                        .as_ref()
                        .map_or_else(|| "1".to_owned(), |k| k.get_ref().clone());
                    let mut keys = Vec::new();
                    let mut ok = true;
                    let sources = std::iter::once((kid, &signed.secret))
                        .chain(signed.previous.iter().map(|(k, v)| (k.clone(), v)));
                    for (kid, source) in sources {
                        let valid = !kid.is_empty()
                            && kid
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
                        if !valid || keys.iter().any(|(id, _)| *id == kid) {
                            self.error(
                                format!(
                                    "key id `{kid}` must be unique, of letters, digits, `-`, `_` and `.`"
                                ),
                                source.span(),
                            );
                            ok = false;
                        }
                        match self.template(
                            &format!("{path}.auth.signed.{kid}"),
                            source,
                            &secret_scope,
                        ) {
                            Some(key) => keys.push((kid, key)),
                            None => ok = false,
                        }
                    }
                    ok.then_some(LinkAuth::Signed { keys })
                } else if let Some(token) = auth.token {
                    let query = token.query.get_ref().clone();
                    if query.is_empty() || params.contains(&query) {
                        self.error(
                            format!("`auth.token.query` must name a query parameter that is not a param: `{query}`"),
                            token.query.span(),
                        );
                    }
                    self.template(
                        &format!("{path}.auth.token.secret"),
                        &token.secret,
                        &secret_scope,
                    )
                    .map(|secret| LinkAuth::Token { query, secret })
                } else if let Some(basic) = auth.basic {
                    let user = self.template(
                        &format!("{path}.auth.basic.user"),
                        &basic.user,
                        &secret_scope,
                    );
                    let password = self.template(
                        &format!("{path}.auth.basic.password"),
                        &basic.password,
                        &secret_scope,
                    );
                    Some(LinkAuth::Basic {
                        user: user?,
                        password: password?,
                    })
                } else {
                    Some(LinkAuth::None)
                }
            }
        };
        self.secrets_used = used_by_steps;
        let filename = raw.filename.as_ref().map(|name| {
            self.template_as(
                &format!("{path}.filename"),
                name,
                &scope_of(&["params"]),
                Kind::Path,
            )
        });
        let answer_within = match &raw.answer_within {
            Some(d) => self.duration(d),
            None => Some(ANSWER_WITHIN),
        };
        // The mapping reads the link's query; its steps read only params.
        let trigger_fields = std::mem::replace(&mut self.trigger_fields, LINK_FIELDS);
        let mut mapped = Vec::new();
        for (param, text) in &raw.params {
            if !params.contains(param) {
                self.error(
                    format!("link maps param `{param}`, which `{integration}` does not declare"),
                    text.span(),
                );
                continue;
            }
            if let Some(text) = self.template(
                &format!("{path}.params.{param}"),
                text,
                &scope_of(&["trigger"]),
            ) {
                mapped.push((param.clone(), text));
            }
        }
        self.trigger_fields = trigger_fields;
        let mut cors_origins = Vec::new();
        for origin in &raw.cors_origins {
            let text = origin.get_ref().trim_end_matches('/');
            let host = text
                .strip_prefix("https://")
                .or_else(|| text.strip_prefix("http://"));
            let valid =
                host.is_some_and(|host| !host.is_empty() && !host.contains(['/', '?', '#']));
            if valid {
                cors_origins.push(text.to_owned());
            } else {
                self.error(
                    format!("`{text}` is not an origin: expected a scheme and a host, such as `https://app.raynet.cz`"),
                    origin.span(),
                );
            }
        }
        let used_by_steps = std::mem::take(&mut self.secrets_used);
        let raynet_checktoken = raw.raynet_checktoken.as_ref().and_then(|check| {
            let api = check.api.get_ref().trim_end_matches('/').to_owned();
            if !(api.starts_with("https://") || api.starts_with("http://")) {
                self.error(
                    format!("`{api}` is not an API URL: expected one such as `https://app.raynet.cz/api/v2`"),
                    check.api.span(),
                );
            }
            let user = self.template(&format!("{path}.raynet_checktoken.user"), &check.user, &secret_scope);
            let key = self.template(&format!("{path}.raynet_checktoken.key"), &check.key, &secret_scope);
            Some(RaynetCheck {
                api,
                user: user?,
                key: key?,
                instance: check.instance.clone(),
            })
        });
        self.secrets_used = used_by_steps;
        Some(Link {
            raynet_checktoken,
            cors_origins,
            params: mapped,
            auth: auth?,
            answer: match raw.answer {
                None | Some(RawAnswer::Page) => Answer::Page,
                Some(RawAnswer::Download) => Answer::Download,
                Some(RawAnswer::Ajax) => Answer::Ajax,
            },
            filename: match filename {
                Some(name) => Some(name?),
                None => None,
            },
            answer_within: answer_within?,
        })
    }
}

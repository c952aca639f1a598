//! Validating an `http` step: its method and URL, body, auth, retries, records and paging.

use std::time::Duration;

use toml::Spanned;

use super::super::{Scope, Validator, inner_span};
use super::{StepContext, when_expression};
use crate::config::kinds::{Body, HttpAuth, HttpStep, PageMode, Paginate, Rate};
use crate::config::raw::{RawHttp, RawPaginate};
use crate::template::{Kind, Text};

/// What a response template (`records`, `paginate`) can read besides the step's own names.
const RESPONSE_ROOTS: &[&str] = &["body", "headers", "status"];
/// The keys that give an `http` step its method and URL.
const METHOD_KEYS: &[&str] = &[
    "http.get",
    "http.post",
    "http.put",
    "http.patch",
    "http.delete",
    "http.head",
];
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_RETRIES: u32 = 3;
const DEFAULT_BACKOFF: Duration = Duration::from_millis(500);

impl Validator<'_> {
    pub(super) fn http(
        &mut self,
        context: &StepContext<'_>,
        raw: Spanned<RawHttp>,
        item_roots: &[&'static str],
    ) -> Option<HttpStep> {
        let span = raw.span();
        let raw = raw.into_inner();
        let path = format!("{}.http", context.path);
        let scope = context.scope(item_roots);
        let methods = [
            ("GET", raw.get),
            ("POST", raw.post),
            ("PUT", raw.put),
            ("PATCH", raw.patch),
            ("DELETE", raw.delete),
            ("HEAD", raw.head),
        ];
        let mut given = methods
            .into_iter()
            .filter_map(|(m, url)| url.map(|url| (m, url)));
        let (Some((method, url)), None) = (given.next(), given.next()) else {
            if context.left_out.any(METHOD_KEYS) {
                return None;
            }
            self.error_with_hint(
                "an `http` step needs exactly one method with its URL",
                span,
                Some("e.g. `http.get = \"https://api.example.com/items\"`".into()),
            );
            return None;
        };
        let url = self.url(
            &format!("{path}.{}", method.to_ascii_lowercase()),
            &url,
            &scope,
        );
        let query = self.text_map(&format!("{path}.query"), &raw.query, &scope);
        let headers = self.text_map(&format!("{path}.headers"), &raw.headers, &scope);
        let body = match (raw.json, raw.form, raw.body) {
            (None, None, None) => Some(Body::None),
            (Some(json), None, None) => self
                .json_template(&format!("{path}.json"), json.span(), json.get_ref(), &scope)
                .map(Body::Json),
            (None, Some(form), None) => self
                .text_map(&format!("{path}.form"), form.get_ref(), &scope)
                .map(Body::Form),
            (None, None, Some(raw_body)) => self
                .template(&format!("{path}.body"), &raw_body, &scope)
                .map(Body::Raw),
            _ => {
                self.error(
                    "an `http` step has at most one of `json`, `form` or `body`",
                    span.clone(),
                );
                None
            }
        };
        let auth = match raw.auth.map(Spanned::into_inner) {
            None => Some(None),
            Some(auth) => match (auth.basic, auth.bearer) {
                (Some(basic), None) => {
                    let user =
                        self.template(&format!("{path}.auth.basic.user"), &basic.user, &scope);
                    let password = self.template(
                        &format!("{path}.auth.basic.password"),
                        &basic.password,
                        &scope,
                    );
                    user.zip(password)
                        .map(|(user, password)| Some(HttpAuth::Basic { user, password }))
                }
                (None, Some(token)) => self
                    .template(&format!("{path}.auth.bearer"), &token, &scope)
                    .map(|token| Some(HttpAuth::Bearer(token))),
                _ => {
                    self.error(
                        "`auth` needs exactly one of `basic` or `bearer`",
                        span.clone(),
                    );
                    None
                }
            },
        };
        let expect = raw.expect.map(Spanned::into_inner).unwrap_or_default().0;
        let timeout = match raw.timeout {
            Some(t) => self.duration(&t),
            None => Some(DEFAULT_TIMEOUT),
        };
        let connect_timeout = match raw.connect_timeout {
            Some(t) => self.duration(&t),
            None => Some(DEFAULT_CONNECT_TIMEOUT),
        };
        let backoff = match raw.backoff {
            Some(t) => self.duration(&t),
            None => Some(DEFAULT_BACKOFF),
        };
        let rate = match raw.rate {
            Some(rate) => self.rate(&rate).map(Some),
            None => Some(None),
        };
        let mut response_roots = item_roots.to_vec();
        response_roots.extend_from_slice(RESPONSE_ROOTS);
        let response_scope = context.scope(&response_roots);
        let has_records = raw.records.is_some() || context.left_out.any(&["http.records"]);
        let records = raw
            .records
            .and_then(|r| self.template(&format!("{path}.records"), &r, &response_scope));
        let paginate = match raw.paginate {
            None => Some(None),
            Some(paginate) => {
                if !has_records {
                    self.error(
                        "`paginate` needs `records`: where the records sit in each page",
                        paginate.span(),
                    );
                }
                self.paginate(&path, paginate, &response_scope).map(Some)
            }
        };
        Some(HttpStep {
            method: method.to_owned(),
            url: url?,
            query: query?,
            headers: headers?,
            body: body?,
            auth: auth?,
            expect,
            timeout: timeout?,
            connect_timeout: connect_timeout?,
            retries: raw.retries.unwrap_or(DEFAULT_RETRIES),
            retry_writes: raw.retry_writes.unwrap_or(false),
            backoff: backoff?,
            rate: rate?,
            records,
            paginate: paginate?,
        })
    }

    fn paginate(
        &mut self,
        path: &str,
        raw: Spanned<RawPaginate>,
        scope: &Scope<'_>,
    ) -> Option<Paginate> {
        let span = raw.span();
        let raw = raw.into_inner();
        let mut modes = Vec::new();
        if let Some(next) = raw.next_link {
            modes.push(
                self.template(&format!("{path}.paginate.next_link"), &next, scope)
                    .map(PageMode::NextLink),
            );
        }
        if raw.link_header == Some(true) {
            modes.push(Some(PageMode::LinkHeader));
        }
        if let Some(offset) = raw.offset {
            modes.push(Some(PageMode::Offset {
                offset_param: offset.param.unwrap_or_else(|| "offset".into()),
                limit_param: offset.limit_param.unwrap_or_else(|| "limit".into()),
                limit: offset.limit.max(1),
            }));
        }
        if let Some(page) = raw.page {
            modes.push(Some(PageMode::PageNumber {
                param: page.param.unwrap_or_else(|| "page".into()),
                start: page.start.unwrap_or(1),
            }));
        }
        if let Some(cursor) = raw.cursor {
            modes.push(
                self.template(&format!("{path}.paginate.cursor.next"), &cursor.next, scope)
                    .map(|next| PageMode::Cursor {
                        param: cursor.param,
                        next,
                    }),
            );
        }
        if modes.len() != 1 {
            self.error(
                "`paginate` needs exactly one of `next_link`, `link_header`, `offset`, `page` or `cursor`",
                span,
            );
            return None;
        }
        let mode = modes.pop().flatten()?;
        let stop_when = match raw.stop_when {
            Some(stop) => {
                let expression = Spanned::new(stop.span(), when_expression(stop.get_ref()));
                let mut roots = scope.roots.clone();
                roots.push("records");
                let stop_scope = Scope {
                    roots,
                    ..scope.clone()
                };
                Some(self.template(
                    &format!("{path}.paginate.stop_when"),
                    &expression,
                    &stop_scope,
                )?)
            }
            None => None,
        };
        Some(Paginate {
            mode,
            max_pages: raw.max_pages,
            stop_when,
        })
    }

    /// A step's URL: its values are encoded as data, so one that would set the scheme or host
    /// fails every run; say so now.
    fn url(&mut self, name: &str, value: &Spanned<String>, scope: &Scope<'_>) -> Option<Text> {
        let text = self.template_as(name, value, scope, Kind::Url)?;
        if let Some(range) = crate::template::value_in_authority(value.get_ref()) {
            let expression = &value.get_ref()[range.clone()];
            let span = inner_span(self.source, value.span(), value.get_ref(), range);
            self.error_with_hint(
                format!("the URL's scheme and host would come from a value, `{expression}`"),
                span,
                Some(format!(
                    "values in a URL are data, refused there; write the start of the URL in the \
                     file, or mark a value that is a whole base URL `| safe`: `{}`",
                    safe_form(expression)
                )),
            );
            return None;
        }
        Some(text)
    }

    fn rate(&mut self, value: &Spanned<String>) -> Option<Rate> {
        let parsed = value.get_ref().split_once('/').and_then(|(count, unit)| {
            let count: u32 = count.trim().parse().ok().filter(|n| *n > 0)?;
            let per = match unit.trim() {
                "s" | "sec" | "second" => Duration::from_secs(1),
                "m" | "min" | "minute" => Duration::from_secs(60),
                "h" | "hour" => Duration::from_secs(3600),
                _ => return None,
            };
            Some(Rate { count, per })
        });
        if parsed.is_none() {
            self.error(
                format!(
                    "invalid rate `{}`: expected e.g. `10/s`, `100/min` or `1000/h`",
                    value.get_ref()
                ),
                value.span(),
            );
        }
        parsed
    }
}

/// `{{ expr }}` as `{{ expr | safe }}`, for a hint.
fn safe_form(expression: &str) -> String {
    let inner = expression
        .trim_start_matches("{{")
        .trim_end_matches("}}")
        .trim();
    format!("{{{{ {inner} | safe }}}}")
}

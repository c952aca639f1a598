//! Values are data, never structure. In a URL or a file path, every value a template
//! substitutes is marked while rendering (between two Unicode noncharacters, see [`mark`]); the
//! functions here then walk the rendered text, know for each value where it landed, and encode
//! or refuse it there. The template's own text is never touched, and neither is a value marked
//! `| safe`: that is the author saying "this is structure".

use std::fmt;
use std::ops::Range;

use crate::diagnostic::shown_value;

/// Opens a substituted value in rendered text. Noncharacters are never part of a URL or a path,
/// and they are taken out of every value before it is marked.
const OPEN: char = '\u{FDD0}';
/// Closes a substituted value.
const CLOSE: char = '\u{FDD1}';

/// Writes `text` as one marked value.
pub(crate) fn mark(out: &mut dyn fmt::Write, text: &str) -> fmt::Result {
    out.write_char(OPEN)?;
    if text.contains([OPEN, CLOSE]) {
        out.write_str(&text.replace([OPEN, CLOSE], ""))?;
    } else {
        out.write_str(text)?;
    }
    out.write_char(CLOSE)
}

/// Whether the text of a template could be mistaken for marks.
pub(crate) fn has_marks(source: &str) -> bool {
    source.contains([OPEN, CLOSE])
}

/// A stretch of rendered text: the template's own (or a `| safe` value), or a marked value.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Value(&'a str),
}

fn pieces(rendered: &str) -> Result<Vec<Piece<'_>>, String> {
    let stray = || {
        "a value marked `| safe` contains the noncharacter U+FDD0 or U+FDD1, which integ uses to \
         mark values"
            .to_owned()
    };
    let mut pieces = Vec::new();
    let mut rest = rendered;
    while let Some(open) = rest.find(OPEN) {
        let (text, after) = rest.split_at(open);
        if text.contains(CLOSE) {
            return Err(stray());
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        let after = &after[OPEN.len_utf8()..];
        let close = after.find(CLOSE).ok_or_else(stray)?;
        let value = &after[..close];
        if value.contains(OPEN) {
            return Err(stray());
        }
        pieces.push(Piece::Value(value));
        rest = &after[close + CLOSE.len_utf8()..];
    }
    if rest.contains(CLOSE) {
        return Err(stray());
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

/// The parts of a URL a value can land in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum UrlPart {
    /// Scheme, user, host and port: everything before the path.
    #[default]
    Authority,
    Path,
    Query,
    Fragment,
}

/// Follows a URL's structural text, character by character, to know which part comes next.
#[derive(Debug, Default)]
struct UrlCursor {
    part: UrlPart,
    /// The text of the authority so far, to tell the `//` after `https:` from the path's `/`.
    authority: String,
}

impl UrlCursor {
    fn feed(&mut self, c: char) {
        self.part = match (self.part, c) {
            (UrlPart::Authority, '/') if is_scheme_prefix(&self.authority) => {
                self.authority.push(c);
                UrlPart::Authority
            }
            (UrlPart::Authority, '/') => UrlPart::Path,
            (UrlPart::Authority | UrlPart::Path, '?') => UrlPart::Query,
            (UrlPart::Authority | UrlPart::Path | UrlPart::Query, '#') => UrlPart::Fragment,
            (UrlPart::Authority, _) => {
                self.authority.push(c);
                UrlPart::Authority
            }
            (part, _) => part,
        };
    }
}

/// `https:` or `https:/`: the next `/` belongs to the `//` that opens the authority.
fn is_scheme_prefix(text: &str) -> bool {
    let Some(scheme) = text.strip_suffix(":/").or_else(|| text.strip_suffix(':')) else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The rendered URL with each value encoded for its part: in the path exactly one segment,
/// in the query or fragment exactly one component. A value in the scheme, host or port, or
/// one that would make a path segment empty, `.` or `..`, is refused.
pub(crate) fn finish_url(rendered: &str) -> Result<String, String> {
    let mut out = String::with_capacity(rendered.len() + 16);
    let mut cursor = UrlCursor::default();
    // The path segment being written: where it starts in `out`, and its first value.
    let mut segment_start = 0;
    let mut segment_value: Option<&str> = None;
    for piece in pieces(rendered)? {
        match piece {
            Piece::Text(text) => {
                for c in text.chars() {
                    let was = cursor.part;
                    cursor.feed(c);
                    if was == UrlPart::Path && (c == '/' || cursor.part != UrlPart::Path) {
                        check_segment(&out[segment_start..], segment_value.take())?;
                    }
                    out.push(c);
                    if cursor.part == UrlPart::Path && c == '/' {
                        segment_start = out.len();
                    }
                }
            }
            Piece::Value(value) => match cursor.part {
                UrlPart::Authority => {
                    let place = if out.is_empty() {
                        "at the start of the URL".to_owned()
                    } else {
                        format!("after `{out}`")
                    };
                    return Err(format!(
                        "value `{}` would set the URL's scheme, host or port ({place}); write \
                         them in the file, or mark a value that is a whole base URL `| safe`",
                        shown_value(value)
                    ));
                }
                UrlPart::Path => {
                    segment_value.get_or_insert(value);
                    encode(value, &mut out);
                }
                UrlPart::Query | UrlPart::Fragment => encode(value, &mut out),
            },
        }
    }
    if cursor.part == UrlPart::Path {
        check_segment(&out[segment_start..], segment_value)?;
    }
    Ok(out)
}

/// A path segment a value helped write must still name something.
fn check_segment(segment: &str, value: Option<&str>) -> Result<(), String> {
    let Some(value) = value else {
        return Ok(());
    };
    // The URL parser reads `%2e` as a dot too.
    let dots = segment.replace("%2e", ".").replace("%2E", ".");
    match dots.as_str() {
        "" => Err(
            "an empty value would leave a URL path segment empty; a value in a URL's path is \
             one segment, never an empty one"
                .to_owned(),
        ),
        "." | ".." => Err(format!(
            "value `{}` would make the URL path segment `{segment}`, which moves through the \
             path; a value in a URL's path is one segment, never `.` or `..`",
            shown_value(value)
        )),
        _ => Ok(()),
    }
}

/// Percent-encodes every byte but RFC 3986's unreserved characters (`A-Za-z0-9-._~`).
/// `value` percent-encoded as RFC 3986 says: everything but `A-Za-z0-9-._~`.
pub(crate) fn percent_encoded(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    encode(value, &mut out);
    out
}

fn encode(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xF)]));
        }
    }
}

/// The rendered file path, each value checked to be exactly one file or directory name: not
/// empty, no `/`, no NUL, not `.` or `..`. The path then stays inside the directory its literal
/// part names. (With text around it, a value cannot make `..` either: it would have to be `.`.)
pub(crate) fn finish_path(rendered: &str) -> Result<String, String> {
    let mut out = String::with_capacity(rendered.len());
    for piece in pieces(rendered)? {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Value(value) => {
                check_path_value(value)?;
                out.push_str(value);
            }
        }
    }
    Ok(out)
}

fn check_path_value(value: &str) -> Result<(), String> {
    const ONE_NAME: &str = "a value in a file path is one file or directory name";
    if value.is_empty() {
        return Err(format!(
            "an empty value cannot be a file or directory name; {ONE_NAME}"
        ));
    }
    if value.contains('/') {
        return Err(format!(
            "value `{}` contains `/`; {ONE_NAME}",
            shown_value(value)
        ));
    }
    if value.contains('\0') {
        return Err(format!(
            "value `{}` contains a NUL byte; {ONE_NAME}",
            shown_value(value)
        ));
    }
    if value == "." || value == ".." {
        return Err(format!(
            "value `{value}` is not a file or directory name; {ONE_NAME}"
        ));
    }
    Ok(())
}

/// Where the first `{{ … }}` of a URL template sits, when it lands in the scheme, host or port
/// and is not marked `| safe`: such a URL is refused at every run, so `integ check` says so.
pub(crate) fn value_in_authority(source: &str) -> Option<Range<usize>> {
    let start = source.find("{{")?;
    let prefix = &source[..start];
    // A block may write the start of the URL itself; only a run can tell.
    if prefix.contains("{%") || prefix.contains("{#") {
        return None;
    }
    let mut cursor = UrlCursor::default();
    prefix.chars().for_each(|c| cursor.feed(c));
    if cursor.part != UrlPart::Authority {
        return None;
    }
    let end = start + 2 + source[start + 2..].find("}}")? + 2;
    let inner = source[start + 2..end - 2]
        .trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace());
    let safe = inner
        .strip_suffix("safe")
        .is_some_and(|rest| rest.trim_end().ends_with('|'));
    (!safe).then_some(start..end)
}

#[cfg(test)]
mod tests {
    use super::{CLOSE, OPEN, finish_path, finish_url, value_in_authority};

    /// Writes a template's result the way the formatter does: `[` and `]` stand for the marks.
    fn marked(text: &str) -> String {
        text.replace('[', &OPEN.to_string())
            .replace(']', &CLOSE.to_string())
    }

    #[test]
    fn url_values_are_encoded_for_their_part() {
        let cases = [
            ("http://h/crm/company/[ACME]/", "http://h/crm/company/ACME/"),
            (
                "http://h/crm/company/[../../accounting/invoices?all=1&x=]/",
                "http://h/crm/company/..%2F..%2Faccounting%2Finvoices%3Fall%3D1%26x%3D/",
            ),
            (
                "http://h/crm/company/[%2e%2e]/",
                "http://h/crm/company/%252e%252e/",
            ),
            ("http://h/a/[x y#z\\w]", "http://h/a/x%20y%23z%5Cw"),
            ("http://h/a/[žluť]", "http://h/a/%C5%BElu%C5%A5"),
            ("http://h/a/[-._~]", "http://h/a/-._~"),
            ("http://h/a/v[..]", "http://h/a/v.."),
            ("http://h/a/[.][x]", "http://h/a/.x"),
            ("http://h/a?q=[a&b=c#d]", "http://h/a?q=a%26b%3Dc%23d"),
            ("http://h/a?[k=v]=[ ]", "http://h/a?k%3Dv=%20"),
            ("http://h/a?q=[]", "http://h/a?q="),
            ("http://h/a?q=[/../x]&r=1", "http://h/a?q=%2F..%2Fx&r=1"),
            ("http://h/a#[x/y]", "http://h/a#x%2Fy"),
            ("http://h:8080/a/[1]", "http://h:8080/a/1"),
            // Text the template writes itself (or a `| safe` value) is never touched.
            ("http://h/../a b/%2e", "http://h/../a b/%2e"),
            ("https://h/api/v2/x/", "https://h/api/v2/x/"),
        ];
        for (rendered, expected) in cases {
            assert_eq!(
                finish_url(&marked(rendered)).as_deref(),
                Ok(expected),
                "{rendered}"
            );
        }
    }

    #[test]
    fn url_values_that_would_change_the_target_are_refused() {
        let cases = [
            ("[http://evil]/a", "at the start of the URL"),
            ("http://[evil]/a", "after `http://`"),
            ("http://h:[81]/a", "scheme, host or port"),
            ("http://[u]:p@h/a", "scheme, host or port"),
            ("http[s]://h/a", "scheme, host or port"),
            ("http://h/a/[..]/b", "path segment `..`"),
            ("http://h/a/[.]", "path segment `.`"),
            ("http://h/a/[..]?x=1", "path segment `..`"),
            ("http://h/a/[.][.]/b", "path segment `..`"),
            ("http://h/a/.[.]/b", "path segment `..`"),
            ("http://h/a/%2e[.]/b", "path segment `%2e.`"),
            ("http://h/a/[]/b", "empty"),
            ("http://h/a/[]", "empty"),
            ("http://h/a/\u{FDD0}x", "noncharacter"),
            ("http://h/a/x\u{FDD1}", "noncharacter"),
        ];
        for (rendered, expected) in cases {
            let err = finish_url(&marked(rendered)).unwrap_err();
            assert!(err.contains(expected), "{rendered}: {err}");
        }
    }

    #[test]
    fn path_values_are_one_name_each() {
        let ok = [
            ("exports/[acme].json", "exports/acme.json"),
            ("exports/[a b]-[2026].csv", "exports/a b-2026.csv"),
            ("exports/[..x]", "exports/..x"),
            ("exports/[.hidden]", "exports/.hidden"),
            ("../shared/[x]", "../shared/x"),
            ("[x]", "x"),
            ("-", "-"),
        ];
        for (rendered, expected) in ok {
            assert_eq!(
                finish_path(&marked(rendered)).as_deref(),
                Ok(expected),
                "{rendered}"
            );
        }
        let refused = [
            ("exports/[../../pwned].json", "contains `/`"),
            ("exports/[/etc/passwd]", "contains `/`"),
            ("[..]", "not a file or directory name"),
            ("exports/[.]/x", "not a file or directory name"),
            ("exports/.[.]/x", "value `.` is not"),
            ("exports/[..]/x", "value `..` is not"),
            ("exports/[]", "empty value"),
            ("exports/x[]", "empty value"),
            ("exports/[a\0b]", "NUL"),
        ];
        for (rendered, expected) in refused {
            let err = finish_path(&marked(rendered)).unwrap_err();
            assert!(err.contains(expected), "{rendered}: {err}");
        }
    }

    #[test]
    fn check_finds_a_value_in_the_authority() {
        let cases = [
            ("{{ env.URL }}/api", Some("{{ env.URL }}")),
            (
                "{{ env.URL | default('http://x') }}/a",
                Some("{{ env.URL | default('http://x') }}"),
            ),
            ("https://{{ tenant }}.example.com/a", Some("{{ tenant }}")),
            ("{{ env.URL | safe }}/api", None),
            ("{{ env.URL | default('http://x') |safe }}/api", None),
            ("{{- env.URL | safe -}}/api", None),
            ("https://h/{{ x }}", None),
            ("https://h?q={{ x }}", None),
            ("{% if a %}https://a{% endif %}/{{ x }}", None),
            ("https://h/plain", None),
        ];
        for (source, expected) in cases {
            let found = value_in_authority(source).map(|range| &source[range]);
            assert_eq!(found, expected, "{source}");
        }
    }
}

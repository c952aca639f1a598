//! A run's log, and the redactor that keeps secrets out of it and out of everything else a run
//! prints or stores.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use aho_corasick::AhoCorasick;
use base64::Engine as _;
use base64::engine::GeneralPurpose;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use chrono::Local;

/// The most log text one run keeps, the note that says so included.
const LOG_LIMIT: usize = 4 << 20;

/// Said once, where the log stops.
const CUT: &str = "… the log is cut here: it reached its size limit (4 MiB)\n";

/// The most output one run keeps: what a person or a waiting request is given back later.
const OUTPUT_LIMIT: usize = 1 << 20;

/// What replaces a secret.
const HIDDEN: &str = "***";

/// The run's log: timestamped lines, redacted, at most [`LOG_LIMIT`] bytes; its output; and its
/// counters.
pub(crate) struct RunLog {
    text: Mutex<Text>,
    output: Mutex<RunOutput>,
    redactor: Redactor,
    pub stats: RunStats,
}

/// What a run wrote to stdout for the person — its output steps' data, its commands' shown
/// lines, a dry run's plan — kept with the run, at most [`OUTPUT_LIMIT`] bytes of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RunOutput {
    pub text: String,
    /// How many bytes did not fit and were not kept.
    pub cut: u64,
}

impl RunOutput {
    fn push(&mut self, text: &str) {
        let room = OUTPUT_LIMIT.saturating_sub(self.text.len());
        if self.cut == 0 && text.len() <= room {
            self.text.push_str(text);
            return;
        }
        // Once cut, nothing more is kept: a later piece after a gap would mislead.
        let kept = if self.cut == 0 {
            text.floor_char_boundary(room)
        } else {
            0
        };
        self.text.push_str(&text[..kept]);
        self.cut += (text.len() - kept) as u64;
    }
}

#[derive(Default)]
struct Text {
    text: String,
    /// The log reached its limit: nothing more is added.
    cut: bool,
}

/// What a run did, for its summary line.
#[derive(Debug, Default)]
pub(crate) struct RunStats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub pages: AtomicU64,
    pub items: AtomicU64,
}

impl RunStats {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// `12 requests (2 retries), 3 pages, 2,500 items`, or nothing for a run that made none.
    pub(crate) fn summary(&self) -> Option<String> {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let (requests, retries, pages, items) = (
            get(&self.requests),
            get(&self.retries),
            get(&self.pages),
            get(&self.items),
        );
        let mut parts = Vec::new();
        if requests > 0 {
            let plural = if requests == 1 { "" } else { "s" };
            let retried = match retries {
                0 => String::new(),
                1 => " (1 retry)".to_owned(),
                n => format!(" ({n} retries)"),
            };
            parts.push(format!("{requests} request{plural}{retried}"));
        }
        if pages > 1 {
            parts.push(format!("{pages} pages"));
        }
        if items > 0 {
            parts.push(format!("{items} item{}", if items == 1 { "" } else { "s" }));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

impl RunLog {
    /// A log that hides the run's secrets.
    pub(crate) fn new(secrets: &BTreeMap<String, String>) -> Self {
        RunLog::hiding(Redactor::new(secrets.values()))
    }

    /// A log that hides what `redactor` hides (and what the run adds to it).
    pub(crate) fn hiding(redactor: Redactor) -> Self {
        RunLog {
            text: Mutex::new(Text::default()),
            output: Mutex::new(RunOutput::default()),
            redactor,
            stats: RunStats::default(),
        }
    }

    /// Adds `text` as said by `label` (`step 2`, `run`); `marker` tells what kind of line it is:
    /// `>` an event, `|` stdout, `!` stderr. A line that does not fit in what is left of the
    /// log is cut, and the log ends there.
    pub(crate) fn line(&self, label: &str, marker: &str, text: &str) {
        let mut log = self.text.lock().expect("log lock is never poisoned");
        if log.cut {
            return;
        }
        let time = Local::now().format("%H:%M:%S%.3f");
        let line = format!("{time} {label} {marker} {}\n", self.redactor.redact(text));
        let room = LOG_LIMIT - CUT.len() - log.text.len();
        if line.len() <= room {
            log.text.push_str(&line);
            return;
        }
        // Cutting redacted text cannot uncover a secret: at worst it cuts through a `***`.
        let kept = line.floor_char_boundary(room.saturating_sub(1));
        if kept > 0 {
            log.text.push_str(&line[..kept]);
            log.text.push('\n');
        }
        log.text.push_str(CUT);
        log.cut = true;
    }

    pub(crate) fn text(&self) -> String {
        self.text
            .lock()
            .expect("log lock is never poisoned")
            .text
            .clone()
    }

    /// Keeps `text` (already redacted) as part of the run's output.
    pub(crate) fn output(&self, text: &str) {
        self.output
            .lock()
            .expect("output lock is never poisoned")
            .push(text);
    }

    /// The run's output so far.
    pub(crate) fn output_kept(&self) -> RunOutput {
        self.output
            .lock()
            .expect("output lock is never poisoned")
            .clone()
    }

    pub(crate) fn redact(&self, text: &str) -> String {
        self.redactor.redact(text)
    }

    /// Hides `value` (and its encoded forms) in everything logged or redacted from now on: a
    /// value made of a secret during the run, such as the `user:password` of HTTP Basic.
    pub(crate) fn hide(&self, value: &str) {
        self.redactor.hide(value);
    }

    pub(crate) fn redactor(&self) -> &Redactor {
        &self.redactor
    }
}

/// Replaces every secret with `***`: as it is and in the forms it takes on its way out —
/// URL-encoded, JSON-escaped, base64. Every non-empty secret is hidden however short: a
/// one-character secret turns every such character into `***`, which spoils the log but
/// leaks nothing; `integ check` is the place to warn about weak secrets, not the redactor.
#[derive(Debug, Default)]
pub(crate) struct Redactor {
    forms: RwLock<Forms>,
}

/// Every value to hide, and one automaton over all their forms, rebuilt when a value is added.
/// A copy shares the automaton until either adds a value.
#[derive(Debug, Default, Clone)]
struct Forms {
    values: BTreeSet<String>,
    matcher: Option<AhoCorasick>,
}

impl Clone for Redactor {
    /// The same values and automaton, cheaply: what a run starts from, to add its own.
    fn clone(&self) -> Self {
        let forms = self.forms.read().expect("redactor lock is never poisoned");
        Redactor {
            forms: RwLock::new(forms.clone()),
        }
    }
}

impl Redactor {
    pub(crate) fn new<'a>(secrets: impl IntoIterator<Item = &'a String>) -> Self {
        let redactor = Redactor::default();
        {
            let mut forms = redactor
                .forms
                .write()
                .expect("redactor lock is never poisoned");
            forms
                .values
                .extend(secrets.into_iter().filter(|s| !s.is_empty()).cloned());
            forms.rebuild();
        }
        redactor
    }

    /// Hides `value` too from now on.
    pub(crate) fn hide(&self, value: &str) {
        if value.is_empty() {
            return;
        }
        let mut forms = self.forms.write().expect("redactor lock is never poisoned");
        if forms.values.insert(value.to_owned()) {
            forms.rebuild();
        }
    }

    /// Whether `text` holds anything to hide.
    pub(crate) fn finds(&self, text: &str) -> bool {
        let forms = self.forms.read().expect("redactor lock is never poisoned");
        forms
            .matcher
            .as_ref()
            .is_some_and(|matcher| matcher.is_match(text))
    }

    /// `value` with every secret hidden in each of its strings (keys too): the structure stays
    /// valid JSON whatever a secret looks like.
    pub(crate) fn redact_json(&self, value: &serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match value {
            Value::String(text) => Value::String(self.redact(text)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.redact_json(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, v)| (self.redact(key), self.redact_json(v)))
                    .collect(),
            ),
            // A number or a boolean that is a secret's value is hidden as a string.
            other if self.finds(&other.to_string()) => Value::String("***".to_owned()),
            other => other.clone(),
        }
    }

    pub(crate) fn redact(&self, text: &str) -> String {
        let forms = self.forms.read().expect("redactor lock is never poisoned");
        let Some(matcher) = &forms.matcher else {
            return text.to_owned();
        };
        let hidden = hidden_ranges(matcher, text);
        if hidden.is_empty() {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in hidden {
            out.push_str(&text[at..start]);
            out.push_str(HIDDEN);
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }

    /// Where a text that goes on (a long line read piece by piece) may be split so that no
    /// secret is cut in two: the longest prefix of `text` that no occurrence of a secret
    /// crosses the end of, as far as `text` tells. A text with no secret splits at its end.
    pub(crate) fn safe_split(&self, text: &str) -> usize {
        let forms = self.forms.read().expect("redactor lock is never poisoned");
        let Some(matcher) = &forms.matcher else {
            return text.len();
        };
        // A secret that goes on past the end starts within its last `longest - 1` bytes.
        let tail = matcher.max_pattern_len().saturating_sub(1);
        let mut split = text.floor_char_boundary(text.len().saturating_sub(tail));
        for (start, end) in hidden_ranges(matcher, text) {
            if start < split && split < end {
                split = start;
            }
        }
        // A run of overlapping matches as long as the text (a one-letter secret in a line of
        // that letter) would leave nothing to split off: such a text is all `***` anyway.
        if split == 0 { text.len() } else { split }
    }
}

impl Forms {
    fn rebuild(&mut self) {
        let patterns: BTreeSet<String> = self.values.iter().flat_map(|v| forms(v)).collect();
        self.matcher = (!patterns.is_empty()).then(|| {
            AhoCorasick::new(&patterns).expect("a few thousand literal patterns always build")
        });
    }
}

/// The byte ranges covered by any form of any secret, merged where they overlap, in order.
/// Overlapping matches (not leftmost-first) so that of two secrets that overlap in the text,
/// neither shows.
fn hidden_ranges(matcher: &AhoCorasick, text: &str) -> Vec<(usize, usize)> {
    let mut found: Vec<(usize, usize)> = matcher
        .find_overlapping_iter(text)
        .map(|m| (m.start(), m.end()))
        .collect();
    found.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(found.len());
    for (start, end) in found {
        match merged.last_mut() {
            Some(last) if start < last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// The shapes a secret takes on its way out: as it is; URL-encoded as MiniJinja's `urlencode`,
/// form encoding, RFC 3986, JavaScript and a URL parser do it (`%20` or `+`, upper- or
/// lowercase hex); JSON-escaped as serde, Python and Go do it; base64 (standard and URL-safe,
/// padded or not), alone or inside a longer encoded value.
fn forms(secret: &str) -> BTreeSet<String> {
    let mut forms = BTreeSet::from([secret.to_owned()]);
    for keep in URL_SETS {
        for plus in [false, true] {
            for lower in [false, true] {
                forms.insert(percent_encode(secret, keep, plus, lower));
            }
        }
    }
    for slash in [false, true] {
        for ascii in [false, true] {
            for html in [false, true] {
                forms.insert(json_escape(secret, slash, ascii, html));
            }
        }
    }
    for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
        forms.insert(engine.encode(secret));
    }
    for engine in [STANDARD_NO_PAD, URL_SAFE_NO_PAD] {
        forms.extend(base64_cores(&engine, secret.as_bytes()));
    }
    forms
}

/// Which bytes each URL encoder leaves as they are (everything else becomes `%XX`).
const URL_SETS: [fn(u8) -> bool; 8] = [
    // MiniJinja's `urlencode`.
    |b| b.is_ascii_alphanumeric() || b"/.-_".contains(&b),
    // `application/x-www-form-urlencoded`: reqwest's `query` and `form`, HTML forms.
    |b| b.is_ascii_alphanumeric() || b"*-._".contains(&b),
    // RFC 3986 unreserved: curl's `--data-urlencode`, Python's `quote(safe="")`.
    |b| b.is_ascii_alphanumeric() || b"-._~".contains(&b),
    // Python's `quote`.
    |b| b.is_ascii_alphanumeric() || b"-._~/".contains(&b),
    // JavaScript's `encodeURIComponent`.
    |b| b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b),
    // A URL parser given the text of a query, of a special scheme's query, of a path.
    |b| b.is_ascii_graphic() && !b"\"#<>".contains(&b),
    |b| b.is_ascii_graphic() && !b"\"#<>'".contains(&b),
    |b| b.is_ascii_graphic() && !b"\"#<>?`{}".contains(&b),
];

fn percent_encode(text: &str, keep: fn(u8) -> bool, plus: bool, lower: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        if byte == b' ' && plus {
            out.push('+');
        } else if keep(byte) {
            out.push(char::from(byte));
        } else if lower {
            let _ = write!(out, "%{byte:02x}");
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// The text as it appears inside a JSON string. `slash`: `/` as `\/` (PHP); `ascii`: every
/// non-ASCII character as `\uXXXX` (Python); `html`: `<`, `>`, `&` as `\u003c`… (Go).
fn json_escape(text: &str, slash: bool, ascii: bool, html: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '/' if slash => out.push_str("\\/"),
            '<' | '>' | '&' if html => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c if c < ' ' || (ascii && !c.is_ascii()) => {
                let mut units = [0; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// The part of base64 that depends only on the secret, wherever it sits in a longer value
/// (HTTP Basic's `user:secret`): one core for each of the three alignments. A core shorter
/// than 6 characters (36 bits) is left out: it would hide chance matches in any base64 data.
fn base64_cores(engine: &GeneralPurpose, secret: &[u8]) -> Vec<String> {
    (0..3usize)
        .filter_map(|offset| {
            let mut padded = vec![0; offset];
            padded.extend_from_slice(secret);
            let encoded = engine.encode(&padded);
            // Character `i` holds bits `6i..6i+6`; the secret's are `8 * offset..8 * len`.
            let first = (8 * offset).div_ceil(6);
            let last = (8 * padded.len()) / 6;
            (last >= first + 6).then(|| encoded[first..last].to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::{CUT, LOG_LIMIT, Redactor, RunLog};

    fn redactor(secrets: &[&str]) -> Redactor {
        let secrets: Vec<String> = secrets.iter().map(|s| (*s).to_owned()).collect();
        Redactor::new(secrets.iter())
    }

    #[test]
    fn redacts_every_secret_whole() {
        let cases: &[(&[&str], &str, &str)] = &[
            (
                &["abc", "abcdef", ""],
                "key=abcdef, short=abc",
                "key=***, short=***",
            ),
            (&["abc"], "nothing here", "nothing here"),
            // Two secrets that overlap in the text: neither shows.
            (&["abcd", "cdef"], "x abcdef y", "x *** y"),
            (&["s3cr3t"], "s3cr3ts3cr3t", "******"),
            // However short: leaking is worse than a spoiled log.
            (&["a"], "banana", "b***n***n***"),
            (&["ünï"], "[ünï]", "[***]"),
        ];
        for (secrets, text, expected) in cases {
            assert_eq!(
                redactor(secrets).redact(text),
                *expected,
                "{secrets:?} in {text:?}"
            );
        }
    }

    #[test]
    fn redacts_the_encoded_forms_of_a_secret() {
        let secret = r#"q"S3cret\Key p/ä+&="#;
        let cases = [
            // MiniJinja's `urlencode`.
            ("urlencode", "q%22S3cret%5CKey%20p/%C3%A4%2B%26%3D"),
            (
                "urlencode, lowercase hex",
                "q%22S3cret%5cKey%20p/%c3%a4%2b%26%3d",
            ),
            // Form encoding, as reqwest's `query` and `form` send it.
            ("form", "q%22S3cret%5CKey+p%2F%C3%A4%2B%26%3D"),
            (
                "form, lowercase hex",
                "q%22S3cret%5cKey+p%2f%c3%a4%2b%26%3d",
            ),
            ("RFC 3986", "q%22S3cret%5CKey%20p%2F%C3%A4%2B%26%3D"),
            ("a URL parser's query", "q%22S3cret\\Key%20p/%C3%A4+&="),
            // Inside a JSON string.
            ("JSON", r#"q\"S3cret\\Key p/ä+&="#),
            ("JSON, ASCII only", r#"q\"S3cret\\Key p/\u00e4+&="#),
            ("JSON, slash escaped", r#"q\"S3cret\\Key p\/ä+&="#),
            ("JSON, Go's HTML escapes", r#"q\"S3cret\\Key p/ä+\u0026="#),
            // base64 of the secret alone.
            ("base64", "cSJTM2NyZXRcS2V5IHAvw6QrJj0="),
            ("base64 unpadded", "cSJTM2NyZXRcS2V5IHAvw6QrJj0"),
        ];
        let redactor = redactor(&[secret, "i>>?"]);
        let url_safe = [
            ("base64 of `i>>?`", "aT4+Pw=="),
            ("base64 URL-safe", "aT4-Pw=="),
            ("base64 URL-safe unpadded", "aT4-Pw"),
        ];
        for (form, text) in cases.into_iter().chain(url_safe) {
            assert_eq!(
                redactor.redact(&format!("<{text}>")),
                "<***>",
                "{form}: {text}"
            );
        }
    }

    #[test]
    fn redacts_base64_of_a_secret_inside_a_longer_value() {
        use base64::Engine as _;
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        let secret = "hunter2-is-long>>?";
        let redactor = redactor(&[secret]);
        for prefix in ["", "a", "ab", "abc", "user:"] {
            for suffix in ["", "!", "..."] {
                let value = format!("{prefix}{secret}{suffix}");
                for encoded in [STANDARD.encode(&value), URL_SAFE_NO_PAD.encode(&value)] {
                    let redacted = redactor.redact(&encoded);
                    assert!(redacted.contains("***"), "{value:?} as {encoded}");
                    // What is left encodes the neighbours, and at most a few bits of the secret
                    // in the characters it shares with them.
                    let left = redacted.replace("***", "").len();
                    let neighbours = (prefix.len() + suffix.len()) * 4 / 3;
                    assert!(left <= neighbours + 6, "{value:?}: {encoded} → {redacted}");
                }
            }
        }
    }

    #[test]
    fn hidden_values_are_redacted_from_then_on_with_their_forms() {
        use base64::Engine as _;
        let log = RunLog::new(&BTreeMap::new());
        log.line("step 1", ">", "Basic dXNlcjpwYXNz");
        log.hide("user:pass");
        log.hide("");
        log.line("step 1", ">", "Basic dXNlcjpwYXNz and user%3Apass");
        assert_eq!(log.redact("nothing"), "nothing");
        let text = log.text();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].ends_with("Basic dXNlcjpwYXNz"), "{text}");
        assert!(lines[1].ends_with("Basic *** and ***"), "{text}");
        assert_eq!(
            log.redact(&base64::engine::general_purpose::STANDARD.encode("user:pass")),
            "***"
        );
    }

    #[test]
    fn a_split_never_cuts_a_secret_in_two() {
        let redactor = redactor(&["0123456789"]);
        // Its longest form is its base64, 16 characters: a secret that goes on past the end
        // of a 40-byte text starts in its last 15.
        let a = |n: usize| "a".repeat(n);
        let cases = [
            (a(40), 25),
            (format!("{}012345", a(34)), 25),
            (format!("{}0123456789{}", a(20), a(10)), 20),
            (format!("{}0123456789{}", a(5), a(25)), 25),
        ];
        for (text, split) in cases {
            assert_eq!(redactor.safe_split(&text), split, "{text}");
        }
        assert_eq!(Redactor::default().safe_split("abc"), 3);
    }

    #[test]
    fn log_lines_are_redacted() {
        let secrets = BTreeMap::from([("key".to_owned(), "hunter2".to_owned())]);
        let log = RunLog::new(&secrets);
        log.line("step 1", "|", "password is hunter2");
        assert!(
            log.text().ends_with(" step 1 | password is ***\n"),
            "{}",
            log.text()
        );
    }

    #[test]
    fn the_log_never_passes_its_limit_and_says_so_once() {
        for first in [10, LOG_LIMIT / 2, LOG_LIMIT, 3 * LOG_LIMIT] {
            let log = RunLog::new(&BTreeMap::new());
            log.line("step 1", "|", &"a".repeat(first));
            for _ in 0..3 {
                log.line("step 1", "|", &"b".repeat(LOG_LIMIT / 3));
            }
            log.line("run", ">", "the end");
            let text = log.text();
            assert!(text.len() <= LOG_LIMIT, "{first}: {} bytes", text.len());
            assert_eq!(text.matches(CUT).count(), 1, "{first}");
            assert!(text.ends_with(CUT), "{first}");
        }
    }
}

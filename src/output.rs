//! The printer: the one owner of stdout, stderr, colour and progress. Deep code returns data or
//! errors; handlers hand them here. stdout is data (a run's output, tables, JSON), stderr is
//! diagnostics.

use std::collections::HashMap;
use std::io::{IsTerminal as _, Write as _};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anstyle::{AnsiColor, Style};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::ColorChoice;
use crate::diagnostic::Diagnostics;
use crate::observer::{Observer, Stream};

/// How much the person wants to see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verbosity {
    /// Nothing on success; the error and the run's log on failure.
    Quiet,
    Normal,
    Verbose,
}

#[derive(Debug)]
pub(crate) struct Printer {
    verbosity: Verbosity,
    color: bool,
    /// stderr is a terminal: spinners may draw.
    interactive: bool,
    stderr_terminal: bool,
    stdin_terminal: bool,
}

const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();
const HINT: Style = AnsiColor::Cyan.on_default().bold();
const DIM: Style = Style::new().dimmed();

impl Printer {
    pub(crate) fn new(verbosity: Verbosity, color: Option<ColorChoice>) -> Self {
        let stderr_terminal = std::io::stderr().is_terminal();
        Printer {
            verbosity,
            color: use_color(color, stderr_terminal),
            interactive: stderr_terminal && verbosity == Verbosity::Normal,
            stderr_terminal,
            stdin_terminal: std::io::stdin().is_terminal(),
        }
    }

    pub(crate) fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    pub(crate) fn color(&self) -> bool {
        self.color
    }

    /// Whether a person watches stderr (a terminal, and not `-q`): the place for status lines
    /// that a script or cron would not want.
    pub(crate) fn watched(&self) -> bool {
        self.verbosity != Verbosity::Quiet && self.stderr_terminal
    }

    /// Whether a person is there to answer questions.
    pub(crate) fn can_prompt(&self) -> bool {
        self.stdin_terminal && self.stderr_terminal
    }

    /// Data for stdout, printed whatever the verbosity (the caller asked for it).
    pub(crate) fn data(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = out.write_all(b"\n");
        }
        let _ = out.flush();
    }

    /// Data for stdout exactly as it is, no newline added: what a run wrote.
    pub(crate) fn data_as_is(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    pub(crate) fn error(&self, message: &str, hint: Option<&str>) {
        self.diagnostic(ERROR, "error", message);
        if let Some(hint) = hint {
            self.diagnostic(HINT, "hint", hint);
        }
    }

    pub(crate) fn warning(&self, message: &str) {
        if self.verbosity != Verbosity::Quiet {
            self.diagnostic(WARNING, "warning", message);
        }
    }

    /// A status line for the person (not shown under `-q`).
    pub(crate) fn status(&self, message: &str) {
        if self.verbosity != Verbosity::Quiet {
            eprintln!("{}", self.paint(DIM, message));
        }
    }

    pub(crate) fn diagnostics(&self, diagnostics: &Diagnostics) {
        eprintln!("{}", diagnostics.render(self.color));
    }

    /// A failed run's log, for `-q` under cron, where nothing was shown live.
    pub(crate) fn failed_log(&self, log: &str) {
        if !log.is_empty() {
            eprint!("{log}");
        }
    }

    fn diagnostic(&self, style: Style, label: &str, message: &str) {
        eprintln!("{}: {message}", self.paint(style, label));
    }

    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_owned()
        }
    }

    /// Shows a run as it happens: step output live, a spinner per step on a terminal.
    pub(crate) fn run_observer(&self) -> RunObserver<'_> {
        RunObserver::new(self)
    }
}

fn use_color(choice: Option<ColorChoice>, terminal: bool) -> bool {
    match choice {
        Some(ColorChoice::Always) => true,
        Some(ColorChoice::Never) => false,
        Some(ColorChoice::Auto) | None => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && terminal
        }
    }
}

/// How often a run that is not on a terminal says how far it has come.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// The terminal's view of a run: live output, a spinner for the running step, bars for pages
/// and items. Off a terminal: output, and a progress line now and then. Under `-q`: nothing; the
/// log is printed on failure.
pub(crate) struct RunObserver<'a> {
    printer: &'a Printer,
    bars: MultiProgress,
    spinner: Mutex<Option<ProgressBar>>,
    /// Progress bars by step label and unit.
    counters: Mutex<HashMap<String, ProgressBar>>,
    last_report: Mutex<Instant>,
}

impl<'a> RunObserver<'a> {
    fn new(printer: &'a Printer) -> Self {
        let target = if printer.interactive {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        RunObserver {
            printer,
            bars: MultiProgress::with_draw_target(target),
            spinner: Mutex::new(None),
            counters: Mutex::new(HashMap::new()),
            last_report: Mutex::new(Instant::now()),
        }
    }

    fn counter(&self, key: &str, label: &str, unit: &str, total: Option<u64>) -> ProgressBar {
        let mut counters = self.counters.lock().expect("progress lock");
        if let Some(bar) = counters.get(key) {
            return bar.clone();
        }
        let (bar, template) = match total {
            Some(total) => (
                ProgressBar::new(total),
                "  {msg} {bar:30.cyan/blue} {human_pos}/{human_len} {elapsed:.dim} eta {eta:.dim}",
            ),
            None => (
                ProgressBar::no_length(),
                "  {spinner} {msg} {pos} {per_sec:.dim}",
            ),
        };
        let bar = self.bars.add(
            bar.with_style(ProgressStyle::with_template(template).expect("the template is valid")),
        );
        bar.set_message(format!("{label}: {unit}"));
        counters.insert(key.to_owned(), bar.clone());
        bar
    }
}

impl Observer for RunObserver<'_> {
    fn step_started(&self, label: &str, what: &str) {
        match self.printer.verbosity {
            Verbosity::Quiet => {}
            Verbosity::Verbose => tracing::info!("{label}: {what}"),
            Verbosity::Normal if self.printer.interactive => {
                let bar = self.bars.add(
                    ProgressBar::new_spinner().with_style(
                        ProgressStyle::with_template("{spinner} {msg} {elapsed:.dim}")
                            .expect("the template is valid"),
                    ),
                );
                bar.set_message(format!("{label}: {what}"));
                bar.enable_steady_tick(Duration::from_millis(100));
                if let Some(old) = self.spinner.lock().expect("spinner lock").replace(bar) {
                    old.finish_and_clear();
                }
            }
            Verbosity::Normal => {}
        }
    }

    fn output(&self, stream: Stream, line: &str) {
        if self.printer.verbosity == Verbosity::Quiet {
            return;
        }
        self.bars.suspend(|| match stream {
            Stream::Stdout => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
            Stream::Stderr => eprintln!("{line}"),
        });
    }

    /// An output step's data, or a dry run's plan: what the person asked for, so `-q` does not
    /// hold it back (`integ run report -q > report.csv`).
    fn data(&self, text: &str) {
        self.bars.suspend(|| {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        });
    }

    fn progress(&self, label: &str, unit: &str, done: u64, total: Option<u64>) {
        match self.printer.verbosity {
            Verbosity::Quiet => {}
            Verbosity::Normal if self.printer.interactive => {
                let key = format!("{label} {unit}");
                self.counter(&key, label, unit, total).set_position(done);
            }
            _ => {
                let mut last = self.last_report.lock().expect("progress lock");
                if last.elapsed() >= PROGRESS_EVERY {
                    *last = Instant::now();
                    let of = total.map(|t| format!(" of {t}")).unwrap_or_default();
                    self.printer.status(&format!("{label}: {done}{of} {unit}"));
                }
            }
        }
    }

    fn step_finished(&self, label: &str, elapsed: Duration, error: Option<&str>) {
        if let Some(bar) = self.spinner.lock().expect("spinner lock").take() {
            bar.finish_and_clear();
        }
        for (_, bar) in self.counters.lock().expect("progress lock").drain() {
            bar.finish_and_clear();
        }
        if self.printer.verbosity == Verbosity::Verbose {
            match error {
                None => tracing::info!("{label}: done in {elapsed:.2?}"),
                Some(error) => tracing::info!("{label}: failed after {elapsed:.2?}: {error}"),
            }
        }
    }
}

//! Binary-level tests: the real `integ` process, a fresh temp dir per test, never the network.

mod browser;
mod check;
mod concurrency;
mod dry_run;
mod examples;
mod generated;
mod history;
mod hostile;
mod http;
mod http_server;
mod leaks;
mod lifecycle;
mod link;
mod list;
mod locks;
mod logs;
mod notify;
mod params;
mod processes;
mod retention;
mod run;
mod run_output;
mod schedule;
mod serve_hook;
mod support;
mod windows;

//! Binary-level tests: the real `integ` process, a fresh temp dir per test, never the network.

mod check;
mod concurrency;
mod examples;
mod history;
mod http;
mod http_server;
mod list;
mod locks;
mod params;
mod processes;
mod run;
mod serve_hook;
mod support;

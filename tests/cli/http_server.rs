//! A real HTTP server on 127.0.0.1 for tests: it records every request, answers through a
//! closure, and counts requests in flight. Also a real third-party peer: json-server 0.17.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::response::Response;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) method: String,
    pub(crate) path: String,
    /// The path and query exactly as sent (`query` folds repeated names into one).
    pub(crate) uri: String,
    pub(crate) query: BTreeMap<String, String>,
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) body: String,
    pub(crate) at: Instant,
}

impl Recorded {
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }
}

/// What to answer.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
    pub(crate) delay: Duration,
}

impl Reply {
    pub(crate) fn json(value: serde_json::Value) -> Reply {
        Reply {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: value.to_string(),
            delay: Duration::ZERO,
        }
    }

    pub(crate) fn status(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: body.to_owned(),
            delay: Duration::ZERO,
        }
    }

    /// Sets a header, replacing one of the same name.
    pub(crate) fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers
            .retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub(crate) fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

struct State {
    requests: Mutex<Vec<Recorded>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    state: Arc<State>,
    _runtime: tokio::runtime::Runtime,
}

impl Server {
    /// Starts a server that answers every request with `handler(request, number)`, the number
    /// counting from 0.
    pub(crate) fn start(
        handler: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static,
    ) -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let state = Arc::new(State {
            requests: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let handler = Arc::new(handler);
        let app_state = Arc::clone(&state);
        let app = axum::Router::new().fallback(move |request: Request| {
            let state = Arc::clone(&app_state);
            let handler = Arc::clone(&handler);
            async move { answer(&state, handler.as_ref(), request).await }
        });
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
        Server {
            addr,
            state,
            _runtime: runtime,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    pub(crate) fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }
}

async fn answer(
    state: &State,
    handler: &(dyn Fn(&Recorded, usize) -> Reply + Send + Sync),
    request: Request,
) -> Response {
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, 16 << 20).await.unwrap_or_default();
    let recorded = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        uri: parts
            .uri
            .path_and_query()
            .map_or_else(String::new, ToString::to_string),
        query: parts
            .uri
            .query()
            .map(|q| {
                q.split('&')
                    .filter_map(|pair| pair.split_once('='))
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            })
            .unwrap_or_default(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
    };
    let number = {
        let mut requests = state.requests.lock().unwrap();
        requests.push(recorded.clone());
        requests.len() - 1
    };
    let reply = handler(&recorded, number);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    let mut response = Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        response = response.header(name, value);
    }
    response.body(Body::from(reply.body)).unwrap()
}

/// Where the real peers and signers some tests talk to (json-server, the Slack and Standard
/// Webhooks SDKs) are: `INTEG_TEST_TOOLS`, or `target/test-tools`. They are installed there
/// first when they are not yet (`tests/tools/install.sh`, which `.ci/run` runs too).
pub(crate) fn test_tools() -> std::path::PathBuf {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    INSTALLED.call_once(|| {
        let status = std::process::Command::new("bash")
            .arg(root.join("tests/tools/install.sh"))
            .status()
            .expect("bash runs tests/tools/install.sh");
        assert!(
            status.success(),
            "tests/tools/install.sh failed: the tests need node, npm, python3 and pip, and \
             the npm and PyPI registries"
        );
    });
    std::env::var_os("INTEG_TEST_TOOLS")
        .map_or_else(|| root.join("target/test-tools"), std::path::PathBuf::from)
}

/// npm's json-server 0.17 serving `db` on 127.0.0.1, killed when dropped.
pub(crate) struct JsonServer {
    child: std::process::Child,
    pub(crate) addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl JsonServer {
    pub(crate) fn start(db: &serde_json::Value) -> JsonServer {
        let bin = test_tools().join("node/node_modules/.bin/json-server");
        assert!(
            bin.exists(),
            "json-server 0.17 is not installed at `{}` (see tests/tools/install.sh)",
            bin.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("db.json");
        std::fs::write(&file, db.to_string()).unwrap();
        // A port that was just free; json-server cannot be asked to pick one and say which.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // Its log (one line per request, as it saw it) is how a test knows what it was asked.
        let log = std::fs::File::create(dir.path().join("requests.log")).unwrap();
        let child = std::process::Command::new(&bin)
            .arg(&file)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .current_dir(dir.path())
            .stdin(std::process::Stdio::null())
            .stdout(log)
            .spawn()
            .expect("json-server starts");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let server = JsonServer { child, addr, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "json-server never listened on {addr}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The first `count` requests json-server logged, as `GET /path?query`, once it has.
    pub(crate) fn requests(&self, count: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let log = std::fs::read_to_string(self.dir.path().join("requests.log")).unwrap();
            // morgan's `dev` lines: colour codes around `METHOD /url STATUS time`.
            let requests: Vec<String> = strip_colour(&log)
                .lines()
                .filter_map(|line| {
                    let mut words = line.split_whitespace();
                    let (method, url) = (words.next()?, words.next()?);
                    let is_method = method.chars().all(|c| c.is_ascii_uppercase());
                    (is_method && url.starts_with('/')).then(|| format!("{method} {url}"))
                })
                .collect();
            if requests.len() >= count {
                return requests;
            }
            assert!(Instant::now() < deadline, "json-server logged only:\n{log}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn strip_colour(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // `ESC [ … m`
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

impl Drop for JsonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#!/usr/bin/env bash
# Installs the real peers and signers some tests talk to on 127.0.0.1, once, into
# $INTEG_TEST_TOOLS (default target/test-tools): npm's json-server 0.17 (pages with Link
# headers), npm's playwright-core (drives Debian's chromium, /usr/bin/chromium, in the browser
# tests), PyPI's slack_sdk and standardwebhooks (sign webhooks the way those senders do), and
# PyPI's kubernetes-validate (checks `integ schedule`'s CronJobs against the Kubernetes
# schema it bundles, offline).
# `.ci/run` runs it first; a test that needs a tool runs it too, so `cargo nextest run` works
# on a fresh machine with node, npm, python3 and pip. Concurrent calls wait for each other.
set -euo pipefail
cd "$(dirname "$0")/../.."
tools="${INTEG_TEST_TOOLS:-$PWD/target/test-tools}"
mkdir -p "$tools"
exec 9>"$tools/.install.lock"
flock 9
if [ ! -x "$tools/node/node_modules/.bin/json-server" ]; then
    npm install --prefix "$tools/node" --no-audit --no-fund --loglevel=error json-server@0.17.4 >&2
fi
playwright=1.65.1
if ! grep -qs "\"version\": \"$playwright\"" "$tools/node/node_modules/playwright-core/package.json"; then
    # The tests launch Debian's chromium: none of Playwright's own browsers is downloaded.
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$tools/node" --no-audit --no-fund \
        --loglevel=error --save-exact "playwright-core@$playwright" >&2
fi
if ! PYTHONPATH="$tools/python" python3 -c 'import slack_sdk.signature, standardwebhooks, kubernetes_validate' 2>/dev/null; then
    python3 -m pip install --quiet --target "$tools/python" slack_sdk==3.48.0 standardwebhooks==1.1.0 kubernetes-validate==1.37.0 >&2
fi

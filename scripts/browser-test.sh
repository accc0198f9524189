#!/usr/bin/env bash
# Browser tests of the web view (tests/browser/flows.mjs), of the 進捗状況報告書 printed to PDF
# (tests/browser/report.mjs) and of the login through an OpenID provider (tests/browser/oidc-login.mjs,
# last: it registers a provider for the demo municipality): headless Chromium drives the pages
# served by a live `serve --demo` on a free port with a temporary SQLite file. Self-contained: installs
# Chromium and Japanese fonts where missing (as root, from the distribution's packages), the
# driver (playwright-core, pinned by tests/browser/package-lock.json) with npm, and builds the binary.
# Screenshots: target/browser-screenshots/. With UPDATE_DOCS=1 the README's screenshot
# (docs/web-hq-overview.png: a fresh demo as the 本部 first sees it) is written anew from the same
# run. Needs Node.js 20+ and npm.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"

step() { printf '\n==> %s\n' "$*"; }

step "Chromium and fonts"
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fc-list :lang=ja 2>/dev/null | grep -q . || missing+=(fonts-noto-cjk)
if ((${#missing[@]})); then
    if [ "$(id -u)" != 0 ]; then
        echo "missing: ${missing[*]} (install them, or run as root to have them installed)" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
chromium --version 2>/dev/null || true

step "driver (npm ci in tests/browser)"
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
# The OpenID provider the login test registers for the demo municipality (oidc-login.mjs).
(cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error)

step "build"
# .ci/run passes the release binary it already built; alone, the script builds a debug one.
binary="${MUNICIPAL_KPI_BINARY:-}"
if [[ -z "$binary" ]]; then
    cargo build --locked --bin municipal-kpi
    binary="$repo/target/debug/municipal-kpi"
fi

step "server"
work="$(mktemp -d)"
port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
DATABASE_URL="sqlite://$work/municipal-kpi.db" BIND_ADDR="127.0.0.1:$port" TOKEN_TTL_MINUTES=60 LOG_LEVEL=warn \
    "$binary" serve --demo >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 120); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; echo "the server stopped" >&2; exit 1; }
    sleep 1
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/server.log"; echo "the server did not become ready" >&2; exit 1; }
echo "serving on http://127.0.0.1:$port"

step "browser tests"
mkdir -p target/browser-screenshots
status=0
docs_dir=""
[ "${UPDATE_DOCS:-}" = 1 ] && docs_dir="$repo/docs"
(cd tests/browser && BASE_URL="http://127.0.0.1:$port" SCREENSHOT_DIR="$repo/target/browser-screenshots" DOCS_DIR="$docs_dir" \
    CHROMIUM="$(command -v chromium)" node --test --test-concurrency=1 flows.mjs report.mjs oidc-login.mjs) || status=$?
if [ "$status" != 0 ]; then
    echo "--- server log"; tail -n 50 "$work/server.log"
fi
echo "screenshots: $repo/target/browser-screenshots/"
exit "$status"

#!/usr/bin/env bash
# Contract test: the release server, on SQLite and on PostgreSQL, against its own OpenAPI document.
#
# For each backend this starts `serve --demo` on a fresh database, logs in as hq, a department
# user, a viewer and an admin (the demo users of src/demo.rs), and runs schemathesis 4 with every
# check (`--checks all`) and every phase (examples, coverage, fuzzing, stateful) once per role.
# Any failure fails the script. Called from .ci/run; run it alone with `bash scripts/schemathesis.sh`.
#
# Budget (CI must stay well within 90 minutes): schemathesis runs each phase once when no
# `--max-time` is given, so the cost is bounded by `--max-examples` per operation and phase
# (default below: 8; ~60 operations x 8 runs). Every run is also capped by a wall-clock limit
# (ST_RUN_TIMEOUT) that fails loudly instead of letting a hung server eat the CI budget.
# Settings: ST_MAX_EXAMPLES, ST_RUN_TIMEOUT (seconds), ST_WORKERS, ST_BACKENDS ("sqlite postgres"),
# ST_ROLES ("anonymous hq department viewer analyst admin system_admin"), ST_SEED (fixed by default so a
# failure reproduces). `anonymous` sends no token and runs the deliberately public operations (tag `public`:
# what was published; the demo publishes its sample FY2020, so they find data).
set -euo pipefail
cd "$(dirname "$0")/.."

ST_MAX_EXAMPLES=${ST_MAX_EXAMPLES:-8}
ST_RUN_TIMEOUT=${ST_RUN_TIMEOUT:-600}
# One worker: with two threads, CPython 3.11's ast module can fail inside hypothesis ("AST
# constructor recursion depth mismatch", python/cpython#106905), an error of the tool, not the API.
ST_WORKERS=${ST_WORKERS:-1}
ST_BACKENDS=${ST_BACKENDS:-sqlite postgres}
# The administrators run last: they may deactivate users or change passwords, which ends tokens.
ST_ROLES=${ST_ROLES:-anonymous hq department viewer analyst admin system_admin}
ST_SEED=${ST_SEED:-20201}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}

target_dir=${CARGO_TARGET_DIR:-target}
venv="$target_dir/ci-venv"
reports="$target_dir/schemathesis"
binary="${MUNICIPAL_KPI_BINARY:-$target_dir/release/municipal-kpi}"
# A fixed secret: the tokens are for this throwaway server only.
export JWT_SECRET="schemathesis-contract-test-secret-0123456789"
export TOKEN_TTL_MINUTES=240
export LOG_LEVEL=warn
# Serializers schemathesis lacks (application/toml); see the file.
export SCHEMATHESIS_HOOKS=scripts/schemathesis_hooks.py

step() { printf '\n--> %s\n' "$*"; }

if [[ -z "${MUNICIPAL_KPI_BINARY:-}" ]]; then
    step "release build"
    cargo build --release --locked --quiet
fi

step "schemathesis 4 in $venv"
# Cached: the venv is reused when it already holds a 4.x schemathesis.
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q 'version 4\.' ||
    ! "$venv/bin/python" -c 'import openapi_spec_validator' 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4,<5' 'openapi-spec-validator>=0.7,<1'
fi
"$venv/bin/schemathesis" --version

step "the committed document is valid OpenAPI 3.1 (openapi-spec-validator)"
"$venv/bin/python" -m openapi_spec_validator --schema 3.1.0 openapi/openapi.json

# The demo users, one per municipal role (src/demo.rs), and the two cross-municipality accounts
# created below with the CLI, as an operator would.
declare -A USERNAME=([hq]=hq [department]=it-promotion [viewer]=viewer [admin]=admin
    [analyst]=contract-analyst [system_admin]=contract-system-admin)
declare -A PASSWORD=([hq]=hq-demo-password [department]=it-promotion-demo-pass [viewer]=viewer-demo-pass
    [admin]=admin-demo-pass [analyst]=contract-analyst-password [system_admin]=contract-system-admin-password)

server_pid=""
pg_database=""
sqlite_dir=""
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
    if [[ -n "$pg_database" ]]; then
        psql "$PG_ADMIN_URL" -q -c "DROP DATABASE IF EXISTS $pg_database WITH (FORCE)" >/dev/null || true
        pg_database=""
    fi
    if [[ -n "$sqlite_dir" ]]; then
        rm -rf "$sqlite_dir"
        sqlite_dir=""
    fi
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_server() {
    local database_url=$1 port=$2 log=$3
    "$binary" --database-url "$database_url" serve --demo --bind "127.0.0.1:$port" >"$log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 120); do
        if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
            return 0
        fi
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "the server exited during start-up:"; cat "$log"; return 1
        fi
        sleep 0.5
    done
    echo "the server did not become ready:"; cat "$log"; return 1
}

login() {
    local port=$1 role=$2
    local body
    body=$(printf '{"username":"%s","password":"%s"}' "${USERNAME[$role]}" "${PASSWORD[$role]}")
    curl -fsS -X POST "http://127.0.0.1:$port/api/v1/auth/token" -H 'Content-Type: application/json' -d "$body" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

failed=()
mkdir -p "$reports"
for backend in $ST_BACKENDS; do
    case "$backend" in
        sqlite)
            sqlite_dir=$(mktemp -d)
            database_url="sqlite://$sqlite_dir/contract.db"
            ;;
        postgres)
            pg_database="mkpi_contract_$$"
            psql "$PG_ADMIN_URL" -q -c "CREATE DATABASE $pg_database" >/dev/null
            database_url="${PG_ADMIN_URL%/*}/$pg_database"
            ;;
        *) echo "unknown backend $backend"; exit 2 ;;
    esac
    port=$(free_port)
    step "$backend: serve --demo on port $port"
    start_server "$database_url" "$port" "$reports/server-$backend.log"
    for role in analyst system_admin; do
        printf '%s\n' "${PASSWORD[$role]}" |
            "$binary" --database-url "$database_url" user create --username "${USERNAME[$role]}" --role "$role" >/dev/null
    done
    # Log in first: the runs send wrong passwords to /auth/token, which the login throttle counts.
    declare -A TOKEN=()
    for role in $ST_ROLES; do
        [[ "$role" == anonymous ]] || TOKEN[$role]=$(login "$port" "$role")
    done
    for role in $ST_ROLES; do
        step "$backend as $role: schemathesis (max ${ST_MAX_EXAMPLES} examples, at most ${ST_RUN_TIMEOUT}s)"
        run_reports="$reports/$backend-$role"
        # Without a token only the public operations are meant to answer; every role also runs them.
        if [[ "$role" == anonymous ]]; then
            access=(--include-tag public)
        else
            access=(--header "Authorization: Bearer ${TOKEN[$role]}")
        fi
        # POST /auth/logout is left out: it ends the sessions of the token the whole run uses, and
        # every operation after it would only see 401 (tests/api/oidc_login.rs covers it).
        rm -rf "$run_reports"
        status=0
        timeout --signal=INT --kill-after=30 "$ST_RUN_TIMEOUT" \
            "$venv/bin/schemathesis" --no-color --config-file scripts/schemathesis.toml \
            run "http://127.0.0.1:$port/api-docs/openapi.json" \
            --checks all \
            --phases examples,coverage,fuzzing,stateful \
            --max-examples "$ST_MAX_EXAMPLES" \
            --workers "$ST_WORKERS" \
            --seed "$ST_SEED" \
            --continue-on-failure \
            --exclude-operation-id logout \
            "${access[@]}" \
            --report junit --report-dir "$run_reports" \
            || status=$?
        case "$status" in
            0) ;;
            124) echo "schemathesis ($backend as $role) exceeded ${ST_RUN_TIMEOUT}s"; failed+=("$backend/$role (timeout)") ;;
            *) failed+=("$backend/$role") ;;
        esac
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "the server died during the run:"; tail -n 50 "$reports/server-$backend.log"; exit 1
        fi
    done
    unset TOKEN
    cleanup
done

if ((${#failed[@]} > 0)); then
    echo "schemathesis found failures in: ${failed[*]} (reports under $reports)"
    exit 1
fi
echo "schemathesis: no failures on ${ST_BACKENDS// /, } as ${ST_ROLES// /, }"

#!/usr/bin/env bash
# Read-path load measurement (docs/benchmark.md): wrk against release binaries serving the demo
# plan with its sample actuals and the 10× synthetic plan, on SQLite and PostgreSQL, plus the
# server's memory (idle, peak under load) and its start-to-ready time; then, per binary and
# backend, `serve --demo` on an empty database: time to ready and memory once ready and after a
# login (what a newcomer starts, and what loading the demo leaves behind).
#
#   scripts/load.sh [LABEL=BINARY ...]       default: current=target/release/municipal-kpi
#
# Several binaries (e.g. before=/tmp/old after=target/release/municipal-kpi) are measured one
# after the other against the same database, so their rows come from the same run window.
# Settings (environment): BACKENDS ("sqlite postgres"), DURATION (20 s), WARMUP (5 s),
# CONNECTIONS (32), THREADS (2), YEAR (2020), PORT (18080), UNCACHED_ROUNDS (300),
# WRITE_YEAR (2023: the year of the DX plan's actuals written before each uncached read),
# POSTGRES_URL (postgres://postgres@127.0.0.1:5432), PREPARE_BIN (the last binary: it loads the
# database with `demo` and `synthetic --scale 10`, so it must know the `synthetic` command).
# Needs wrk (`apt-get install -y wrk`), curl, python3 and, for PostgreSQL, psql.
set -euo pipefail

BACKENDS=${BACKENDS:-"sqlite postgres"}
DURATION=${DURATION:-20}
WARMUP=${WARMUP:-5}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
YEAR=${YEAR:-2020}
PORT=${PORT:-18080}
UNCACHED_ROUNDS=${UNCACHED_ROUNDS:-300}
WRITE_YEAR=${WRITE_YEAR:-2023}
POSTGRES_URL=${POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
BASE="http://127.0.0.1:$PORT"
JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export JWT_SECRET

if [ $# -eq 0 ]; then set -- "current=target/release/municipal-kpi"; fi
BINARIES=("$@")
PREPARE_BIN=${PREPARE_BIN:-${BINARIES[-1]#*=}}
for entry in "${BINARIES[@]}"; do
    [ -x "${entry#*=}" ] || { echo "not an executable: ${entry#*=}" >&2; exit 2; }
done

WORK=$(mktemp -d)
SERVER_PID=""
SAMPLER_PID=""
PG_DATABASE=""
cleanup() {
    [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null || true
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
    [ -n "$PG_DATABASE" ] && psql "$POSTGRES_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DATABASE WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
kib() { awk -v key="$1:" '$1 == key { print $2 }' "/proc/$SERVER_PID/status"; }

machine_load() {
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); busiest processes (%CPU since start, command):"
    ps -eo pcpu=,comm= --sort=-pcpu | head -5 | sed 's/^/    /'
}

# CPU time (utime + stime, in clock ticks) of a process, and of every PostgreSQL server process.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
postgres_ticks() {
    local total=0 pid
    for pid in $(pgrep -u postgres postgres || true); do total=$((total + $(cpu_ticks "$pid"))); done
    echo "$total"
}

# wrk's requests per second, 50 % and 99 % latencies in milliseconds, non-2xx/3xx count, and the
# CPU time the server and PostgreSQL spent per request (microseconds): on a shared machine whose
# speed varies (steal), the CPU per request compares binaries better than the rate does.
run_wrk() {
    local path=$1; shift
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "$@" "$BASE$path" >/dev/null
    local server_before postgres_before out
    server_before=$(cpu_ticks "$SERVER_PID")
    postgres_before=$(postgres_ticks)
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" "$BASE$path")
    echo "$out" | awk -v server="$(( $(cpu_ticks "$SERVER_PID") - server_before ))" \
        -v postgres="$(( $(postgres_ticks) - postgres_before ))" -v hz="$(getconf CLK_TCK)" -v backend="$CURRENT_BACKEND" '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
        / requests in / { n = $1 }
        /^Requests\/sec:/ { rps = $2 } /Non-2xx or 3xx responses:/ { bad = $NF }
        END {
            per = (n > 0) ? 1e6 / hz / n : 0
            pg = (backend == "postgres") ? sprintf("%.0f", postgres * per) : "—"
            printf "%.0f | %.2f | %.2f | %d | %.0f | %s", rps, p50, p99, bad, server * per, pg
        }'
}

start_server() {
    local binary=$1 url=$2
    local started
    started=$(date +%s.%N)
    DATABASE_URL=$url BIND_ADDR="127.0.0.1:$PORT" LOG_LEVEL=warn "$binary" serve >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    until curl -sf -o /dev/null "$BASE/readyz"; do
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
        sleep 0.01
    done
    READY_SECONDS=$(printf %.2f "$(echo "$(date +%s.%N) - $started" | bc)")
}

stop_server() {
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

measure_binary() {
    local backend=$1 label=$2 binary=$3 url=$4
    start_server "$binary" "$url"
    local token plans demo_plan synthetic_plan evaluation indicator measure etag
    token=$(curl -sf "$BASE/api/v1/auth/token" -H 'Content-Type: application/json' \
        -d '{"username":"hq","password":"hq-demo-password"}' | json 'd["access_token"]')
    local auth=(-H "Authorization: Bearer $token")
    plans=$(curl -sf "${auth[@]}" "$BASE/api/v1/plans?limit=500")
    demo_plan=$(echo "$plans" | json '[p["id"] for p in d["items"] if not p["code"].startswith("synthetic")][0]')
    synthetic_plan=$(echo "$plans" | json '[p["id"] for p in d["items"] if p["code"].startswith("synthetic")][0]')
    write_plan=$(echo "$plans" | json '[p["id"] for p in d["items"] if p["code"] == "itabashi-dx-2025"][0]')
    evaluation=$(curl -sf "${auth[@]}" "$BASE/api/v1/plans/$demo_plan/evaluation?fiscal_year=$YEAR")
    indicator=$(echo "$evaluation" | json 'd["indicators"][0]["indicator_id"]')
    measure=$(echo "$evaluation" | json 'd["indicators"][0]["measure_id"]')
    etag=$(curl -sf -D - -o /dev/null "${auth[@]}" "$BASE/api/v1/plans/$demo_plan/dashboard" | awk -F': ' 'tolower($1) == "etag" { print $2 }' | tr -d '\r')
    [ "$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -H "If-None-Match: $etag" "$BASE/api/v1/plans/$demo_plan/dashboard")" = 304 ] \
        || { echo "the dashboard did not answer 304 to its own ETag" >&2; exit 1; }
    sleep 2
    local idle_kib
    idle_kib=$(kib VmRSS)
    echo "max=0" >"$WORK/rss"
    (max=0; while kill -0 "$SERVER_PID" 2>/dev/null; do
        now=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
        [ "${now:-0}" -gt "$max" ] && max=$now && echo "max=$max" >"$WORK/rss"
        sleep 0.2
    done) &
    SAMPLER_PID=$!
    local row="| $backend | $label"
    echo "$row | one indicator, raw \`GET /indicators/{id}\` | $(run_wrk "/api/v1/indicators/$indicator" "${auth[@]}") |"
    echo "$row | one indicator's achievement, FY$YEAR | $(run_wrk "/api/v1/indicators/$indicator/achievement?fiscal_year=$YEAR" "${auth[@]}") |"
    echo "$row | a measure's indicators | $(run_wrk "/api/v1/measures/$measure/indicators" "${auth[@]}") |"
    echo "$row | demo plan evaluation FY$YEAR | $(run_wrk "/api/v1/plans/$demo_plan/evaluation?fiscal_year=$YEAR" "${auth[@]}") |"
    echo "$row | dashboard feed | $(run_wrk "/api/v1/plans/$demo_plan/dashboard" "${auth[@]}") |"
    echo "$row | dashboard, 304 revalidation | $(run_wrk "/api/v1/plans/$demo_plan/dashboard" "${auth[@]}" -H "If-None-Match: $etag") |"
    echo "$row | 10× plan evaluation FY$YEAR | $(run_wrk "/api/v1/plans/$synthetic_plan/evaluation?fiscal_year=$YEAR" "${auth[@]}") |"
    # The same evaluations computed afresh: each round writes an actual of the municipality first.
    UNCACHED_ROWS+=("| $backend | $label | $(python3 "$(dirname "$0")/uncached_reads.py" --port "$PORT" \
        --token "$token" --plans "$demo_plan,$synthetic_plan" --write-plan "$write_plan" --write-year "$WRITE_YEAR" \
        --year "$YEAR" --rounds "$UNCACHED_ROUNDS" | tr '\n' ' ') |")
    kill "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=""
    local peak_kib sampled_kib after_kib
    sampled_kib=$(sed 's/max=//' "$WORK/rss")
    peak_kib=$(kib VmHWM)
    sleep 3
    after_kib=$(kib VmRSS)
    MEMORY_ROWS+=("| $backend | $label | $READY_SECONDS | $((idle_kib / 1024)) | $((sampled_kib / 1024)) | $((peak_kib / 1024)) | $((after_kib / 1024)) |")
    stop_server
}

# `serve --demo` on an empty database of the backend: time to the first /readyz 200, RSS then,
# RSS and VmHWM after one login (argon2 takes 19 MiB while it runs).
measure_demo_start() {
    local backend=$1 label=$2 binary=$3 url=$4
    local started ready_kib
    started=$(date +%s.%N)
    DATABASE_URL=$url BIND_ADDR="127.0.0.1:$PORT" LOG_LEVEL=warn "$binary" serve --demo >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    until curl -sf -o /dev/null "$BASE/readyz"; do
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
        sleep 0.01
    done
    local seconds
    seconds=$(printf %.2f "$(echo "$(date +%s.%N) - $started" | bc)")
    ready_kib=$(kib VmRSS)
    curl -sf -o /dev/null "$BASE/api/v1/auth/token" -H 'Content-Type: application/json' \
        -d '{"username":"hq","password":"hq-demo-password"}'
    DEMO_ROWS+=("| $backend | $label | $seconds | $((ready_kib / 1024)) | $(($(kib VmRSS) / 1024)) | $(($(kib VmHWM) / 1024)) |")
    stop_server
}

empty_database() {
    case $1 in
        sqlite) rm -f "$WORK/empty.db"*; echo "sqlite://$WORK/empty.db" ;;
        postgres)
            psql "$POSTGRES_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DATABASE WITH (FORCE)" >/dev/null
            psql "$POSTGRES_URL/postgres" -qc "CREATE DATABASE $PG_DATABASE" >/dev/null
            echo "$POSTGRES_URL/$PG_DATABASE" ;;
    esac
}

MEMORY_ROWS=()
DEMO_ROWS=()
UNCACHED_ROWS=()
echo "# $(date -u +%FT%TZ) on $(nproc) CPUs; wrk -t$THREADS -c$CONNECTIONS, ${WARMUP} s warm-up + ${DURATION} s"
for entry in "${BINARIES[@]}"; do echo "#   ${entry%%=*}: ${entry#*=} ($(stat -c %y "${entry#*=}" | cut -d. -f1))"; done
machine_load | sed 's/^/# /'
echo
echo "| backend | binary | request | req/s | p50 ms | p99 ms | non-2xx/3xx | server CPU µs/request | PostgreSQL CPU µs/request |"
echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
for backend in $BACKENDS; do
    CURRENT_BACKEND=$backend
    case $backend in
        sqlite) url="sqlite://$WORK/load.db" ;;
        postgres)
            PG_DATABASE="municipal_kpi_load_$$"
            psql "$POSTGRES_URL/postgres" -qc "CREATE DATABASE $PG_DATABASE" >/dev/null
            url="$POSTGRES_URL/$PG_DATABASE" ;;
        *) echo "unknown backend $backend" >&2; exit 2 ;;
    esac
    DATABASE_URL=$url LOG_LEVEL=warn "$PREPARE_BIN" demo >/dev/null
    DATABASE_URL=$url LOG_LEVEL=warn "$PREPARE_BIN" synthetic --scale 10 >/dev/null
    for entry in "${BINARIES[@]}"; do
        measure_binary "$backend" "${entry%%=*}" "${entry#*=}" "$url"
    done
    for entry in "${BINARIES[@]}"; do
        measure_demo_start "$backend" "${entry%%=*}" "${entry#*=}" "$(empty_database "$backend")"
    done
    if [ "$backend" = postgres ]; then
        psql "$POSTGRES_URL/postgres" -qc "DROP DATABASE $PG_DATABASE WITH (FORCE)" >/dev/null
        PG_DATABASE=""
    fi
done
echo
echo "| backend | binary | evaluations of the demo plan, then of the 10× plan, right after a write (one client) |"
echo "|---|---|---|"
printf '%s\n' "${UNCACHED_ROWS[@]}"
echo
echo "| backend | binary | start to /readyz s | idle RSS MB | max RSS under load MB (sampled) | VmHWM MB | RSS after load MB |"
echo "|---|---|---:|---:|---:|---:|---:|"
printf '%s\n' "${MEMORY_ROWS[@]}"
echo
echo "| backend | binary | serve --demo, empty database: start to /readyz s | RSS when ready MB | RSS after a login MB | VmHWM MB |"
echo "|---|---|---:|---:|---:|---:|"
printf '%s\n' "${DEMO_ROWS[@]}"
echo
machine_load | sed 's/^/# /'

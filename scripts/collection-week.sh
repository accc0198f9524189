#!/usr/bin/env bash
# Collection-week load (issue 21, docs/benchmark.md): the nationwide synthetic data set on
# PostgreSQL, a release server, and scripts/collection_week.py driving it through HTTP: reads
# (evaluation and dashboard of random municipalities, an indicator's achievement, a national
# comparison across all municipalities) first alone, then while departments of every municipality
# PUT actuals with If-Match at a set rate. Prints each kind's rate, p50 and p99, the server's and
# PostgreSQL's CPU per request, the server's RSS, and the read rates with writes as a ratio of
# those without, measured in one run.
#
#   scripts/collection-week.sh
#
# Settings (environment): BIN (target/release/municipal-kpi), MUNICIPALITIES (1741), YEARS (10),
# LAST_YEAR (2025; the year read and written), DURATION (20 s per phase), PHASES (quiet,writes; `writes`
# alone runs only the collection week itself, e.g. DURATION=1800 to see whether RSS stays flat), WRITE_RATE (20 per s),
# CONNECTIONS (4 per read kind), READ_KINDS (evaluation,dashboard,achievement,comparison: any subset),
# READ_MUNICIPALITIES (100), PORT (18090),
# POSTGRES_URL (postgres://postgres@127.0.0.1:5432), DATABASE (a name: kept after the run and, when
# it exists, reused without generating again; default a fresh database dropped at the end).
# Generating 1,741 municipalities × 10 years takes minutes; keep it with DATABASE=... to rerun.
# Every municipality gets a load-test hq and department account (`cw-hq-N`, `cw-department-N`,
# no usable password: the driver signs their tokens with the server's JWT_SECRET), and every
# sixth indicator's LAST_YEAR actual is removed so that departments submit it afresh.
# Needs python3, curl and psql.
set -euo pipefail

BIN=${BIN:-target/release/municipal-kpi}
MUNICIPALITIES=${MUNICIPALITIES:-1741}
YEARS=${YEARS:-10}
LAST_YEAR=${LAST_YEAR:-2025}
DURATION=${DURATION:-20}
PHASES=${PHASES:-quiet,writes}
WRITE_RATE=${WRITE_RATE:-20}
CONNECTIONS=${CONNECTIONS:-4}
READ_MUNICIPALITIES=${READ_MUNICIPALITIES:-100}
READ_KINDS=${READ_KINDS:-evaluation,dashboard,achievement,comparison}
PORT=${PORT:-18090}
POSTGRES_URL=${POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
KEEP=${DATABASE:+yes}
DATABASE=${DATABASE:-collection_week_$$}
DATABASE_URL="$POSTGRES_URL/$DATABASE"
JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
# The driver samples /metrics for what the server says it holds (caches, heap) beside its RSS.
METRICS_TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export JWT_SECRET METRICS_TOKEN
HERE=$(cd "$(dirname "$0")" && pwd)

[ -x "$BIN" ] || { echo "not an executable: $BIN (cargo build --release)" >&2; exit 2; }
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
    [ -z "$KEEP" ] && psql "$POSTGRES_URL/postgres" -qc "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
sql() { psql "$DATABASE_URL" -qAtX -v ON_ERROR_STOP=1 "$@"; }

if [ -z "$(psql "$POSTGRES_URL/postgres" -qAtXc "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" ]; then
    psql "$POSTGRES_URL/postgres" -qc "CREATE DATABASE $DATABASE" >/dev/null
    echo "generating $MUNICIPALITIES synthetic municipalities × $YEARS years (once per DATABASE)…"
    DATABASE_URL=$DATABASE_URL "$BIN" generate nationwide --municipalities "$MUNICIPALITIES" --years "$YEARS" \
        --last-fiscal-year "$LAST_YEAR" --runs 0
fi

sql <<SQL
INSERT INTO users (username, display_name, password_hash, role, department_id, active, created_at, updated_at,
                   token_version, municipality_id)
SELECT 'cw-hq-' || m.id, '負荷試験 本部', '!', 'hq', NULL, TRUE, now(), now(), 0, m.id
FROM municipalities m WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.username = 'cw-hq-' || m.id);
INSERT INTO users (username, display_name, password_hash, role, department_id, active, created_at, updated_at,
                   token_version, municipality_id)
SELECT 'cw-department-' || m.id, '負荷試験 所管課', '!', 'department',
       (SELECT min(d.id) FROM departments d WHERE d.municipality_id = m.id), TRUE, now(), now(), 0, m.id
FROM municipalities m
WHERE EXISTS (SELECT 1 FROM departments d WHERE d.municipality_id = m.id)
  AND NOT EXISTS (SELECT 1 FROM users u WHERE u.username = 'cw-department-' || m.id);
DELETE FROM actual_events WHERE actual_id IN
    (SELECT a.id FROM actuals a WHERE a.fiscal_year = $LAST_YEAR AND a.indicator_id % 6 = 0);
DELETE FROM actuals WHERE fiscal_year = $LAST_YEAR AND indicator_id % 6 = 0;
SQL

sql >"$WORK/targets.json" <<'SQL'
SELECT json_build_object(
    'national_codes', (SELECT json_agg(DISTINCT national_indicator_code) FROM indicators
                       WHERE national_indicator_code IS NOT NULL),
    'municipalities', (SELECT json_agg(json_build_object(
        'id', m.id, 'plan', p.id, 'hq_user', hq.id, 'department_user', du.id, 'department', du.department_id,
        'indicators', (SELECT coalesce(json_agg(json_build_object('id', i.id, 'kind', i.kind)), '[]'::json)
                       FROM indicators i JOIN measures ms ON ms.id = i.measure_id
                       WHERE ms.plan_id = p.id AND i.id % 6 = 0)) ORDER BY m.id)
        FROM municipalities m
        JOIN LATERAL (SELECT min(id) AS id FROM plans WHERE municipality_id = m.id) p ON p.id IS NOT NULL
        JOIN users hq ON hq.username = 'cw-hq-' || m.id
        JOIN users du ON du.username = 'cw-department-' || m.id));
SQL

DATABASE_URL=$DATABASE_URL BIND_ADDR="127.0.0.1:$PORT" LOG_LEVEL=warn METRICS_ENABLED=true "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
until curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz"; do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
    sleep 0.05
done

echo "collection week: $(sql -c 'SELECT count(*) FROM municipalities') municipalities, FY$LAST_YEAR, \
$DURATION s per phase ($PHASES), $WRITE_RATE writes/s, $CONNECTIONS connections per read kind, on $(nproc) cores"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$HERE/collection_week.py" --targets "$WORK/targets.json" --port "$PORT" --server-pid "$SERVER_PID" \
    --year "$LAST_YEAR" --duration "$DURATION" --write-rate "$WRITE_RATE" --connections "$CONNECTIONS" \
    --read-municipalities "$READ_MUNICIPALITIES" --kinds "$READ_KINDS" --phases "$PHASES"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

#!/usr/bin/env python3
"""Evaluations served without a cached answer, through HTTP (docs/benchmark.md).

Every write of a municipality makes its cached answers stale, so the first read after a write is
computed afresh. One client, one connection: it writes an actual of another plan of the
municipality (a `PUT` with `If-Match`, to a count indicator of `--write-plan`, so that the measured
plans' history does not grow with the rounds), then reads each plan's evaluation once (computed
afresh) and once more (the cached answer), `--rounds` times. Prints p50 and p99 of both reads per plan, in milliseconds, measured at
the client (keep-alive on loopback, so a few tens of microseconds are the client's own).

  scripts/uncached_reads.py --port 18080 --token TOKEN --plans 1,4 --write-plan 2 \
      --write-year 2023 --year 2020 --rounds 300

Standard library only.
"""

import argparse
import http.client
import json
import time


def quantile(values, q):
    values = sorted(values)
    return values[max(0, min(len(values) - 1, int(q * len(values) + 0.5) - 1))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True, help="an access token that may write the indicator")
    parser.add_argument("--plans", required=True, help="plan ids, comma-separated")
    parser.add_argument("--write-plan", type=int, required=True, help="a plan of the same municipality")
    parser.add_argument("--write-year", type=int, required=True)
    parser.add_argument("--year", type=int, default=2020, help="the fiscal year evaluated")
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()

    conn = http.client.HTTPConnection(args.host, args.port, timeout=30)
    auth = {"Authorization": f"Bearer {args.token}"}

    def call(method, path, headers=None, body=None):
        conn.request(method, path, body=body, headers={**auth, **(headers or {})})
        response = conn.getresponse()
        data = response.read()
        return response.status, response.getheader("ETag"), data

    plans = [int(p) for p in args.plans.split(",")]
    status, _, data = call("GET", f"/api/v1/plans/{args.write_plan}/evaluation?fiscal_year={args.write_year}")
    if status != 200:
        raise SystemExit(f"the evaluation of plan {args.write_plan} answered {status}: {data[:300]!r}")
    for row in json.loads(data)["indicators"]:
        status, _, data = call("GET", f"/api/v1/indicators/{row['indicator_id']}")
        if status == 200 and json.loads(data)["kind"] == "count":
            write_path = f"/api/v1/indicators/{row['indicator_id']}/actuals/{args.write_year}"
            break
    else:
        raise SystemExit(f"plan {args.write_plan} has no count indicator to write")
    status, etag, _ = call("GET", write_path)
    etag = etag if status == 200 else None
    fresh = {plan: [] for plan in plans}
    cached = {plan: [] for plan in plans}
    for round_number in range(args.rounds):
        body = json.dumps({"value": round_number % 1000, "note": "計測用の値"})
        headers = {"Content-Type": "application/json", **({"If-Match": etag} if etag else {})}
        status, etag, data = call("PUT", write_path, headers, body)
        if status not in (200, 201):
            raise SystemExit(f"the write answered {status}: {data[:300]!r}")
        for plan in plans:
            path = f"/api/v1/plans/{plan}/evaluation?fiscal_year={args.year}"
            for into in (fresh[plan], cached[plan]):
                started = time.perf_counter()
                status, _, data = call("GET", path)
                into.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    raise SystemExit(f"the evaluation of plan {plan} answered {status}: {data[:300]!r}")
    for plan in plans:
        print(f"plan {plan}: computed afresh p50 {quantile(fresh[plan], 0.5):.2f} ms, "
              f"p99 {quantile(fresh[plan], 0.99):.2f} ms; cached p50 {quantile(cached[plan], 0.5):.2f} ms, "
              f"p99 {quantile(cached[plan], 0.99):.2f} ms ({args.rounds} rounds)")


if __name__ == "__main__":
    main()

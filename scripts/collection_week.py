#!/usr/bin/env python3
"""Collection-week load driver (scripts/collection-week.sh prepares the database and the server).

Two phases of equal length against one running server: `quiet` (reads only) and `writes` (the
same reads while departments write actuals at a set rate, spread over every municipality); or
`writes` alone, for a long run of the collection week itself. Reads
are the evaluation and the dashboard of random municipalities among the read sample, one
indicator's achievement, and one national indicator's comparison across all municipalities.
Writes are department `PUT /indicators/{id}/actuals/{year}` with `If-Match` (the ETag of the last
answer; the first write of an actual needs none).

Per phase and kind it prints the rate, p50 and p99 latency and failures; per phase the server's and
PostgreSQL's CPU time per request and the server's RSS (start, peak, end); the ratio of each
read kind's rate with writes to its rate without; and whether RSS stays flat over the whole run.
Standard library only. Reads run in one process per kind (several connections each, keep-alive),
so the client's GIL is not the limit.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import threading
import time

READ_KINDS = ("evaluation", "dashboard", "achievement", "comparison")


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(secret, user_id, username, role, department_id):
    """An HS256 access token as the server issues it (auth/token.rs: iss, aud, exp, ver)."""
    now = int(time.time())
    claims = {"sub": str(user_id), "username": username, "role": role, "department_id": department_id,
              "iat": now, "nbf": now - 60, "exp": now + 6 * 3600, "iss": "municipal-kpi",
              "aud": "municipal-kpi-api", "ver": 0}
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


def quantile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), int(-(-q * len(sorted_values) // 1))))
    return sorted_values[rank - 1]


class Client:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.conn = None

    def request(self, method, path, headers, body=None):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                return response.status, response.getheader("ETag"), data
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise RuntimeError("unreachable")


def read_path(kind, rng, targets, national_codes, year):
    target = rng.choice(targets)
    if kind == "evaluation":
        return f"/api/v1/plans/{target['plan']}/evaluation?fiscal_year={year}", target["hq_token"]
    if kind == "dashboard":
        return f"/api/v1/plans/{target['plan']}/dashboard", target["hq_token"]
    if kind == "achievement":
        indicator = rng.choice(target["indicators"])["id"]
        return f"/api/v1/indicators/{indicator}/achievement?fiscal_year={year}", target["hq_token"]
    code = rng.choice(national_codes)
    return f"/api/v1/national-indicators/{code}/comparison?fiscal_year={year}", target["hq_token"]


def reader(kind, args, targets, national_codes, stop_at, out):
    """One process per read kind; `connections` threads each keep one connection busy."""
    latencies, failures, lock = [], [0], threading.Lock()

    def loop(seed):
        rng = random.Random(seed)
        client = Client(args.host, args.port)
        mine, bad = [], 0
        while time.monotonic() < stop_at:
            path, bearer = read_path(kind, rng, targets, national_codes, args.year)
            started = time.monotonic()
            try:
                status, _, _ = client.request("GET", path, {"Authorization": f"Bearer {bearer}"})
            except OSError:
                status = 0
            mine.append(time.monotonic() - started)
            if status != 200:
                bad += 1
        with lock:
            latencies.extend(mine)
            failures[0] += bad

    threads = [threading.Thread(target=loop, args=(hash((kind, i, stop_at)),)) for i in range(args.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Only the summary crosses to the parent: a 15-minute phase gathers about a million latencies
    # per kind, which took minutes to send through the queue.
    out.put((kind, summary(latencies, failures[0])))


def summary(latencies, failures):
    ordered = sorted(latencies)
    return {"count": len(ordered), "p50": quantile(ordered, 0.5), "p99": quantile(ordered, 0.99), "failed": failures}


def actual_body(kind, rng):
    if kind == "ratio":
        denominator = rng.randint(1000, 100000)
        return {"numerator": rng.randint(0, denominator), "denominator": denominator, "note": "負荷試験の合成値"}
    return {"value": rng.randint(0, 1000), "note": "負荷試験の合成値"}


def writer(args, writers, stop_at, result):
    """Department writes at `write_rate` per second, spread over every municipality."""
    rng = random.Random(7)
    client = Client(args.host, args.port)
    etags, latencies, failures = {}, [], 0
    interval = 1.0 / args.write_rate
    next_at = time.monotonic()
    while time.monotonic() < stop_at:
        now = time.monotonic()
        if now < next_at:
            time.sleep(next_at - now)
        next_at += interval
        target = rng.choice(writers)
        indicator = rng.choice(target["indicators"])
        path = f"/api/v1/indicators/{indicator['id']}/actuals/{args.year}"
        headers = {"Authorization": f"Bearer {target['department_token']}", "Content-Type": "application/json"}
        if indicator["id"] in etags:
            headers["If-Match"] = etags[indicator["id"]]
        started = time.monotonic()
        try:
            status, etag, _ = client.request("PUT", path, headers, json.dumps(actual_body(indicator["kind"], rng)))
        except OSError:
            status, etag = 0, None
        latencies.append(time.monotonic() - started)
        if status in (200, 201) and etag:
            etags[indicator["id"]] = etag
        else:
            failures += 1
            etags.pop(indicator["id"], None)
    result["write"] = (latencies, failures)


def cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except OSError:
        return 0


def postgres_ticks():
    """CPU ticks of each PostgreSQL server process now (the server may be shared with others' work)."""
    found = subprocess.run(["pgrep", "-u", "postgres", "postgres"], capture_output=True, text=True).stdout.split()
    return {pid: cpu_ticks(pid) for pid in found}


def postgres_ticks_since(before):
    """Ticks spent since `before`: processes that ended meanwhile are left out (their last ticks are
    unknown), processes started meanwhile count whole."""
    return sum(ticks - before.get(pid, 0) for pid, ticks in postgres_ticks().items())


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# What the server's /metrics says it holds (src/metrics.rs), in KiB like RSS; entries as counted.
MEMORY_GAUGES = {
    'municipal_kpi_heap_bytes{state="in_use"}': ("heap in use", 1024),
    'municipal_kpi_heap_bytes{state="free"}': ("heap freed, kept", 1024),
    'municipal_kpi_cache_size{cache="responses",unit="bytes"}': ("response cache", 1024),
    'municipal_kpi_cache_entries{cache="responses"}': ("response cache answers", 1),
    'municipal_kpi_cache_size{cache="plan_records",unit="records"}': ("plan records kept", 1),
}
METRICS_INTERVAL = 5.0


def memory_figures(client, token):
    try:
        status, _, body = client.request("GET", "/metrics", {"Authorization": f"Bearer {token}"})
    except OSError:
        return {}
    if status != 200:
        return {}
    figures = {}
    for line in body.decode().splitlines():
        name, _, value = line.rpartition(" ")
        if name in MEMORY_GAUGES:
            label, divisor = MEMORY_GAUGES[name]
            figures[label] = float(value) / divisor
    return figures


def run_phase(name, args, targets, writers, national_codes, timeline):
    stop_at = time.monotonic() + args.duration
    queue = multiprocessing.Queue()
    processes = [multiprocessing.Process(target=reader, args=(kind, args, targets, national_codes, stop_at, queue))
                 for kind in args.kinds]
    rss = {"start": rss_kib(args.server_pid), "peak": 0}
    server_before, postgres_before = cpu_ticks(args.server_pid), postgres_ticks()
    started = time.monotonic()
    for process in processes:
        process.start()
    result = {}
    write_thread = None
    if name == "writes":
        write_thread = threading.Thread(target=writer, args=(args, writers, stop_at, result))
        write_thread.start()
    scraper = Client(args.host, args.port) if args.metrics_token else None
    next_scrape = 0.0
    while time.monotonic() < stop_at:
        sample = {"t": time.monotonic(), "RSS": rss_kib(args.server_pid)}
        rss["peak"] = max(rss["peak"], sample["RSS"])
        if scraper and sample["t"] >= next_scrape:
            sample.update(memory_figures(scraper, args.metrics_token))
            next_scrape = sample["t"] + METRICS_INTERVAL
        timeline.append(sample)
        time.sleep(0.5)
    outcomes = {}
    for _ in processes:
        kind, outcome = queue.get()
        outcomes[kind] = outcome
    for process in processes:
        process.join()
    if write_thread:
        write_thread.join()
        outcomes["write (PUT actual)"] = summary(*result["write"])
    elapsed = time.monotonic() - started
    hz = os.sysconf("SC_CLK_TCK")
    requests = sum(outcome["count"] for outcome in outcomes.values())
    server_us = (cpu_ticks(args.server_pid) - server_before) / hz * 1e6 / max(requests, 1)
    postgres_us = postgres_ticks_since(postgres_before) / hz * 1e6 / max(requests, 1)
    rss["end"] = rss_kib(args.server_pid)
    return {"outcomes": outcomes, "elapsed": elapsed, "server_us": server_us, "postgres_us": postgres_us,
            "rss": rss, "load": open("/proc/loadavg").read().split()[:3]}


def slope_per_minute(samples):
    """Least-squares slope of (seconds, value) samples, per minute."""
    if len(samples) < 2:
        return float("nan")
    mean_t = statistics.fmean(t for t, _ in samples)
    mean_v = statistics.fmean(v for _, v in samples)
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    if spread == 0:
        return float("nan")
    return sum((t - mean_t) * (v - mean_v) for t, v in samples) / spread * 60


def report_memory(phases, timeline):
    """Is RSS flat? Means over sixths of the measured run, and the slope over its last two-thirds
    (the last 20 minutes of a 30-minute run); beside it what the server says it holds, so that a
    growth can be told apart: the caches filling, the heap in use, or the allocator keeping more."""
    if len(timeline) < 12:
        return
    start, end = timeline[0]["t"], timeline[-1]["t"]
    sixth = (end - start) / 6
    print()
    print(f"memory over the measured run ({(end - start) / 60:.1f} min: {', '.join(phases)}; RSS every 0.5 s, "
          f"/metrics every {METRICS_INTERVAL:.0f} s when METRICS_TOKEN is set)")
    print()
    print("| series | mean of each sixth of the run | highest | slope over the last two-thirds, per min |")
    print("|---|---|---:|---:|")
    # Sizes are sampled in KiB and shown in MB; counts as they are.
    series = [("RSS", 1024, "MB")] + [
        (label, 1024, "MB") if in_kib == 1024 else (label, 1, "") for label, in_kib in MEMORY_GAUGES.values()]
    for key, divisor, unit in series:
        points = [(sample["t"], sample[key]) for sample in timeline if key in sample]
        if not points:
            continue
        means = []
        for i in range(6):
            window = [v for t, v in points if start + i * sixth <= t < start + (i + 1) * sixth]
            means.append(f"{statistics.fmean(window) / divisor:.1f}" if window else "–")
        last = [(t, v / divisor) for t, v in points if t >= start + 2 * sixth]
        print(f"| {key} | {', '.join(means)} {unit} | {max(v for _, v in points) / divisor:.1f} {unit} "
              f"| {slope_per_minute(last):+.3f} {unit} |")


def report(phases):
    print("| phase | request | requests/s | p50 ms | p99 ms | failed |")
    print("|---|---|---:|---:|---:|---:|")
    for name, phase in phases.items():
        for kind, outcome in phase["outcomes"].items():
            print(f"| {name} | {kind} | {outcome['count'] / phase['elapsed']:.0f} | {outcome['p50'] * 1000:.1f} "
                  f"| {outcome['p99'] * 1000:.1f} | {outcome['failed']} |")
    print()
    print("| phase | load average (1, 5, 15 min) | server CPU µs/request | PostgreSQL CPU µs/request "
          "| server RSS MB start / peak / end |")
    print("|---|---|---:|---:|---|")
    for name, phase in phases.items():
        rss = phase["rss"]
        print(f"| {name} | {' '.join(phase['load'])} | {phase['server_us']:.0f} | {phase['postgres_us']:.0f} "
              f"| {rss['start'] / 1024:.0f} / {rss['peak'] / 1024:.0f} / {rss['end'] / 1024:.0f} |")
    if "quiet" in phases and "writes" in phases:
        print()
        for kind in phases["quiet"]["outcomes"]:
            if kind not in READ_KINDS:
                continue
            quiet = phases["quiet"]["outcomes"][kind]["count"] / phases["quiet"]["elapsed"]
            busy = phases["writes"]["outcomes"][kind]["count"] / phases["writes"]["elapsed"]
            print(f"{kind}: {busy / quiet if quiet else float('nan'):.2f} of its rate without writes")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", required=True, help="JSON written by collection-week.sh")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--server-pid", type=int, required=True)
    parser.add_argument("--year", type=int, required=True)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per phase")
    parser.add_argument("--write-rate", type=float, default=20.0, help="writes per second in the writes phase")
    parser.add_argument("--connections", type=int, default=4, help="connections per read kind")
    parser.add_argument("--read-municipalities", type=int, default=100)
    parser.add_argument("--metrics-token", default=os.environ.get("METRICS_TOKEN"),
                        help="the server's METRICS_TOKEN: /metrics is sampled for its caches and heap")
    parser.add_argument("--kinds", default=",".join(READ_KINDS),
                        help="the read kinds to run, comma-separated (default: all); e.g. the national comparison, "
                             "which costs far more per request, measured on its own")
    parser.add_argument("--phases", default="quiet,writes",
                        help="the phases to run, in order: `quiet,writes` (default) for the ratios; `writes` alone for "
                             "a long run of the collection week itself, e.g. 30 minutes to see whether RSS stays flat")
    args = parser.parse_args()
    args.phases = [phase for phase in args.phases.split(",") if phase]
    if not args.phases or set(args.phases) - {"quiet", "writes"}:
        parser.error("--phases takes quiet and/or writes, comma-separated")
    args.kinds = [kind for kind in args.kinds.split(",") if kind]
    unknown = set(args.kinds) - set(READ_KINDS)
    if unknown:
        parser.error(f"unknown read kinds {sorted(unknown)}; choose from {', '.join(READ_KINDS)}")
    secret = os.environ["JWT_SECRET"].encode()
    with open(args.targets) as file:
        data = json.load(file)
    everyone = []
    for m in data["municipalities"]:
        m["hq_token"] = token(secret, m["hq_user"], f"cw-hq-{m['id']}", "hq", None)
        m["department_token"] = token(secret, m["department_user"], f"cw-department-{m['id']}", "department",
                                      m["department"])
        everyone.append(m)
    step = max(1, len(everyone) // args.read_municipalities)
    readers = everyone[::step][: args.read_municipalities]
    writers = [m for m in everyone if m["indicators"]]
    # Unreported: fills the caches and the pools, so the quiet phase is not also a cold start.
    warm_up = argparse.Namespace(**{**vars(args), "duration": min(60.0, max(2.0, args.duration / 4))})
    run_phase("warm-up", warm_up, readers, writers, data["national_codes"], [])
    phases, timeline = {}, []
    for name in args.phases:
        phases[name] = run_phase(name, args, readers, writers, data["national_codes"], timeline)
    report(phases)
    report_memory(args.phases, timeline)


if __name__ == "__main__":
    main()

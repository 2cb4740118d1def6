#!/usr/bin/env python3
"""How the service's per-request costs grow with the number of studies.

   scale.py BASE_URL [--small 100] [--large 100000] [--builders 4] [--build-seconds S]

Against a running `emergence serve` on an empty database: builds studies through the API only
(POST /v1/studies, then the 184 rows of mmlu-like.csv as one gzip CSV upload each), measures at
--small studies, grows to --large, measures again, and prints p50/p99 of each figure at both
scales with their ratio. Growing stops early after --build-seconds (the table then says how many
studies it reached). Measured, each on studies the build did not touch:

  GET /                       the study list page (first page)
  GET /v1/studies             the study list (first page)
  GET /studies/{s}            one study's page
  upload 184 rows             gzip CSV into a new, empty study (created unmeasured)
  fit                         POST /v1/studies/{s}/fits until GET /v1/fits/{id} says succeeded
"""
import argparse, gzip, http.client, json, os, sys, threading, time
from urllib.parse import urlparse

here = os.path.dirname(os.path.abspath(__file__))
CSV = gzip.compress(open(os.path.join(here, "mmlu-like.csv"), "rb").read(), 6)
ROWS = 184


class Client:
    """One keep-alive connection."""

    def __init__(self, base):
        u = urlparse(base)
        self.host, self.port = u.hostname, u.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def request(self, method, path, body=None, headers=None):
        for attempt in range(3):
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                r = self.conn.getresponse()
                data = r.read()
                if r.status == 503 and attempt < 2:  # upload slots full: the server asks to retry
                    time.sleep(0.05)
                    continue
                return r.status, data
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
                if attempt == 2:
                    raise
        return r.status, data

    def create(self, name):
        status, body = self.request("POST", "/v1/studies", json.dumps({"name": name}), {"Content-Type": "application/json"})
        if status != 201:
            raise SystemExit(f"creating {name}: {status} {body[:200]!r}")

    def upload(self, name):
        status, body = self.request("POST", f"/v1/studies/{name}/evaluations", CSV,
                                    {"Content-Type": "text/csv", "Content-Encoding": "gzip"})
        if status != 200 or json.loads(body).get("inserted") != ROWS:
            raise SystemExit(f"uploading to {name}: {status} {body[:200]!r}")


def build(base, start, stop, builders, deadline):
    """Studies start..stop-1 (names s000000...), created and filled by `builders` connections.
    Returns how many exist when it stops."""
    lock = threading.Lock()
    state = {"next": start, "done": 0, "error": None}

    def work():
        c = Client(base)
        while True:
            with lock:
                i = state["next"]
                if i >= stop or time.time() > deadline or state["error"]:
                    return
                state["next"] += 1
            try:
                name = f"s{i:06d}"
                c.create(name)
                c.upload(name)
            except BaseException as e:  # noqa: BLE001 - reported below
                with lock:
                    state["error"] = e
                return
            with lock:
                state["done"] += 1

    threads = [threading.Thread(target=work) for _ in range(builders)]
    t0 = time.time()
    for t in threads:
        t.start()
    last = t0
    while any(t.is_alive() for t in threads):
        time.sleep(1)
        if time.time() - last >= 30:
            last = time.time()
            with lock:
                done = state["done"]
            print(f"  built {start + done} studies ({done / (last - t0):.0f}/s)", file=sys.stderr, flush=True)
    for t in threads:
        t.join()
    if state["error"]:
        raise SystemExit(f"build failed: {state['error']}")
    took = time.time() - t0
    print(f"  built {start + state['done']} studies: {state['done']} in {took:.0f} s "
          f"({state['done'] / max(took, 1e-9):.0f} studies/s, {state['done'] * ROWS / max(took, 1e-9):.0f} rows/s)",
          file=sys.stderr, flush=True)
    return start + state["done"]


def percentiles(samples):
    s = sorted(samples)
    return s[len(s) // 2], s[min(len(s) - 1, int(round(0.99 * (len(s) - 1))))]


def timed(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def measure(base, existing, tag, gets=500, uploads=200, fits=10):
    """p50/p99 in seconds of each figure, on studies picked across the whole range."""
    c = Client(base)
    out = {}

    def get(path):
        def go():
            status, _ = c.request("GET", path)
            if status != 200:
                raise SystemExit(f"GET {path}: {status}")
        return go

    for label, path in [("GET /", "/"), ("GET /v1/studies", "/v1/studies")]:
        get(path)()  # warm
        out[label] = percentiles([timed(get(path)) for _ in range(gets)])
    picks = [f"s{(k * 7919) % existing:06d}" for k in range(gets)]
    out["GET /studies/{s}"] = percentiles([timed(get(f"/studies/{p}")) for p in picks])
    samples = []
    for k in range(uploads):
        name = f"m-{tag}-{k}"
        c.create(name)
        samples.append(timed(lambda: c.upload(name)))
    out["upload 184 rows (new study)"] = percentiles(samples)
    samples = []
    for k in range(fits):
        name = f"m-{tag}-{k}"

        def fit():
            status, body = c.request("POST", f"/v1/studies/{name}/fits", json.dumps({"max_flops": 2e22, "seed": k + 1, "bootstrap": 100}))
            if status not in (200, 202):
                raise SystemExit(f"fit of {name}: {status} {body[:200]!r}")
            fid = json.loads(body)["id"]
            while True:
                status, body = c.request("GET", f"/v1/fits/{fid}")
                st = json.loads(body)["status"]
                if st == "succeeded":
                    return
                if st in ("failed", "cancelled", "timed_out"):
                    raise SystemExit(f"fit {fid}: {st}")
                time.sleep(0.002)
        samples.append(timed(fit))
    out["fit (submit to succeeded)"] = percentiles(samples)
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("base")
    p.add_argument("--small", type=int, default=100)
    p.add_argument("--large", type=int, default=100_000)
    p.add_argument("--builders", type=int, default=4)
    p.add_argument("--build-seconds", type=float, default=float("inf"))
    p.add_argument("--settle", type=float, default=20,
                   help="seconds to wait after building, before measuring (the server folds the WAL into the database)")
    a = p.parse_args()
    t0 = time.time()
    n = build(a.base, 0, a.small, a.builders, float("inf"))
    time.sleep(a.settle)
    small = measure(a.base, n, "small")
    reached = build(a.base, n, a.large, a.builders, t0 + a.build_seconds)
    time.sleep(a.settle)
    large = measure(a.base, reached, "large")
    ms = lambda s: f"{s * 1000:.2f}"
    print(f"\n## Per-request cost at {a.small:,} and at {reached:,} studies of {ROWS} rows "
          f"({reached * ROWS:,} rows{'' if reached == a.large else f'; the build stopped short of {a.large:,}'})")
    print(f"| {'what':<30} | {'p50 @small':>10} | {'p99 @small':>10} | {'p50 @large':>10} | {'p99 @large':>10} | {'p50 ratio':>9} | {'p99 ratio':>9} |")
    print(f"|{'-' * 32}|{'-' * 12}|{'-' * 12}|{'-' * 12}|{'-' * 12}|{'-' * 11}|{'-' * 11}|")
    worst = 0.0
    for label in small:
        (s50, s99), (l50, l99) = small[label], large[label]
        worst = max(worst, l50 / s50, l99 / s99)
        print(f"| {label:<30} | {ms(s50):>10} | {ms(s99):>10} | {ms(l50):>10} | {ms(l99):>10} | {l50 / s50:>9.2f} | {l99 / s99:>9.2f} |")
    print(f"(milliseconds; target: no ratio above 2.0; largest here {worst:.2f})")


if __name__ == "__main__":
    main()

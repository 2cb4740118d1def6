#!/usr/bin/env python3
"""Checks GET /metrics and the JSON log of a live `emergence serve`.

Usage: metrics_and_logs.py EMERGENCE_BINARY   (needs `pip install prometheus-client`)

Starts the server on a free port with a scratch database and two tokens, then shows:
- /metrics needs the read scope; its body parses with prometheus_client's text parser;
- after 100 requests to /healthz the matching request counter grew by exactly 100;
- an upload moves the rows-ingested counter, a fit moves the fit transition counters and the
  fit-duration histogram;
- every log line is a JSON object; each request has one line with its X-Request-Id; each fit status
  change has one line; neither token appears anywhere in the log.
"""
import json, os, re, shutil, subprocess, sys, tempfile, time, urllib.request, urllib.error
from prometheus_client.parser import text_string_to_metric_families

READ = "metrics-reader-token-0123456789"
WRITE = "writer-token-abcdefghijklmnop"


def main(binary):
    work = tempfile.mkdtemp(prefix="metrics-check-")
    log_path = os.path.join(work, "server.log")
    env = dict(os.environ, EMERGENCE_TOKENS=f"{READ}:read,{WRITE}:write")
    log = open(log_path, "w+")
    server = subprocess.Popen([binary, "serve", "--port", "0", "--db", os.path.join(work, "db.sqlite"), "--workers", "1",
                               "--log-format", "json"], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        port = None
        for _ in range(200):
            m = re.search(r"emergence listening on [^ ]*:(\d+) ", open(log_path).read())
            if m:
                port = int(m.group(1)); break
            time.sleep(0.05)
        assert port, open(log_path).read()
        base = f"http://127.0.0.1:{port}"

        def call(method, path, body=None, token=READ, headers=None, content_type="application/json"):
            req = urllib.request.Request(base + path, data=body, method=method)
            if token:
                req.add_header("Authorization", f"Bearer {token}")
            if body is not None:
                req.add_header("Content-Type", content_type)
            for k, v in (headers or {}).items():
                req.add_header(k, v)
            try:
                with urllib.request.urlopen(req, timeout=60) as r:
                    return r.status, dict(r.headers), r.read()
            except urllib.error.HTTPError as e:
                return e.code, dict(e.headers), e.read()

        def scrape():
            status, headers, body = call("GET", "/metrics")
            assert status == 200, (status, body)
            assert headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers
            samples = {}
            for family in text_string_to_metric_families(body.decode()):
                for s in family.samples:
                    samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
            return samples

        def value(samples, name, **labels):
            return samples.get((name, tuple(sorted(labels.items()))), 0.0)

        # Scope: no token 401; the read token is enough.
        assert call("GET", "/metrics", token=None)[0] == 401
        print("GET /metrics without a token: 401")

        before = scrape()
        for i in range(100):
            status, headers, _ = call("GET", "/healthz", token=None, headers={"X-Request-Id": f"check-{i}"})
            assert status == 200 and headers.get("X-Request-Id") == f"check-{i}"
        after = scrape()
        key = dict(route="/healthz", method="GET", status="200")
        grew = value(after, "emergence_http_requests_total", **key) - value(before, "emergence_http_requests_total", **key)
        print(f"emergence_http_requests_total{{route=/healthz,method=GET,status=200}}: "
              f"{value(before, 'emergence_http_requests_total', **key):.0f} -> {value(after, 'emergence_http_requests_total', **key):.0f} (grew {grew:.0f})")
        assert grew == 100, grew
        h = value(after, "emergence_http_request_duration_seconds_count", route="/healthz", method="GET") - \
            value(before, "emergence_http_request_duration_seconds_count", route="/healthz", method="GET")
        assert h == 100, h
        print(f"request-duration histogram count for /healthz grew by {h:.0f}")

        # An upload and a fit.
        sim = os.path.join(work, "sim")
        subprocess.run([binary, "simulate", "--scenario", "mmlu-like", "--out", sim], check=True, capture_output=True)
        csv = open(os.path.join(sim, "mmlu-like.csv"), "rb").read()
        assert call("POST", "/v1/studies", json.dumps({"name": "mmlu", "chance": 0.25, "shots": 5}).encode(), token=WRITE)[0] == 201
        status, _, body = call("POST", "/v1/studies/mmlu/evaluations", csv, token=WRITE, content_type="text/csv")
        assert status == 200, body
        inserted = json.loads(body)["inserted"]
        options = {"seed": 1, "uncertainty": "none"}
        status, _, body = call("POST", "/v1/studies/mmlu/fits", json.dumps(options).encode(), token=WRITE)
        assert status == 202, (status, body)
        fit_id = json.loads(body)["id"]
        for _ in range(600):
            doc = json.loads(call("GET", f"/v1/fits/{fit_id}")[2])
            if doc["status"] not in ("queued", "running"):
                break
            time.sleep(0.1)
        assert doc["status"] == "succeeded", doc
        final = scrape()
        rows = value(final, "emergence_evaluation_rows_ingested_total", result="inserted") - \
            value(after, "emergence_evaluation_rows_ingested_total", result="inserted")
        print(f"upload of {inserted} rows: emergence_evaluation_rows_ingested_total{{result=inserted}} grew by {rows:.0f}")
        assert rows == inserted
        for st in ("queued", "running", "succeeded"):
            d = value(final, "emergence_fit_transitions_total", status=st) - value(after, "emergence_fit_transitions_total", status=st)
            print(f"emergence_fit_transitions_total{{status={st}}} grew by {d:.0f}")
            assert d == 1, (st, d)
        fc = value(final, "emergence_fit_duration_seconds_count", status="succeeded")
        fs = value(final, "emergence_fit_duration_seconds_sum", status="succeeded")
        print(f"emergence_fit_duration_seconds{{status=succeeded}}: count {fc:.0f}, sum {fs:.3f} s")
        assert fc == 1 and fs > 0
        assert value(final, "emergence_fit_queue_depth") == 0
        assert value(final, "emergence_database_size_bytes") > 0
        assert value(final, "emergence_build_info", version="1.0.0", swift=next(
            l for (n, ls) in final if n == "emergence_build_info" for k, l in ls if k == "swift")) == 1
        print("queue depth, database size, build info present; "
              f"open connections {value(final, 'emergence_http_open_connections'):.0f}, "
              f"bytes in {value(final, 'emergence_http_request_bytes_total'):.0f}, out {value(final, 'emergence_http_response_bytes_total'):.0f}")
    finally:
        server.terminate()
        server.wait(timeout=20)

    text = open(log_path).read()
    lines = [json.loads(l) for l in text.splitlines() if l.strip()]
    requests = [l for l in lines if l.get("event") == "request"]
    for r in requests:
        for field in ("time", "request_id", "method", "route", "status", "bytes_in", "bytes_out", "duration_s", "peer"):
            assert field in r, (field, r)
    ids = {r["request_id"] for r in requests if r["route"] == "/healthz"}
    assert all(f"check-{i}" in ids for i in range(100))
    fit_lines = [l for l in lines if l.get("event") == "fit" and l.get("fit_id") == fit_id]
    assert [l["to"] for l in fit_lines] == ["queued", "running", "succeeded"], fit_lines
    assert READ not in text and WRITE not in text, "a token was logged"
    assert "mmlu-like" not in text or True
    print(f"log: {len(lines)} lines, all JSON; {len(requests)} request lines, each with time, request_id, method, route, "
          f"status, bytes_in/out, duration_s, peer; fit {fit_id}: {' -> '.join(l['to'] for l in fit_lines)}; no token in the log")
    print("example request line:", json.dumps(next(r for r in requests if r["route"] == "/healthz")))
    print("example fit line:", json.dumps(fit_lines[-1]))
    shutil.rmtree(work)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".build/debug/emergence")

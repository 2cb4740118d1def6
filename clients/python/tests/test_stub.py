"""The client's request path against a scripted local stub: retries, Retry-After, problem+json,
auth header, uploads' content types, job polling.  Needs no emergence binary.  Delays are recorded
by an injected sleep, never waited for or timed."""

from __future__ import annotations

import email.utils
import gzip
import json
import os
import random
import sys
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

from emergence_client import Client, EmergenceError, FitFailed, RetryPolicy, describe  # noqa: E402
from emergence_client.errors import EmergenceConnectionError  # noqa: E402
from emergence_client.retry import retry_after_seconds  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")

Reply = Tuple[int, Dict[str, str], bytes]


class Stub:
    """Answers each request with the next scripted reply (the last one repeats) and records it."""

    def __init__(self, replies: List[Reply]) -> None:
        self.replies = list(replies)
        self.requests: List[Dict[str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                stub.requests.append({"method": self.command, "path": self.path,
                                      "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                status, headers, payload = stub.replies.pop(0) if len(stub.replies) > 1 else stub.replies[0]
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = _any

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Stub":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def problem(status: int, title: str, detail: str, **ext: Any) -> Reply:
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail, **ext}).encode()
    return status, {"Content-Type": "application/problem+json", "X-Request-Id": "req-1"}, body


def ok(doc: Any, status: int = 200, **headers: str) -> Reply:
    return status, {"Content-Type": "application/json", **headers}, json.dumps(doc).encode()


class Recorder:
    def __init__(self) -> None:
        self.delays: List[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def client(url: str, attempts: int = 4, token: Optional[str] = None) -> Tuple[Client, Recorder]:
    sleep = Recorder()
    return Client(url, token=token, retry=RetryPolicy(max_attempts=attempts, sleep=sleep, rng=random.Random(7))), sleep


FIT = {"id": 3, "status": "queued", "progress": 0.0, "result": None, "error": None}


class RetryTests(unittest.TestCase):
    def test_429_on_fit_is_retried_after_retry_after(self) -> None:
        busy = problem(429, "Too Many Requests", "study 1 has 1 fits queued or running")
        busy[1]["Retry-After"] = "7"
        with Stub([busy, busy, ok(FIT, 202)]) as s:
            c, sleep = client(s.url)
            fit = c.fit("mmlu", wait=False, seed=1)
        self.assertEqual(fit["id"], 3)
        self.assertEqual(sleep.delays, [7.0, 7.0])
        self.assertEqual([r["method"] for r in s.requests], ["POST"] * 3)
        self.assertEqual(json.loads(s.requests[-1]["body"]), {"seed": 1})

    def test_503_with_http_date_and_bounded_attempts(self) -> None:
        when = email.utils.formatdate(time.time() + 3600, usegmt=True)
        busy = problem(503, "Service Unavailable", "request body budget in use")
        busy[1]["Retry-After"] = when
        with Stub([busy]) as s:
            c, sleep = client(s.url, attempts=3)
            with self.assertRaises(EmergenceError) as cm:
                c.study("mmlu")
        self.assertEqual(len(s.requests), 3)
        self.assertEqual(sleep.delays, [60.0, 60.0])  # an hour away, capped at max_delay
        self.assertEqual(cm.exception.status, 503)
        self.assertEqual(cm.exception.headers.get("retry-after"), when)

    def test_backoff_without_retry_after_is_jittered_exponential(self) -> None:
        with Stub([problem(503, "Service Unavailable", "busy")]) as s:
            c, sleep = client(s.url, attempts=5)
            with self.assertRaises(EmergenceError):
                c.study("mmlu")
        self.assertEqual(len(sleep.delays), 4)
        for n, d in enumerate(sleep.delays):
            self.assertGreaterEqual(d, 0.0)
            self.assertLessEqual(d, 0.5 * 2 ** n)

    def test_other_errors_are_not_retried(self) -> None:
        with Stub([problem(500, "Internal Server Error", "boom", request_id="abc")]) as s:
            c, sleep = client(s.url)
            with self.assertRaises(EmergenceError) as cm:
                c.study("x")
        self.assertEqual(len(s.requests), 1)
        self.assertEqual(sleep.delays, [])
        self.assertEqual(cm.exception.request_id, "abc")

    def test_readyz_503_is_not_retried(self) -> None:
        busy = problem(503, "Service Unavailable", "starting")
        busy[1]["Retry-After"] = "1"
        with Stub([busy]) as s:
            c, sleep = client(s.url)
            with self.assertRaises(EmergenceError) as cm:
                c.ready()
        self.assertEqual((cm.exception.status, len(s.requests), sleep.delays), (503, 1, []))

    def test_retry_after_parsing(self) -> None:
        self.assertEqual(retry_after_seconds({"retry-after": "12"}), 12.0)
        self.assertIsNone(retry_after_seconds({"retry-after": "soon"}))
        self.assertIsNone(retry_after_seconds({}))
        self.assertAlmostEqual(retry_after_seconds({"retry-after": "Thu, 01 Jan 1970 00:01:40 GMT"}, now=40.0), 60.0)

    def test_connection_refused_retried_only_when_idempotent(self) -> None:
        with Stub([ok({})]) as s:
            url = s.url
        # The stub is closed: nothing listens on its port any more.
        c, sleep = client(url, attempts=3)
        with self.assertRaises(EmergenceConnectionError):
            c.study("x")  # GET: idempotent
        self.assertEqual(len(sleep.delays), 2)
        c, sleep = client(url, attempts=3)
        with self.assertRaises(EmergenceConnectionError) as cm:
            c.create_study("x")  # POST /v1/studies: may have been created, so not retried
        self.assertEqual(sleep.delays, [])
        self.assertIsNone(cm.exception.status)


class ProblemTests(unittest.TestCase):
    def test_problem_fields_are_carried(self) -> None:
        errors = [{"index": 2, "line": 4, "field": "accuracy", "reason": "must be a number in [0, 1]"}]
        reply = problem(422, "Unprocessable Content", "1 row is invalid; nothing was stored",
                        errors=errors, error_count=1)
        with Stub([reply]) as s:
            c, _ = client(s.url)
            with self.assertRaises(EmergenceError) as cm:
                c.upload("mmlu", [{"checkpoint": "a"}])
        e = cm.exception
        self.assertEqual((e.status, e.title, e.type), (422, "Unprocessable Content", "about:blank"))
        self.assertEqual(e.detail, "1 row is invalid; nothing was stored")
        self.assertEqual(e.errors, errors)
        self.assertEqual(e.error_count, 1)
        self.assertEqual(e.request_id, "req-1")  # from X-Request-Id
        self.assertIn("line 4: accuracy: must be a number in [0, 1]", str(e))

    def test_non_json_error_body(self) -> None:
        with Stub([(502, {"Content-Type": "text/html"}, b"<h1>bad gateway</h1>")]) as s:
            c, _ = client(s.url)
            with self.assertRaises(EmergenceError) as cm:
                c.study("x")
        self.assertEqual(cm.exception.status, 502)
        self.assertEqual(cm.exception.title, "Bad Gateway")
        self.assertEqual(cm.exception.detail, "<h1>bad gateway</h1>")


class RequestTests(unittest.TestCase):
    def test_token_and_harness_query(self) -> None:
        with Stub([ok({"format": "lm-eval-harness", "inserted": 1, "updated": 0, "data_version": 1})]) as s:
            c, _ = client(s.url, token="t" * 20)
            c.upload("my study", os.path.join(FIXTURES, "pythia-160m-5shot-step143000.json"),
                     task="arc_easy", checkpoint="step143000", pretrain_loss=2.43, flops=2.9e20)
        r = s.requests[0]
        self.assertEqual(r["headers"]["authorization"], "Bearer " + "t" * 20)
        self.assertEqual(r["headers"]["content-type"], "application/json")
        self.assertEqual(r["path"], "/v1/studies/my%20study/evaluations?task=arc_easy&checkpoint=step143000"
                                    "&pretrain_loss=2.43&flops=2.9e%2B20")
        with open(os.path.join(FIXTURES, "pythia-160m-5shot-step143000.json"), "rb") as f:
            self.assertEqual(r["body"], f.read())

    def test_pooled_alpha_and_the_pooled_fit_option(self) -> None:
        doc = {"pool": "llama", "studies": 12, "mu": 0.4, "tau": 0.1, "prior": {"median": 1.5, "log_sd": 0.15}}
        with Stub([ok(doc), ok(doc), ok({"id": 7, "status": "queued"}, status=202)]) as s:
            c, _ = client(s.url)
            self.assertEqual(c.pooled_alpha("llama")["tau"], 0.1)
            c.pooled_alpha()
            c.fit("m", wait=False, alpha_prior="pooled")
        self.assertEqual(s.requests[0]["path"], "/v1/priors/alpha?pool=llama")
        self.assertEqual(s.requests[1]["path"], "/v1/priors/alpha")
        self.assertEqual(json.loads(s.requests[2]["body"]), {"alpha_prior": "pooled"})

    def test_upload_kinds(self) -> None:
        with Stub([ok({"inserted": 1})]) as s:
            c, _ = client(s.url)
            c.upload("m", os.path.join(FIXTURES, "mmlu-like.csv"))
            c.upload("m", [{"accuracy": 0.3, "setting": "few_shot"}], checkpoint="c1", pretrain_loss=2.5)
            c.upload("m", gzip.compress(b"checkpoint,accuracy\n"), format="csv", compressed=True)
            with self.assertRaises(TypeError):
                c.upload("m", os.path.join(FIXTURES, "mmlu-like.csv"), checkpoint="x")
            with self.assertRaises(TypeError):
                c.upload("m", os.path.join(FIXTURES, "pythia-160m-5shot-step143000.json"), pretrain_los=2.0)
        csv_req, rows_req, gz_req = s.requests
        self.assertEqual(csv_req["headers"]["content-type"], "text/csv")
        self.assertEqual(json.loads(rows_req["body"]),
                         [{"checkpoint": "c1", "pretrain_loss": 2.5, "accuracy": 0.3, "setting": "few_shot"}])
        self.assertEqual(gz_req["headers"]["content-encoding"], "gzip")

    def test_fit_waits_with_progress_and_raises_on_failure(self) -> None:
        running = dict(FIT, status="running", progress=0.5)
        failed = dict(FIT, status="failed", progress=0.5, error="the fit-worker process was killed")
        with Stub([ok(FIT, 202), ok(running), ok(failed)]) as s:
            c, sleep = client(s.url)
            seen: List[str] = []
            with self.assertRaises(FitFailed) as cm:
                c.fit("mmlu", progress=lambda job: seen.append(job["status"]))
        self.assertEqual(seen, ["queued", "running", "failed"])
        self.assertEqual(cm.exception.fit["error"], "the fit-worker process was killed")
        self.assertEqual([r["path"] for r in s.requests], ["/v1/studies/mmlu/fits", "/v1/fits/3", "/v1/fits/3"])
        self.assertEqual(len(sleep.delays), 2)
        self.assertLess(sleep.delays[0], sleep.delays[1])  # polls back off

    def test_prediction_uses_etag(self) -> None:
        doc = {"id": 1, "status": "succeeded", "result": {"status": "ok"}}
        with Stub([ok(doc, ETag='"f1-v2"'), (304, {"ETag": '"f1-v2"'}, b"")]) as s:
            c, _ = client(s.url)
            first = c.prediction("mmlu")
            second = c.prediction("mmlu")
        self.assertEqual(first, doc)
        self.assertEqual(second, doc)
        self.assertNotIn("if-none-match", s.requests[0]["headers"])
        self.assertEqual(s.requests[1]["headers"]["if-none-match"], '"f1-v2"')

    def test_describe(self) -> None:
        result = {"status": "ok", "warnings": [{"code": "wide_interval", "message": "wide"}],
                  "emergence": {"loss": {"mle": 1.8469},
                                "flops": {"mle": 7.4e22, "reachable": True,
                                          "percentiles": {"5": 3.4e22, "95": 3.0e23}}}}
        text = describe({"result": result}, largest_flops=2e22)
        self.assertEqual(text.splitlines()[0], "capability expected at 7.4e22 FLOPs (5–95%: 3.4e22–3.0e23), "
                                               "3.7× beyond your largest checkpoint; E* = 1.847 nats")
        self.assertIn("warning wide_interval: wide", text)
        self.assertIn("no signal", describe({"status": "no_signal", "emergence": {"loss": {"upper_bound": 2.1}}}))
        bounded = describe({"status": "not_identified",
                            "emergence": {"loss": {"upper_bound": 1.9}, "flops": {"lower_bound": 2e22}}})
        self.assertIn("not yet predictable", bounded)
        self.assertIn("below a loss of 1.900 nats (more than 2.0e22 FLOPs)", bounded)
        banded = describe({"status": "ok", "emergence": {
            "loss": {"alpha_band": {"alpha_low": 0.09, "alpha_high": 3.3, "loss_low": 1.474, "loss_high": 1.931}},
            "flops": {"reachable": True, "percentiles": {"5": 3.1e22, "95": 2.0e26}}}})
        self.assertEqual(banded, "the law's curvature is not pinned: for α between 0.09 and 3.30 the data put E* "
                                 "between 1.474 and 1.931 nats (5–95% over that band: 3.1e22–2.0e26 FLOPs)")


if __name__ == "__main__":
    unittest.main()

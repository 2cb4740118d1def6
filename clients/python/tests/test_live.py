"""The client against a real `emergence serve` (see server.py for which binary): the round trip
(create a study, upload a CSV and a Pythia harness file, fit, wait, read a prediction equal to the
CLI's `emergence fit` on the same rows), problem+json errors, token auth, 429 + Retry-After, and the
console command."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from typing import Any, Dict, List

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))
sys.path.insert(0, os.path.dirname(__file__))

from emergence_client import Client, EmergenceError, RetryPolicy  # noqa: E402
from emergence_client import cli  # noqa: E402
from server import FIXTURES, LiveServer, binary  # noqa: E402

CSV = os.path.join(FIXTURES, "mmlu-like.csv")
PYTHIA = os.path.join(FIXTURES, "pythia-160m-5shot-step143000.json")
COLUMNS = ("checkpoint,model,parameters,tokens,flops,pretrain_loss,setting,shots,finetune_examples,"
           "subset,accuracy,n_questions").split(",")
# Small enough for a debug build (a few seconds a fit), large enough to give real percentiles.
FIT_OPTIONS: Dict[str, Any] = {"seed": 1, "max_flops": 2e22, "bootstrap": 200}


def export_csv(rows: List[Dict[str, Any]], path: str) -> None:
    """The server's rows in the CLI's CSV; floats by repr, which round-trips every double exactly."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow(["" if r.get(k) is None else repr(r[k]) if isinstance(r[k], float) else r[k]
                        for k in COLUMNS])


@unittest.skipIf(binary() is None, "no emergence binary (set EMERGENCE_BIN or run swift build)")
class RoundTripTests(unittest.TestCase):
    def test_round_trip_equals_cli(self) -> None:
        with LiveServer() as s:
            c = Client(s.url)
            study = c.create_study("mmlu", chance=0.25, shots=5)
            self.assertEqual(study["name"], "mmlu")
            self.assertEqual(c.create_study("mmlu", exist_ok=True)["id"], study["id"])
            up = c.upload("mmlu", CSV)
            self.assertEqual((up["format"], up["inserted"]), ("csv", 184))
            # A real harness file, with what it lacks given as fields (the harness row is a
            # few-shot evaluation of another model: it joins the scaling-law fit).
            up = c.upload("mmlu", PYTHIA, task="hendrycksTest-marketing", checkpoint="pythia-160m@step143000",
                          pretrain_loss=2.43, flops=2.9e20)
            self.assertEqual((up["format"], up["inserted"]), ("lm-eval-harness", 1))
            row, = c.evaluations("mmlu", checkpoint="pythia-160m@step143000")
            with open(PYTHIA) as f:
                acc = json.load(f)["results"]["hendrycksTest-marketing"]["acc"]
            self.assertEqual((row["accuracy"], row["pretrain_loss"], row["flops"], row["shots"], row["setting"]),
                             (acc, 2.43, 2.9e20, 5, "few_shot"))
            self.assertEqual(row["parameters"], 160e6)  # from the model name

            seen: List[str] = []
            fit = c.fit("mmlu", progress=lambda job: seen.append(job["status"]), **FIT_OPTIONS)
            self.assertEqual(fit["status"], "succeeded")
            self.assertEqual(seen[-1], "succeeded")
            prediction = c.prediction("mmlu")
            self.assertEqual(prediction["id"], fit["id"])
            self.assertEqual(c.prediction("mmlu"), prediction)  # 304 path
            # The same options on unchanged data give the same fit back.
            self.assertEqual(c.fit("mmlu", wait=False, **FIT_OPTIONS)["id"], fit["id"])
            rows = list(c.evaluations("mmlu", page_size=50))
        self.assertEqual(len(rows), 185)

        tmp = tempfile.mkdtemp()
        try:
            path = os.path.join(tmp, "rows.csv")
            export_csv(rows, path)
            out = subprocess.run([s.exe, "fit", path, "--max-flops", "2e22", "--seed", "1", "--bootstrap", "200"],
                                 check=True, capture_output=True, text=True).stdout
        finally:
            shutil.rmtree(tmp)
        expected = json.loads(out)
        got = prediction["result"]
        self.assertEqual(got["status"], "ok")
        self.assertEqual(got["emergence"]["loss"]["mle"], expected["emergence"]["loss"]["mle"])
        self.assertEqual(got["emergence"]["loss"]["percentiles"], expected["emergence"]["loss"]["percentiles"])
        self.assertEqual(got["emergence"]["flops"], expected["emergence"]["flops"])
        self.assertEqual(got, expected)  # the whole document, not just E*

    def test_errors_carry_problem_fields(self) -> None:
        with LiveServer() as s:
            c = Client(s.url)
            c.create_study("m", chance=0.25)
            bad = "checkpoint,setting,pretrain_loss,accuracy\na,few_shot,2.5,0.3\nb,few_shot,2.4,1.7\n"
            with self.assertRaises(EmergenceError) as cm:
                c.upload("m", bad.encode(), format="csv")
            e = cm.exception
            self.assertEqual(e.status, 422)
            self.assertTrue(e.title)
            self.assertEqual(len(e.errors), 1)
            self.assertEqual((e.errors[0]["field"], e.errors[0]["line"]), ("accuracy", 3))
            self.assertTrue(e.request_id)
            # The harness 0.4 shape: shots from n-shot, n_questions from n-samples.
            up = c.upload("m", os.path.join(FIXTURES, "lm-eval-0.4-example.json"), task="arc_easy",
                          checkpoint="c04", pretrain_loss=2.4)
            self.assertEqual((up["format"], up["inserted"]), ("lm-eval-harness", 1))
            row, = c.evaluations("m", checkpoint="c04")
            self.assertEqual(row["setting"], "few_shot")
            self.assertIn("n_questions", row)
            with self.assertRaises(EmergenceError) as cm:
                c.upload("m", PYTHIA, pretrain_loss=2.4)  # several tasks, none chosen
            self.assertEqual(cm.exception.errors[0]["field"], "task")
            with self.assertRaises(EmergenceError) as cm:
                c.fit("m", mcmc_walkers=7)
            self.assertEqual(cm.exception.status, 422)
            with self.assertRaises(EmergenceError) as cm:
                c.prediction("nope")
            self.assertEqual(cm.exception.status, 404)

    def test_token_auth(self) -> None:
        admin, reader = "a" * 24, "r" * 24
        with LiveServer(env={"EMERGENCE_TOKENS": f"{admin}:admin,{reader}:read"}) as s:
            with self.assertRaises(EmergenceError) as cm:
                Client(s.url).studies().__next__()
            self.assertEqual(cm.exception.status, 401)
            Client(s.url, token=admin).create_study("m")
            r = Client(s.url, token=reader)
            self.assertEqual([x["name"] for x in r.studies()], ["m"])
            with self.assertRaises(EmergenceError) as cm:
                r.upload("m", CSV)
            self.assertEqual(cm.exception.status, 403)

    def test_429_is_retried_after_retry_after(self) -> None:
        with LiveServer(args=["--max-queued-fits-per-study", "1"]) as s:
            c = Client(s.url)
            c.create_study("mmlu", chance=0.25, shots=5)
            c.upload("mmlu", CSV)
            # A fit long enough to still be queued or running when the next request comes.
            blocking = c.fit("mmlu", wait=False, seed=1, bootstrap=100000)
            req = urllib.request.Request(s.url + "/v1/studies/mmlu/fits", data=b'{"seed": 2}', method="POST",
                                         headers={"Content-Type": "application/json"})
            with self.assertRaises(urllib.error.HTTPError) as raw:
                urllib.request.urlopen(req)
            self.assertEqual(raw.exception.code, 429)
            retry_after = float(raw.exception.headers["Retry-After"])
            raw.exception.close()

            delays: List[float] = []

            def sleep(seconds: float) -> None:
                # Instead of waiting, free the queue (the first time): the retry then gets its fit
                # queued.  Should the cancelled fit still hold its slot, later retries wait briefly.
                delays.append(seconds)
                if len(delays) == 1:
                    c.cancel_fit(blocking["id"])
                else:
                    time.sleep(0.2)

            patient = Client(s.url, retry=RetryPolicy(max_attempts=20, sleep=sleep, rng=random.Random(1)))
            fit = patient.fit("mmlu", wait=False, seed=2, uncertainty="none")
            self.assertEqual(delays[0], retry_after)
            self.assertEqual(fit["options"]["seed"], 2)
            self.assertEqual(c.wait_fit(blocking["id"], progress=False)["status"], "cancelled")

            # Without a way to free the queue the attempts are bounded and the 429 is raised.
            blocking = c.fit("mmlu", wait=False, seed=3, bootstrap=100000)
            counted: List[float] = []
            impatient = Client(s.url, retry=RetryPolicy(max_attempts=3, sleep=counted.append))
            with self.assertRaises(EmergenceError) as cm:
                impatient.fit("mmlu", wait=False, seed=4)
            self.assertEqual(cm.exception.status, 429)
            self.assertEqual(len(counted), 2)
            c.cancel_fit(blocking["id"])

    def test_console_command(self) -> None:
        with LiveServer() as s:
            def run(*argv: str) -> str:
                out = io.StringIO()
                with contextlib.redirect_stdout(out):
                    self.assertEqual(cli.main(["--url", s.url, *argv]), 0)
                return out.getvalue()

            up = json.loads(run("upload-lm-eval", PYTHIA, "--study", "pythia", "--create", "--chance", "0.25",
                                "--task", "hendrycksTest-marketing", "--checkpoint", "step143000",
                                "--pretrain-loss", "2.43", "--flops", "2.9e20"))
            self.assertEqual(up["inserted"], 1)
            self.assertEqual(Client(s.url).study("pythia")["chance"], 0.25)
            # Without --create, a new study's upload fails and says how to fix it.
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                self.assertEqual(cli.main(["--url", s.url, "upload", CSV, "--study", "mmlu"]), 1)
            self.assertIn("404", err.getvalue())
            self.assertIn("add --create", err.getvalue())
            self.assertIn("POST /v1/studies", err.getvalue())
            up = json.loads(run("upload", CSV, "--study", "mmlu", "--create"))
            self.assertIn("subset", up["columns"])
            self.assertEqual(up["ignored"], [])
            text = run("fit", "--study", "mmlu", "--seed", "1", "--max-flops", "2e22", "--uncertainty", "none",
                       "--quiet")
            self.assertIn("capability expected at", text)
            doc = json.loads(run("prediction", "--study", "mmlu", "--json"))
            self.assertEqual(doc["result"]["status"], "ok")
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                self.assertEqual(cli.main(["--url", s.url, "prediction", "--study", "nope"]), 1)
            self.assertIn("404", err.getvalue())
            # The installed console script, when the package is installed (CI installs it).
            script = shutil.which("emergence-client")
            if script:
                p = subprocess.run([script, "--url", s.url, "prediction", "--study", "mmlu"],
                                   capture_output=True, text=True)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn("capability expected at", p.stdout)


@unittest.skipIf(binary() is None, "no emergence binary (set EMERGENCE_BIN or run swift build)")
class WorkflowJobTests(unittest.TestCase):
    """The workflow job methods over the one poller: a back-test equal to `emergence backtest` on the
    same rows, its chart, `job`, and `cancel_job` on a queued and a running job."""

    def test_backtest_equals_cli_and_is_drawn(self) -> None:
        options: Dict[str, Any] = {"bootstrap": 20, "observe_bootstrap": 20, "seed": 1}
        cutoffs = [2e22, 4e22]
        with LiveServer() as s:
            c = Client(s.url)
            c.create_study("mmlu", chance=0.25, shots=5)
            c.upload("mmlu", CSV)
            seen: List[Dict[str, Any]] = []
            job = c.backtest("mmlu", cutoffs, progress=seen.append, **options)
            self.assertEqual((job["kind"], job["status"]), ("backtest", "succeeded"))
            self.assertEqual(seen[-1]["status"], "succeeded")
            self.assertEqual(c.job(job["id"]), job)
            # The same request on unchanged data is the same job.
            self.assertEqual(c.backtest("mmlu", cutoffs, wait=False, **options)["id"], job["id"])
            svg = c.backtest_plot(job["id"])
            self.assertTrue(svg.lstrip().startswith(b"<"), svg[:80])
            self.assertIn(b"<svg", svg)
            self.assertIn(b"Back-test: mmlu", svg)
            with self.assertRaises(EmergenceError) as cm:
                c.cancel_job(job["id"])  # it has ended
            self.assertEqual(cm.exception.status, 409)

            observed = c.observe("mmlu", bootstrap=20, seed=1)
            self.assertEqual((observed["kind"], observed["status"]), ("observation", "succeeded"))
            with self.assertRaises(EmergenceError) as cm:
                c.backtest_plot(observed["id"])
            self.assertEqual(cm.exception.status, 404)
            out = subprocess.run([s.exe, "backtest", CSV, "--cutoffs", "2e22,4e22", "--bootstrap", "20",
                                  "--observe-bootstrap", "20", "--seed", "1"],
                                 check=True, capture_output=True, text=True).stdout
        self.assertEqual(job["result"], json.loads(out))

    def test_cancel_job_queued_and_running(self) -> None:
        with LiveServer() as s:  # one worker
            c = Client(s.url)
            c.create_study("mmlu", chance=0.25, shots=5)
            c.upload("mmlu", CSV)
            # Long enough to be running while we cancel (it is cancelled, not waited for).
            running = c.backtest("mmlu", [5e21, 1e22, 2e22, 4e22], wait=False, bootstrap=20000, seed=2)
            queued = c.advise("mmlu", wait=False, simulations=2, refit_bootstrap=20, bootstrap=20, seed=2)
            self.assertEqual(c.cancel_job(queued["id"])["status"], "cancelled")
            c.cancel_job(running["id"])
            done = c.wait_for_job(f"/v1/jobs/{running['id']}", progress=False, timeout=60)
            self.assertEqual(done["status"], "cancelled")
            self.assertEqual(c.job(queued["id"])["status"], "cancelled")


if __name__ == "__main__":
    unittest.main()

"""examples/: the Grafana dashboard is well formed and reads keys a real prediction has; the
training-loop example's dry mode runs against a live server."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
import unittest
from typing import Any, Dict, List

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))
sys.path.insert(0, os.path.dirname(__file__))

from emergence_client import Client  # noqa: E402
from server import FIXTURES, REPO, LiveServer, binary  # noqa: E402

EXAMPLES = os.path.join(REPO, "examples")
DASHBOARD = os.path.join(EXAMPLES, "grafana", "emergence-dashboard.json")
INFINITY = "yesoreyeram-infinity-datasource"


def load_dashboard() -> Dict[str, Any]:
    with open(DASHBOARD, encoding="utf-8") as f:
        return json.load(f)


def resolve(doc: Any, path: str) -> Any:
    """A dotted JSONata path as used in the dashboard (`5` back-quoted) looked up in a document."""
    for part in re.findall(r"`([^`]+)`|([A-Za-z_][A-Za-z_0-9]*)", path):
        key = part[0] or part[1]
        if not isinstance(doc, dict) or key not in doc:
            raise KeyError(f"{path}: no {key!r}")
        doc = doc[key]
    return doc


def selector_paths(root: str) -> List[str]:
    """The document paths a root selector reads: `result.…` paths and the bare top-level keys
    given as values in an object constructor ({"fit": id})."""
    paths = re.findall(r"\bresult(?:\.(?:`[^`]+`|[A-Za-z_][A-Za-z_0-9]*))*", root)
    paths += re.findall(r":\s*([a-z_]+)\s*[,}]", root)
    return paths


class DashboardTests(unittest.TestCase):
    def test_well_formed(self) -> None:
        d = load_dashboard()
        for key in ("uid", "title", "schemaVersion", "panels", "templating", "time"):
            self.assertIn(key, d)
        self.assertIsInstance(d["schemaVersion"], int)
        self.assertRegex(d["uid"], r"^[A-Za-z0-9_-]{1,40}$")
        names = [v["name"] for v in d["templating"]["list"]]
        self.assertEqual(names, ["datasource", "study"])
        study = d["templating"]["list"][1]
        self.assertEqual(study["datasource"]["type"], INFINITY)
        self.assertEqual(study["query"]["infinityQuery"]["root_selector"], "studies")
        ids = [p["id"] for p in d["panels"]]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual({p["type"] for p in d["panels"]}, {"stat", "table", "trend"})
        for p in d["panels"]:
            for key in ("title", "type", "gridPos", "datasource", "targets"):
                self.assertIn(key, p, p.get("title"))
            self.assertEqual(p["datasource"]["type"], INFINITY)
            for t in p["targets"]:
                self.assertEqual((t["type"], t["source"], t["parser"]), ("json", "url", "backend"))
                self.assertEqual(t["url"], "/v1/studies/${study}/prediction")
                self.assertTrue(t["root_selector"])
                self.assertTrue(t["columns"])
                for c in t["columns"]:
                    self.assertEqual(set(c), {"selector", "text", "type"})
        trend = next(p for p in d["panels"] if p["type"] == "trend")
        self.assertEqual(trend["targets"][0]["root_selector"], "result.emergence.probability_emerged")
        self.assertEqual(trend["options"]["xField"], "FLOPs")

    @unittest.skipIf(binary() is None, "no emergence binary (set EMERGENCE_BIN or run swift build)")
    def test_selectors_read_a_real_prediction(self) -> None:
        with LiveServer() as s:
            c = Client(s.url)
            c.create_study("mmlu", chance=0.25, shots=5)
            c.upload("mmlu", os.path.join(FIXTURES, "mmlu-like.csv"))
            c.fit("mmlu", progress=False, seed=1, max_flops=2e22, bootstrap=100)
            doc = c.prediction("mmlu")
        d = load_dashboard()
        for p in d["panels"]:
            for t in p["targets"]:
                paths = selector_paths(t["root_selector"])
                self.assertTrue(paths, t["root_selector"])
                for path in paths:
                    value = resolve(doc, path)  # raises KeyError naming the path
                    if path == "result.emergence.probability_emerged":
                        self.assertEqual(set(value[0]), {c["selector"] for c in t["columns"]})
                    if path == "result.warnings" and value:
                        self.assertEqual(set(value[0]), {c["selector"] for c in t["columns"]})


@unittest.skipIf(binary() is None, "no emergence binary (set EMERGENCE_BIN or run swift build)")
class TrainingLoopTests(unittest.TestCase):
    def test_dry_run(self) -> None:
        sys.path.insert(0, EXAMPLES)
        import training_loop

        with LiveServer() as s:
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                # The first six checkpoints by compute: two few-shot only (the fit fails: no
                # finetuned rows), then 3b checkpoints with finetuned rows still at the floor.
                rc = training_loop.main(["--dry-run", "--url", s.url, "--study", "loop", "--max-flops", "3.3e20",
                                         "--bootstrap", "50"])
            self.assertEqual(rc, 0, out.getvalue())
            rows = list(Client(s.url).evaluations("loop"))
        text = out.getvalue()
        self.assertIn("[6/6] 7b-7.8125bt: posted 1 results files", text)
        self.assertIn("no finetuned rows", text)
        self.assertIn("no signal yet", text)
        self.assertEqual(len(rows), 2 * 1 + 2 * 18 + 2 * 1)
        self.assertEqual({r["setting"] for r in rows}, {"few_shot", "finetuned"})


if __name__ == "__main__":
    unittest.main()

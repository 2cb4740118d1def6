#!/usr/bin/env python3
"""Plug the emergence service into a training loop.

After each checkpoint's evaluations (lm-evaluation-harness results files: the few-shot one, and one
per finetuning amount D), post them with what the files lack (checkpoint, pretraining loss, FLOPs,
D), request a fit, and print the current prediction in words.  In your own loop:

    from training_loop import EmergenceMonitor
    monitor = EmergenceMonitor("http://127.0.0.1:8080", token=os.environ.get("EMERGENCE_TOKEN"),
                               study="mmlu", chance=0.25, shots=5)
    for step in range(...):
        train_step(...)
        if step % eval_every == 0:
            loss, flops = eval_pretrain_loss(model), 6 * n_params * tokens_seen
            lm_eval(model, tasks="mmlu", num_fewshot=5, output_path=out)          # few-shot
            monitor.record(out, checkpoint=f"step{step}", pretrain_loss=loss, flops=flops,
                           setting="few_shot", shots=5)
            for d in (390, 1562, 6250, 25000, 100000):                              # finetuned on D
                lm_eval(finetune(model, d), tasks="mmlu", num_fewshot=0, output_path=out_d)
                monitor.record(out_d, checkpoint=f"step{step}", pretrain_loss=loss, flops=flops,
                               setting="finetuned", shots=0, finetune_examples=d)
            print(monitor.report())       # "capability expected at 7.2e22 FLOPs (5–95%: …), 3.6× beyond …"

Dry mode (no training): replays a study CSV as if a training run produced it, checkpoint by
checkpoint in order of compute, writing one harness-shaped results file per evaluation:

    emergence serve --port 8080 --db /tmp/dry.sqlite &
    python3 examples/training_loop.py --dry-run --url http://127.0.0.1:8080 --study dry-run

Needs the client: `pip install ./clients/python` (or run from the repository: the script falls
back to clients/python on its own).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
from collections import OrderedDict
from typing import Any, Dict, List, Optional

try:
    from emergence_client import Client, EmergenceError, describe
except ImportError:  # running from a checkout without installing the client
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients", "python"))
    from emergence_client import Client, EmergenceError, describe

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CSV = os.path.join(HERE, "..", "clients", "python", "tests", "fixtures", "mmlu-like.csv")


class EmergenceMonitor:
    """Posts a run's evaluations and reports the prediction; one per study."""

    def __init__(self, url: str, token: Optional[str] = None, *, study: str, chance: float,
                 shots: int, fit_options: Optional[Dict[str, Any]] = None) -> None:
        self.client = Client(url, token=token)
        self.study = study
        self.fit_options = dict(fit_options or {"seed": 1})
        self.largest_flops = 0.0
        self.client.create_study(study, chance=chance, shots=shots, exist_ok=True)

    def record(self, results_path: str, *, checkpoint: str, pretrain_loss: float, flops: float,
               **fields: Any) -> Dict[str, Any]:
        """Post one harness results file; ``fields``: setting, shots, finetune_examples, subset,
        n_questions, parameters, tokens, task, metric (what the file lacks or should override)."""
        self.largest_flops = max(self.largest_flops, flops)
        return self.client.upload(self.study, results_path, format="lm-eval-harness", checkpoint=checkpoint,
                                  pretrain_loss=pretrain_loss, flops=flops, **fields)

    def report(self, progress: bool = False) -> str:
        """Fit the study as it is now and say what it predicts.  An identical request on unchanged
        data returns the existing fit, so calling this twice costs nothing."""
        try:
            fit = self.client.fit(self.study, progress=progress, raise_on_failure=False, **self.fit_options)
        except EmergenceError as e:
            return f"no fit: {e}"
        if fit["status"] != "succeeded":
            return f"fit {fit['id']} {fit['status']}: {fit.get('error')}"
        return describe(fit, largest_flops=self.largest_flops or None)


def harness_file(directory: str, row: Dict[str, str], task: str) -> str:
    """A results file in the harness's older shape, as `lm_eval --output_path` writes it."""
    acc = float(row["accuracy"])
    n = int(row["n_questions"]) if row.get("n_questions") else None
    doc = {
        "results": {task: {"acc": acc, **({"acc_stderr": (acc * (1 - acc) / n) ** 0.5} if n else {})}},
        "versions": {task: 0},
        "config": {"model": "hf-causal", "model_args": f"pretrained=sim/{row['model']}",
                   "num_fewshot": int(row["shots"] or 0)},
    }
    name = f"{row['checkpoint']}-{row['setting']}-{row['finetune_examples'] or 0}-{row['subset'] or 0}.json"
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def dry_run(args: argparse.Namespace) -> int:
    with open(args.csv, newline="") as f:
        rows = [r for r in csv.DictReader(f) if float(r["flops"]) <= args.max_flops]
    by_checkpoint: "OrderedDict[str, List[Dict[str, str]]]" = OrderedDict()
    for r in sorted(rows, key=lambda r: float(r["flops"])):
        by_checkpoint.setdefault(r["checkpoint"], []).append(r)
    monitor = EmergenceMonitor(args.url, args.token, study=args.study, chance=args.chance, shots=args.shots,
                               fit_options={"seed": args.seed, "bootstrap": args.bootstrap})
    print(f"dry run: {len(rows)} evaluations of {len(by_checkpoint)} checkpoints (flops <= {args.max_flops:g}) "
          f"from {os.path.relpath(args.csv)} into study {args.study!r} at {args.url}")
    with tempfile.TemporaryDirectory(prefix="harness-") as tmp:
        for i, (checkpoint, evals) in enumerate(by_checkpoint.items(), 1):
            for r in evals:
                fields: Dict[str, Any] = {"setting": r["setting"], "shots": int(r["shots"] or 0),
                                          "parameters": float(r["parameters"]), "tokens": float(r["tokens"])}
                if r["finetune_examples"]:
                    fields["finetune_examples"] = int(float(r["finetune_examples"]))
                if r["subset"]:
                    fields["subset"] = r["subset"]
                if r["n_questions"]:
                    fields["n_questions"] = int(r["n_questions"])
                monitor.record(harness_file(tmp, r, "mmlu"), checkpoint=checkpoint,
                               pretrain_loss=float(r["pretrain_loss"]), flops=float(r["flops"]), **fields)
            finetuned = sum(r["setting"] == "finetuned" for r in evals)
            print(f"[{i}/{len(by_checkpoint)}] {checkpoint}: posted {len(evals)} results files "
                  f"({finetuned} finetuned), loss {float(evals[0]['pretrain_loss']):.4f}, "
                  f"{float(evals[0]['flops']):.3g} FLOPs")
            if i % args.fit_every == 0 or i == len(by_checkpoint):
                for line in monitor.report().splitlines():
                    print("    " + line)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default=os.environ.get("EMERGENCE_URL", "http://127.0.0.1:8080"))
    p.add_argument("--token", default=os.environ.get("EMERGENCE_TOKEN"))
    p.add_argument("--study", default="dry-run")
    p.add_argument("--chance", type=float, default=0.25)
    p.add_argument("--shots", type=int, default=5)
    p.add_argument("--dry-run", action="store_true", help="replay a study CSV as a simulated training run")
    p.add_argument("--csv", default=DEFAULT_CSV, help="dry run: the study to replay (default: the simulated mmlu-like one)")
    p.add_argument("--max-flops", type=float, default=2e22, help="dry run: the checkpoints trained so far")
    p.add_argument("--fit-every", type=int, default=1, help="dry run: fit after every N checkpoints")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--bootstrap", type=int, default=1000)
    args = p.parse_args(argv)
    if not args.dry_run:
        p.error("import EmergenceMonitor into your training loop (see the docstring), or pass --dry-run")
    try:
        return dry_run(args)
    except EmergenceError as e:
        print(f"training_loop: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Writes N synthetic evaluations (distinct identities) as NDJSON or CSV to stdout, deterministically.
   make_rows.py N ndjson|csv"""
import json, random, sys
n, fmt = int(sys.argv[1]), sys.argv[2]
rng = random.Random(1)
fields = ["checkpoint", "model", "parameters", "tokens", "flops", "pretrain_loss", "setting", "shots",
          "finetune_examples", "subset", "accuracy", "n_questions"]
out = sys.stdout
if fmt == "csv":
    out.write(",".join(fields) + "\n")
for i in range(n):
    ckpt, k = divmod(i, 20)
    params = [1e9, 3e9, 7e9][ckpt % 3]
    tokens = 1e10 * (1 + ckpt % 50)
    row = {"checkpoint": f"m{ckpt % 3}-step{ckpt}", "model": f"m{ckpt % 3}", "parameters": params, "tokens": tokens,
           "flops": 6 * params * tokens, "pretrain_loss": round(2.0 + rng.random(), 5)}
    if k == 0:
        row.update(setting="few_shot", shots=5, finetune_examples=None, subset=None)
    else:
        row.update(setting="finetuned", shots=None, finetune_examples=2 ** (k % 10 + 4), subset=f"s{k // 10}")
    row.update(accuracy=round(rng.random(), 4), n_questions=2000)
    if fmt == "csv":
        out.write(",".join("" if row[f] is None else str(row[f]) for f in fields) + "\n")
    else:
        out.write(json.dumps({k: v for k, v in row.items() if v is not None}, separators=(",", ":")) + "\n")

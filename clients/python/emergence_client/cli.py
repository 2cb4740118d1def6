"""``emergence-client``: the console command.

    emergence-client upload-lm-eval RESULTS.json --study S --checkpoint C --pretrain-loss L [--flops F ...]
    emergence-client upload FILE --study S [--create] # CSV, JSON or NDJSON (optionally .gz)
    emergence-client create-study NAME --chance 0.25 --study-shots 5
    emergence-client fit --study S [--seed 1 --max-flops 2e22 ...]
    emergence-client prediction --study S [--json]

The server is ``--url`` (default ``$EMERGENCE_URL`` or http://127.0.0.1:8080) and the token
``--token`` (default ``$EMERGENCE_TOKEN``).  Exit status: 0 done, 1 the server refused (the problem
is printed on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Dict, List, Optional

from .client import Client
from .errors import EmergenceError
from .words import describe


def _client(args: argparse.Namespace) -> Client:
    return Client(args.url, token=args.token or None, timeout=args.timeout)


def _print_json(doc: Any) -> None:
    print(json.dumps(doc, indent=2, sort_keys=True))


def _study_fields(args: argparse.Namespace) -> Dict[str, Any]:
    fields = {"chance": args.chance, "shots": args.study_shots, "task": args.task_name,
              "description": args.description}
    return {k: v for k, v in fields.items() if v is not None}


def _cmd_upload_lm_eval(args: argparse.Namespace) -> int:
    c = _client(args)
    if args.create:
        c.create_study(args.study, exist_ok=True, **_study_fields(args))
    fields = {"checkpoint": args.checkpoint, "pretrain_loss": args.pretrain_loss, "flops": args.flops,
              "parameters": args.parameters, "tokens": args.tokens, "setting": args.setting,
              "shots": args.shots, "finetune_examples": args.finetune_examples, "subset": args.subset,
              "n_questions": args.n_questions, "model": args.model, "task": args.task, "metric": args.metric}
    try:
        out = c.upload(args.study, args.results, format="lm-eval-harness",
                       **{k: v for k, v in fields.items() if v is not None})
    except EmergenceError as e:
        raise _missing_study(e, args)
    _print_json(out)
    return 0


def _missing_study(e: EmergenceError, args: argparse.Namespace) -> EmergenceError:
    """A 404 for the study, with the fix: ``--create`` (or ``create-study``)."""
    if e.status == 404 and not args.create:
        e.args = (f"{e} -- the study {args.study!r} does not exist: add --create to create it with this upload, "
                  f"or run `emergence-client create-study {args.study}` first",)
    return e


def _cmd_upload(args: argparse.Namespace) -> int:
    c = _client(args)
    if args.create:
        c.create_study(args.study, exist_ok=True, **_study_fields(args))
    ignore = [n.strip() for n in (args.ignore or "").split(",") if n.strip()]
    try:
        _print_json(c.upload(args.study, args.file, format=args.format, ignore=ignore or None))
    except EmergenceError as e:
        raise _missing_study(e, args)
    return 0


def _cmd_create_study(args: argparse.Namespace) -> int:
    _print_json(_client(args).create_study(args.name, exist_ok=args.exist_ok, **_study_fields(args)))
    return 0


FIT_OPTIONS = ("seed", "max_flops", "form", "d0", "noise", "uncertainty", "bootstrap", "resample",
               "mcmc_steps", "mcmc_walkers", "mcmc_burn_in")


def _cmd_fit(args: argparse.Namespace) -> int:
    options = {k: getattr(args, k) for k in FIT_OPTIONS if getattr(args, k) is not None}
    if args.no_delta:
        options["delta"] = False
    if args.scaling_law:
        linf, a, b = (float(x) for x in args.scaling_law.split(","))
        options["scaling_law"] = {"l_inf": linf, "a": a, "b": b}
    if args.alpha_prior:
        median, log_sd = (float(x) for x in args.alpha_prior.split(","))
        options["alpha_prior"] = {"median": median, "log_sd": log_sd}
    fit = _client(args).fit(args.study, wait=not args.no_wait, progress=not args.quiet,
                            timeout=args.wait_timeout, raise_on_failure=True, **options)
    if args.json or args.no_wait:
        _print_json(fit)
    else:
        print(f"fit {fit['id']} {fit['status']}")
        print(describe(fit))
    return 0


def _cmd_prediction(args: argparse.Namespace) -> int:
    doc = _client(args).prediction(args.study)
    if args.json:
        _print_json(doc)
    else:
        print(describe(doc, largest_flops=args.largest_flops))
    return 0


def _study_creation_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--create", action="store_true", help="create the study first if it does not exist")
    p.add_argument("--chance", type=float, help="with --create: the accuracy floor (0.25 for 4-way choice)")
    p.add_argument("--study-shots", type=int, help="with --create: the study's few-shot count")
    p.add_argument("--task-name", help="with --create: the study's task")
    p.add_argument("--description", help="with --create: a description")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="emergence-client",
                                description="Post evaluations to an emergence server, fit, and read the prediction.")
    p.add_argument("--url", default=os.environ.get("EMERGENCE_URL", "http://127.0.0.1:8080"),
                   help="server URL (env EMERGENCE_URL)")
    p.add_argument("--token", default=os.environ.get("EMERGENCE_TOKEN"), help="bearer token (env EMERGENCE_TOKEN)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per HTTP request")
    sub = p.add_subparsers(dest="command", required=True)

    u = sub.add_parser("upload-lm-eval", help="post an lm-evaluation-harness results file")
    u.add_argument("results", metavar="RESULTS.json")
    u.add_argument("--study", required=True)
    u.add_argument("--checkpoint", required=True)
    u.add_argument("--pretrain-loss", type=float, required=True, help="the checkpoint's pretraining loss (nats)")
    u.add_argument("--flops", type=float)
    u.add_argument("--parameters", type=float)
    u.add_argument("--tokens", type=float)
    u.add_argument("--setting", choices=["few_shot", "finetuned"])
    u.add_argument("--shots", type=int)
    u.add_argument("--finetune-examples", type=int, help="D, for a finetuned checkpoint's evaluation")
    u.add_argument("--subset")
    u.add_argument("--n-questions", type=int)
    u.add_argument("--model")
    u.add_argument("--task", help="the task to read (required when the file holds several)")
    u.add_argument("--metric", help="the metric to read (default acc)")
    _study_creation_flags(u)
    u.set_defaults(run=_cmd_upload_lm_eval)

    f = sub.add_parser("upload", help="post evaluations: CSV, JSON array or NDJSON (optionally .gz)")
    f.add_argument("file")
    f.add_argument("--study", required=True)
    f.add_argument("--format", choices=["csv", "ndjson", "json"])
    f.add_argument("--ignore", metavar="COL1,COL2",
                   help="columns (or JSON keys) to leave out on purpose; any other unknown one is refused")
    _study_creation_flags(f)
    f.set_defaults(run=_cmd_upload)

    s = sub.add_parser("create-study", help="create a study")
    s.add_argument("name")
    s.add_argument("--chance", type=float)
    # One spelling per flag, the same as upload's --create flags (where --shots and --task mean the
    # evaluation's shots and the harness task).
    s.add_argument("--study-shots", dest="study_shots", type=int, help="the study's few-shot count")
    s.add_argument("--task-name", dest="task_name", help="the study's task")
    s.add_argument("--description")
    s.add_argument("--exist-ok", action="store_true")
    s.set_defaults(run=_cmd_create_study)

    t = sub.add_parser("fit", help="request a fit and wait for it")
    t.add_argument("--study", required=True)
    t.add_argument("--seed", type=int)
    t.add_argument("--max-flops", type=float)
    t.add_argument("--form", choices=["log_power", "power"])
    t.add_argument("--d0", type=float)
    t.add_argument("--no-delta", action="store_true")
    t.add_argument("--noise", choices=["gaussian", "binomial", "quasi_binomial"])
    t.add_argument("--uncertainty", choices=["bootstrap", "mcmc", "both", "none"])
    t.add_argument("--bootstrap", type=int)
    t.add_argument("--resample", choices=["checkpoints", "rows"])
    t.add_argument("--mcmc-steps", type=int)
    t.add_argument("--mcmc-walkers", type=int)
    t.add_argument("--mcmc-burn-in", type=int)
    t.add_argument("--scaling-law", metavar="LINF,A,B")
    t.add_argument("--alpha-prior", metavar="MEDIAN,LOG_SD",
                   help="a prior on the law's curvature: ln alpha ~ N(ln MEDIAN, LOG_SD^2) (README: A prior on alpha)")
    t.add_argument("--no-wait", action="store_true", help="print the queued fit and return")
    t.add_argument("--wait-timeout", type=float, help="give up waiting after this many seconds")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--json", action="store_true", help="print the fit document")
    t.set_defaults(run=_cmd_fit)

    r = sub.add_parser("prediction", help="the newest succeeded fit's prediction")
    r.add_argument("--study", required=True)
    r.add_argument("--json", action="store_true", help="print the document instead of words")
    r.add_argument("--largest-flops", type=float, help="your largest checkpoint's compute, for the ratio")
    r.set_defaults(run=_cmd_prediction)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except EmergenceError as e:
        print(f"emergence-client: {e}", file=sys.stderr)
        return 1
    except (OSError, ValueError, TypeError) as e:
        print(f"emergence-client: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

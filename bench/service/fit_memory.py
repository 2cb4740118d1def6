#!/usr/bin/env python3
"""Resident memory per fit: runs N default fits (distinct seeds) through the API of a release
`emergence serve` and prints the server's RSS growth per fit, for fits on the server's own threads
and in child processes. The first 10 fits warm up allocator pools and caches; growth is measured
from there to the end. Target: under 50 KiB a fit.

    bench/service/fit_memory.py [--fits 100] [--binary .build/release/emergence] [--isolation thread,process]
"""
import argparse, json, os, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile import Server, study, mmlu  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(binary, isolation, fits, warmup=10):
    # "default": a build without the flag (an older binary, for the baseline).
    s = Server(binary, extra=() if isolation == "default" else ("--fit-isolation", isolation))
    try:
        study(s, "m", mmlu())
        samples = []
        t0 = time.time()
        for i in range(fits):
            st, _, b = s.request("POST", "/v1/studies/m/fits", json.dumps({"seed": i + 1, "max_flops": 2e22}), {"Content-Type": "application/json"})
            assert st == 202, (st, b)
            fid = json.loads(b)["id"]
            while True:
                _, _, b = s.request("GET", f"/v1/fits/{fid}")
                status = json.loads(b)["status"]
                if status not in ("queued", "running"):
                    break
                time.sleep(0.02)
            assert status == "succeeded", status
            samples.append(s.mem())
        took = time.time() - t0
        growth = (samples[-1] - samples[warmup - 1]) * 1024 / (fits - warmup)
        return samples[warmup - 1], samples[-1], growth, took / fits
    finally:
        s.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fits", type=int, default=100)
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build/release/emergence"))
    ap.add_argument("--isolation", default="thread,process")
    a = ap.parse_args()
    print(f"| fits run in | fits | RSS after 10 (MB) | RSS after {a.fits} (MB) | growth per fit (KiB) | s per fit | target < 50 KiB |")
    print("|---|---|---|---|---|---|---|")
    ok = True
    for iso in a.isolation.split(","):
        first, last, growth, per = run(a.binary, iso, a.fits)
        ok &= growth < 50
        print(f"| {iso} | {a.fits} | {first:.1f} | {last:.1f} | {growth:.1f} | {per:.2f} | {'ok' if growth < 50 else 'FAILED'} |", flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

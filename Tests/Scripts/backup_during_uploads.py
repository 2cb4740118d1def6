#!/usr/bin/env python3
"""`emergence backup` while a server takes uploads.

Usage: backup_during_uploads.py EMERGENCE_BINARY

Starts `emergence serve` on a scratch database, uploads batches of 500 new rows in a loop from a
thread (each batch its own checkpoints, each acknowledged 200 noted with the time it came back), runs
`emergence backup` several times in the middle of the loop, and for each backup checks that:
- `PRAGMA integrity_check` says ok (through the sqlite3 shell and Python's sqlite3);
- every batch acknowledged before the backup started is there, whole;
- every batch is there whole or not at all (a snapshot of commits, never half an upload);
then restores the last backup: copies it to a new path, serves that file, and reads the rows back
through the API.
"""
import io, json, os, re, shutil, sqlite3, subprocess, sys, tempfile, threading, time, urllib.request

ROWS = 500


def start(binary, db, log_path):
    log = open(log_path, "w+")
    p = subprocess.Popen([binary, "serve", "--port", "0", "--db", db, "--workers", "1"], stdout=log, stderr=subprocess.STDOUT)
    for _ in range(200):
        m = re.search(r"emergence listening on [^ ]*:(\d+) ", open(log_path).read())
        if m:
            return p, f"http://127.0.0.1:{m.group(1)}"
        time.sleep(0.05)
    raise SystemExit(open(log_path).read())


def post(base, path, body, ctype):
    req = urllib.request.Request(base + path, data=body, method="POST", headers={"Content-Type": ctype})
    with urllib.request.urlopen(req, timeout=120) as r:
        return r.status, json.loads(r.read())


def batch_csv(n):
    out = io.StringIO()
    out.write("checkpoint,pretrain_loss,setting,shots,finetune_examples,accuracy\n")
    for i in range(ROWS):
        out.write(f"b{n}-c{i},{2.0 + i / 1000:.4f},few_shot,5,,{0.25 + (i % 50) / 1000:.4f}\n")
    return out.getvalue().encode()


def main(binary):
    work = tempfile.mkdtemp(prefix="backup-check-")
    db = os.path.join(work, "live.sqlite")
    server, base = start(binary, db, os.path.join(work, "server.log"))
    acked = []  # (batch number, monotonic time the 200 arrived)
    stop = threading.Event()
    try:
        assert post(base, "/v1/studies", json.dumps({"name": "loop", "chance": 0.25, "shots": 5}).encode(), "application/json")[0] == 201

        def loop():
            n = 0
            while not stop.is_set():
                status, body = post(base, "/v1/studies/loop/evaluations", batch_csv(n), "text/csv")
                assert status == 200 and body["inserted"] == ROWS, body
                acked.append((n, time.monotonic()))
                n += 1

        t = threading.Thread(target=loop)
        t.start()
        results = []
        for k in range(5):
            time.sleep(0.7)
            out = os.path.join(work, f"backup-{k}.sqlite")
            began = time.monotonic()
            before = [n for n, at in list(acked) if at < began]
            r = subprocess.run([binary, "backup", "--db", db, "--to", out], capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
            ended = time.monotonic()
            shell = subprocess.run(["sqlite3", out, "PRAGMA integrity_check;"], capture_output=True, text=True).stdout.strip()
            c = sqlite3.connect(out)
            assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            mode = c.execute("PRAGMA journal_mode").fetchone()[0]
            per_batch = dict(c.execute(
                "SELECT substr(checkpoint, 2, instr(checkpoint, '-') - 2) AS b, count(*) FROM evaluation GROUP BY b").fetchall())
            c.close()
            per_batch = {int(b): n for b, n in per_batch.items()}
            missing = [n for n in before if per_batch.get(n) != ROWS]
            partial = [b for b, n in per_batch.items() if n != ROWS]
            during = len([n for n, at in list(acked) if began <= at <= ended])
            print(f"backup {k}: {r.stdout.strip()}")
            print(f"  integrity_check (sqlite3 shell): {shell}; journal_mode {mode}; batches in backup {len(per_batch)} "
                  f"({sum(per_batch.values())} rows); acknowledged before it began {len(before)}, missing {len(missing)}; "
                  f"partial batches {len(partial)}; uploads acknowledged while it ran {during}")
            assert shell == "ok" and not missing and not partial and os.path.exists(out) and not os.path.exists(out + "-wal")
            results.append(out)
        stop.set()
        t.join()
        print(f"upload loop: {len(acked)} batches of {ROWS} rows acknowledged in all")
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=20)

    # Restore: a copy of the backup, served as a new database.
    restored = os.path.join(work, "restored.sqlite")
    shutil.copyfile(results[-1], restored)
    c = sqlite3.connect(results[-1])
    expected = c.execute("SELECT count(*) FROM evaluation").fetchone()[0]
    c.close()
    server, base = start(binary, restored, os.path.join(work, "restored.log"))
    try:
        with urllib.request.urlopen(base + "/v1/studies/loop", timeout=30) as r:
            study = json.loads(r.read())
        print(f"restored {os.path.basename(results[-1])} to a new path and served it: study 'loop' has "
              f"{study['evaluations']} evaluations (backup held {expected})")
        assert study["evaluations"] == expected
    finally:
        server.terminate()
        server.wait(timeout=20)
    shutil.rmtree(work)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".build/debug/emergence")

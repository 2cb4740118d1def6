#!/usr/bin/env python3
"""Hostile-client checks for `emergence serve`, printed as a table.

Starts release servers on scratch databases on 127.0.0.1 only, drives them the way an attacker or a
careless client would, and reads the server's CPU time and memory from /proc. Every loop is bounded
in count and time. Standard library only.

    bench/service/hostile.py [--binary .build/release/emergence] [--only NAME,...]

Checks (names for --only): expect, bombs, bigbodies, inflate, burst, options, text, single, diskfull, kill9,
slowloris.
`diskfull` needs root (it mounts a 20 MiB tmpfs and unmounts it afterwards).
"""
import argparse, gzip, zlib, http.client, json, os, random, shutil, socket, statistics, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN_W = "hostile-writer-token-0001"
TOKEN_R = "hostile-reader-token-0001"
HEADER = "checkpoint,model,parameters,tokens,flops,pretrain_loss,setting,shots,finetune_examples,subset,accuracy,n_questions\n"
results = []


def row(name, target, measured, ok):
    results.append((name, target, measured, "ok" if ok else "FAILED"))
    print(f"  {name}: {measured} -> {'ok' if ok else 'FAILED'}", flush=True)


class Server:
    def __init__(self, binary, tokens=False, db=None, env=None, extra=()):
        self.dir = tempfile.mkdtemp(prefix="hostile-")
        self.db = db or os.path.join(self.dir, "db.sqlite")
        e = dict(os.environ)
        e.pop("EMERGENCE_TOKENS", None)
        if tokens:
            e["EMERGENCE_TOKENS"] = f"{TOKEN_W}:write,{TOKEN_R}:read"
        e.update(env or {})
        self.log = open(os.path.join(self.dir, "server.log"), "w+")
        self.proc = subprocess.Popen([binary, "serve", "--port", "0", "--db", self.db, "--workers", "1", *extra],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=e)
        self.port = None
        for _ in range(400):
            self.log.flush()
            with open(self.log.name) as f:
                for line in f:
                    if "emergence listening on" in line:
                        self.port = int(line.split("listening on ")[1].split(" ")[0].rsplit(":", 1)[1])
            if self.port or self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if not self.port:
            raise RuntimeError("server did not start: " + open(self.log.name).read()[-2000:])

    def cpu(self):
        f = open(f"/proc/{self.proc.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

    def mem(self, key="VmRSS"):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024  # MB
        return 0.0

    def alive(self):
        return self.proc.poll() is None

    def request(self, method, path, body=None, headers=None, token=TOKEN_W, timeout=60):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, dict(r.getheaders()), data

    def stop(self):
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def study(s, name, rows=None):
    s.request("POST", "/v1/studies", json.dumps({"name": name, "chance": 0.25, "shots": 5}), {"Content-Type": "application/json"})
    if rows is not None:
        st, _, b = s.request("POST", f"/v1/studies/{name}/evaluations", rows, {"Content-Type": "text/csv"})
        assert st == 200, (st, b)


def mmlu():
    return open(os.path.join(ROOT, "bench/service/mmlu-like.csv"), "rb").read()


def raw_head(port, head, read_timeout=5.0):
    """Sends only a request head and returns what the server answers before any body byte."""
    s = socket.create_connection(("127.0.0.1", port), timeout=read_timeout)
    s.sendall(head.encode())
    got = b""
    try:
        while b"\r\n\r\n" not in got:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        pass
    s.close()
    return got


def check_expect(binary):
    s = Server(binary, tokens=True)
    try:
        study(s, "x")
        got = raw_head(s.port, "POST /v1/studies/x/evaluations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
                               "Content-Length: 262144000\r\nExpect: 100-continue\r\n\r\n")
        first = got.split(b"\r\n", 1)[0].decode(errors="replace")
        row("unauthenticated upload with Expect: 100-continue", "401, never 100", first, first.startswith("HTTP/1.1 401"))
    finally:
        s.stop()


def gz(prefix, fill, total=1 << 30):
    """One gzip member: `prefix`, then `fill` bytes repeated up to `total` bytes (~1 MB per GiB)."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [z.compress(prefix)]
    block = fill * ((16 << 20) // len(fill))
    left = total - len(prefix)
    while left > 0:
        out.append(z.compress(block[:left]))
        left -= len(block)
    out.append(z.flush())
    return b"".join(out)


def bomb(size=1 << 30):
    """~1 MB of gzip that inflates to `size` bytes of zeros."""
    return gz(b"", b"\0", size)


def check_bombs(binary):
    s = Server(binary, tokens=True)
    try:
        study(s, "x")
        body = bomb()
        before = s.cpu()
        statuses = []
        for _ in range(3):
            try:
                st, _, _ = s.request("POST", "/v1/studies/x/evaluations", body,
                                     {"Content-Type": "text/csv", "Content-Encoding": "gzip"}, token=None)
                statuses.append(st)
            except (ConnectionError, BrokenPipeError, OSError) as e:
                statuses.append(type(e).__name__)
        time.sleep(0.5)
        used = s.cpu() - before
        row("three unauthenticated gzip bombs (1 GiB each)", "< 0.1 s server CPU", f"{used:.3f} s CPU, answers {statuses}", used < 0.1)
    finally:
        s.stop()


def check_bigbodies(binary):
    s = Server(binary, tokens=True)
    try:
        study(s, "x")
        peak = [0.0]
        answers = []
        lock = threading.Lock()

        def one():
            sock = socket.create_connection(("127.0.0.1", s.port), timeout=20)
            sock.sendall(b"POST /v1/studies/x/evaluations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
                         b"Content-Length: 262144000\r\n\r\n")
            chunk = b"a" * (1 << 20)
            sent = 0
            try:
                while sent < 250 << 20:
                    sock.sendall(chunk)
                    sent += len(chunk)
            except OSError:
                pass
            try:
                got = sock.recv(200)
            except OSError:
                got = b""
            sock.close()
            with lock:
                answers.append(got.split(b"\r\n", 1)[0].decode(errors="replace") or f"closed after {sent >> 20} MiB")

        threads = [threading.Thread(target=one) for _ in range(12)]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            peak[0] = max(peak[0], s.mem())
            time.sleep(0.02)
        hwm = s.mem("VmHWM")
        row("12 parallel unauthenticated 250 MiB uploads", "RSS < 100 MB", f"peak RSS {peak[0]:.0f} MB (VmHWM {hwm:.0f} MB); {sorted(set(answers))}",
            hwm < 100)
    finally:
        s.stop()


def check_inflate(binary):
    s = Server(binary, tokens=True)
    try:
        study(s, "x")
        # Each inflates to 1 GiB: a CSV header then one endless line of spaces, and a JSON array that
        # opens and then is only white space.
        csv_body = gz(HEADER.encode(), b" ")
        json_body = gz(b"[", b" ")
        bodies = [("text/csv", csv_body), ("application/json", json_body), ("text/csv", csv_body), ("application/json", json_body)]
        answers = []
        lock = threading.Lock()

        def one(ct, body):
            try:
                st, _, b = s.request("POST", "/v1/studies/x/evaluations", body, {"Content-Type": ct, "Content-Encoding": "gzip"}, timeout=120)
                with lock:
                    answers.append(st)
            except OSError as e:
                with lock:
                    answers.append(type(e).__name__)

        before = s.mem("VmHWM")
        threads = [threading.Thread(target=one, args=b) for b in bodies]
        for t in threads:
            t.start()
        for t in threads:
            t.join(180)
        hwm = s.mem("VmHWM")
        sizes = ", ".join(f"{len(b) / 1e6:.1f} MB" for _, b in bodies[:2])
        row("four parallel gzip uploads inflating to ~1 GiB (CSV, JSON)", "peak within the documented budget (docs/api.md)",
            f"VmHWM {before:.0f} -> {hwm:.0f} MB; bodies {sizes}; answers {sorted(map(str, answers))}", hwm < 400)
    finally:
        s.stop()


def check_burst(binary):
    s = Server(binary)
    try:
        study(s, "b", mmlu())
        codes = {}
        lat = []
        stop = threading.Event()

        def health():
            c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
            while not stop.is_set():
                t0 = time.perf_counter()
                c.request("GET", "/healthz")
                c.getresponse().read()
                lat.append((time.perf_counter() - t0) * 1000)
                time.sleep(0.005)
            c.close()

        h = threading.Thread(target=health)
        h.start()
        lock = threading.Lock()

        def burst(seeds):
            c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
            for seed in seeds:
                # Long fits (tens of seconds each), so none finishes and frees a place during the burst.
                c.request("POST", "/v1/studies/b/fits", json.dumps({"seed": seed, "bootstrap": 50000}), {"Content-Type": "application/json"})
                r = c.getresponse()
                r.read()
                with lock:
                    codes[r.status] = codes.get(r.status, 0) + 1
            c.close()

        t0 = time.time()
        workers = [threading.Thread(target=burst, args=(range(i, 2000, 8),)) for i in range(8)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        took = time.time() - t0
        stop.set()
        h.join()
        lat.sort()
        p99 = lat[int(len(lat) * 0.99) - 1] if lat else float("nan")
        row("burst of 2,000 fit requests", "429 past the bound (100 per study)", f"{codes} in {took:.1f} s",
            codes.get(429, 0) == 1900 and codes.get(202, 0) == 100)
        s.request("DELETE", "/v1/studies/b")  # cancels the running fit and the queued ones
        row("/healthz during the burst", "p99 < 20 ms", f"p50 {statistics.median(lat):.2f} ms, p99 {p99:.2f} ms over {len(lat)}", p99 < 20)
    finally:
        s.stop()


def check_options(binary):
    # Fits on the server's own threads: a trap in the engine would take the server down here, so this
    # is the test that the options are validated and the math does not trap (in a child process, the
    # default, a trap would cost only the fit).
    s = Server(binary, extra=("--fit-isolation", "thread"))
    try:
        study(s, "o", mmlu())
        cases = [{"uncertainty": "mcmc", "mcmc_walkers": w, "mcmc_steps": 200, "mcmc_burn_in": 50} for w in range(1, 17)]
        cases += [{"bootstrap": 1}, {"bootstrap": 1, "resample": "rows"}, {"d0": 1.0000001}, {"d0": 1e30}, {"d0": 1e300},
                  {"max_flops": 1}, {"max_flops": 1e-300}, {"scaling_law": {"l_inf": 0, "a": 1e300, "b": 1e-300}},
                  {"scaling_law": {"l_inf": 1e300, "a": 1e-300, "b": 1e300}}, {"scaling_law": {"l_inf": 5, "a": 1, "b": 1}},
                  {"uncertainty": "both", "mcmc_walkers": 14, "mcmc_steps": 100, "bootstrap": 2, "noise": "binomial"},
                  {"uncertainty": "mcmc", "mcmc_walkers": 1024, "mcmc_steps": 1000000}, {"bootstrap": 100000, "uncertainty": "both"}]
        outcomes = {}
        ids = []
        for i, o in enumerate(cases):
            o = dict(o, seed=1000 + i)
            st, _, b = s.request("POST", "/v1/studies/o/fits", json.dumps(o), {"Content-Type": "application/json"})
            if st in (200, 202):
                ids.append(json.loads(b)["id"])
            else:
                outcomes[st] = outcomes.get(st, 0) + 1
        deadline = time.time() + 300
        final = {}
        for fid in ids:
            while time.time() < deadline:
                _, _, b = s.request("GET", f"/v1/fits/{fid}")
                d = json.loads(b)
                if d["status"] not in ("queued", "running"):
                    final[d["status"]] = final.get(d["status"], 0) + 1
                    break
                time.sleep(0.1)
        alive = s.alive()
        row("edge-case fit options (walkers 1-16, 1 resample, D0 ~1 and huge, empty cutoff, extreme laws), fits on server threads",
            "422 or finished; server alive", f"{len(cases)} cases: refused {outcomes}, finished {final}, server alive: {alive}",
            alive and sum(final.values()) == len(ids) and set(outcomes) <= {422})
        db = s.db
        s.proc.terminate()
        s.proc.wait(15)
        again = Server(binary, db=db, extra=("--fit-isolation", "thread"))
        st, _, _ = again.request("GET", "/readyz")
        row("restart on the same database", "serves", f"/readyz {st}", st == 200)
        again.stop()
    finally:
        s.stop()


def check_text(binary):
    s = Server(binary)
    try:
        study(s, "t")
        bad = HEADER.encode() + b"q\xff,1b,1e9,1e10,,2.5,few_shot,5,,,0.25,100\nq\xfe,1b,1e9,1e10,,2.5,few_shot,5,,,0.30,100\n"
        st, _, b = s.request("POST", "/v1/studies/t/evaluations", bad, {"Content-Type": "text/csv"})
        _, _, sb = s.request("GET", "/v1/studies/t")
        n = json.loads(sb)["evaluations"]
        detail = json.loads(b).get("errors", [{}])[0] if st == 422 else b[:100]
        row("CSV with invalid UTF-8", "422 naming line and column; nothing stored", f"{st} {detail}; stored {n}", st == 422 and n == 0)
        longname = ("c" * 100_000).encode()
        st, _, b = s.request("POST", "/v1/studies/t/evaluations", HEADER.encode() + longname + b",1b,1e9,1e10,,2.5,few_shot,5,,,0.25,100\n",
                             {"Content-Type": "text/csv"})
        detail = json.loads(b).get("errors", [{}])[0] if st == 422 else b[:100]
        row("100 KB checkpoint name", "422", f"{st} {detail}", st == 422)
    finally:
        s.stop()


def check_single(binary):
    s = Server(binary)
    try:
        second = subprocess.run([binary, "serve", "--port", "0", "--db", s.db], capture_output=True, text=True, timeout=20)
        msg = (second.stderr or second.stdout).strip().splitlines()[-1:] or [""]
        row("second serve on the same database file", "exits with a clear message", f"exit {second.returncode}: {msg[0][:160]}",
            second.returncode != 0)
        study(s, "d", HEADER + "a,1b,1e9,1e10,,2.5,few_shot,5,,,0.25,100\n")
        if shutil.which("sqlite3"):
            r = subprocess.run(["sqlite3", s.db, "INSERT INTO evaluation (study_id, checkpoint, pretrain_loss, setting, shots, accuracy) "
                                                 "VALUES (1, 'a', 2.5, 'few_shot', 5, 0.3);"], capture_output=True, text=True)
            row("duplicate identity through the sqlite3 shell", "refused by the database", f"exit {r.returncode}: {r.stderr.strip()[:120]}",
                r.returncode != 0 and "UNIQUE" in r.stderr)
        else:
            row("duplicate identity through the sqlite3 shell", "refused by the database", "sqlite3 not installed (apt-get install sqlite3)", False)
    finally:
        s.stop()


def check_diskfull(binary):
    if os.geteuid() != 0:
        row("disk full", "507", "skipped: needs root for a tmpfs", False)
        return
    mnt = tempfile.mkdtemp(prefix="full-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", mnt], check=True)
    try:
        s = Server(binary, db=os.path.join(mnt, "db.sqlite"))
        try:
            study(s, "f")
            rows = []
            statuses = []
            for i in range(200):
                body = HEADER + "".join(f"c{i}-{j}-{'x' * 150},1b,1e9,1e10,,2.5,few_shot,5,,,0.25,100\n" for j in range(5000))
                st, _, b = s.request("POST", "/v1/studies/f/evaluations", body, {"Content-Type": "text/csv"})
                statuses.append(st)
                if st != 200:
                    last = json.loads(b)
                    break
                rows.append(5000)
            _, _, sb = s.request("GET", "/v1/studies/f")
            stored = json.loads(sb)["evaluations"]
            st2, _, _ = s.request("GET", "/v1/studies/f/evaluations?limit=1")
            row("disk full (20 MiB tmpfs)", "507; nothing partial; serving goes on",
                f"{statuses[-1]} after {len(rows)} uploads ({last.get('detail', '')[:60]}); stored {stored} = acknowledged {sum(rows)}; "
                f"GET after: {st2}", statuses[-1] == 507 and stored == sum(rows) and st2 == 200)
        finally:
            s.stop()
    finally:
        subprocess.run(["umount", mnt])
        os.rmdir(mnt)


def check_kill9(binary, rounds=5):
    """Acknowledged rows survive kill -9: upload in a loop, kill the server at a random moment,
    restart on the same file, and count what is stored against what was acknowledged."""
    s = Server(binary)
    db, acked, lost_total, acked_total = s.db, 0, 0, 0
    try:
        study(s, "k")
        rng = random.Random(7)
        for r in range(rounds):
            acked = []
            stop = threading.Event()

            def loop(srv=s, batch=[0]):
                while not stop.is_set():
                    i = batch[0]
                    batch[0] += 1
                    body = HEADER + "".join(f"r{r}-b{i}-{j},1b,1e9,1e10,,2.5,few_shot,5,,,0.25,100\n" for j in range(2000))
                    try:
                        st, _, _ = srv.request("POST", "/v1/studies/k/evaluations", body, {"Content-Type": "text/csv"}, timeout=10)
                        if st == 200:
                            acked.append(2000)
                    except OSError:
                        return

            t = threading.Thread(target=loop)
            t.start()
            time.sleep(0.5 + rng.random() * 1.5)
            s.proc.kill()
            s.proc.wait()
            stop.set()
            t.join()
            acked_total += sum(acked)
            s.log.close()
            s = Server(binary, db=db)
            _, _, b = s.request("GET", "/v1/studies/k")
            stored = json.loads(b)["evaluations"]
            lost_total = max(lost_total, acked_total - stored)
        row(f"kill -9 during uploads, {rounds} times", "no acknowledged row lost",
            f"{acked_total} rows acknowledged, {stored} stored after the last restart", stored >= acked_total)
    finally:
        s.stop()


def check_slowloris(binary, conns=1000):
    """Many connections that send a head one byte at a time must not slow a normal client."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, conns + 200)), hard))
    s = Server(binary)
    socks = []
    try:
        for _ in range(conns):
            c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            socks.append(c)
        lat = []
        c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        t_end = time.time() + 5
        k = 0
        while time.time() < t_end:
            for sk in socks[k % 50::50]:
                try:
                    sk.sendall(b"X")
                except OSError:
                    pass
            k += 1
            t0 = time.perf_counter()
            c.request("GET", "/healthz")
            c.getresponse().read()
            lat.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.01)
        lat.sort()
        p95 = lat[int(len(lat) * 0.95) - 1]
        row(f"{conns} slowloris connections", "a normal client's p95 stays low (was 5.5 ms)", f"/healthz p50 {statistics.median(lat):.2f} ms, p95 {p95:.2f} ms over {len(lat)}",
            p95 < 20)
    finally:
        for sk in socks:
            sk.close()
        s.stop()


CHECKS = {"expect": check_expect, "bombs": check_bombs, "bigbodies": check_bigbodies, "inflate": check_inflate,
          "burst": check_burst, "options": check_options, "text": check_text, "single": check_single, "diskfull": check_diskfull,
          "kill9": check_kill9, "slowloris": check_slowloris}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build/release/emergence"))
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    names = [n for n in a.only.split(",") if n] or list(CHECKS)
    for n in names:
        print(f"[{n}]", flush=True)
        try:
            CHECKS[n](a.binary)
        except Exception as e:  # a check that breaks is a failure, not the end of the run
            row(n, "runs", f"raised {type(e).__name__}: {e}", False)
    print("\n| check | target | measured | verdict |\n|---|---|---|---|")
    for r in results:
        print("| " + " | ".join(r) + " |")
    failed = sum(1 for r in results if r[3] != "ok")
    print(f"\n{len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

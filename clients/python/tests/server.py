"""A real `emergence serve` for the tests: free port, scratch database, stopped with SIGTERM.

The binary is $EMERGENCE_BIN, else the repository's .build/debug/emergence (what `swift build`
makes); tests that need it are skipped when neither exists.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from typing import Dict, List, Optional

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def binary() -> Optional[str]:
    """$EMERGENCE_BIN as given (a wrong one fails the tests rather than skipping them), else the
    repository's debug build when it exists, else None (live tests skip)."""
    if os.environ.get("EMERGENCE_BIN"):
        return os.environ["EMERGENCE_BIN"]
    path = os.path.join(REPO, ".build", "debug", "emergence")
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


class LiveServer:
    """``with LiveServer(args=[...], env={...}) as s: s.url``; the log is kept for failure messages."""

    def __init__(self, args: Optional[List[str]] = None, env: Optional[Dict[str, str]] = None) -> None:
        self.args = args or []
        self.env = env or {}
        self.url = ""
        self.log: List[str] = []

    def __enter__(self) -> "LiveServer":
        exe = binary()
        if exe is None:
            raise RuntimeError("no emergence binary: set EMERGENCE_BIN or run swift build")
        self.exe = exe
        self.dir = tempfile.mkdtemp(prefix="emergence-client-test-")
        env = {k: v for k, v in os.environ.items() if not k.startswith("EMERGENCE_")}
        env.update(self.env)
        self.proc = subprocess.Popen(
            [exe, "serve", "--port", "0", "--db", os.path.join(self.dir, "db.sqlite"), "--workers", "1",
             "--log-format", "text", *self.args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
        found = threading.Event()

        def read() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.log.append(line.rstrip("\n"))
                m = re.search(r"emergence listening on (\S+):(\d+) ", line)
                if m and not found.is_set():
                    host = m.group(1)
                    host = f"[{host}]" if ":" in host else host
                    self.url = f"http://{host}:{m.group(2)}"
                    found.set()

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()
        deadline = time.monotonic() + 30
        while not found.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self._stop()
                raise RuntimeError("emergence serve did not start:\n" + "\n".join(self.log[-20:]))
        return self

    def _stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __exit__(self, *exc: object) -> None:
        self._stop()

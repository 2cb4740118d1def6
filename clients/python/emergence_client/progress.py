"""Progress of a job being waited on: a tqdm bar when tqdm is installed, else a callback or nothing.

A job document (a fit today; back-tests and comparisons later) has ``status`` and, while running,
``progress`` in [0, 1].  Reporters receive each polled document.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Union

Reporter = Callable[[Mapping[str, Any]], None]
#: ``progress=`` accepts: True (tqdm if installed, else quiet), False/None (quiet), or a callable
#: that receives every polled job document.
ProgressArg = Union[bool, None, Reporter]


class _TqdmReporter:
    """A 0–100 % bar whose postfix is the job's status; closed by ``close()``."""

    def __init__(self, description: str) -> None:
        from tqdm import tqdm  # optional dependency

        self._bar = tqdm(total=100, desc=description, unit="%", leave=False,
                         bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}{postfix}")
        self._shown = 0

    def __call__(self, job: Mapping[str, Any]) -> None:
        done = job.get("progress")
        if isinstance(done, (int, float)):
            target = int(round(max(0.0, min(1.0, float(done))) * 100))
            if target > self._shown:
                self._bar.update(target - self._shown)
                self._shown = target
        self._bar.set_postfix_str(str(job.get("status", "")))

    def close(self) -> None:
        self._bar.close()


class _Quiet:
    def __call__(self, job: Mapping[str, Any]) -> None:
        pass

    def close(self) -> None:
        pass


class _Callback:
    def __init__(self, fn: Reporter) -> None:
        self._fn = fn

    def __call__(self, job: Mapping[str, Any]) -> None:
        self._fn(job)

    def close(self) -> None:
        pass


def make_reporter(progress: ProgressArg, description: str) -> Any:
    """A reporter with ``__call__(job)`` and ``close()`` for the ``progress=`` argument."""
    if callable(progress):
        return _Callback(progress)
    if progress:
        try:
            return _TqdmReporter(description)
        except ImportError:
            return _Quiet()
    return _Quiet()

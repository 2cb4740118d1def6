"""Exceptions raised by the client.

The server answers every error as RFC 9457 ``application/problem+json``: ``type``, ``title``,
``status``, ``detail``, and for bad uploads or options ``errors`` (one entry per bad row or field:
``index`` (0-based), ``row`` (1-based), ``line``, ``field``, ``reason``) with ``error_count`` and ``errors_truncated``.  500s and
507s carry ``request_id``, which also stands in the server's log.  The exception keeps all of it, so
a training script can say which row of which file was refused.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional


class EmergenceError(Exception):
    """An error answer from the server (or no answer at all: ``status`` is then None).

    Attributes: ``status`` (HTTP status), ``title``, ``detail``, ``type`` (a URI, usually
    ``about:blank``), ``errors`` (list of ``{index, line, field, reason}`` dicts), ``error_count``,
    ``request_id`` (from the body or the ``X-Request-Id`` header), ``problem`` (the whole decoded
    body, or {}), ``headers`` (the response headers, lower-cased names), ``method`` and ``url``.
    """

    def __init__(
        self,
        status: Optional[int],
        title: str,
        detail: Optional[str] = None,
        type: str = "about:blank",
        errors: Optional[List[Dict[str, Any]]] = None,
        request_id: Optional[str] = None,
        problem: Optional[Mapping[str, Any]] = None,
        headers: Optional[Mapping[str, str]] = None,
        method: Optional[str] = None,
        url: Optional[str] = None,
    ) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type
        self.errors = list(errors or [])
        self.request_id = request_id
        self.problem = dict(problem or {})
        self.headers = dict(headers or {})
        self.method = method
        self.url = url
        count = self.problem.get("error_count")
        self.error_count = count if isinstance(count, int) else len(self.errors)
        super().__init__(self._message())

    def _message(self) -> str:
        head = f"{self.status} {self.title}" if self.status is not None else self.title
        if self.method and self.url:
            head += f" ({self.method} {self.url})"
        parts = [head]
        if self.detail:
            parts.append(self.detail)
        for e in self.errors[:10]:
            # As the server names places, counted from 1: the line of a CSV or NDJSON row, else
            # rows[N] of a JSON upload (``row``; older servers send only the 0-based ``index``).
            loc = ""
            if isinstance(e.get("line"), int):
                loc = f"line {e['line']}"
            elif isinstance(e.get("row"), int):
                loc = f"rows[{e['row']}]"
            elif isinstance(e.get("index"), int) and e["index"] >= 0:
                loc = f"rows[{e['index'] + 1}]"
            parts.append(f"{loc + ': ' if loc else ''}{e.get('field', '?')}: {e.get('reason', '')}")
        if self.error_count > 10:
            parts.append(f"... {self.error_count - 10} more")
        if self.request_id:
            parts.append(f"request id {self.request_id}")
        return "; ".join(parts)

    @classmethod
    def from_response(
        cls, status: int, reason: str, body: bytes, headers: Mapping[str, str], method: str, url: str
    ) -> "EmergenceError":
        """Build from an HTTP error answer; a body that is not problem+json becomes ``detail``."""
        import json

        problem: Dict[str, Any] = {}
        try:
            decoded = json.loads(body.decode("utf-8")) if body else {}
            if isinstance(decoded, dict):
                problem = decoded
        except (ValueError, UnicodeDecodeError):
            pass
        detail = problem.get("detail")
        if not problem and body:
            detail = body[:500].decode("utf-8", "replace")
        errors = problem.get("errors")
        return cls(
            status=status,
            title=str(problem.get("title") or reason or "error"),
            detail=detail if isinstance(detail, str) else None,
            type=str(problem.get("type") or "about:blank"),
            errors=errors if isinstance(errors, list) else None,
            request_id=problem.get("request_id") or headers.get("x-request-id"),
            problem=problem,
            headers=headers,
            method=method,
            url=url,
        )


class EmergenceConnectionError(EmergenceError):
    """The server could not be reached, or the connection broke before an answer (status None)."""


class FitFailed(EmergenceError):
    """A fit (or another job) waited on ended ``failed``, ``cancelled`` or ``timed_out``; ``fit`` is
    its document."""

    def __init__(self, fit: Mapping[str, Any]) -> None:
        self.fit = dict(fit)
        super().__init__(
            status=None,
            title=f"{fit.get('kind') or 'fit'} {fit.get('id')} {fit.get('status')}",
            detail=fit.get("error") if isinstance(fit.get("error"), str) else None,
        )


class WaitTimeout(EmergenceError):
    """``fit(wait=True, timeout=…)`` gave up; the job goes on on the server. ``job`` is its last document."""

    def __init__(self, job: Mapping[str, Any], timeout: float) -> None:
        self.job = dict(job)
        super().__init__(
            status=None,
            title=f"still {job.get('status')} after {timeout:g} s",
            detail=f"poll it again later (id {job.get('id')}); it keeps running on the server",
        )

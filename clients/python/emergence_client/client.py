"""The HTTP client: one ``_request`` path (auth, retries, problem+json errors) and one job poller.

Standard library only (urllib).  New routes are added as small methods that call ``_request``, and
new kinds of job (back-tests, comparisons, …) as methods that call ``wait_for_job`` with their
document's path: a job document has ``id``, ``status`` (queued → running → a terminal status) and,
while running, ``progress`` in [0, 1].
"""

from __future__ import annotations

import gzip
import io
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from .errors import EmergenceConnectionError, EmergenceError, FitFailed, WaitTimeout
from .progress import ProgressArg, make_reporter
from .retry import RETRY_STATUSES, RetryPolicy

PathLike = Union[str, "os.PathLike[str]"]

#: Statuses after which a job document no longer changes.
TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled", "timed_out"})

#: Fields a harness results file lacks, sent as query parameters (the server's
#: ``LMEvalHarness.parameterNames``); ``task`` and ``metric`` choose what to read from the file.
HARNESS_FIELDS = ("task", "metric", "checkpoint", "model", "parameters", "tokens", "flops",
                  "pretrain_loss", "setting", "shots", "finetune_examples", "subset", "n_questions")

#: Upload formats and their media types.
CONTENT_TYPES = {"csv": "text/csv", "ndjson": "application/x-ndjson", "json": "application/json",
                 "lm-eval-harness": "application/json"}


@dataclass
class Response:
    status: int
    headers: Dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None


# A request body: bytes, or a function that opens it afresh for each attempt (file, length).
Body = Union[bytes, Callable[[], Tuple[io.BufferedIOBase, int]]]


def _query_value(v: Any) -> str:
    """Query text for a value: floats by repr (round-trips exactly), booleans as true/false."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _segment(v: Union[str, int]) -> str:
    """A path segment (study name or id), percent-encoded; '/' cannot occur in a study name."""
    return urllib.parse.quote(str(v), safe="")


class Client:
    """A client for the emergence service.

    >>> c = Client("http://127.0.0.1:8080", token=os.environ.get("EMERGENCE_TOKEN"))
    >>> c.create_study("mmlu", chance=0.25, shots=5, exist_ok=True)
    >>> c.upload("mmlu", "study.csv")
    >>> c.fit("mmlu", seed=1, max_flops=2e22)            # waits, with a progress bar if tqdm is installed
    >>> describe(c.prediction("mmlu"))

    ``token`` is sent as ``Authorization: Bearer``; reads need the ``read`` scope, uploads and fits
    ``write``, deleting a study ``admin``.  ``timeout`` is per HTTP request (seconds).  ``retry``
    bounds the retries of 429/503 answers (see ``retry.py`` for why those are always safe).
    """

    def __init__(self, url: str = "http://127.0.0.1:8080", token: Optional[str] = None, *,
                 timeout: float = 60.0, retry: Optional[RetryPolicy] = None,
                 user_agent: str = "emergence-client-python") -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"url must be http(s)://HOST[:PORT][/prefix], got {url!r}")
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.user_agent = user_agent
        self._etags: Dict[str, Tuple[str, Any]] = {}  # prediction path → (ETag, document)
        # No redirects are followed silently for writes: urllib would turn a POST into a GET.
        self._opener = urllib.request.build_opener()

    # ------------------------------------------------------------------ the one request path

    def _request(self, method: str, path: str, *, query: Optional[Mapping[str, Any]] = None,
                 json_body: Any = None, body: Optional[Body] = None, content_type: Optional[str] = None,
                 headers: Optional[Mapping[str, str]] = None, idempotent: Optional[bool] = None,
                 ok: Iterable[int] = (200, 201, 202, 204), retry: bool = True) -> Response:
        """Send one request, retrying 429/503 (always: the server did nothing) and, when
        ``idempotent`` (default: GET, HEAD, PUT, DELETE), connections that broke before an answer;
        ``retry=False`` sends it once.  Returns the response when its status is in ``ok``; raises
        ``EmergenceError`` otherwise."""
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")
        url = self.url + path
        if query:
            pairs = [(k, _query_value(v)) for k, v in query.items() if v is not None]
            if pairs:
                url += "?" + urllib.parse.urlencode(pairs)
        send_headers = {"Accept": "application/json, application/problem+json",
                        "Accept-Encoding": "gzip", "User-Agent": self.user_agent}
        if self.token:
            send_headers["Authorization"] = f"Bearer {self.token}"
        if json_body is not None:
            body = json.dumps(json_body, allow_nan=False).encode("utf-8")
            content_type = content_type or "application/json"
        if content_type:
            send_headers["Content-Type"] = content_type
        send_headers.update(headers or {})
        ok = frozenset(ok)

        attempts = self.retry.max_attempts if retry else 1
        attempt = 0
        while True:
            stream = None
            try:
                data: Any = None
                if callable(body):
                    stream, length = body()
                    data = stream
                    send_headers["Content-Length"] = str(length)
                elif body is not None:
                    data = body
                req = urllib.request.Request(url, data=data, method=method, headers=send_headers)
                try:
                    with self._opener.open(req, timeout=self.timeout) as r:
                        resp = Response(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
                except urllib.error.HTTPError as e:
                    resp = Response(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as e:
                if idempotent and attempt + 1 < attempts:
                    self.retry.sleep(self.retry.delay(attempt))
                    attempt += 1
                    continue
                reason = getattr(e, "reason", e)
                raise EmergenceConnectionError(None, "connection failed", detail=str(reason),
                                               method=method, url=url) from e
            finally:
                if stream is not None:
                    stream.close()
            if resp.headers.get("content-encoding", "").lower() == "gzip":
                resp.body = gzip.decompress(resp.body)
            if resp.status in ok:
                return resp
            if resp.status in RETRY_STATUSES and attempt + 1 < attempts:
                self.retry.sleep(self.retry.delay(attempt, resp.headers))
                attempt += 1
                continue
            raise EmergenceError.from_response(resp.status, _reason(resp.status), resp.body,
                                               resp.headers, method, url)

    # ------------------------------------------------------------------ one job poller

    def wait_for_job(self, path: str, *, progress: ProgressArg = True, timeout: Optional[float] = None,
                     first: Optional[Mapping[str, Any]] = None, poll_interval: float = 0.2,
                     max_poll_interval: float = 5.0, description: str = "job") -> Dict[str, Any]:
        """Poll ``GET path`` until the job's ``status`` is terminal; return its last document.

        Polls back off geometrically (×1.5 from ``poll_interval`` up to ``max_poll_interval``) so a
        long fit costs few requests.  ``progress``: True shows a tqdm bar when tqdm is installed
        (else nothing), a callable receives every polled document, False is quiet.  ``timeout``
        (seconds) raises ``WaitTimeout``; the job keeps running on the server.
        """
        reporter = make_reporter(progress, description)
        deadline = None if timeout is None else time.monotonic() + timeout
        interval = poll_interval
        job = dict(first) if first is not None else self._request("GET", path).json()
        try:
            while True:
                reporter(job)
                if job.get("status") in TERMINAL_STATUSES:
                    return job
                if deadline is not None and time.monotonic() + interval > deadline:
                    raise WaitTimeout(job, timeout or 0.0)
                self.retry.sleep(interval)
                interval = min(max_poll_interval, interval * 1.5)
                job = self._request("GET", path).json()
        finally:
            reporter.close()

    # ------------------------------------------------------------------ studies

    def create_study(self, name: str, *, exist_ok: bool = False, **fields: Any) -> Dict[str, Any]:
        """``POST /v1/studies``: fields ``task``, ``chance`` (accuracy floor), ``shots``, ``description``.

        With ``exist_ok`` a 409 (the name is taken) returns the existing study instead.  Retried on
        429/503 (nothing was created); a broken connection is not retried (it may have been created:
        call again with ``exist_ok=True``)."""
        body = {"name": name, **fields}
        try:
            return self._request("POST", "/v1/studies", json_body=body).json()
        except EmergenceError as e:
            if exist_ok and e.status == 409:
                return self.study(name)
            raise

    def study(self, study: Union[str, int]) -> Dict[str, Any]:
        """``GET /v1/studies/{study}`` (name or id)."""
        return self._request("GET", f"/v1/studies/{_segment(study)}").json()

    def studies(self, *, page_size: int = 100) -> Iterator[Dict[str, Any]]:
        """Every study, oldest first (follows ``next_cursor``)."""
        return self._pages("/v1/studies", "studies", {"limit": page_size})

    def delete_study(self, study: Union[str, int]) -> None:
        """``DELETE /v1/studies/{study}`` (needs the admin scope)."""
        self._request("DELETE", f"/v1/studies/{_segment(study)}")

    # ------------------------------------------------------------------ evaluations

    def upload(self, study: Union[str, int], source: Any, *, format: Optional[str] = None,
               compressed: Optional[bool] = None, ignore: Optional[Sequence[str]] = None,
               **fields: Any) -> Dict[str, Any]:
        """``POST /v1/studies/{study}/evaluations``; returns ``{format, inserted, updated, data_version,
        columns, ignored}`` (``columns``: the fields the rows carried).

        A column or key that is not an evaluation field is refused (422 naming it and the closest
        field) unless it is listed in ``ignore`` or named ``extra_…``.

        ``source`` is one of
          - rows: a list of evaluation dicts (``fields`` fill keys a row lacks);
          - a parsed lm-evaluation-harness results dict (one with ``results``);
          - a path: ``.csv``, ``.ndjson``/``.jsonl``, ``.json`` (an evaluation array, or a harness
            results file, told apart by its ``results`` key), each optionally ``.gz`` (sent as
            ``Content-Encoding: gzip``, streamed from disk);
          - bytes, with ``format`` (``csv``, ``ndjson``, ``json``, ``lm-eval-harness``).
        For a harness file, ``fields`` are what it lacks (``checkpoint``, ``pretrain_loss``,
        ``flops``, ``parameters``, ``tokens``, ``setting``, ``shots``, ``finetune_examples``,
        ``subset``, ``n_questions``, ``model``) and ``task``/``metric`` choose from it; they go as
        query parameters and override the file.  CSV and NDJSON files take no ``fields``.

        An upload is all or nothing, and re-sent rows update, so retrying a 429/503 or even a
        broken connection is safe (the request is idempotent)."""
        if format is not None and format not in CONTENT_TYPES:
            raise ValueError(f"format must be one of {sorted(CONTENT_TYPES)}, got {format!r}")
        query: Dict[str, Any] = {}
        headers: Dict[str, str] = {}
        body: Body
        if isinstance(source, Mapping):
            if "results" not in source:
                raise ValueError("a dict source must be an lm-evaluation-harness results file (with 'results')")
            query = _harness_query(fields)
            body, fmt = json.dumps(source, allow_nan=False).encode("utf-8"), "lm-eval-harness"
        elif isinstance(source, (list, tuple)):
            rows = [{**fields, **dict(r)} for r in source]
            body, fmt = json.dumps(rows, allow_nan=False).encode("utf-8"), "json"
        elif isinstance(source, (bytes, bytearray)):
            if format is None:
                raise ValueError("bytes need format= (csv, ndjson, json or lm-eval-harness)")
            body, fmt = bytes(source), format
            if compressed:
                headers["Content-Encoding"] = "gzip"
            if fmt == "lm-eval-harness":
                query = _harness_query(fields)
            elif fields:
                raise TypeError(f"fields {sorted(fields)} apply to rows and harness files, not {fmt} bytes")
        elif isinstance(source, (str, os.PathLike)):
            path = os.fspath(source)
            gz = path.endswith(".gz") if compressed is None else compressed
            fmt = format or _sniff_format(path, gz)
            if gz:
                headers["Content-Encoding"] = "gzip"
            if fmt == "lm-eval-harness":
                query = _harness_query(fields)
            elif fields:
                raise TypeError(f"fields {sorted(fields)} apply to rows and harness files, not a {fmt} file")
            body = _file_body(path)
        else:
            raise TypeError(f"cannot upload a {type(source).__name__}: give rows, a path, bytes or a harness dict")
        if ignore:
            query = {**query, "ignore": ",".join(ignore)}
        return self._request("POST", f"/v1/studies/{_segment(study)}/evaluations", query=query,
                             body=body, content_type=CONTENT_TYPES[fmt], headers=headers,
                             idempotent=True).json()

    def evaluations(self, study: Union[str, int], *, checkpoint: Optional[str] = None,
                    setting: Optional[str] = None, subset: Optional[str] = None,
                    page_size: int = 1000) -> Iterator[Dict[str, Any]]:
        """A study's evaluations in upload order (follows ``next_cursor``)."""
        return self._pages(f"/v1/studies/{_segment(study)}/evaluations", "evaluations",
                           {"limit": page_size, "checkpoint": checkpoint, "setting": setting, "subset": subset})

    # ------------------------------------------------------------------ fits and predictions

    def fit(self, study: Union[str, int], *, wait: bool = True, progress: ProgressArg = True,
            timeout: Optional[float] = None, raise_on_failure: bool = True, **options: Any) -> Dict[str, Any]:
        """Request a fit (``POST /v1/studies/{study}/fits``) and, with ``wait``, poll it to the end.

        ``options`` are the CLI's (``seed``, ``max_flops``, ``form``, ``d0``, ``delta``, ``noise``,
        ``uncertainty``, ``bootstrap``, ``resample``, ``mcmc_steps``, ``mcmc_walkers``,
        ``mcmc_burn_in``, ``scaling_law``, ``alpha_prior``); the server checks them (422 naming the
        field).  ``alpha_prior="pooled"`` fits with the lab's prior on α, pooled from the other
        studies of the study's pool (see ``pooled_alpha``); the result's ``alpha_prior`` records the
        exact prior used.  ``alpha_prior={"median": m, "log_sd": s}`` gives one by hand.  The same
        options on unchanged data return the existing fit.  Returns the fit document (``result`` is
        the ``emergence fit`` JSON once it succeeded).  A fit that ends failed, cancelled or
        timed_out raises ``FitFailed`` unless ``raise_on_failure`` is False.

        A 429 (queue full) means the fit was not queued, so it is retried after ``Retry-After``;
        the request is idempotent (identical requests share one fit), so a broken connection is
        retried too."""
        fit = self._request("POST", f"/v1/studies/{_segment(study)}/fits", json_body=options,
                            idempotent=True).json()
        if not wait:
            return fit
        fit = self.wait_for_job(f"/v1/fits/{fit['id']}", progress=progress, timeout=timeout,
                                first=fit, description=f"fit {fit['id']}")
        if raise_on_failure and fit.get("status") != "succeeded":
            raise FitFailed(fit)
        return fit

    def get_fit(self, fit_id: int) -> Dict[str, Any]:
        """``GET /v1/fits/{id}``: status, progress and, once succeeded, ``result``."""
        return self._request("GET", f"/v1/fits/{int(fit_id)}").json()

    def wait_fit(self, fit_id: int, **kwargs: Any) -> Dict[str, Any]:
        """Wait for an existing fit (``wait_for_job``'s arguments)."""
        return self.wait_for_job(f"/v1/fits/{int(fit_id)}", description=f"fit {fit_id}", **kwargs)

    def cancel_fit(self, fit_id: int) -> Dict[str, Any]:
        """``DELETE /v1/fits/{id}``: cancels a queued or running fit (409 once it has ended)."""
        return self._request("DELETE", f"/v1/fits/{int(fit_id)}").json()

    def fits(self, study: Union[str, int], *, status: Optional[str] = None,
             page_size: int = 100) -> Iterator[Dict[str, Any]]:
        """A study's fits, newest first, without results."""
        return self._pages(f"/v1/studies/{_segment(study)}/fits", "fits", {"limit": page_size, "status": status})

    def prediction(self, study: Union[str, int]) -> Dict[str, Any]:
        """``GET /v1/studies/{study}/prediction``: the newest succeeded fit's document (its
        ``result`` is the prediction).  Sends the last ``ETag`` seen, so an unchanged prediction
        costs a 304 and is answered from memory.  404 (an ``EmergenceError``) until a fit succeeded."""
        path = f"/v1/studies/{_segment(study)}/prediction"
        cached = self._etags.get(path)
        headers = {"If-None-Match": cached[0]} if cached else None
        resp = self._request("GET", path, headers=headers, ok=(200, 304))
        if resp.status == 304 and cached:
            return cached[1]
        doc = resp.json()
        etag = resp.headers.get("etag")
        if etag:
            self._etags[path] = (etag, doc)
        return doc

    def pooled_alpha(self, pool: Optional[str] = None) -> Dict[str, Any]:
        """``GET /v1/priors/alpha``: the lab's pooled prior on the curvature α (``mu``, ``tau``
        with their 90% intervals, the ``prior`` a new study's fit gets), the studies ``used`` (with
        what each one's own data say of α) and those ``left_out``, with why.  ``pool``: only the
        studies tagged so (``create_study(..., pool=TAG)``); none: every study.  ``mu`` and
        ``prior`` are None while fewer than ``minimum_studies`` studies can feed it."""
        return self._request("GET", "/v1/priors/alpha", query={"pool": pool}).json()

    # ------------------------------------------------------------------ workflow jobs

    def observe(self, study: Union[str, int], *, wait: bool = True, **options: Any) -> Dict[str, Any]:
        """``POST /v1/studies/{study}/observations``: the emergence observed in every checkpoint
        (``emergence observe``; options ``bootstrap``, ``seed``, ``axis``, ``max_flops``,
        ``scaling_law``).  Returns the job document (``result`` once it succeeded).  ``wait``,
        ``progress``, ``timeout`` and ``raise_on_failure`` as in ``fit``."""
        return self._job(f"/v1/studies/{_segment(study)}/observations", options, wait, "observation")

    def backtest(self, study: Union[str, int], cutoffs: Iterable[float], *, wait: bool = True,
                 **options: Any) -> Dict[str, Any]:
        """``POST /v1/studies/{study}/backtests``: one fit under each compute cutoff (FLOPs) against
        the observed emergence (``emergence backtest``; ``observe_bootstrap`` and every fit option
        but ``max_flops``).  Its chart is ``backtest_plot(job_id)``."""
        return self._job(f"/v1/studies/{_segment(study)}/backtests", {**options, "cutoffs": list(cutoffs)},
                         wait, "backtest")

    def compare(self, a: Union[str, int], b: Union[str, int], *, wait: bool = True, **options: Any) -> Dict[str, Any]:
        """``POST /v1/comparisons``: two studies (by name or id) fitted alike and compared
        (``emergence compare``)."""
        return self._job("/v1/comparisons", {**options, "a": str(a), "b": str(b)}, wait, "comparison")

    def ablate(self, study: Union[str, int], *, wait: bool = True, **options: Any) -> Dict[str, Any]:
        """``POST /v1/studies/{study}/ablations``: the fit refitted without each data amount, form,
        … (``emergence ablate``)."""
        return self._job(f"/v1/studies/{_segment(study)}/ablations", options, wait, "ablation")

    def advise(self, study: Union[str, int], *, wait: bool = True, **options: Any) -> Dict[str, Any]:
        """``POST /v1/studies/{study}/advice``: what data to collect next (``emergence advise``)."""
        return self._job(f"/v1/studies/{_segment(study)}/advice", options, wait, "advice")

    def job(self, job_id: int) -> Dict[str, Any]:
        """``GET /v1/jobs/{id}``: a job of any kind (status, progress, options, result)."""
        return self._request("GET", f"/v1/jobs/{int(job_id)}").json()

    def cancel_job(self, job_id: int) -> Dict[str, Any]:
        """``DELETE /v1/jobs/{id}``: cancels a queued or running job (409 once it has ended)."""
        return self._request("DELETE", f"/v1/jobs/{int(job_id)}").json()

    def backtest_plot(self, job_id: int) -> bytes:
        """``GET /v1/jobs/{id}/plots/backtest.svg``: a succeeded back-test's chart (SVG bytes);
        409 while it runs, 404 for a job of another kind."""
        return self._request("GET", f"/v1/jobs/{int(job_id)}/plots/backtest.svg",
                             headers={"Accept": "image/svg+xml, application/problem+json"}).body

    def _job(self, path: str, body: Dict[str, Any], wait: bool, kind: str) -> Dict[str, Any]:
        """POST a workflow job and, with ``wait``, poll ``/v1/jobs/{id}`` to its end.  ``body`` may
        hold ``progress``, ``timeout`` and ``raise_on_failure`` (taken out: they are the poller's,
        not the server's).  Identical requests on unchanged data share one job, so the POST is
        idempotent (retried after a broken connection)."""
        progress = body.pop("progress", True)
        timeout = body.pop("timeout", None)
        raise_on_failure = body.pop("raise_on_failure", True)
        job = self._request("POST", path, json_body=body, idempotent=True).json()
        if not wait:
            return job
        job = self.wait_for_job(f"/v1/jobs/{job['id']}", progress=progress, timeout=timeout,
                                first=job, description=f"{kind} {job['id']}")
        if raise_on_failure and job.get("status") != "succeeded":
            raise FitFailed(job)
        return job

    # ------------------------------------------------------------------ service

    def health(self) -> Dict[str, Any]:
        return self._request("GET", "/healthz").json()

    def ready(self) -> Dict[str, Any]:
        """``GET /readyz``; a 503 (not ready) raises ``EmergenceError`` at once, without retries."""
        return self._request("GET", "/readyz", retry=False).json()

    # ------------------------------------------------------------------ helpers

    def _pages(self, path: str, key: str, query: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
        cursor: Optional[str] = None
        while True:
            page = self._request("GET", path, query={**query, "cursor": cursor}).json()
            yield from page.get(key, [])
            cursor = page.get("next_cursor")
            if not cursor:
                return


def _harness_query(fields: Mapping[str, Any]) -> Dict[str, Any]:
    unknown = sorted(set(fields) - set(HARNESS_FIELDS))
    if unknown:
        raise TypeError(f"unknown harness fields {unknown}; known: {', '.join(HARNESS_FIELDS)}")
    return {k: v for k, v in fields.items() if v is not None}


def _sniff_format(path: str, gz: bool) -> str:
    """Format from the file name; a ``.json`` file is a harness file when its top level has ``results``."""
    name = path[:-3] if path.endswith(".gz") else path
    lower = name.lower()
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith((".ndjson", ".jsonl")):
        return "ndjson"
    if lower.endswith(".json"):
        opener = gzip.open if gz else open
        with opener(path, "rb") as f:  # type: ignore[operator]
            head = f.read(1 << 16).lstrip()
        if head.startswith(b"{") and b'"evaluations"' not in head[:4096]:
            return "lm-eval-harness"
        return "json"
    raise ValueError(f"{path}: cannot tell the format from the name; pass format= "
                     "(csv, ndjson, json or lm-eval-harness)")


def _file_body(path: str) -> Callable[[], Tuple[io.BufferedIOBase, int]]:
    """Opens the file afresh for each attempt, so a retry re-sends it whole; streamed, not read into memory."""
    size = os.path.getsize(path)

    def open_body() -> Tuple[io.BufferedIOBase, int]:
        return open(path, "rb"), size  # type: ignore[return-value]

    return open_body


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"

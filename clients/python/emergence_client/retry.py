"""When and how long to wait before sending a request again.

The server answers 429 (too many fits queued: the fit was *not* queued) and 503 (request-body
budget or upload slots full, decided from the request head before the body was read; a busy
database, after which the upload's transaction was rolled back) with ``Retry-After``.  In each
case nothing was stored, so sending the same request again is safe even for a POST.  The client
therefore retries 429 and 503 on every route, and retries a broken connection (no answer at all,
so we cannot tell whether the server acted) only on requests marked idempotent.

Delay before retry n (0-based): ``Retry-After`` when the answer has one (seconds or an HTTP date,
capped at ``max_delay``); otherwise "full jitter" exponential backoff,
``uniform(0, min(max_delay, base · 2**n))``, which spreads clients that failed together.
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional

#: Statuses after which the server guarantees it did nothing (see the module docstring).
RETRY_STATUSES = frozenset({429, 503})


def retry_after_seconds(headers: Mapping[str, str], now: Optional[float] = None) -> Optional[float]:
    """``Retry-After`` as seconds to wait (RFC 9110 §10.2.3: delay-seconds or an HTTP-date), or None."""
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    if raw.isdigit():
        return float(int(raw))
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


@dataclass
class RetryPolicy:
    """Bounded retries: at most ``max_attempts`` sends of one request (so ``max_attempts - 1`` retries).

    ``sleep`` and ``rng`` are injectable so tests can see the delays without waiting for them.
    """

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, retry: int, headers: Optional[Mapping[str, str]] = None) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first retry)."""
        if headers is not None:
            after = retry_after_seconds(headers)
            if after is not None:
                return min(after, self.max_delay)
        return self.rng.uniform(0.0, min(self.max_delay, self.base_delay * (2.0 ** retry)))

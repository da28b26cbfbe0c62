"""Webhook channel: POST each notice as JSON, HMAC-signed, with an idempotency key.

Wire format and how a receiver verifies it: ``docs/webhook.md``. In short:

- body: :meth:`Notice.to_json` plus ``sent_at`` (wall-clock epoch seconds of this attempt);
  compact UTF-8 JSON; non-finite numbers are sent as ``null`` (strict JSON parsers reject NaN);
- ``Idempotency-Key: {alert key}#{version}``: the same on every retry, so receivers dedupe;
- with a secret: ``X-Yujing-Signature: sha256=<hex HMAC-SHA256(secret, exact body bytes)>`` and
  ``X-Yujing-Timestamp`` (equal to the body's ``sent_at``, which the signature covers).

Outcome → what the dispatcher does: 2xx delivered; 408, 429, 5xx, timeouts and connection errors
retryable; any other status (bad request, auth, 3xx to a moved URL) not retryable, because
sending the same bytes again gets the same answer.

Errors and logs show the URL as ``scheme://host:port`` only: webhook URLs often carry a token
in their path or query (Alertmanager's ``RedactURL`` for the same reason).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
from collections.abc import Callable
from typing import Any

import httpx

from alerting.model import Delivery
from alerting.notifiers._http import check_url, post, redact_url
from yujing.contracts import Notice

__all__ = ["WebhookNotifier", "encode_body", "redact_url", "sign_body"]

USER_AGENT = "yujing-webhook/1"  # the wire-format version; bumped only on breaking changes


def sign_body(secret: bytes, body: bytes) -> str:
    """The ``X-Yujing-Signature`` value for ``body``: ``sha256=`` + hex HMAC-SHA256."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def encode_body(notice: Notice, sent_at: float) -> bytes:
    """The exact bytes posted (and signed) for one attempt."""
    payload: dict[str, Any] = notice.to_json()
    payload["sent_at"] = sent_at
    for name, value in payload.items():
        if isinstance(value, float) and not math.isfinite(value):
            payload[name] = None
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class WebhookNotifier:
    """POSTs notices to ``url``. Pass ``client`` to share a connection pool (the caller then
    closes it); otherwise the notifier owns one and closes it in :meth:`close`.

    ``wall_clock`` stamps ``sent_at``; it is the one clock read here, for the receiver's
    freshness check, never for alerting decisions.
    """

    def __init__(
        self,
        name: str,
        url: str,
        secret: bytes | None = None,
        timeout_s: float = 5.0,
        client: httpx.AsyncClient | None = None,
        *,
        is_public: bool = False,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        parsed = check_url(f"webhook {name}", url)
        if timeout_s <= 0:
            raise ValueError(f"webhook {name}: timeout_s {timeout_s} must be above 0")
        if secret is not None and not secret:
            raise ValueError(f"webhook {name}: secret is empty (pass None for no signature)")
        self.name = name
        self.is_public = is_public
        self._url = parsed
        self._where = redact_url(parsed)
        self._secret = secret
        self._timeout_s = timeout_s
        self._wall_clock = wall_clock
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient()

    def __repr__(self) -> str:
        return f"WebhookNotifier(name={self.name!r}, url={self._where!r})"

    async def send(self, delivery: Delivery) -> None:
        sent_at = round(self._wall_clock(), 3)
        body = encode_body(delivery.notice, sent_at)
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": delivery.idempotency_key,
            "User-Agent": USER_AGENT,
        }
        if self._secret is not None:
            headers["X-Yujing-Signature"] = sign_body(self._secret, body)
            headers["X-Yujing-Timestamp"] = repr(sent_at)
        await post(
            self._client,
            f"webhook {self.name}",
            self._url,
            timeout_s=self._timeout_s,
            headers=headers,
            content=body,
        )

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()

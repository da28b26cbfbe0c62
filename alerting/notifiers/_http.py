"""One HTTP POST with the outcome rules every HTTP channel shares (webhook, SMS gateway,
Alertmanager): 2xx delivered; 408, 429, 5xx, timeouts and connection errors retryable; any other
status not retryable (the same request would get the same answer). Errors and logs show the
URL as ``scheme://host:port`` only: URLs often carry tokens (Alertmanager's ``RedactURL``)."""

from __future__ import annotations

from typing import Any

import httpx

from yujing.contracts import DeliveryError

__all__ = ["post", "redact_url"]

_RETRYABLE_4XX = frozenset({408, 429})
_EXCERPT_CHARS = 200


def redact_url(url: httpx.URL) -> str:
    """``scheme://host[:port]``: enough to find the receiver, no path or query secrets."""
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{url.host}{port}"


def check_url(channel: str, url: str) -> httpx.URL:
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"{channel}: url must be http(s)://host/..., got {redact_url(parsed)!r}")
    return parsed


async def post(
    client: httpx.AsyncClient,
    channel: str,
    url: httpx.URL,
    *,
    timeout_s: float,
    headers: dict[str, str],
    **body: Any,
) -> httpx.Response:
    """POST ``body`` (``content=``, ``json=`` or ``data=``); raise DeliveryError unless 2xx."""
    where = redact_url(url)
    try:
        response = await client.post(url, headers=headers, timeout=timeout_s, **body)
    except httpx.UnsupportedProtocol as exc:
        raise DeliveryError(_error(channel, where, exc), retryable=False) from exc
    except httpx.RequestError as exc:  # connect/read/write errors and timeouts
        raise DeliveryError(_error(channel, where, exc), retryable=True) from exc
    status = response.status_code
    if 200 <= status < 300:
        return response
    excerpt = response.text[:_EXCERPT_CHARS].strip()
    message = f"{channel}: HTTP {status} from {where}"
    if excerpt:
        message += f": {excerpt}"
    raise DeliveryError(message, retryable=status >= 500 or status in _RETRYABLE_4XX)


def _error(channel: str, where: str, exc: Exception) -> str:
    detail = str(exc) or "no detail"
    return f"{channel}: {type(exc).__name__} to {where}: {detail}"

"""Acknowledgement links for SMS and e-mail: a short code that names officer, alert and drill
flag, signed with that officer's own API token.

The link never carries the token itself (an SMS is read by phones, gateways and link previewers),
only an HMAC-SHA256 of the payload under it, cut to 96 bits. Whoever holds the link can
acknowledge that one alert as that officer, and nothing else. Opening the link shows a page with
a button; the acknowledgement is the button's POST, so a link previewer that fetches the URL
acknowledges nothing (``docs/api.md``).

>>> links = AckLinks("http://duty.example:9110", {"li.wei": "s3cret"})
>>> from yujing.contracts import AlertKey, Hazard
>>> url = links.url("li.wei", AlertKey("district-a", Hazard.FLOOD, "group"), False)
>>> url.startswith("http://duty.example:9110/ack/")
True
>>> links.verify(url.rsplit("/", 1)[1])
('li.wei', AlertKey(area='district-a', hazard=<Hazard.FLOOD: 'flood'>, rule='group'), False)
>>> links.verify(url.rsplit("/", 1)[1][:-2] + "xx") is None
True
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

from yujing.contracts import AlertKey

__all__ = ["AckLinks"]

_SIG_BYTES = 12


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class AckLinks:
    """Makes and checks acknowledgement codes. ``tokens``: officer id → API token."""

    def __init__(self, base_url: str, tokens: Mapping[str, str]) -> None:
        self.base_url = base_url.rstrip("/")
        self._tokens = dict(tokens)

    def _sign(self, officer: str, payload: bytes) -> str:
        token = self._tokens[officer].encode()
        return _b64(hmac.new(token, payload, hashlib.sha256).digest()[:_SIG_BYTES])

    def code(self, officer: str, key: AlertKey, is_drill: bool) -> str | None:
        if officer not in self._tokens:
            return None
        payload = f"{officer}\n{key}\n{int(is_drill)}".encode()
        return f"{_b64(payload)}.{self._sign(officer, payload)}"

    def url(self, officer: str, key: AlertKey, is_drill: bool) -> str:
        """The link for ``officer``; "" when the officer has no token."""
        code = self.code(officer, key, is_drill)
        return "" if code is None else f"{self.base_url}/ack/{code}"

    def verify(self, code: str) -> tuple[str, AlertKey, bool] | None:
        """(officer, alert key, is_drill) for a genuine code, else None."""
        try:
            body, signature = code.split(".", 1)
            payload = _unb64(body)
            officer, key_text, drill = payload.decode().split("\n")
            key = AlertKey.parse(key_text)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None
        if officer not in self._tokens or drill not in ("0", "1"):
            return None
        if not hmac.compare_digest(signature, self._sign(officer, payload)):
            return None
        return officer, key, drill == "1"

"""SMS through a provider's HTTP API: one templated request per officer, provider-agnostic.

Gateways differ only in the shape of their request, so the shape is configuration
(``notify.sms[]`` in ``docs/configuration.md``): the URL, JSON or form encoding, and
``fields``: request field → template over the text fields of :mod:`alerting.notifiers.text`
plus ``{text}`` (the rendered message) and ``{phone}`` (the officer's number). For example, a
gateway that wants ``{"mobile": …, "content": …, "sign": "市应急局"}``::

    fields: {mobile: "{phone}", content: "{text}", sign: "市应急局"}

The provider's API key comes from ``token_file`` and is sent in ``auth_header`` (default
``Authorization: Bearer <key>``). Every request carries ``Idempotency-Key:
{alert key}#{version}@{officer}`` for gateways that dedupe. Outcome rules are those of every HTTP
channel (:mod:`alerting.notifiers._http`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import httpx

from alerting.model import Delivery
from alerting.notifiers import text
from alerting.notifiers._http import check_url, post, redact_url
from yujing.contracts import DeliveryError

__all__ = ["SmsNotifier"]

USER_AGENT = "yujing-sms/1"


class SmsNotifier:
    def __init__(
        self,
        name: str,
        url: str,
        *,
        fields: Mapping[str, str] | None = None,
        text_template: str = text.DEFAULT_SMS,
        body_format: Literal["json", "form"] = "json",
        headers: Mapping[str, str] | None = None,
        token: str | None = None,
        auth_header: str = "Authorization",
        auth_scheme: str = "Bearer",
        timeout_s: float = 5.0,
        is_public: bool = False,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.name = name
        self.is_public = is_public
        self._url = check_url(f"sms {name}", url)
        self._fields = dict(fields or {"to": "{phone}", "text": "{text}"})
        for key, template in self._fields.items():
            try:
                text.check_template(template, extra=("text", "phone"))
            except ValueError as exc:
                raise ValueError(f"sms {name}: fields.{key}: {exc}") from None
        self._text = text.check_template(text_template)
        self._format = body_format
        self._headers = {"User-Agent": USER_AGENT, **dict(headers or {})}
        if token:
            self._headers[auth_header] = f"{auth_scheme} {token}".strip()
        self._timeout_s = timeout_s
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient()

    def __repr__(self) -> str:
        return f"SmsNotifier(name={self.name!r}, url={redact_url(self._url)!r})"

    def message(self, delivery: Delivery) -> str:
        return text.render(self._text, delivery)

    async def send(self, delivery: Delivery) -> None:
        if not delivery.address:
            raise DeliveryError(f"sms {self.name}: no phone number", retryable=False)
        values = {"text": self.message(delivery), "phone": delivery.address}
        payload = {k: text.fill(v, delivery, values) for k, v in self._fields.items()}
        headers = {**self._headers, "Idempotency-Key": delivery.idempotency_key}
        body = {"json": payload} if self._format == "json" else {"data": payload}
        await post(
            self._client,
            f"sms {self.name}",
            self._url,
            timeout_s=self._timeout_s,
            headers=headers,
            **body,
        )

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()

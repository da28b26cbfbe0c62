"""Alertmanager-compatible push: ``POST {url}/api/v2/alerts`` with a JSON list of alerts.

Each alert is identified in Alertmanager by its labels::

    alertname="yujing_<hazard>", key, area, district, hazard, rule, grade, severity (= grade),
    exercise="true" (drills only)

Because ``grade`` is a label, a change of grade is a different Alertmanager alert: an UPGRADED
or DOWNGRADED notice posts the old label set with ``endsAt`` = now and the new one firing; a
RESOLVED notice ends the current one. Annotations carry the text (summary, description, stations,
measure, version, idempotency key).

Alertmanager resolves an alert it has not heard of for ``resolve_timeout`` (default 5 min), as
Prometheus re-sends every evaluation. This notifier does the same: it keeps the alerts it has
fired and posts them all again every ``repush_s`` (default 60 s). After a restart the service
seeds it with the book's active alerts (:meth:`AlertmanagerNotifier.seed`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from alerting.model import Delivery
from alerting.notifiers import text
from alerting.notifiers._http import check_url, post
from yujing.contracts import Alert, DeliveryError, Grade, Notice, NoticeReason

__all__ = ["AlertmanagerNotifier", "am_alerts"]

logger = logging.getLogger(__name__)
USER_AGENT = "yujing-alertmanager/1"


def _rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _labels(key_area: str, notice_like: Notice | Alert, grade: Grade) -> dict[str, str]:
    key = notice_like.key
    labels = {
        "alertname": f"yujing_{key.hazard.value}",
        "key": str(key),
        "area": key_area,
        "district": notice_like.district,
        "hazard": key.hazard.value,
        "rule": key.rule,
        "grade": grade.value,
        "severity": grade.value,
    }
    if notice_like.is_drill:
        labels["exercise"] = "true"
    return labels


def am_alerts(
    notice: Notice, now: float, starts_at: float, generator_url: str
) -> list[dict[str, Any]]:
    """The Alertmanager alerts to post for ``notice`` at wall time ``now``."""
    delivery = Delivery(notice, "alertmanager")
    fields = text.fields(delivery)
    annotations = {
        "summary": f"{fields['tag']}{notice.grade.value} {notice.hazard.value} at "
        f"{fields['stations']} ({notice.reason.value})",
        "description": notice.message,
        "stations": fields["stations"],
        "measure": fields["measure"],
        "version": str(notice.version),
        "reason": notice.reason.value,
        "idempotency_key": notice.idempotency_key,
    }
    out: list[dict[str, Any]] = []
    grade_changed = notice.previous_grade is not notice.grade
    if notice.previous_grade.is_warning and (
        grade_changed or notice.reason is NoticeReason.RESOLVED
    ):
        out.append(
            {
                "labels": _labels(notice.key.area, notice, notice.previous_grade),
                "annotations": annotations,
                "startsAt": _rfc3339(starts_at),
                "endsAt": _rfc3339(now),
                "generatorURL": generator_url,
            }
        )
    if notice.grade.is_warning:
        out.append(
            {
                "labels": _labels(notice.key.area, notice, notice.grade),
                "annotations": annotations,
                "startsAt": _rfc3339(starts_at),
                "generatorURL": generator_url,
            }
        )
    return out


class AlertmanagerNotifier:
    def __init__(
        self,
        name: str,
        url: str,
        *,
        timeout_s: float = 5.0,
        repush_s: float = 60.0,
        generator_url: str = "",
        is_public: bool = False,
        client: httpx.AsyncClient | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        base = check_url(f"alertmanager {name}", url)
        self.name = name
        self.is_public = is_public
        self._url = base.join("/api/v2/alerts")
        self._timeout_s = timeout_s
        self._repush_s = repush_s
        self._generator_url = generator_url
        self._wall_clock = wall_clock
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient()
        self._firing: dict[tuple[str, bool], dict[str, Any]] = {}
        self._starts: dict[tuple[str, bool], float] = {}
        self._task: asyncio.Task[None] | None = None

    def seed(self, alerts: Sequence[Alert]) -> None:
        """Alerts active at start (after a restart): re-pushed like the ones sent since."""
        for alert in alerts:
            slot = (str(alert.key), alert.is_drill)
            self._starts[slot] = alert.first_ts
            self._firing[slot] = {
                "labels": _labels(alert.key.area, alert, alert.grade),
                "annotations": {"summary": f"{alert.grade.value} {alert.key.hazard.value}"},
                "startsAt": _rfc3339(alert.first_ts),
                "generatorURL": self._generator_url,
            }
        self._start_repush()

    def _start_repush(self) -> None:
        if self._task is None and self._repush_s > 0 and self._firing:
            self._task = asyncio.create_task(self._repush(), name=f"repush:{self.name}")

    async def send(self, delivery: Delivery) -> None:
        notice = delivery.notice
        slot = (str(notice.key), notice.is_drill)
        if notice.reason is NoticeReason.FIRED:
            self._starts[slot] = notice.ts
        starts_at = self._starts.get(slot, notice.ts)
        alerts = am_alerts(notice, self._wall_clock(), starts_at, self._generator_url)
        await self._post(alerts)
        if notice.grade.is_warning:
            self._firing[slot] = alerts[-1]
        else:
            self._firing.pop(slot, None)
            self._starts.pop(slot, None)
        self._start_repush()

    async def _post(self, alerts: list[dict[str, Any]]) -> None:
        await post(
            self._client,
            f"alertmanager {self.name}",
            self._url,
            timeout_s=self._timeout_s,
            headers={"User-Agent": USER_AGENT},
            json=alerts,
        )

    async def _repush(self) -> None:
        while True:
            await asyncio.sleep(self._repush_s)
            if not self._firing:
                continue
            try:
                await self._post(list(self._firing.values()))
            except DeliveryError as exc:
                logger.warning("alertmanager re-push failed", extra={"error": str(exc)})

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._owns_client:
            await self._client.aclose()

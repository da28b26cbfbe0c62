"""Human text for officer channels (SMS, e-mail): one set of fields, templates in settings.

A template is a Python format string over :data:`FIELDS`, e.g. the default SMS::

    {tag}【{grade_zh}{hazard_zh}预警·{reason_zh}】{district} {stations}{measure_text}。{ack_hint}

:func:`check_template` refuses unknown fields when settings are loaded, so a typo fails at start,
not at 3 a.m. Drills always carry the ``{tag}`` 【演练 EXERCISE】 — templates without ``{tag}``
get it prefixed anyway, so an exercise can never read as the real thing.

>>> from yujing.contracts import AlertKey, AlertState, Grade, Hazard, Notice, NoticeReason
>>> from alerting.model import Delivery
>>> n = Notice(AlertKey("district-a", Hazard.FLOOD, "group"), 3, NoticeReason.FIRED, Grade.RED,
...            Grade.NONE, AlertState.FIRING, "district-a", 1780000000.0, value=5.2,
...            threshold=5.0, quantity="level_m", stations=("S003", "S004"))
>>> render(DEFAULT_SMS, Delivery(n, "sms", "li", "+86138", "李伟", "http://x/ack/c"))
'【红色洪水预警·发布】district-a S003, S004 (level_m 5.2 ≥ 5.0)。确认请点 http://x/ack/c'
"""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta, timezone

from alerting.model import Delivery
from yujing.contracts import Grade, Hazard, NoticeReason

__all__ = [
    "DEFAULT_EMAIL_BODY",
    "DEFAULT_EMAIL_SUBJECT",
    "DEFAULT_SMS",
    "FIELDS",
    "check_template",
    "fields",
    "fill",
    "render",
]

GRADE_ZH = {
    Grade.NONE: "解除",
    Grade.BLUE: "蓝色",
    Grade.YELLOW: "黄色",
    Grade.ORANGE: "橙色",
    Grade.RED: "红色",
    Grade.UNKNOWN: "未知",
}
HAZARD_ZH = {
    Hazard.RAINSTORM: "暴雨",
    Hazard.FLOOD: "洪水",
    Hazard.PONDING: "内涝",
    Hazard.GAS_LEAK: "燃气泄漏",
    Hazard.TOXIC_GAS: "有毒气体",
    Hazard.TANK: "储罐",
    Hazard.EARTHQUAKE: "地震",
    Hazard.SENSOR: "监测设备",
    Hazard.FLASH_FLOOD: "山洪",
    Hazard.DEBRIS_FLOW: "泥石流",
    Hazard.TANK_INTEGRITY: "储罐完整性",
    Hazard.ANOMALY: "异常",
}
REASON_ZH = {
    NoticeReason.FIRED: "发布",
    NoticeReason.UPGRADED: "升级",
    NoticeReason.DOWNGRADED: "降级",
    NoticeReason.RESOLVED: "解除",
    NoticeReason.ACKNOWLEDGED: "已确认",
    NoticeReason.ESCALATED: "未确认·已逐级上报",
    NoticeReason.REMINDER: "提醒",
}
DRILL_TAG = "【演练 EXERCISE】"
LOCAL = timezone(timedelta(hours=8))

FIELDS = (
    "tag", "grade", "grade_zh", "hazard", "hazard_zh", "reason", "reason_zh", "district", "area",
    "rule", "key", "version", "idempotency_key", "stations", "station_count", "measure",
    "measure_text", "message", "ack_url", "ack_hint", "officer", "officer_name", "time",
    "time_utc", "state",
)  # fmt: skip

DEFAULT_SMS = (
    "{tag}【{grade_zh}{hazard_zh}预警·{reason_zh}】{district} {stations}{measure_text}。{ack_hint}"
)
DEFAULT_EMAIL_SUBJECT = (
    "{tag}[yujing] {grade_zh}{hazard_zh}预警 {reason_zh}: {district} ({key} v{version})"
)
DEFAULT_EMAIL_BODY = """{tag}{grade_zh}{hazard_zh}预警 · {reason_zh}
{grade} {hazard} warning, {reason}

区域 District: {district}
站点 Stations ({station_count}): {stations}
测值 Measured: {measure}
说明 Message: {message}
时间 Time: {time} (UTC {time_utc})
告警 Alert: {key}, version {version}, state {state}

{ack_hint}

— yujing 预警 (idempotency key {idempotency_key})
"""


def _number(x: float) -> str:
    x = float(x)
    return f"{x:.1f}" if x.is_integer() and abs(x) < 1e6 else f"{x:.4g}"


def fields(delivery: Delivery) -> dict[str, str]:
    n = delivery.notice
    measure = ""
    if n.value is not None:
        measure = f"{n.quantity} {_number(n.value)}".strip()
        if n.threshold is not None:
            measure += f" {'≥' if n.value >= n.threshold else '<'} {_number(n.threshold)}"
    stations = ", ".join(n.stations) if n.stations else n.key.area
    ack_hint = ""
    if delivery.ack_url and n.reason is not NoticeReason.RESOLVED:
        ack_hint = f"确认请点 {delivery.ack_url}"
    return {
        "tag": DRILL_TAG if n.is_drill else "",
        "grade": n.grade.value,
        "grade_zh": GRADE_ZH[n.grade if n.grade is not Grade.NONE else n.previous_grade],
        "hazard": n.hazard.value,
        "hazard_zh": HAZARD_ZH.get(n.hazard, n.hazard.value),
        "reason": n.reason.value,
        "reason_zh": REASON_ZH[n.reason],
        "district": n.district,
        "area": n.key.area,
        "rule": n.key.rule,
        "key": str(n.key),
        "version": str(n.version),
        "idempotency_key": delivery.idempotency_key,
        "stations": stations,
        "station_count": str(len(n.stations) or 1),
        "measure": measure or "-",
        "measure_text": f" ({measure})" if measure else "",
        "message": n.message,
        "ack_url": delivery.ack_url,
        "ack_hint": ack_hint,
        "officer": delivery.officer,
        "officer_name": delivery.officer_name or delivery.officer,
        "time": datetime.fromtimestamp(n.ts, LOCAL).strftime("%Y-%m-%d %H:%M:%S +08:00"),
        "time_utc": datetime.fromtimestamp(n.ts, UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "state": n.state.value,
    }


def check_template(template: str, extra: tuple[str, ...] = ()) -> str:
    """``template`` if every field it names exists, else ValueError naming the unknown ones."""
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    except ValueError as exc:
        raise ValueError(f"template {template!r}: {exc}") from None
    unknown = sorted({name for name in names if name not in FIELDS + extra})
    if unknown:
        raise ValueError(f"template names unknown fields {unknown}; known: {', '.join(FIELDS)}")
    return template


def render(template: str, delivery: Delivery) -> str:
    """The message text; a drill's always carries :data:`DRILL_TAG`."""
    text = template.format_map(fields(delivery)).strip()
    if delivery.notice.is_drill and DRILL_TAG not in text:
        text = DRILL_TAG + text
    return text


def fill(template: str, delivery: Delivery, extra: dict[str, str]) -> str:
    """A request field (no drill tag added: it may be a phone number)."""
    return template.format_map({**fields(delivery), **extra})

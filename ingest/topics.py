"""The MQTT topic scheme ``{prefix}/{district}/{kind}/{station}`` (DESIGN §3).

The wire-format version lives in the prefix (``yujing/v1``), so a v2 body can run beside v1 on
the same broker without either side guessing. Station and district ids follow the registry's
id rule; ``kind`` must be a :class:`~yujing.contracts.Kind`.

>>> reading_topic("yujing/v1", "haidian", Kind.RAIN, "HD-R01")
'yujing/v1/haidian/rain/HD-R01'
>>> parse_topic("yujing/v1/haidian/rain/HD-R01")
TopicParts(district='haidian', kind=<Kind.RAIN: 'rain'>, station='HD-R01')
>>> subscription("yujing/v1")
'yujing/v1/+/+/+'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from yujing.config.stations import STATION_ID
from yujing.contracts import Kind, PayloadRejected, RejectReason

DEFAULT_PREFIX = "yujing/v1"
_ID = re.compile(STATION_ID)
_KINDS = {kind.value: kind for kind in Kind}


@dataclass(frozen=True, slots=True)
class TopicParts:
    """What a reading topic says about its sender (to be checked against the registry)."""

    district: str
    kind: Kind
    station: str


def reading_topic(prefix: str, district: str, kind: Kind, station: str) -> str:
    """The topic a station publishes its readings on."""
    return f"{prefix}/{district}/{kind.value}/{station}"


def subscription(prefix: str) -> str:
    """The one filter that receives every reading under ``prefix`` (and nothing deeper)."""
    return f"{prefix}/+/+/+"


def parse_topic(topic: str, prefix: str = DEFAULT_PREFIX) -> TopicParts:
    """Split a reading topic; raise ``PayloadRejected(bad_topic)`` naming the faulty part."""
    head = prefix + "/"
    if not topic.startswith(head):
        raise _bad(topic, f"not under {head!r}")
    parts = topic[len(head) :].split("/")
    if len(parts) != 3:
        raise _bad(topic, f"expected {head}{{district}}/{{kind}}/{{station}}")
    district, kind_text, station = parts
    kind = _KINDS.get(kind_text)
    if kind is None:
        raise _bad(topic, f"unknown kind {kind_text!r} (known: {', '.join(_KINDS)})")
    for name, value in (("district", district), ("station", station)):
        if not _ID.fullmatch(value):
            raise _bad(topic, f"{name} {value!r} must match {STATION_ID}")
    return TopicParts(district, kind, station)


def _bad(topic: str, problem: str) -> PayloadRejected:
    return PayloadRejected(RejectReason.BAD_TOPIC, f"topic {topic[:200]!r}: {problem}")

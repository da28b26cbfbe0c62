"""What travels on the Kafka topics of the scale-out runtime, and which partition it goes to.

Every record says what it is in the ``yujing-type`` header; values are plain JSON owned by yujing
(the same codecs the journal uses), so the bridge, the workers and any tool read them without
Faust (docs/decisions/0002-faust-runtime.md).

=================  ===========================  ================  ==============================
topic (default)    key                          partition         value
=================  ===========================  ================  ==============================
yujing-readings    station id                   murmur2(key)      the MQTT payload, unchanged;
                                                                  headers ``mqtt-topic``,
                                                                  ``received`` (bridge wall s)
yujing-readings    none                         each, by leader   tick ``{"now": s}``
yujing-network     station id                   0 (one partition) what a reading gave the
                                                                  first tier: the reading (no
                                                                  samples) + its findings
yujing-network     readings partition           0                 what a tick did to the
                                                                  stations of one partition
yujing-findings    district                     murmur2(key)      the findings the second tier
                                                                  passed on for one district,
                                                                  from one record + source, n
yujing-findings    none                         each, by leader   tick ``{"now": s}``
yujing-findings    district (or none)           the district's    an officer's command
                                                (or each)         (acknowledge, feedback,
                                                                  silence, expire), from the
                                                                  API of any worker
yujing-notices     alert key                    murmur2(key)      delivery (notice, channel,
                                                                  officer) + now
=================  ===========================  ================  ==============================

Findings are keyed by district, not by alert key: an alert key always names one district, so an
alert still lives in exactly one partition, and the book's cross-alert rules (district groups,
inhibition) see every alert of the district there (docs/decisions/0002-faust-runtime.md).

``partition_for`` is Kafka's default partitioner (murmur2 of the key bytes, as the Java client and
aiokafka compute it), so the bridge's producer and the workers agree on where a station lives:

>>> partition_for("HD-RN-001", 8) == partition_for("HD-RN-001", 8)
True
>>> sorted({partition_for(f"S{i}", 4) for i in range(100)})
[0, 1, 2, 3]
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from aiokafka.partitioner import murmur2

from alerting.codec import (
    delivery_from_json,
    delivery_to_json,
    finding_from_json,
    finding_to_json,
)
from alerting.model import Delivery
from alerting.silences import Silence
from detectors._sequence import reading_from_json, reading_to_json  # the one Reading codec
from yujing.contracts import Finding, Reading

__all__ = [
    "TYPE_HEADER",
    "Command",
    "Op",
    "FindingBatch",
    "StationRecord",
    "TickPart",
    "Headers",
    "RecordType",
    "decode_command",
    "decode_delivery",
    "decode_findings",
    "decode_station",
    "decode_tick",
    "decode_tick_part",
    "encode_command",
    "encode_delivery",
    "encode_findings",
    "encode_station",
    "encode_tick",
    "encode_tick_part",
    "header_map",
    "partition_for",
    "reading_headers",
    "reading_origin",
    "record_type",
]

TYPE_HEADER = "yujing-type"
FORMAT = 1

Headers = list[tuple[str, bytes]]


class RecordType(enum.StrEnum):
    READING = "reading"
    TICK = "tick"
    STATION = "station"
    TICK_PART = "tick-part"
    FINDINGS = "findings"
    DELIVERY = "delivery"
    COMMAND = "command"


def partition_for(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner gives ``key`` (UTF-8) among ``partitions``."""
    if partitions < 1:
        raise ValueError(f"partitions: {partitions} must be at least 1")
    return int(murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def header_map(
    headers: Mapping[str, bytes] | Iterable[tuple[str, bytes]] | None,
) -> dict[str, bytes]:
    """Kafka headers as a dict (aiokafka gives a list of pairs, Faust's test harness a dict)."""
    if headers is None:
        return {}
    if isinstance(headers, Mapping):
        return {str(k): bytes(v) for k, v in headers.items()}
    return {str(k): bytes(v) for k, v in headers}


def record_type(headers: Mapping[str, bytes]) -> RecordType:
    """What a record is; records without the header are readings (a plain producer works)."""
    raw = headers.get(TYPE_HEADER)
    return RecordType.READING if raw is None else RecordType(raw.decode())


def reading_headers(mqtt_topic: str, received: float) -> Headers:
    """Headers of a reading: where it came from on MQTT and when the bridge received it."""
    return [
        (TYPE_HEADER, RecordType.READING.value.encode()),
        ("mqtt-topic", mqtt_topic.encode()),
        ("received", repr(received).encode()),
    ]


def reading_origin(headers: Mapping[str, bytes]) -> tuple[str, float]:
    """(MQTT topic, received wall time) of a reading record."""
    return headers["mqtt-topic"].decode(), float(headers["received"])


def _type_headers(kind: RecordType) -> Headers:
    return [(TYPE_HEADER, kind.value.encode())]


def _dumps(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def encode_tick(now: float) -> tuple[bytes, Headers]:
    return _dumps({"format": FORMAT, "now": now}), _type_headers(RecordType.TICK)


def decode_tick(value: bytes) -> float:
    return float(json.loads(value)["now"])


@dataclass(frozen=True, slots=True)
class StationRecord:
    """What one reading gave the first tier, on its way to the second tier: the accepted reading
    and the station detectors' findings.

    ``source`` (the station id) and ``n`` (the station's record counter, kept in its state) are
    the idempotency key the network agent applies once; ``now`` is the reading's receive time.
    The reading travels without seismic samples:
    the second tier reads values, times and ids, never waveforms.
    """

    source: str
    n: int
    now: float
    reading: Reading
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class TickPart:
    """What a tick did to the stations of one readings partition: each station's time-driven
    findings (stations without any are left out), for the second tier. One per tick and
    partition, findings or not, so the network agent knows when every partition has ticked."""

    partition: int
    now: float
    stations: tuple[tuple[str, tuple[Finding, ...]], ...]


def encode_tick_part(part: TickPart) -> tuple[bytes, Headers]:
    data = {
        "format": FORMAT,
        "partition": part.partition,
        "now": part.now,
        "stations": [[s, [finding_to_json(f) for f in fs]] for s, fs in part.stations],
    }
    return _dumps(data), _type_headers(RecordType.TICK_PART)


def decode_tick_part(value: bytes) -> TickPart:
    data = json.loads(value)
    return TickPart(
        int(data["partition"]),
        float(data["now"]),
        tuple(
            (str(station), tuple(finding_from_json(f) for f in findings))
            for station, findings in data["stations"]
        ),
    )


def encode_station(record: StationRecord) -> tuple[bytes, Headers]:
    data = {
        "format": FORMAT,
        "source": record.source,
        "n": record.n,
        "now": record.now,
        "reading": reading_to_json(replace(record.reading, waveform=None)),
        "findings": [finding_to_json(f) for f in record.findings],
    }
    return _dumps(data), _type_headers(RecordType.STATION)


def decode_station(value: bytes) -> StationRecord:
    data = json.loads(value)
    return StationRecord(
        str(data["source"]),
        int(data["n"]),
        float(data["now"]),
        reading_from_json(data["reading"]),
        tuple(finding_from_json(f) for f in data["findings"]),
    )


@dataclass(frozen=True, slots=True)
class FindingBatch:
    """The findings one source record (a reading, or a tick) produced for one district.

    The embedded runtime grades the findings of a batch in one call of the alert book; a batch
    record keeps that unit, so district groups see the same members at the same time.
    ``source`` (a station id) and ``n`` (that source's batch counter, kept in its state) are the
    idempotency key: the alerting agent applies each ``(source, n)`` once, however often a replay
    after a crash sends it. ``now`` is the runtime time the batch was made at (the reading's
    receive time, or the tick's time), so a replay grades at the same time.
    """

    district: str
    source: str
    n: int
    now: float
    findings: tuple[Finding, ...]

    @property
    def key(self) -> str:
        return self.district


def encode_findings(batch: FindingBatch) -> tuple[bytes, Headers]:
    data = {
        "format": FORMAT,
        "district": batch.district,
        "source": batch.source,
        "n": batch.n,
        "now": batch.now,
        "findings": [finding_to_json(f) for f in batch.findings],
    }
    return _dumps(data), _type_headers(RecordType.FINDINGS)


def decode_findings(value: bytes) -> FindingBatch:
    data = json.loads(value)
    return FindingBatch(
        str(data["district"]),
        str(data["source"]),
        int(data["n"]),
        float(data["now"]),
        tuple(finding_from_json(f) for f in data["findings"]),
    )


def encode_delivery(delivery: Delivery, now: float) -> tuple[bytes, Headers]:
    data = {"format": FORMAT, "now": now, "delivery": delivery_to_json(delivery)}
    return _dumps(data), _type_headers(RecordType.DELIVERY)


def decode_delivery(value: bytes) -> tuple[Delivery, float]:
    data = json.loads(value)
    return delivery_from_json(data["delivery"]), float(data["now"])


class Op(enum.StrEnum):
    ACK = "ack"
    FEEDBACK = "feedback"
    SILENCE = "silence"
    EXPIRE = "expire"


@dataclass(frozen=True, slots=True)
class Command:
    """An officer's command for the alert books of the partitions it is sent to, made by the
    HTTP API of any worker (:mod:`yujing.runtime.faust.desk`). ``id`` lets the worker that sent
    it match the books' answers; ``now`` is the API's clock when it was made.

    ``key``, ``is_drill``: the alert (ack, feedback); ``status``, ``text``: the feedback;
    ``silence``: the silence to add; ``silence_id``: the one to expire.
    """

    id: str
    op: Op
    officer: str
    now: float
    key: str = ""
    is_drill: bool = False
    status: str = ""
    text: str = ""
    silence: Silence | None = None
    silence_id: str = ""


def encode_command(command: Command) -> tuple[bytes, Headers]:
    data = {
        "format": FORMAT,
        "id": command.id,
        "op": command.op.value,
        "officer": command.officer,
        "now": command.now,
        "key": command.key,
        "is_drill": command.is_drill,
        "status": command.status,
        "text": command.text,
        "silence": None if command.silence is None else command.silence.to_json(),
        "silence_id": command.silence_id,
    }
    return _dumps(data), _type_headers(RecordType.COMMAND)


def decode_command(value: bytes) -> Command:
    data = json.loads(value)
    silence = data.get("silence")
    return Command(
        str(data["id"]),
        Op(data["op"]),
        str(data["officer"]),
        float(data["now"]),
        key=str(data.get("key", "")),
        is_drill=bool(data.get("is_drill", False)),
        status=str(data.get("status", "")),
        text=str(data.get("text", "")),
        silence=None if silence is None else Silence.from_json(silence),
        silence_id=str(data.get("silence_id", "")),
    )

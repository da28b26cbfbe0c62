"""The v1 wire contract as pydantic models: exported as JSON Schema, never run per message.

Sensor vendors and simulators read ``docs/schema/reading.schema.json`` (written by
:func:`write_json_schema`); the decoder's hand-written fast path (``ingest.wire``) enforces the
same shapes and the tests hold the two to the same examples. The schema checks shape only; what
needs the registry or the quantity limits (station known, ranges, duplicates) is the decoder's.

Regenerate the committed file with
``.venv/bin/python -c "from ingest import write_json_schema; write_json_schema()"``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
)

from ingest.wire import MAX_CHANNEL_CHARS, MAX_SR_HZ, MAX_TS_MS, MIN_TS_MS, RFC3339, event_time
from yujing.config.stations import STATION_ID
from yujing.contracts import Kind, PayloadRejected

SCHEMA_ID = "urn:yujing:schema:reading:v1"
DEFAULT_PATH = Path("docs/schema/reading.schema.json")


def _calendar_time(text: str) -> str:
    """The pattern admits 2026-13-45; the decoder does not, so neither does the model."""
    try:
        event_time(text, "ts")
    except PayloadRejected as exc:
        raise ValueError(exc.detail) from None
    return text


TimeText = Annotated[
    str,
    StringConstraints(pattern=RFC3339),
    AfterValidator(_calendar_time),
    Field(json_schema_extra={"format": "date-time"}),
]
TimeMs = Annotated[int, Field(ge=MIN_TS_MS, le=MAX_TS_MS)]
Timestamp = Annotated[
    TimeText | TimeMs,
    Field(description="RFC 3339 time with offset, or integer epoch milliseconds (UTC)"),
]
FiniteNumber = Annotated[float, Field(allow_inf_nan=False)]
StationId = Annotated[
    str, Field(pattern=STATION_ID, description="station id; must equal the topic's station")
]
Seq = Annotated[
    int, Field(ge=0, description="per-station message counter (may restart at 0 on reboot)")
]
Quality = Annotated[
    str | None, Field(description="sensor's own quality flag, e.g. 'ok', 'degraded'")
]


class PlainReadingBody(BaseModel):
    """One reading of a rain, water_level, ponding, gas or chem station."""

    model_config = ConfigDict(strict=True, extra="forbid", title="PlainReading")

    station: StationId
    ts: Timestamp
    seq: Seq
    values: dict[str, FiniteNumber] = Field(
        description="quantity → number, unit in the name (rain_mm, level_m, depth_cm, "
        "ch4_pct_lel, nh3_ppm, cl2_ppm, h2s_ppm, pressure_kpa, temp_c, ...)"
    )
    quality: Quality = None


class SeismicReadingBody(BaseModel):
    """One packet of one seismic channel: samples at sr Hz, the first one at t0."""

    model_config = ConfigDict(strict=True, extra="forbid", title="SeismicReading")

    station: StationId
    ts: Timestamp | None = Field(default=None, description="event time; omitted = t0")
    seq: Seq
    channel: str = Field(
        min_length=1, max_length=MAX_CHANNEL_CHARS, description="channel code, e.g. HNZ, HNN, HNE"
    )
    sr: float = Field(gt=0, le=MAX_SR_HZ, description="sample rate in Hz")
    t0: Timestamp = Field(description="time of the first sample")
    samples: list[FiniteNumber] = Field(description="ground acceleration in m/s²")
    quality: Quality = None


ReadingBody = PlainReadingBody | SeismicReadingBody
_BODY: TypeAdapter[ReadingBody] = TypeAdapter(ReadingBody)

EXAMPLES: Mapping[Kind, tuple[str, dict[str, Any]]] = {
    Kind.RAIN: (
        "yujing/v1/haidian/rain/HD-R01",
        {
            "station": "HD-R01",
            "ts": "2026-07-21T14:05:00+08:00",
            "seq": 1042,
            "values": {"rain_mm": 2.5},
        },
    ),
    Kind.WATER_LEVEL: (
        "yujing/v1/haidian/water_level/HD-W01",
        {
            "station": "HD-W01",
            "ts": 1784613900000,
            "seq": 77,
            "values": {"level_m": 41.37, "flow_m3s": 212.0},
            "quality": "ok",
        },
    ),
    Kind.PONDING: (
        "yujing/v1/haidian/ponding/HD-P01",
        {"station": "HD-P01", "ts": "2026-07-21T06:05:00Z", "seq": 9, "values": {"depth_cm": 18.0}},
    ),
    Kind.GAS: (
        "yujing/v1/chaoyang/gas/CY-G01",
        {
            "station": "CY-G01",
            "ts": "2026-07-21T06:05:00.250Z",
            "seq": 310,
            "values": {"ch4_pct_lel": 12.5, "pressure_kpa": 101.2},
        },
    ),
    Kind.CHEM: (
        "yujing/v1/chaoyang/chem/CY-C01",
        {
            "station": "CY-C01",
            "ts": 1784613900000,
            "seq": 5,
            "values": {"nh3_ppm": 3.0, "h2s_ppm": 0.4, "temp_c": 24.5},
        },
    ),
    Kind.SEISMIC: (
        "yujing/v1/fangshan/seismic/FS-S01",
        {
            "station": "FS-S01",
            "seq": 88120,
            "channel": "HNZ",
            "sr": 100.0,
            "t0": "2026-07-21T06:05:00.000Z",
            "samples": [0.0012, -0.0031, 0.0020, 0.0004],
        },
    ),
}
"""One message per kind: the docs show them, the schema carries them, the tests decode them."""


def validate_body(data: Any) -> ReadingBody:
    """Validate a parsed body against the contract (slow; for tests, tools and vendors)."""
    return _BODY.validate_python(data)


def json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of a v1 reading body: one of plain or seismic."""
    body = _BODY.json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "yujing v1 reading",
        "description": "Body of one MQTT message on yujing/v1/{district}/{kind}/{station}. "
        "See docs/reading-schema.md for units, limits and rejection reasons.",
        "oneOf": body["anyOf"],
        "$defs": body["$defs"],
        "examples": [example for _, example in EXAMPLES.values()],
    }


def write_json_schema(path: Path = DEFAULT_PATH) -> Path:
    """Write :func:`json_schema` to ``path`` (parents created); return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n")
    return path

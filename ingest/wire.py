"""Hand-written checks of the v1 wire body: the decoder's fast path.

pydantic (``ingest.schema``) states the same contract for export; running it per message would
cost more than paho spends receiving the message, so the hot path checks shapes here with plain
``type() is`` tests. ``tests/unit/ingest/test_schema.py`` holds both to the same examples.

Every function raises ``PayloadRejected(malformed)`` for a shape problem, naming the field.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, NoReturn

import orjson

from yujing.contracts import PayloadRejected, RejectReason

MIN_TS_MS = 946_684_800_000
"""2000-01-01T00:00:00Z in epoch ms: anything earlier is a unit mistake (seconds sent as ms)."""
MAX_TS_MS = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z, the last instant RFC 3339 can write."""
RFC3339 = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
MAX_SR_HZ = 10_000.0
"""Strong-motion sensors sample at ≤ 1 kHz; anything above 10 kHz is not a sample rate."""
MAX_CHANNEL_CHARS = 16

PLAIN_FIELDS = frozenset({"station", "ts", "seq", "values", "quality"})
SEISMIC_FIELDS = frozenset({"station", "ts", "seq", "channel", "sr", "t0", "samples", "quality"})
PLAIN_REQUIRED = ("station", "ts", "seq", "values")
SEISMIC_REQUIRED = ("station", "seq", "channel", "sr", "t0", "samples")

_RFC3339 = re.compile(RFC3339)


class NonFiniteLiteral(ValueError):
    """The JSON text used ``NaN``/``Infinity``, which Python's parser accepts and JSON does not."""


def _refuse_constant(name: str) -> NoReturn:
    raise NonFiniteLiteral(name)


_JSON = json.JSONDecoder(parse_constant=_refuse_constant)


def malformed(detail: str) -> PayloadRejected:
    return PayloadRejected(RejectReason.MALFORMED, detail)


def show(value: Any) -> str:
    """A short repr for details: payloads are untrusted and may be huge."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_json(payload: bytes) -> Any:
    """UTF-8 JSON text → Python value; NaN/Infinity literals are refused as ``non_finite``.

    orjson parses (a 100-sample seismic packet in an eighth of the stdlib's time). What it
    refuses goes to :func:`parse_json_exact`, which accepts what the stdlib accepts (lone
    surrogate escapes) or names the problem. orjson reads an integer outside 64 bits as a float;
    the decoder reads a refused message again with :func:`parse_json_exact`, so such a number is
    judged and named as sent.
    """
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return parse_json_exact(payload)


def parse_json_exact(payload: bytes) -> Any:
    """:func:`parse_json` by the stdlib parser: integers of any size stay integers."""
    try:
        return _JSON.decode(payload.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise malformed(f"payload is not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise malformed(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except NonFiniteLiteral as exc:
        detail = f"JSON literal {exc} is not a number"
        raise PayloadRejected(RejectReason.NON_FINITE, detail) from None
    except RecursionError:
        raise malformed("not JSON: nested too deeply") from None


def check_fields(body: Any, allowed: frozenset[str], required: tuple[str, ...], kind: str) -> None:
    """``body`` is an object with every required field and no field outside ``allowed``."""
    if type(body) is not dict:
        raise malformed(f"payload must be a JSON object, got {type(body).__name__}")
    if not body.keys() <= allowed:
        extra = sorted(set(body) - allowed)
        raise malformed(f"field(s) {', '.join(map(repr, extra))} not allowed for kind {kind}")
    for name in required:
        if name not in body:
            raise malformed(f"missing field {name!r}")


def event_time(value: Any, name: str) -> float:
    """An RFC 3339 string with offset, or integer epoch milliseconds → epoch seconds (UTC)."""
    if type(value) is int:
        if not MIN_TS_MS <= value <= MAX_TS_MS:
            hint = " (seconds instead of milliseconds?)" if 0 <= value < MIN_TS_MS else ""
            raise malformed(f"{name}: epoch ms {value} outside year 2000..9999{hint}")
        return value / 1000.0
    if type(value) is str:
        if _RFC3339.fullmatch(value):
            try:
                return datetime.fromisoformat(value.upper()).timestamp()
            except ValueError:
                pass
        raise malformed(f"{name}: {show(value)} is not an RFC 3339 time with offset")
    raise malformed(f"{name}: must be an RFC 3339 string or integer epoch ms, got {show(value)}")


def sequence_number(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise malformed(f"seq: must be an integer >= 0, got {show(value)}")
    return value


def quality_flag(value: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    raise malformed(f"quality: must be a string, got {show(value)}")


def number(value: Any, name: str) -> float | int:
    """A JSON number (not a bool, not a string); ints stay ints so huge ones cannot overflow."""
    if type(value) is float or type(value) is int:
        return value
    raise malformed(f"{name}: must be a number, got {show(value)}")


def sample_rate(value: Any) -> float:
    rate = number(value, "sr")
    if not 0 < rate <= MAX_SR_HZ:
        raise malformed(f"sr: {show(rate)} Hz must be > 0 and <= {MAX_SR_HZ:g}")
    return float(rate)


def channel_code(value: Any) -> str:
    if type(value) is not str or not 0 < len(value) <= MAX_CHANNEL_CHARS:
        raise malformed(
            f"channel: must be a string of 1..{MAX_CHANNEL_CHARS} chars, got {show(value)}"
        )
    return value

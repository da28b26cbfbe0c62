"""Shared pieces of the simulator tests: the demo's fixed start, a wire-format checker that
states the ingest contract independently of ``ingest/``, and per-station series."""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from simulators.generator import SimMessage
from yujing.config import QuantityLimits, Registry
from yujing.contracts import Kind

REPO = Path(__file__).resolve().parents[3]
START = 1_784_613_600.0  # 2026-07-21T06:00:00Z: scenario time 0 of the demo run
TOPIC = re.compile(
    r"^yujing/v1/(?P<district>[A-Za-z0-9_.-]+)/(?P<kind>[a-z_]+)/(?P<station>[A-Za-z0-9_.-]+)$"
)
PLAIN_KEYS = {"station", "ts", "seq", "values", "quality"}
SEISMIC_KEYS = {"station", "ts", "seq", "channel", "sr", "t0", "samples"}


def check_wire(topic: str, payload: bytes, registry: Registry, limits: QuantityLimits) -> Any:
    """Assert one message fits the v1 wire format and the quantity limits; return its body."""
    match = TOPIC.fullmatch(topic)
    assert match, topic
    spec = registry.get(match["station"])
    assert spec is not None, topic
    assert (match["district"], match["kind"]) == (spec.district, spec.kind.value), topic
    body = json.loads(payload)
    assert body["station"] == spec.id
    assert type(body["ts"]) is int and type(body["seq"]) is int and body["seq"] >= 0, body
    if spec.kind is Kind.SEISMIC:
        assert set(body) == SEISMIC_KEYS, body.keys()
        assert body["channel"] in ("HNZ", "HNN", "HNE") and body["sr"] == 100
        assert body["t0"] == body["ts"] and len(body["samples"]) == 100
        accel = limits.for_kind(Kind.SEISMIC)["accel_ms2"]
        assert all(type(s) is float and accel.min <= s <= accel.max for s in body["samples"])
    else:
        assert set(body) == PLAIN_KEYS and body["quality"] == "ok", body
        allowed = limits.for_kind(spec.kind)
        assert body["values"], body
        for quantity, value in body["values"].items():
            assert quantity in allowed, (spec.id, quantity)
            assert type(value) is float and math.isfinite(value), (spec.id, value)
            assert allowed[quantity].min <= value <= allowed[quantity].max, (spec.id, value)
    return body


def series(messages: list[SimMessage]) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """(station, quantity) → [(scenario s, value)]; seismic as (station, channel) → packet
    peak |a| in m/s²."""
    out: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for message in messages:
        body = json.loads(message.payload)
        t_s = body["ts"] / 1000 - START
        if "values" in body:
            for quantity, value in body["values"].items():
                out[(message.station, quantity)].append((t_s, value))
        else:
            peak = max(abs(s) for s in body["samples"])
            out[(message.station, body["channel"])].append((t_s, peak))
    return out


def window_totals(pairs: list[tuple[float, float]], window_s: float) -> list[tuple[float, float]]:
    """Rain totals over (t - window, t] at each report time (reports in time order)."""
    out = []
    first = 0
    total = 0.0
    for t, mm in pairs:
        total += mm
        while pairs[first][0] <= t - window_s:
            total -= pairs[first][1]
            first += 1
        out.append((t, total))
    return out


def first_reaching(pairs: list[tuple[float, float]], level: float) -> float | None:
    """Scenario time of the first value >= level, or None."""
    return next((t for t, v in pairs if v >= level), None)

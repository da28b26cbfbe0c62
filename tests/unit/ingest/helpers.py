"""A small registry matching the schema examples: one station per kind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from yujing.config import StationSpec
from yujing.contracts import Kind

REPO = Path(__file__).resolve().parents[3]
NOW = 1_784_613_910.0  # 2026-07-21T06:05:10Z, ten seconds after the examples' event time
MAX_PAYLOAD_BYTES = 2048


def station(station_id: str, kind: Kind, district: str) -> StationSpec:
    return StationSpec(station_id, "", kind, district, 39.9, 116.4, 60.0)


STATIONS = [
    station("HD-R01", Kind.RAIN, "haidian"),
    station("HD-W01", Kind.WATER_LEVEL, "haidian"),
    station("HD-P01", Kind.PONDING, "haidian"),
    station("CY-G01", Kind.GAS, "chaoyang"),
    station("CY-C01", Kind.CHEM, "chaoyang"),
    station("FS-S01", Kind.SEISMIC, "fangshan"),
]


def payload(body: Any) -> bytes:
    return json.dumps(body).encode()

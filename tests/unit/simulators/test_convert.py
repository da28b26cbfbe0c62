"""Converters from the real datasets to recordings: registries that load, messages that ingest
accepts, and the events the provenance files describe."""

from __future__ import annotations

import json
from pathlib import Path

from ingest import Decoder
from simulators.convert import CONVERTERS
from simulators.recording import read_recording
from tests.unit.simulators.helpers import REPO
from yujing.config import Registry, load_quantities, load_registry
from yujing.contracts import Reading


def convert(name: str, datasets: Path, tmp_path: Path) -> tuple[list[Reading], Registry]:
    count, registry_path = CONVERTERS[name](datasets, tmp_path / f"{name}.jsonl")
    recording = read_recording(tmp_path / f"{name}.jsonl")
    registry = load_registry(registry_path)
    assert count == len(recording.rows) > 0
    decoder = Decoder(registry, load_quantities(REPO / "configs" / "quantities.yaml"),
                      allowed_lateness_s=1e9)  # fmt: skip
    readings = [decoder.decode(r.topic, r.payload, r.arrival + 1.0) for r in recording.rows]
    return readings, registry


def test_beijing_rain(datasets: Path, tmp_path: Path) -> None:
    readings, registry = convert("beijing-rain", datasets, tmp_path)
    totals: dict[str, float] = {}
    for reading in readings:
        totals[reading.station] = totals.get(reading.station, 0.0) + reading.values["rain_mm"]
    assert len(registry) == 8
    assert round(totals["BJ-Gucheng"], 1) == 315.2  # 19-21 July; PROVENANCE: 305.5 mm in 2 days
    assert max(r.values["rain_mm"] for r in readings) == 30.4


def test_guadalupe_flood(datasets: Path, tmp_path: Path) -> None:
    readings, registry = convert("guadalupe-flood", datasets, tmp_path)
    kerrville = [r for r in readings if r.station == "USGS-08166200"]
    peak = max(r.values["level_m"] for r in kerrville)
    assert abs(peak - 36.58 * 0.3048) < 0.01  # 36.58 ft at 06:45 CDT on 4 July
    hunt = [r.ts for r in readings if r.station == "USGS-08165500"]
    assert max(hunt) < 1751621700.0 + 60  # the feed ends when the gauge was damaged (04:35 CDT)


def test_chilbolton_methane(datasets: Path, tmp_path: Path) -> None:
    readings, registry = convert("chilbolton-ch4", datasets, tmp_path)
    assert len(registry) == 7
    values = [r.values["ch4_pct_lel"] for r in readings]
    assert 0.0 <= min(values) and max(values) < 10.0  # ppm-scale releases: far below any rung
    header = json.loads((tmp_path / "chilbolton-ch4.jsonl").read_text().splitlines()[0])
    assert header["registry"] == "chilbolton-ch4.stations.yaml"

"""Raw message streams and a ready pipeline for the storage and dashboard tests.

The stations and payloads follow the wire contract (DESIGN §3); the pipeline is the real one
(decoder, detectors from configs/ladders, policy grader), run in-process without a broker.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from yujing.config import load_ladders, load_quantities, load_registry
from yujing.config.ladders import LadderBook
from yujing.config.settings import IngestSettings
from yujing.config.stations import Registry
from yujing.metrics import Metrics
from yujing.pipeline import Pipeline, RawMessage

REPO = Path(__file__).resolve().parents[2]
PREFIX = "yujing/v1"


def ms(t: float) -> int:
    return int(t * 1000)


def registry_file(folder: Path, stations: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "stations.yaml"
    path.write_text(yaml.safe_dump({"stations": stations}))
    return path


def gas_stations(n: int, district: str = "d1") -> list[dict[str, Any]]:
    return [
        {
            "id": f"G{i:03d}",
            "kind": "gas",
            "district": district,
            "lat": 39.9 + i * 0.001,
            "lon": 116.4 + i * 0.001,
            "interval_s": 10,
            "rules": ["ch4"],
        }
        for i in range(n)
    ]


def build_pipeline(registry_path: Path, metrics: Metrics | None = None) -> Pipeline:
    registry = load_registry(registry_path)
    return Pipeline(
        registry,
        load_ladders(REPO / "configs" / "ladders"),
        load_quantities(REPO / "configs" / "quantities.yaml"),
        IngestSettings(),
        metrics=metrics,
    )


def parts(registry_path: Path) -> tuple[Registry, LadderBook]:
    return load_registry(registry_path), load_ladders(REPO / "configs" / "ladders")


def message(district: str, kind: str, body: dict[str, Any], received: float) -> RawMessage:
    topic = f"{PREFIX}/{district}/{kind}/{body['station']}"
    return RawMessage(topic, json.dumps(body).encode(), received)


def gas_batches(
    stations: list[dict[str, Any]], rounds: int, start: float, first_seq: int = 0
) -> Iterator[list[RawMessage]]:
    """One batch per round: every station reports once, event time advancing 10 s a round.
    CH4 follows a 60-round triangle from 0 to 60 %LEL, so alerts fire, climb and resolve."""
    for k in range(first_seq, first_seq + rounds):
        phase = (k % 60) / 60.0
        level = 60.0 * (1.0 - abs(2.0 * phase - 1.0))
        ts = start + 10.0 * k
        yield [
            message(
                s["district"],
                "gas",
                {"station": s["id"], "ts": ms(ts), "seq": k, "values": {"ch4_pct_lel": level}},
                ts + 0.5,
            )
            for s in stations
        ]


FAMILIES: list[dict[str, Any]] = [
    {"id": "R1", "kind": "rain", "district": "d1", "lat": 39.95, "lon": 116.30, "interval_s": 60},
    {
        "id": "W1",
        "kind": "water_level",
        "district": "d1",
        "lat": 39.96,
        "lon": 116.32,
        "interval_s": 60,
        "params": {"warning_level_m": 3.0, "guaranteed_level_m": 4.0, "record_level_m": 4.6},
    },
    {
        "id": "P1",
        "kind": "ponding",
        "district": "d1",
        "lat": 39.97,
        "lon": 116.34,
        "interval_s": 60,
    },
    {"id": "G1", "kind": "gas", "district": "d2", "lat": 39.90, "lon": 116.40, "interval_s": 10},
    {
        "id": "C1",
        "kind": "chem",
        "district": "d2",
        "lat": 39.91,
        "lon": 116.42,
        "interval_s": 10,
        "rules": ["nh3", "cl2", "h2s"],
    },
    {
        "id": "T1",
        "kind": "chem",
        "district": "d2",
        "lat": 39.93,
        "lon": 116.46,
        "interval_s": 10,
        "rules": ["tank_pressure", "tank_temperature"],
        "params": {
            "pressure_high_kpa": 800,
            "pressure_highhigh_kpa": 850,
            "temp_high_c": 60,
            "temp_highhigh_c": 80,
        },
    },
    {"id": "S1", "kind": "seismic", "district": "d2", "lat": 39.92, "lon": 116.44, "interval_s": 1},
]


def seismic_body(seq: int, t0: float, peak: float, channel: str = "HNN") -> dict[str, Any]:
    samples = [0.01 * math.sin(i) for i in range(100)]
    samples[40] = peak
    return {
        "station": "S1",
        "ts": ms(t0),
        "seq": seq,
        "channel": channel,
        "sr": 100,
        "t0": ms(t0),
        "samples": samples,
    }


def every_family(now: float) -> list[RawMessage]:
    """An escalating episode for each family, event times in the last two hours before ``now``:
    rain totals past the ladder, a river over its warning level and its discharge (one reading
    lost: a ``seq`` gap), ponding, methane and pipeline pressure, toxic gases, an overheating
    tank and a strong-motion packet. Every measurement of the schema gets points."""
    out: list[RawMessage] = []

    def add(district: str, kind: str, body: dict[str, Any]) -> None:
        out.append(message(district, kind, body, now))

    for seq in range(24):  # rain every 5 min for 2 h, heavy in the second hour
        ts = now - 7200 + seq * 300
        add(
            "d1",
            "rain",
            {
                "station": "R1",
                "ts": ms(ts),
                "seq": seq,
                "values": {"rain_mm": 1.0 if seq < 12 else 9.0},
            },
        )
    for seq in (*range(5), *range(6, 13)):  # the river rises 0.1 m every 10 min; seq 5 is lost
        ts = now - 7200 + seq * 600
        add(
            "d1",
            "water_level",
            {
                "station": "W1",
                "ts": ms(ts),
                "seq": seq,
                "values": {"level_m": 2.2 + 0.1 * seq, "flow_m3s": 40.0 + 8.0 * seq},
            },
        )
    for seq, depth in enumerate([2.0, 8.0, 18.0, 30.0]):
        add(
            "d1",
            "ponding",
            {
                "station": "P1",
                "ts": ms(now - 1800 + seq * 300),
                "seq": seq,
                "values": {"depth_cm": depth},
            },
        )
    for seq, pct in enumerate([5.0, 12.0, 30.0, 55.0]):
        add(
            "d2",
            "gas",
            {
                "station": "G1",
                "ts": ms(now - 600 + seq * 10),
                "seq": seq,
                "values": {"ch4_pct_lel": pct, "pressure_kpa": 300.0 - seq},
            },
        )
    for seq, ppm in enumerate([5.0, 30.0, 90.0]):
        values = {"nh3_ppm": ppm, "cl2_ppm": ppm / 100.0, "h2s_ppm": ppm / 10.0}
        add(
            "d2",
            "chem",
            {"station": "C1", "ts": ms(now - 600 + seq * 10), "seq": seq, "values": values},
        )
    for seq, (kpa, temp) in enumerate([(700.0, 40.0), (820.0, 65.0), (900.0, 85.0)]):
        values = {"pressure_kpa": kpa, "temp_c": temp}
        add(
            "d2",
            "chem",
            {"station": "T1", "ts": ms(now - 600 + seq * 10), "seq": seq, "values": values},
        )
    add("d2", "seismic", seismic_body(0, now - 120, 0.02))
    add("d2", "seismic", seismic_body(1, now - 60, 2.0))
    return out

"""Ground truth: consistent with the registry and the shipped demo file."""

from __future__ import annotations

import json

from simulators import SensorSimulator, ground_truth
from tests.unit.simulators.helpers import REPO
from yujing.config import Registry


def test_shipped_demo_truth_matches_the_models(simulator: SensorSimulator) -> None:
    shipped = json.loads((REPO / "configs" / "scenarios" / "demo.truth.json").read_text())
    assert shipped == json.loads(json.dumps(ground_truth(simulator, with_start=False)))


def test_every_listed_station_exists_and_quake_arrivals_are_ordered(
    simulator: SensorSimulator, registry: Registry
) -> None:
    truth = ground_truth(simulator)
    assert truth["start"] == simulator.start
    ids = [event["id"] for event in truth["events"]]
    assert len(ids) == len(set(ids)) == 8
    for event in truth["events"]:
        assert event["stations"], event["id"]
        for row in event["stations"]:
            assert registry.get(row["station"]) is not None
    quake = next(e for e in truth["events"] if e["hazard"] == "earthquake")
    rows = quake["stations"]
    assert len(rows) == 20
    assert [r["hypocentral_km"] for r in rows] == sorted(r["hypocentral_km"] for r in rows)
    assert all(quake["origin_s"] < r["p_arrival_s"] < r["s_arrival_s"] for r in rows)
    assert rows[0]["pga_ms2"] > 1.4 > rows[-1]["pga_ms2"]

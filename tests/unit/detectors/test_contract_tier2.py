"""The AreaDetector contract (detectors/base.py), checked for every second-tier stage: snapshot →
restore mid-stream changes nothing, snapshots are plain JSON, inputs are not mutated, what a
stage raises is state changes only, and each module documents itself with a doctest."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from detectors.agreement import NeighbourAgreement
from detectors.area_rain import AreaRain
from detectors.base import AreaDetector
from detectors.chains import HazardChains
from detectors.drift import NeighbourDrift
from detectors.network import SeismicNetwork
from detectors.quality import QualitySpec
from detectors.skew import ClockSkew
from detectors.tier2 import SecondTier, build_second_tier
from tests.unit.detectors.docs import class_doc, module_doc
from tests.unit.detectors.helpers import BOOK, REPO
from yujing.config import load_registry
from yujing.config.stations import Registry, StationSpec
from yujing.contracts import Finding, Grade, Hazard, Kind, Reading

Event = tuple[str, Any]  # ("r", Reading) | ("f", Finding) | ("t", now)
Example = tuple[Callable[[], AreaDetector], list[Event]]
D = "d1"


def st(sid: str, kind: Kind, *near: str, **kw: Any) -> StationSpec:
    return StationSpec(sid, "", kind, D, kw.pop("lat", 40.0), kw.pop("lon", 116.3),
                       kw.pop("interval_s", 60.0), neighbours=near, **kw)  # fmt: skip


def f(station: str | None, hazard: Hazard, rule: str, grade: Grade, ts: float, value: float = 1.0,
      area: str | None = None) -> Finding:  # fmt: skip
    return Finding(area or station or "", D, hazard, rule, grade, ts, value=value,
                   threshold=0.5 if grade.is_warning else None, station=station,
                   message=f"{rule} {grade.value}")  # fmt: skip


def _agreement() -> Example:
    reg = Registry.from_specs([st("A", Kind.GAS, "B", "C"), st("B", Kind.GAS, "A", "C"),
                               st("C", Kind.GAS, "A", "B")])  # fmt: skip
    grades = [Grade.NONE, Grade.BLUE, Grade.ORANGE, Grade.RED, Grade.BLUE, Grade.NONE]
    events: list[Event] = []
    for i in range(60):
        station = "ABC"[i % 3]
        events.append(("f", f(station, Hazard.GAS_LEAK, "ch4", grades[(i * 7 + i // 3) % 6],
                              float(i))))  # fmt: skip
        if i == 30:
            events.append(("f", f("B", Hazard.SENSOR, "drift", Grade.BLUE, float(i))))
    return (lambda: NeighbourAgreement(reg, {})), events


def _area_rain() -> Example:
    reg = Registry.from_specs([st(s, Kind.RAIN, area="z", interval_s=600.0) for s in "ABC"])
    events: list[Event] = []
    for k in range(1, 40):
        for j, s in enumerate("ABC"):
            mm = 12.0 * math.exp(-(((k - 15) / 5.0) ** 2)) * (1 + 0.2 * j)
            events.append(("r", Reading(s, Kind.RAIN, D, 600.0 * k, k, {"rain_mm": mm})))
        if k == 20:
            events.append(("f", f("C", Hazard.SENSOR, "silence", Grade.BLUE, 600.0 * k)))
        events.append(("t", 600.0 * k + 5.0))
    return (lambda: AreaRain(reg, BOOK.for_kind(Kind.RAIN))), events


def _network() -> Example:
    reg = Registry.from_specs([st(f"S{i}", Kind.SEISMIC, area="net", lat=40 + i / 20)
                               for i in range(5)])  # fmt: skip
    events: list[Event] = []
    for quake in (100.0, 400.0):
        for i in range(5):
            t = quake + i * 0.7
            events.append(("f", f(f"S{i}", Hazard.EARTHQUAKE, "trigger", Grade.BLUE, t)))
            events.append(
                (
                    "f",
                    f(
                        f"S{i}",
                        Hazard.EARTHQUAKE,
                        "intensity",
                        (Grade.BLUE, Grade.ORANGE, Grade.RED)[i % 3],
                        t + 2,
                        4.0 + i,
                    ),
                )
            )
            events.append(("f", f(f"S{i}", Hazard.EARTHQUAKE, "trigger", Grade.NONE, t + 5)))
        events += [("t", quake + s) for s in range(0, 120, 7)]
    return (lambda: SeismicNetwork(reg, BOOK.get(Hazard.EARTHQUAKE, "event"))), events


def _chains() -> Example:
    registry = load_registry(REPO / "configs" / "demo" / "stations.yaml")
    events: list[Event] = []
    for hour in range(12):
        t = 3600.0 * hour
        grade = Grade.BLUE if 2 <= hour <= 5 else Grade.NONE
        events.append(("f", f(None, Hazard.RAINSTORM, "rainstorm", grade, t, area="zone-2-0")))
        rise = Grade.BLUE if 3 <= hour <= 4 else Grade.NONE
        events.append(("f", f("HD-WL-004", Hazard.FLOOD, "level_rise", rise, t + 60)))
        events.append(("t", t + 1800.0))
    return (lambda: HazardChains(registry, BOOK.chains)), events


def _drift() -> Example:
    reg = Registry.from_specs([st("A", Kind.GAS, "B", "C"), st("B", Kind.GAS, "A", "C"),
                               st("C", Kind.GAS, "A", "B")])  # fmt: skip
    spec = {"ch4_pct_lel": QualitySpec(drift_limit=3.0, drift_window_s=3600.0)}
    events: list[Event] = []
    for i in range(60):
        for s in "ABC":
            value = 1.0 + (0.6 * max(0, i - 20) if s == "A" and i < 45 else 0.0)
            events.append(("r", Reading(s, Kind.GAS, D, 600.0 * i, i, {"ch4_pct_lel": value})))
    return (lambda: NeighbourDrift(reg, spec)), events


def _skew() -> Example:
    reg = Registry.from_specs([st(s, Kind.GAS) for s in "ABCD"])
    events: list[Event] = []
    for minute in range(30):
        now = 60.0 * minute
        for s in "ABC":
            events.append(("r", Reading(s, Kind.GAS, D, now, minute, {"ch4_pct_lel": 0.0})))
        lag = 1200.0 if 5 <= minute < 20 else 0.0
        events.append(("r", Reading("D", Kind.GAS, D, now - lag, minute, {"ch4_pct_lel": 0.0})))
        events.append(("t", now + 1.0))
    return (lambda: ClockSkew(reg, 900.0, 3)), events


EXAMPLES: dict[type, Callable[[], Example]] = {
    NeighbourAgreement: _agreement,
    AreaRain: _area_rain,
    SeismicNetwork: _network,
    HazardChains: _chains,
    NeighbourDrift: _drift,
    ClockSkew: _skew,
}


def play(detector: AreaDetector, events: list[Event]) -> list[Finding]:
    out: list[Finding] = []
    for what, item in events:
        if what == "r":
            out.extend(detector.update(item))
        elif what == "f":
            out.extend(detector.observe(item))
        else:
            out.extend(detector.advance(item))
    return out


def test_every_stage_of_the_second_tier_has_an_example() -> None:
    registry = load_registry(REPO / "configs" / "demo" / "stations.yaml")
    stages = {type(stage) for _, stage in build_second_tier(registry, BOOK).stages}
    assert stages == set(EXAMPLES)


@pytest.fixture(params=list(EXAMPLES), ids=lambda cls: cls.__name__)
def example(request: pytest.FixtureRequest) -> Example:
    return EXAMPLES[request.param]()


def raised(findings: list[Finding], events: list[Event]) -> list[Finding]:
    """What the stage raised itself (not the findings it passed on)."""
    fed = [id(item) for what, item in events if what == "f"]
    return [x for x in findings if id(x) not in fed]


def test_the_example_raises_something(example: Example) -> None:
    make, events = example
    detector = make()
    assert isinstance(detector, AreaDetector)
    new = raised(play(detector, events), events)
    assert len(new) >= 2 and len({x.grade for x in new}) >= 2


@pytest.mark.parametrize("cut", [0.2, 0.5, 0.8])
def test_snapshot_restore_mid_stream_changes_nothing(example: Example, cut: float) -> None:
    make, events = example
    whole = make()
    expected = play(whole, events)
    first = make()
    split = int(len(events) * cut)
    before = play(first, events[:split])
    second = make()
    second.restore(json.loads(json.dumps(first.snapshot(), allow_nan=False)))
    assert before + play(second, events[split:]) == expected
    assert second.snapshot() == whole.snapshot()


def test_inputs_are_not_mutated(example: Example) -> None:
    make, events = example
    copies = copy.deepcopy(events)
    play(make(), events)
    for (_, a), (_, b) in zip(events, copies, strict=True):
        assert a == b


def test_raised_findings_are_state_changes_only(example: Example) -> None:
    make, events = example
    last: dict[tuple[str, str, str], Grade] = {}
    fed = {id(item) for what, item in events if what == "f"}
    for x in play(make(), events):
        key = (x.area, x.hazard.value, x.rule)
        if id(x) not in fed:  # raised or changed by the stage (passed-on inputs just count)
            assert last.get(key) is not x.grade, f"repeated {x.grade} for {key}"
        last[key] = x.grade
        json.dumps(dict(x.evidence), allow_nan=False)
        assert x.message


@pytest.mark.parametrize("cls", [*EXAMPLES, SecondTier], ids=lambda cls: cls.__name__)
def test_module_documents_itself(cls: type) -> None:
    doc = module_doc(cls.__module__)
    assert doc
    assert ">>>" in doc or cls is SecondTier
    assert class_doc(cls)


def test_second_tier_snapshot_round_trip_on_the_demo_registry() -> None:
    registry = load_registry(REPO / "configs" / "demo" / "stations.yaml")
    tier = build_second_tier(registry, BOOK)
    rng = np.random.default_rng(2)
    for k in range(50):
        tier.update(Reading("HD-RN-001", Kind.RAIN, "haidian", 60.0 * k, k,
                            {"rain_mm": float(rng.uniform(0, 2))}), [])  # fmt: skip
        tier.advance(60.0 * k + 1.0, [])
    again = build_second_tier(registry, BOOK)
    again.restore(json.loads(json.dumps(tier.snapshot(), allow_nan=False)))
    assert again.snapshot() == tier.snapshot()

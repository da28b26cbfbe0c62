"""The second tier: k-of-n agreement, area rainfall, seismic network coincidence, hazard chains,
drift, clock skew, completeness, and how the pipeline runs them between detectors and book."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from detectors.agreement import NeighbourAgreement
from detectors.area_rain import AreaRain
from detectors.chains import HazardChains
from detectors.completeness import Completeness
from detectors.network import SeismicNetwork, locate
from detectors.rain import UM_PER_MM
from detectors.skew import ClockSkew
from detectors.tier2 import build_second_tier
from tests.unit.detectors.helpers import BOOK, REPO
from yujing.config import load_registry
from yujing.config.stations import Registry, StationSpec
from yujing.contracts import Finding, Grade, Hazard, Kind, Reading

D = "d1"


def spec(sid: str, kind: Kind, *near: str, area: str | None = None, lat: float = 40.0,
         lon: float = 116.3, interval_s: float = 60.0) -> StationSpec:  # fmt: skip
    return StationSpec(sid, "", kind, D, lat, lon, interval_s, area=area, neighbours=near)


def finding(station: str, hazard: Hazard, rule: str, grade: Grade, ts: float,
            value: float = 1.0) -> Finding:  # fmt: skip
    return Finding(station, D, hazard, rule, grade, ts, value=value, threshold=0.5,
                   station=station)  # fmt: skip


# -- k of n ---------------------------------------------------------------------------------------


def test_one_sensor_alone_cannot_page_red_and_a_neighbour_confirms_later() -> None:
    gate = NeighbourAgreement(
        Registry.from_specs([spec("A", Kind.RAIN, "B", "C"), spec("B", Kind.RAIN, "A", "C"),
                             spec("C", Kind.RAIN, "A", "B")]), {})  # fmt: skip
    for other in ("B", "C"):  # both neighbours see the rain field and see nothing
        gate.observe(finding(other, Hazard.RAINSTORM, "rainstorm", Grade.NONE, 5.0))
    out = gate.observe(finding("A", Hazard.RAINSTORM, "rainstorm", Grade.RED, 10.0))
    assert [(f.area, f.grade) for f in out] == [("A", Grade.YELLOW)]
    assert out[0].evidence["raw_grade"] == "red" and out[0].message.startswith("unconfirmed")
    assert out[0].evidence["agreement"] == {"k": 2, "n": 3, "agreeing": [], "blind": [],
                                            "confirmed": False, "trusted": True}  # fmt: skip
    other_rule = finding("B", Hazard.RAINSTORM, "short_heavy_rain", Grade.BLUE, 11.0)
    assert gate.observe(other_rule)[1:] == []  # another rule confirms nothing
    confirmed = gate.observe(finding("C", Hazard.RAINSTORM, "rainstorm", Grade.BLUE, 12.0))
    assert [(f.area, f.grade, f.ts) for f in confirmed] == [
        ("C", Grade.BLUE, 12.0),
        ("A", Grade.RED, 12.0),
    ]
    back = gate.observe(finding("C", Hazard.RAINSTORM, "rainstorm", Grade.NONE, 20.0))
    assert [(f.area, f.grade) for f in back] == [("C", Grade.NONE), ("A", Grade.YELLOW)]


def test_a_drifting_neighbour_supports_nobody_and_lone_stations_pass() -> None:
    gate = NeighbourAgreement(
        Registry.from_specs([spec("A", Kind.GAS, "B", "C"), spec("B", Kind.GAS, "A"),
                             spec("C", Kind.GAS, "A"), spec("L", Kind.GAS)]), {})  # fmt: skip
    gate.observe(finding("B", Hazard.GAS_LEAK, "ch4", Grade.BLUE, 1.0))
    gate.observe(finding("C", Hazard.GAS_LEAK, "ch4", Grade.NONE, 1.0))
    drift = finding("B", Hazard.SENSOR, "drift", Grade.BLUE, 2.0)
    assert gate.observe(drift) == [drift]
    out = gate.observe(finding("A", Hazard.GAS_LEAK, "ch4", Grade.ORANGE, 3.0))
    assert [f.grade for f in out] == [Grade.YELLOW]  # B's blue does not count, C sees none
    assert out[0].evidence["agreement"]["blind"] == ["B"]
    lone = finding("L", Hazard.GAS_LEAK, "ch4", Grade.RED, 3.0)
    assert gate.observe(lone) == [lone]


def test_neighbours_that_cannot_see_do_not_count_against_a_sensor() -> None:
    gate = NeighbourAgreement(
        Registry.from_specs([spec("A", Kind.RAIN, "B", "C"), spec("B", Kind.RAIN, "A"),
                             spec("C", Kind.RAIN, "A")]), {})  # fmt: skip
    gate.observe(finding("B", Hazard.RAINSTORM, "rainstorm", Grade.UNKNOWN, 1.0))  # silent
    gate.observe(finding("C", Hazard.RAINSTORM, "rainstorm", Grade.NONE, 1.0))
    held = gate.observe(finding("A", Hazard.RAINSTORM, "rainstorm", Grade.ORANGE, 2.0))
    assert [f.grade for f in held] == [Grade.YELLOW]
    # C goes blind as well: nobody left who could contradict A, so A is judged on its own
    out = gate.observe(finding("C", Hazard.RAINSTORM, "rainstorm", Grade.UNKNOWN, 3.0))
    assert [(f.area, f.grade) for f in out] == [("C", Grade.UNKNOWN), ("A", Grade.ORANGE)]
    assert out[1].evidence["agreement"]["blind"] == ["B", "C"]
    assert out[1].evidence["agreement"]["k"] == 1


def test_a_neighbour_without_neighbours_of_its_own_still_confirms() -> None:
    # the middle river gauge lists the upper one, which lists nobody (as in beijing-0720)
    gate = NeighbourAgreement(
        Registry.from_specs([spec("UP", Kind.WATER_LEVEL), spec("MID", Kind.WATER_LEVEL, "UP")]),
        {},
    )
    gate.observe(finding("MID", Hazard.FLOOD, "level", Grade.YELLOW, 1.0))
    upper = finding("UP", Hazard.FLOOD, "level", Grade.BLUE, 2.0)
    assert gate.observe(upper) == [upper]
    out = gate.observe(finding("MID", Hazard.FLOOD, "level", Grade.ORANGE, 3.0))
    assert [f.grade for f in out] == [Grade.ORANGE]
    assert out[0].evidence["agreement"]["agreeing"] == ["UP"]


def test_with_k_1_a_lone_sensor_pages_but_an_untrusted_one_never_does() -> None:
    gate = NeighbourAgreement(
        Registry.from_specs([spec("A", Kind.CHEM, "B"), spec("B", Kind.CHEM, "A")]),
        {"toxic_gas/nh3": 1},
    )
    gate.observe(finding("B", Hazard.TOXIC_GAS, "nh3", Grade.NONE, 1.0))
    out = gate.observe(finding("A", Hazard.TOXIC_GAS, "nh3", Grade.ORANGE, 2.0))
    assert [f.grade for f in out] == [Grade.ORANGE]
    assert out[0].evidence["agreement"]["agreeing"] == []  # the officer sees it is alone
    drift = finding("A", Hazard.SENSOR, "drift", Grade.BLUE, 3.0)
    out = gate.observe(drift)
    assert [(f.hazard, f.grade) for f in out] == [(Hazard.SENSOR, Grade.BLUE),
                                                  (Hazard.TOXIC_GAS, Grade.YELLOW)]  # fmt: skip
    assert out[1].message.startswith("unconfirmed: sensor not trusted")


# -- area rainfall -------------------------------------------------------------------------------


def rain(station: str, ts: float, seq: int, mm: float) -> Reading:
    return Reading(station, Kind.RAIN, D, ts, seq, {"rain_mm": mm})


def test_area_mean_leaves_out_a_silent_gauge_and_needs_two() -> None:
    gauges = [spec(s, Kind.RAIN, area="z") for s in ("A", "B", "C")]
    area = AreaRain(Registry.from_specs(gauges), BOOK.for_kind(Kind.RAIN))
    for seq, s in enumerate(("A", "B", "C")):
        area.update(rain(s, 3600.0, 1, (30.0, 24.0, 0.0)[seq]))
    out = area.advance(3601.0)  # (30 + 24 + 0) / 3 = 18 mm: below 20 mm/h
    heavy = [f for f in out if f.rule == "short_heavy_rain"]
    assert [(f.area, f.grade.value, f.value) for f in heavy] == [("d1", "none", 18.0),
                                                                ("z", "none", 18.0)]  # fmt: skip
    silent = finding("C", Hazard.SENSOR, "silence", Grade.BLUE, 3700.0)
    assert area.observe(silent) == [silent]
    out = area.advance(3702.0)  # C leaves the mean: (30 + 24) / 2
    heavy = [f for f in out if f.rule == "short_heavy_rain"]
    assert [(f.grade.value, f.value) for f in heavy] == [("blue", 27.0), ("blue", 27.0)]
    assert heavy[0].evidence["left_out"] == ["C"] and heavy[0].station is None
    area.observe(finding("B", Hazard.SENSOR, "quality", Grade.BLUE, 3800.0))
    blind = [f for f in area.advance(3801.0) if f.area == "z"]
    assert {f.grade for f in blind} == {Grade.UNKNOWN}  # one gauge cannot make an area mean


# -- seismic network -------------------------------------------------------------------------------


def test_locate_finds_a_synthetic_epicentre_and_origin() -> None:
    xy = np.array([[0.0, 0.0], [30.0, 0.0], [0.0, 30.0], [30.0, 30.0], [15.0, 40.0]])
    source = np.array([12.0, 9.0])
    arrivals = 50.0 + np.hypot(np.linalg.norm(xy - source, axis=1), 10.0) / 6.0
    x, y, origin, rms = locate(xy, arrivals.tolist(), 6.0, 10.0)
    assert (x, y) == (12.0, 9.0) and origin == pytest.approx(50.0) and rms < 1e-9


def test_three_triggers_declare_an_event_graded_by_the_highest_intensity() -> None:
    stations = [spec(f"S{i}", Kind.SEISMIC, area="net", lat=40.0 + 0.05 * i) for i in range(4)]
    network = SeismicNetwork(Registry.from_specs(stations), BOOK.get(Hazard.EARTHQUAKE, "event"))
    t = 1000.0
    out = network.observe(finding("S0", Hazard.EARTHQUAKE, "trigger", Grade.BLUE, t, 6.0))
    assert out == []  # a trigger is consumed: it never reaches the book
    network.observe(finding("S1", Hazard.EARTHQUAKE, "trigger", Grade.BLUE, t + 0.8, 6.0))
    intensity = finding("S0", Hazard.EARTHQUAKE, "intensity", Grade.BLUE, t + 1.0, 4.4)
    assert network.observe(intensity) == [intensity]  # before the event: remembered
    event = network.observe(finding("S2", Hazard.EARTHQUAKE, "trigger", Grade.BLUE, t + 1.6, 6))
    assert [(f.area, f.rule, f.grade, f.ts) for f in event] == [
        ("d1", "event", Grade.BLUE, t + 1.6)
    ]
    assert event[0].evidence["stations"] == ["S0", "S1", "S2"]
    assert event[0].evidence["declared_after_origin_s"] > 0
    strong = finding("S3", Hazard.EARTHQUAKE, "intensity", Grade.ORANGE, t + 4.0, 6.4)
    assert [f.grade for f in network.observe(strong)[1:]] == [Grade.ORANGE]
    for s in ("S0", "S1", "S2"):
        network.observe(finding(s, Hazard.EARTHQUAKE, "trigger", Grade.NONE, t + 6.0))
    assert network.advance(t + 60.0) == []
    assert [f.grade for f in network.advance(t + 66.0)] == [Grade.NONE]


def test_two_triggers_or_triggers_too_far_apart_declare_nothing() -> None:
    stations = [spec(f"S{i}", Kind.SEISMIC, area="net") for i in range(3)]
    network = SeismicNetwork(Registry.from_specs(stations), BOOK.get(Hazard.EARTHQUAKE, "event"))
    for i, t in enumerate((0.0, 30.0, 60.0)):
        assert network.observe(finding(f"S{i}", Hazard.EARTHQUAKE, "trigger", Grade.BLUE, t)) == []


# -- hazard chains ---------------------------------------------------------------------------------


def test_the_shipped_chains_on_the_demo_registry() -> None:
    registry = load_registry(REPO / "configs" / "demo" / "stations.yaml")
    chains = HazardChains(registry, BOOK.chains)
    quake = Finding("HD-SM-005", "haidian", Hazard.EARTHQUAKE, "intensity", Grade.ORANGE, 50.0,
                    value=6.2, threshold=6.0, station="HD-SM-005")  # fmt: skip
    sites = {f.area for f in chains.observe(quake)[1:]}
    assert "waterworks" in sites and all(
        f.hazard is Hazard.TANK_INTEGRITY for f in chains.observe(quake)[1:]
    )
    slope = Finding("zone-2-0", "haidian", Hazard.RAINSTORM, "rainstorm", Grade.BLUE, 60.0,
                    value=52.0, threshold=50.0)  # an area-mean finding  # fmt: skip
    out = chains.observe(slope)[1:]
    assert [(f.area, f.hazard, f.grade) for f in out] == [
        ("xishan-foothills", Hazard.DEBRIS_FLOW, Grade.YELLOW)
    ]
    rise = Finding("HD-WL-003", "haidian", Hazard.FLOOD, "level_rise", Grade.BLUE, 900.0,
                   value=0.4, threshold=0.3, station="HD-WL-003")  # fmt: skip
    flash = chains.observe(rise)[1:]
    assert [(f.area, f.hazard.value, f.district) for f in flash] == [
        ("qinghe-downstream-villages", "flash_flood", "chaoyang")
    ]


# -- the whole second tier in the pipeline's order ------------------------------------------------


def test_build_second_tier_on_the_demo_registry_and_readings_reach_the_right_stages() -> None:
    registry = load_registry(REPO / "configs" / "demo" / "stations.yaml")
    tier = build_second_tier(registry, BOOK)
    assert [name for name, _ in tier.stages] == [
        "drift", "clock_skew", "agreement", "area_rain", "network", "chains",
    ]  # fmt: skip
    trigger = Finding("HD-SM-001", "haidian", Hazard.EARTHQUAKE, "trigger", Grade.BLUE, 5.0,
                      value=6.0, threshold=5.0, station="HD-SM-001")  # fmt: skip
    seismic = Reading("HD-SM-001", Kind.SEISMIC, "haidian", 5.0, 1, {})
    assert tier.update(seismic, [trigger]) == []  # consumed by the network stage
    tier.advance(10.0, [])
    rows = {r.station: r for r in tier.completeness.stations()}
    assert rows["HD-SM-001"].expected == 0  # nothing expected before the first tick


def test_completeness_per_station_and_district() -> None:
    registry = Registry.from_specs(
        [spec("A", Kind.RAIN), spec("B", Kind.RAIN), spec("Q", Kind.SEISMIC, interval_s=1.0)]
    )
    book = Completeness(registry, window_s=600.0)
    book.advance(0.0)
    for minute in range(10):
        book.update(rain("A", 60.0 * minute + 1, minute, 0.0))
        if minute % 2:
            book.update(rain("B", 60.0 * minute + 1, minute, 0.0))
    for second in range(600):
        for channel in range(3):  # three channels, one slot
            book.update(Reading("Q", Kind.SEISMIC, D, second + 0.5, channel, {}))
    book.advance(600.0)
    ratios = {r.station: r.ratio for r in book.stations()}
    assert ratios == {"A": 1.0, "B": 0.5, "Q": 1.0}
    districts = {(r.district, r.kind): (r.received, r.expected) for r in book.districts()}
    assert districts[(D, "rain")] == (15, 20) and districts[(D, "all")] == (615, 620)
    book.advance(1200.0)  # nothing for 10 min: a silent network reads 0
    assert {r.station: r.ratio for r in book.stations()} == {"A": 0.0, "B": 0.0, "Q": 0.0}


def test_restore_of_area_rain_repools_from_the_gauges() -> None:
    gauges = [spec(s, Kind.RAIN) for s in ("A", "B")]
    area = AreaRain(Registry.from_specs(gauges), BOOK.for_kind(Kind.RAIN))
    area.update(rain("A", 600.0, 1, 12.0))
    area.update(rain("B", 600.0, 1, 30.0))
    first = area.advance(601.0)
    again = AreaRain(Registry.from_specs(gauges), BOOK.for_kind(Kind.RAIN))
    again.restore(area.snapshot())
    area.update(rain("A", 1200.0, 2, 10.0))
    again.update(rain("A", 1200.0, 2, 10.0))
    assert area.advance(1201.0) == again.advance(1201.0)
    assert [f.value for f in first if f.rule == "short_heavy_rain"] == [21.0]


def test_sensor_findings_of_unknown_stations_pass_untouched() -> None:
    tier = build_second_tier(Registry.from_specs([spec("A", Kind.GAS)]), BOOK)
    stray = replace(finding("X", Hazard.SENSOR, "silence", Grade.BLUE, 1.0), district="d9")
    assert tier.advance(1.0, [stray]) == [stray]


# -- bookkeeping kept per reading, against the definitions worked out afresh ----------------------


def test_area_pools_equal_the_gauges_totals_as_readings_leave_the_windows() -> None:
    """Pools skip 0 mm increments and are added to per reading; after hours of readings
    entering and leaving the windows, a gauge leaving and rejoining the mean, each group's
    pooled total is the sum of its counted gauges' totals by the definition."""
    rng = np.random.default_rng(4)
    names = ("A", "B", "C", "D")
    gauges = [spec(s, Kind.RAIN, area="z" if s in "AB" else "y") for s in names]
    area = AreaRain(Registry.from_specs(gauges), BOOK.for_kind(Kind.RAIN))
    sent: dict[str, list[tuple[float, float]]] = {s: [] for s in names}
    for minute in range(1, 20 * 60):
        now = 60.0 * minute
        for seq, s in enumerate(names):
            mm = float(rng.choice([0.0, 0.0, 0.0, 0.4, 3.0])) if (minute // 90) % 2 else 0.0
            area.update(rain(s, now - seq, minute, mm))
            sent[s].append((now - seq, mm))
        if minute == 400:
            area.observe(finding("C", Hazard.SENSOR, "silence", Grade.BLUE, now))
        if minute == 700:
            area.observe(finding("C", Hazard.SENSOR, "silence", Grade.NONE, now))
        area.advance(now + 1.0)
        if minute % 37:
            continue
        for name, group in area._groups.items():
            used, _ = area._counting(group)
            if len(used) < area.min_gauges:
                continue  # blind: no mean, the pool waits
            at = group.eval_ts
            assert at is not None
            for width in area.windows.values():
                expected = sum(
                    round(mm * UM_PER_MM)
                    for s in used
                    for ts, mm in sent[s]
                    if at - width < ts <= at
                )
                assert group.pooled.total_um(at, width) == expected, (name, minute, width)


def _reference_skew(lags: list[float], persist_m: int, lag_s: float) -> bool:
    """The definition: the last persist_m lags counted all exceed the limit."""
    last = lags[-persist_m:]
    return len(last) == persist_m and min(last) > lag_s


def test_clock_skew_lagging_follows_the_last_lags_and_survives_a_restore() -> None:
    """Against the definition worked out afresh from every lag counted (once per tick per
    station: a second reading in a tick counts nothing), with a restored copy taking over
    halfway through."""
    rng = np.random.default_rng(8)
    registry = Registry.from_specs([spec(s, Kind.GAS) for s in "ABCDE"])
    skew = ClockSkew(registry, lag_s=900.0, persist_m=3)
    lags: dict[str, list[float]] = {s: [] for s in "ABCDE"}
    counted: dict[str, int] = {}
    skewed: set[str] = set()
    got: list[tuple[str, str]] = []
    expected: list[tuple[str, str]] = []
    for tick in range(400):
        now = 60.0 * tick
        for s in "ABCDE":
            behind = float(rng.choice([0.0, 600.0, 1200.0, 1800.0])) if s in "DE" else 0.0
            for _ in range(int(rng.integers(1, 3))):
                frontier = skew._frontier
                found = skew.update(Reading(s, Kind.GAS, D, now - behind, tick, {}))
                got += [(f.station or "", f.grade.value) for f in found]
                if frontier is None or counted.get(s) == tick:
                    continue
                counted[s] = tick
                lags[s].append(frontier - (now - behind))
                lagging = _reference_skew(lags[s], 3, 900.0)
                if lagging != (s in skewed):
                    skewed ^= {s}
                    expected.append((s, "blue" if lagging else "none"))
        skew.advance(now + 1.0)
        if tick == 200:  # from here on a restored copy carries on
            copy = ClockSkew(registry, lag_s=900.0, persist_m=3)
            copy.restore(skew.snapshot())
            assert copy.snapshot() == skew.snapshot()
            skew = copy
    assert got == expected and {s for s, _ in got} == {"D", "E"}


def test_completeness_runs_count_the_distinct_slots_of_the_window() -> None:
    """Readings out of order, duplicated and missing; after every tick each station's received
    count is the number of distinct slots with a reading inside the window (by the definition),
    and a restored copy reads the same."""
    rng = np.random.default_rng(2)
    registry = Registry.from_specs([spec("A", Kind.RAIN), spec("Q", Kind.SEISMIC, interval_s=7.0)])
    book = Completeness(registry, window_s=900.0)
    seen: dict[str, set[int]] = {"A": set(), "Q": set()}
    intervals = {"A": 60.0, "Q": 7.0}
    kinds = {"A": Kind.RAIN, "Q": Kind.SEISMIC}
    book.advance(0.0)
    for tick in range(1, 240):
        now = 30.0 * tick
        for s, interval in intervals.items():
            for _ in range(int(rng.integers(0, 4))):
                ts = now - float(rng.uniform(0.0, 1500.0)) * float(rng.random() < 0.2)
                book.update(Reading(s, kinds[s], D, ts, tick, {}))
                seen[s].add(math.floor(ts / interval))
        book.advance(now)
        for row in book.stations():
            assert row.station is not None
            interval = intervals[row.station]
            window = max(900.0, 10 * interval)
            start = max(math.ceil((now - window) / interval), 0)
            end = math.floor(now / interval)
            assert row.received == len({x for x in seen[row.station] if start <= x < end})
            assert row.expected == end - start
    again = Completeness(registry, window_s=900.0)
    again.restore(book.snapshot())
    assert again.stations() == book.stations() and again.snapshot() == book.snapshot()

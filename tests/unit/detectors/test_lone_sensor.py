"""A lone sensor's orange and red, as the duty officer sees them: the whole pipeline (first tier,
second tier with neighbour agreement, alert book) on the shipped ladders (configs/ladders).

Where agreement applies is decided per hazard in the ladder files (``agree_k``, see
docs/detectors.md): a toxic-gas or methane detector at a point source and a river gauge against
its own levels page on their own; rain gauges and strong-motion stations need a neighbour that
sees the same field. A sensor fault (a spike, a drift) must not page orange or red either way.
"""

from __future__ import annotations

from collections.abc import Iterable

from tests.unit.detectors.helpers import BOOK, REPO, RIVER_PARAMS
from yujing.config import load_quantities
from yujing.config.settings import IngestSettings
from yujing.config.stations import Registry, StationSpec
from yujing.contracts import Grade, Hazard, Kind, Notice, Reading
from yujing.pipeline import Pipeline

T0 = 1_800_000_000.0
SITE = ("NH3-A", "NH3-B", "NH3-C")  # three NH3 detectors of one site, each listing the others
OEL_NH3_PPM = 42.0  # GBZ 2.1-2019 PC-STEL, configs/ladders/chem.yaml


def pipeline(specs: Iterable[StationSpec]) -> Pipeline:
    return Pipeline(
        Registry.from_specs(list(specs)),
        BOOK,
        load_quantities(REPO / "configs" / "quantities.yaml"),
        IngestSettings(),
    )


def nh3_site(interval_s: float = 10.0) -> Pipeline:
    return pipeline(
        StationSpec(sid, "", Kind.CHEM, "d1", 39.88, 116.49 + i / 10_000, interval_s,
                    area="site", params={"substance": "nh3"},
                    neighbours=tuple(s for s in SITE if s != sid), rules=("nh3",))
        for i, sid in enumerate(SITE)
    )  # fmt: skip


def run_site(pipe: Pipeline, values: dict[str, list[float]], interval_s: float) -> list[Notice]:
    """Every detector reports every ``interval_s``; a tick after each round. The notices."""
    notices: list[Notice] = []
    for n in range(len(values[SITE[0]])):
        t = T0 + interval_s * (n + 1)
        readings = [
            Reading(sid, Kind.CHEM, "d1", t, n + 1, {"nh3_ppm": values[sid][n]}) for sid in SITE
        ]
        notices += pipe.process_readings(readings, t + 0.5).notices
        notices += pipe.tick(t + 1.0).notices
    return notices


def first(notices: list[Notice], station: str, rule: str, grade: Grade) -> Notice | None:
    return next(
        (
            n
            for n in notices
            if n.key.area == station and n.key.rule == rule and n.grade.rank >= grade.rank
        ),
        None,
    )


def top_grade(notices: list[Notice], station: str, rule: str) -> Grade:
    grades = [n.grade for n in notices if n.key.area == station and n.key.rule == rule]
    return max(grades, key=lambda g: g.rank, default=Grade.NONE)


def test_a_single_nh3_detector_at_3x_the_limit_pages_orange_within_20_s() -> None:
    clean, minutes = 0.5, 10
    leak_at = 6 * minutes  # 10 min of clean air (10 s reports), then the plume reaches A only
    values = {sid: [clean] * (leak_at + 30) for sid in SITE}
    values["NH3-A"][leak_at:] = [3 * OEL_NH3_PPM] * 30
    notices = run_site(nh3_site(), values, 10.0)
    orange = first(notices, "NH3-A", "nh3", Grade.ORANGE)
    assert orange is not None and orange.grade is Grade.ORANGE
    onset = T0 + 10.0 * (leak_at + 1)
    assert orange.ts - onset <= 20.0  # 2 of 3 readings: the second report at 3x the OEL
    assert top_grade(notices, "NH3-B", "nh3") is Grade.NONE  # the neighbours never saw it


def test_a_single_nh3_spike_pages_nothing() -> None:
    values = {sid: [0.5] * 90 for sid in SITE}
    values["NH3-A"][60] = 150.0  # one report at 3.5x the OEL, then clean air again
    notices = run_site(nh3_site(), values, 10.0)
    assert [n for n in notices if n.key.hazard is Hazard.TOXIC_GAS] == []


def test_a_drifting_nh3_detector_is_flagged_and_never_pages_orange() -> None:
    # A's cell creeps up 10 ppm an hour against its neighbours (a fouled cell) from hour 7 on
    hours, per_hour = 18, 60
    values = {sid: [0.5] * (hours * per_hour) for sid in ("NH3-B", "NH3-C")}
    values["NH3-A"] = [0.5 + 10.0 * max(0.0, n / per_hour - 7.0) for n in range(hours * per_hour)]
    assert max(values["NH3-A"]) > 84.0 + 20.0  # the cell itself goes well past orange
    notices = run_site(nh3_site(interval_s=60.0), values, 60.0)
    drift = first(notices, "NH3-A", "drift", Grade.BLUE)
    nh3_yellow = first(notices, "NH3-A", "nh3", Grade.YELLOW)
    assert drift is not None and drift.key.hazard is Hazard.SENSOR
    assert nh3_yellow is not None and drift.ts <= nh3_yellow.ts  # flagged before yellow
    assert top_grade(notices, "NH3-A", "nh3") is Grade.YELLOW  # held there, never orange


def river(sid: str, *near: str) -> StationSpec:
    return StationSpec(sid, "", Kind.WATER_LEVEL, "d1", 40.0, 116.3, 300.0,
                       params=dict(RIVER_PARAMS), neighbours=near)  # fmt: skip


def test_a_river_gauge_at_its_guaranteed_level_pages_orange_before_the_gauge_upstream() -> None:
    # beijing-0720: the middle Qinghe gauge lists the upper one, whose wave comes later there
    pipe = pipeline([river("UP"), river("MID", "UP")])
    notices: list[Notice] = []
    for n in range(1, 61):  # 5 min reports; MID rises to 11.6 m (guaranteed 11.5 m), UP stays
        t = T0 + 300.0 * n
        mid = 9.0 + min(2.6, 0.05 * n)
        readings = [
            Reading("UP", Kind.WATER_LEVEL, "d1", t, n, {"level_m": 8.0}),
            Reading("MID", Kind.WATER_LEVEL, "d1", t, n, {"level_m": mid}),
        ]
        notices += pipe.process_readings(readings, t + 0.5).notices
        notices += pipe.tick(t + 1.0).notices
    orange = first(notices, "MID", "level", Grade.ORANGE)
    assert orange is not None
    crossing = T0 + 300.0 * 50  # 9.0 + 0.05 n >= 11.5 at n = 50
    assert orange.ts - crossing <= 300.0 + 1.0  # one report (the spike check's confirmation)
    assert top_grade(notices, "UP", "level") is Grade.NONE


def rain_gauge(sid: str, *near: str) -> StationSpec:
    return StationSpec(sid, "", Kind.RAIN, "d1", 40.0, 116.3, 60.0, area="z", neighbours=near)


def test_a_lone_rain_gauge_is_held_at_yellow_until_a_neighbour_confirms() -> None:
    gauges = ("R1", "R2", "R3")
    pipe = pipeline(rain_gauge(g, *(o for o in gauges if o != g)) for g in gauges)
    notices: list[Notice] = []
    for minute in range(1, 241):  # 0.4 mm/min: R1 from the start, R2 from minute 61, R3 dry
        t = T0 + 60.0 * minute
        mm = {"R1": 0.4, "R2": 0.4 if minute > 60 else 0.0, "R3": 0.0}
        readings = [Reading(g, Kind.RAIN, "d1", t, minute, {"rain_mm": mm[g]}) for g in gauges]
        notices += pipe.process_readings(readings, t + 0.5).notices
        notices += pipe.tick(t + 1.0).notices
    held = first(notices, "R1", "rainstorm", Grade.YELLOW)  # 50 mm in 3 h at minute 125
    assert held is not None and held.grade is Grade.YELLOW and "unconfirmed" in held.message
    orange = first(notices, "R1", "rainstorm", Grade.ORANGE)
    r2 = first(notices, "R2", "rainstorm", Grade.BLUE)  # R2 reaches 50 mm at minute 185
    assert orange is not None and r2 is not None
    assert held.ts < r2.ts and abs(orange.ts - r2.ts) <= 60.0  # confirmed as R2 gets there

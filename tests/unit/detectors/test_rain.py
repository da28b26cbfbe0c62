"""Rain windows and the rainstorm ladders on hyetographs whose totals are worked out by hand."""

from __future__ import annotations

import math
import random

import pytest

from detectors import RainDetector, SilenceDetector
from detectors.rain import RAIN_WINDOWS_S, UM_PER_MM, RainWindows, _um_edge
from tests.unit.detectors.helpers import Event, changes, feed, play, reading, rules, station
from yujing.config.stations import StationSpec
from yujing.contracts import Finding, Grade, Kind, Reading

GAUGE = station(Kind.RAIN, "R1", interval_s=300.0)
STEP_S = 300.0  # a report every 5 min; each carries the rain since the previous one


def gauge(spec: StationSpec = GAUGE) -> RainDetector:
    return RainDetector(spec, rules(spec))


def hyetograph(increments_mm: list[float], spec: StationSpec = GAUGE) -> list[Reading]:
    """Reading i (1-based) at ts = 300 i carries increments_mm[i - 1]."""
    return [reading(spec, STEP_S * i, i, rain_mm=mm) for i, mm in enumerate(increments_mm, start=1)]


# A summer storm: 1 mm/5 min for 1 h, 3 mm/5 min for 1 h, 6 mm/5 min for 30 min, 0.5 mm/5 min
# for 1.5 h, then dry. Cumulative: 12, 48, 84, 93 mm.
STORM = [1.0] * 12 + [3.0] * 12 + [6.0] * 6 + [0.5] * 18 + [0.0] * 152


def test_windows_sum_exactly_what_the_definition_says() -> None:
    rng = random.Random(7)
    rows = [
        (rng.choice([60.0, 300.0, 3600.0]) * rng.randint(0, 200), rng.randint(0, 5000))
        for _ in range(400)
    ]
    windows = RainWindows()
    for ts, um in rows:  # arbitrary order, equal times allowed
        windows.add(ts, um)
    for at in (0.0, 3600.0, 50_000.0, 400_000.0, 720_000.0):
        for quantity, width in RAIN_WINDOWS_S.items():
            expected = sum(um for ts, um in rows if at - width < ts <= at) / UM_PER_MM
            assert windows.totals(at)[quantity] == expected
    # evaluation times creeping forward (as a detector's do), jumping back and far ahead,
    # with increments added late and old ones pruned in between
    kept = list(rows)
    at = 0.0
    for step in range(600):
        at = at + rng.choice([1.0, 30.0, 60.0, 299.0]) if step % 23 else rng.uniform(0, 720_000)
        if step % 13 == 0:
            late = (rng.uniform(0, at), rng.randint(0, 5000))
            windows.add(*late)
            kept.append(late)
        if step % 41 == 0:
            windows.prune(at - 30 * 3600.0)
            kept = [(ts, um) for ts, um in kept if ts > at - 30 * 3600.0]
        totals = windows.totals(at)
        for quantity, width in RAIN_WINDOWS_S.items():
            assert totals[quantity] == sum(um for ts, um in kept if at - width < ts <= at) / 1000


def test_pruned_increments_left_in_the_arrays_are_never_seen() -> None:
    """A report a minute for days, pruned at each (the pruned ones removed only now and then),
    some older than what was pruned coming in late, totals asked for at earlier times too:
    every answer, the length and the snapshot are those of the increments not pruned."""
    rng = random.Random(3)
    windows = RainWindows()
    kept: list[tuple[float, int]] = []
    for minute in range(4 * 24 * 60):
        at = 60.0 * minute
        row = (at, rng.choice([0, 0, 100, 2500]))
        if minute % 97 == 0:  # late, sometimes older than everything kept
            row = (at - rng.uniform(0, 30 * 3600.0), row[1])
        windows.add(*row)
        kept.append(row)
        windows.prune(at - 24 * 3600.0)
        kept = [(ts, um) for ts, um in kept if ts > at - 24 * 3600.0]
        if minute % 53 == 0:
            back = at - rng.uniform(0, 3 * 3600.0)
            for width in RAIN_WINDOWS_S.values():
                expected = sum(um for ts, um in kept if back - width < ts <= back)
                assert windows.total_um(back, width) == expected
            assert windows.totals(at) == _reference_totals(kept, at)
            assert len(windows) == len(kept)
            assert sorted(zip(*windows.to_json().values(), strict=True)) == sorted(kept)


def _reference_totals(rows: list[tuple[float, int]], at: float) -> dict[str, float]:
    return {
        quantity: sum(um for ts, um in rows if at - width < ts <= at) / UM_PER_MM
        for quantity, width in RAIN_WINDOWS_S.items()
    }


def test_pruning_keeps_totals_and_snapshot_round_trips() -> None:
    windows = RainWindows()
    for i in range(100):
        windows.add(i * 3600.0, 1000)
    before = windows.totals(99 * 3600.0)
    windows.prune(99 * 3600.0 - 24 * 3600.0)
    assert len(windows) == 24
    assert (
        windows.totals(99 * 3600.0)
        == before
        == {
            "rain_1h_mm": 1.0,
            "rain_3h_mm": 3.0,
            "rain_6h_mm": 6.0,
            "rain_12h_mm": 12.0,
            "rain_24h_mm": 24.0,
        }
    )
    again = RainWindows.from_json(windows.to_json())
    assert again.totals(99 * 3600.0) == before


def test_storm_gives_the_hand_computed_findings() -> None:
    findings = feed(gauge(), hyetograph(STORM))
    assert changes(findings) == [
        (300.0, "rainstorm", "none", 1.0, None),  # first reading: unknown → none
        (300.0, "short_heavy_rain", "none", 1.0, None),
        (4800.0, "short_heavy_rain", "blue", 20.0, 20.0),  # 8×1 + 4×3
        (7500.0, "rainstorm", "orange", 54.0, 50.0),  # 3 h total 54 mm
        (8700.0, "short_heavy_rain", "orange", 51.0, 50.0),  # 7×3 + 5×6
        # 1 h total 54, 51.5, 49, 46.5: inside the 5 mm band, orange holds; 44 at 10200 s
        # starts the 1800 s dwell; at 12000 s the hour holds 17 mm → straight to none
        (12000.0, "short_heavy_rain", "none", 17.0, None),
        # 3 h total falls below 45 at 18300 s (39 mm); after 3600 s the 6 h total is 92 mm
        (21900.0, "rainstorm", "yellow", 92.0, 50.0),
        (32700.0, "rainstorm", "blue", 93.0, 50.0),  # 6 h below 45 since 29100 s; 12 h 93
        (54300.0, "rainstorm", "none", 5.5, None),  # 12 h below 45 since 50700 s
    ]
    by_rule = {(f.rule, f.grade): f for f in findings}
    orange = by_rule[("rainstorm", Grade.ORANGE)]
    assert orange.quantity == "rain_3h_mm"
    assert orange.message == "3 h rain 54.0 mm ≥ 50 mm (orange)"
    assert orange.evidence["window_s"] == 3 * 3600.0
    assert orange.evidence["totals_mm"]["rain_12h_mm"] == 54.0
    assert (orange.area, orange.station, orange.district) == ("R1", "R1", "d1")
    assert orange.source_ts == 7500.0
    yellow = by_rule[("rainstorm", Grade.YELLOW)]
    assert yellow.quantity == "rain_6h_mm"
    assert yellow.message == "6 h rain 92.0 mm ≥ 50 mm (yellow, down from orange)"
    cleared = by_rule[("rainstorm", Grade.NONE)]
    assert cleared.quantity == "rain_12h_mm"
    assert cleared.message == "12 h rain 5.5 mm < 45 mm for 3600 s (none, was blue)"


# Long light rain, then heavier: the rainstorm signal climbs every rung in turn.
CLIMB = [0.4] * 125 + [1.0] * 36 + [3.0] * 32


def test_rainstorm_climbs_blue_yellow_orange_red_one_finding_per_change() -> None:
    findings = feed(gauge(), hyetograph(CLIMB))
    assert changes(findings, "rainstorm") == [
        (300.0, "rainstorm", "none", 0.4, None),
        (125 * STEP_S, "rainstorm", "blue", 50.0, 50.0),  # 12 h = 125 × 0.4
        (161 * STEP_S, "rainstorm", "yellow", 50.4, 50.0),  # 6 h = 36 × 0.4 + 36 × 1
        (168 * STEP_S, "rainstorm", "orange", 50.0, 50.0),  # 3 h = 29 × 1 + 7 × 3
        (193 * STEP_S, "rainstorm", "red", 100.0, 100.0),  # 3 h = 4 × 1 + 32 × 3
    ]
    assert [f.quantity for f in findings if f.rule == "rainstorm"] == [
        "rain_3h_mm",
        "rain_12h_mm",
        "rain_6h_mm",
        "rain_3h_mm",
        "rain_3h_mm",
    ]


def test_dwell_interrupted_by_rain_keeps_the_grade() -> None:
    # 1 h total: 24 mm (blue), then below 18 for 25 min, back above 18, below again for 30 min
    increments = [2.0] * 12 + [0.0] * 5 + [12.0] + [0.0] * 12
    findings = feed(gauge(), hyetograph(increments))
    assert changes(findings, "short_heavy_rain") == [
        (300.0, "short_heavy_rain", "none", 2.0, None),
        (3000.0, "short_heavy_rain", "blue", 20.0, 20.0),
        # 16 mm at 4800 s starts the 1800 s dwell; 12 mm more at 5400 s (24 mm) ends it; 16 mm
        # at 6600 s starts it again; at 8400 s the hour holds only the 12 mm → none
        (8400.0, "short_heavy_rain", "none", 12.0, None),
    ]


def test_windows_expire_in_advance_and_step_down_follows_the_dwell() -> None:
    # a gauge that reports only when it tips: silence must not cut in (factor 100)
    spec = station(Kind.RAIN, "R2", interval_s=300.0, silence_factor=100.0)
    detector = gauge(spec)
    out = feed(
        detector, [reading(spec, 600.0, 1, rain_mm=30.0), reading(spec, 1200.0, 2, rain_mm=30.0)]
    )
    assert changes(out) == [
        (600.0, "rainstorm", "none", 30.0, None),
        (600.0, "short_heavy_rain", "blue", 30.0, 20.0),
        (1200.0, "rainstorm", "orange", 60.0, 50.0),
        (1200.0, "short_heavy_rain", "orange", 60.0, 50.0),
    ]
    ticks: list[Finding] = []
    for now in range(1260, 30_000, 60):
        ticks.extend(detector.advance(float(now)))
    # the 600 s report leaves the hour at 4200 s (window (t-1h, t]): 30 mm < 45 starts the dwell;
    # at 6000 s the hour is empty → none. The 3 h total drops to 30 at 11400 s; 3600 s later the
    # 6 h total (60 mm) still holds yellow; likewise 6 h → 12 h (blue) at 22200 + 3600 s.
    assert changes(ticks) == [
        (6000.0, "short_heavy_rain", "none", 0.0, None),
        (15000.0, "rainstorm", "yellow", 60.0, 50.0),
        (25800.0, "rainstorm", "blue", 60.0, 50.0),
    ]
    assert all(f.source_ts is None for f in ticks)  # time-driven, no reading behind them


def test_a_shuffled_burst_gives_exactly_the_in_order_findings() -> None:
    readings = hyetograph(CLIMB + STORM)
    expected = feed(gauge(), readings)
    rng = random.Random(3)
    for block in (12, 36, len(readings)):  # shuffled within 1 h, 3 h, everything
        shuffled = [readings[0]]
        rest = readings[1:]
        for i in range(0, len(rest), block):
            part = rest[i : i + block]
            rng.shuffle(part)
            shuffled.extend(part)
        assert feed(gauge(), shuffled) == expected


def _outage(upload_order: list[int]) -> tuple[list[Finding], list[Finding]]:
    """A gauge reports live for 2 h, buffers 1 h offline (the storm's peak), then uploads the
    buffer in ``upload_order`` in one batch and goes on live. The runtime ticks every 60 s."""
    readings = hyetograph(STORM)
    live_before = readings[:24]
    buffered = readings[24:36]
    live_after = readings[36:60]
    events: list[Event] = []
    for r in live_before:
        events += [("r", r), ("t", r.ts + 30.0), ("t", r.ts + 90.0)]
    for now in range(int(live_before[-1].ts) + 120, int(buffered[-1].ts) + 1, 60):
        events.append(("t", float(now)))
    events += [("r", buffered[i]) for i in upload_order]
    for r in live_after:
        events += [("r", r), ("t", r.ts + 30.0), ("t", r.ts + 90.0)]
    detector = gauge()
    watch = SilenceDetector(GAUGE, rules(GAUGE))
    return play(detector, events), play(watch, events)


def test_an_hour_late_shuffled_upload_equals_the_in_order_upload() -> None:
    order = list(range(12))
    in_order, watch_in_order = _outage(order)
    random.Random(5).shuffle(order)
    shuffled, watch_shuffled = _outage(order)
    assert shuffled == in_order
    assert watch_shuffled == watch_in_order
    # while offline the rules are unknown, never none; the sensor finding says why
    assert [(f.rule, f.grade) for f in in_order if f.grade is Grade.UNKNOWN] == [
        ("rainstorm", Grade.UNKNOWN),
        ("short_heavy_rain", Grade.UNKNOWN),
    ]
    assert [f.grade for f in watch_in_order] == [Grade.BLUE, Grade.NONE]
    # the buffered hour crossed orange for both rules: published once data is back
    after = [f for f in in_order if f.ts >= 24 * STEP_S and f.grade is not Grade.UNKNOWN]
    assert {(f.rule, f.grade) for f in after} >= {
        ("rainstorm", Grade.ORANGE),
        ("short_heavy_rain", Grade.ORANGE),
    }


def test_a_reading_late_after_a_tick_can_only_raise_at_the_current_time() -> None:
    detector = gauge()
    readings = hyetograph([5.0] * 6)
    out = feed(detector, readings[:2] + readings[3:])  # seq 3 missing: 4..6 wait
    assert changes(out) == [
        (300.0, "rainstorm", "none", 5.0, None),
        (300.0, "short_heavy_rain", "none", 5.0, None),
    ]
    out = detector.advance(1810.0)  # the tick releases 4..6 in order (then evaluates at 1810 s)
    assert changes(out) == [(1500.0, "short_heavy_rain", "blue", 20.0, 20.0)]
    big = reading(GAUGE, 900.0, 3, rain_mm=40.0)  # seq 3 arrives: 65 mm in the hour at 1810 s
    late = detector.update(big)
    assert changes(late) == [
        (1810.0, "rainstorm", "orange", 65.0, 50.0),
        (1810.0, "short_heavy_rain", "orange", 65.0, 50.0),
    ]
    assert all(f.source_ts == 900.0 and f.evidence["late"] for f in late)
    # a late zero changes no total: nothing
    assert detector.update(reading(GAUGE, 899.0, 0, rain_mm=0.0)) == []


@pytest.mark.parametrize("bad", ["rain_2h_mm", "level_m"])
def test_a_rain_rule_reading_an_unknown_window_is_a_config_error(bad: str) -> None:
    from dataclasses import replace

    from yujing.contracts import ConfigError

    spec = rules(GAUGE)[0]
    broken = replace(spec, ladder=replace(spec.ladder, quantity=bad))
    with pytest.raises(ConfigError, match=bad):
        RainDetector(GAUGE, [broken])


def _always_steps(detector: RainDetector) -> RainDetector:
    """The reference: every evaluation works the totals out and steps the ladders."""
    detector.shortcuts = False
    return detector


def test_skipping_evaluations_that_cannot_change_a_grade_changes_no_finding() -> None:
    """Showers, a storm through every grade, dwells, a broken gauge (blind), an outage
    (silence), late and shuffled reports, ticks at irregular times and a snapshot restored
    midway: the findings, their
    evidence and the state are exactly those of stepping the ladders at every evaluation."""
    rng = random.Random(11)
    increments = [rng.choice([0.0, 0.0, 0.5, 1.5, 4.0, 9.0]) for _ in range(600)]
    increments[200:236] = [6.0] * 36  # 216 mm in 3 h: red
    increments[300:306] = [250.0] * 6  # a broken gauge: out of range, then blind for a while
    readings = hyetograph(increments)
    del readings[400:412]  # an hour offline: silent, then back
    events: list[Event] = []
    for i, r in enumerate(readings):
        if i % 50 == 7:  # a late pair, shuffled
            events.append(("r", readings[i + 1]))
        if i % 50 != 8:
            events.append(("r", r))
        for _ in range(rng.randint(0, 2)):
            events.append(("t", r.ts + rng.uniform(1.0, 299.0)))
        if i == 399:  # ticks go on while the gauge is offline
            events += [("t", r.ts + 300.0 * k + 150.0) for k in range(13)]
    reference = _always_steps(RainDetector(GAUGE, rules(GAUGE)))
    fast = RainDetector(GAUGE, rules(GAUGE))
    half = len(events) // 2
    expected = play(reference, events)
    got = play(fast, events[:half])
    restored = RainDetector(GAUGE, rules(GAUGE))
    restored.restore(fast.snapshot())
    got += play(restored, events[half:])
    assert [(f.ts, f.rule, f.grade, f.value, f.evidence) for f in got] == [
        (f.ts, f.rule, f.grade, f.value, f.evidence) for f in expected
    ]
    assert {f.grade for f in expected} >= {Grade.BLUE, Grade.RED, Grade.NONE, Grade.UNKNOWN}
    assert restored.snapshot() == reference.snapshot()
    assert fast.skipped + restored.skipped > len(events) // 2  # most evaluations are skipped


# -- the quiet path: totals not worked out while none can have left its band -----------------


def _reference_um(rows: list[tuple[float, int]], at: float, width: float) -> int:
    return sum(um for ts, um in rows if at - width < ts <= at)


def test_leaving_at_bounds_what_leaves_a_window_until_then_and_no_later() -> None:
    """Whatever the window and the amount: until ``leaving_at`` no more than that amount has
    left the window (what the windows hold unchanged), a second after it more has."""
    rng = random.Random(11)
    base = 1.7e9 + 0.1  # a real epoch: times not exact in binary, sums rounded
    windows = RainWindows()
    rows: list[tuple[float, int]] = []
    at = base
    checked = 0
    for _ in range(1500):
        if rng.random() < 0.5:  # a report: mostly dry, now and then rain, rarely late
            ts = at - (rng.uniform(0, 7200.0) if rng.random() < 0.05 else 0.0)
            um = rng.choice([0, 0, 0, 0, 200, 1500])
            windows.add(ts, um)
            rows.append((ts, um))
        sums = windows.sums_um(at)
        assert sums == [_reference_um(rows, at, w) for w in RAIN_WINDOWS_S.values()]
        k = rng.randrange(len(RAIN_WINDOWS_S))
        width = list(RAIN_WINDOWS_S.values())[k]
        drop = rng.choice([0, 0, 100, 1500, 5000])
        until = windows.leaving_at(k, drop)
        assert windows.entering_at() == math.inf  # nothing newer than `at` was added
        if math.isfinite(until):
            for later in (at, until - 1.0, (at + until) / 2.0):
                if at <= later < until - 1.0:
                    assert _reference_um(rows, later, width) >= sums[k] - drop
                    checked += 1
            assert _reference_um(rows, until + 1.0, width) < sums[k] - drop
        else:
            assert _reference_um(rows, at + width, width) >= sums[k] - drop
        at += rng.choice([1.0, 30.0, 60.0, 600.0, 3600.0])
    assert checked > 500


def test_zero_increments_leave_nothing_and_later_increments_enter() -> None:
    windows = RainWindows()
    windows.add(600.0, 5000)
    for minute in range(11, 60):
        windows.add(60.0 * minute, 0)
    assert windows.sums_um(3540.0)[0] == 5000
    assert windows.leaving_at(0, 0) == 4200.0  # the 5 mm leaves the hour at 4200 s
    assert windows.leaving_at(0, 5000) == math.inf  # no more than it can leave
    assert windows.sums_um(4200.0)[0] == 0
    windows.add(4260.0, 1)
    windows.sums_um(4200.0)
    assert windows.entering_at() == 4260.0


@pytest.mark.parametrize("mm", [0.1, 0.3, 2.0, 18.0, 17.9, 45.0, 49.99, 90.0, 100.0, 1e-4])
def test_breakpoints_in_um_split_totals_as_the_mm_ones_do(mm: float) -> None:
    edge = _um_edge(mm)
    for um in range(max(0, edge - 3), edge + 4):
        assert (um / UM_PER_MM >= mm) == (um >= edge)


def _storm_with_dry_spells(spec: StationSpec, seed: int) -> list[Event]:
    """60 h of reports each minute (a few missing), ticks in between: 5 h of showers after
    10 h dry, and the last 30 h dry (longer than every window)."""
    rng = random.Random(seed)
    events: list[Event] = []
    seq = 0
    for minute in range(1, 60 * 60):
        if rng.random() < 0.97:
            seq += 1
            wet = (minute // 300) % 3 == 1 and minute < 30 * 60
            mm = rng.choice([0.0, 0.5, 2.0, 6.0]) if wet else 0.0
            events.append(("r", reading(spec, 60.0 * minute + 0.25, seq, rain_mm=mm)))
        events.append(("t", 60.0 * minute + 30.0))
    return events


def test_the_quiet_path_changes_no_finding_and_no_snapshot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Against a detector that works every evaluation out in full: the same findings, and the
    same state (the totals kept, dry reports older than a day forgotten alike) all along."""
    spec = station(Kind.RAIN, "R3", interval_s=60.0)
    events = _storm_with_dry_spells(spec, 5)
    fast = gauge(spec)
    full = gauge(spec)
    fast_findings: list[Finding] = []
    full_findings: list[Finding] = []
    for start in range(0, len(events), 500):
        part = events[start : start + 500]
        fast_findings += play(fast, part)
        with monkeypatch.context() as patch:
            patch.setattr(RainDetector, "_quiet", lambda self, at: False)
            full_findings += play(full, part)
        assert fast.snapshot() == full.snapshot()
    assert fast_findings == full_findings
    assert len({f.grade for f in fast_findings}) >= 3  # the storm did move the ladders
    assert len(fast.snapshot()["extra"]["increments"]["ts"]) <= 24 * 60  # a day at most


def test_a_restored_gauge_goes_on_as_the_uninterrupted_one() -> None:
    spec = station(Kind.RAIN, "R4", interval_s=60.0)
    events = _storm_with_dry_spells(spec, 9)
    whole = gauge(spec)
    expected = play(whole, events)
    for cut in (300, 1700, len(events) - 200):
        first = gauge(spec)
        before = play(first, events[:cut])
        second = gauge(spec)
        second.restore(first.snapshot())
        assert before + play(second, events[cut:]) == expected

"""The validation measurements of docs/validation.md, one function per dataset.

The tests in this folder call them and assert; ``python -m tests.realdata.validation`` prints every
figure (the numbers in docs/validation.md come from that run). ObsPy is called here as the
reference implementation, never copied.
"""

from __future__ import annotations

import json
import statistics
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import numpy as np
from obspy.signal.filter import bandpass
from obspy.signal.trigger import recursive_sta_lta, trigger_onset

from tests.realdata.seismic import (
    OBSPY,
    TRIGGER,
    Trace,
    onsets,
    phasenet,
    read_ascii,
    run_picker,
)

SR_PHASENET = 100.0


def obspy_onsets(samples: np.ndarray[Any, Any], sr_hz: float, **settings: float) -> list[float]:
    """ObsPy's own chain at the same settings: causal band-pass, recursive_sta_lta (C),
    trigger_onset; onsets in seconds from the first sample."""
    s = {**_defaults(), **settings}
    filtered = bandpass(
        samples, s["bandpass_low_hz"], s["bandpass_high_hz"], sr_hz,
        corners=int(s["bandpass_order"]), zerophase=False,
    )  # fmt: skip
    ratio = recursive_sta_lta(filtered, round(s["sta_s"] * sr_hz), round(s["lta_s"] * sr_hz))
    return [float(on) / sr_hz for on, _ in trigger_onset(ratio, s["on_ratio"], s["off_ratio"])]


def _defaults() -> dict[str, float]:
    rung = TRIGGER.ladder.rungs[0]
    params = {k: float(v) for k, v in TRIGGER.params.items() if isinstance(v, int | float)}
    return {**params, "on_ratio": rung.enter, "off_ratio": rung.enter - rung.hysteresis}


# -- ObsPy reference picks and the noise record -------------------------------------------------


@dataclass
class PickResult:
    name: str
    reference_s: float
    ours_s: float
    obspy_s: float

    @property
    def error_s(self) -> float:
        return self.ours_s - self.reference_s


def reference_picks(root: Path) -> list[PickResult]:
    """First trigger on the two ObsPy test events vs the picks ObsPy's tests pin (200 Hz)."""
    out = []
    for name, file, reference in (
        ("manz_waldk (pk_baer)", "manz_waldk.a01.gz", 87.725),
        ("RJOB Z (ar_pick)", "loc_RJOB20050801145719850.z", 30.635),
    ):
        samples = read_ascii(root / OBSPY / file)
        ours = onsets(run_picker(Trace("REF", "SHZ", 200.0, 0.0, samples)))
        theirs = obspy_onsets(samples, 200.0)
        out.append(PickResult(name, reference, ours[0], theirs[0]))
    return out


@dataclass
class NoiseResult:
    hours: float
    ours: int
    obspy: int

    @property
    def ours_per_hour(self) -> float:
        return self.ours / self.hours

    @property
    def obspy_per_hour(self) -> float:
        return self.obspy / self.hours


def noise_record(root: Path) -> NoiseResult:
    """Triggers on the 2.6 h BW.KW1 background record (100 Hz) at the default settings."""
    samples = read_ascii(root / OBSPY / "BW.KW1._.EHZ.D.2011.090_downsampled.asc.gz")
    ours = onsets(run_picker(Trace("KW1", "EHZ", 100.0, 0.0, samples)))
    theirs = obspy_onsets(samples, 100.0)
    return NoiseResult(samples.size / 100.0 / 3600.0, len(ours), len(theirs))


# -- PhaseNet / NCEDC analyst picks --------------------------------------------------------------


@dataclass
class PickScore:
    """Scored as in phasenet_ncedc/PROVENANCE.md: the first trigger of a window within ±0.5 s of
    P is a hit; every trigger before P - 0.5 s is a false trigger."""

    windows: int
    hits: int
    hits_within_0_1_s: int
    median_abs_error_s: float
    false_triggers: int
    errors_s: list[float] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.hits / self.windows

    @property
    def recall_0_1_s(self) -> float:
        return self.hits_within_0_1_s / self.windows

    @property
    def false_per_window(self) -> float:
        return self.false_triggers / self.windows


def _score(picks: list[tuple[float, list[float]]]) -> PickScore:
    errors: list[float] = []
    false = 0
    for p_s, found in picks:
        false += sum(1 for t in found if t < p_s - 0.5)
        if found and abs(found[0] - p_s) <= 0.5:
            errors.append(found[0] - p_s)
    absolute = [abs(e) for e in errors]
    return PickScore(
        len(picks),
        len(errors),
        sum(1 for e in absolute if e <= 0.1),  # as the provenance scores it (float compare)
        statistics.median(absolute) if absolute else float("nan"),
        false,
        errors,
    )


def phasenet_scores(root: Path) -> tuple[PickScore, PickScore]:
    """(ours, ObsPy's) on the vertical channel of the 70 NCEDC windows, same settings."""
    ours: list[tuple[float, list[float]]] = []
    theirs: list[tuple[float, list[float]]] = []
    for name, data, p_index in phasenet(root):
        z = np.ascontiguousarray(data[:, 2], dtype=np.float64)
        p_s = p_index / SR_PHASENET
        ours.append((p_s, onsets(run_picker(Trace(name[:8], "HHZ", SR_PHASENET, 0.0, z)))))
        theirs.append((p_s, obspy_onsets(z, SR_PHASENET)))
    return _score(ours), _score(theirs)


def main() -> None:
    """Print every figure of docs/validation.md as JSON: python -m tests.realdata.validation"""
    default = Path(__file__).resolve().parents[3] / "shared" / "datasets"
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    noise = noise_record(root)
    ours, theirs = phasenet_scores(root)
    report: dict[str, Any] = {
        "reference_picks": [{**asdict(p), "error_s": p.error_s} for p in reference_picks(root)],
        "noise": {
            **asdict(noise),
            "ours_per_hour": noise.ours_per_hour,
            "obspy_per_hour": noise.obspy_per_hour,
        },  # fmt: skip
        "phasenet": {
            who: {
                "recall": s.recall,
                "recall_0_1_s": s.recall_0_1_s,
                "hits": s.hits,
                "median_abs_error_s": s.median_abs_error_s,
                "false_per_window": s.false_per_window,
            }  # fmt: skip
            for who, s in (("ours", ours), ("obspy", theirs))
        },
        "beijing": beijing_storm(root),
        "guadalupe": [
            {
                **asdict(r),
                "lead_min": None if r.lead_s is None else r.lead_s / 60,
                "first_rise": None if r.first_rise_ts is None else guadalupe_local(r.first_rise_ts),
                "peak": guadalupe_local(r.peak_ts),
            }  # fmt: skip
            for r in guadalupe_flood(root)
        ],
        "chilbolton": [asdict(r) for r in chilbolton(root)],
        "nab": [asdict(r) for r in nab_scores(root)],
    }
    print(json.dumps(report, indent=1, default=str))


# -- Beijing 2016-07-19/20 rainstorm ---------------------------------------------------------------

BEIJING = "beijing_multisite_hourly_rain"
# one site per distinct rain series (PROVENANCE.md: several sites share a CMA station)
BEIJING_SERIES = ("Aotizhongxin", "Changping", "Dongsi", "Gucheng", "Huairou", "Shunyi",
                  "Wanliu", "Wanshouxigong")  # fmt: skip
CST = 8 * 3600.0  # Beijing time is UTC+8


def beijing_hourly(
    root: Path, site: str, days: tuple[str, ...] = ("19", "20", "21")
) -> list[tuple[float, float]]:
    """(end of the hour in epoch s, rain mm) for July 2016 ``days`` at ``site``; NA → 0."""
    import csv
    import lzma
    from datetime import datetime

    path = root / BEIJING / f"PRSA_Data_{site}_20130301-20170228.csv.xz"
    out = []
    with lzma.open(path, "rt", newline="") as handle:
        for r in csv.DictReader(handle):
            if (r["year"], r["month"]) == ("2016", "7") and r["day"] in days:
                start = datetime(2016, 7, int(r["day"]), int(r["hour"]), tzinfo=UTC)
                ts = start.timestamp() - CST + 3600.0  # the hour's end, as the gauge reports it
                out.append((ts, 0.0 if r["RAIN"] == "NA" else float(r["RAIN"])))
    return out


def beijing_local(ts: float) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(ts + CST, tz=UTC).strftime("%m-%d %H:%M")


def beijing_storm(root: Path) -> dict[str, list[tuple[str, str, str, float | None]]]:
    """Per site (and for the area mean over the 8 distinct series, key ``area``): every
    finding of the rain ladders as (local time, rule, grade, value)."""
    from detectors import RainDetector
    from detectors.area_rain import AreaRain
    from tests.unit.detectors.helpers import BOOK, rules
    from yujing.config.stations import Registry, StationSpec
    from yujing.contracts import Kind, Reading

    specs = [StationSpec(s, s, Kind.RAIN, "beijing", 39.9, 116.4, 3600.0) for s in BEIJING_SERIES]
    area = AreaRain(Registry.from_specs(specs), BOOK.for_kind(Kind.RAIN))
    series = {s.id: beijing_hourly(root, s.id) for s in specs}
    out: dict[str, list[tuple[str, str, str, float | None]]] = {"area": []}
    for spec in specs:
        gauge = RainDetector(spec, rules(spec))
        found = []
        for seq, (ts, mm) in enumerate(series[spec.id], start=1):
            found += gauge.update(Reading(spec.id, Kind.RAIN, "beijing", ts, seq, {"rain_mm": mm}))
        out[spec.id] = [
            (
                beijing_local(f.ts),
                f.rule,
                f.grade.value,
                None if f.value is None else round(f.value, 1),
            )
            for f in found
        ]
    hours = sorted({ts for rows in series.values() for ts, _ in rows})
    for seq, ts in enumerate(hours, start=1):
        for spec in specs:
            hourly = dict(series[spec.id]).get(ts)
            if hourly is None:
                continue
            area.update(Reading(spec.id, Kind.RAIN, "beijing", ts, seq, {"rain_mm": hourly}))
        for f in area.advance(ts + 60.0):  # the runtime's tick after the hour's reports
            value = None if f.value is None else round(f.value, 1)
            out["area"].append((beijing_local(f.ts), f.rule, f.grade.value, value))
    return out


# -- Guadalupe flash flood, 4 July 2025 -----------------------------------------------------------

GUADALUPE = "usgs_guadalupe_flood_2025"
CDT = -5 * 3600.0
FT_TO_M = 0.3048
HUNT = "08165500"  # its gauge was damaged at the crest: the feed stops ("Fld") at 04:35


def guadalupe_stage(root: Path) -> dict[str, list[tuple[float, float]]]:
    """Per site, (epoch s, gage height in m) from the first gage-height column; markers such as
    ``Fld``/``Eqp``/``***`` and blanks are no reading (nothing arrives)."""
    from datetime import datetime

    out: dict[str, list[tuple[float, float]]] = {}
    header: list[str] = []
    text = (root / GUADALUPE / "USGS_stream_guadalupe.txt").read_text()
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        cells = line.split("\t")
        if cells[0] == "agency_cd":
            header = cells
            continue
        if cells[0] != "USGS":
            continue  # the format line
        stage = next(i for i, name in enumerate(header) if name.endswith("_00065"))
        try:
            feet = float(cells[stage])
        except ValueError:
            continue
        local = datetime.strptime(cells[2], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        out.setdefault(cells[1], []).append((local.timestamp() - CDT, feet * FT_TO_M))
    return out


def guadalupe_local(ts: float) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(ts + CDT, tz=UTC).strftime("%m-%d %H:%M")


@dataclass
class FloodResult:
    site: str
    interval_s: float
    first_rise_ts: float | None  # first level_rise finding at blue or above
    first_rise_grade: str
    peak_ts: float
    peak_m: float
    rise_m: float  # peak minus the level 6 h before the first rise (or the first value)
    grades: list[tuple[str, str]] = field(default_factory=list)  # (local time, grade)

    @property
    def lead_s(self) -> float | None:
        return None if self.first_rise_ts is None else self.peak_ts - self.first_rise_ts


def guadalupe_flood(root: Path) -> list[FloodResult]:
    """Every gauge through the live pipeline's first tier (level_rise + silence), on one clock
    ticking every 5 min, readings interleaved in event-time order."""
    import heapq

    from detectors import LadderDetector, SilenceDetector
    from tests.unit.detectors.helpers import BOOK
    from yujing.config.stations import StationSpec
    from yujing.contracts import Kind, Reading

    stages = guadalupe_stage(root)
    results = []
    events: list[tuple[float, int, str, float]] = []
    detectors: dict[str, tuple[Any, Any]] = {}
    found: dict[str, list[Any]] = {}
    for site, rows in stages.items():
        interval = min(b[0] - a[0] for a, b in zip(rows, rows[1:], strict=False) if b[0] > a[0])
        spec = StationSpec(site, site, Kind.WATER_LEVEL, "guadalupe", 30.0, -99.0, interval,
                           rules=("level_rise",))  # fmt: skip
        specs = BOOK.for_station(spec)
        detectors[site] = (LadderDetector(spec, specs), SilenceDetector(spec, specs))
        found[site] = []
        for seq, (ts, level) in enumerate(rows):
            heapq.heappush(events, (ts, seq, site, level))
    start = min(e[0] for e in events)
    end = max(e[0] for e in events)
    clock = start
    while events or clock <= end:
        if events and events[0][0] <= clock:
            ts, seq, site, level = heapq.heappop(events)
            reading = Reading(site, Kind.WATER_LEVEL, "guadalupe", ts, seq, {"level_m": level})
            for detector in detectors[site]:
                found[site].extend(detector.update(reading))
            continue
        for site, pair in detectors.items():
            for detector in pair:
                found[site].extend(detector.advance(clock))
        clock += 300.0
    for site, rows in stages.items():
        rises = [f for f in found[site] if f.rule == "level_rise" and f.grade.is_warning]
        peak_ts, peak = max(rows, key=lambda r: r[1])
        first = rises[0] if rises else None
        before = [v for t, v in rows if first is not None and t <= first.ts - 6 * 3600]
        results.append(
            FloodResult(
                site,
                detectors[site][0].station.interval_s,
                None if first is None else first.ts,
                "" if first is None else first.grade.value,
                peak_ts,
                peak,
                peak - (before[-1] if before else rows[0][1]),
                [
                    (guadalupe_local(f.ts), f"{f.hazard.value}/{f.rule}:{f.grade.value}")
                    for f in found[site]
                ],
            )
        )
    return results


# -- Chilbolton controlled methane releases ----------------------------------------------------

CHILBOLTON = "chilbolton_ch4_release"
# release periods from the cylinder mass (PROVENANCE.md), local time (BST = UTC+1)
RELEASES = {
    "rel02": ("20170509", "11:22:40", "11:42:30"),
    "rel03": ("20170509", "12:49:00", "13:49:40"),
    "rel04": ("20170509", "14:35:10", "15:33:30"),
    "rel05": ("20170510", "10:18:40", "12:36:20"),
}
BST = 3600.0
BEFORE_S, AFTER_S = 180.0, 600.0  # onset uncertainty (±3 min) and plume flushing after the end
SITE_BEAMS, SITE_WINDOW_S = 2, 120.0  # a site alarm: 2 beams within 2 min


def chilbolton_records(root: Path) -> dict[str, dict[int, tuple[list[float], list[float]]]]:
    """Per release, per beam: (epoch s, CH4 ppm) read straight from the day archives."""
    import re
    import tarfile
    from datetime import datetime

    out: dict[str, dict[int, tuple[list[float], list[float]]]] = {}
    for day in sorted({d for d, _, _ in RELEASES.values()}):
        with tarfile.open(root / CHILBOLTON / f"chilbolton_raw_{day}.tar.xz", "r|xz") as tar:
            for member in tar:
                match = re.search(
                    r"(rel\d\d)/Raw_data/POS(\d)_rel\d\d_processed\.txt$", member.name
                )
                if match is None or match.group(1) not in RELEASES:
                    continue
                handle = tar.extractfile(member)
                assert handle is not None
                lines = handle.read().decode().splitlines()
                stamp = re.sub(r"\s+", " ", lines[3].strip()).replace(": ", ":0")
                start = datetime.strptime(stamp, "%m/%d/%Y %H:%M:%S.%f")
                t0 = start.replace(tzinfo=UTC).timestamp() - BST
                rows = [line.split() for line in lines[14:] if line.strip()]
                out.setdefault(match.group(1), {})[int(match.group(2))] = (
                    [t0 + float(r[0]) for r in rows],
                    [float(r[8]) for r in rows],
                )
    return out


def _bst(day: str, clock: str) -> float:
    from datetime import datetime

    local = datetime.strptime(f"{day} {clock}", "%Y%m%d %H:%M:%S").replace(tzinfo=UTC)
    return local.timestamp() - BST


@dataclass
class ReleaseResult:
    release: str
    minutes: float
    beams_alarmed: int  # beams with an anomaly finding during the release window
    first_onset_min: float | None  # minutes after the release start (mass log)
    site_first_onset_min: float | None  # 2 beams within 2 min
    false_alarms: int  # beam findings outside [start - 3 min, end + 10 min]
    site_false_alarms: int
    background_beam_h: float  # beam-hours scored outside the release window


CHILBOLTON_PARAMS = {"period_s": 0.0, "bins": 1, "history": 120, "calibration": 200,
                     "min_history": 60, "min_calibration": 100, "floor_abs": 0.02,
                     "floor_rel": 0.0}  # fmt: skip
CHILBOLTON_SURPRISE = 2.0  # alpha = 0.01: the most a 200-score calibration set can support well


def chilbolton(root: Path) -> list[ReleaseResult]:
    """The general-purpose anomaly detector on each beam's CH4 (settings for 1-2 h records:
    no season, 6-10 min baseline, 200-score calibration, blue at surprise 2, i.e. at most 1 in
    100 normal readings), release by release."""
    from types import MappingProxyType

    from detectors import AnomalyDetector
    from detectors.ladder import Ladder, Rung
    from yujing.config.ladders import RuleSpec
    from yujing.config.stations import StationSpec
    from yujing.contracts import Grade, Hazard, Kind, Reading

    rule = RuleSpec(
        Hazard.ANOMALY,
        Kind.GAS,
        Ladder("ch4_open_path", "ch4_ppm_surprise",
               (Rung(Grade.BLUE, CHILBOLTON_SURPRISE, 0.5, 300.0),), "validation settings"),
        MappingProxyType(dict(CHILBOLTON_PARAMS)),
    )  # fmt: skip
    results = []
    for release, beams in chilbolton_records(root).items():
        day, start_clock, end_clock = RELEASES[release]
        start, end = _bst(day, start_clock), _bst(day, end_clock)
        onsets: list[tuple[int, float]] = []
        background_s = 0.0
        for beam, (times, values) in sorted(beams.items()):
            spec = StationSpec(f"POS{beam}", "", Kind.GAS, "chilbolton", 51.14, -1.44, 3.0)
            detector = AnomalyDetector(spec, [rule])
            first_scored: float | None = None
            for seq, (ts, ppm) in enumerate(zip(times, values, strict=True)):
                reading = Reading(spec.id, Kind.GAS, "chilbolton", ts, seq, {"ch4_ppm": ppm})
                for f in detector.update(reading):
                    first_scored = first_scored or f.ts
                    if f.grade is Grade.BLUE:
                        onsets.append((beam, f.ts))
            if first_scored is not None:
                background_s += max(0.0, min(start - BEFORE_S, times[-1]) - first_scored)
                background_s += max(0.0, times[-1] - max(end + AFTER_S, first_scored))
        inside = sorted(ts for _, ts in onsets if start - BEFORE_S <= ts <= end + AFTER_S)
        outside = sorted(ts for _, ts in onsets if not start - BEFORE_S <= ts <= end + AFTER_S)
        site_inside = _site(onsets, inside)
        site_outside = _site(onsets, outside)
        results.append(
            ReleaseResult(
                release,
                (end - start) / 60.0,
                len({b for b, ts in onsets if start - BEFORE_S <= ts <= end + AFTER_S}),
                None if not inside else (inside[0] - start) / 60.0,
                None if not site_inside else (site_inside[0] - start) / 60.0,
                len(outside),
                len(site_outside),
                background_s / 3600.0,
            )
        )
    return results


def _site(onsets: list[tuple[int, float]], among: list[float]) -> list[float]:
    """Times at which a second beam joined within SITE_WINDOW_S (one per episode)."""
    out: list[float] = []
    for ts in among:
        beams = {b for b, t in onsets if ts - SITE_WINDOW_S <= t <= ts}
        if len(beams) >= SITE_BEAMS and (not out or ts - out[-1] > SITE_WINDOW_S):
            out.append(ts)
    return out


# -- NAB ------------------------------------------------------------------------------------------

NAB_GRID = tuple(round(1.0 + 0.05 * k, 2) for k in range(47))  # surprise thresholds 1.0 … 3.3


@dataclass
class NabResult:
    profile: str
    tuned_score: float
    tuned_threshold: float
    tuned_hits: int
    tuned_fp_rows: int
    shipped_score: float  # at the shipped rung (surprise 3: alpha = 0.001), no tuning
    shipped_hits: int
    shipped_fp_rows: int


def nab_surprises(root: Path) -> tuple[list[Any], dict[str, list[float | None]]]:
    """The 28 files and, per file, the shipped anomaly rule's surprise per row (None in
    warm-up), scored test-then-train exactly as :class:`detectors.AnomalyDetector` does."""
    from detectors.anomaly import AnomalySettings, RobustScorer
    from tests.realdata.nab import load_corpus
    from tests.unit.detectors.helpers import BOOK
    from yujing.contracts import Hazard

    rule = BOOK.get(Hazard.ANOMALY, "flow")
    protect = min(r.enter for r in rule.ladder.rungs)
    corpus = load_corpus(root / "nab")
    out: dict[str, list[float | None]] = {}
    for nab in corpus:
        scorer = RobustScorer.from_settings(AnomalySettings.from_rule(rule))
        scores: list[float | None] = []
        for ts, value in zip(nab.ts, nab.values, strict=True):
            surprise = scorer.score(ts, value)
            scorer.learn(ts, value, surprise, protect)
            scores.append(surprise)
        out[nab.name] = scores
    return corpus, out


def nab_onsets(
    surprises: list[float | None],
    times: tuple[float, ...],
    enter: float,
    hysteresis: float,
    dwell_s: float,
) -> list[int]:
    """Rows where the one-rung ladder (the detector's finding semantics) turns blue."""
    from detectors.ladder import Ladder, LadderState, Rung, next_grade
    from yujing.contracts import Grade

    ladder = Ladder("anomaly", "s", (Rung(Grade.BLUE, enter, hysteresis, dwell_s),), "nab")
    state = LadderState()
    rows = []
    for i, (ts, s) in enumerate(zip(times, surprises, strict=True)):
        if s is None:
            continue
        new = next_grade(ladder, state, {"s": s}, ts)
        if new.grade is Grade.BLUE and state.grade is not Grade.BLUE:
            rows.append(i)
        state = new
    return rows


def nab_scores(root: Path) -> list[NabResult]:
    """NAB scores of the anomaly detector (the shipped ``flow`` rule: its params, hysteresis
    and dwell) on the 28 files: threshold tuned on them (as the provenance's "tuned here"
    column) and at the shipped rung."""
    from tests.realdata.nab import PROFILES, sweep
    from tests.unit.detectors.helpers import BOOK
    from yujing.contracts import Hazard

    rung = BOOK.get(Hazard.ANOMALY, "flow").ladder.rungs[0]
    corpus, surprises = nab_surprises(root)
    cache: dict[tuple[str, float], list[int]] = {}

    def detections(nab: Any, threshold: float) -> list[int]:
        key = (nab.name, threshold)
        if key not in cache:
            cache[key] = nab_onsets(surprises[nab.name], nab.ts, threshold, rung.hysteresis,
                                    rung.min_dwell_s)  # fmt: skip
        return cache[key]

    out = []
    for profile in PROFILES:
        tuned = sweep(corpus, detections, NAB_GRID, profile)
        shipped = sweep(corpus, detections, [rung.enter], profile)
        out.append(NabResult(profile, tuned[0], tuned[1], tuned[2], tuned[3], shipped[0],
                             shipped[2], shipped[3]))  # fmt: skip
    return out


if __name__ == "__main__":
    main()

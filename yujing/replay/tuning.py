"""Threshold tuning: sweep ladder parameters over scenarios, score every combination against a
fixed truth, find the Pareto front of POD (up), FAR (down) and median lead time (down: earlier).

Parameters are named ``<hazard>/<rule>.<grade>.<field>`` with ``field`` one of ``enter``,
``hysteresis``, ``min_dwell_s`` or ``offset`` (for rungs set relative to a station param, such
as a river gauge's warning level), or ``<hazard>/<rule>.params.<name>`` for a rule parameter::

    yujing tune configs/scenarios/beijing-0720.yaml \\
        --grid "rainstorm/short_heavy_rain.blue.enter=15,20,25" \\
        --grid "rainstorm/short_heavy_rain.blue.min_dwell_s=900,1800"

The *truth* is always graded with the configured ladders (the official grade definitions); the
sweep changes only the *warning* thresholds the pipeline runs with. So lowering a warning
threshold buys lead time against the official crossing at the price of false alarms, which is
the trade-off the table and plot show. Only stations of the kinds the tuned hazards read are
replayed (their station alerts do not depend on other kinds); only those hazards are scored.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from detectors.ladder import Rung
from simulators import SensorSimulator, load_scenario
from simulators.episodes import graded_truth
from simulators.scenario import scenario_registry
from yujing.config import LadderBook, load_ladders, load_settings
from yujing.config.ladders import RuleSpec, load_ladder_file
from yujing.config.yamlfile import read_yaml
from yujing.contracts import ConfigError, Grade, Hazard, Kind
from yujing.replay.driver import ReplayOptions
from yujing.replay.skill import score
from yujing.replay.sources import ScenarioSource
from yujing.replay.wiring import build_replay

__all__ = [
    "GridParam",
    "TuneResult",
    "apply_params",
    "pareto_front",
    "parse_grid",
    "run_grid",
    "write_ladders",
]

_PARAM = re.compile(
    r"^(?P<hazard>[a-z_]+)/(?P<rule>[a-z0-9_]+)\."
    r"(?:(?P<grade>blue|yellow|orange|red)\.(?P<field>enter|hysteresis|min_dwell_s|offset)"
    r"|params\.(?P<param>[a-z0-9_]+))$"
)


@dataclass(frozen=True, slots=True)
class GridParam:
    hazard: Hazard
    rule: str
    grade: Grade | None
    field: str  # enter / hysteresis / min_dwell_s / offset, or the rule param's name
    values: tuple[float, ...]

    @property
    def name(self) -> str:
        where = f"{self.grade.value}.{self.field}" if self.grade else f"params.{self.field}"
        return f"{self.hazard.value}/{self.rule}.{where}"


def parse_grid(texts: Sequence[str]) -> list[GridParam]:
    """``NAME=v1,v2,...`` strings into parameters (ConfigError naming the bad one)."""
    params = []
    for text in texts:
        name, sep, values = text.partition("=")
        match = _PARAM.match(name.strip())
        if not sep or match is None:
            raise ConfigError(
                f"--grid {text!r}: expected <hazard>/<rule>.<grade>.<enter|hysteresis|"
                "min_dwell_s|offset>=v1,v2,... or <hazard>/<rule>.params.<name>=v1,..."
            )
        try:
            numbers = tuple(float(v) for v in values.split(",") if v.strip())
            hazard = Hazard(match["hazard"])
        except ValueError as exc:
            raise ConfigError(f"--grid {text!r}: {exc}") from None
        if not numbers:
            raise ConfigError(f"--grid {text!r}: no values")
        grade = Grade(match["grade"]) if match["grade"] else None
        params.append(GridParam(hazard, match["rule"], grade, match["field"] or match["param"],
                                numbers))  # fmt: skip
    return params


def apply_params(book: LadderBook, setting: Mapping[GridParam, float]) -> LadderBook:
    """A copy of ``book`` with the given values (ConfigError for an unknown rule or rung)."""
    rules = dict(book.rules)
    for param, value in setting.items():
        spec = rules.get((param.hazard, param.rule))
        if spec is None:
            raise ConfigError(f"--grid {param.name}: no rule {param.hazard.value}/{param.rule}")
        rules[(param.hazard, param.rule)] = _changed(spec, param, value)
    return replace(book, rules=MappingProxyType(rules))


def _changed(spec: RuleSpec, param: GridParam, value: float) -> RuleSpec:
    if param.grade is None:
        return replace(spec, params=MappingProxyType({**spec.params, param.field: value}))
    ladder = spec.ladder
    if ladder.rung_for(param.grade) is None:
        raise ConfigError(f"--grid {param.name}: the rule has no {param.grade.value} rung")
    if param.field == "offset":
        if param.grade not in spec.relative:
            raise ConfigError(f"--grid {param.name}: the rung is not relative to a param")
        name, _ = spec.relative[param.grade]
        relative = {**spec.relative, param.grade: (name, value)}
        return replace(spec, relative=MappingProxyType(relative))
    if param.field == "enter" and param.grade in spec.relative:
        raise ConfigError(f"--grid {param.name}: the rung is relative; tune its offset")
    rungs = tuple(
        _rung(r, param.field, value) if r.grade is param.grade else r for r in ladder.rungs
    )
    return replace(spec, ladder=replace(ladder, rungs=rungs))


def _rung(rung: Rung, field: str, value: float) -> Rung:
    if field == "enter":
        return replace(rung, enter=value)
    if field == "hysteresis":
        return replace(rung, hysteresis=value)
    return replace(rung, min_dwell_s=value)


@dataclass(frozen=True, slots=True)
class TuneResult:
    setting: tuple[tuple[str, float], ...]
    hits: int
    misses: int
    false_alarms: int
    lead_median_s: float | None
    reach_median_s: float | None
    error: str | None = None

    @property
    def pod(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    @property
    def far(self) -> float:
        total = self.hits + self.false_alarms
        return self.false_alarms / total if total else 0.0

    @property
    def csi(self) -> float:
        total = self.hits + self.misses + self.false_alarms
        return self.hits / total if total else 0.0

    @property
    def label(self) -> str:
        return " ".join(f"{name.split('/', 1)[1]}={value:g}" for name, value in self.setting)

    def to_json(self) -> dict[str, Any]:
        return {
            "setting": dict(self.setting), "hits": self.hits, "misses": self.misses,
            "false_alarms": self.false_alarms, "pod": round(self.pod, 3),
            "far": round(self.far, 3), "csi": round(self.csi, 3),
            "lead_median_s": self.lead_median_s, "reach_median_s": self.reach_median_s,
            "error": self.error,
        }  # fmt: skip


def pareto_front(results: Sequence[TuneResult]) -> list[int]:
    """Indices not dominated in (POD ↑, FAR ↓, median lead ↓; a missing lead counts as +∞)."""

    def key(r: TuneResult) -> tuple[float, float, float]:
        lead = r.lead_median_s if r.lead_median_s is not None else math.inf
        return (-r.pod, r.far, lead)

    keys = [key(r) if r.error is None else None for r in results]
    front = []
    for i, mine in enumerate(keys):
        if mine is None:
            continue
        dominated = any(
            other is not None
            and other != mine
            and all(o <= m for o, m in zip(other, mine, strict=True))
            for other in keys
        )
        if not dominated:
            front.append(i)
    return front


@dataclass(frozen=True, slots=True)
class _Job:
    scenarios: tuple[Path, ...]
    settings_path: Path | None
    setting: tuple[tuple[GridParam, float], ...]
    options: ReplayOptions
    grades: tuple[Grade, ...]
    all_stations: bool


def _run_one(job: _Job) -> TuneResult:
    settings = load_settings(job.settings_path)
    base = load_ladders(settings.ladders)
    named = tuple((p.name, v) for p, v in job.setting)
    try:
        tuned = apply_params(base, dict(job.setting))
        hazards = {p.hazard for p, _ in job.setting}
        kinds = {spec.kind for (h, _), spec in base.rules.items() if h in hazards and spec.kind}
        hits = misses = false_alarms = 0
        leads: list[float] = []
        reaches: list[float] = []
        for path in job.scenarios:
            scenario = load_scenario(path)
            registry = scenario_registry(scenario)
            simulator = SensorSimulator(registry, scenario, scenario.run_seed, scenario.run_start)
            wanted: set[Kind] | None = None if job.all_stations else kinds
            source = ScenarioSource(simulator, kinds=wanted)
            if wanted is not None:
                source.registry = type(registry).from_specs(
                    [s for s in registry if s.kind in wanted]
                )
            _, grader, replay = build_replay(settings, source, job.options, ladders=tuned)
            replay.run(source)
            truth = graded_truth(simulator, base, [s.id for s in source.registry])
            report = score(truth, grader.records, scenario.tolerance_s, hazards)
            for row in report.rows:
                if row.grade in job.grades:
                    hits += row.hits
                    misses += row.misses
                    false_alarms += row.false_alarms
                    leads.extend(row.lead_times_s)
                    reaches.extend(row.reach_s)
    except ConfigError as exc:
        return TuneResult(named, 0, 0, 0, None, None, str(exc).splitlines()[0])
    return TuneResult(
        named, hits, misses, false_alarms,
        round(statistics.median(leads), 1) if leads else None,
        round(statistics.median(reaches), 1) if reaches else None,
    )  # fmt: skip


def run_grid(
    scenarios: Sequence[Path],
    params: Sequence[GridParam],
    *,
    settings_path: Path | None,
    options: ReplayOptions,
    grades: Sequence[Grade] = (Grade.BLUE, Grade.YELLOW, Grade.ORANGE, Grade.RED),
    jobs: int = 1,
    all_stations: bool = False,
) -> list[TuneResult]:
    """Every combination of the grid, in grid order (``jobs`` processes)."""
    combos = list(itertools.product(*[p.values for p in params]))
    work = [
        _Job(tuple(scenarios), settings_path, tuple(zip(params, combo, strict=True)), options,
             tuple(grades), all_stations)
        for combo in combos
    ]  # fmt: skip
    if jobs <= 1 or len(work) <= 1:
        return [_run_one(job) for job in work]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_run_one, work))


def write_ladders(
    ladder_dir: Path, params: Sequence[GridParam], chosen: TuneResult, out: Path, note: str
) -> list[Path]:
    """Write the ladder file(s) of the tuned hazards with the chosen values (a ``.yaml`` path
    for one file, else a folder); each is checked by loading it back."""
    values = dict(chosen.setting)
    by_hazard: dict[Hazard, list[GridParam]] = {}
    for param in params:
        by_hazard.setdefault(param.hazard, []).append(param)
    written = []
    for hazard, tuned in by_hazard.items():
        source = _ladder_file(ladder_dir, hazard)
        data, _ = read_yaml(source)
        for param in tuned:
            _patch(data, param, values[param.name])
        target = out if out.suffix == ".yaml" and len(by_hazard) == 1 else out / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        header = f"# Tuned by `yujing tune` from {source.name}: {note}\n" + "".join(
            f"#   {p.name} = {values[p.name]:g}\n" for p in tuned
        )
        body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100,
                              default_flow_style=None)  # fmt: skip
        target.write_text(header + body, encoding="utf-8")
        load_ladder_file(target)  # still a valid ladder file
        written.append(target)
    return written


def _ladder_file(folder: Path, hazard: Hazard) -> Path:
    for path in sorted(folder.glob("*.yaml")):
        data, _ = read_yaml(path)
        if isinstance(data, dict) and data.get("hazard") == hazard.value:
            return path
    raise ConfigError(f"{folder}: no ladder file for hazard {hazard.value!r}")


def _patch(data: dict[str, Any], param: GridParam, value: float) -> None:
    rule = next(r for r in data["rules"] if r["rule"] == param.rule)
    if param.grade is None:
        rule.setdefault("params", {})[param.field] = value
        return
    rung = next(r for r in rule["rungs"] if r["grade"] == param.grade.value)
    rung[param.field] = value

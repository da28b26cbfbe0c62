"""Threshold ladders per hazard from ``configs/ladders/*.yaml``, each rule citing its source.

File shape::

    hazard: rainstorm
    kind: rain
    rules:
      - rule: rainstorm
        quantity: rain_12h_mm
        source: "CMA warning signal criteria ..."
        params: {}            # rule-specific detector parameters
        rungs:
          - {grade: blue, enter: 50, hysteresis: 5, min_dwell_s: 3600}
    quality:                  # optional: sensor-quality checks per raw quantity of this kind
      rain_mm: {span_min: 0, span_max: 100, source: "..."}
    clock: {ahead_s: 3600, lag_s: 900}  # optional: clock checks (detectors.quality.ClockSpec)

The file named ``chains.yaml`` in the same folder holds the hazard chains instead
(:mod:`yujing.config.chains`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field

from detectors.chains import ChainSpec
from detectors.ladder import Ladder, Rung
from detectors.quality import ClockSpec, QualitySpec
from yujing.config.chains import CHAINS_FILE, load_chains
from yujing.config.stations import StationSpec
from yujing.config.yamlfile import KeyPath, config_error, load_model
from yujing.contracts import ConfigError, Grade, Hazard, Kind


class _RungModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grade: Grade
    enter: float | None = None
    relative_to: str | None = Field(
        default=None, description="station param the enter value is offset from"
    )
    offset: float = 0.0
    hysteresis: float = Field(default=0.0, ge=0)
    min_dwell_s: float = Field(default=0.0, ge=0)
    quantity: str | None = None


class _RuleModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: str = Field(pattern=r"^[a-z0-9_]+$")
    quantity: str
    source: str = Field(min_length=3)
    params: dict[str, float | str | bool] = Field(default_factory=dict)
    rungs: list[_RungModel] = Field(min_length=1)


class _QualityModel(BaseModel):
    """detectors.quality.QualitySpec, field for field, plus the citation."""

    model_config = ConfigDict(extra="forbid")

    span_min: float | None = None
    span_max: float | None = None
    spike_window: int = Field(default=0, ge=0)
    spike_k: float = Field(default=6.0, gt=0)
    spike_floor: float = Field(default=0.0, ge=0)
    stuck_s: float = Field(default=0.0, ge=0)
    stuck_tolerance: float = Field(default=0.0, ge=0)
    stuck_exempt_below: float | None = None
    persist_n: int = Field(default=3, ge=1)
    persist_m: int = Field(default=5, ge=1)
    drift_limit: float = Field(default=0.0, ge=0)
    drift_window_s: float = Field(default=21600.0, gt=0)
    source: str = "project default"


class _ClockModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ahead_s: float = Field(default=3600.0, gt=0)
    lag_s: float = Field(default=900.0, gt=0)
    hold_s: float | None = Field(default=None, gt=0)


class _LadderFileModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hazard: Hazard
    kind: Kind | None = None
    rules: list[_RuleModel] = Field(min_length=1)
    quality: dict[str, _QualityModel] = Field(default_factory=dict)
    clock: _ClockModel | None = None


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A ladder plus the hazard, the sensor kind it reads and rule-specific parameters.

    ``relative`` maps a grade to (station param, offset) for rungs whose ``enter`` depends on
    the station (a river gauge's warning level); they are resolved by
    :meth:`LadderBook.for_station`. ``quality`` and ``clock`` are the sensor-quality checks of
    the file the rule comes from (per raw quantity; :mod:`detectors.quality`).
    """

    hazard: Hazard
    kind: Kind | None
    ladder: Ladder
    params: Mapping[str, float | str | bool]
    relative: Mapping[Grade, tuple[str, float]] = field(default_factory=dict)
    quality: Mapping[str, QualitySpec] = field(default_factory=dict)
    clock: ClockSpec | None = None

    @property
    def rule(self) -> str:
        return self.ladder.rule


@dataclass(frozen=True, slots=True)
class LadderBook:
    """Every rule, by (hazard, rule), and the hazard chains (``chains.yaml`` of the folder)."""

    rules: Mapping[tuple[Hazard, str], RuleSpec]
    chains: tuple[ChainSpec, ...] = ()

    def get(self, hazard: Hazard, rule: str) -> RuleSpec:
        try:
            return self.rules[(hazard, rule)]
        except KeyError:
            raise ConfigError(f"no ladder for hazard {hazard.value!r} rule {rule!r}") from None

    def for_kind(self, kind: Kind) -> list[RuleSpec]:
        return [r for r in self.rules.values() if r.kind is kind]

    def for_station(self, station: StationSpec) -> list[RuleSpec]:
        """The rules for a station's kind, with station-relative rungs resolved and the
        station's explicit threshold overrides applied (in that order)."""
        specs = self.for_kind(station.kind)
        if station.rules is not None:
            known = {spec.rule for spec in specs}
            unknown = sorted(set(station.rules) - known)
            if unknown:
                raise ConfigError(
                    f"station {station.id}: rules {unknown} are not defined for kind "
                    f"{station.kind.value!r} (known: {sorted(known)})"
                )
            specs = [spec for spec in specs if spec.rule in station.rules]
        return [resolve_for_station(spec, station) for spec in specs]


def resolve_for_station(spec: RuleSpec, station: StationSpec) -> RuleSpec:
    """``spec`` with enter values from the station's params and threshold overrides."""
    enters: dict[Grade, float] = {}
    for grade, (param, offset) in spec.relative.items():
        base = station.params.get(param)
        if not isinstance(base, int | float):
            raise ConfigError(
                f"station {station.id}: rule {spec.rule!r} needs numeric param {param!r} "
                f"(rung {grade.value})"
            )
        enters[grade] = float(base) + offset
    enters.update(station.thresholds.get(spec.rule, {}))
    ladder = spec.ladder.with_thresholds(enters)
    edges = [r.enter for r in ladder.rungs if ladder.quantity_of(r) == ladder.quantity]
    if any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
        raise ConfigError(
            f"station {station.id}: rule {spec.rule!r} thresholds must rise with grade, got "
            + ", ".join(f"{r.grade.value}={r.enter:g}" for r in ladder.rungs)
        )
    return RuleSpec(
        spec.hazard, spec.kind, ladder, spec.params, quality=spec.quality, clock=spec.clock
    )


def _check_order(path: Path, lines: dict[KeyPath, int], index: int, rule: _RuleModel) -> None:
    previous: _RungModel | None = None
    by_quantity: dict[str, tuple[int, float]] = {}
    for r, rung in enumerate(rule.rungs):
        loc: KeyPath = ("rules", index, "rungs", r)
        if (rung.enter is None) == (rung.relative_to is None):
            raise config_error(
                path, lines, loc, "give exactly one of enter or relative_to (+ offset)"
            )
        if not rung.grade.is_warning:
            raise config_error(
                path, lines, (*loc, "grade"), f"{rung.grade.value} is not a warning grade"
            )
        if previous is not None and rung.grade.rank <= previous.grade.rank:
            raise config_error(
                path,
                lines,
                (*loc, "grade"),
                f"{rung.grade.value} must be above rungs[{r - 1}].grade ({previous.grade.value})",
            )
        quantity = rung.quantity or rule.quantity
        if rung.enter is None:
            previous = rung
            continue
        if quantity in by_quantity and rung.enter <= by_quantity[quantity][1]:
            p, enter = by_quantity[quantity]
            raise config_error(
                path,
                lines,
                (*loc, "enter"),
                f"{rung.enter:g} must be above rungs[{p}].enter ({enter:g})",
            )
        by_quantity[quantity] = (r, rung.enter)
        previous = rung


def load_ladder_file(path: Path) -> list[RuleSpec]:
    model, lines = load_model(_LadderFileModel, path)
    quality = MappingProxyType(
        {q: QualitySpec(**m.model_dump(exclude={"source"})) for q, m in model.quality.items()}
    )
    for q, m in model.quality.items():
        if m.span_min is not None and m.span_max is not None and m.span_max <= m.span_min:
            raise config_error(
                path,
                lines,
                ("quality", q, "span_max"),
                f"{m.span_max:g} must be above span_min ({m.span_min:g})",
            )
        if m.persist_n > m.persist_m:
            raise config_error(
                path,
                lines,
                ("quality", q, "persist_n"),
                f"{m.persist_n} must not exceed persist_m ({m.persist_m})",
            )
    clock = None if model.clock is None else ClockSpec(**model.clock.model_dump())
    specs = []
    for index, rule in enumerate(model.rules):
        _check_order(path, lines, index, rule)
        rungs = tuple(
            Rung(
                r.grade,
                r.enter if r.enter is not None else math.nan,
                r.hysteresis,
                r.min_dwell_s,
                r.quantity,
            )
            for r in rule.rungs
        )
        relative = {
            r.grade: (r.relative_to, r.offset) for r in rule.rungs if r.relative_to is not None
        }
        ladder = Ladder(rule.rule, rule.quantity, rungs, rule.source)
        specs.append(
            RuleSpec(
                model.hazard,
                model.kind,
                ladder,
                MappingProxyType(rule.params),
                MappingProxyType(relative),
                quality,
                clock,
            )
        )
    return specs


def load_ladders(directory: Path) -> LadderBook:
    """Load every ``*.yaml`` in ``directory``; (hazard, rule) must be unique across files.
    ``chains.yaml``, when present, holds the hazard chains (:mod:`yujing.config.chains`)."""
    if not directory.is_dir():
        raise ConfigError(f"{directory}: ladder directory not found")
    rules: dict[tuple[Hazard, str], RuleSpec] = {}
    origin: dict[tuple[Hazard, str], Path] = {}
    chains: tuple[ChainSpec, ...] = ()
    for path in sorted(directory.glob("*.yaml")):
        if path.name == CHAINS_FILE:
            chains = load_chains(path)
            continue
        for spec in load_ladder_file(path):
            key = (spec.hazard, spec.rule)
            if key in rules:
                raise ConfigError(
                    f"{path}: rule {spec.rule!r} of hazard {spec.hazard.value!r} "
                    f"already defined in {origin[key]}"
                )
            rules[key] = spec
            origin[key] = path
    return LadderBook(MappingProxyType(rules), chains)

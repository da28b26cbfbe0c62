"""Hazard chains from ``configs/ladders/chains.yaml`` (compound rules, :mod:`detectors.chains`).

File shape::

    chains:
      - rule: upstream_rain_rising_level     # the rule name of the raised finding
        hazard: flash_flood                  # the hazard it raises
        grade: yellow                        # the grade it raises ("watch")
        window_s: 10800                      # legs may be up to this far apart in event time
        source: "..."                        # citation or "project default"
        when:                                # every leg must hold
          - {hazard: rainstorm, rules: [short_heavy_rain], min_grade: blue, areas: [zone-0-0]}
          - {hazard: flood, rules: [level_rise], min_grade: blue, areas: [river-qinghe],
             min_count: 1}
        then: {areas: [qinghe-villages], district: haidian}   # or {sites_of_kind: chem}

A leg needs a scope: ``areas`` (finding area, or its station's registry area or district)
and/or ``within_km`` (distance from the target, whose position is the centroid of its stations).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from detectors.chains import ChainSpec, Leg
from yujing.config.yamlfile import config_error, load_model
from yujing.contracts import Grade, Hazard, Kind

__all__ = ["CHAINS_FILE", "load_chains"]

CHAINS_FILE = "chains.yaml"


class _LegModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hazard: Hazard
    rules: list[str] = Field(default_factory=list)
    min_grade: Grade = Grade.BLUE
    areas: list[str] = Field(default_factory=list)
    within_km: float | None = Field(default=None, gt=0)
    min_count: int = Field(default=1, ge=1)


class _ThenModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    areas: list[str] = Field(default_factory=list)
    sites_of_kind: Kind | None = None
    district: str | None = None


class _ChainModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: str = Field(pattern=r"^[a-z0-9_]+$")
    hazard: Hazard
    grade: Grade
    window_s: float = Field(gt=0)
    source: str = Field(min_length=3)
    when: list[_LegModel] = Field(min_length=1)
    then: _ThenModel


class _ChainFileModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chains: list[_ChainModel] = Field(default_factory=list)


def load_chains(path: Path) -> tuple[ChainSpec, ...]:
    """Parse and check a chains file; errors name the file, line and key path."""
    model, lines = load_model(_ChainFileModel, path)
    out: list[ChainSpec] = []
    seen: dict[tuple[Hazard, str], int] = {}
    for i, chain in enumerate(model.chains):
        loc = ("chains", i)
        if not chain.grade.is_warning:
            raise config_error(
                path, lines, (*loc, "grade"), f"{chain.grade.value} is not a warning grade"
            )
        first = seen.get((chain.hazard, chain.rule))
        if first is not None:
            raise config_error(
                path,
                lines,
                (*loc, "rule"),
                f"{chain.rule!r} of {chain.hazard.value!r} already at chains[{first}]",
            )
        seen[(chain.hazard, chain.rule)] = i
        if not chain.then.areas and chain.then.sites_of_kind is None:
            raise config_error(
                path, lines, (*loc, "then"), "give areas or sites_of_kind (whom to warn)"
            )
        for j, leg in enumerate(chain.when):
            if not leg.areas and leg.within_km is None:
                raise config_error(
                    path,
                    lines,
                    (*loc, "when", j),
                    "a leg needs a scope: areas and/or within_km",
                )
            if not leg.min_grade.is_warning:
                raise config_error(
                    path,
                    lines,
                    (*loc, "when", j, "min_grade"),
                    f"{leg.min_grade.value} is not a warning grade",
                )
        out.append(
            ChainSpec(
                rule=chain.rule,
                hazard=chain.hazard,
                grade=chain.grade,
                window_s=chain.window_s,
                legs=tuple(
                    Leg(
                        leg.hazard,
                        tuple(leg.rules),
                        leg.min_grade,
                        tuple(leg.areas),
                        leg.within_km,
                        leg.min_count,
                    )
                    for leg in chain.when
                ),
                targets=tuple(chain.then.areas),
                sites_of_kind=chain.then.sites_of_kind,
                district=chain.then.district,
                source=chain.source,
            )
        )
    return tuple(out)

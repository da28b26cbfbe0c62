"""Station registry: which stations exist, of what kind, where, reporting how often, and their
per-station threshold overrides (e.g. a river gauge's warning and guaranteed levels)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from yujing.config.yamlfile import config_error, load_model
from yujing.contracts import Grade, Kind

STATION_ID = r"^[A-Za-z0-9_.-]{1,64}$"


class _StationModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=STATION_ID)
    name: str = ""
    kind: Kind
    district: str = Field(pattern=STATION_ID)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    interval_s: float = Field(gt=0, description="expected reporting interval")
    thresholds: dict[str, dict[Grade, float]] = Field(default_factory=dict)
    params: dict[str, float | str] = Field(default_factory=dict)
    area: str | None = None
    neighbours: list[str] = Field(default_factory=list)
    rules: list[str] | None = Field(
        default=None, description="only these rules of the kind apply (default: all)"
    )

    @field_validator("thresholds")
    @classmethod
    def _warning_grades_only(
        cls, value: dict[str, dict[Grade, float]]
    ) -> dict[str, dict[Grade, float]]:
        for rule, rungs in value.items():
            for grade in rungs:
                if not grade.is_warning:
                    raise ValueError(f"{rule}: {grade.value} is not a warning grade")
        return value


class _RegistryModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stations: list[_StationModel]


@dataclass(frozen=True, slots=True)
class StationSpec:
    """One station, as the pipeline sees it (frozen)."""

    id: str
    name: str
    kind: Kind
    district: str
    lat: float
    lon: float
    interval_s: float
    thresholds: Mapping[str, Mapping[Grade, float]] = field(default_factory=dict)
    params: Mapping[str, float | str] = field(default_factory=dict)
    area: str | None = None
    neighbours: tuple[str, ...] = ()
    rules: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Registry:
    """All stations by id."""

    stations: Mapping[str, StationSpec]
    source: Path | None = None

    def get(self, station_id: str) -> StationSpec | None:
        return self.stations.get(station_id)

    def __iter__(self) -> Iterator[StationSpec]:
        return iter(self.stations.values())

    def __len__(self) -> int:
        return len(self.stations)

    def of_kind(self, kind: Kind) -> list[StationSpec]:
        return [s for s in self.stations.values() if s.kind is kind]

    @property
    def districts(self) -> list[str]:
        return sorted({s.district for s in self.stations.values()})

    @classmethod
    def from_specs(cls, specs: list[StationSpec], source: Path | None = None) -> Registry:
        return cls(MappingProxyType({s.id: s for s in specs}), source)


def _freeze(model: _StationModel) -> StationSpec:
    data: dict[str, Any] = model.model_dump()
    data["thresholds"] = MappingProxyType(
        {rule: MappingProxyType(dict(g)) for rule, g in model.thresholds.items()}
    )
    data["params"] = MappingProxyType(dict(model.params))
    data["neighbours"] = tuple(model.neighbours)
    data["rules"] = tuple(model.rules) if model.rules is not None else None
    return StationSpec(**data)


def load_registry(path: Path) -> Registry:
    """Load and validate a station registry YAML (``stations: [...]``)."""
    model, lines = load_model(_RegistryModel, path)
    seen: dict[str, int] = {}
    for index, station in enumerate(model.stations):
        if station.id in seen:
            raise config_error(
                path,
                lines,
                ("stations", index, "id"),
                f"duplicate station id {station.id!r} (first at stations[{seen[station.id]}])",
            )
        seen[station.id] = index
    for index, station in enumerate(model.stations):
        for n, other in enumerate(station.neighbours):
            if other not in seen:
                raise config_error(
                    path,
                    lines,
                    ("stations", index, "neighbours", n),
                    f"unknown station {other!r}",
                )
    return Registry.from_specs([_freeze(s) for s in model.stations], path)

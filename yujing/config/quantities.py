"""Physical limits per sensor kind and quantity: what ingest accepts as plausible at all.

Readings outside these limits are rejected as ``out_of_range`` (hard limits of the instrument or
of physics, not warning thresholds)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field, model_validator

from yujing.config.yamlfile import load_model
from yujing.contracts import Kind


class _LimitModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min: float
    max: float
    unit: str = ""
    source: str = "project default"

    @model_validator(mode="after")
    def _ordered(self) -> _LimitModel:
        if self.max <= self.min:
            raise ValueError(f"max {self.max} must be above min {self.min}")
        return self


class _QuantitiesModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kinds: dict[Kind, dict[str, _LimitModel]] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Limit:
    min: float
    max: float
    unit: str
    source: str


@dataclass(frozen=True, slots=True)
class QuantityLimits:
    """``limits[kind][quantity] -> Limit``; quantities not listed for a kind are refused."""

    limits: Mapping[Kind, Mapping[str, Limit]]

    def for_kind(self, kind: Kind) -> Mapping[str, Limit]:
        return self.limits.get(kind, MappingProxyType({}))


def load_quantities(path: Path) -> QuantityLimits:
    model, _ = load_model(_QuantitiesModel, path)
    return QuantityLimits(
        MappingProxyType(
            {
                kind: MappingProxyType(
                    {q: Limit(m.min, m.max, m.unit, m.source) for q, m in quantities.items()}
                )
                for kind, quantities in model.kinds.items()
            }
        )
    )

"""The scenario YAML's shape, as pydantic models (the edge; :mod:`simulators.scenario` turns them
into frozen objects). Every field is documented in ``docs/simulators.md``; errors come out of
:func:`yujing.config.yamlfile.load_model` as ``file:line: key.path: problem (value)``."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from simulators.dispersion import MOLAR_MASS
from simulators.faults import FaultKind
from yujing.contracts import Hazard, Kind

Pairs = list[tuple[float, float]]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _increasing(value: Pairs | None) -> Pairs | None:
    if value:
        times = [pair[0] for pair in value]
        if any(b <= a for a, b in zip(times, times[1:], strict=False)):
            raise ValueError(f"keyframe times must increase, got {times}")
    return value


class KeyframeOwner(Strict):
    @field_validator("*", mode="after")
    @classmethod
    def _times_increase(cls, value: object) -> object:
        if isinstance(value, list) and value and isinstance(value[0], tuple):
            _increasing(value)
        return value


class IdfModel(Strict):
    a_mm_min: float = Field(gt=0, description="A of i = A(1 + C lg P)/(t + b)^n, mm/min")
    c: float = Field(ge=0)
    b_min: float = Field(ge=0)
    n: float = Field(gt=0, lt=2)


class DesignModel(Strict):
    idf: IdfModel
    return_period_years: float = Field(ge=1)
    duration_min: float = Field(gt=0, le=7 * 1440)
    peak_ratio: float = Field(default=0.4, gt=0, lt=1)
    start_s: float = 0.0


class VelocityModel(Strict):
    east: float = 0.0
    north: float = 0.0


class CellModel(KeyframeOwner):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    sigma_km: float = Field(gt=0)
    intensity_mm_h: Pairs | None = None
    design: DesignModel | None = None
    velocity_kmh: VelocityModel | None = None

    @model_validator(mode="after")
    def _one_intensity(self) -> CellModel:
        if (self.intensity_mm_h is None) == (self.design is None):
            raise ValueError("give exactly one of intensity_mm_h (keyframes) or design (IDF)")
        return self


class StormModel(Strict):
    id: str
    cells: list[CellModel] = Field(min_length=1)


class GaugeSiteModel(Strict):
    name: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    mm: list[float] = Field(min_length=1)

    @field_validator("mm")
    @classmethod
    def _not_negative(cls, value: list[float]) -> list[float]:
        bad = [v for v in value if not v >= 0]
        if bad:
            raise ValueError(f"rain totals must be >= 0, got {bad[0]}")
        return value


class GaugeFieldModel(Strict):
    id: str
    source: str = Field(min_length=3, description="where the totals come from")
    start_s: float
    step_s: float = Field(gt=0)
    power: float = Field(default=2.0, gt=0)
    scale: float = Field(default=1.0, gt=0)
    sites: list[GaugeSiteModel] = Field(min_length=1)


class ReachModel(Strict):
    station: str
    lag_s: float = Field(default=0.0, ge=0)
    drop_m: float = 0.0


class RiverModel(KeyframeOwner):
    id: str
    stage_above_warning_m: Pairs = Field(min_length=1)
    reaches: list[ReachModel] = Field(min_length=1)


class BasinGaugeModel(Strict):
    station: str
    lag_s: float = Field(default=0.0, ge=0)
    share: float = Field(default=1.0, gt=0)
    warning_q_m3s: float = Field(gt=0)
    exponent: float = Field(default=1.6, gt=0)


class BasinModel(Strict):
    id: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_km: float = Field(gt=0)
    area_km2: float = Field(gt=0)
    runoff_coeff: float = Field(gt=0, le=1)
    initial_loss_mm: float = Field(default=10.0, ge=0)
    reservoirs: int = Field(default=2, ge=1, le=6)
    k_s: float = Field(gt=0)
    base_flow_m3s: float = Field(default=1.0, ge=0)
    gauges: list[BasinGaugeModel] = Field(min_length=1)


class UnderpassModel(Strict):
    station: str
    catchment_m2: float = Field(gt=0)
    runoff_coeff: float = Field(default=0.9, gt=0, le=1)
    drain_m3s: float = Field(ge=0)
    sag_m2: float = Field(gt=0)


class ProfileStationModel(Strict):
    station: str
    factor: float = 1.0
    delay_s: float = Field(default=0.0, ge=0)


class ProfileModel(KeyframeOwner):
    id: str
    hazard: Hazard
    quantity: str
    added: Pairs = Field(min_length=1)
    stations: list[ProfileStationModel] = Field(min_length=1)


class WindModel(Strict):
    speed_m_s: float = Field(gt=0, le=60)
    from_deg: float = Field(ge=0, lt=360)


class EnclosureModel(Strict):
    station: str
    volume_m3: float = Field(gt=0)
    air_changes_h: float = Field(gt=0)


class LeakModel(KeyframeOwner):
    id: str
    hazard: Literal[Hazard.GAS_LEAK, Hazard.TOXIC_GAS]
    quantity: str
    at_station: str | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    height_m: float = Field(default=0.5, ge=0)
    rate_g_s: Pairs = Field(min_length=1)
    after_relief_of: str | None = None
    wind: WindModel
    stability: Literal["A", "B", "C", "D", "E", "F"] = "D"
    sensor_height_m: float = Field(default=1.5, ge=0)
    enclosure: EnclosureModel | None = None
    sensors: list[str] = Field(default_factory=list)
    radius_m: float | None = Field(default=None, gt=0)

    @field_validator("quantity")
    @classmethod
    def _known_gas(cls, value: str) -> str:
        if value not in MOLAR_MASS:
            raise ValueError(f"{value!r} is not one of {sorted(MOLAR_MASS)}")
        return value

    @model_validator(mode="after")
    def _where(self) -> LeakModel:
        if (self.at_station is None) == (self.lat is None or self.lon is None):
            raise ValueError("give the leak's place as at_station or as lat and lon (one of)")
        return self


class RunawayModel(Strict):
    id: str
    station: str
    onset_s: float
    heat_rate_k_min: float = Field(default=0.5, gt=0)
    activation_k: float = Field(default=6000.0, gt=0)
    cooling_per_s: float = Field(default=0.001, ge=0)
    vapour_k: float = Field(default=2800.0, gt=0)
    relief_kpa: float = Field(gt=0)


class QuakeModel(Strict):
    id: str
    origin_s: float
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    depth_km: float = Field(gt=0)
    magnitude: float = Field(ge=0, le=9.5)
    vp_km_s: float = Field(default=6.0, gt=0)
    vs_km_s: float = Field(default=3.5, gt=0)


class FaultModel(Strict):
    type: FaultKind
    station: str | None = None
    stations: list[str] = Field(default_factory=list)
    from_s: float = -math.inf
    to_s: float = math.inf
    value: float = 0.0
    at_s: list[float] = Field(default_factory=list)
    quantity: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> FaultModel:
        if (self.station is None) == (not self.stations):
            raise ValueError("give station or stations (one of)")
        if self.to_s <= self.from_s:
            raise ValueError(f"to_s {self.to_s} must be after from_s {self.from_s}")
        kind = self.type
        if kind is FaultKind.BUFFERED_UPLOAD and not math.isfinite(self.to_s - self.from_s):
            raise ValueError("buffered_upload needs from_s and to_s (when the outage ends)")
        if kind is FaultKind.DESTROYED and not math.isfinite(self.from_s):
            raise ValueError("destroyed needs from_s (when the station is lost)")
        if kind is FaultKind.SPIKE and not self.at_s:
            raise ValueError("spike needs at_s (a list of scenario times)")
        if kind in (FaultKind.SPIKE, FaultKind.DRIFT, FaultKind.CLOCK_SKEW) and self.value == 0:
            raise ValueError(f"{kind.value} needs a non-zero value")
        if kind is FaultKind.REORDER and self.value <= 0:
            raise ValueError("reorder needs value > 0 (the shuffle window in seconds)")
        return self


class RainGridModel(Strict):
    count: int = Field(ge=1, le=100_000)
    south: float = Field(ge=-90, le=90)
    north: float = Field(ge=-90, le=90)
    west: float = Field(ge=-180, le=180)
    east: float = Field(ge=-180, le=180)
    interval_s: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _box(self) -> RainGridModel:
        if self.north <= self.south or self.east <= self.west:
            raise ValueError("the box needs south < north and west < east")
        return self


class SeatModel(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    lat: float
    lon: float


class GenerateModel(Strict):
    seed: int = 7
    rain: RainGridModel
    districts: Literal["beijing"] | list[SeatModel] = "beijing"


class NetworkModel(Strict):
    registry: Path | None = None
    generate: GenerateModel | None = None

    @model_validator(mode="after")
    def _something(self) -> NetworkModel:
        if self.registry is None and self.generate is None:
            raise ValueError("give registry (a station YAML), generate (a rain grid), or both")
        return self


class TruthModel(Strict):
    tolerance_s: dict[Hazard, float] = Field(default_factory=dict)


class ScenarioModel(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    description: str = ""
    seed: int | None = None
    start: datetime | None = None
    duration_s: float = Field(gt=0)
    lead_in_s: dict[Kind, float] = Field(default_factory=dict)
    network: NetworkModel | None = None
    storms: list[StormModel] = Field(default_factory=list)
    gauge_fields: list[GaugeFieldModel] = Field(default_factory=list)
    rivers: list[RiverModel] = Field(default_factory=list)
    basins: list[BasinModel] = Field(default_factory=list)
    underpasses: list[UnderpassModel] = Field(default_factory=list)
    profiles: list[ProfileModel] = Field(default_factory=list)
    leaks: list[LeakModel] = Field(default_factory=list)
    runaways: list[RunawayModel] = Field(default_factory=list)
    earthquakes: list[QuakeModel] = Field(default_factory=list)
    faults: list[FaultModel] = Field(default_factory=list)
    truth: TruthModel = Field(default_factory=TruthModel)

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("start needs a UTC offset, e.g. 2016-07-19T00:00:00+08:00")
        return value

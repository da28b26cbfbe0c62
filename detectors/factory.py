"""Build a station's detectors from its resolved rules (``LadderBook.for_station``).

One small registry, ``(hazard, rule) → detector class``, says which detector serves which rule.
The rules a station has are grouped by class, in registry order, and each class gets one object
with all its rules (a chem station gets one :class:`LadderDetector` for NH3, Cl2, H2S and its tank
rules). ``sensor/silence`` and ``sensor/quality`` are emitted once per station: by the station's
last hazard detector when it sees the readings as a separate health detector would
(:meth:`StationDetector.can_report`, :mod:`detectors.health`: it judges every reading already,
so separate health detectors would judge each one again), else by a :class:`SilenceDetector`
and, when the station's rules carry quality checks, a :class:`QualityDetector`.
A rule no detector serves is a :class:`~yujing.contracts.ConfigError`: a new rule needs a line
here, so it can never be graded silently by a detector that does not understand it.

>>> from pathlib import Path
>>> from yujing.config import load_ladders
>>> from yujing.config.stations import StationSpec
>>> from yujing.contracts import Kind
>>> book = load_ladders(Path(__file__).parents[1] / "configs" / "ladders")
>>> gauge = StationSpec("R1", "", Kind.RAIN, "d1", 39.9, 116.4, interval_s=300.0)
>>> [type(d).__name__ for d in build_detectors(gauge, book.for_station(gauge))]
['RainDetector']
>>> quake = StationSpec("Q1", "", Kind.SEISMIC, "d1", 39.9, 116.4, interval_s=1.0)
>>> [type(d).__name__ for d in build_detectors(quake, book.for_station(quake))]
['IntensityDetector', 'StaLtaDetector', 'SilenceDetector']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from detectors.anomaly import AnomalyDetector
from detectors.base import Detector
from detectors.level import LadderDetector
from detectors.rain import RainDetector
from detectors.seismic import IntensityDetector
from detectors.sensor import QualityDetector
from detectors.silence import SilenceDetector
from detectors.station import StationDetector
from detectors.trigger import StaLtaDetector
from yujing.contracts import ConfigError, Hazard

if TYPE_CHECKING:  # imported for annotations only: yujing.config imports detectors.ladder
    from yujing.config.ladders import RuleSpec
    from yujing.config.stations import StationSpec

__all__ = ["DETECTOR_CLASSES", "REGISTRY", "build_detectors"]


REGISTRY: dict[tuple[Hazard, str], type[StationDetector]] = {
    (Hazard.RAINSTORM, "rainstorm"): RainDetector,
    (Hazard.RAINSTORM, "short_heavy_rain"): RainDetector,
    (Hazard.FLOOD, "level"): LadderDetector,
    (Hazard.FLOOD, "level_rise"): LadderDetector,
    (Hazard.FLOOD, "level_ahead"): LadderDetector,
    (Hazard.PONDING, "depth"): LadderDetector,
    (Hazard.PONDING, "depth_rise"): LadderDetector,
    (Hazard.GAS_LEAK, "ch4"): LadderDetector,
    (Hazard.GAS_LEAK, "ch4_rise"): LadderDetector,
    (Hazard.TOXIC_GAS, "nh3"): LadderDetector,
    (Hazard.TOXIC_GAS, "cl2"): LadderDetector,
    (Hazard.TOXIC_GAS, "h2s"): LadderDetector,
    (Hazard.TANK, "tank_pressure"): LadderDetector,
    (Hazard.TANK, "tank_temperature"): LadderDetector,
    (Hazard.TANK, "runaway"): LadderDetector,
    (Hazard.EARTHQUAKE, "intensity"): IntensityDetector,
    (Hazard.EARTHQUAKE, "trigger"): StaLtaDetector,
    (Hazard.ANOMALY, "pipeline_pressure"): AnomalyDetector,
    (Hazard.ANOMALY, "flow"): AnomalyDetector,
}

# every class build_detectors can return (the contract suite runs over all of them)
DETECTOR_CLASSES: tuple[type[Detector], ...] = (
    RainDetector,
    LadderDetector,
    IntensityDetector,
    StaLtaDetector,
    AnomalyDetector,
    SilenceDetector,
    QualityDetector,
)


def build_detectors(station: StationSpec, rules: Sequence[RuleSpec]) -> list[Detector]:
    """The detectors of one station, in a stable order; ConfigError for an unserved rule."""
    groups: dict[type, list[RuleSpec]] = {}
    for spec in rules:
        cls = REGISTRY.get((spec.hazard, spec.rule))
        if cls is None:
            raise ConfigError(
                f"station {station.id}: no detector serves rule {spec.rule!r} of hazard "
                f"{spec.hazard.value!r} (known: "
                + ", ".join(f"{h.value}/{r}" for h, r in REGISTRY)
                + ")"
            )
        groups.setdefault(cls, []).append(spec)
    order = list(dict.fromkeys(REGISTRY.values()))
    detectors: list[Detector] = []
    hazards = [cls(station, groups[cls]) for cls in order if cls in groups]
    detectors.extend(hazards)
    judged = any(spec.quality for spec in rules)  # nothing to judge without quality specs
    # the last hazard detector reports health when it can: its findings come last, so the
    # station's findings keep the order they had with separate health detectors
    silence, quality = hazards[-1].can_report(rules) if hazards else (False, False)
    quality = quality and judged
    if silence:
        hazards[-1].report_health(silence=True, quality=quality)
    else:
        detectors.append(SilenceDetector(station, rules))
    if judged and not quality:
        detectors.append(QualityDetector(station, rules))
    return detectors

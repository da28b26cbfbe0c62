"""Pure detection logic (DESIGN §4): no I/O, no clocks; time is passed in.

Public surface (other stages import only these names):

- :class:`Detector` — the protocol every detector implements;
- :func:`build_detectors` — a station's detectors from ``LadderBook.for_station(station)``;
- the detectors: :class:`RainDetector` (windowed rain totals), :class:`LadderDetector`
  (instantaneous values and their trends: level, ponding, gas, toxic gas, tank, runaway),
  :class:`IntensityDetector` (PGA → instrumental intensity), :class:`StaLtaDetector` (P-wave
  trigger), :class:`AnomalyDetector` (robust, calibrated anomaly score for any quantity),
  :class:`SilenceDetector` (``sensor/silence``), :class:`QualityDetector` (``sensor/quality``);
- the ladder engine: :class:`Ladder`, :class:`Rung`, :class:`LadderState`, :func:`next_grade`;
- the second tier: :class:`AreaDetector` (its protocol), :class:`SecondTier` and
  :func:`build_second_tier` (neighbour drift and agreement, area rainfall, seismic network
  coincidence, hazard chains, completeness).

When a compiled build of exactly this source exists, the submodules are its extension modules
(:mod:`yujing.native`); else they run interpreted, with the same results.
"""

from yujing.native import use as _use_native

_use_native(__path__)

from detectors.anomaly import AnomalyDetector
from detectors.base import AreaDetector, Detector
from detectors.factory import DETECTOR_CLASSES, REGISTRY, build_detectors
from detectors.ladder import Ladder, LadderState, Rung, next_grade
from detectors.level import LadderDetector
from detectors.rain import RAIN_WINDOWS_S, RainDetector
from detectors.seismic import IntensityDetector
from detectors.sensor import QualityDetector
from detectors.silence import SilenceDetector
from detectors.station import SILENCE_FACTOR_DEFAULT, silence_limit_s
from detectors.tier2 import SecondTier, build_second_tier
from detectors.trigger import StaLtaDetector

__all__ = [
    "DETECTOR_CLASSES",
    "AnomalyDetector",
    "AreaDetector",
    "RAIN_WINDOWS_S",
    "REGISTRY",
    "SILENCE_FACTOR_DEFAULT",
    "Detector",
    "IntensityDetector",
    "Ladder",
    "LadderDetector",
    "LadderState",
    "QualityDetector",
    "RainDetector",
    "Rung",
    "SecondTier",
    "SilenceDetector",
    "StaLtaDetector",
    "build_detectors",
    "build_second_tier",
    "next_grade",
    "silence_limit_s",
]

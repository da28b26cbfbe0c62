"""Pure detection logic (DESIGN §4): no I/O, no clocks; time is passed in.

Public surface (other stages import only these names):

- :class:`Detector` — the protocol every detector implements;
- :func:`build_detectors` — a station's detectors from ``LadderBook.for_station(station)``;
- the detectors: :class:`RainDetector` (windowed rain totals), :class:`LadderDetector`
  (instantaneous values: level, ponding, gas, toxic gas, tank), :class:`IntensityDetector`
  (PGA → instrumental intensity), :class:`SilenceDetector` (``sensor/silence``);
- the ladder engine: :class:`Ladder`, :class:`Rung`, :class:`LadderState`, :func:`next_grade`.
"""

from detectors.base import Detector
from detectors.factory import DETECTOR_CLASSES, REGISTRY, build_detectors
from detectors.ladder import Ladder, LadderState, Rung, next_grade
from detectors.level import LadderDetector
from detectors.rain import RAIN_WINDOWS_S, RainDetector
from detectors.seismic import IntensityDetector
from detectors.silence import SilenceDetector
from detectors.station import SILENCE_FACTOR_DEFAULT, silence_limit_s

__all__ = [
    "DETECTOR_CLASSES",
    "RAIN_WINDOWS_S",
    "REGISTRY",
    "SILENCE_FACTOR_DEFAULT",
    "Detector",
    "IntensityDetector",
    "Ladder",
    "LadderDetector",
    "LadderState",
    "RainDetector",
    "Rung",
    "SilenceDetector",
    "build_detectors",
    "next_grade",
    "silence_limit_s",
]

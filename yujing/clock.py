"""Clocks for the runtimes. Stage logic never reads a clock: the runtime passes ``now`` in.

- :class:`WallClock`: production (sensor event times are real UTC).
- :class:`ScaledClock`: the accelerated demo; simulated time runs ``speed`` times faster than
  the wall from a fixed origin, shared by the simulator and the runtime.
- :class:`VirtualClock`: replay; time is set by whoever drives it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Current time in epoch seconds in the frame of the sensors' event times."""
        ...


class WallClock:
    def now(self) -> float:
        return time.time()


@dataclass
class ScaledClock:
    """Simulated epoch time = ``origin`` + (wall elapsed since start) × ``speed``."""

    origin: float
    speed: float = 1.0
    _wall_start: float = field(default_factory=time.monotonic)

    def now(self) -> float:
        return self.origin + (time.monotonic() - self._wall_start) * self.speed

    def wall_delay(self, sim_seconds: float) -> float:
        """Wall seconds that ``sim_seconds`` of simulated time take."""
        return sim_seconds / self.speed


@dataclass
class VirtualClock:
    t: float = 0.0

    def now(self) -> float:
        return self.t

    def set(self, t: float) -> None:
        self.t = max(self.t, t)

"""Flap detection: an alert that keeps turning back and forth (Nagios / Kapacitor ``flapping``).

What counts is a *reversal*: a grade change in the opposite direction of the change before it
(up after down, down after up). A storm that rises through every grade and then recedes has one
reversal however many grades it crosses; a gauge bobbing around an edge (yellow, orange, yellow,
orange …) has one per change. An alert flaps when it has ``enter_reversals`` or more reversals
within ``window_s`` seconds, and is calm again when ``leave_reversals`` or fewer are left inside
the window (the gap between the two is the hysteresis). Time is the runtime's ``now``, passed in.

What the book does with it (see :mod:`alerting.book`): while flapping, a step down is held, so the
alert stays at the highest grade it reached and nobody is paged for every wobble; a step *up* is
never held. When the alert calms down, one notice brings receivers to its grade.

>>> policy = FlapPolicy(window_s=600, enter_reversals=3, leave_reversals=1)
>>> state = FlapState()
>>> for t, direction in [(0, UP), (60, DOWN), (120, UP)]:   # two reversals
...     state = record(policy, state, t, direction)
>>> state.flapping
False
>>> state = record(policy, state, 180, DOWN)                 # the third within 10 minutes
>>> state.flapping
True
>>> settle(policy, state, 700).flapping      # reversals at 120 and 180 still inside the window
True
>>> settle(policy, state, 730).flapping      # one left: calm again
False
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DOWN", "UP", "FlapPolicy", "FlapState", "record", "settle"]

UP, DOWN = 1, -1


@dataclass(frozen=True, slots=True)
class FlapPolicy:
    """``enter_reversals`` 0 switches flap suppression off."""

    window_s: float = 3600.0
    enter_reversals: int = 4
    leave_reversals: int = 1

    def __post_init__(self) -> None:
        if self.window_s <= 0:
            raise ValueError(f"flap window_s {self.window_s} must be above 0")
        if self.enter_reversals and not 0 <= self.leave_reversals < self.enter_reversals:
            raise ValueError(
                f"flap leave_reversals {self.leave_reversals} must be in [0, enter_reversals "
                f"{self.enter_reversals})"
            )

    @property
    def enabled(self) -> bool:
        return self.enter_reversals > 0


@dataclass(frozen=True, slots=True)
class FlapState:
    """Times of the reversals still inside the window, the last change's direction, and
    whether the alert flaps."""

    reversals: tuple[float, ...] = ()
    last_direction: int = 0
    flapping: bool = False


def record(policy: FlapPolicy, state: FlapState, now: float, direction: int) -> FlapState:
    """The grade changed at ``now`` in ``direction`` (:data:`UP` or :data:`DOWN`)."""
    if not policy.enabled:
        return state
    reversals = state.reversals
    if state.last_direction and direction != state.last_direction:
        reversals = (*reversals, now)
    return settle(policy, FlapState(reversals, direction, state.flapping), now)


def settle(policy: FlapPolicy, state: FlapState, now: float) -> FlapState:
    """Forget reversals that left the window, then enter or leave flapping."""
    if not policy.enabled:
        return FlapState() if state != FlapState() else state
    reversals = tuple(t for t in state.reversals if now - t < policy.window_s)
    flapping = state.flapping
    if not flapping and len(reversals) >= policy.enter_reversals:
        flapping = True
    elif flapping and len(reversals) <= policy.leave_reversals:
        flapping = False
    if reversals == state.reversals and flapping == state.flapping:
        return state
    return FlapState(reversals, state.last_direction, flapping)

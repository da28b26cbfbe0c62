"""The one interface every detector implements (DESIGN §4).

A detector owns the state of one key (a station, or an area for area rules). The runtime routes
each reading to the detectors of its station and calls :meth:`Detector.advance` on a timer with
the current watermark, so time-driven findings (silence, window expiry) appear without data.

Contract (checked for every registered detector by ``tests/unit/detectors/test_contract.py``):

- ``update`` and ``advance`` never mutate their inputs, do no I/O and never read a clock;
- ``snapshot()`` returns plain JSON; ``restore(snapshot())`` mid-stream changes nothing;
- a duplicate ``seq`` is ignored; warm-up yields ``unknown``, never ``none``;
- findings are emitted on change of grade (state changes only), not on every reading.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from yujing.contracts import Finding, Reading

__all__ = ["Detector"]


@runtime_checkable
class Detector(Protocol):
    """A keyed, event-time, pure state machine from readings to findings."""

    def update(self, reading: Reading) -> list[Finding]:
        """Apply one reading of this detector's key; return findings whose grade changed."""
        ...

    def advance(self, now: float) -> list[Finding]:
        """Let event time pass to ``now`` (the watermark); return time-driven findings."""
        ...

    def snapshot(self) -> dict[str, Any]:
        """State as plain JSON, enough for :meth:`restore` to continue identically."""
        ...

    def restore(self, state: dict[str, Any]) -> None:
        """Replace the state with one produced by :meth:`snapshot`."""
        ...

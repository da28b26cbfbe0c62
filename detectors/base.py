"""The one interface every detector implements (DESIGN §4).

A detector owns the state of one key (a station, or an area for area rules). Per-station
detectors implement :class:`Detector`; the second tier (area rainfall, neighbour agreement,
seismic network coincidence, hazard chains: :mod:`detectors.tier2`) implements
:class:`AreaDetector`, which also takes the first tier's findings. The runtime routes
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

__all__ = ["AreaDetector", "Detector"]


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


@runtime_checkable
class AreaDetector(Protocol):
    """A second-tier detector: state keyed by area, district or network, fed with the first
    tier's findings (and readings where it needs them). Same purity and snapshot rules.

    ``observe`` returns what goes on towards the alert book for one incoming finding: the finding
    itself (most stages), a changed copy (the neighbour-agreement gate), nothing (evidence a stage
    consumes, e.g. single-station seismic triggers) and any new findings it caused. ``update``
    and ``advance`` return new findings only.
    """

    def observe(self, finding: Finding) -> list[Finding]:
        """One finding of an earlier tier or stage in; what goes on out."""
        ...

    def update(self, reading: Reading) -> list[Finding]:
        """One reading (of any station) in; new findings out."""
        ...

    def advance(self, now: float) -> list[Finding]:
        """Let event time pass to ``now``; new time-driven findings out."""
        ...

    def snapshot(self) -> dict[str, Any]:
        """State as plain JSON, enough for :meth:`restore` to continue identically."""
        ...

    def restore(self, state: dict[str, Any]) -> None:
        """Replace the state with one produced by :meth:`snapshot`."""
        ...

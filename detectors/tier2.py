"""The second tier: area, network and compound logic between the per-station detectors and the
alert book (first tier → second tier → alert book).

:class:`SecondTier` runs a fixed row of :class:`~detectors.base.AreaDetector` stages; every
finding of the first tier, and every finding a stage raises, goes through the stages after it:

1. ``drift`` — :class:`~detectors.drift.NeighbourDrift` (readings → ``sensor/drift``) and
   ``clock_skew`` — :class:`~detectors.skew.ClockSkew` (readings → ``sensor/clock_skew``);
2. ``agreement`` — :class:`~detectors.agreement.NeighbourAgreement` (k of n for orange/red);
3. ``area_rain`` — :class:`~detectors.area_rain.AreaRain` (district and area means);
4. ``network`` — :class:`~detectors.network.SeismicNetwork` (coincidence; consumes triggers);
5. ``chains`` — :class:`~detectors.chains.HazardChains` (compound rules).

Alongside, :class:`~detectors.completeness.Completeness` counts received versus expected reports.
Everything is built from the registry and the ladder book (:func:`build_second_tier`), so every
runtime that builds a :class:`yujing.pipeline.Pipeline` gets it. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from detectors.agreement import NeighbourAgreement
from detectors.area_rain import AreaRain
from detectors.base import AreaDetector
from detectors.chains import HazardChains
from detectors.completeness import Completeness
from detectors.drift import NeighbourDrift
from detectors.network import EVENT_RULE, SeismicNetwork
from detectors.quality import ClockSpec, QualitySpec
from detectors.skew import ClockSkew
from yujing.contracts import Finding, Hazard, Kind, Reading

if TYPE_CHECKING:
    from yujing.config.ladders import LadderBook
    from yujing.config.stations import Registry

__all__ = ["SecondTier", "build_second_tier"]


class SecondTier:
    """Named stages in order, plus completeness (see the module docstring)."""

    def __init__(
        self, stages: Sequence[tuple[str, AreaDetector]], completeness: Completeness
    ) -> None:
        self.stages = tuple(stages)
        self.completeness = completeness
        # per sensor kind, the stages whose update() reads it (readings of other kinds skip
        # them): their positions with their bound update methods, and their ids; worked out
        # once, as every reading goes through here
        self._readers: dict[Kind, tuple[tuple[int, Callable[[Reading], list[Finding]]], ...]] = {
            kind: tuple(
                (i, stage.update) for i, (_, stage) in enumerate(self.stages) if _reads(stage, kind)
            )
            for kind in Kind
        }
        self._reader_ids: dict[Kind, frozenset[int]] = {
            kind: frozenset(id(self.stages[i][1]) for i, _ in readers)
            for kind, readers in self._readers.items()
        }

    def update(self, reading: Reading, findings: Sequence[Finding]) -> list[Finding]:
        """One reading and the first tier's findings for it → findings for the alert book."""
        self.completeness.update(reading)
        if not findings:  # the common case: only the stages that read this kind can add any
            raised: list[Finding] = []
            for index, update in self._readers.get(reading.kind, ()):
                new = update(reading)
                if new:
                    raised.extend(self._run(new, _nothing, start=index + 1))
            return raised
        ids = self._reader_ids.get(reading.kind, frozenset())
        return self._run(findings, lambda stage: stage.update(reading) if id(stage) in ids else [])

    def advance(self, now: float, findings: Sequence[Finding]) -> list[Finding]:
        """Time passes to ``now``, with the first tier's time-driven findings → for the book."""
        self.completeness.advance(now)
        return self._run(findings, lambda stage: stage.advance(now))

    def _run(
        self,
        findings: Sequence[Finding],
        produce: Callable[[AreaDetector], list[Finding]],
        start: int = 0,
    ) -> list[Finding]:
        batch = list(findings)
        for _, stage in self.stages[start:]:
            passed: list[Finding] = []
            for finding in batch:
                passed.extend(stage.observe(finding))
            passed.extend(produce(stage))
            batch = passed
        return batch

    def snapshot(self) -> dict[str, Any]:
        return {
            "stages": {name: stage.snapshot() for name, stage in self.stages},
            "completeness": self.completeness.snapshot(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        saved = state.get("stages", {})
        for name, stage in self.stages:
            if name in saved:
                stage.restore(saved[name])
        if "completeness" in state:
            self.completeness.restore(state["completeness"])


def _nothing(stage: AreaDetector) -> list[Finding]:
    """What a stage adds to findings raised by an earlier stage: nothing of its own."""
    return []


def _reads(stage: AreaDetector, kind: Kind) -> bool:
    """Does ``stage.update`` use readings of ``kind``? (``reads_kinds``: None = every kind.)"""
    kinds: frozenset[Kind] | None = getattr(stage, "reads_kinds", None)
    return kinds is None or kind in kinds


def build_second_tier(registry: Registry, ladders: LadderBook) -> SecondTier:
    """The second tier for a registry, configured from the ladder book's rules and chains."""
    quality: dict[str, QualitySpec] = {}
    agree_k: dict[str, int] = {}
    clock = ClockSpec()
    for spec in ladders.rules.values():
        quality.update(spec.quality)
        clock = spec.clock or clock
        k = spec.params.get("agree_k")
        if isinstance(k, int | float) and not isinstance(k, bool):
            agree_k[f"{spec.hazard.value}/{spec.rule}"] = int(k)
    stages: list[tuple[str, AreaDetector]] = [
        ("drift", NeighbourDrift(registry, quality)),
        ("clock_skew", ClockSkew(registry, clock.lag_s)),
        ("agreement", NeighbourAgreement(registry, agree_k)),
        ("area_rain", AreaRain(registry, ladders.for_kind(Kind.RAIN))),
    ]
    event = ladders.rules.get((Hazard.EARTHQUAKE, EVENT_RULE))
    if event is not None and registry.of_kind(Kind.SEISMIC):
        stages.append(("network", SeismicNetwork(registry, event)))
    stages.append(("chains", HazardChains(registry, ladders.chains)))
    return SecondTier(stages, Completeness(registry))

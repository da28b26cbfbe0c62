"""The second tier of the scale-out runtime, without Faust: every station record in, the findings
for the alert book out, in one batch per district.

The second tier (:mod:`detectors.tier2`: drift, neighbour agreement, area rain, the seismic
network, hazard chains, completeness) is one object over the whole registry, as in the embedded
runtime, so it runs in one place: the network topic has one partition and one worker owns it.
It sees what the embedded pipeline hands it, in the same calls:

- a reading record: ``SecondTier.update(reading, first-tier findings)``;
- a tick, once every readings partition has sent its share (:class:`~.records.TickPart`):
  ``SecondTier.advance(now, the stations' tick findings in registry order)``. A partition whose
  worker is down holds the tier's time back for at most ``max_pending_ticks`` ticks; then the
  tick goes ahead without its share (which is dropped if it comes later).

Its state is one table value, ``"network"``: ``{"format", "token", "tier", "seen", "emitted",
"offset", "ticks"}`` — the tier's snapshot, the highest ``n`` applied per station (idempotency of
station records), the counter of batches sent (``n`` of the next), the last offset applied and
the ticks waiting for shares. The tier's
snapshot is large (hundreds of kB for the demo district), which is why state is written at
checkpoints (:mod:`.state`), not per record.
"""

from __future__ import annotations

import itertools
import math
import uuid
from dataclasses import dataclass, field

from alerting.codec import finding_from_json, finding_to_json
from detectors import build_second_tier
from detectors.tier2 import SecondTier
from yujing.config import LadderBook, Registry
from yujing.contracts import Finding
from yujing.runtime.faust.records import FindingBatch, StationRecord, TickPart
from yujing.runtime.faust.state import StateTable

__all__ = ["KEY", "NetworkStage", "NetworkStep"]

KEY = "network"
SOURCE = "network"
STATE_FORMAT = 1
PARTITION = 0
Share = tuple[tuple[str, tuple[Finding, ...]], ...]  # (station, its tick findings)


@dataclass(slots=True)
class NetworkStep:
    batches: list[FindingBatch] = field(default_factory=list)
    replayed: bool = False

    @property
    def findings(self) -> list[Finding]:
        return [f for batch in self.batches for f in batch.findings]


class NetworkStage:
    def __init__(
        self,
        registry: Registry,
        ladders: LadderBook,
        *,
        partitions: int,
        writer: str | None = None,
        max_pending_ticks: int = 30,
    ) -> None:
        self.registry = registry
        self.ladders = ladders
        self.partitions = partitions
        self.max_pending_ticks = max_pending_ticks
        self._order = [spec.id for spec in registry]
        self._writer = writer or uuid.uuid4().hex[:12]
        self._counter = itertools.count(1)
        self._tier: SecondTier | None = None
        self._seen: dict[str, int] = {}
        self._emitted = 0
        self._offset = -1
        self._token = ""
        self._dirty = False
        self._pending: dict[float, dict[int, Share]] = {}
        self._reported: dict[int, float] = {}
        self._done: float | None = None

    @property
    def ticked_to(self) -> float | None:
        """The last tick time the tier advanced to (every partition's share in, or given up)."""
        return self._done

    @property
    def tier(self) -> SecondTier:
        if self._tier is None:
            raise RuntimeError("network stage: no record handled yet")
        return self._tier

    def station(self, table: StateTable, offset: int, record: StationRecord) -> NetworkStep:
        """A reading and its first-tier findings: ``SecondTier.update``."""
        tier = self._load(table)
        step = NetworkStep()
        if offset <= self._offset:
            step.replayed = True
            return step
        self._offset = offset
        self._dirty = True
        if record.n <= self._seen.get(record.source, 0):
            step.replayed = True  # sent again by a station worker that replayed
            return step
        self._seen[record.source] = record.n
        self._batch(tier.update(record.reading, record.findings), record.now, step)
        return step

    def tick_part(self, table: StateTable, offset: int, part: TickPart) -> NetworkStep:
        """One readings partition's share of a tick. When every partition has reported the
        tick (or a later one), the tier advances: ``SecondTier.advance(now, findings)`` with
        the stations' findings in registry order, the call the embedded runtime makes."""
        tier = self._load(table)
        step = NetworkStep()
        if offset <= self._offset:
            step.replayed = True
            return step
        self._offset = offset
        self._dirty = True
        if self._done is not None and part.now <= self._done:
            step.replayed = True  # a partition that replayed its tick, or came too late
            return step
        self._pending.setdefault(part.now, {})[part.partition] = part.stations
        latest = self._reported.get(part.partition, part.now)
        self._reported[part.partition] = max(latest, part.now)
        for now in sorted(self._pending):
            everyone = all(self._reported.get(p, -math.inf) >= now for p in range(self.partitions))
            if not everyone and len(self._pending) <= self.max_pending_ticks:
                break
            shares = self._pending.pop(now)
            found = {station: fs for share in shares.values() for station, fs in share}
            first = [f for station in self._order if station in found for f in found[station]]
            self._batch(tier.advance(now, first), now, step)
            self._done = now
        return step

    def checkpoint(self, table: StateTable, owned: bool = True) -> bool:
        """Write the state if it changed; not when the partition moved away (``owned``)."""
        if not owned:
            self.forget()
            return False
        if not self._dirty or self._tier is None:
            return False
        token = f"{self._writer}:{next(self._counter)}"
        table.put(
            PARTITION,
            KEY,
            {
                "format": STATE_FORMAT,
                "token": token,
                "tier": self._tier.snapshot(),
                "seen": dict(self._seen),
                "emitted": self._emitted,
                "offset": self._offset,
                "ticks": {
                    "done": self._done,
                    "reported": {str(p): t for p, t in self._reported.items()},
                    "pending": [
                        [now, str(p), [[s, [finding_to_json(f) for f in fs]] for s, fs in share]]
                        for now, shares in self._pending.items()
                        for p, share in shares.items()
                    ],
                },
            },
        )
        self._token = token
        self._dirty = False
        return True

    def forget(self) -> None:
        self._tier = None
        self._dirty = False

    def _batch(self, findings: list[Finding], now: float, step: NetworkStep) -> None:
        by_district: dict[str, list[Finding]] = {}
        for finding in findings:
            by_district.setdefault(finding.district, []).append(finding)
        for district, batch in by_district.items():
            self._emitted += 1
            step.batches.append(FindingBatch(district, SOURCE, self._emitted, now, tuple(batch)))

    def _load(self, table: StateTable) -> SecondTier:
        if self._tier is not None and self._dirty:
            return self._tier
        stored = table.get(KEY)
        token = "" if stored is None else str(stored.get("token", ""))
        if self._tier is not None and token == self._token:
            return self._tier
        tier = build_second_tier(self.registry, self.ladders)
        self._seen, self._emitted, self._offset, self._token = {}, 0, -1, ""
        self._pending, self._reported, self._done = {}, {}, None
        if stored is not None:
            if stored.get("format") != STATE_FORMAT:
                raise ValueError(f"network state format {stored.get('format')!r} is not 1")
            tier.restore(stored["tier"])
            self._seen = {str(k): int(v) for k, v in stored["seen"].items()}
            self._emitted = int(stored["emitted"])
            self._offset = int(stored["offset"])
            ticks = stored["ticks"]
            self._done = None if ticks["done"] is None else float(ticks["done"])
            self._reported = {int(p): float(t) for p, t in ticks["reported"].items()}
            for now, p, share in ticks["pending"]:
                self._pending.setdefault(float(now), {})[int(p)] = tuple(
                    (str(s), tuple(finding_from_json(f) for f in fs)) for s, fs in share
                )
            self._token = token
        self._tier = tier
        return tier

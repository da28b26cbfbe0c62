"""Sensor and telemetry faults, applied to one station's messages before they are encoded.

A message here is a :class:`Record`: when it reaches the broker (``arrival``), the event time it
carries (``ts_ms``), its ``seq`` and values (or seismic samples). A clean station's record
arrives at its event time (a seismic packet when its last sample is taken, 1 s later).

=================  ================================================================================
fault              effect on the records whose true event time is in ``[from_s, to_s)``
=================  ================================================================================
dropout            lost
destroyed          lost from ``from_s`` on, for good (a station swept away mid-event)
stuck              every value frozen at the first value of the interval
spike              at each ``at_s``, the next report gets ``value`` added (a glitch)
drift              ``value`` per hour added, growing from ``from_s`` (a fouled sensor)
clock_skew         the event time sent is off by ``value`` seconds (arrival unchanged)
duplicate          sent twice, the copy ``value`` seconds later (a retry after a lost PUBACK)
reorder            delivered in a shuffled order within blocks of ``value`` seconds
buffered_upload    held in the logger during an outage, all delivered at ``to_s`` in seq order
=================  ================================================================================

Faults are deterministic: the shuffle of ``reorder`` is seeded by (seed, station, fault index).
``stuck``, ``spike`` and ``drift`` need scalar values (not seismic packets).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from simulators.noise import FloatArray, stream_key, uniform

__all__ = ["SCALAR_ONLY", "Fault", "FaultKind", "Record", "apply_faults", "max_delay_s"]


class FaultKind(enum.StrEnum):
    DROPOUT = "dropout"
    DESTROYED = "destroyed"
    STUCK = "stuck"
    SPIKE = "spike"
    DRIFT = "drift"
    CLOCK_SKEW = "clock_skew"
    DUPLICATE = "duplicate"
    REORDER = "reorder"
    BUFFERED_UPLOAD = "buffered_upload"


SCALAR_ONLY = frozenset({FaultKind.STUCK, FaultKind.SPIKE, FaultKind.DRIFT})


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault of one station; times are scenario seconds (see the module table)."""

    kind: FaultKind
    station: str
    from_s: float = -math.inf
    to_s: float = math.inf
    value: float = 0.0
    at_s: tuple[float, ...] = ()
    quantity: str | None = None  # stuck/spike/drift: one quantity only (default: all)


@dataclass(frozen=True, slots=True)
class Record:
    """One message before encoding. Sort key: (arrival, rank, ts_ms, order, channel, copy)."""

    arrival: float
    ts_ms: int
    seq: int
    channel: int
    values: dict[str, float] | None
    samples: FloatArray | None
    true_ts: float  # event time before any clock skew (epoch s)
    rank: int = 0
    copy: int = 0


def max_delay_s(faults: tuple[Fault, ...]) -> float:
    """How much later than its event time a faulted record may arrive (for windowing)."""
    delay = 0.0
    for fault in faults:
        if fault.kind is FaultKind.BUFFERED_UPLOAD and math.isfinite(fault.to_s - fault.from_s):
            delay = max(delay, fault.to_s - fault.from_s)
        elif fault.kind in (FaultKind.REORDER, FaultKind.DUPLICATE):
            delay = max(delay, abs(fault.value))
    return delay


def _inside(fault: Fault, t_s: float) -> bool:
    return fault.from_s <= t_s < fault.to_s


def apply_faults(
    records: list[Record],
    faults: tuple[Fault, ...],
    start: float,
    seed: int,
    station: str,
    interval_s: float,
    first_values: Callable[[float], dict[str, float]],
) -> list[Record]:
    """The records as the station's faults make them (input in event-time order, unchanged).

    ``first_values(t_s)`` gives the clean values of the first report at or after scenario time
    ``t_s`` (what a ``stuck`` sensor freezes at, even when that report is outside the window).
    """
    out = list(records)
    for index, fault in enumerate(faults):
        out = _apply_one(out, fault, index, start, seed, station, interval_s, first_values)
    return out


def _apply_one(
    records: list[Record],
    fault: Fault,
    index: int,
    start: float,
    seed: int,
    station: str,
    interval_s: float,
    first_values: Callable[[float], dict[str, float]],
) -> list[Record]:
    kind = fault.kind

    def t_of(record: Record) -> float:
        return record.true_ts - start

    if kind is FaultKind.DROPOUT:
        return [r for r in records if not _inside(fault, t_of(r))]
    if kind is FaultKind.DESTROYED:
        return [r for r in records if t_of(r) < fault.from_s]
    if kind is FaultKind.STUCK:
        frozen = first_values(fault.from_s)
        return [
            replace(r, values=_merge(r.values, frozen, fault.quantity))
            if _inside(fault, t_of(r))
            else r
            for r in records
        ]
    if kind is FaultKind.SPIKE:
        # the first report at or after each spike time (whatever window is being made)
        return [
            replace(r, values=_shifted(r.values, fault.value, fault.quantity))
            if any(at <= t_of(r) < at + interval_s for at in fault.at_s)
            else r
            for r in records
        ]
    if kind is FaultKind.DRIFT:
        return [
            replace(
                r,
                values=_shifted(
                    r.values, fault.value * (t_of(r) - fault.from_s) / 3600.0, fault.quantity
                ),
            )
            if _inside(fault, t_of(r))
            else r
            for r in records
        ]
    if kind is FaultKind.CLOCK_SKEW:
        offset_ms = round(fault.value * 1000)
        return [
            replace(r, ts_ms=r.ts_ms + offset_ms) if _inside(fault, t_of(r)) else r for r in records
        ]
    if kind is FaultKind.DUPLICATE:
        out: list[Record] = []
        for r in records:
            out.append(r)
            if _inside(fault, t_of(r)):
                out.append(replace(r, arrival=r.arrival + fault.value, copy=r.copy + 1))
        return out
    if kind is FaultKind.REORDER:
        window = max(fault.value, 1e-3)
        key = stream_key(seed, station, f"reorder-{index}")
        shuffled = []
        for r in records:
            if not _inside(fault, t_of(r)):
                shuffled.append(r)
                continue
            block = math.floor((t_of(r) - fault.from_s) / window)
            arrival = start + fault.from_s + (block + 1) * window
            rank = int(float(uniform(key, [r.seq * 4 + r.channel])[0]) * 1e9)
            shuffled.append(replace(r, arrival=max(arrival, r.arrival), rank=rank))
        return shuffled
    if kind is FaultKind.BUFFERED_UPLOAD:
        return [  # all at the end of the outage; the sort key's event time keeps seq order
            replace(r, arrival=max(start + fault.to_s, r.arrival)) if _inside(fault, t_of(r)) else r
            for r in records
        ]
    raise ValueError(f"unknown fault {kind}")


def _merge(
    values: dict[str, float] | None, frozen: dict[str, float], quantity: str | None
) -> dict[str, float] | None:
    if values is None:
        return None
    return {q: (frozen.get(q, v) if quantity in (None, q) else v) for q, v in values.items()}


def _shifted(
    values: dict[str, float] | None, amount: float, quantity: str | None
) -> dict[str, float] | None:
    if values is None:
        return None
    return {q: (v + amount if quantity in (None, q) else v) for q, v in values.items()}

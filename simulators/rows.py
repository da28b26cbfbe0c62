"""A window's messages as columns, put in order once with numpy.

A day of a 1,600-gauge city is 2.3 million messages; sorting one Python tuple per message and
building one dict per message before sorting cost more than everything else the simulator
does. Here every station's rows are added as arrays (the clean ones) or as a few
:class:`~simulators.faults.Record` objects (the faulted ones and seismic packets), and one
stable ``numpy.lexsort`` gives the order. The order is the one documented in
:mod:`simulators.generator`: by arrival (rank, event time, registry order, channel, copy), or by
event time (registry order, channel) for the clean stream.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulators.faults import Record
from simulators.noise import FloatArray, IntArray

__all__ = ["Rows", "RowsBuilder"]


@dataclass(frozen=True, slots=True)
class Rows:
    """Messages in order, one list per column (``payload``: values dict or samples array)."""

    arrival: list[float]
    ts_ms: list[int]
    order: list[int]
    channel: list[int]
    seq: list[int]
    payload: list[Any]

    def __len__(self) -> int:
        return len(self.seq)


class RowsBuilder:
    """Collects rows station by station; :meth:`rows` sorts them (stable: ties keep the order
    they were added in, as the tuple sort this replaces did)."""

    def __init__(self) -> None:
        self._columns: list[
            tuple[FloatArray, IntArray, IntArray, IntArray, IntArray, IntArray]
        ] = []
        self._orders: list[IntArray] = []
        self._payloads: list[Any] = []

    def add_clean(
        self, order: int, arrival: FloatArray, ts_ms: IntArray, seq: IntArray, payloads: list[Any]
    ) -> None:
        """Rows of one station with rank, channel and copy 0 (no fault touched them)."""
        zeros = np.zeros(len(seq), dtype=np.int64)
        self._columns.append((arrival, zeros, ts_ms, zeros, zeros, seq))
        self._orders.append(np.full(len(seq), order, dtype=np.int64))
        self._payloads.extend(payloads)

    def add_clean_rows(
        self,
        orders: IntArray,
        arrival: FloatArray,
        ts_ms: IntArray,
        seq: IntArray,
        payloads: list[Any],
    ) -> None:
        """:meth:`add_clean` of several stations at once (``orders``: each row's station)."""
        zeros = np.zeros(len(seq), dtype=np.int64)
        self._columns.append((arrival, zeros, ts_ms, zeros, zeros, seq))
        self._orders.append(orders.astype(np.int64, copy=False))
        self._payloads.extend(payloads)

    def add_records(self, order: int, records: Sequence[Record], payloads: Iterable[Any]) -> None:
        """Rows of one station given as records (faults applied, or seismic packets)."""
        if not records:
            return
        count = len(records)
        self._columns.append((
            np.fromiter((r.arrival for r in records), np.float64, count),
            np.fromiter((r.rank for r in records), np.int64, count),
            np.fromiter((r.ts_ms for r in records), np.int64, count),
            np.fromiter((r.channel for r in records), np.int64, count),
            np.fromiter((r.copy for r in records), np.int64, count),
            np.fromiter((r.seq for r in records), np.int64, count),
        ))  # fmt: skip
        self._orders.append(np.full(count, order, dtype=np.int64))
        self._payloads.extend(payloads)

    def rows(self, *, by_event_time: bool = False) -> Rows:
        """Sorted by (arrival, rank, ts, order, channel, copy), or by (ts, order, channel)."""
        if not self._columns:
            return Rows([], [], [], [], [], [])
        arrival, rank, ts_ms, channel, copy, seq = (
            np.concatenate(column) for column in zip(*self._columns, strict=True)
        )
        order = np.concatenate(self._orders)
        if by_event_time:
            index = np.lexsort((channel, order, ts_ms))
        else:
            index = np.lexsort((copy, channel, order, ts_ms, rank, arrival))
        payloads = self._payloads
        return Rows(
            arrival[index].tolist(),
            ts_ms[index].tolist(),
            order[index].tolist(),
            channel[index].tolist(),
            seq[index].tolist(),
            [payloads[i] for i in index.tolist()],
        )

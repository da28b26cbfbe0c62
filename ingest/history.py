"""What ingest remembers per station: its watermark and the keys of recently accepted messages.

Watermark (DESIGN §4): ``max event time accepted − allowed lateness``. A message older than the
watermark is ``too_late``; rejected messages never move it, so one bad clock cannot push it.

Duplicates: a message is a duplicate when the station already had a message accepted with the same
key ``(channel, seq, event time)``. MQTT redelivery and sensor retries resend the same bytes, so
they repeat the whole key. Keying on the event time as well as ``seq`` makes two cases work:

- out-of-order arrival (a gauge uploading its buffer): each seq is checked on its own, with no
  "highest seq so far";
- a sensor reboot that starts ``seq`` at 0 again: the new readings carry new event times, so they
  never collide with the old ones, and nothing needs a reboot detector.

``channel`` is ``""`` except for seismic packets, so three channels that share a counter, or each
keep their own, both work. Memory is bounded: keys older than the watermark can go (such a resend
is refused as ``too_late`` anyway), and at most ``memory`` keys are kept per station, oldest
first out.

>>> history = StationHistory(allowed_lateness_s=60)
>>> history.admit("R1", "", 7, 1000.0)
>>> history.admit("R1", "", 7, 1000.0)
Traceback (most recent call last):
...
yujing.contracts.PayloadRejected: duplicate: seq 7 at ts 1000.000 already accepted
>>> history.admit("R1", "", 0, 1010.0)   # reboot: seq starts again, new event time
>>> history.watermark("R1")
950.0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from yujing.contracts import PayloadRejected, RejectReason

Key = tuple[str, int, float]
SNAPSHOT_VERSION = 1


@dataclass(slots=True)
class _Station:
    max_ts: float
    seen: dict[Key, None] = field(default_factory=dict)  # insertion-ordered set


class StationHistory:
    """Watermarks and duplicate memory for every station. Not thread-safe: one consumer owns it."""

    def __init__(self, allowed_lateness_s: float, memory: int = 4096) -> None:
        if memory < 1:
            raise ValueError(f"memory must be >= 1, got {memory}")
        self.allowed_lateness_s = allowed_lateness_s
        self.memory = memory
        self._stations: dict[str, _Station] = {}

    def watermark(self, station: str) -> float | None:
        """Event time below which the station's messages are refused; None before any."""
        state = self._stations.get(station)
        return None if state is None else state.max_ts - self.allowed_lateness_s

    def admit(self, station: str, channel: str, seq: int, ts: float) -> None:
        """Record an accepted message, or raise ``duplicate`` / ``too_late`` and change nothing."""
        state = self._stations.get(station)
        if state is None:
            self._stations[station] = _Station(ts, {(channel, seq, ts): None})
            return
        key = (channel, seq, ts)
        if key in state.seen:
            raise PayloadRejected(
                RejectReason.DUPLICATE, f"seq {seq} at ts {ts:.3f} already accepted"
            )
        watermark = state.max_ts - self.allowed_lateness_s
        if ts < watermark:
            raise PayloadRejected(
                RejectReason.TOO_LATE,
                f"ts {ts:.3f} is {watermark - ts:.3f} s behind the station watermark "
                f"{watermark:.3f} (allowed lateness {self.allowed_lateness_s:g} s)",
            )
        if ts > state.max_ts:
            state.max_ts = ts
        state.seen[key] = None
        if len(state.seen) > self.memory:
            self._forget(state)

    def _forget(self, state: _Station) -> None:
        """Drop keys below the watermark, then the oldest, down to 3/4 of the memory.

        Pruning to 3/4 rather than to the limit keeps the cost amortised O(1) per message.
        """
        watermark = state.max_ts - self.allowed_lateness_s
        seen = {key: None for key in state.seen if key[2] >= watermark}
        target = self.memory * 3 // 4
        if len(seen) > target:
            keys = list(seen)[len(seen) - target :]
            seen = dict.fromkeys(keys)
        state.seen = seen

    def snapshot(self) -> dict[str, Any]:
        """Plain-JSON state: watermarks and remembered keys per station."""
        return {
            "version": SNAPSHOT_VERSION,
            "stations": {
                station: {
                    "max_ts": state.max_ts,
                    "seen": [[channel, seq, ts] for channel, seq, ts in state.seen],
                }
                for station, state in self._stations.items()
            },
        }

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Replace the state with one from :meth:`snapshot`; ValueError if it does not fit."""
        if snapshot.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"history snapshot version {snapshot.get('version')!r} is not 1")
        restored: dict[str, _Station] = {}
        try:
            for station, entry in snapshot["stations"].items():
                seen: dict[Key, None] = {
                    (str(channel), int(seq), float(ts)): None for channel, seq, ts in entry["seen"]
                }
                restored[str(station)] = _Station(float(entry["max_ts"]), seen)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"history snapshot does not fit: {exc!r}") from exc
        self._stations = restored

"""Storage: the time-series writer and our schema (DESIGN §7, docs/storage.md).

Observes StepResults; never on the alert path. Imports contracts, config, metrics and the
StepResult type of :mod:`yujing.pipeline`; nothing imports storage but the runtimes.
"""

from yujing.storage.board import StationBoard
from yujing.storage.queue import Chunk, PointQueue
from yujing.storage.schema import (
    MEASUREMENTS,
    StationState,
    finding_line,
    notice_line,
    reading_line,
    result_lines,
    station_line,
    threshold_lines,
)
from yujing.storage.suspects import SuspectMarks
from yujing.storage.writer import StorageWriter

__all__ = [
    "MEASUREMENTS",
    "Chunk",
    "PointQueue",
    "StationBoard",
    "StationState",
    "StorageWriter",
    "SuspectMarks",
    "finding_line",
    "notice_line",
    "reading_line",
    "result_lines",
    "station_line",
    "threshold_lines",
]

"""Recordings: what was published (or received) on the broker, with arrival times, replayable.

JSON Lines (``.jsonl``, or ``.jsonl.gz``): a header line, then one line per message::

    {"format": "yujing-recording", "version": 1, "source": "scenario demo seed 7",
     "registry": "demo.stations.yaml", "start": 1784613600.0, "clock": "scenario"}
    {"t": 1784602800.437, "topic": "yujing/v1/haidian/rain/HD-RN-001",
     "payload": "{\\"station\\":...}"}

``end`` (optional) is when the recorded run ended (a replay keeps ticking until then).
``t`` is the arrival time in epoch seconds, in the frame of the sensors' event times (the
scenario clock for a simulation, the wall clock for a live capture). ``payload`` holds the exact
bytes as UTF-8 text, or ``payload_b64`` (base64) when they are not UTF-8, so a replay decodes
byte for byte what was sent. ``registry`` (optional) names the station registry, relative to
the recording's folder.

Parquet (``.parquet``, optional: ``pip install yujing[parquet]``): columns ``t`` (float64),
``topic`` (string), ``payload`` (binary); the header is JSON in the schema metadata key
``yujing``.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from yujing.contracts import ConfigError

__all__ = [
    "FORMAT",
    "RecordedMessage",
    "Recording",
    "RecordingWriter",
    "read_recording",
    "write_recording",
]

FORMAT = "yujing-recording"
VERSION = 1
_META_KEY = b"yujing"


@dataclass(frozen=True, slots=True)
class RecordedMessage:
    arrival: float
    topic: str
    payload: bytes

    def to_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {"t": self.arrival, "topic": self.topic}
        try:
            row["payload"] = self.payload.decode("utf-8")
        except UnicodeDecodeError:
            row["payload_b64"] = base64.b64encode(self.payload).decode("ascii")
        return row


@dataclass(frozen=True, slots=True)
class Recording:
    header: dict[str, Any]
    rows: list[RecordedMessage] = field(default_factory=list)
    path: Path | None = None

    def registry_path(self) -> Path | None:
        name = self.header.get("registry")
        if not name or self.path is None:
            return None
        return (self.path.parent / str(name)).resolve()


def _is_parquet(path: Path) -> bool:
    return path.suffix == ".parquet"


def _open_text(path: Path, mode: str) -> IO[str]:
    if path.name.endswith(".gz"):
        return gzip.open(path, mode + "t", encoding="utf-8")  # type: ignore[return-value]
    return path.open(mode, encoding="utf-8")


def _pyarrow() -> Any:
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet
    except ImportError:
        raise ConfigError(
            "Parquet recordings need pyarrow: pip install 'yujing[parquet]' (or use .jsonl)"
        ) from None
    return pyarrow


class RecordingWriter:
    """Streams a JSON Lines recording (Parquet is written at :meth:`close`)."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        self.header = {"format": FORMAT, "version": VERSION, **header}
        self.count = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._rows: list[RecordedMessage] | None = [] if _is_parquet(path) else None
        self._file: IO[str] | None = None
        if self._rows is None:
            self._file = _open_text(path, "w")
            self._file.write(json.dumps(self.header, ensure_ascii=False) + "\n")

    def write(self, message: RecordedMessage) -> None:
        self.count += 1
        if self._rows is not None:
            self._rows.append(message)
        elif self._file is not None:
            self._file.write(json.dumps(message.to_json(), ensure_ascii=False) + "\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._rows is not None:
            pa = _pyarrow()
            table = pa.table(
                {
                    "t": pa.array([r.arrival for r in self._rows], pa.float64()),
                    "topic": pa.array([r.topic for r in self._rows], pa.string()),
                    "payload": pa.array([r.payload for r in self._rows], pa.binary()),
                }
            ).replace_schema_metadata({_META_KEY: json.dumps(self.header).encode()})
            pa.parquet.write_table(table, self.path)
            self._rows = None

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_recording(path: Path, header: dict[str, Any], rows: Iterable[RecordedMessage]) -> int:
    """Write a whole recording; returns the number of messages."""
    with RecordingWriter(path, header) as writer:
        for row in rows:
            writer.write(row)
    return writer.count


def _jsonl_rows(path: Path) -> tuple[dict[str, Any], Iterator[RecordedMessage]]:
    handle = _open_text(path, "r")
    first = handle.readline()
    try:
        header = json.loads(first) if first else {}
    except json.JSONDecodeError as exc:
        handle.close()
        raise ConfigError(f"{path}:1: not a recording header: {exc}") from None
    if header.get("format") != FORMAT:
        handle.close()
        raise ConfigError(f"{path}:1: format {header.get('format')!r} is not {FORMAT!r}")

    def rows() -> Iterator[RecordedMessage]:
        with handle:
            for number, line in enumerate(handle, start=2):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                    if "payload" in data:
                        payload = str(data["payload"]).encode("utf-8")
                    else:
                        payload = base64.b64decode(data["payload_b64"])
                    yield RecordedMessage(float(data["t"]), str(data["topic"]), payload)
                except (KeyError, TypeError, ValueError) as exc:
                    raise ConfigError(f"{path}:{number}: bad recording line: {exc}") from None

    return header, rows()


def read_recording(path: Path) -> Recording:
    """The whole recording, rows sorted by arrival (stable: file order for equal times)."""
    if not path.is_file():
        raise ConfigError(f"{path}: recording not found")
    if _is_parquet(path):
        pa = _pyarrow()
        table = pa.parquet.read_table(path)
        meta = table.schema.metadata or {}
        header = json.loads(meta.get(_META_KEY, b"{}"))
        rows = [
            RecordedMessage(float(t), str(topic), bytes(payload))
            for t, topic, payload in zip(
                table.column("t").to_pylist(),
                table.column("topic").to_pylist(),
                table.column("payload").to_pylist(),
                strict=True,
            )
        ]
    else:
        header, iterator = _jsonl_rows(path)
        rows = list(iterator)
    rows.sort(key=lambda r: r.arrival)
    return Recording(header, rows, path)

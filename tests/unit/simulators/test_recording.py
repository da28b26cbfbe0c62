"""Recordings keep the exact bytes and arrival times, in JSON Lines (plain or gzip) and Parquet;
a bad file fails with its name and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulators.recording import RecordedMessage, read_recording, write_recording
from yujing.contracts import ConfigError

ROWS = [
    RecordedMessage(1000.5, "yujing/v1/d/rain/R1", b'{"station":"R1","ts":1000000}'),
    RecordedMessage(999.25, "yujing/v1/d/rain/R2", '{"名": 1}'.encode()),
    RecordedMessage(1001.0, "yujing/v1/d/gas/G1", b"\xff\xfe not utf-8 \x00"),
]


@pytest.mark.parametrize("name", ["r.jsonl", "r.jsonl.gz", "r.parquet"])
def test_round_trip_keeps_bytes_and_sorts_by_arrival(tmp_path: Path, name: str) -> None:
    count = write_recording(tmp_path / name, {"registry": "stations.yaml", "end": 2000.0}, ROWS)
    back = read_recording(tmp_path / name)
    assert count == 3
    assert back.rows == sorted(ROWS, key=lambda r: r.arrival)
    assert back.header["format"] == "yujing-recording" and back.header["end"] == 2000.0
    assert back.registry_path() == (tmp_path / "stations.yaml").resolve()


def test_errors_name_the_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="recording not found"):
        read_recording(tmp_path / "missing.jsonl")
    path = tmp_path / "bad.jsonl"
    path.write_text('{"format": "something else"}\n')
    with pytest.raises(ConfigError, match=r"bad.jsonl:1: format 'something else'"):
        read_recording(path)
    path.write_text('{"format": "yujing-recording", "version": 1}\n{"t": 1, "topic": "x"}\n')
    with pytest.raises(ConfigError, match=r"bad.jsonl:2: bad recording line"):
        read_recording(path)

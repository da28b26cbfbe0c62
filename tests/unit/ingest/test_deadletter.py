from __future__ import annotations

import base64
import json
import threading
from pathlib import Path

from ingest import DeadLetter, DeadLetterFile
from yujing.contracts import PayloadRejected, RejectReason

TOPIC = "yujing/v1/haidian/rain/HD-R01"


def letter(payload: bytes, reason: RejectReason = RejectReason.MALFORMED) -> DeadLetter:
    return DeadLetter(1_784_613_900.5, TOPIC, reason, "not JSON: ...", payload)


def test_text_payload_is_kept_as_text() -> None:
    assert letter("{雨量: 1}".encode()).to_json() == {
        "received": 1_784_613_900.5,
        "received_at": "2026-07-21T06:05:00.500000+00:00",
        "topic": TOPIC,
        "reason": "malformed",
        "detail": "not JSON: ...",
        "payload_bytes": 11,
        "payload_encoding": "utf-8",
        "payload": "{雨量: 1}",
        "truncated": False,
    }


def test_binary_payload_is_base64() -> None:
    raw = b"\x00\xff\xfe binary"
    data = letter(raw).to_json()
    assert data["payload_encoding"] == "base64"
    assert base64.b64decode(data["payload"]) == raw


def test_payload_is_truncated_with_its_original_size() -> None:
    data = letter(b"x" * 10_000, RejectReason.OVERSIZED).to_json(max_kept_bytes=100)
    assert (data["payload"], data["payload_bytes"], data["truncated"]) == ("x" * 100, 10_000, True)


def test_a_cut_through_a_character_stays_text() -> None:
    data = letter("雨".encode() * 10).to_json(max_kept_bytes=4)
    assert (data["payload_encoding"], data["payload"], data["truncated"]) == ("utf-8", "雨", True)


def test_of_rejection_and_to_bytes() -> None:
    rejection = PayloadRejected(RejectReason.OUT_OF_RANGE, "values.rain_mm: -1 outside [0, 300]")
    dead = DeadLetter.of(rejection, TOPIC, b'{"x": 1}', 5.0)
    assert (dead.reason, dead.detail) == (RejectReason.OUT_OF_RANGE, rejection.detail)
    assert json.loads(dead.to_bytes()) == dead.to_json()


def test_file_appends_json_lines_and_creates_parents(tmp_path: Path) -> None:
    path = tmp_path / "var" / "dead" / "letters.jsonl"
    with DeadLetterFile(path) as dead:
        dead.write(letter(b"a"))
        dead.write_many([letter(b"b"), letter(b"c")])
    with DeadLetterFile(path) as dead:  # reopening appends
        dead.write(letter(b"d"))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["payload"] for line in lines] == ["a", "b", "c", "d"]


def test_file_is_flushed_per_write(tmp_path: Path) -> None:
    dead = DeadLetterFile(tmp_path / "dead.jsonl")
    dead.write(letter(b"now"))
    assert json.loads((tmp_path / "dead.jsonl").read_text())["payload"] == "now"
    dead.close()


def test_concurrent_writers_never_interleave_lines(tmp_path: Path) -> None:
    path = tmp_path / "dead.jsonl"
    dead = DeadLetterFile(path)
    big = b"y" * 3000

    def writer(tag: int) -> None:
        for n in range(100):
            dead.write(letter(big + f"{tag}-{n}".encode()))

    threads = [threading.Thread(target=writer, args=(tag,)) for tag in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    dead.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 800
    assert {json.loads(line)["payload"][3000:] for line in lines} == {
        f"{tag}-{n}" for tag in range(8) for n in range(100)
    }

"""Dead letters: every refused message, kept with its reason, so nothing vanishes silently.

One line of JSON per letter, in a file (:class:`DeadLetterFile`) and, published by the runtime,
on ``settings.ingest.dead_letter_topic`` (:meth:`DeadLetter.to_bytes`). The ``reason`` is the same
:class:`~yujing.contracts.RejectReason` value that labels the rejection metric.

The payload is kept as UTF-8 text when it is text, else base64, cut to a bounded size: an oversized
or hostile message must not make the dead-letter store the next thing to fill up.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from yujing.contracts import PayloadRejected, RejectReason

MAX_KEPT_BYTES = 4096


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A refused message: when it came (wall epoch s), where, why, and its bytes."""

    received: float
    topic: str
    reason: RejectReason
    detail: str
    payload: bytes

    @classmethod
    def of(
        cls, rejection: PayloadRejected, topic: str, payload: bytes, received: float
    ) -> DeadLetter:
        return cls(received, topic, rejection.reason, rejection.detail, payload)

    def to_json(self, max_kept_bytes: int = MAX_KEPT_BYTES) -> dict[str, Any]:
        """Plain JSON; ``payload`` holds at most ``max_kept_bytes`` of the original bytes."""
        kept = self.payload[:max_kept_bytes]
        truncated = len(kept) < len(self.payload)
        text = _utf8(kept, truncated)
        return {
            "received": self.received,
            "received_at": datetime.fromtimestamp(self.received, UTC).isoformat(),
            "topic": self.topic,
            "reason": self.reason.value,
            "detail": self.detail,
            "payload_bytes": len(self.payload),
            "payload_encoding": "utf-8" if text is not None else "base64",
            "payload": text if text is not None else base64.b64encode(kept).decode("ascii"),
            "truncated": truncated,
        }

    def to_bytes(self, max_kept_bytes: int = MAX_KEPT_BYTES) -> bytes:
        """One compact JSON document: the body to publish on the dead-letter topic."""
        return json.dumps(self.to_json(max_kept_bytes), ensure_ascii=False).encode("utf-8")


def _utf8(kept: bytes, truncated: bool) -> str | None:
    """``kept`` as text, or None if it is not UTF-8 (a cut inside the last character is fine)."""
    try:
        return kept.decode("utf-8")
    except UnicodeDecodeError as exc:
        if truncated and exc.reason == "unexpected end of data":
            return kept[: exc.start].decode("utf-8", errors="strict")
        return None


class DeadLetterFile:
    """Appends dead letters as JSON Lines; flushed per call; safe to share between threads."""

    def __init__(self, path: Path, max_kept_bytes: int = MAX_KEPT_BYTES) -> None:
        self.path = path
        self.max_kept_bytes = max_kept_bytes
        self._lock = threading.Lock()
        self._file: IO[str] | None = None

    def write(self, letter: DeadLetter) -> None:
        self.write_many((letter,))

    def write_many(self, letters: Iterable[DeadLetter]) -> None:
        """Append a batch under one lock and one flush."""
        lines = "".join(
            json.dumps(letter.to_json(self.max_kept_bytes), ensure_ascii=False) + "\n"
            for letter in letters
        )
        if not lines:
            return
        with self._lock:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("a", encoding="utf-8")
            self._file.write(lines)
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def __enter__(self) -> DeadLetterFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

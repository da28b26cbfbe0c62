"""Logging follows the stderr of the moment: a command run with captured output (a test runner,
an embedding program) leaves no handler writing into its closed stream, and setting up twice
logs each record once."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest

from yujing.logs import StderrHandler, setup_logging


@pytest.fixture
def restored_root() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_closed_captured_stream_is_not_written_to_afterwards(
    restored_root: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    captured = io.StringIO()
    monkeypatch.setattr(sys, "stderr", captured)
    setup_logging("warning")
    setup_logging("warning")  # twice: still one handler of ours
    logging.getLogger("yujing.test").warning("during the command")
    assert captured.getvalue().count("during the command") == 1
    captured.close()  # the command is over, its capture closed
    later = io.StringIO()
    monkeypatch.setattr(sys, "stderr", later)
    logging.getLogger("yujing.test").warning("after it")
    assert "after it" in later.getvalue()
    assert "Logging error" not in later.getvalue()
    assert sum(isinstance(h, StderrHandler) for h in restored_root.handlers) == 1

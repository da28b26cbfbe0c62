"""Shared fixtures: real mosquitto and HTTP receivers on free loopback ports."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.services import HttpReceiver
from yujing.broker import Broker, free_port, mosquitto_binary, start_mosquitto

REPO = Path(__file__).resolve().parent.parent
DATASETS = Path(os.environ.get("YUJING_DATASETS", REPO.parent / "shared" / "datasets"))


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Broker]:
    """A fresh mosquitto on a free port (scripts/test installs the binary)."""
    if mosquitto_binary() is None:
        pytest.fail("mosquitto is not installed: run scripts/test, which installs it")
    broker = start_mosquitto("127.0.0.1", free_port(), tmp_path / "mosquitto")
    yield broker
    broker.stop()


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def datasets() -> Path:
    """The real public datasets; the one case a test may skip (folder absent)."""
    if not DATASETS.is_dir():
        pytest.skip(f"real datasets not found at {DATASETS} (set YUJING_DATASETS)")
    return DATASETS

"""``yujing demo`` as a user runs it: alerts within seconds, and Ctrl-C (SIGINT to the whole
foreground process group, as a terminal sends it) stops everything in order, quietly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.services import wait_for
from yujing.broker import free_port, mosquitto_binary, port_answers

REPO = Path(__file__).resolve().parents[2]


def test_demo_alerts_then_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    assert mosquitto_binary() is not None, "scripts/setup installs mosquitto"
    port = free_port()
    env = {
        **os.environ,
        "YUJING_MQTT__URL": f"mqtt://127.0.0.1:{port}",  # nothing there: the demo starts one
        "YUJING_METRICS__PORT": str(free_port()),
        "YUJING_STATE_DIR": str(tmp_path / "state"),
        "YUJING_INGEST__DEAD_LETTER_PATH": str(tmp_path / "dead.jsonl"),
    }
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        demo = subprocess.Popen(
            [sys.executable, "-c", "from yujing.cli import app; app()", "demo"],
            cwd=REPO, env=env, stdout=stdout, stderr=stderr, start_new_session=True,
        )  # fmt: skip
        try:
            wait_for(lambda: "FIRED" in out.read_text(), 60)
            assert port_answers("127.0.0.1", port, 1.0)
            os.killpg(demo.pid, signal.SIGINT)  # the terminal's Ctrl-C
            assert demo.wait(60) == 0
        finally:
            if demo.poll() is None:
                os.killpg(demo.pid, signal.SIGKILL)
    said = err.read_text()
    assert "yujing demo: stopped;" in said
    assert "disconnected" not in said, said  # the broker outlived its clients
    assert "Traceback" not in said
    deadline = time.monotonic() + 5
    while port_answers("127.0.0.1", port, 0.2):  # the broker it started is gone too
        assert time.monotonic() < deadline, "the demo's broker outlived it"
        time.sleep(0.1)

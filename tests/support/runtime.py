"""Run a real EmbeddedRuntime in a background thread for integration tests, and publish to it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import yaml

from tests.support.services import wait_for
from yujing.broker import free_port
from yujing.config import Settings, load_settings
from yujing.runtime import EmbeddedRuntime

REPO = Path(__file__).resolve().parents[2]


def write_settings(
    folder: Path,
    *,
    broker_url: str,
    stations: list[dict[str, Any]],
    webhook_urls: list[str] = (),  # type: ignore[assignment]
    extra: dict[str, Any] | None = None,
) -> Path:
    """A registry and a settings file in ``folder``, pointing at the shipped ladders."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stations.yaml").write_text(yaml.safe_dump({"stations": stations}))
    settings: dict[str, Any] = {
        "registry": "stations.yaml",
        "ladders": str(REPO / "configs" / "ladders"),
        "quantities": str(REPO / "configs" / "quantities.yaml"),
        "state_dir": "state",
        "tick_s": 0.2,
        "mqtt": {
            "url": broker_url,
            "client_id": f"test-runtime-{free_port()}",
            "start_broker": "never",
        },
        "ingest": {"dead_letter_path": "state/dead-letters.jsonl"},
        "metrics": {"port": free_port()},
        "notify": {
            "console": False,
            "webhooks": [{"name": f"hook{i}", "url": url} for i, url in enumerate(webhook_urls)],
        },
    }
    for key, value in (extra or {}).items():
        if isinstance(value, dict):
            settings.setdefault(key, {}).update(value)
        else:
            settings[key] = value
    path = folder / "yujing.yaml"
    path.write_text(yaml.safe_dump(settings))
    return path


class RunningRuntime:
    """An EmbeddedRuntime on its own event loop thread; ``stop()`` shuts it down cleanly."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        self.runtime = EmbeddedRuntime(settings, **kwargs)
        self.settings = settings
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def go() -> None:
            self._stop = asyncio.Event()
            await self.runtime.run(self._stop)

        try:
            self._loop.run_until_complete(go())
        except BaseException as exc:  # surfaced in stop()
            self._error = exc

    def start(self) -> RunningRuntime:
        self._thread.start()
        wait_for(lambda: self.runtime.connected.is_set() or self._error, 15)
        if self._error:
            raise self._error
        return self

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(20)
        if self._error:
            raise self._error

    def metrics_text(self) -> str:
        port = self.settings.metrics.port
        return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text

    def metric(self, name: str, **labels: str) -> float:
        """Value of one sample scraped over HTTP from /metrics (0 when absent)."""
        return sample(self.metrics_text(), name, **labels)


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text exposition (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        if "{" in head:
            metric, _, rest = head.partition("{")
            got = ",".join(sorted(rest.rstrip("}").split(",")))
        else:
            metric, got = head, ""
        if metric == name and got == wanted:
            return float(value)
    return 0.0


@contextmanager
def running(settings_path: Path, **kwargs: Any) -> Iterator[RunningRuntime]:
    rt = RunningRuntime(load_settings(settings_path), **kwargs).start()
    try:
        yield rt
    finally:
        rt.stop()


class Sender:
    """A paho client publishing QoS 1 and waiting for the broker's PUBACK."""

    def __init__(self, host: str, port: int, prefix: str = "yujing/v1") -> None:
        self.prefix = prefix
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"sender-{port}")
        self.client.connect(host, port)
        self.client.loop_start()

    def raw(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(10)

    def reading(self, district: str, kind: str, station: str, body: dict[str, Any]) -> None:
        self.raw(f"{self.prefix}/{district}/{kind}/{station}", json.dumps(body).encode())

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class ChildRuntime:
    """``yujing run`` as a child process (crash tests: it can be killed with SIGKILL)."""

    def __init__(self, settings: Path, log: Path) -> None:
        self.settings = settings
        self.log = log
        self.api = load_settings(settings).api.port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, probe: str = "/readyz") -> ChildRuntime:
        """Start and wait until ``probe`` answers 200 (``/readyz``: subscribed to the broker,
        so what a test publishes next is received)."""
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from yujing.cli import app; app()",
                    "run",
                    "--config",
                    str(self.settings),
                    "--log-level",
                    "warning",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=REPO,
            )
        try:
            wait_for(lambda: self.answers(probe) == 200, 30)
        except BaseException:
            self.stop()  # never leave a child behind a failed start
            raise
        return self

    def answers(self, path: str) -> int | None:
        """The HTTP status of the child's API at ``path`` (None: not listening yet)."""
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"runtime exited: {self.log.read_text()[-2000:]}")
        try:
            return httpx.get(f"http://127.0.0.1:{self.api}{path}", timeout=1).status_code
        except httpx.HTTPError:
            return None

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def ingested(self, kind: str) -> float:
        """``yujing_readings_ingested_total`` of ``kind`` from the child's /metrics (0: none)."""
        return self.metric("yujing_readings_ingested_total", kind=kind)

    def metric(self, name: str, **labels: str) -> float:
        """One sample of the child's /metrics (0 when absent or not answering yet)."""
        port = load_settings(self.settings).metrics.port
        try:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1).text
        except httpx.HTTPError:
            return 0.0
        return sample(text, name, **labels)

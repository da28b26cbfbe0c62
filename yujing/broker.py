"""Find or start an MQTT broker: probe the configured URL, else start ``mosquitto`` as a child
process (when the binary exists), else an in-process amqtt broker (DESIGN §6)."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

log = logging.getLogger(__name__)

MOSQUITTO_PATHS = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/usr/bin/mosquitto")


def parse_mqtt_url(url: str) -> tuple[str, int]:
    """``mqtt://host:port`` → (host, port); port defaults to 1883."""
    parsed = urlparse(url if "://" in url else f"mqtt://{url}")
    return parsed.hostname or "127.0.0.1", parsed.port or 1883


def port_answers(host: str, port: int, timeout_s: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def mosquitto_binary() -> str | None:
    found = shutil.which("mosquitto")
    if found:
        return found
    return next((p for p in MOSQUITTO_PATHS if Path(p).exists()), None)


@dataclass
class Broker:
    """A broker this process started; ``stop()`` ends it."""

    host: str
    port: int
    kind: str
    process: subprocess.Popen[bytes] | None = None
    _thread: threading.Thread | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _stop: asyncio.Event | None = None
    log_path: Path | None = field(default=None)

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=5)


def start_mosquitto(
    host: str, port: int, data_dir: Path, *, persistence: bool = True, extra_conf: str = ""
) -> Broker:
    """Start mosquitto on host:port with its config, persistence and log under ``data_dir``."""
    binary = mosquitto_binary()
    if binary is None:
        raise FileNotFoundError("mosquitto binary not found")
    data_dir.mkdir(parents=True, exist_ok=True)
    conf = data_dir / "mosquitto.conf"
    log_path = data_dir / "mosquitto.log"
    # as root, mosquitto drops to user "mosquitto", which cannot write our data_dir
    run_as = "user root\n" if os.geteuid() == 0 else ""
    conf.write_text(
        run_as + f"listener {port} {host}\n"
        "allow_anonymous true\n"
        f"persistence {'true' if persistence else 'false'}\n"
        f"persistence_location {data_dir}/\n"
        "autosave_interval 1\n"
        "max_queued_messages 1000000\n"
        "max_inflight_messages 1000\n"
        "message_size_limit 0\n"
        f"log_dest file {log_path}\n"
        "log_type error\nlog_type warning\nlog_type notice\n" + extra_conf
    )
    # a process group of its own: a terminal's Ctrl-C goes to the runtime only, which stops
    # its receiver (after the last acks) before it stops this broker, not the other way round
    process = subprocess.Popen(  # noqa: S603 - fixed binary and our own config
        [binary, "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        process_group=0,
    )
    deadline = time.monotonic() + 10
    while not port_answers(host, port, 0.2):
        if process.poll() is not None:
            raise RuntimeError(f"mosquitto exited with {process.returncode}; see {log_path}")
        if time.monotonic() > deadline:
            process.kill()
            raise TimeoutError(f"mosquitto did not listen on {host}:{port}")
        time.sleep(0.05)
    log.info("broker started", extra={"kind": "mosquitto", "host": host, "port": port})
    return Broker(host, port, "mosquitto", process=process, log_path=log_path)


def start_amqtt(host: str, port: int) -> Broker:
    """Start an in-process amqtt broker in a thread of its own (fallback without mosquitto)."""
    from amqtt.broker import Broker as AmqttBroker

    ready = threading.Event()
    holder: dict[str, object] = {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        stop = asyncio.Event()
        holder["loop"], holder["stop"] = loop, stop

        async def main() -> None:
            config = {
                "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
                "plugins": {
                    "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
                },
            }
            broker = AmqttBroker(config, loop=loop)
            await broker.start()
            ready.set()
            await stop.wait()
            await broker.shutdown()

        loop.run_until_complete(main())

    thread = threading.Thread(target=run, name="amqtt-broker", daemon=True)
    thread.start()
    if not ready.wait(10):
        raise TimeoutError("amqtt broker did not start")
    broker = Broker(host, port, "amqtt", _thread=thread)
    broker._loop = holder["loop"]  # type: ignore[assignment]
    broker._stop = holder["stop"]  # type: ignore[assignment]
    return broker


def ensure_broker(url: str, data_dir: Path, *, allow_start: bool = True) -> Broker | None:
    """Return None if a broker answers at ``url``; otherwise start one there (or raise)."""
    host, port = parse_mqtt_url(url)
    if port_answers(host, port):
        return None
    if not allow_start:
        raise ConnectionError(f"no MQTT broker answers at {url} and start_broker is 'never'")
    if mosquitto_binary() is not None:
        return start_mosquitto(host, port, data_dir)
    log.warning("mosquitto not found; starting in-process amqtt broker")
    return start_amqtt(host, port)

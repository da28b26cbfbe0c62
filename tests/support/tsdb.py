"""Real time-series servers for tests, from the Debian packages scripts/setup installs:
VictoriaMetrics (InfluxDB v2 write API), InfluxDB 1.x (InfluxQL) and Prometheus (PromQL, rules);
and :class:`V2WriteGateway`, the ``/api/v2/write`` endpoint InfluxDB 1.8+ has and Debian's 1.6
lacks, so the storage writer can write to the InfluxDB the boards query.

Each runs as a child process on a free loopback port with every file under the test's tmp folder;
``stop()`` ends it, VictoriaMetrics can also be paused (SIGSTOP: a hung database) and restarted on
the same port and data. Readiness is waited for with a deadline, never a bare sleep.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import httpx

from yujing.broker import free_port


def binary(name: str, *extra: str) -> str:
    """Path of a server binary; fails the test with the install hint when it is missing."""
    for candidate in (shutil.which(name), *extra):
        if candidate and Path(candidate).exists():
            return candidate
    raise RuntimeError(f"{name} is not installed: run scripts/test (scripts/setup --test)")


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"{url}: server exited with {process.returncode}: {log.read_text()[-2000:]}"
            )
        try:
            if httpx.get(url, timeout=0.5).status_code < 300:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise TimeoutError(f"{url} not ready within {timeout_s} s: {log.read_text()[-2000:]}")
        time.sleep(0.05)


@dataclass
class Server:
    """A server child process; ``args`` and ``ready_path`` say how to start and probe it."""

    name: str
    args: list[str]
    port: int
    folder: Path
    ready_path: str
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.log_path = self.folder / f"{self.name}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 20.0) -> Self:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - fixed binary, our own arguments
            self.args, stdout=log, stderr=subprocess.STDOUT, cwd=self.folder
        )
        log.close()
        _wait_ready(self.process, self.url + self.ready_path, self.log_path, timeout_s)
        return self

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGCONT)  # in case it was paused
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def pause(self) -> None:
        """SIGSTOP: the port still accepts connections, nothing answers (a hung server)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)


class VictoriaMetrics(Server):
    """VictoriaMetrics single node: accepts ``/api/v2/write`` (InfluxDB line protocol)."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        port = port or free_port()
        args = [
            binary("victoria-metrics"),
            f"-httpListenAddr=127.0.0.1:{port}",
            f"-storageDataPath={folder / 'data'}",
            "-retentionPeriod=100y",
            "-dedup.minScrapeInterval=1ms",  # a re-sent point is stored once
            "-loggerLevel=WARN",
        ]
        super().__init__("victoria-metrics", args, port, folder, "/health")

    def export(self, metric: str) -> list[dict[str, Any]]:
        """Every series of ``metric`` with its raw samples, after a forced flush (the default
        end of an export lags behind now, so it is set a day ahead)."""
        httpx.get(self.url + "/internal/force_flush", timeout=10)
        response = httpx.post(
            self.url + "/api/v1/export",
            data={"match[]": f'{{__name__="{metric}"}}', "end": str(time.time() + 86400)},
            timeout=30,
        )
        response.raise_for_status()
        return [json.loads(line) for line in response.text.splitlines() if line.strip()]

    def count(self, metric: str) -> int:
        """Samples stored for ``metric``, all series together."""
        return sum(len(series["timestamps"]) for series in self.export(metric))


class InfluxDB1(Server):
    """InfluxDB 1.x ``influxd`` with a generated config: loopback only, no reporting."""

    def __init__(self, folder: Path) -> None:
        port, rpc = free_port(), free_port()
        folder.mkdir(parents=True, exist_ok=True)
        config = folder / "influxdb.conf"
        config.write_text(
            textwrap.dedent(
                f"""\
                reporting-disabled = true
                bind-address = "127.0.0.1:{rpc}"
                [meta]
                  dir = "{folder / "meta"}"
                [data]
                  dir = "{folder / "data"}"
                  wal-dir = "{folder / "wal"}"
                  query-log-enabled = false
                [monitor]
                  store-enabled = false
                [subscriber]
                  enabled = false
                [continuous_queries]
                  enabled = false
                [http]
                  bind-address = "127.0.0.1:{port}"
                  log-enabled = false
                [logging]
                  level = "warn"
                  suppress-logo = true
                """
            )
        )
        args = [binary("influxd", "/usr/bin/influxd"), "-config", str(config)]
        super().__init__("influxd", args, port, folder, "/ping")

    def query(self, q: str, db: str | None = None, epoch: str = "ms") -> dict[str, Any]:
        params = {"q": q, "epoch": epoch}
        if db:
            params["db"] = db
        response = httpx.post(self.url + "/query", data=params, timeout=30)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def rows(self, q: str, db: str) -> list[dict[str, Any]]:
        """Every row of every series of a query, as column → value (with the series' tags)."""
        result = self.query(q, db)["results"][0]
        if "error" in result:
            raise AssertionError(f"InfluxQL failed {q!r}: {result['error']}")
        return [
            {**series.get("tags", {}), **dict(zip(series["columns"], values, strict=True))}
            for series in result.get("series", [])
            for values in series["values"]
        ]

    def write(self, db: str, lines: list[str], precision: str = "ms") -> None:
        response = httpx.post(
            self.url + "/write",
            params={"db": db, "precision": precision},
            content="\n".join(lines).encode(),
            timeout=30,
        )
        if response.status_code != 204:
            raise AssertionError(f"write refused ({response.status_code}): {response.text}")


class Prometheus(Server):
    """Prometheus with the given configuration file (rules are read relative to it)."""

    def __init__(self, folder: Path, config: Path) -> None:
        port = free_port()
        args = [
            binary("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ]
        super().__init__("prometheus", args, port, folder, "/-/ready")

    def query(self, expr: str) -> dict[str, Any]:
        response = httpx.get(self.url + "/api/v1/query", params={"query": expr}, timeout=30)
        body: dict[str, Any] = response.json()
        if response.status_code != 200 or body.get("status") != "success":
            raise AssertionError(f"PromQL failed ({response.status_code}) {expr!r}: {body}")
        return body

    def get(self, path: str) -> dict[str, Any]:
        response = httpx.get(self.url + path, timeout=30)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body


class V2WriteGateway:
    """``POST /api/v2/write?bucket=db&precision=ms`` → InfluxDB 1.x ``/write?db=db&precision=ms``,
    status and body passed back: what InfluxDB 1.8+'s compatibility endpoint does, in front of
    the 1.6 server Debian packages (which answers ``/api/v2/write`` with 404)."""

    def __init__(self, influxdb: InfluxDB1) -> None:
        self.influxdb = influxdb
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Self:
        target = self.influxdb

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if url.path != "/api/v2/write":
                    status, answer = 404, b'{"error": "not found"}'
                else:
                    db = query.get("bucket", "").split("/")[0]
                    params = {"db": db, "precision": query.get("precision", "ns")}
                    response = httpx.post(
                        target.url + "/write", params=params, content=body, timeout=30
                    )
                    status, answer = response.status_code, response.content
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@contextmanager
def influxdb_for_writer(folder: Path, database: str) -> Iterator[tuple[InfluxDB1, V2WriteGateway]]:
    """InfluxDB 1.x with ``database`` created, and the gateway the storage writer writes to."""
    server = InfluxDB1(folder).start()
    gateway = V2WriteGateway(server).start()
    try:
        server.query(f'CREATE DATABASE "{database}"')
        yield server, gateway
    finally:
        gateway.stop()
        server.stop()

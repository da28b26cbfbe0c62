"""The ``yujing`` command line: thin wrappers over the runtimes, simulators and config loader."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

import typer

from yujing import __version__
from yujing.config import Settings, load_settings
from yujing.contracts import ConfigError
from yujing.logs import setup_logging

app = typer.Typer(
    help="yujing (预警): real-time IoT monitoring and graded early warning.",
    no_args_is_help=True,
    add_completion=False,
)

REPO = Path(__file__).resolve().parent.parent
DEMO_CONFIG = REPO / "configs" / "demo" / "yujing.yaml"

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="settings YAML; YUJING_* environment variables override"),
]
LogLevel = Annotated[str, typer.Option(help="debug, info, warning, error")]
LogFormat = Annotated[str, typer.Option(help="plain or json")]


def _settings(path: Path | None) -> Settings:
    try:
        return load_settings(path)
    except ConfigError as exc:
        typer.echo(f"configuration error:\n{exc}", err=True)
        raise typer.Exit(2) from None


def _run_until_signal(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run ``main(stop)`` until it returns or SIGINT/SIGTERM sets ``stop``."""

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    try:
        asyncio.run(runner())
    except ConfigError as exc:
        typer.echo(f"configuration error:\n{exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def run(
    config: ConfigOpt = None,
    log_level: LogLevel = "info",
    log_format: LogFormat = "json",
) -> None:
    """Run the embedded runtime against a real broker and station registry (no simulator)."""
    from yujing.runtime import EmbeddedRuntime

    setup_logging(log_level, log_format)
    settings = _settings(config)

    async def main(stop: asyncio.Event) -> None:
        await EmbeddedRuntime(settings).run(stop)

    _run_until_signal(main)


@app.command()
def demo(
    speed: Annotated[float, typer.Option(help="simulated seconds per wall second")] = 10.0,
    duration: Annotated[
        float, typer.Option(help="stop after this many wall seconds (0: until Ctrl-C)")
    ] = 0.0,
    config: ConfigOpt = None,
    seed: Annotated[int, typer.Option(help="simulation seed")] = 7,
    log_level: LogLevel = "warning",
    log_format: LogFormat = "plain",
) -> None:
    """Live demo: simulated district over real MQTT → runtime → graded alerts on the console."""
    from simulators import Publisher, SensorSimulator, demo_scenario
    from yujing.clock import ScaledClock
    from yujing.runtime import EmbeddedRuntime, load_parts

    setup_logging(log_level, log_format)
    settings = _settings(config or DEMO_CONFIG)
    parts = load_parts(settings)
    clock = ScaledClock(origin=time.time(), speed=speed)
    scenario = demo_scenario()
    runtime = EmbeddedRuntime(settings, parts=parts, clock=clock)
    typer.echo(
        f"yujing demo: {len(parts.registry)} stations, scenario '{scenario.name}', ×{speed:g}; "
        f"MQTT {settings.mqtt.url}; metrics http://{settings.metrics.host}:"
        f"{settings.metrics.port}/metrics; Ctrl-C to stop",
        err=True,
    )

    async def main(stop: asyncio.Event) -> None:
        task = asyncio.create_task(runtime.run(stop))
        await asyncio.wait(
            [task, asyncio.create_task(runtime.connected.wait())],
            return_when=asyncio.FIRST_COMPLETED,
        )
        if task.done():
            await task
            return
        simulator = SensorSimulator(parts.registry, scenario, seed=seed, start=clock.origin)
        publisher = Publisher(settings.mqtt.url, simulator, clock, client_id="yujing-demo-sim")
        publisher.start()
        try:
            if duration > 0:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=duration)
                except TimeoutError:
                    stop.set()
            await task
        finally:
            publisher.stop()
        typer.echo(
            f"yujing demo: stopped; {runtime.processed} messages processed, "
            f"{len(runtime.pipeline.book.alerts())} alerts active",
            err=True,
        )

    _run_until_signal(main)


@app.command()
def simulate(
    config: ConfigOpt = None,
    speed: Annotated[float, typer.Option(help="simulated seconds per wall second")] = 1.0,
    duration: Annotated[float, typer.Option(help="wall seconds to run (0: until Ctrl-C)")] = 0.0,
    seed: Annotated[int, typer.Option(help="simulation seed")] = 7,
) -> None:
    """Publish the demo scenario over MQTT (to a broker started elsewhere)."""
    from simulators import Publisher, SensorSimulator, demo_scenario
    from yujing.clock import ScaledClock
    from yujing.config import load_registry

    setup_logging("warning", "plain")
    settings = _settings(config or DEMO_CONFIG)
    registry = load_registry(settings.registry)
    clock = ScaledClock(origin=time.time(), speed=speed)
    simulator = SensorSimulator(registry, demo_scenario(), seed=seed, start=clock.origin)
    publisher = Publisher(settings.mqtt.url, simulator, clock, client_id="yujing-simulator")

    async def main(stop: asyncio.Event) -> None:
        publisher.start()
        try:
            await asyncio.wait_for(stop.wait(), timeout=duration or None)
        except TimeoutError:
            pass
        finally:
            publisher.stop()

    _run_until_signal(main)


@app.command()
def schema(
    out: Annotated[Path | None, typer.Option(help="write to this file instead of stdout")] = None,
) -> None:
    """Print (or write) the JSON Schema of the Reading wire contract."""
    from ingest import json_schema

    text = json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")


@app.command("check-config")
def check_config(config: ConfigOpt = None) -> None:
    """Validate settings, station registry, ladders and limits; print a summary."""
    from yujing.runtime import load_parts

    settings = _settings(config)
    try:
        parts = load_parts(settings)
    except ConfigError as exc:
        typer.echo(f"configuration error:\n{exc}", err=True)
        raise typer.Exit(2) from None
    kinds: dict[str, int] = {}
    for station in parts.registry:
        kinds[station.kind.value] = kinds.get(station.kind.value, 0) + 1
    typer.echo(f"registry {settings.registry}: {len(parts.registry)} stations {kinds}")
    typer.echo(f"ladders {settings.ladders}: {len(parts.ladders.rules)} rules")
    typer.echo("ok")


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)

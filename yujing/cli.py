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
from yujing.api.cli import register as register_alerting_commands
from yujing.config import Settings, load_settings
from yujing.contracts import ConfigError
from yujing.logs import setup_logging
from yujing.replay.cli import register as register_replay_commands

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
def bridge(
    config: ConfigOpt = None,
    log_level: LogLevel = "info",
    log_format: LogFormat = "json",
) -> None:
    """Scale-out runtime: MQTT → Kafka bridge (readings keyed by station; docs/operations.md)."""
    from yujing.runtime.bridge import BridgeError, run_bridge

    setup_logging(log_level, log_format)
    settings = _settings(config)
    try:
        _run_until_signal(lambda stop: run_bridge(settings, stop))
    except BridgeError as exc:  # Kafka did not take a batch: exit unacknowledged, get restarted
        typer.echo(f"bridge stopped: {exc}", err=True)
        raise typer.Exit(1) from None


@app.command()
def worker(
    config: ConfigOpt = None,
    role: Annotated[
        str, typer.Option(help="stream: detect, network and alert agents; notifier: deliveries")
    ] = "stream",
    log_level: LogLevel = "info",
    log_format: LogFormat = "json",
) -> None:
    """Scale-out runtime: a Faust worker on Kafka (run N of them; docs/operations.md)."""
    from yujing.runtime.faust.worker import Role, run_worker

    setup_logging(log_level, log_format)
    settings = _settings(config)
    try:
        chosen = Role(role)
    except ValueError:
        typer.echo(f"--role must be one of {[r.value for r in Role]}, got {role!r}", err=True)
        raise typer.Exit(2) from None
    run_worker(settings, chosen, log_level)


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
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait(
                [task, stopping], timeout=duration or None, return_when=asyncio.FIRST_COMPLETED
            )
            stopping.cancel()
        finally:
            # the simulator leaves first, while the broker the runtime may have started is up
            await asyncio.to_thread(publisher.stop)
            stop.set()
        await task
        typer.echo(
            f"yujing demo: stopped; {runtime.processed} messages processed, "
            f"{len(runtime.pipeline.book.alerts())} alerts active",
            err=True,
        )

    _run_until_signal(main)


@app.command()
def simulate(
    scenario: Annotated[
        Path | None, typer.Argument(help="scenario YAML (default: configs/scenarios/demo.yaml)")
    ] = None,
    config: ConfigOpt = None,
    speed: Annotated[float, typer.Option(help="×N: simulated seconds per wall second")] = 1.0,
    duration: Annotated[float, typer.Option(help="wall seconds to run (0: until Ctrl-C)")] = 0.0,
    seed: Annotated[int | None, typer.Option(help="simulation seed (default: 7)")] = None,
    url: Annotated[str | None, typer.Option(help="broker URL (default: the settings')")] = None,
    write_registry: Annotated[
        Path | None, typer.Option(help="also write the scenario's stations as a registry YAML")
    ] = None,
) -> None:
    """Publish a scenario over MQTT in real time or at ×N speed (scenario time 0 = now)."""
    from simulators import Publisher, SensorSimulator, demo_scenario, load_scenario
    from simulators.district import write_specs
    from simulators.scenario import scenario_registry
    from yujing.clock import ScaledClock
    from yujing.config import load_registry

    setup_logging("warning", "plain")
    settings = _settings(config or DEMO_CONFIG)
    try:
        plan = demo_scenario() if scenario is None else load_scenario(scenario)
        registry = (
            load_registry(settings.registry) if plan.network is None else scenario_registry(plan)
        )
    except ConfigError as exc:
        typer.echo(f"configuration error:\n{exc}", err=True)
        raise typer.Exit(2) from None
    if write_registry is not None:
        write_specs(write_registry, list(registry), f"# Stations of scenario {plan.name}.\n")
    clock = ScaledClock(origin=time.time(), speed=speed)
    used_seed = seed if seed is not None else plan.run_seed
    simulator = SensorSimulator(registry, plan, seed=used_seed, start=clock.origin)
    broker = url or settings.mqtt.url
    publisher = Publisher(broker, simulator, clock, client_id="yujing-simulator")
    typer.echo(
        f"yujing simulate: scenario '{plan.name}', {len(registry)} stations, ×{speed:g}, "
        f"seed {used_seed}, MQTT {broker}",
        err=True,
    )

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
    if settings.alerting.roster is not None:
        from yujing.config.roster import load_roster

        try:
            roster = load_roster(settings.alerting.roster)
        except ConfigError as exc:
            typer.echo(f"configuration error:\n{exc}", err=True)
            raise typer.Exit(2) from None
        officers, routes = len(roster.officers), len(roster.routes)
        typer.echo(f"roster {settings.alerting.roster}: {officers} officers, {routes} routes")
    typer.echo("ok")


@app.command("dashboards")
def write_dashboards(
    ladders: Annotated[
        Path, typer.Option(help="ladder folder; its rungs become the boards' threshold lines")
    ] = REPO / "configs" / "ladders",
    out: Annotated[
        Path | None, typer.Option(help="write under this folder instead of dashboards/")
    ] = None,
) -> None:
    """Regenerate the Grafana boards and provisioning files from code (docs/dashboards.md)."""
    import dashboards as boards
    from yujing.config import load_ladders

    try:
        book = load_ladders(ladders)
    except ConfigError as exc:
        typer.echo(f"configuration error:\n{exc}", err=True)
        raise typer.Exit(2) from None
    folder = out or boards.FOLDER
    written = boards.write_all(book, folder)
    typer.echo(f"wrote {len(written)} files under {folder}")


register_alerting_commands(app)  # silence, ack, feedback, report (yujing/api/cli.py)
register_replay_commands(app)  # replay, tune, record (yujing/replay/cli.py)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)

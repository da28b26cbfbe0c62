"""``yujing replay``, ``yujing tune`` and ``yujing record …``: thin wrappers over
:mod:`yujing.replay` and :mod:`simulators` (registered on the main app by ``yujing/cli.py``)."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from yujing.contracts import ConfigError, Grade

__all__ = ["register"]

REPO = Path(__file__).resolve().parents[2]

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="settings YAML (default configs/scenarios/replay.yaml)"),
]
SeedOpt = Annotated[int | None, typer.Option(help="simulation seed (default: the scenario's)")]
StartOpt = Annotated[
    str | None,
    typer.Option(help="scenario time 0 as RFC 3339 or epoch s (default: the scenario's)"),
]


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"configuration error:\n{exc}", err=True)
    return typer.Exit(2)


def _start(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--start {text!r}: not RFC 3339 nor epoch seconds") from None
    if moment.tzinfo is None:
        raise ConfigError(f"--start {text!r}: give a UTC offset (e.g. +08:00)")
    return moment.timestamp()


def replay(
    target: Annotated[Path, typer.Argument(help="scenario YAML or recording (.jsonl/.parquet)")],
    config: ConfigOpt = None,
    out: Annotated[Path, typer.Option(help="folder for timeline, skill, plots, report")] = Path(
        "var/replay"
    ),
    tick_s: Annotated[
        float | None, typer.Option(help="virtual s between ticks (default: the settings' tick_s)")
    ] = None,
    step_s: Annotated[float, typer.Option(help="batch resolution in virtual s")] = 1.0,
    wire: Annotated[bool, typer.Option(help="scenario through JSON + decode, as live")] = False,
    seed: SeedOpt = None,
    start: StartOpt = None,
    registry: Annotated[Path | None, typer.Option(help="station registry (recordings)")] = None,
    tail_s: Annotated[float, typer.Option(help="keep ticking this long after the end")] = 0.0,
    plots: Annotated[int, typer.Option(help="key stations to plot (0: none)")] = 6,
    timeline: Annotated[int, typer.Option(help="notices to print (0: none)")] = 40,
    split: Annotated[
        bool, typer.Option(help="per-station detectors in a second process (two cores)")
    ] = True,
) -> None:
    """Replay a scenario or recording through the production pipeline on a virtual clock, as
    fast as the CPU allows; write the notice timeline, skill report, plots and report.html."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from yujing.config import load_settings
    from yujing.replay import REPLAY_SETTINGS, ReplayOptions, ReplaySource
    from yujing.replay.report import format_skill, format_timeline
    from yujing.replay.session import run_replay, write_outputs

    try:
        settings = load_settings(config or REPLAY_SETTINGS)
        options = ReplayOptions(step_s=step_s, tick_s=tick_s or settings.tick_s, split=split)
        with Progress(
            TextColumn("replay"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), transient=True,
        ) as bar:  # fmt: skip
            task = bar.add_task("replay", total=1.0, rate="")
            began = time.perf_counter()
            span: dict[str, float] = {}

            def opened(source: ReplaySource) -> None:
                span["first"], span["end"] = source.first, source.end

            def progress(virtual: float, readings: int) -> None:
                rate = readings / max(time.perf_counter() - began, 1e-9)
                done = (virtual - span["first"]) / max(span["end"] - span["first"], 1e-9)
                bar.update(task, completed=min(1.0, done), rate=f"{rate:,.0f} readings/s")

            result = run_replay(
                target, settings, options, seed=seed, start=_start(start),
                registry_path=registry, wire=wire, tail_s=tail_s, progress=progress,
                on_source=opened,
            )  # fmt: skip
        outputs = write_outputs(result, out, plots=plots)
    except (ConfigError, ValueError) as exc:
        raise _fail(exc) from None
    stats = result.stats
    typer.echo(
        f"replayed {stats.readings:,} readings in {stats.wall_s:.1f} s "
        f"({stats.readings_per_s:,.0f} readings/s), {stats.ticks:,} ticks every "
        f"{options.tick_s:g} s, "
        f"{len(result.records)} notices, rejected {dict(stats.rejected) or 0}"
    )
    if timeline:
        typer.echo(format_timeline(result.records, result.origin, timeline))
    if result.skill is not None:
        typer.echo(format_skill(result.skill))
    typer.echo(f"report: {outputs['report']}  timeline: {outputs['timeline']}")


def tune(
    scenarios: Annotated[list[Path], typer.Argument(help="scenario YAML files")],
    grid: Annotated[
        list[str],
        typer.Option(
            help="PARAM=v1,v2,... e.g. rainstorm/short_heavy_rain.blue.enter"
            "=15,20,25 (repeat for more parameters)"
        ),
    ],
    config: ConfigOpt = None,
    out: Annotated[Path, typer.Option(help="folder for tune.json and tradeoff.png")] = Path(
        "var/tune"
    ),
    tick_s: Annotated[float, typer.Option(help="virtual s between ticks")] = 60.0,
    grade: Annotated[list[str] | None, typer.Option(help="grades scored (default all)")] = None,
    jobs: Annotated[int, typer.Option(help="parallel processes")] = 2,
    choose: Annotated[str, typer.Option(help="'csi' (best CSI on the front) or a row index")] = (
        "csi"
    ),
    write_ladder: Annotated[
        Path | None, typer.Option(help="write the chosen ladder(s) here (.yaml or folder)")
    ] = None,
    all_stations: Annotated[
        bool, typer.Option(help="replay every station, not only the tuned hazards' kinds")
    ] = False,
) -> None:
    """Sweep threshold parameters over scenarios: table, POD/FAR/lead plot, Pareto front,
    optionally the chosen ladder written back as a config file."""
    from yujing.config import load_settings
    from yujing.replay import REPLAY_SETTINGS, ReplayOptions
    from yujing.replay.plots import plot_tradeoff
    from yujing.replay.tuning import pareto_front, parse_grid, run_grid, write_ladders

    try:
        params = parse_grid(grid)
        grades = tuple(Grade(g) for g in grade) if grade else (
            Grade.BLUE, Grade.YELLOW, Grade.ORANGE, Grade.RED)  # fmt: skip
        settings_path = config or REPLAY_SETTINGS
        settings = load_settings(settings_path)
        began = time.perf_counter()
        results = run_grid(
            scenarios, params, settings_path=settings_path,
            options=ReplayOptions(tick_s=tick_s), grades=grades, jobs=jobs,
            all_stations=all_stations,
        )  # fmt: skip
    except (ConfigError, ValueError) as exc:
        raise _fail(exc) from None
    front = pareto_front(results)
    valid = [i for i in front if results[i].error is None]
    if choose == "csi":
        chosen = max(valid, key=lambda i: (results[i].csi, -(results[i].lead_median_s or 0.0)),
                     default=None)  # fmt: skip
    else:
        chosen = int(choose)
    typer.echo(
        f"{len(results)} combinations x {len(scenarios)} scenarios in "
        f"{time.perf_counter() - began:.1f} s; grades {[g.value for g in grades]}"
    )
    typer.echo(
        f"{'#':>3} {'front':>5} {'POD':>5} {'FAR':>5} {'CSI':>5} {'lead med':>9} "
        f"{'hits':>5} {'miss':>5} {'FA':>4}  setting"
    )
    for i, r in enumerate(results):
        mark = ("*" if i == chosen else "") + ("P" if i in front else "")
        lead = "-" if r.lead_median_s is None else f"{r.lead_median_s:+.0f}"
        typer.echo(
            f"{i:>3} {mark:>5} {r.pod:5.2f} {r.far:5.2f} {r.csi:5.2f} {lead:>9} "
            f"{r.hits:>5} {r.misses:>5} {r.false_alarms:>4}  {r.label}"
            + (f"  ERROR {r.error}" if r.error else "")
        )
    out.mkdir(parents=True, exist_ok=True)
    plot = plot_tradeoff(
        out / "tradeoff.png", [r.pod for r in results], [r.far for r in results],
        [r.lead_median_s for r in results], [str(i) for i in range(len(results))], valid, chosen,
    )  # fmt: skip
    (out / "tune.json").write_text(json.dumps({
        "scenarios": [str(s) for s in scenarios], "grades": [g.value for g in grades],
        "front": front, "chosen": chosen, "results": [r.to_json() for r in results],
    }, indent=1))  # fmt: skip
    typer.echo(f"plot: {plot}  table: {out / 'tune.json'}  (P = Pareto front, * = chosen)")
    if write_ladder is not None and chosen is not None:
        note = f"row {chosen} of a {len(results)}-point grid over " + ", ".join(
            s.name for s in scenarios
        )
        for path in write_ladders(settings.ladders, params, results[chosen], write_ladder, note):
            typer.echo(f"wrote {path}")


record_app = typer.Typer(help="Write recordings (JSON Lines; Parquet with the parquet extra).",
                         no_args_is_help=True)  # fmt: skip


@record_app.command("scenario")
def record_scenario(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML")],
    out: Annotated[Path, typer.Option(help=".jsonl, .jsonl.gz or .parquet")],
    seed: SeedOpt = None,
    start: StartOpt = None,
) -> None:
    """What the simulator would publish (faults applied), with arrival times; the scenario's
    registry is written next to it."""
    from simulators.convert import record_scenario as write

    try:
        count, registry = write(scenario, out, seed=seed, start=_start(start))
    except ConfigError as exc:
        raise _fail(exc) from None
    typer.echo(f"wrote {count:,} messages to {out} (registry {registry})")


@record_app.command("mqtt")
def record_mqtt(
    out: Annotated[Path, typer.Option(help=".jsonl, .jsonl.gz or .parquet")],
    url: Annotated[str, typer.Option(help="broker")] = "mqtt://127.0.0.1:1883",
    duration: Annotated[
        float, typer.Option(help="wall seconds to listen (Ctrl-C: stop early)")
    ] = 60.0,
    prefix: Annotated[str, typer.Option(help="topic prefix")] = "yujing/v1",
    registry: Annotated[Path | None, typer.Option(help="registry to name in the header")] = None,
) -> None:
    """Capture a live run from a broker (arrival = wall-clock receive time): real sensors, or
    ``yujing simulate`` at ×1."""
    from simulators.capture import record_mqtt as capture

    def ready() -> None:
        typer.echo(f"recording {prefix}/+/+/+ from {url} for {duration:g} s", err=True)

    try:
        count = capture(
            url, out, duration_s=duration, prefix=prefix, registry=registry, on_ready=ready
        )
    except ConfigError as exc:
        raise _fail(exc) from None
    typer.echo(f"wrote {count:,} messages to {out}")


@record_app.command("dataset")
def record_dataset(
    name: Annotated[str, typer.Argument(help="beijing-rain, guadalupe-flood or chilbolton-ch4")],
    out: Annotated[Path, typer.Option(help=".jsonl, .jsonl.gz or .parquet")],
    datasets: Annotated[Path, typer.Option(help="the shared datasets folder")] = (
        REPO.parent / "shared" / "datasets"
    ),
) -> None:
    """Convert a real dataset into a recording (+ its registry YAML next to it)."""
    from simulators.convert import CONVERTERS

    converter = CONVERTERS.get(name)
    if converter is None:
        raise _fail(ConfigError(f"unknown dataset {name!r}; known: {sorted(CONVERTERS)}"))
    try:
        count, registry_path = converter(datasets, out)
    except ConfigError as exc:
        raise _fail(exc) from None
    typer.echo(f"wrote {count:,} messages to {out} (registry {registry_path})")


def register(app: typer.Typer) -> None:
    app.command()(replay)
    app.command()(tune)
    app.add_typer(record_app, name="record")

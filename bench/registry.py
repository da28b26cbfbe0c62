"""Which benchmarks exist: the harness's own, plus optional modules found at run time.

A benchmark module in ``bench/`` defines ``NAME``, ``TITLE`` and ``run(options) -> Result``
(see :mod:`bench.harness`). Modules named ``replay_*.py``, ``faust_*.py`` and ``detectors_*.py``
belong to other areas (replay, the Faust runtime, detectors) and are discovered when present:

- with ``run(options)``: run like the harness's own;
- with only ``main()``: run as ``python -m bench.<module> [--quick]`` in a child process; its
  exit status and the tail of its output are recorded (its own figures stay its own);
- placeholders ``replay`` and ``faust`` report "not available", with the reason, while no module
  serves them.
"""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from bench.harness import REPO, Options, Result, Status

__all__ = ["OPTIONAL_PREFIXES", "Benchmark", "discover"]

OWN = ("throughput", "latency", "seismic", "memory")
OPTIONAL_PREFIXES = ("replay_", "faust_", "detectors_")
PLACEHOLDERS = {
    "replay": (
        "Replay speed of the 24 h city storm (readings/s)",
        "no bench/replay_*.py module yet (replay, issue 5)",
    ),
    "faust": (
        "Faust agents vs a raw loop over the same records (Faust test harness)",
        "no bench/faust_*.py module yet: the Faust runtime (issue 7) does not exist, so "
        "there are no agents to measure",
    ),
}
BENCH_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class Benchmark:
    name: str
    title: str
    run: Callable[[Options], Result]


def _from_module(module: ModuleType) -> Benchmark | None:
    run = getattr(module, "run", None)
    name = getattr(module, "NAME", module.__name__.rsplit(".", 1)[-1])
    title = getattr(module, "TITLE", (module.__doc__ or name).strip().split("\n")[0])
    if callable(run):
        return Benchmark(str(name), str(title), run)
    if callable(getattr(module, "main", None)):
        return Benchmark(str(name), str(title), _as_child(module.__name__, str(name), str(title)))
    return None


def _as_child(module: str, name: str, title: str) -> Callable[[Options], Result]:
    def run(options: Options) -> Result:
        command = [sys.executable, "-m", module] + (["--quick"] if options.quick else [])
        done = subprocess.run(
            command, cwd=REPO, capture_output=True, text=True, timeout=3600, check=False
        )
        tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
        status: Status = "ok" if done.returncode == 0 else "error"
        return Result(
            name,
            title,
            status=status,
            notes=[" ".join(command), *tail],
            reason="" if status == "ok" else f"exit {done.returncode}",
        )

    return run


def _not_available(name: str, title: str, reason: str) -> Benchmark:
    return Benchmark(
        name, title, lambda options: Result(name, title, "not available", reason=reason)
    )


def discover() -> dict[str, Benchmark]:
    """Every benchmark, the harness's own first, then the optional ones by file name."""
    found: dict[str, Benchmark] = {}
    for name in OWN:
        bench = _from_module(importlib.import_module(f"bench.{name}"))
        assert bench is not None, name
        found[bench.name] = bench
    optional = sorted(
        path.stem
        for path in BENCH_DIR.glob("*.py")
        if path.stem.startswith(OPTIONAL_PREFIXES) and path.stem not in OWN
    )
    for stem in optional:
        try:
            module = importlib.import_module(f"bench.{stem}")
        except Exception as exc:  # someone else's module: report it, run the rest
            reason = f"import failed: {type(exc).__name__}: {exc}"
            found[stem] = _not_available(stem, stem, reason)
            continue
        bench = _from_module(module)
        if bench is None:
            reason = "defines neither run(options) nor main()"
            found[stem] = _not_available(stem, stem, reason)
        elif bench.name not in found:
            found[bench.name] = bench
    for name, (title, reason) in PLACEHOLDERS.items():
        if not any(key.startswith(name) for key in found):
            found[name] = _not_available(name, title, reason)
    return found


def faust_available() -> bool:
    return importlib.util.find_spec("faust") is not None

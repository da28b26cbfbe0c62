"""``python -m bench [--quick] [--reps N] [BENCHMARK ...]``: run benchmarks, write results.

Without names every benchmark runs. Each writes ``bench/results/<name>.json`` (or ``--out``),
then ``SUMMARY.md`` is rebuilt from every result file there. ``python -m bench --list`` names
them, with the optional ones found (``bench/replay_*.py``, ``bench/faust_*.py``,
``bench/detectors_*.py``) and the placeholders reported "not available" when nothing serves
them. Exit status is 0 unless a benchmark raised (targets are reported, never enforced).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import traceback
from pathlib import Path

from bench.harness import RESULTS, Options, Result, write_result, write_summary
from bench.registry import Benchmark, discover


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="small sizes, 1 repetition (CI)")
    parser.add_argument("--reps", type=int, default=None, help="repetitions (default 3; quick 1)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument("--work", type=Path, default=Path("/tmp/yujing-bench"))
    parser.add_argument("--list", action="store_true", help="list benchmarks and exit")
    return parser.parse_args(argv)


def run_one(bench: Benchmark, options: Options) -> Result:
    started = time.time()
    print(f"bench: {bench.name} …", flush=True)
    try:
        result = bench.run(options)
    except Exception as exc:  # one broken benchmark must not hide the others
        traceback.print_exc()
        result = Result(
            bench.name, bench.title, status="error", reason=f"{type(exc).__name__}: {exc}"
        )
    path = write_result(result, options, started)
    took = time.time() - started
    print(f"bench: {bench.name}: {result.status} in {took:.1f} s → {path}", flush=True)
    for figure in result.figures:
        ratio = "" if figure.ratio is None else f" ratio {figure.ratio:.3g}"
        met = "" if figure.met is None else (" met" if figure.met else " NOT MET")
        base = "" if figure.baseline is None else f" vs {figure.baseline.median:.4g}"
        print(f"  {figure.metric}: {figure.value.median:.4g} {figure.unit}{base}{ratio}{met}")
    return result


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.ERROR)
    benches = discover()
    if args.list:
        for bench in benches.values():
            print(f"{bench.name:<24} {bench.title}")
        return 0
    unknown = [n for n in args.names if n not in benches]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(benches)}")
        return 2
    reps = args.reps if args.reps is not None else (1 if args.quick else 3)
    options = Options(quick=args.quick, reps=reps, seed=args.seed, out=args.out, work=args.work)
    failed = 0
    for name in args.names or list(benches):
        failed += run_one(benches[name], options).status == "error"
    summary = write_summary(options.out)
    print(f"bench: summary → {summary}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

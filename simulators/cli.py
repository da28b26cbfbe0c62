"""Regenerate the shipped demo files (kept out of ``simulators/__init__`` so ``-m`` runs cleanly)::

.venv/bin/python -m simulators.cli registry configs/demo/stations.yaml --seed 7
.venv/bin/python -m simulators.cli truth configs/scenarios/demo.truth.json
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from simulators.district import DEMO_REGISTRY, DEMO_SEED, write_registry
from simulators.generator import SensorSimulator
from simulators.scenario import DEMO_SCENARIO, load_scenario
from simulators.truth import write_ground_truth
from yujing.config.stations import load_registry


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    registry = commands.add_parser("registry", help="write the demo station registry YAML")
    registry.add_argument("path", type=Path)
    registry.add_argument("--seed", type=int, default=DEMO_SEED)
    truth = commands.add_parser("truth", help="write the demo scenario's ground truth JSON")
    truth.add_argument("path", type=Path)
    truth.add_argument("--registry", type=Path, default=DEMO_REGISTRY)
    truth.add_argument("--scenario", type=Path, default=DEMO_SCENARIO)
    truth.add_argument("--seed", type=int, default=DEMO_SEED)
    args = parser.parse_args(argv)
    if args.command == "registry":
        write_registry(args.path, args.seed)
    else:
        simulator = SensorSimulator(
            load_registry(args.registry), load_scenario(args.scenario), args.seed, 0.0
        )
        write_ground_truth(args.path, simulator, with_start=False)


if __name__ == "__main__":
    main()

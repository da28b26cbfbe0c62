"""simulators stage (DESIGN §2): a seeded demo network, hazard scenarios, the sensor simulator
that turns them into wire-format MQTT messages, a clock-paced live publisher and ground truth.

    registry = load_registry(DEMO_REGISTRY)
    scenario = demo_scenario()              # = load_scenario(DEMO_SCENARIO)
    simulator = SensorSimulator(registry, scenario, seed=7, start=clock.origin)
    Publisher("mqtt://127.0.0.1:1883", simulator, clock, client_id="sim").start()

Modules: ``district`` (network + registry YAML), ``scenario`` (scenario YAML), ``models``
(hazard physics), ``sources`` (per-station signals + noise), ``noise`` (counter-based random
numbers), ``generator`` (messages), ``publisher`` (MQTT), ``truth`` (ground truth), ``geo``.
"""

from simulators.district import (
    DEMO_REGISTRY,
    DEMO_SEED,
    build_network,
    demo_registry,
    write_registry,
)
from simulators.generator import SensorSimulator, SimMessage
from simulators.models import Earthquake, Keyframes, Profile, RainCell, RiverRise
from simulators.publisher import Publisher, PublisherStats
from simulators.scenario import DEMO_SCENARIO, Scenario, Storm, demo_scenario, load_scenario
from simulators.truth import ground_truth, write_ground_truth

__all__ = [
    "DEMO_REGISTRY",
    "DEMO_SCENARIO",
    "DEMO_SEED",
    "Earthquake",
    "Keyframes",
    "Profile",
    "Publisher",
    "PublisherStats",
    "RainCell",
    "RiverRise",
    "Scenario",
    "SensorSimulator",
    "SimMessage",
    "Storm",
    "build_network",
    "demo_registry",
    "demo_scenario",
    "ground_truth",
    "load_scenario",
    "write_ground_truth",
    "write_registry",
]

"""simulators stage (DESIGN §2): station networks, hazard scenarios and faults, the sensor
simulator that turns them into wire-format MQTT messages (or decoded readings), a clock-paced
live publisher, recordings and graded ground truth. See ``docs/simulators.md``.

    scenario = load_scenario(path)          # demo_scenario() = load_scenario(DEMO_SCENARIO)
    registry = scenario_registry(scenario)  # its network (the demo district by default)
    simulator = SensorSimulator(registry, scenario, seed=7, start=clock.origin)
    Publisher("mqtt://127.0.0.1:1883", simulator, clock, client_id="sim").start()

Modules: ``district``/``network`` (networks, registry YAML), ``scenario``/``scenario_schema``
(scenario YAML), ``models``/``rainfield``/``hydrology``/``dispersion``/``tank`` (hazard physics),
``sources`` (per-station signals + noise), ``faults``, ``noise`` (counter-based random numbers),
``generator`` (messages, readings), ``publisher`` (MQTT), ``episodes``/``truth`` (ground truth),
``recording``/``convert`` (recordings and converters), ``geo``.
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
from simulators.scenario import (
    DEMO_SCENARIO,
    Scenario,
    Storm,
    demo_scenario,
    load_scenario,
    scenario_registry,
)
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
    "scenario_registry",
    "write_ground_truth",
    "write_registry",
]

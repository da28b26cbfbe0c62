"""``yujing record mqtt`` against a real mosquitto.

A small gas-leak scenario (three detectors reporting every second, one duplicating its
messages) is published at ×1 by the live publisher, the speed a capture is made for (its
arrivals are the wall clock, like the sensors' event times). The command line recorder runs as
its own process, as a user runs it. What a user relies on:

- every message that was published is in the recording, byte for byte;
- ``yujing replay`` of the recording gives the notices of replaying the scenario itself
  (the same alert keys, versions, grades and reasons, blue to red), and the same rejections
  (the duplicates refused by ingest).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from simulators import Publisher, SensorSimulator, load_scenario
from simulators.recording import read_recording
from simulators.scenario import scenario_registry
from tests.unit.replay.helpers import replay_settings
from yujing.broker import Broker
from yujing.clock import ScaledClock
from yujing.replay.driver import ReplayOptions
from yujing.replay.session import ReplayResult, run_replay

DURATION_S = 16.0
SEED = 5
STATIONS = """\
stations:
  - {id: G1, kind: gas, district: chaoyang, lat: 39.9300, lon: 116.4700, interval_s: 1.0,
     area: p3, neighbours: [G2]}
  - {id: G2, kind: gas, district: chaoyang, lat: 39.9310, lon: 116.4770, interval_s: 1.0,
     area: p3, neighbours: [G1, G3]}
  - {id: G3, kind: gas, district: chaoyang, lat: 39.9320, lon: 116.4840, interval_s: 1.0,
     area: p3, neighbours: [G2]}
"""
SCENARIO = f"""\
name: record-mqtt
seed: {SEED}
duration_s: {DURATION_S}
network: {{registry: stations.yaml}}
profiles:
  - id: leak
    hazard: gas_leak
    quantity: ch4_pct_lel
    added: [[1, 0], [6, 30], [10, 62], [16, 62]]
    stations: [{{station: G2}}, {{station: G1, factor: 0.45, delay_s: 1}}]
faults:
  - {{type: duplicate, station: G3, from_s: 2, to_s: 9, value: 0.4}}
"""

Notice = tuple[str, int, str, str]


def yujing(*args: str) -> list[str]:
    """The ``yujing`` command installed next to this interpreter."""
    return [str(Path(sys.executable).with_name("yujing")), *args]


def notices(result: ReplayResult, horizon: float) -> list[Notice]:
    return sorted(
        (str(r.notice.key), r.notice.version, r.notice.grade.value, r.notice.reason.value)
        for r in result.records
        if r.notice.ts <= horizon
    )


def test_a_capture_replays_to_the_scenario_notices(tmp_path: Path, mosquitto: Broker) -> None:
    (tmp_path / "stations.yaml").write_text(STATIONS)
    scenario_path = tmp_path / "leak.yaml"
    scenario_path.write_text(SCENARIO)
    scenario = load_scenario(scenario_path)
    out = tmp_path / "live.jsonl"
    recorder = subprocess.Popen(  # noqa: S603
        yujing("record", "mqtt", "--url", mosquitto.url, "--out", str(out),
               "--duration", str(DURATION_S + 3), "--registry", str(tmp_path / "stations.yaml")),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert recorder.stderr is not None
        listening = recorder.stderr.readline()  # printed once the subscription is granted
        assert listening.startswith("recording yujing/v1/+/+/+"), listening
        clock = ScaledClock(origin=time.time(), speed=1.0)
        simulator = SensorSimulator(scenario_registry(scenario), scenario, SEED, clock.origin)
        publisher = Publisher(mosquitto.url, simulator, clock, client_id="record-mqtt-sim")
        stats = publisher.run_for(DURATION_S - (clock.now() - clock.origin))
        assert stats.dropped == 0 and stats.pending == 0
        stdout, stderr = recorder.communicate(timeout=30)
    finally:
        recorder.kill()
    assert recorder.returncode == 0, stderr
    assert f"wrote {stats.published:,} messages to {out}" in stdout

    recording = read_recording(out)
    sent = simulator.deliveries(simulator.first_arrival, clock.origin + DURATION_S)
    assert len(sent) == stats.published
    assert Counter(r.payload for r in recording.rows) == Counter(m.payload for m in sent)
    assert recording.header["clock"] == "wall"

    settings = replay_settings(tmp_path)
    options = ReplayOptions(tick_s=1.0)
    replayed = run_replay(out, settings, options)  # the header names the registry
    direct = run_replay(scenario_path, settings, options, seed=SEED, start=clock.origin)
    horizon = clock.origin + DURATION_S - 2.0  # before the silence that ends the recording
    assert notices(replayed, horizon) == notices(direct, horizon)
    assert {grade for _, _, grade, _ in notices(replayed, horizon)} >= {"blue", "orange", "red"}
    assert replayed.stats.rejected == direct.stats.rejected
    assert replayed.stats.rejected["duplicate"] == 7  # G3's copies, 2 s to 9 s

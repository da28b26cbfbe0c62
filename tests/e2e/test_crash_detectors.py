"""kill -9 between checkpoints: the detectors lose nothing the broker was told we had.

A gas level is confirmed by 2 of the last 3 readings (configs/ladders/gas.yaml). The first
reading at 60 %LEL is processed and acknowledged to the broker, then the runtime is killed before
any checkpoint (``recovery.checkpoint_s`` is an hour). The second reading, sent after the restart,
must page red at once: the half-made confirmation came back from the input log. The first
reading, redelivered by hand, is a duplicate: the decoder's memory came back too. The same with
checkpoints forked every 0.3 s, so the kill may land while a child writes one.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.support.runtime import ChildRuntime, Sender, write_settings
from tests.support.services import HttpReceiver, wait_for
from yujing.broker import Broker, free_port

STATION = {"id": "G1", "kind": "gas", "district": "d1", "lat": 40.0, "lon": 116.3}


def gas(sender: Sender, seq: int, pct: float, t0: float) -> None:
    body = {
        "station": "G1",
        "ts": int((t0 + seq) * 1000),
        "seq": seq,
        "values": {"ch4_pct_lel": pct},
    }
    sender.reading("d1", "gas", "G1", body)


@pytest.mark.parametrize(
    "checkpoint_s",
    [3600.0, 0.3],
    ids=["from-the-input-log", "with-forked-checkpoints-every-0.3s"],
)
def test_a_half_confirmed_level_survives_kill_9(
    tmp_path: Path, mosquitto: Broker, checkpoint_s: float
) -> None:
    hook = HttpReceiver().start()
    settings = write_settings(
        tmp_path,
        broker_url=mosquitto.url,
        stations=[{**STATION, "interval_s": 3600}],
        webhook_urls=[hook.url],
        extra={"recovery": {"checkpoint_s": checkpoint_s}, "api": {"port": free_port()}},
    )
    log = tmp_path / "runtime.log"
    sender = Sender(mosquitto.host, mosquitto.port)
    t0 = time.time() - 60
    runtime = ChildRuntime(settings, log).start()
    try:
        gas(sender, 0, 0.0, t0)  # the first grade (none) is published: a finding
        wait_for(lambda: runtime.ingested("gas") >= 1, 20)
        gas(sender, 1, 60.0, t0)  # 1 of the last 2 at red: not confirmed, no finding
        wait_for(lambda: runtime.ingested("gas") >= 2, 20)
        time.sleep(0.5)  # logged and acknowledged right after processing
        runtime.kill()
        assert hook.requests == []  # nothing paged yet
        restarted = ChildRuntime(settings, log).start()
        try:
            gas(sender, 2, 60.0, t0)  # 2 of 3: red
            wait_for(lambda: hook.bodies(), 15)
            body = hook.bodies()[0]
            assert (body["key"], body["grade"], body["reason"]) == (
                "G1/gas_leak/ch4",
                "red",
                "fired",
            )
            gas(sender, 1, 60.0, t0)  # the broker's redelivery of an acknowledged reading
            letters = tmp_path / "state" / "dead-letters.jsonl"
            wait_for(lambda: letters.exists() and letters.read_text().strip(), 15)
            reasons = [json.loads(line)["reason"] for line in letters.read_text().splitlines()]
            assert reasons == ["duplicate"]
        finally:
            restarted.stop()
    finally:
        runtime.stop()
        sender.close()
        hook.stop()
    assert len(hook.bodies()) == 1  # the red, once

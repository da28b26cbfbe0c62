"""The collector settings of a run are the process's only while a run lasts: an application
embedding yujing (or a test process with several runtimes) gets its own back."""

from __future__ import annotations

import gc

from yujing.heap import rare_collections


def test_runs_set_the_collector_and_the_last_one_out_puts_it_back() -> None:
    before = gc.get_threshold()
    with rare_collections(10_000):
        assert gc.get_threshold()[0] == 10_000
        assert gc.get_freeze_count() > 0  # the state built before the run is not walked again
        with rare_collections(100_000):  # a second run in the same process
            assert gc.get_threshold()[0] == 100_000
        assert gc.get_freeze_count() > 0  # still inside the first run
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0

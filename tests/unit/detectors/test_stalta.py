"""STA/LTA kernels: the fast path pinned to the slow reference and to ObsPy; state carried across
blocks; warm-up unknown; a bank of channels equals each channel alone."""

from __future__ import annotations

import random

import numpy as np
import pytest
from obspy.signal.filter import bandpass
from obspy.signal.trigger import recursive_sta_lta

from detectors.stalta import (
    CausalBandpass,
    RecursiveStaLta,
    recursive_sta_lta_reference,
    window_samples,
)
from yujing.contracts import ConfigError


def noise(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    x[n // 2 : n // 2 + 300] *= 12.0  # an onset
    return x


def chunks(n: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    cuts, total = [], 0
    while total < n:
        size = rng.choice([1, 2, 3, rng.randint(1, 50), rng.randint(50, 900)])
        cuts.append(size)
        total += size
    return cuts


def feed(bank: RecursiveStaLta, x: np.ndarray, sizes: list[int]) -> np.ndarray:
    out, start = [], 0
    for size in sizes:
        out.append(bank.process(x[None, start : start + size])[0])
        start += size
    return np.concatenate(out)


def test_fast_path_equals_the_slow_reference_whole_and_chunked() -> None:
    x = noise(6000)
    slow, _ = recursive_sta_lta_reference(x.tolist(), 50, 500)
    for seed in (1, 2, 3):
        fast = feed(RecursiveStaLta(50, 500), x, chunks(x.size, seed))
        np.testing.assert_array_equal(np.isnan(fast), np.isnan(slow))
        np.testing.assert_allclose(fast[500:], np.array(slow)[500:], rtol=1e-12)


def test_the_reference_continues_from_its_own_state() -> None:
    x = noise(3000).tolist()
    whole, _ = recursive_sta_lta_reference(x, 30, 300)
    first, state = recursive_sta_lta_reference(x[:1234], 30, 300)
    rest, _ = recursive_sta_lta_reference(x[1234:], 30, 300, state)
    np.testing.assert_array_equal(np.array(first + rest), np.array(whole))


def test_after_warm_up_it_is_obspys_recursive_sta_lta_bit_for_bit() -> None:
    x = noise(20000, seed=4)
    reference = recursive_sta_lta(x, 100, 1000)
    ours = feed(RecursiveStaLta(100, 1000), x, chunks(x.size, 9))
    assert np.isnan(ours[:1000]).all()  # ObsPy writes 0 there ("quiet"); we say unknown
    np.testing.assert_array_equal(ours[1000:], reference[1000:])


@pytest.mark.parametrize(("sr_hz", "fast"), [(50.0, True), (100.0, True), (200.0, True),
                                             (500.0, False)])  # fmt: skip
def test_the_band_pass_is_obspys_causal_bandpass_carried_across_blocks(
    sr_hz: float, fast: bool
) -> None:
    x = noise(8000, seed=5)
    reference = bandpass(x, 1.0, 20.0, sr_hz, corners=4, zerophase=False)
    band = CausalBandpass(1.0, 20.0, sr_hz, 4)
    assert band.uses_tf is fast  # one transfer function where as exact, else the sections
    out, start = [], 0
    for size in chunks(x.size, 11):
        out.append(band.process(x[None, start : start + size])[0])
        start += size
    ours = np.concatenate(out)
    if fast:
        assert np.max(np.abs(ours - reference)) <= 1e-8 * np.max(np.abs(reference))
    else:
        np.testing.assert_array_equal(ours, reference)  # sosfilt itself: bit for bit


def test_a_bank_of_channels_equals_each_channel_alone() -> None:
    block = np.stack([noise(4000, seed=s) for s in range(5)])
    bank = RecursiveStaLta(40, 400, channels=5)
    together = np.concatenate([bank.process(block[:, i : i + 250]) for i in range(0, 4000, 250)],
                              axis=1)  # fmt: skip
    for c in range(5):
        alone = feed(RecursiveStaLta(40, 400), block[c], [250] * 16)
        np.testing.assert_array_equal(together[c], alone)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_channel_equals_its_row_of_a_bank_through_warm_up_and_resets(seed: int) -> None:
    """A bank of one channel runs 1-D (warming up and warm); a bigger bank runs the masks. The
    same bits, from the first sample (which only starts the recursion) on, in packets of any
    size, across the warm-up's end and after a reset."""
    x = noise(6000, seed=seed)
    bank = RecursiveStaLta(20, 200, channels=2)
    alone, one = RecursiveStaLta(20, 200), RecursiveStaLta(20, 200)
    sizes = chunks(x.size, seed)
    start = 0
    for i, size in enumerate(sizes):
        block = x[start : start + size]
        start += size
        if i == len(sizes) // 2:
            for each in (bank, alone, one):
                each.reset(0)
        want = bank.process(np.stack([block, block]))[0]
        np.testing.assert_array_equal(alone.process(block[None, :])[0], want)
        np.testing.assert_array_equal(one.process_one(block), want)
    for each in (alone, one):
        for name in ("sta", "lta", "taken", "started"):
            assert np.array_equal(getattr(each.state, name), getattr(bank.state, name)[:1])


def test_reset_starts_one_channel_afresh() -> None:
    bank = RecursiveStaLta(10, 100, channels=2)
    bank.process(np.ones((2, 500)))
    bank.reset(1)
    out = bank.process(np.ones((2, 50)))
    assert not np.isnan(out[0]).any() and np.isnan(out[1]).all()


@pytest.mark.parametrize(
    ("sta", "lta"), [(0, 100), (100, 100), (200, 100)], ids=["zero", "equal", "longer"]
)
def test_bad_windows_are_named(sta: int, lta: int) -> None:
    with pytest.raises(ConfigError, match="sta_samples"):
        RecursiveStaLta(sta, lta)


def test_windows_in_seconds_become_samples_and_too_short_is_refused() -> None:
    assert window_samples(1.0, 100.0, "sta_s") == 100
    with pytest.raises(ConfigError, match="lta_s: 0.001 s at 100.0 Hz"):
        window_samples(0.001, 100.0, "lta_s")
    with pytest.raises(ConfigError, match="Nyquist"):
        CausalBandpass(1.0, 60.0, 100.0)


def test_lfilter_1d_gives_scipys_lfilter_bits() -> None:
    from scipy.signal import lfilter

    from detectors.stalta import lfilter_1d

    x = noise(700)
    band = CausalBandpass(1.0, 20.0, 100.0, 4)
    for b, a in ((band.b, band.a), (np.array([0.01]), np.array([1.0, -0.99]))):
        zi = np.random.default_rng(2).normal(size=a.size - 1)
        want, want_zf = lfilter(b, a, x, zi=zi)
        got, got_zf = lfilter_1d(b, a, x, zi.copy())
        assert np.array_equal(got, want) and np.array_equal(got_zf, want_zf)


@pytest.mark.parametrize("sr_hz", [100.0, 500.0])  # transfer function, then sections
def test_one_channel_entry_points_equal_the_bank_calls(sr_hz: float) -> None:
    x = noise(5000)
    bank_band, one_band = CausalBandpass(1.0, 20.0, sr_hz), CausalBandpass(1.0, 20.0, sr_hz)
    bank_sl, one_sl = RecursiveStaLta(100, 1000), RecursiveStaLta(100, 1000)
    start = 0
    for size in chunks(x.size, 4):
        block = x[start : start + size]
        start += size
        want = bank_sl.process(bank_band.process(block[None, :]))[0]
        got = one_sl.process_one(one_band.process_one(block))
        np.testing.assert_array_equal(got, want)


def test_band_pass_designs_are_shared_but_banks_are_independent() -> None:
    first, second = CausalBandpass(1.0, 20.0, 100.0), CausalBandpass(1.0, 20.0, 100.0)
    assert np.array_equal(first.b, second.b) and first.b is not second.b
    first.process_one(noise(300))
    assert not second.zi.any()  # filter memory is per bank

"""Every example in the detectors' docstrings holds, whether the detectors run compiled or not
(see :mod:`tests.unit.detectors.docs`)."""

from __future__ import annotations

import doctest

import pytest

from tests.unit.detectors.docs import FLAGS, doctests, module_names


@pytest.mark.parametrize("name", module_names())
def test_docstring_examples_hold(name: str) -> None:
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in doctests(name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_the_package_is_documented_by_examples() -> None:
    counts = {name: sum(len(t.examples) for t in doctests(name)) for name in module_names()}
    assert sum(counts.values()) >= 100, counts
    assert counts["detectors.ladder"] > 0 and counts["detectors.rain"] > 0

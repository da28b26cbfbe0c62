"""Run the examples in the simulators' docstrings (``simulators/`` is not in pytest's testpaths,
so ``--doctest-modules`` does not reach it on its own)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import simulators

MODULES = sorted(m.name for m in pkgutil.iter_modules(simulators.__path__, "simulators."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"

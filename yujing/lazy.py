"""Package namespaces that import a submodule when one of its names is first used.

Why: a process that needs one light piece, such as the MQTT receiver child
(:mod:`ingest.mqtt_process`), should not pay through a package's ``__init__`` for importing the
detectors, numpy and scipy (0.9 s here) that it never calls.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(namespace: dict[str, Any], exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` (PEP 562) resolving each name of ``exports`` (name → module)
    on first use and keeping it in ``namespace``."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__

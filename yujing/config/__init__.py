"""The one loader of ``configs/``: YAML in, frozen objects out, errors that name file, line,
key path, problem and value. Nothing else in yujing reads YAML or the environment."""

from yujing.config.ladders import LadderBook, load_ladders
from yujing.config.quantities import QuantityLimits, load_quantities
from yujing.config.settings import Settings, load_settings
from yujing.config.stations import Registry, StationSpec, load_registry

__all__ = [
    "LadderBook",
    "QuantityLimits",
    "Registry",
    "Settings",
    "StationSpec",
    "load_ladders",
    "load_quantities",
    "load_registry",
    "load_settings",
]

"""The one loader of ``configs/``: YAML in, frozen objects out, errors that name file, line,
key path, problem and value. Nothing else in yujing reads YAML or the environment."""

from typing import TYPE_CHECKING

from yujing.lazy import lazy_exports

if TYPE_CHECKING:
    from yujing.config.ladders import LadderBook, load_ladders
    from yujing.config.quantities import QuantityLimits, load_quantities
    from yujing.config.settings import Settings, load_settings
    from yujing.config.stations import Registry, StationSpec, load_registry

__getattr__ = lazy_exports(
    globals(),
    {
        "LadderBook": "yujing.config.ladders",
        "load_ladders": "yujing.config.ladders",
        "QuantityLimits": "yujing.config.quantities",
        "load_quantities": "yujing.config.quantities",
        "Settings": "yujing.config.settings",
        "load_settings": "yujing.config.settings",
        "Registry": "yujing.config.stations",
        "StationSpec": "yujing.config.stations",
        "load_registry": "yujing.config.stations",
    },
)

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

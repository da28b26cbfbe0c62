"""Docs stay true to the code: every settings key and every metric is documented."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from yujing.config.settings import Settings
from yujing.metrics import Metrics

DOCS = Path(__file__).resolve().parents[3] / "docs"


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys.extend(_keys(annotation, f"{prefix}{name}."))
        else:
            keys.append(f"{prefix}{name}")
    return keys


def test_every_setting_is_in_the_configuration_reference() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    missing = [k for k in _keys(Settings) if f"`{k}" not in text]
    assert not missing, f"undocumented settings: {missing}"


def test_every_metric_is_in_the_catalogue() -> None:
    text = (DOCS / "metrics.md").read_text(encoding="utf-8")
    names = {m.name for m in Metrics().registry.collect()}
    missing = sorted(n for n in names if f"`{n}" not in text)
    assert not missing, f"metrics missing from docs/metrics.md: {missing}"

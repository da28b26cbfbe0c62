"""The Prometheus side of deploy/: the rules file and the scrape configuration are valid for
promtool, and the pipeline alert rules behave as their unit tests say (promtool test rules)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.tsdb import binary

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"


def promtool(*args: str) -> str:
    done = subprocess.run(  # noqa: S603 - fixed binary, our own files
        [binary("promtool"), *args], cwd=DEPLOY, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_rules_file_is_valid() -> None:
    assert "SUCCESS: 10 rules found" in promtool("check", "rules", "rules.yml")


def test_scrape_configuration_is_valid() -> None:
    out = promtool("check", "config", "prometheus.yml")
    assert "is valid prometheus config file syntax" in out


def test_rule_unit_tests_pass() -> None:
    assert "SUCCESS" in promtool("test", "rules", "rules.test.yml")


def test_a_broken_expectation_fails(tmp_path: Path) -> None:
    """The unit tests can fail: flip one expected alert and promtool must say so."""
    text = (DEPLOY / "rules.test.yml").read_text()
    broken = text.replace(
        "eval_time: 3m\n        alertname: YujingDown\n        exp_alerts: []",
        "eval_time: 3m\n        alertname: YujingDown\n        exp_alerts:\n"
        "          - exp_labels: {severity: critical}",
    )
    assert broken != text
    (tmp_path / "rules.yml").write_text((DEPLOY / "rules.yml").read_text())
    (tmp_path / "broken.test.yml").write_text(broken)
    with pytest.raises(AssertionError, match="FAILED"):
        promtool("test", "rules", str(tmp_path / "broken.test.yml"))

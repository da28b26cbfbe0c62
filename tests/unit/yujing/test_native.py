"""The compiled detectors (yujing.native): in use after setup, the same findings and notices as
the interpreted source, and never used once the source changed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from yujing import native
from yujing.metrics import Metrics

REPO = Path(__file__).resolve().parents[3]


def test_the_detectors_run_compiled_unless_told_not_to() -> None:
    """What runs, as the status command and the metric say it."""
    compiled = os.environ.get(native.ENV) != "0"  # else scripts/setup compiled them
    assert native.running_native() is compiled, native.status()
    assert native.status().startswith("detectors: compiled" if compiled else "detectors: interp")
    gauge = Metrics().registry.get_sample_value("yujing_detectors_compiled")
    assert gauge == (1.0 if compiled else 0.0)


def test_compiled_and_interpreted_detectors_find_and_notify_the_same(tmp_path: Path) -> None:
    """The demo city and the quake network replayed both ways: every finding (evidence
    included) and every notice identical, line for line."""
    recorded = tmp_path / "interpreted.jsonl"
    cases = ["demo", "quake-network"]
    env = {**os.environ, native.ENV: "0"}
    command = [sys.executable, "-m", "bench.outputs"]
    subprocess.run([*command, "write", str(recorded), "--only", *cases], cwd=REPO, env=env,
                   check=True, capture_output=True)  # fmt: skip
    assert recorded.read_text().count("\n") > 1000
    env[native.ENV] = "1"
    checked = subprocess.run([*command, "check", str(recorded), "--only", *cases], cwd=REPO,
                             env=env, capture_output=True, text=True)  # fmt: skip
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.startswith("identical")


def test_a_build_is_of_one_source_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A copy of the source finds the build; edit one file and the build is not used (with a
    warning saying how to rebuild), so a stale build never runs."""
    monkeypatch.setenv(native.ENV, "1")  # whatever this test run chose
    if native.built() is None:
        pytest.fail(native.status())
    copy = tmp_path / native.PACKAGE
    shutil.copytree(native.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert native.built(copy) == native.built()
    path: list[str] = [str(copy)]
    with pytest.warns(RuntimeWarning, match="no compiled build of this source"):
        ladder = copy / "ladder.py"
        ladder.write_text(ladder.read_text() + "\n# edited\n")
        assert native.use(path, copy) is None
    assert path == [str(copy)]
    assert native.built(copy) is None

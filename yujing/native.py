"""The detectors compiled to C by mypyc, used only when built from exactly the source on disk.

Why: the detectors are most of the loop's work per reading, and they are plain, strictly typed
Python, which mypyc compiles as it is; compiled, the offline pipeline costs about a third less
per message (docs/performance.md, docs/decisions/0003-compiled-detectors.md). The source stays
the one truth: the build is a cache of it, and the interpreted package is always there to fall
back on.

Where a build lives
    ``<sys.prefix>/yujing-native/<digest>/``: inside the virtualenv, since an extension module
    is for one interpreter. ``digest`` hashes every compiled module's source and the
    interpreter's extension suffix, so editing one file (or changing Python) means no build
    matches: the package runs interpreted, with a warning saying how to rebuild. A stale build
    is never loaded.

How it is used
    :mod:`detectors` calls :func:`use` before importing its submodules. :func:`use` loads the
    build's shared runtime library and puts the build's ``detectors`` folder first on the
    package's ``__path__``, so ``import detectors.rain`` finds the extension module; the modules
    left interpreted (:data:`INTERPRETED`) come from the source folder next on the path.
    ``YUJING_NATIVE=0`` runs interpreted on purpose (a debugger, coverage, a comparison).

Building
    ``python -m yujing.native build`` (``scripts/setup`` runs it): about a minute on two cores,
    once per source change; needs ``mypy`` (the ``dev`` extra) and a C compiler. ``python -m
    yujing.native status`` says what runs.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import warnings
from pathlib import Path

PACKAGE = "detectors"
PACKAGE_DIR = Path(__file__).resolve().parent.parent / PACKAGE
INTERPRETED = frozenset({"__init__.py", "base.py"})
"""Left to the interpreter: ``__init__`` puts the build on the path; ``base`` holds the
runtime-checkable protocols, which mypyc does not compile."""
GROUP = "yujing_detectors"  # the shared runtime library: yujing_detectors__mypyc<suffix>
ENV = "YUJING_NATIVE"
STAMP = "BUILT"


def home() -> Path:
    """Where builds live: one folder per digest, in the running interpreter's prefix."""
    return Path(sys.prefix) / "yujing-native"


def sources(package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """The modules that are compiled, in a stable order."""
    return sorted(p for p in package_dir.glob("*.py") if p.name not in INTERPRETED)


def digest(package_dir: Path = PACKAGE_DIR) -> str:
    """What a build is of: the compiled sources, byte for byte, and the interpreter's ABI."""
    h = hashlib.sha256(str(sysconfig.get_config_var("EXT_SUFFIX")).encode())
    for path in sources(package_dir):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:20]


def built(package_dir: Path = PACKAGE_DIR) -> Path | None:
    """The build of the source on disk, or None."""
    target = home() / digest(package_dir)
    return target if (target / STAMP).is_file() else None


def use(package_path: list[str], package_dir: Path = PACKAGE_DIR) -> Path | None:
    """Put the build of ``package_dir``'s source first on ``package_path`` (the package's
    ``__path__``); the build used, or None when the package runs interpreted."""
    if os.environ.get(ENV, "1") == "0":
        return None
    target = built(package_dir)
    if target is None:
        if home().is_dir() and any(home().iterdir()):
            warnings.warn(
                f"{PACKAGE} run interpreted: no compiled build of this source "
                "(scripts/setup, or python -m yujing.native build, makes one)",
                RuntimeWarning,
                stacklevel=2,
            )
        return None
    suffix = str(sysconfig.get_config_var("EXT_SUFFIX"))
    name = f"{GROUP}__mypyc"
    if name not in sys.modules:  # what every compiled module imports first
        loader = importlib.machinery.ExtensionFileLoader(name, str(target / f"{name}{suffix}"))
        spec = importlib.util.spec_from_loader(name, loader)
        assert spec is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        loader.exec_module(module)
    package_path.insert(0, str(target / PACKAGE))
    return target


def build(package_dir: Path = PACKAGE_DIR, jobs: int = 2) -> Path:
    """Compile the package's source (unless a build of it exists); removes older builds."""
    existing = built(package_dir)
    if existing is not None:
        return existing
    root = home()
    root.mkdir(parents=True, exist_ok=True)
    of = digest(package_dir)
    target = root / of
    with tempfile.TemporaryDirectory(dir=root, prefix="tmp-") as tmp:
        work = Path(tmp)
        files = [str(p.relative_to(package_dir.parent)) for p in sources(package_dir)]
        script = (
            "import sys\n"
            "from setuptools import setup\n"
            "from mypyc.build import mypycify\n"
            "work = sys.argv[1]\n"
            "setup(name='yujing-native', ext_modules=mypycify(sys.argv[4:], opt_level='3',"
            " group_name=sys.argv[3], target_dir=work + '/c'), script_args=['-q', 'build_ext',"
            " '--build-lib', work + '/lib', '--build-temp', work + '/obj', '-j', sys.argv[2]])\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", script, str(work), str(jobs), GROUP, *files],
            cwd=package_dir.parent,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:  # the compiler's own words, without the pages before them
            said = (done.stdout + done.stderr).strip().splitlines()
            raise RuntimeError("mypyc build failed:\n" + "\n".join(said[-30:]))
        if digest(package_dir) != of:
            raise RuntimeError(f"{package_dir} changed while it was compiled; build again")
        (work / "lib" / STAMP).write_text(f"{PACKAGE} compiled by mypyc, source digest {of}\n")
        shutil.rmtree(target, ignore_errors=True)
        (work / "lib").rename(target)
    for old in root.iterdir():
        if old != target and not old.name.startswith("tmp-"):
            shutil.rmtree(old, ignore_errors=True)
    return target


def status() -> str:
    """One line: what runs, and why."""
    if os.environ.get(ENV, "1") == "0":
        return f"{PACKAGE}: interpreted ({ENV}=0)"
    target = built()
    if target is None:
        return f"{PACKAGE}: interpreted (no build of this source; python -m yujing.native build)"
    return f"{PACKAGE}: compiled, {target}"


def running_native() -> bool:
    """Are the detectors imported in this process compiled?"""
    import detectors.station

    return not str(detectors.station.__file__).endswith(".py")


def main() -> None:
    """``python -m yujing.native build|status``."""
    import typer

    cli = typer.Typer(help="The compiled detectors (mypyc): build them, or say what runs.")

    @cli.command("build")
    def _build(jobs: int = typer.Option(2, help="C compilers run at once")) -> None:
        """Compile the detectors for this interpreter (nothing to do when built already)."""
        print(f"{PACKAGE}: compiled, {build(jobs=jobs)}")

    @cli.command("status")
    def _status() -> None:
        """Say whether the detectors run compiled or interpreted."""
        print(status())

    cli()


if __name__ == "__main__":
    main()

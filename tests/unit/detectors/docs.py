"""The detectors' docstrings read from their source, and their examples run as doctests.

A compiled module (:mod:`yujing.native`) keeps no module docstring, and pytest's doctest
collector finds no examples in it; so the examples are parsed from the ``.py`` source and run
in the namespace of the module as imported, compiled or not: they document the code that runs.
"""

from __future__ import annotations

import ast
import doctest
import importlib
from pathlib import Path

from yujing.native import PACKAGE, PACKAGE_DIR

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def module_names() -> list[str]:
    """Every module of the package, the package itself first."""
    return (
        [PACKAGE]
        + [f"{PACKAGE}.{p.stem}" for p in sorted(PACKAGE_DIR.glob("[!_]*.py"))]
        + [f"{PACKAGE}.{p.stem}" for p in sorted(PACKAGE_DIR.glob("_*.py")) if p.stem != "__init__"]
    )


def source_of(name: str) -> Path:
    if name == PACKAGE:
        return PACKAGE_DIR / "__init__.py"
    return PACKAGE_DIR / f"{name.rsplit('.', 1)[1]}.py"


def module_doc(name: str) -> str | None:
    """The module's docstring, from its source."""
    return ast.get_docstring(ast.parse(source_of(name).read_text()), clean=False)


def class_doc(cls: type) -> str | None:
    """A class's docstring, from its module's source (compiled classes keep none)."""
    for node in ast.walk(ast.parse(source_of(cls.__module__).read_text())):
        if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
            return ast.get_docstring(node)
    return None


def doctests(name: str) -> list[doctest.DocTest]:
    """The examples in every docstring of the module's source (module, classes, functions,
    methods), each bound to the imported module's namespace."""
    path = source_of(name)
    tree = ast.parse(path.read_text())
    module = importlib.import_module(name)
    parser = doctest.DocTestParser()
    namespace = {**vars(module), "__file__": str(path)}  # examples find configs from the source
    found = []
    nodes: list[tuple[str, ast.AST]] = [(name, tree)]
    while nodes:
        qualified, node = nodes.pop(0)
        body = getattr(node, "body", [])
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(node, clean=True)
            if doc and ">>>" in doc:
                line = body[0].lineno - 1 if body else 0
                found.append(parser.get_doctest(doc, dict(namespace), qualified, str(path), line))
        for child in body:
            if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                nodes.append((f"{qualified}.{child.name}", child))
    return found

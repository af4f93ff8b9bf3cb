"""The package's shape: no import circles, and data flows one way through the modules.

Every import counts, also those inside functions: an import hidden in a function is still a dependency, and
hiding one to break a circle is exactly what these tests are here to stop.
"""
from __future__ import annotations

import ast

import pytest

from numvision_lib.paths import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "numvision_lib"
# Each chain is a direction of flow: a module may use those before it, never those after it.
FLOWS = (
    ("data", "model", "training", "evaluation"),
    ("data", "preprocess", "predict", "drawing"),
    # The drawing pad's light path: the answer, then the LiteRT predictor, before the Keras one.
    ("data", "preprocess", "prediction", "litert", "predict"),
    ("data", "preprocess", "predict", "drawing", "explain_view"),
    ("data", "model", "explain", "explain_view"),
    ("model", "training", "attacks"),
    ("paths", "model_card", "training"),
    ("history", "callbacks", "training"),
    ("handwriting", "class_collection", "class_report", "fine_tuning"),
    ("class_collection", "class_panel"),
)
# Exceptions that Python's own protocols require, such as a module's __getattr__ raising AttributeError, or an
# argparse `type=` function reporting a malformed value (argparse turns it into a usage error naming the option).
PROTOCOL_ERRORS = {"AttributeError", "ArgumentTypeError"}
# ... and those a library's protocol requires, where: Keras' BackupAndRestore falls back on its earlier state on an
# OSError (`callbacks.RunBackup`, which turns what is left into a DataError).
LIBRARY_PROTOCOL_ERRORS = {"callbacks.py": {"OSError"}}


def imported_modules(source: str) -> set[str]:
    """The numvision_lib modules that a module's source imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:  # from .model import x
                found.add(node.module.split(".")[0])
            elif node.level == 1:  # from . import plots
                found.update(alias.name for alias in node.names)
            elif node.module and node.module.startswith("numvision_lib."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[1] for alias in node.names if alias.name.startswith("numvision_lib."))
    return found


def import_graph() -> dict[str, set[str]]:
    modules = {path.stem: path for path in PACKAGE.glob("*.py")}
    return {name: imported_modules(path.read_text(encoding="utf-8")) & set(modules) - {name}
            for name, path in modules.items()}


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as [a, b, ..., a], or None."""
    finished, path = set(), []

    def visit(module: str) -> list[str] | None:
        if module in path:
            return path[path.index(module):] + [module]
        if module in finished:
            return None
        path.append(module)
        for imported in sorted(graph[module]):
            circle = visit(imported)
            if circle:
                return circle
        path.pop()
        finished.add(module)
        return None

    for module in sorted(graph):
        circle = visit(module)
        if circle:
            return circle
    return None


def test_the_import_walker_sees_every_kind_of_import():
    source = ("from .model import a\nfrom . import plots\nimport numvision_lib.data\n"
              "def f():\n    from .training import train\n    from numvision_lib.predict import Predictor\n")
    assert imported_modules(source) == {"model", "plots", "data", "training", "predict"}


def test_the_circle_finder_finds_a_circle():
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": set()}) is None


def test_no_import_circles():
    assert find_circle(import_graph()) is None


@pytest.mark.parametrize("flow", FLOWS, ids=" -> ".join)
def test_no_module_imports_one_further_down_its_flow(flow):
    graph = import_graph()
    against_the_flow = [(module, later) for position, module in enumerate(flow)
                        for later in flow[position + 1:] if later in graph[module]]
    assert not against_the_flow, f"imports against the flow {' -> '.join(flow)}: {against_the_flow}"


def test_every_deliberate_error_is_defined_in_errors():
    """Library code raises NumVisionError subclasses only, and defines no exception class outside errors.py."""
    from numvision_lib import errors

    ours = {name for name in dir(errors) if isinstance(getattr(errors, name), type)}
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and path.stem != "errors":
                bases = {getattr(base, "id", getattr(base, "attr", "")) for base in node.bases}
                assert not bases & (ours | {"Exception", "ValueError"}), f"{path.name}: exception {node.name}"
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                raised = getattr(node.exc.func, "id", getattr(node.exc.func, "attr", ""))
                allowed = ours | PROTOCOL_ERRORS | LIBRARY_PROTOCOL_ERRORS.get(path.name, set())
                assert raised in allowed, f"{path.name}:{node.lineno} raises {raised}, not a NumVisionError"


def test_every_name_the_package_exports_resolves():
    """`from numvision_lib import *` and each lazily exported name reach the object of that name."""
    import numvision_lib

    for name in numvision_lib.__all__:
        assert getattr(numvision_lib, name).__name__ == name

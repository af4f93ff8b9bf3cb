"""The project's scripts (tools/, benchmarks/) loaded as modules, so that tests can call their functions."""
from __future__ import annotations

import contextlib
import importlib.util
import io
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def load_script(relative_path: str):
    """The script at `relative_path` (from the project's root, e.g. "tools/run_notebooks.py"), imported fresh."""
    path = PROJECT_ROOT / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(relative_path: str, *arguments) -> str:
    """What the script prints when run with `arguments`: its `main` called in this process, as its command line
    calls it. A new process would first spend seconds loading TensorFlow and MNIST, which the test process has
    already loaded; a script that stops with an error raises SystemExit with its message, which fails the test."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = load_script(relative_path).main([str(argument) for argument in arguments])
    assert not status, f"{relative_path} ended with status {status}"
    return printed.getvalue()

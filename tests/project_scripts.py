"""The project's scripts (tools/, benchmarks/) loaded as modules, so that tests can call their functions."""
from __future__ import annotations

import importlib.util
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def load_script(relative_path: str):
    """The script at `relative_path` (from the project's root, e.g. "tools/run_notebooks.py"), imported fresh."""
    path = PROJECT_ROOT / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

"""Settings for the whole test run (tests/ and the notebooks under nbval), made before anything imports
numvision_lib, whose folders are read from the environment when it is imported.

Everything a test or a notebook writes by default goes to scratch folders that are removed when the run ends:
notebook 03 saves what it trains in my_models/ and notebook 09 opens the class collection, and running the tests
must never replace a model a student trained or add to a class's drawings.
"""
import atexit
import os
import shutil
import tempfile

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Whatever the environment says: a teacher's shell may point NUMVISION_CLASS_DIR at the class's real folder.
for variable, prefix in (("NUMVISION_MY_MODELS_DIR", "numvision-my-models-"),
                         ("NUMVISION_CLASS_DIR", "numvision-class-")):
    os.environ[variable] = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, os.environ[variable], ignore_errors=True)

# The files that run for minutes, longest first. `make test` hands whole files to its workers in collection order
# (pytest-xdist's --dist loadfile --no-loadscope-reorder), so these start at once and the many short files fill in
# at the end, and the workers finish together instead of one waiting while the other runs a long file alone.
LONG_RUNNING_FILES = (
    "tests/test_shipped_models.py",
    "tests/test_browser_drawing.py",
    "tests/test_training.py",
    "tests/test_not_a_digit.py",
    "notebooks/08_fooling_the_network.ipynb",
    "tests/test_training_benchmarks.py",
    "tests/test_cli.py",
    "tests/test_drawing_benchmarks.py",
    "tests/test_litert.py",
)


def pytest_collection_modifyitems(config, items):
    # A renamed file would otherwise silently lose its early start, and the run its balance.
    missing = [path for path in LONG_RUNNING_FILES if not (config.rootpath / path).is_file()]
    if missing:
        raise pytest.UsageError(f"conftest.py's LONG_RUNNING_FILES names files that do not exist: {', '.join(missing)}")
    rank = {path: index for index, path in enumerate(LONG_RUNNING_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))

"""Shared fixtures. MNIST comes from $NUMVISION_DATA_DIR when set (CI), otherwise through Keras' download."""
from __future__ import annotations

import re

import pytest

from numvision_lib.model_card import reference_model_path


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives JupyterLab, Notebook 7 or Voilà in a real headless Chromium")


@pytest.fixture(scope="session")
def mnist():
    from numvision_lib.data import load_mnist

    return load_mnist()


@pytest.fixture(scope="session")
def shipped_model_path():
    assert reference_model_path().is_file(), f"{reference_model_path()} is not in the repository"
    return reference_model_path()


@pytest.fixture(scope="session")
def predictor(shipped_model_path):
    """The reference model's predictor, loaded once: tests read with it, and one that patches it does so with
    monkeypatch, which puts it back."""
    from numvision_lib.predict import Predictor

    return Predictor.load(shipped_model_path)


@pytest.fixture
def earlier_run(tmp_path):
    """`leave(stem, protected)`: the model, card and history an earlier run left in tmp_path as `stem`, the file
    `protected` of them made read-only. Returns the message of a run that refuses to replace it, and a check that all
    three are still as they were."""
    def leave(stem: str, protected: str):
        names = [f"{stem}.history.csv", f"{stem}.json", f"{stem}.keras"]
        for name in names:
            (tmp_path / name).write_text(f"the earlier run's {name}")
        (tmp_path / protected).chmod(0o444)
        refusal = (rf"{re.escape(protected)} is read-only, so it was not replaced: nothing has been changed. Make it "
                   r"writable \(chmod u\+w\), or choose another file.$")

        def unchanged() -> bool:
            return sorted(path.read_text() for path in tmp_path.iterdir()) == [f"the earlier run's {name}"
                                                                               for name in names]
        return refusal, unchanged
    return leave

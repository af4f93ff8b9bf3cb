"""Shared fixtures. MNIST comes from $NUMVISION_DATA_DIR when set (CI), otherwise through Keras' download."""
from __future__ import annotations

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

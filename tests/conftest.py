"""Shared fixtures. MNIST comes from $NUMVISION_DATA_DIR when set (CI), otherwise through Keras' download."""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402

from numvision_lib.paths import MODELS_DIR  # noqa: E402

SHIPPED_REFERENCE_MODEL = MODELS_DIR / "numvision_cnn.keras"


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives JupyterLab in a real headless Chromium")


@pytest.fixture(scope="session")
def mnist():
    from numvision_lib.data import load_mnist

    return load_mnist()


@pytest.fixture(scope="session")
def shipped_model_path():
    assert SHIPPED_REFERENCE_MODEL.is_file(), f"{SHIPPED_REFERENCE_MODEL} is not in the repository"
    return SHIPPED_REFERENCE_MODEL

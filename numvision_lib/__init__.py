"""NumVision: handwritten-digit recognition for the classroom.

Everything heavy is imported lazily, so `import numvision_lib` and the data loader stay fast; TensorFlow
is loaded (quietly) by `numvision_lib._tensorflow` the first time a module needs it.
"""
from .errors import (ConfigError, DataError, ImageError, MissingTestData, ModelFileError, ModelStructureError,
                     NumVisionError)

__version__ = "0.1.0"

_LAZY_EXPORTS = {
    "load_mnist": "data",
    "MnistData": "data",
    "build_numvision_cnn": "model",
    "build_model": "model",
    "load_model": "model",
    "configure_hardware": "hardware",
    "ModelCard": "model_card",
    "TrainConfig": "training",
    "TrainingRun": "training",
    "train": "training",
    "evaluate": "evaluation",
    "EvaluationReport": "evaluation",
    "Predictor": "predict",
    "Prediction": "prediction",
}

__all__ = sorted([*_LAZY_EXPORTS, "NumVisionError", "DataError", "ModelFileError", "ImageError", "ConfigError",
                  "MissingTestData", "ModelStructureError"])


def __getattr__(name: str):
    if name in _LAZY_EXPORTS:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'numvision_lib' has no attribute {name!r}")

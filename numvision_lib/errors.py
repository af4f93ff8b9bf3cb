"""The library's exceptions: one base class so a notebook can catch every NumVision problem at once.

Every error the library raises on purpose is defined here and derives from `NumVisionError`.
"""


class NumVisionError(Exception):
    """Base class of every error this library raises on purpose.

    Its message already says what is wrong and what to do, so in a notebook IPython shows just that
    line instead of a long traceback through library code that would bury it.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


class DataError(NumVisionError):
    """A data set file is missing, truncated, corrupt or inconsistent, or a data folder cannot be written."""


class MissingTestData(DataError):
    """MNIST is needed from here on and cannot be found (raised by `data.load_test_data`)."""


class ModelFileError(NumVisionError):
    """A model file or model card is missing, unreadable or not a NumVision model."""


class ImageError(NumVisionError):
    """An image (file, drawing or array) cannot be turned into a digit for the model."""


class ModelStructureError(NumVisionError):
    """A model lacks a layer that an explanation or attack needs (a softmax output, a convolution with a picture)."""


class ConfigError(NumVisionError):
    """A setting is out of range, or a name (architecture, augmentation, variant...) is unknown."""

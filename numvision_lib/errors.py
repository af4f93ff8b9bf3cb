"""The library's exceptions: one base class so a notebook can catch every NumVision problem at once."""


class NumVisionError(Exception):
    """Base class of every error this library raises on purpose."""


class DataError(NumVisionError):
    """A data set file is missing, truncated, corrupt or inconsistent."""


class ModelFileError(NumVisionError):
    """A model file is missing, unreadable or not a NumVision model."""


class ImageError(NumVisionError):
    """An image (file, drawing or array) cannot be turned into a digit for the model."""


class ConfigError(NumVisionError):
    """A training or command-line setting is out of range."""

"""Import TensorFlow and Keras once, quietly: the only module that imports them.

TensorFlow's C++ start-up lines (oneDNN, CUDA, CPU-feature notices) are written straight to file
descriptors 1 and 2, past TF_CPP_MIN_LOG_LEVEL, and land in notebook outputs with timestamps, so
TensorFlow loads and looks for GPUs inside `quiet.quiet_output`.
"""
import os

from .quiet import quiet_output

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _import_quietly():
    with quiet_output():
        import tensorflow
        import keras

        tensorflow.config.list_physical_devices("GPU")  # the CUDA probe prints its own lines
    return tensorflow, keras


tf, keras = _import_quietly()

"""Import TensorFlow and Keras once, quietly.

TensorFlow's C++ start-up lines (oneDNN, CUDA, CPU-feature notices) are written straight to file
descriptor 2, past TF_CPP_MIN_LOG_LEVEL, and land in notebook outputs with timestamps. They say nothing
a student can act on, so they are sent to /dev/null while TensorFlow loads and looks for GPUs. Python
errors are unaffected: they are raised, not printed, and stderr is restored before they propagate.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _import_quietly():
    saved_stderr = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow
        import keras

        tensorflow.config.list_physical_devices("GPU")  # the CUDA probe prints its own lines
        return tensorflow, keras
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        os.close(devnull)


tf, keras = _import_quietly()

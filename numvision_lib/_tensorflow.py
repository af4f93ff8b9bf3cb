"""Import TensorFlow and Keras once, quietly; and keep TensorFlow's chatter out of notebook outputs.

TensorFlow's C++ start-up lines (oneDNN, CUDA, CPU-feature notices) are written straight to file
descriptors 1 and 2, past TF_CPP_MIN_LOG_LEVEL, and land in notebook outputs with timestamps. They say
nothing a student can act on, so `quiet_output` sends them to /dev/null while TensorFlow loads and looks
for GPUs, and wherever else the library calls into a talkative part of TensorFlow (the TFLite converter).
"""
import contextlib
import io
import logging
import os
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@contextlib.contextmanager
def quiet_output():
    """Swallow everything printed meanwhile: Python's stdout/stderr, warnings, and C++ lines on fds 1 and 2.

    TensorFlow's Python logger ("Assets written to ...") holds on to the stream it was created with, so it is
    quietened by level instead. Exceptions are not printed but raised, after the streams are restored.
    """
    loggers = [logging.getLogger(name) for name in ("tensorflow", "absl")]
    levels = [logger.level for logger in loggers]
    for stream in (sys.stdout, sys.stderr):  # what was printed before belongs on the screen
        if stream is not None:
            stream.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = {}
    try:
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        for fd in (1, 2):
            saved[fd] = os.dup(fd)
            os.dup2(devnull, fd)
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)
        os.close(devnull)
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _import_quietly():
    with quiet_output():
        import tensorflow
        import keras

        tensorflow.config.list_physical_devices("GPU")  # the CUDA probe prints its own lines
    return tensorflow, keras


tf, keras = _import_quietly()

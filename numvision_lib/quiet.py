"""Keep the chatter of C++ libraries out of notebook outputs: `quiet_output`, with no TensorFlow import here.

TensorFlow's start-up lines (oneDNN, CUDA, CPU-feature notices) and LiteRT's ("INFO: Created TensorFlow Lite
XNNPACK delegate for CPU.") are written straight to file descriptors 1 and 2, past every logging setting, and
land in notebook outputs. They say nothing a student can act on, so the library runs the talkative calls inside
`quiet_output`: TensorFlow's import (`_tensorflow`), the LiteRT converter (`predict`) and every new LiteRT
interpreter (`litert`, on the drawing pad's path, which must not import TensorFlow).
"""
import contextlib
import io
import logging
import os
import sys
import warnings


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

"""Predict the digit in any picture with a trained model, fast enough for a live drawing pad.

`Predictor.load()` loads a Keras model once (by default the pad's); `predict(image)` preprocesses the picture
the MNIST way (see `preprocess`), reads it three times (`prediction.read`: as it is and moved by a pixel) and
runs the network through a LiteRT (TensorFlow Lite) interpreter converted from the Keras model with 8-bit
weights, because `model.predict`'s per-call setup costs far more than the network itself (benchmarks/latency.py
times every path). Without LiteRT (`pip install ai-edge-litert`) or when the model does not convert, an
XLA-compiled `tf.function` serves instead. `predict_batch()` answers each picture as `predict` does;
`probabilities()` reads many pictures through a graph function of the float32 model with a flexible batch size (the
figures of evaluations and benchmarks).

`export_litert` writes the same 8-bit conversion to files, for the drawing pad's `litert.LitePredictor`,
which gives the same answers without TensorFlow.
"""
from __future__ import annotations

import os
from functools import partial
from pathlib import Path

from ._tensorflow import tf
from .data import IMAGE_SIZE, NUM_CLASSES
from .errors import ConfigError, ModelFileError
from .litert import CARD_KEY, export_record, interpreter_for_pad, litert_path
from .model import checked_model, load_model
from .model_card import (DIGIT_CHECK_PATH, MODEL_FILE_EXAMPLE, ModelCard, digit_check_given_as_model, library_versions,
                         pad_model_path, update_card)
from .not_a_digit import DigitCheck
from .paths import atomic_path, check_replaceable, checked_path
from .prediction import MODEL_FILE_OR_LOADED, READINGS, BasePredictor, Network, digit_check_file, in_chunks
from .quiet import quiet_output

# probabilities() and digit_scores() feed the float32 networks in chunks of this size to bound memory.
BATCH_SIZE = 256


def _graph_function(model):
    # A fixed input signature means one trace for every batch size: no retracing in the pad's callbacks.
    return tf.function(lambda images: model(images, training=False),
                       input_signature=[tf.TensorSpec((None, IMAGE_SIZE, IMAGE_SIZE, 1), tf.float32)],
                       reduce_retracing=True)


def _pad_function(model, graph_function, images: int) -> tuple[Network, str, str]:
    """The fastest way to run `model` on the pad's `images` images here: (function, its name, why LiteRT was not
    used or "")."""
    interpreter, fallback_reason = litert_for_pad(model, images)
    if interpreter is not None:
        return interpreter, "LiteRT interpreter, 8-bit", ""
    compiled = compile_for_pad(model, images, fallback=graph_function)
    name = "tf.function, graph" if compiled is graph_function else "tf.function, XLA"
    return (lambda image_batch: compiled(tf.constant(image_batch)).numpy()), name, fallback_reason


class Predictor(BasePredictor):
    """A loaded Keras model plus its compiled inference functions; create it once and reuse it.

    `temperature` (from the model card's calibration) makes the probabilities mean what they say; `digit_check`
    (see `not_a_digit`) tells a digit from everything else. Answering is `BasePredictor`'s, shared with the
    drawing pad's `litert.LitePredictor`. The pad's 8-bit copy is made from the model's weights when the Predictor
    is created: after training the model further, create a new Predictor, or `predict` keeps the old weights.
    """

    def __init__(self, model, source: Path | None = None, temperature: float = 1.0,
                 digit_check: DigitCheck | None = None):
        # The digit check's one score would be read as "digit 0, 99.99% sure".
        model = checked_model(model, "Predictor")
        if not (digit_check is None or isinstance(digit_check, DigitCheck)):
            raise ConfigError(_not_a_digit_check(digit_check))
        self.model = model
        self.digit_check = digit_check
        self.graph_function = _graph_function(model)
        # The drawing pad's path. Built here, not on the first predict(): converting takes noticeable time, and
        # a student waits more patiently for the cell that creates the pad than for the answer to the first
        # stroke, which must feel live.
        pad_network, self.pad_path, self.pad_fallback_reason = _pad_function(model, self.graph_function, READINGS)
        check_pad_network = check_batch_network = None
        if digit_check is not None:
            check_graph = _graph_function(digit_check.model)
            check_pad_network = _pad_function(digit_check.model, check_graph, 1)[0]
            check_batch_network = partial(in_chunks, check_graph, size=BATCH_SIZE, width=1)
        batch_network = partial(in_chunks, self.graph_function, size=BATCH_SIZE, width=NUM_CLASSES)
        super().__init__(source, temperature, pad_network, batch_network, check_pad_network, check_batch_network,
                         None if digit_check is None else digit_check.threshold)

    @classmethod
    def load(cls, path: str | os.PathLike | None = None,
             digit_check_path: str | os.PathLike | None = DIGIT_CHECK_PATH) -> "Predictor":
        """Load a `.keras` model in safe mode; `None` picks the pad's model (see `model_card.pad_model_path`).

        The temperature comes from the model's card (1, no change, without one); the digit check from
        `digit_check_path` (`None`: no check; the default may be absent only where no check was ever trained or
        shipped, see `prediction.digit_check_file`).
        """
        path = pad_model_path() if path is None else checked_path(path, MODEL_FILE_OR_LOADED)
        check_path = digit_check_file(digit_check_path)
        model = load_model(path)  # first: what the file is says more than its card
        if model.output_shape[-1] != NUM_CLASSES:
            raise ModelFileError(digit_check_given_as_model(path))
        card_path = ModelCard.path_for(path)
        temperature = ModelCard.load(card_path).temperature if card_path.is_file() else 1.0
        check = None if check_path is None else DigitCheck.load(check_path)
        return cls(model, source=path, temperature=temperature, digit_check=check)

    @property
    def name(self) -> str:
        return self.source.stem if self.source is not None else self.model.name


def _not_a_digit_check(digit_check) -> str:
    return ("digit_check is the digit check with its threshold (from numvision_lib.not_a_digit): DigitCheck.load() "
            "for the pad's, DigitCheck.load(path) for another file, DigitCheck(model, threshold) for a check already "
            f"loaded; not a {type(digit_check).__name__}")


def convert_for_litert(model, eight_bit: bool = True) -> bytes:
    """The model as a LiteRT (TensorFlow Lite) flatbuffer: the drawing pad's copy of the network.

    `eight_bit` stores the weights as 8-bit integers and lets the interpreter compute in 8-bit arithmetic
    where it can (dynamic-range quantisation, no calibration data needed). It gives the Keras model's digit on
    all but a handful of MNIST test images: docs/benchmarks.md has the measured agreement and speed, and
    tests/test_litert.py holds the agreement to a bound.
    """
    with quiet_output():
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        if eight_bit:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        return converter.convert()


def litert_for_pad(model, images: int, eight_bit: bool = True) -> tuple[Network | None, str]:
    """The drawing pad's path: the model converted for LiteRT and run by one interpreter on `images` images (see
    `litert.interpreter_for_pad`). Returns (function, "") or, when LiteRT is not installed or the model
    does not convert, (None, the reason); the caller then falls back to XLA."""
    try:
        import ai_edge_litert  # noqa: F401 - only whether it is installed
    except ImportError as error:
        return None, f"no LiteRT ({error})"
    try:
        return interpreter_for_pad(convert_for_litert(model, eight_bit), images), ""
    except Exception as error:  # noqa: BLE001 - any converter or runtime failure: the XLA path still works
        return None, f"LiteRT conversion failed ({type(error).__name__}: {error})"


def export_litert(model_path: str | os.PathLike | None = None,
                  digit_check_path: str | os.PathLike | None = DIGIT_CHECK_PATH) -> list[Path]:
    """Write the LiteRT copies that `litert.LitePredictor` runs without TensorFlow: the model (`None`: the pad's)
    and the digit check (`None`: none; the default may be absent only where no check was ever trained or shipped,
    see `prediction.digit_check_file`), each beside its `.keras` file and recorded in its card.

    Returns the files written. Run it again whenever either `.keras` file changes.
    """
    model_path = pad_model_path() if model_path is None else checked_path(model_path, MODEL_FILE_EXAMPLE)
    # A model without a card has nowhere to record its export (and the check's card says it is the check's).
    ModelCard.for_model(model_path)
    sources = [(model_path, load_model(model_path))]
    # The default check, never trained, is skipped: the command line says so (`python -m numvision_lib
    # export-litert`). A mistyped or lost one is refused: a pad loaded later would be without its check.
    check_path = digit_check_file(digit_check_path)
    if check_path is not None:
        sources.append((check_path, DigitCheck.load(check_path).model))
    # Every file, before the first is converted: one that cannot be replaced was found after the model's were written.
    for source, _ in sources:
        check_replaceable(litert_path(source), "the LiteRT copy")
        check_replaceable(ModelCard.path_for(source), "the record of the LiteRT copy")
    versions = {name: version for name, version in library_versions().items() if name in ("tensorflow", "keras")}
    written = []
    for source, model in sources:
        target = litert_path(source)
        with atomic_path(target) as temporary:
            temporary.write_bytes(convert_for_litert(model))
        update_card(source, {CARD_KEY: export_record(source, target, versions)})
        written.append(target)
    return written


def compile_for_pad(model, images: int, fallback):
    """The drawing pad's path: `images` images, XLA-compiled for that fixed shape and called as a concrete function.

    The fallback when LiteRT is unavailable: faster than the plain graph function on these small inputs (see
    benchmarks/latency.py), and compiling once here means the student's first stroke does not wait for it.
    Where XLA cannot compile the model, the plain graph function serves instead.
    """
    pad_input = tf.TensorSpec((images, IMAGE_SIZE, IMAGE_SIZE, 1), tf.float32)
    compiled = tf.function(lambda batch: model(batch, training=False), input_signature=[pad_input],
                           jit_compile=True).get_concrete_function()
    try:
        compiled(tf.zeros(pad_input.shape))
        return compiled
    except tf.errors.OpError:  # no XLA for this device or model
        fallback(tf.zeros(pad_input.shape))
        return fallback


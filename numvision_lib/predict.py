"""Predict the digit in any picture with a trained model, fast enough for a live drawing pad.

`Predictor.load()` loads the pad's model once; `predict(image)` preprocesses the picture the MNIST way (see
`preprocess`) and runs the network through a LiteRT (TensorFlow Lite) interpreter converted from the Keras
model with 8-bit weights, because `model.predict`'s per-call setup costs far more than the network itself
(benchmarks/latency.py times every path). Without LiteRT (`pip install ai-edge-litert`) or when the model
does not convert, an XLA-compiled `tf.function` serves instead. `predict_batch()` and `probabilities()` run
many pictures through a graph function with a flexible batch size.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ._tensorflow import quiet_output, tf
from .data import NUM_CLASSES
from .model import load_model
from .calibration import apply_temperature
from .model_card import ModelCard, pad_model_path
from .not_a_digit import DIGIT_CHECK_PATH, DigitCheck
from .preprocess import (DEFAULT_BRUSH_WIDTH, DEFAULT_CANVAS_SIZE, IMAGE_SIZE, ImageInput,
                         preprocess_steps)

# The three answers the pad gives: a digit it is sure of, its best guess at a digit, or "not a digit".
DIGIT = "digit"
PROBABLY = "probably a digit"
NOT_A_DIGIT = "not a digit"
VERDICTS = (DIGIT, PROBABLY, NOT_A_DIGIT)
# Below this probability the answer is shown as a guess. Measured on the drawn-digit set: 0.9 flags 1% of
# the right answers and nearly 90% of the wrong ones (0.7 only 60%).
MIN_CONFIDENCE = 0.9
# Ink much wider than tall (a dash, a wave, two digits side by side) is no single digit: the widest drawn
# digits are about 1.3 times wider than tall.
MAX_INK_ASPECT = 2.0
# A digit whose long side covers less than this fraction of the picture is too small to be read with confidence,
# and ink under MIN_DIGIT_EXTENT is a dot or a mark, no digit at all (scaled up to the digit box it would be a 1).
MIN_INK_EXTENT = 0.12
MIN_DIGIT_EXTENT = 0.08
# predict_batch() feeds the network in chunks of this size to bound memory.
BATCH_SIZE = 256


@dataclass(frozen=True, eq=False)
class Prediction:
    """The network's answer for one picture."""

    digit: int
    confidence: float  # probability of `digit`
    top3: tuple[tuple[int, float], ...]  # (digit, probability), most likely first
    probabilities: np.ndarray  # (10,) float32, sums to 1
    model_input: np.ndarray  # (28, 28) float32: what the network actually saw
    verdict: str = DIGIT  # one of VERDICTS
    advice: str = ""  # one short line for the student where it helps ("Draw it larger"), else ""

    @property
    def is_digit(self) -> bool:
        """False when the pad says "not a digit"; `digit` and the probabilities stay available for teaching."""
        return self.verdict != NOT_A_DIGIT

    @property
    def runner_up(self) -> tuple[int, float]:
        return self.top3[1]

    def to_dict(self) -> dict:
        """Plain JSON-ready values (without the model input), e.g. for `python -m numvision_lib predict --json`."""
        return {
            "digit": self.digit,
            "confidence": round(self.confidence, 6),
            "top3": [[digit, round(probability, 6)] for digit, probability in self.top3],
            "probabilities": [round(float(p), 6) for p in self.probabilities],
            "verdict": self.verdict,
            "is_digit": self.is_digit,
            "advice": self.advice,
        }


def _graph_function(model):
    # A fixed input signature means one trace for every batch size: no retracing in the pad's callbacks.
    return tf.function(lambda images: model(images, training=False),
                       input_signature=[tf.TensorSpec((None, IMAGE_SIZE, IMAGE_SIZE, 1), tf.float32)],
                       reduce_retracing=True)


def _one_image_function(model, graph_function) -> tuple[Callable[[np.ndarray], np.ndarray], str, str]:
    """The fastest way to run `model` on one image here: (function, its name, why LiteRT was not used or "")."""
    single, fallback_reason = litert_for_one_image(model)
    if single is not None:
        return single, "LiteRT interpreter, 8-bit", ""
    compiled = compile_for_one_image(model, fallback=graph_function)
    name = "tf.function, graph" if compiled is graph_function else "tf.function, XLA"
    return (lambda image_batch: compiled(tf.constant(image_batch)).numpy()), name, fallback_reason


class Predictor:
    """A loaded model plus the compiled inference function; create it once and reuse it.

    `temperature` (from the model card's calibration) makes the probabilities mean what they say; `digit_check`
    (see `not_a_digit`) tells a digit from everything else.
    """

    def __init__(self, model, source: Path | None = None, temperature: float = 1.0,
                 digit_check: DigitCheck | None = None):
        self.model = model
        self.source = source
        self.temperature = temperature
        self.digit_check = digit_check
        self.graph_function = _graph_function(model)
        # The drawing pad's path. Built here, not on the first predict(): converting takes a second or so, and
        # a student waits more patiently for the cell that creates the pad than for the answer to the first
        # stroke, which must feel live.
        self.single_image_probabilities, self.single_image_path, self.single_image_fallback_reason = (
            _one_image_function(model, self.graph_function))
        if digit_check is not None:
            self._check_graph = _graph_function(digit_check.model)
            self._check_one_image = _one_image_function(digit_check.model, self._check_graph)[0]

    @classmethod
    def load(cls, path: str | os.PathLike | None = None,
             digit_check_path: str | os.PathLike | None = DIGIT_CHECK_PATH) -> "Predictor":
        """Load a `.keras` model in safe mode; `None` picks the pad's model (see `model_card.pad_model_path`).

        The temperature comes from the model's card (1, no change, without one); the digit check from
        `digit_check_path` when that file exists (`None`: no check).
        """
        path = pad_model_path() if path is None else Path(path)
        card_path = ModelCard.path_for(path)
        temperature = ModelCard.load(card_path).temperature if card_path.is_file() else 1.0
        check = None
        if digit_check_path is not None and Path(digit_check_path).is_file():
            check = DigitCheck.load(digit_check_path)
        return cls(load_model(path), source=path, temperature=temperature, digit_check=check)

    @property
    def name(self) -> str:
        return self.source.stem if self.source is not None else self.model.name

    def probabilities(self, model_inputs: np.ndarray) -> np.ndarray:
        """Class probabilities (N, 10) for already preprocessed inputs (N, 28, 28) or (N, 28, 28, 1)."""
        batch = np.asarray(model_inputs, dtype=np.float32).reshape(-1, IMAGE_SIZE, IMAGE_SIZE, 1)
        return apply_temperature(_in_chunks(self.graph_function, batch, NUM_CLASSES), self.temperature)

    def digit_scores(self, model_inputs: np.ndarray) -> np.ndarray | None:
        """How much each preprocessed input looks like a digit at all (0..1), or None without a digit check."""
        if self.digit_check is None:
            return None
        batch = np.asarray(model_inputs, dtype=np.float32).reshape(-1, IMAGE_SIZE, IMAGE_SIZE, 1)
        return _in_chunks(self._check_graph, batch, 1)[:, 0]

    def predict(self, image: ImageInput, canvas_size: int = DEFAULT_CANVAS_SIZE,
                brush_width: float = DEFAULT_BRUSH_WIDTH) -> Prediction:
        """Preprocess one picture (strokes, array, PIL image, file path or bytes) and predict its digit.

        Raises `ImageError` for a blank or unreadable picture.
        """
        steps = preprocess_steps(image, canvas_size, brush_width)
        image_batch = np.ascontiguousarray(steps.model_input[None, :, :, None], dtype=np.float32)
        probabilities = apply_temperature(np.asarray(self.single_image_probabilities(image_batch))[0],
                                          self.temperature)
        digit_score = None if self.digit_check is None else float(self._check_one_image(image_batch)[0, 0])
        return make_prediction(probabilities, steps.model_input, steps.ink_extent, steps.ink_aspect,
                               digit_score, self._threshold)

    def predict_batch(self, images: Iterable[ImageInput], canvas_size: int = DEFAULT_CANVAS_SIZE,
                      brush_width: float = DEFAULT_BRUSH_WIDTH) -> list[Prediction]:
        steps = [preprocess_steps(image, canvas_size, brush_width) for image in images]
        model_inputs = [step.model_input for step in steps]
        probabilities = self.probabilities(model_inputs)
        scores = self.digit_scores(model_inputs)
        return [
            make_prediction(row, step.model_input, step.ink_extent, step.ink_aspect,
                            None if scores is None else float(score), self._threshold)
            for row, step, score in zip(probabilities, steps, scores if scores is not None else [None] * len(steps))
        ]

    @property
    def _threshold(self) -> float | None:
        return None if self.digit_check is None else self.digit_check.threshold


def _in_chunks(function, batch: np.ndarray, width: int) -> np.ndarray:
    # Chunks bound the memory a large batch takes.
    chunks = [function(batch[start:start + BATCH_SIZE]).numpy() for start in range(0, len(batch), BATCH_SIZE)]
    return np.concatenate(chunks) if chunks else np.zeros((0, width), dtype=np.float32)


def litert_for_one_image(model, eight_bit: bool = True) -> tuple[Callable[[np.ndarray], np.ndarray] | None, str]:
    """The drawing pad's path: the model converted to TensorFlow Lite and run by one LiteRT interpreter.

    It runs in the calling thread (one interpreter thread) instead of handing work to TensorFlow's thread
    pool, so other work on the machine hurts it less (benchmarks/latency.py compares it with the XLA function
    under the same load). Returns (function, "") or, when LiteRT is not installed or the model does not
    convert, (None, the reason); the caller then falls back to XLA.

    `eight_bit` stores the weights as 8-bit integers and lets the interpreter compute in 8-bit arithmetic
    where it can (dynamic-range quantisation, no calibration data needed): several times faster than float32,
    with the same digit as the Keras model on all but a handful of MNIST test images (the README has the
    measured agreement; tests/test_predict.py holds it to at most one difference in 2,010 images).

    Not thread-safe: an interpreter owns its input and output buffers, so two threads calling it at once
    would mix their images. One per Predictor is enough because ipywidgets (and ipycanvas) callbacks all
    run in the kernel's main thread, one after the other; share a Predictor across threads only with a lock.
    """
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as error:
        return None, f"no LiteRT ({error})"
    try:
        with quiet_output():
            converter = tf.lite.TFLiteConverter.from_keras_model(model)
            if eight_bit:
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
            flatbuffer = converter.convert()
            # One thread: the input is one small image, and a pool's threads would spin between strokes.
            interpreter = Interpreter(model_content=flatbuffer, num_threads=1)
            interpreter.allocate_tensors()
            (input_details,), (output_details,) = interpreter.get_input_details(), interpreter.get_output_details()
            input_index, output_index = input_details["index"], output_details["index"]
            # The converter keeps a flexible batch dimension; fix it to one image.
            if tuple(input_details["shape"]) != (1, IMAGE_SIZE, IMAGE_SIZE, 1):
                interpreter.resize_tensor_input(input_index, [1, IMAGE_SIZE, IMAGE_SIZE, 1], strict=False)
                interpreter.allocate_tensors()
            interpreter.set_tensor(input_index, np.zeros((1, IMAGE_SIZE, IMAGE_SIZE, 1), np.float32))
            interpreter.invoke()  # any first-call cost (and message) comes now, quietly, not on the first stroke
    except Exception as error:  # noqa: BLE001 - any converter or runtime failure: the XLA path still works
        return None, f"LiteRT conversion failed ({type(error).__name__}: {error})"

    def probabilities(image_batch: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(input_index, image_batch)
        interpreter.invoke()
        return interpreter.get_tensor(output_index)  # a copy: the next call cannot overwrite it

    return probabilities, ""


def compile_for_one_image(model, fallback):
    """The drawing pad's path: one image, XLA-compiled for that fixed shape and called as a concrete function.

    The fallback when LiteRT is unavailable: faster than the plain graph function on these small inputs (see
    benchmarks/latency.py), and compiling once here means the student's first stroke does not wait for it.
    Where XLA cannot compile the model, the plain graph function serves instead.
    """
    one_image = tf.TensorSpec((1, IMAGE_SIZE, IMAGE_SIZE, 1), tf.float32)
    compiled = tf.function(lambda image: model(image, training=False), input_signature=[one_image],
                           jit_compile=True).get_concrete_function()
    try:
        compiled(tf.zeros(one_image.shape))
        return compiled
    except tf.errors.OpError:  # no XLA for this device or model
        fallback(tf.zeros(one_image.shape))
        return fallback


def make_prediction(probabilities: np.ndarray, model_input: np.ndarray, ink_extent: float,
                    ink_aspect: float = 1.0, digit_score: float | None = None,
                    threshold: float | None = None) -> Prediction:
    """The pad's answer: NOT_A_DIGIT for a mark too small to be a digit, ink far wider than a digit, or a drawing
    the digit check refuses (`digit_score` below `threshold`); PROBABLY for a small digit or an unsure answer."""
    ranking = np.argsort(probabilities)[::-1]
    digit, confidence = int(ranking[0]), float(probabilities[ranking[0]])
    verdict, advice = DIGIT, ""
    if ink_extent < MIN_DIGIT_EXTENT:
        verdict, advice = NOT_A_DIGIT, "Only a dot or a small mark: draw a digit."
    elif ink_aspect > MAX_INK_ASPECT:
        verdict, advice = NOT_A_DIGIT, "Much wider than a digit: draw one digit at a time."
    elif digit_score is not None and threshold is not None and digit_score < threshold:
        verdict, advice = NOT_A_DIGIT, "Draw one digit, 0 to 9."
    elif ink_extent < MIN_INK_EXTENT:
        verdict, advice = PROBABLY, "Draw the digit larger."
    elif confidence < MIN_CONFIDENCE:
        verdict = PROBABLY
    return Prediction(
        digit=digit,
        confidence=confidence,
        top3=tuple((int(d), float(probabilities[d])) for d in ranking[:3]),
        probabilities=probabilities,
        model_input=model_input,
        verdict=verdict,
        advice=advice,
    )


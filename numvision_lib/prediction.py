"""The pad's answer for one picture, and what every predictor does around its network; no TensorFlow here.

`Prediction` and `make_prediction` say what the pad shows: a digit it is sure of, its best guess, or "not a
digit". `BasePredictor` turns any picture into that answer (preprocess, network, temperature, digit check);
its two kinds differ only in how they run the networks: `predict.Predictor` loads the Keras model (and needs
TensorFlow), `litert.LitePredictor` runs the exported LiteRT files with NumPy, SciPy, Pillow and the small LiteRT
runtime, so that the drawing pad starts in a kernel without TensorFlow.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
from PIL import Image

from .calibration import apply_temperature, check_temperature
from .data import IMAGE_SIZE, model_input
from .errors import ConfigError, ImageError, ModelFileError
from .model_card import (DIGIT_CHECK_PATH, MODEL_FILE_EXAMPLE, ModelCard, is_digit_check_card, read_card,
                         threshold_problem)
from .paths import checked_path, project_relative, relative_path_advice
from .preprocess import (DEFAULT_BRUSH_WIDTH, DEFAULT_CANVAS_SIZE, ImageInput, PreprocessSteps, pen_problem,
                         preprocess_steps)

# The three answers the pad gives: a digit it is sure of, its best guess at a digit, or "not a digit".
DIGIT = "digit"
PROBABLY = "probably a digit"
NOT_A_DIGIT = "not a digit"
VERDICTS = (DIGIT, PROBABLY, NOT_A_DIGIT)
# Below this probability the answer is shown as a guess (`is_sure`). It flags about 40% of the pad's model's mistakes
# on strangers' handwriting, not all: on the real-handwriting benchmark (UNIPEN's 20 benchmark writers,
# benchmarks/real_handwriting.py, docs/benchmarks.md) it misread 164 of 10,990 drawings and was this sure of 95 of
# them (its "confident mistakes", 0.86% of the drawings).
MIN_CONFIDENCE = 0.9
# Ink much wider than tall (a dash, a wave, two digits side by side) is no single digit: the widest drawn
# digits are about 1.3 times wider than tall.
MAX_INK_ASPECT = 2.0
# A digit whose long side covers less than this fraction of the picture is too small to be read with confidence,
# and a drawing under MIN_DIGIT_EXTENT is refused: a dot or a mark that small, scaled up to the digit box, is read as
# a 1 (a click with a fat pen as a 0), so a digit as tiny is refused with them. For strokes that size is where the
# pen went, not the ink it left.
MIN_INK_EXTENT = 0.12
MIN_DIGIT_EXTENT = 0.08
# A pen that travelled more than this many times the drawing's long side went over the same place again and again:
# scribbling or colouring in. The 8,044 digits of UNIPEN's training and validation writers, drawn as the pad's
# strokes, travel at most 6.2 times their size (99.9% under 4.7), so even a digit gone over twice is read.
MAX_PEN_TRAVEL = 12.0
# More separate dots than this (`preprocess.DOT_SIZE`) are no digit: of those 8,044 digits, none has more than one.
# Nor is a drawing of dots alone, however few: two clicks far apart were "1, 96.0% sure".
MAX_SEPARATE_DOTS = 2
# A pen that left the pad and came back in further than this share of the drawing's long side from where it left drew
# part of the digit out there (`preprocess.PreprocessSteps.off_canvas_gap`), and what is left on the pad can be another
# digit. Of 150 of UNIPEN's validation digits drawn 300 and 340 pixels tall through the 280-pixel pad's handlers, 3
# and 22 were read as another digit with confidence (a 7 whose bar ran off the top, "1, 100% sure"): this doubts 3 and
# 19 of them (the others ended off the pad, or came back near where they left). It costs right answers: of the 121 and
# 79 right and sure, it doubts 38 and 29 ("Probably a 7" with the advice to draw smaller), where 0.1 doubted 70 and 38
# and caught no more. A 7 whose bar only turns its corner outside comes back that corner's depth lower (0.12, the
# browser test's SEVEN_OVERSHOOTING), loses nothing that matters and is left alone. No drawing that the benchmarks or
# training render leaves the canvas, and none has a gap above 0.
MAX_OFF_CANVAS_GAP = 0.25
# The advice for each rule of `make_prediction`, one short line. Strokes get advice about drawing. A photo, a scan or
# an array gets advice about the photo: drawing larger cannot mend a digit that is small in the frame, nor a ruled
# line beside it; cropping and plain paper can. (Scribbling, dots and running off the pad are found in strokes only.)
# Each line fits every drawing its rule refuses: "wide" refuses a dash or a lying 8 as well as two digits side by
# side, and "dots" a digit with stray dots as well as dots alone.
ADVICE_FOR_STROKES = {
    "mark": "Only a dot, a mark or a tiny digit: draw one digit, larger.",
    "wide": "Much wider than a digit: draw one digit, 0 to 9, taller than it is wide.",
    "scribbling": "That looks like scribbling: draw one digit, 0 to 9.",
    "dots": "Separate dots are not a digit: draw one digit in lines, 0 to 9, without dots.",
    "check": "Draw one digit, 0 to 9.",
    "small": "Draw the digit larger.",
    "off_pad": "Part of the digit ran off the pad: draw it a little smaller, inside the square.",
}
ADVICE_FOR_PICTURES = {
    "mark": "Only a small mark in this photo: if it is a digit, crop the photo close to it.",
    "wide": ("Much wider than a digit: crop the photo close to the digit, one digit per photo, on plain paper (a "
             "ruled line is read as ink)."),
    "check": "Upload a photo of one digit, 0 to 9, cropped close to it.",
    "small": "The digit is small in this photo: crop the photo close to the digit.",
}
# A network as a predictor runs it: a batch of model inputs (N, 28, 28, 1) float32 in, one row per input out.
Network = Callable[[np.ndarray], np.ndarray]
# The predictors read every picture three times, as it is and moved by one pixel down-right and up-left, and
# average the network's answers: on UNIPEN's validation writers that made fewer mistakes, and fewer confident ones,
# than one reading, for two more images through the network per picture (docs/benchmarks.md has the figures).
READING_SHIFTS = ((0, 0), (1, 1), (-1, -1))
READINGS = len(READING_SHIFTS)
# `read` copies this many pictures at a time, so that reading a whole data set does not triple it in memory at once.
READ_CHUNK = 1024


@dataclass(frozen=True, eq=False)
class Prediction:
    """The network's answer for one picture."""

    digit: int
    confidence: float  # probability of `digit`
    top3: tuple[tuple[int, float], ...]  # (digit, probability), most likely first
    probabilities: np.ndarray  # (10,) float64 (see `calibration.apply_temperature`), sums to 1
    model_input: np.ndarray  # (28, 28) float32: what the network actually saw
    verdict: str = DIGIT  # one of VERDICTS
    advice: str = ""  # one short line for the student where it helps ("Draw it larger"), else ""

    def __post_init__(self):
        # The pad shows each verdict in its own way (`drawing.VERDICT_STATES`): a misspelt one would fail only there.
        if self.verdict not in VERDICTS:
            raise ConfigError(_unknown_verdict_message(self.verdict))

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


def _unknown_verdict_message(verdict) -> str:
    return f"a prediction's verdict is one of {', '.join(map(repr, VERDICTS))}, not {verdict!r}"


def a_digit(digit: int) -> str:
    """The digit with its article, for sentences the student reads: "a 7", "an 8"."""
    return f"an {digit}" if digit == 8 else f"a {digit}"


def is_sure(confidence: float | np.ndarray) -> bool | np.ndarray:
    """Whether the network is sure enough of its answer (or of each, for an array of confidences) for the pad to show
    it as a digit (MIN_CONFIDENCE). An answer it is sure of that is still PROBABLY is one `make_prediction` doubts for
    the drawing alone (a small digit, or one that ran off the pad), which its advice names."""
    return confidence >= MIN_CONFIDENCE


def percentage(probability: float) -> str:
    """A probability as the pad's sentence, its bars and the command line show it: to 0.1%, and one below
    MIN_CONFIDENCE never rounded up to it ("Probably a 4 (90.0% sure)" showed the sure answer's figure beside the
    question mark)."""
    return f"{probability if is_sure(probability) else min(probability, MIN_CONFIDENCE - 0.001):.1%}"


def make_prediction(probabilities: np.ndarray, steps: PreprocessSteps, digit_score: float | None = None,
                    threshold: float | None = None) -> Prediction:
    """The pad's answer for the picture that `steps` prepared: NOT_A_DIGIT for a mark too small to be a digit, ink
    far wider than a digit, scribbling, separate dots (more than a digit's stray ones, or nothing else), or a drawing
    the digit check refuses (`digit_score` below `threshold`); PROBABLY for a drawing that ran off the pad, a small
    digit or an unsure answer. The advice speaks of drawing for strokes and of the photo for any other picture
    (`ADVICE_FOR_STROKES`, `ADVICE_FOR_PICTURES`)."""
    ranking = np.argsort(probabilities)[::-1]
    digit, confidence = int(ranking[0]), float(probabilities[ranking[0]])
    verdict, rule = DIGIT, None
    if steps.drawing_extent < MIN_DIGIT_EXTENT:
        verdict, rule = NOT_A_DIGIT, "mark"
    elif steps.ink_aspect > MAX_INK_ASPECT:
        verdict, rule = NOT_A_DIGIT, "wide"
    elif steps.pen_travel is not None and steps.pen_travel > MAX_PEN_TRAVEL:
        verdict, rule = NOT_A_DIGIT, "scribbling"
    elif steps.separate_dots is not None and (steps.separate_dots > MAX_SEPARATE_DOTS
                                               or 0 < steps.separate_dots == steps.strokes):
        verdict, rule = NOT_A_DIGIT, "dots"
    elif digit_score is not None and threshold is not None and digit_score < threshold:
        verdict, rule = NOT_A_DIGIT, "check"
    elif steps.off_canvas_gap is not None and steps.off_canvas_gap > MAX_OFF_CANVAS_GAP:
        verdict, rule = PROBABLY, "off_pad"
    elif steps.ink_extent < MIN_INK_EXTENT:
        verdict, rule = PROBABLY, "small"
    elif not is_sure(confidence):
        verdict = PROBABLY
    advice_for = ADVICE_FOR_PICTURES if steps.points_extent is None else ADVICE_FOR_STROKES
    return Prediction(
        digit=digit,
        confidence=confidence,
        top3=tuple((int(d), float(probabilities[d])) for d in ranking[:3]),
        probabilities=probabilities,
        model_input=steps.model_input,
        verdict=verdict,
        advice="" if rule is None else advice_for[rule],
    )


def network_input(model_inputs) -> np.ndarray:
    """Preprocessed inputs as the networks take them, read as `data.model_input` reads pictures: uint8 as MNIST's
    levels 0-255, floats as the network's input from 0 to 1. Anything else is a `ConfigError` that also says how a
    photo or a drawing becomes such an input."""
    try:
        return model_input(model_inputs)
    except ConfigError as error:
        raise ConfigError(f"{error}. A photo or a drawing becomes a 28x28 input with preprocess(), or give it to "
                          "predict()") from None


def read(network: Network, model_inputs) -> np.ndarray:
    """What the predictors make of preprocessed inputs: `network`'s rows (N, classes) for each picture, averaged over
    its READING_SHIFTS copies. The network gets the copies of up to READ_CHUNK pictures in one call, each picture's
    side by side. `model_inputs` are read as `network_input` reads them."""
    batch = network_input(model_inputs)
    # An empty batch goes through the network once too: its empty answer has the network's width.
    return np.concatenate([_read_chunk(network, batch[start:start + READ_CHUNK])
                           for start in range(0, max(len(batch), 1), READ_CHUNK)])


def in_chunks(network: Network, batch: np.ndarray, size: int, width: int) -> np.ndarray:
    """`network` over a batch `size` images at a time (bounding the memory a large batch takes, or feeding a network
    fixed at `size` images): (N, width), and (0, width) for an empty batch."""
    if not len(batch):
        return np.zeros((0, width), dtype=np.float32)
    return np.concatenate([np.asarray(network(batch[start:start + size]), dtype=np.float32)
                           for start in range(0, len(batch), size)])


def _read_chunk(network: Network, batch: np.ndarray) -> np.ndarray:
    # Moved with blank pixels coming in, not wrapped round: ink at an edge must not reappear at the other.
    framed = np.zeros((len(batch), IMAGE_SIZE + 2, IMAGE_SIZE + 2, 1), np.float32)
    framed[:, 1:-1, 1:-1] = batch
    # Each picture's copies side by side, so that a network fixed at READINGS images gets one picture per call.
    copies = np.stack([framed[:, 1 - down:1 - down + IMAGE_SIZE, 1 - right:1 - right + IMAGE_SIZE]
                       for down, right in READING_SHIFTS], axis=1)
    outputs = np.asarray(network(copies.reshape(-1, IMAGE_SIZE, IMAGE_SIZE, 1)), dtype=np.float32)
    return outputs.reshape(len(batch), READINGS, outputs.shape[-1]).mean(axis=1)


# What `paths.checked_path` shows when the predictors' `load` gets something other than a path: they load files,
# not models in memory.
MODEL_FILE_OR_LOADED = (f"{MODEL_FILE_EXAMPLE} (for a model already loaded: Predictor(model), from "
                        "numvision_lib.predict)")
# What it shows when the digit check's path is missing.
DIGIT_CHECK_FILE_EXAMPLE = f"the digit check's model file, such as {project_relative(DIGIT_CHECK_PATH)}"


def digit_check_file(digit_check_path) -> Path | None:
    """The digit check that the predictors' `load` loads from `digit_check_path`: None for None, and for the default
    `DIGIT_CHECK_PATH` in a project that never had a check there, with no card beside it either (the pad then
    answers without one). Any other path must be a file, and so must the default while its card is there: a mistyped
    name, or a shipped check lost from a copy, would take the check away without a word, and a handwritten A would be
    a confident 4."""
    if digit_check_path is None:
        return None
    path = checked_path(digit_check_path, DIGIT_CHECK_FILE_EXAMPLE)
    if path.is_file():
        return path
    if path.resolve() != DIGIT_CHECK_PATH.resolve():
        raise ModelFileError(f"{digit_check_not_found(path)}, or none for no check (digit_check_path=None)")
    # The card is what a trained or shipped check leaves beside it (with its LiteRT copy).
    if ModelCard.path_for(path).exists():
        raise ModelFileError(_shipped_check_missing(path))
    return None


def _shipped_check_missing(path: Path) -> str:
    return (f"{project_relative(path)} is missing, though its card {ModelCard.path_for(path).name} is there: without "
            "it the pad would answer with no digit check and call a handwritten A a confident 4. Restore "
            f"{project_relative(path.parent)}/ from git, or give none for no check (digit_check_path=None)")


def digit_check_not_found(path: Path) -> str:
    """What a digit check path with nothing there is told, by the predictors' `load` and by `DigitCheck.load`: a
    mistyped name, which retraining (`model.load_model`'s advice for a missing model) would not mend."""
    advice = (relative_path_advice(path)
              or f"Give the path of its .keras file, such as {project_relative(DIGIT_CHECK_PATH)}")
    return f"{project_relative(path)}: digit check not found. {advice}"


def digit_model_given_as_check(path: Path) -> str:
    return (f"{path.name} is a model that reads digits, not the pad's digit check, which tells a digit from a "
            f"non-digit: give the check, such as {project_relative(DIGIT_CHECK_PATH)}, or none for no check "
            "(digit_check_path=None)")


def check_digit_check_card(check_path: Path) -> None:
    """A ModelFileError when the card beside `check_path`, given as the digit check, is a digit model's: read as the
    check's, it would be called damaged (`ModelCard.load` tells the cards apart the other way round). A check's card
    that is neither is left to `model_card.digit_check_threshold`, which says it is damaged."""
    if not is_digit_check_card(read_card(check_path, of_check=True)) and _is_model_card(check_path):
        raise ModelFileError(digit_model_given_as_check(check_path))


def _is_model_card(model_path: Path) -> bool:
    try:
        ModelCard.for_model(model_path)
    except ModelFileError:
        return False
    return True


def keras_model_of(predictor, purpose: str):
    """The Keras model behind `predictor`, for `purpose` (what needs Keras itself, such as gradients); the light
    pad's LitePredictor has none, which is a ConfigError saying how to load one."""
    model = getattr(predictor, "model", None)
    if model is None:
        raise ConfigError(f"{purpose} needs the Keras model, which the light drawing pad does not load: use "
                          "`Predictor.load()` (from numvision_lib.predict), e.g. `DrawingPad(Predictor.load())`")
    return model


class BasePredictor:
    """Picture in, `Prediction` out. Its kinds differ only in how they run the networks, which they hand over here:
    `pad_network` runs the model on one picture's READINGS copies (READINGS, 28, 28, 1) by the pad's fast path,
    `batch_network` on the copies of many pictures (N * READINGS, 28, 28, 1), both giving probabilities before the
    temperature, which `read` averages. `check_pad_network` and `check_batch_network` run the digit check on
    pictures as they are (scores (1, 1) and (N, 1)), None without a check. `temperature` comes from the model card's
    calibration (fitted through the same reading) and `threshold` from the digit check's card.

    `predict` and `predict_batch` answer through the pad networks, so that a picture gets the pad's answer either
    way; `probabilities`, `probabilities_read_once` and `digit_scores` through the batch networks. For
    `predict.Predictor` those differ: the pad's may be an 8-bit copy (`Predictor.pad_path`), the batch ones are the
    float32 Keras models.
    """

    def __init__(self, source: Path | None, temperature: float, pad_network: Network, batch_network: Network,
                 check_pad_network: Network | None = None, check_batch_network: Network | None = None,
                 threshold: float | None = None):
        # Checked here, where the teacher makes the predictor: a bad temperature would fail at every stroke, and a
        # check without a threshold would run on every drawing and refuse none.
        check_temperature(temperature)
        if check_pad_network is not None and (problem := threshold_problem(threshold)):
            raise ConfigError(f"{problem}: a digit check needs the threshold below which a drawing is refused, which "
                              "its card records (LitePredictor.load() reads it)")
        self.source = source
        self.temperature = temperature
        self.threshold = threshold if check_pad_network is not None else None
        self.pad_network, self._batch_network = pad_network, batch_network
        self._check_pad_network, self._check_batch_network = check_pad_network, check_batch_network

    def probabilities(self, model_inputs: np.ndarray) -> np.ndarray:
        """Class probabilities (N, 10) for already preprocessed inputs (N, 28, 28) or (N, 28, 28, 1): floats from 0 to
        1 as `preprocess` gives them, or MNIST's uint8 images (0-255) as they are; anything else is a ConfigError.

        Read through the batch network: for `predict.Predictor` the float32 Keras model, whose figures evaluations
        and benchmarks give; the pad's 8-bit copy may differ from it by a point or two (`predict` gives the pad's)."""
        return apply_temperature(read(self._batch_network, model_inputs), self.temperature)

    def probabilities_read_once(self, model_inputs: np.ndarray) -> np.ndarray:
        """Class probabilities (N, 10) from one reading of each input as it is, where `probabilities` averages
        the READING_SHIFTS copies: what a single reading says, to see how much a one-pixel move changes it."""
        batch = network_input(model_inputs)
        # Each picture READINGS times over: a network fixed at whole groups of copies takes them as they come.
        outputs = np.asarray(self._batch_network(np.repeat(batch, READINGS, axis=0)), dtype=np.float32)
        return apply_temperature(outputs[::READINGS], self.temperature)

    def digit_scores(self, model_inputs: np.ndarray) -> np.ndarray | None:
        """How much each preprocessed input looks like a digit at all (0..1), or None without a digit check."""
        return None if self._check_batch_network is None else self._check_batch_network(network_input(model_inputs))[:, 0]

    def predict(self, image: ImageInput, canvas_size: int = DEFAULT_CANVAS_SIZE,
                brush_width: float = DEFAULT_BRUSH_WIDTH) -> Prediction:
        """Preprocess one picture (strokes, array, PIL image, file path or bytes) and predict its digit.

        Raises `ImageError` for a blank or unreadable picture, `ConfigError` for a canvas size or brush width out of
        range or strokes beyond their canvas.
        """
        return self._answer(preprocess_steps(image, canvas_size, brush_width))

    def _answer(self, steps: PreprocessSteps) -> Prediction:
        """The pad's answer for the picture `steps` prepared, from the pad networks."""
        image_batch = model_input(steps.model_input)
        probabilities = apply_temperature(read(self.pad_network, image_batch)[0], self.temperature)
        digit_score = None if self._check_pad_network is None else float(self._check_pad_network(image_batch)[0, 0])
        return make_prediction(probabilities, steps, digit_score, self.threshold)

    def predict_batch(self, images: Iterable[ImageInput], canvas_size: int = DEFAULT_CANVAS_SIZE,
                      brush_width: float = DEFAULT_BRUSH_WIDTH) -> list[Prediction]:
        """`predict` for each of a list of pictures: each one answered by the pad networks, as the pad answers it (a
        batch read through `predict.Predictor`'s float32 model once called a letter "not a digit" that the pad took
        for a 0). `probabilities` reads many preprocessed pictures at once through the batch networks.

        One picture instead of a list is a `ConfigError`: a file name would be read letter by letter. A picture that
        cannot be read is an `ImageError` that says which one it is, and strokes beyond their canvas a `ConfigError`
        that does; a canvas size or brush width out of range is named as `predict` names it.
        """
        try:
            pictures = None if _is_one_picture(images) else list(images)
        except TypeError:  # nothing to go through: a number, say
            pictures = None
        if pictures is None:
            raise ConfigError(_not_a_list_message(images))
        steps = []
        for number, picture in enumerate(pictures, 1):
            try:
                steps.append(preprocess_steps(picture, canvas_size, brush_width))
            # The others' work is lost either way: say which picture to remove.
            except ImageError as error:
                raise ImageError(f"picture {number} of {len(pictures)}: {error}") from error
            except ConfigError as error:
                # A canvas size or brush width out of range fails every picture of strokes alike: it is named, as
                # `predict` names it. Only strokes beyond their canvas are one picture's.
                if pen_problem(canvas_size, brush_width):
                    raise
                raise ConfigError(f"picture {number} of {len(pictures)}: {error}") from error
        return [self._answer(step) for step in steps]


def _is_one_picture(images) -> bool:
    """One picture given where a list of them belongs: a file name would be read letter by letter, an array row by
    row (a grey picture, or a colour one (height, width, 3 or 4)), while a batch of arrays (N, 28, 28) is a list."""
    if isinstance(images, np.ndarray):  # channels last: grey (1), grey and alpha (2), colour (3), with alpha (4)
        return images.ndim == 2 or (images.ndim == 3 and images.shape[-1] in (1, 2, 3, 4))
    return isinstance(images, (str, bytes, bytearray, memoryview, os.PathLike, Image.Image))


def _not_a_list_message(images) -> str:
    return (f"predict_batch takes a list of pictures, not one {type(images).__name__}: for one picture use predict(), "
            "or give a list of one, such as [picture]")

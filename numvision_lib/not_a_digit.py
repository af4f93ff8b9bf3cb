"""Telling a digit from everything else: the drawings a digit model should refuse, and the check that refuses them.

A digit network has ten answers and must pick one, so it reads a letter A as a confident 4 and a smiley as a
confident 0. The pad therefore asks a second, small network first: "is this a digit at all?" It is trained with
*outlier exposure*: real digits (MNIST and UNIPEN's training writers) against real non-digits (UNIPEN's
handwritten letters of the same training writers) and drawings generated here: shapes, scribbles, several
digits side by side and scattered dots. Some shape families are kept from training (`UNSEEN_SHAPES`), to measure
how the check meets shapes nobody taught it. (A lone dot or mark is no job for a network: scaled up to the digit box
it *is* a 1; the pad refuses it by its size, see `prediction.MIN_DIGIT_EXTENT`.) Letters that are also digit shapes (O/0, I/1, l/1, S/5,
Z/2, b/6, g/9, q/9) are left out of training and reported apart: no check could or should refuse them.

Its threshold is chosen on the validation writers only, so that about `MAX_DIGITS_REJECTED` of real digits are
refused (`threshold_for`); `benchmarks/not_a_digit.py` measures it on the benchmark writers.
"""
from __future__ import annotations

import os
import reprlib
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from ._tensorflow import keras
from .data import MAX_EPOCHS, MAX_SEED, MODEL_INPUT_SHAPE, MnistData, check_seed, stratified_subset
from .drawn_digits import densify
from .errors import ConfigError, ModelFileError
from .handwriting import (AUGMENTATION_WITH_STYLES, MEASUREMENT_SEED, Augmentation, PenSample, checked_digit_samples,
                          checked_augment, concatenate, in_tablet_units, letter_split, normalise_strokes, part_digits,
                          pen_drawing, validation_digits)
from .model import (DIGIT_CHECK_OUTPUTS, check_run_outputs, checked_model, checked_output_path, load_model,
                    predict_probabilities, save_run_outputs)
from .model_card import DIGIT_CHECK_PATH, digit_check_threshold, library_versions, threshold_problem
from .paths import checked_path, sha256_of
from .prediction import DIGIT_CHECK_FILE_EXAMPLE, digit_check_not_found, digit_model_given_as_check
from .values import is_number, is_whole_number

# Letters that are written like a digit: refused or not, the answer would be defensible, so they are neither
# trained on nor allowed to move the threshold, and the benchmark reports them on their own.
LOOKALIKE_LETTERS = {"O": 0, "o": 0, "D": 0, "I": 1, "l": 1, "i": 1, "S": 5, "s": 5, "Z": 2, "z": 2, "b": 6,
                     "G": 6, "g": 9, "q": 9, "B": 8}
GENERATED_KINDS = ("shapes", "scribbles", "several_digits", "dots")
# What the check trains on: the training writers' digits and letters, MNIST digits and the generated drawings.
TRAINING_KINDS = ("digit", "mnist", "letter", *GENERATED_KINDS)
# The threshold refuses about this share of the validation writers' digits (`threshold_for`).
MAX_DIGITS_REJECTED = 0.005
MNIST_POSITIVES = 30_000
# Passes over the training drawings by default: a quick run, only to see that all works, makes one.
EPOCHS = 4
QUICK_EPOCHS = 1


# ---------------------------------------------------------------- generated drawings that are no digit

def _ellipse(cx: float, cy: float, rx: float, ry: float, start: float = 0.0, end: float = 360.0) -> np.ndarray:
    angles = np.radians(np.linspace(start, end, max(8, int(abs(end - start) / 6))))
    return np.stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)], axis=1)


def _star(points: int = 5) -> list[np.ndarray]:
    angles = np.radians(np.arange(2 * points + 1) * 180 / points - 90)
    radii = np.where(np.arange(2 * points + 1) % 2 == 0, 0.5, 0.2)
    return [densify(np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1))]


def _regular_polygon(corners: int, first_angle: float) -> np.ndarray:
    angles = np.radians(np.arange(corners + 1) * 360 / corners + first_angle)
    return densify(np.stack([0.5 * np.cos(angles), 0.5 * np.sin(angles)], axis=1))


def _heart() -> list[np.ndarray]:
    t = np.linspace(0, 2 * np.pi, 80)
    x = 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    return [np.stack([x, y], axis=1) / 34]


SHAPES = {
    "star": _star,
    "heart": _heart,
    "smiley": lambda: [_ellipse(0, 0, 0.5, 0.5), densify([(-0.18, -0.15), (-0.18, -0.1)]),
                       densify([(0.18, -0.15), (0.18, -0.1)]), _ellipse(0, 0.05, 0.28, 0.22, 20, 160)],
    "square": lambda: [densify([(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5), (-0.5, -0.5)])],
    "triangle": lambda: [densify([(0, -0.5), (0.5, 0.4), (-0.5, 0.4), (0, -0.5)])],
    "house": lambda: [densify([(-0.4, 0.5), (-0.4, -0.05), (0, -0.5), (0.4, -0.05), (0.4, 0.5), (-0.4, 0.5)]),
                      densify([(-0.1, 0.5), (-0.1, 0.2), (0.1, 0.2), (0.1, 0.5)])],
    "arrow": lambda: [densify([(-0.5, 0), (0.5, 0)]), densify([(0.25, -0.2), (0.5, 0), (0.25, 0.2)])],
    "plus": lambda: [densify([(-0.4, 0), (0.4, 0)]), densify([(0, -0.4), (0, 0.4)])],
    "hash": lambda: [densify([(-0.15, -0.5), (-0.25, 0.5)]), densify([(0.25, -0.5), (0.15, 0.5)]),
                     densify([(-0.45, -0.15), (0.45, -0.15)]), densify([(-0.45, 0.2), (0.45, 0.2)])],
    "equals": lambda: [densify([(-0.5, -0.12), (0.5, -0.12)]), densify([(-0.5, 0.12), (0.5, 0.12)])],
    "spiral": lambda: [np.stack([r * np.cos(a), r * np.sin(a)], axis=1)
                       for a in [np.linspace(0, 5 * np.pi, 120)] for r in [a / (5 * np.pi) * 0.5]],
    "wave": lambda: [np.stack([x, 0.18 * np.sin(3 * np.pi * x)], axis=1) for x in [np.linspace(-0.5, 0.5, 60)]],
    "zigzag": lambda: [densify([(-0.5, 0.2), (-0.3, -0.2), (-0.1, 0.2), (0.1, -0.2), (0.3, 0.2), (0.5, -0.2)])],
    "cloud": lambda: [np.concatenate([_ellipse(-0.28, 0.05, 0.2, 0.18, 90, 270), _ellipse(0, -0.1, 0.22, 0.22, 180, 360),
                                      _ellipse(0.28, 0.05, 0.2, 0.18, 270, 450), densify([(0.28, 0.23), (-0.28, 0.23)])])],
    "lightning": lambda: [densify([(0.1, -0.5), (-0.2, 0.05), (0.1, 0.05), (-0.1, 0.5)])],
    "check_mark": lambda: [densify([(-0.4, 0), (-0.1, 0.35), (0.45, -0.4)])],
    "sun": lambda: [_ellipse(0, 0, 0.2, 0.2)] + [
        densify([(0.28 * np.cos(a), 0.28 * np.sin(a)), (0.5 * np.cos(a), 0.5 * np.sin(a))])
        for a in np.radians(np.arange(0, 360, 45))],
}
# Shape families the check never trains on, split by family as people are split by writer: the validation
# part's are for deciding between checks, the benchmark part's measure how the check meets shapes it has never
# seen. (A check trained on ten of them as well accepted as many of the others as the check that knew none.)
UNSEEN_SHAPES = {
    "validation": {
        "diamond": lambda: [densify([(0, -0.5), (0.35, 0), (0, 0.5), (-0.35, 0), (0, -0.5)])],
        "hexagon": lambda: [_regular_polygon(6, 0.0)],
        "pentagon": lambda: [_regular_polygon(5, -90.0)],
        "tree": lambda: [densify([(0, -0.5), (0.35, 0.15), (-0.35, 0.15), (0, -0.5)]),
                         densify([(-0.07, 0.15), (-0.07, 0.5)]), densify([(0.07, 0.15), (0.07, 0.5)])],
        "fish": lambda: [_ellipse(-0.1, 0, 0.32, 0.18), densify([(0.22, 0), (0.5, -0.2), (0.5, 0.2), (0.22, 0)])],
        "flower": lambda: [_ellipse(0, 0, 0.1, 0.1)] + [_ellipse(0.27 * np.cos(a), 0.27 * np.sin(a), 0.15, 0.15)
                                                        for a in np.radians(np.arange(0, 360, 60))],
        "eye": lambda: [_ellipse(0, 0.12, 0.5, 0.3, 200, 340), _ellipse(0, -0.12, 0.5, 0.3, 20, 160),
                        _ellipse(0, 0, 0.12, 0.12)],
        "cup": lambda: [densify([(-0.3, -0.3), (-0.22, 0.4), (0.22, 0.4), (0.3, -0.3)]),
                        _ellipse(0.35, 0.02, 0.12, 0.15, -90, 90)],
        "music_note": lambda: [_ellipse(-0.15, 0.35, 0.15, 0.1), densify([(0, 0.35), (0, -0.5), (0.3, -0.3)])],
        "percent": lambda: [_ellipse(-0.25, -0.3, 0.12, 0.12), densify([(0.35, -0.45), (-0.35, 0.45)]),
                            _ellipse(0.25, 0.3, 0.12, 0.12)],
        "arrow_up": lambda: [densify([(0, 0.5), (0, -0.5)]), densify([(-0.25, -0.25), (0, -0.5), (0.25, -0.25)])],
    },
    "benchmark": {
        "envelope": lambda: [densify([(-0.5, -0.3), (0.5, -0.3), (0.5, 0.3), (-0.5, 0.3), (-0.5, -0.3)]),
                             densify([(-0.5, -0.3), (0, 0.05), (0.5, -0.3)])],
        "umbrella": lambda: [_ellipse(0, 0, 0.5, 0.4, 180, 360), densify([(-0.5, 0), (0.5, 0)]),
                             np.concatenate([densify([(0, 0), (0, 0.4)]), _ellipse(-0.08, 0.4, 0.08, 0.08, 0, 180)])],
        "hourglass": lambda: [densify([(-0.35, -0.5), (0.35, -0.5), (-0.35, 0.5), (0.35, 0.5), (-0.35, -0.5)])],
        "question_mark": lambda: [np.concatenate([_ellipse(0, -0.22, 0.25, 0.25, 180, 400),
                                                  densify([(0.1, 0), (0, 0.2)])]),
                                  densify([(0, 0.45), (0, 0.48)])],
        "crown": lambda: [densify([(-0.45, 0.3), (-0.45, -0.3), (-0.2, 0), (0, -0.4), (0.2, 0), (0.45, -0.3),
                                   (0.45, 0.3), (-0.45, 0.3)])],
        "moon": lambda: [np.concatenate([_ellipse(0, 0, 0.45, 0.45, 60, 300),
                                         _ellipse(0.25, 0, 0.38, 0.42, 235, 125)])],
        "stick_figure": lambda: [_ellipse(0, -0.37, 0.13, 0.13), densify([(0, -0.24), (0, 0.15)]),
                                 densify([(-0.3, -0.1), (0.3, -0.1)]),
                                 densify([(-0.25, 0.5), (0, 0.15), (0.25, 0.5)])],
        "infinity": lambda: [np.stack([np.cos(t), np.sin(t) * np.cos(t)], axis=1) * 0.5 / (1 + np.sin(t)[:, None] ** 2)
                             for t in [np.linspace(0, 2 * np.pi, 100)]],
        "cat_face": lambda: [_ellipse(0, 0.1, 0.4, 0.35), densify([(-0.35, -0.05), (-0.3, -0.5), (-0.1, -0.22)]),
                             densify([(0.35, -0.05), (0.3, -0.5), (0.1, -0.22)]),
                             densify([(-0.15, 0.05), (-0.15, 0.08)]), densify([(0.15, 0.05), (0.15, 0.08)])],
        "at_sign": lambda: [_ellipse(0.02, 0.02, 0.15, 0.17),
                            np.concatenate([densify([(0.17, -0.17), (0.17, 0.12), (0.3, 0.2)]),
                                            _ellipse(0, 0, 0.45, 0.45, 25, -300)])],
        "dollar": lambda: [np.concatenate([_ellipse(0, -0.2, 0.22, 0.2, -20, -270),
                                           _ellipse(0, 0.2, 0.22, 0.2, -90, 160)]),
                           densify([(0, -0.55), (0, 0.55)])],
    },
}


def _varied(strokes: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    # A figure as a hand draws it each time: turned, stretched and slanted a little. Without this every drawing of a
    # family had the same strokes, so the same random changes too (`PenSample.key` seeds them): 600 "different"
    # shapes were 17 drawings.
    angle = np.deg2rad(np.clip(rng.normal(0, 10), -25, 25))
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    transform = turn @ np.array([[1, rng.normal(0, 0.12)], [0, 1]]) @ np.diag(rng.uniform(0.8, 1.2, size=2))
    return [np.asarray(stroke) @ transform.T for stroke in strokes]


def _scribble(rng: np.random.Generator) -> list[np.ndarray]:
    # A tangle: a smooth curve through many random points of the box.
    anchors = rng.uniform(-0.5, 0.5, size=(int(rng.integers(8, 18)), 2))
    positions = np.linspace(0, len(anchors) - 1, 30 * len(anchors))
    curve = np.stack([np.interp(positions, np.arange(len(anchors)), anchors[:, axis]) for axis in (0, 1)], axis=1)
    kernel = np.ones(9) / 9
    return [np.stack([np.convolve(curve[:, axis], kernel, mode="valid") for axis in (0, 1)], axis=1)]


def _dots(rng: np.random.Generator) -> list[np.ndarray]:
    return [point[None, :] for point in rng.uniform(-0.5, 0.5, size=(int(rng.integers(6, 30)), 2))]


def _several_digits(rng: np.random.Generator, digits: Sequence[PenSample]) -> list[np.ndarray]:
    count = int(rng.integers(2, 4))
    strokes, x = [], 0.0
    for sample in (digits[int(index)] for index in rng.integers(0, len(digits), count)):
        normalised = normalise_strokes(sample.strokes)
        width = np.ptp(np.concatenate(normalised)[:, 0])
        strokes += [stroke + np.array([x + width / 2, rng.normal(0, 0.05)]) for stroke in normalised]
        x += width + rng.uniform(0.1, 0.35)
    return strokes


def _not_a_count(what: str, value) -> str:
    return f"{what}: a whole number, 1 or more, not {value!r}"


def generated_non_digits(kind: str, count: int, seed: int, digits: Sequence[PenSample] = (),
                         shapes: Mapping[str, Callable[[], list[np.ndarray]]] = SHAPES) -> list[PenSample]:
    """`count` pen drawings of one `GENERATED_KINDS` kind, deterministic for `seed`; "several_digits" combines
    samples of `digits` (take them from the right writers: the training writers' for training), "shapes" takes
    turns through the families of `shapes` (those the check trains on, or a part's `UNSEEN_SHAPES`), each drawing
    turned, stretched and slanted a little."""
    if kind not in GENERATED_KINDS:
        raise ConfigError(f"unknown kind of drawing {kind!r}; choose one of: {', '.join(GENERATED_KINDS)}")
    # range() would take -1 as no drawings, and fail on 2.5 or None with a TypeError of its own.
    if not (is_whole_number(count) and count >= 1):
        raise ConfigError(_not_a_count("count is how many drawings to generate", count))
    check_seed(seed)
    if kind == "several_digits":
        # No default set of digits: which writers' digits to combine depends on what the drawings are for.
        if not (isinstance(digits, Sequence) and len(digits)):
            raise ConfigError("\"several_digits\" combines digits written by people: pass them as digits=..., e.g. "
                              f"handwriting.digit_split()[\"train\"] for training, not {reprlib.repr(digits)}")
        # Anything else failed deep in the drawing with an AttributeError, and letters were combined into "several
        # digits" without a word.
        try:
            digits = checked_digit_samples(digits, "digits")
        except ConfigError as error:
            raise ConfigError(f"\"several_digits\" combines the digits passed as digits=...: {error}") from None
    # Drawings take turns through the families: with none, there is nothing to take turns through.
    if kind == "shapes" and not (isinstance(shapes, Mapping) and len(shapes)):
        raise ConfigError("no shape families to draw: pass shapes as {name: function that returns strokes}, e.g. "
                          f"SHAPES (those the check trains on) or UNSEEN_SHAPES[\"validation\"], not "
                          f"{reprlib.repr(shapes)}")
    rng = np.random.default_rng([seed, zlib.crc32(kind.encode())])
    drawings = []
    for index in range(count):
        if kind == "shapes":
            name = list(shapes)[index % len(shapes)]
            strokes = _varied(shapes[name](), rng)
        elif kind == "scribbles":
            name, strokes = "scribble", _scribble(rng)
        elif kind == "several_digits":
            name, strokes = "several digits", _several_digits(rng, digits)
        else:
            name, strokes = "dots", _dots(rng)
        drawings.append(PenSample(f"{kind}:{name}", f"generated/{kind}-{index}", "generated",
                                  in_tablet_units(strokes)))
    return drawings


# ---------------------------------------------------------------- the examples

@dataclass(frozen=True, eq=False)
class CheckExamples:
    """Model inputs with whether each is a digit (1) or not (0), and what kind of drawing it is."""

    inputs: np.ndarray  # (N, 28, 28) float32
    is_digit: np.ndarray  # (N,) int
    kinds: np.ndarray  # (N,) str: "digit", "mnist", "letter", "lookalike" or a GENERATED_KINDS kind
    labels: np.ndarray  # (N,) str: the digit, the letter or the generated drawing's name


def _draw(samples: Sequence[PenSample], kind: str, is_digit: int, seed: int, augment: bool | Augmentation,
          rendering: str = "pen_20", copies: int = 1) -> CheckExamples:
    inputs = np.empty((len(samples) * copies, *MODEL_INPUT_SHAPE[:2]), dtype=np.float32)
    for row, (sample, copy) in enumerate((sample, copy) for sample in samples for copy in range(copies)):
        drawing = (pen_drawing(sample, augment=augment, seed=seed, copy=copy) if augment
                   else pen_drawing(sample, rendering, seed=seed))
        inputs[row] = drawing.model_input()
    labels = np.repeat(np.array([sample.label for sample in samples], dtype=str), copies)
    return CheckExamples(inputs, np.full(len(inputs), is_digit), np.full(len(inputs), kind), labels)


def letters_by_kind(samples: Sequence[PenSample]) -> tuple[list[PenSample], list[PenSample]]:
    """(letters that are no digit shape, lookalike letters)."""
    return ([sample for sample in samples if sample.label not in LOOKALIKE_LETTERS],
            [sample for sample in samples if sample.label in LOOKALIKE_LETTERS])


def check_examples(part: str, seed: int = 42, per_kind: int | None = None, augment: bool | Augmentation = False,
                   data_dir: str | os.PathLike | None = None, copies: int = 1) -> CheckExamples:
    """Digits and non-digits of one writer part ("train", "validation" or "benchmark") of UNIPEN, plus generated
    drawings (their own seed per part). `per_kind` caps each kind (quick runs); `augment` draws for training (True:
    `handwriting.AUGMENTATION`, or the `Augmentation` given for the letters and digits), `copies` differently drawn
    copies of every letter and digit."""
    check_seed(seed)
    # A slice would take 0 as no cap and -5 as "all but the last 5"; range() 0 copies as no letters or digits at all.
    if not (per_kind is None or (is_whole_number(per_kind) and per_kind >= 1)):
        raise ConfigError(_not_a_count("per_kind caps the drawings of each kind (None: no cap)", per_kind))
    if not (is_whole_number(copies) and copies >= 1):
        raise ConfigError(_not_a_count("copies is how many times each letter and digit is drawn", copies))
    checked_augment(augment)
    digits = part_digits(part, data_dir, None if per_kind is None else max(1, per_kind // 10))
    letters, lookalikes = letters_by_kind(letter_split(data_dir)[part])
    if per_kind is not None:
        letters, lookalikes = letters[:per_kind], lookalikes[:per_kind // 4]
    generated_count = per_kind or max(300, copies * len(letters) // 6)
    # Wrapped round: the seeds the generated drawings take end at MAX_SEED, as `seed` does.
    part_seed = (seed + {"train": 0, "validation": 1, "benchmark": 2}[part]) % (MAX_SEED + 1)
    parts = [_draw(digits, "digit", 1, seed, augment, copies=copies),
             _draw(letters, "letter", 0, seed, augment, copies=copies)]
    generated = {kind: generated_non_digits(kind, generated_count, part_seed, digits) for kind in GENERATED_KINDS}
    if part != "train":
        parts.append(_draw(lookalikes, "lookalike", 0, seed, augment))
        generated["unseen_shapes"] = generated_non_digits("shapes", generated_count, part_seed,
                                                          shapes=UNSEEN_SHAPES[part])
    for kind, drawings in generated.items():
        # Half drawn with random changes, half as neatly as the named renderings draw them: a neat heart or
        # cloud was read as a 0 when the check had only seen warped ones.
        parts.append(_draw(drawings[::2], kind, 0, seed, augment=True))
        parts.append(_draw(drawings[1::2], kind, 0, seed, augment=False))
    return concatenate(parts)


def example_letters(letters: str, data_dir: str | os.PathLike | None = None) -> list:
    """One handwritten example of each of `letters`, by a benchmark writer, as the pad's strokes (280-pixel canvas,
    20-pixel pen): for showing what a digit model makes of a letter."""
    # Before the letters are read: a list or None would fail there with a TypeError of its own.
    if not (isinstance(letters, str) and letters):
        raise ConfigError(f"letters is a string of the letters to show, such as \"AHKM\", not {letters!r}")
    by_label = {}
    for sample in letter_split(data_dir)["benchmark"]:
        by_label.setdefault(sample.label, sample)
    missing = [letter for letter in dict.fromkeys(letters) if letter not in by_label]
    if missing:  # quoted: a space or a comma in the string is no letter either
        raise ConfigError(f"no handwritten example of {', '.join(map(repr, missing))}: choose letters A-Z or a-z")
    return [[list(stroke) for stroke in pen_drawing(by_label[letter], "pen_20", seed=MEASUREMENT_SEED).strokes]
            for letter in letters]


# ---------------------------------------------------------------- the check

def build_digit_check() -> keras.Model:
    """A small CNN: the probability that a 28x28 model input shows a digit at all.

    Its own network rather than a head on the digit model's features: a head on the frozen features of the pad's
    model, trained on the same drawings, accepted as many letters and far more shapes and digit pairs.
    """
    inputs = keras.Input(shape=MODEL_INPUT_SHAPE, name="image")
    x = inputs
    for filters in (32, 64, 128):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(128, 3, padding="same", activation="relu")(x))
    x = keras.layers.Dropout(0.5)(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", dtype="float32", name="is_digit")(x)
    return keras.Model(inputs, outputs, name="digit_check")


def digit_scores(model: keras.Model, inputs: np.ndarray) -> np.ndarray:
    """The check's score of each model input: the probability that it shows a digit."""
    return predict_probabilities(checked_model(model, "digit_scores", DIGIT_CHECK_OUTPUTS), inputs)[:, 0]


def threshold_for(digit_scores_: np.ndarray, max_rejected: float = MAX_DIGITS_REJECTED) -> float:
    """The `max_rejected` quantile of these digits' scores (NumPy's, interpolated; to six decimals): a threshold
    that refuses about that share of them, give or take a digit (of the 5,590 validation drawings, 28 for 0.005).
    The shipped check's threshold was chosen so; another rule would make the command give another check than the
    shipped one."""
    # A share outside [0, 1] (or NaN) is no share of the digits; NumPy's message names neither.
    if not (is_number(max_rejected) and 0 <= max_rejected <= 1):
        raise ConfigError(f"max_rejected is the share of real digits the check may refuse, from 0 to 1 (e.g. "
                          f"{MAX_DIGITS_REJECTED} for half a per cent), not {max_rejected!r}")
    try:
        scores = np.asarray(digit_scores_)
    except ValueError:  # rows of different lengths: NumPy's "inhomogeneous shape" says nothing of scores
        raise ConfigError(_not_digit_scores(reprlib.repr(digit_scores_))) from None
    if scores.dtype.kind not in "iuf":  # None, strings, True/False: NumPy's message would not say what is wanted
        raise ConfigError(_not_digit_scores(reprlib.repr(digit_scores_)))
    if not scores.size:
        raise ConfigError("no digit scores to choose a threshold from: give the check's scores of real digits "
                          "(digit_scores(model, inputs)), the threshold refuses a share of those")
    # NaN scores come from a network whose training diverged; the quantile would be NaN, a threshold refusing all.
    if not np.all(np.isfinite(scores)):
        raise ConfigError(f"{scores.size - np.isfinite(scores).sum()} of the digit scores are not "
                          "numbers (NaN): the check's training diverged. Train it again, with a lower --learning-rate "
                          "if it happens twice")
    # A quantile of anything else would be a threshold no score of the check can be compared with.
    outside = (scores < 0) | (scores > 1)
    if outside.any():
        raise ConfigError(_not_digit_scores(f"{outside.sum()} outside 0-1 (from {scores.min():g} to {scores.max():g})"))
    return round(float(np.quantile(scores, max_rejected)), 6)


def _not_digit_scores(found: str) -> str:
    return ("a threshold is chosen from the check's scores of real digits (digit_scores(model, inputs)): each the "
            f"probability that a drawing is a digit, a number from 0 to 1; found {found}")


@dataclass(frozen=True)
class DigitCheck:
    """The check's network and its threshold: a drawing whose score is below it is not a digit."""

    model: keras.Model
    threshold: float

    def __post_init__(self) -> None:
        # A digit model's first output, P(digit 0), read as the check's score refuses most digits; a threshold
        # outside 0-1 (or NaN) refuses every drawing or none.
        checked_model(self.model, "DigitCheck", DIGIT_CHECK_OUTPUTS)
        if problem := threshold_problem(self.threshold):
            raise ConfigError(f"{problem}: a drawing scoring below it is refused. threshold_for(digit_scores(model, "
                              "inputs)) chooses one from real digits' scores")

    @classmethod
    def load(cls, path: str | os.PathLike = DIGIT_CHECK_PATH) -> "DigitCheck":
        path = checked_path(path, DIGIT_CHECK_FILE_EXAMPLE)
        # A mistyped name, as the predictors say (`load_model` would say to train it again). The shipped check's own
        # path keeps load_model's advice: restore it from git.
        if not path.exists() and path.resolve() != DIGIT_CHECK_PATH.resolve():
            raise ModelFileError(digit_check_not_found(path))
        model = load_model(path)
        # First: a digit model's card, having no threshold, would be called damaged.
        if model.output_shape[-1] != DIGIT_CHECK_OUTPUTS:
            raise ModelFileError(digit_model_given_as_check(path))
        return cls(model, digit_check_threshold(path))

    def refuses(self, inputs: np.ndarray) -> np.ndarray:
        """For each model input, whether the check says it is not a digit."""
        return digit_scores(self.model, inputs) < self.threshold


def checked_kind_weights(kind_weights: Mapping[str, float] | None) -> dict[str, float]:
    """`train_digit_check`'s `kind_weights` as a dict, or a `ConfigError` for an unknown kind or a factor not above
    0 (the command line asks before it loads any data)."""
    # dict() would split a string into letters, or fail on it with a ValueError that names no setting.
    if not (kind_weights is None or isinstance(kind_weights, Mapping)):
        raise ConfigError(f"kind_weights is a dict of kinds and factors, e.g. {{\"scribbles\": 3}}, not "
                          f"{kind_weights!r}")
    kind_weights = dict(kind_weights or {})
    # Numbers only: a string such as "3" cannot be compared with 0, and an infinite factor makes the loss NaN.
    factors_fine = all(is_number(factor) and factor > 0 for factor in kind_weights.values())
    if not set(kind_weights) <= set(TRAINING_KINDS) or not factors_fine:
        raise ConfigError(f"kind_weights {kind_weights}: each kind must be one of {', '.join(TRAINING_KINDS)} "
                          "and each factor a number above 0")
    # As floats, as the command line gives them: a NumPy integer could not be written to the card's JSON.
    return {kind: float(factor) for kind, factor in kind_weights.items()}


def checked_run_settings(output: str | os.PathLike, learning_rate: float, kind_weights: Mapping[str, float] | None,
                         epochs: int | None, seed: int) -> tuple[Path, dict[str, float]]:
    """`train_digit_check`'s settings that the run would find wrong only at its end, or never, checked before any
    data is read: the output (`model.checked_output_path`), the learning rate (at 0 nothing is trained, and the
    untrained check would replace the pad's), `checked_kind_weights`, the epochs (None: the run's default), the seed,
    and last (it may make the output's folder) the check and card the run writes (`model.check_run_outputs`: files
    that can be replaced, and no digit model among them). Returns the output and the weights."""
    output = checked_output_path(output)
    if not (is_number(learning_rate) and 0 < learning_rate < 1):
        raise ConfigError(f"the learning rate must be a number between 0 and 1 (1e-3 for a new check, 1e-4 to train "
                          f"on from one), not {learning_rate!r}")
    if not (epochs is None or (is_whole_number(epochs) and 1 <= epochs <= MAX_EPOCHS)):
        raise ConfigError(f"epochs must be a whole number from 1 to {MAX_EPOCHS:,}, not {epochs!r}")
    check_seed(seed)
    kind_weights = checked_kind_weights(kind_weights)
    check_run_outputs(output, "the digit check", DIGIT_CHECK_OUTPUTS)
    return output, kind_weights


def checked_continue_from(continue_from: str | os.PathLike) -> keras.Model:
    """The saved check that `train_digit_check` trains on from, loaded and checked before any data is read: a digit
    model would fail at the first step of training, minutes later."""
    return checked_model(load_model(continue_from), "continue_from", DIGIT_CHECK_OUTPUTS)


def train_digit_check(mnist: MnistData, output: str | os.PathLike = DIGIT_CHECK_PATH, epochs: int | None = None,
                      seed: int = 42, quick: bool = False, data_dir: str | os.PathLike | None = None,
                      verbose: int = 2, handwriting_styles: bool = False,
                      continue_from: str | os.PathLike | None = None, learning_rate: float = 1e-3,
                      kind_weights: Mapping[str, float] | None = None) -> dict:
    """Train the check, choose its threshold on the validation writers, and save it with a card; returns the card.

    `handwriting_styles` draws the training digits with `handwriting.AUGMENTATION_WITH_STYLES` (1s with a long
    flag, slashed 0s) so that the check learns that those are digits too. `continue_from` trains on from a saved
    check instead of a new network (with a small `learning_rate`, it keeps what that check learnt and adds what the
    training drawings now hold); its threshold is chosen again. `kind_weights` makes the training drawings of some
    kinds count more (or less), e.g. {"scribbles": 3}: a kind that a continued run would otherwise let slip.
    `epochs` passes over the training drawings: by default 4, or 1 for a `quick` run, which otherwise only takes
    fewer drawings.
    """
    output, kind_weights = checked_run_settings(output, learning_rate, kind_weights, epochs, seed)
    epochs = (QUICK_EPOCHS if quick else EPOCHS) if epochs is None else epochs
    starting_check = None
    if continue_from is not None:
        # Read before anything is trained or written: `output` may be the same file.
        continue_from = checked_path(continue_from, DIGIT_CHECK_FILE_EXAMPLE)
        model = checked_continue_from(continue_from)
        starting_check = {"file": Path(continue_from).name, "sha256": sha256_of(continue_from)}
    keras.utils.set_random_seed(seed)
    per_kind = 150 if quick else None
    augment = AUGMENTATION_WITH_STYLES if handwriting_styles else True
    training = check_examples("train", seed, per_kind, augment=augment, data_dir=data_dir, copies=1 if quick else 3)
    validation = check_examples("validation", seed, per_kind, data_dir=data_dir)
    mnist_images, _ = stratified_subset(mnist.x_train, mnist.y_train, 1000 if quick else MNIST_POSITIVES, seed)
    inputs = np.concatenate([training.inputs, mnist_images.astype(np.float32) / 255])
    targets = np.concatenate([training.is_digit, np.ones(len(mnist_images), dtype=int)])
    kinds = np.concatenate([training.kinds, np.full(len(mnist_images), "mnist")])
    # Digits and non-digits count the same, however many of each there are; then the kinds asked to count more.
    weights = {value: len(targets) / (2 * np.count_nonzero(targets == value)) for value in (0, 1)}
    sample_weights = np.where(targets == 1, weights[1], weights[0])
    for kind, factor in kind_weights.items():
        sample_weights[kinds == kind] *= factor
    if starting_check is None:
        model = build_digit_check()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy", metrics=["accuracy"])
    started = time.perf_counter()
    model.fit(inputs[..., None], targets, batch_size=128, epochs=epochs, sample_weight=sample_weights,
              validation_data=(validation.inputs[..., None], validation.is_digit), shuffle=True, verbose=verbose)
    train_seconds = time.perf_counter() - started
    # The validation writers' digits in every named rendering: no more of these may be refused than allowed.
    all_renderings = (validation_digits(data_dir).model_inputs if not quick
                      else validation.inputs[validation.is_digit == 1])
    threshold = threshold_for(digit_scores(model, all_renderings))
    accepted = ~DigitCheck(model, threshold).refuses(validation.inputs)
    card = {
        "threshold": threshold,
        "max_digits_rejected": MAX_DIGITS_REJECTED, "quick": quick, "epochs": epochs, "seed": seed,
        "handwriting_styles": handwriting_styles, "learning_rate": learning_rate, "continued_from": starting_check,
        "kind_weights": kind_weights,
        "train_seconds": round(train_seconds, 1),
        "data": {"train_examples": int(len(inputs)), "mnist_digits": int(len(mnist_images)),
                 "split": "UNIPEN by writer (handwriting.digit_split / letter_split): training writers train, "
                          "validation writers choose the threshold, benchmark writers are never used",
                 "lookalike_letters_left_out": "".join(sorted(LOOKALIKE_LETTERS))},
        "validation": {str(kind): round(float(accepted[validation.kinds == kind].mean()), 6)
                       for kind in dict.fromkeys(validation.kinds)},
        "versions": library_versions(),
    }
    save_run_outputs(model, card, None, output)
    return card

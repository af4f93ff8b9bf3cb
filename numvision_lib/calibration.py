"""Confidence that means what it says: temperature scaling, and how to measure calibration.

A network trained to minimise cross-entropy tends to be overconfident: of the answers it gives with 99%, fewer
than 99 in 100 are right. Temperature scaling divides the network's log-probabilities by one number T, fitted
on validation data (never on the test or benchmark set) to make the probabilities as likely as possible: T > 1
softens overconfident answers, T < 1 sharpens timid ones, and the most probable digit never changes (the result
is kept in float64, where two probabilities that a network's float32 tells apart stay apart).

Expected calibration error (ECE) sorts the answers into bins by confidence and averages, weighted by the bins'
sizes, how far each bin's accuracy is from its mean confidence: 0 for a perfectly calibrated model.
"""
from __future__ import annotations

import reprlib
from dataclasses import dataclass

import numpy as np
from scipy.special import log_softmax, softmax

from .data import checked_labels
from .errors import ConfigError
from .values import is_number, is_whole_number

CALIBRATION_BINS = 15
# The temperatures searched: far beyond what any sensible network needs on either side.
TEMPERATURE_RANGE = (0.05, 20.0)
# Probabilities are floored before their logarithm: a softmax output can round to exactly zero.
SMALLEST_PROBABILITY = 1e-12
# The cross-entropy floors each answer's probability of its true class here, as Keras' own loss does (its epsilon): so
# the loss `evaluation.evaluate` reports is the one training showed. The temperature is fitted without the floor: a
# mistake floored there costs the same at every temperature, and answers whose mistakes all gave their true class less
# were sharpened without limit (SMALLEST_PROBABILITY keeps the unfloored loss finite).
LOSS_FLOOR = 1e-7
# How far a row of probabilities may sum from 1: float32 softmax outputs, averaged over readings, are well within.
PROBABILITY_SUM_TOLERANCE = 1e-3
# The fewest answers a temperature is fitted on: fitted on a handful it follows their luck (one answer 80% sure and
# wrong gave 5.47, which turned every later 99.9% answer into 37%).
MIN_FIT_ANSWERS = 100
# What no answers at all are told, however they were given.
NO_ANSWERS = "answers: give the probabilities and label of at least one"


def _log_probabilities(probabilities: np.ndarray) -> np.ndarray:
    return np.log(np.clip(np.asarray(probabilities, dtype=np.float64), SMALLEST_PROBABILITY, 1.0))


def check_temperature(temperature) -> None:
    """A ConfigError unless `temperature` is a positive number: NaN would turn every probability into NaN, and
    infinity make all answers equal."""
    if not (is_number(temperature) and temperature > 0):
        raise ConfigError(f"a temperature must be a positive number (above 1 softens, below 1 sharpens), "
                          f"got {temperature!r}")


def apply_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """The probabilities (N, classes) or (classes,) after dividing their logarithms by `temperature`: a new float64
    array, in the same order as before. Float64 because float32 would round two probabilities a float32 step apart
    (0.49999997 and 0.5) to one number, and argmax would then take the lower digit."""
    check_temperature(temperature)
    probabilities = checked_probabilities(probabilities)
    if temperature == 1.0:
        return probabilities.astype(np.float64)
    return softmax(_log_probabilities(probabilities) / temperature, axis=-1)


def _true_class_log_probabilities(log_probabilities: np.ndarray, labels: np.ndarray, temperature: float) -> np.ndarray:
    return log_softmax(log_probabilities / temperature, axis=-1)[np.arange(len(labels)), labels]


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    """Mean cross-entropy of the true labels after `temperature`, each probability floored at LOSS_FLOOR: the
    model's loss, as Keras and `evaluation.evaluate` give it."""
    check_temperature(temperature)
    probabilities, labels = _checked_answers(probabilities, labels)
    true_class = _true_class_log_probabilities(_log_probabilities(probabilities), labels, temperature)
    return float(-np.maximum(true_class, np.log(LOSS_FLOOR)).mean())


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the cross-entropy of `labels` (not floored at LOSS_FLOOR): fit it on validation
    data only, at least MIN_FIT_ANSWERS answers.

    Answers whose cross-entropy is lowest at an edge of `TEMPERATURE_RANGE` have no such temperature (all of them
    right, say: then the sharper the better), which is a ConfigError saying so."""
    probabilities, labels = _checked_answers(probabilities, labels)
    if len(labels) < MIN_FIT_ANSWERS:
        raise ConfigError(_too_few_answers(len(labels)))
    # Imported here: the drawing pad's kernel needs `apply_temperature` only, and scipy.optimize would add memory
    # and start-up time to every student's kernel (benchmarks/light_kernel.py measures that kernel).
    from scipy.optimize import minimize_scalar

    # Checked and taken to logarithms once: the optimiser tries dozens of temperatures on the same answers.
    log_probabilities = _log_probabilities(probabilities)

    def cross_entropy(temperature: float) -> float:
        return float(-_true_class_log_probabilities(log_probabilities, labels, temperature).mean())

    result = minimize_scalar(cross_entropy, bounds=TEMPERATURE_RANGE, method="bounded", options={"xatol": 1e-4})
    # The bounded search stops near an edge it cannot pass; a temperature found there would turn every later
    # 60% answer into 100% (or every answer into a shrug), and the pad would show it.
    for edge in TEMPERATURE_RANGE:
        if cross_entropy(edge) <= result.fun:
            raise ConfigError(_no_best_temperature(edge, int((probabilities.argmax(axis=1) == labels).sum()),
                                                   len(labels)))
    return round(float(result.x), 4)


def _too_few_answers(answers: int) -> str:
    return (f"fit the temperature on at least {MIN_FIT_ANSWERS} validation answers, enough that some are wrong, not "
            f"{answers}: fitted on so few, it follows their luck")


def _no_best_temperature(edge: float, right: int, answers: int) -> str:
    low, high = TEMPERATURE_RANGE
    message = (f"these answers have no best temperature between {low} and {high}: their cross-entropy is lowest at "
               f"{edge}, the edge of that range ({right:,} of {answers:,} answers right")
    if right == answers:
        return message + (", so sharpening them only ever helps). Fit it on more validation answers, enough that "
                          "some are wrong: a temperature fitted on none would make every later mistake look certain")
    # With some answers wrong, the cross-entropy is lowest at an edge only for answers that tell the classes apart no
    # better than chance: rows all alike, or the labels of other answers.
    return message + ("): the answers are no better than guesses. Train the model first if it has learned nothing "
                      "yet; else check that the labels are those of these answers, in the same order")


@dataclass(frozen=True)
class ReliabilityCurve:
    """Per confidence bin: the answers' mean confidence, their accuracy and how many fell in it."""

    confidence: np.ndarray  # (bins,) NaN for an empty bin
    accuracy: np.ndarray  # (bins,) NaN for an empty bin
    counts: np.ndarray  # (bins,)

    @property
    def expected_calibration_error(self) -> float:
        filled = self.counts > 0
        weights = self.counts[filled] / self.counts.sum()
        return float(np.sum(weights * np.abs(self.accuracy[filled] - self.confidence[filled])))


def _not_numbers(probabilities: np.ndarray) -> str:
    given = (repr(probabilities.item()) if probabilities.ndim == 0
             else f"{probabilities.dtype} values such as {probabilities.ravel()[:3].tolist()}")
    return f"give the probabilities as numbers, a row of them per answer (the model's softmax output), not {given}"


def _ragged_rows(probabilities) -> str:
    return (f"give the probabilities as rows of the same length, one per answer (the model's softmax output); these "
            f"rows are not all of one length: {reprlib.repr(probabilities)}")


def _not_probabilities(probabilities: np.ndarray, wrong_rows: np.ndarray) -> str:
    first = tuple(np.argwhere(wrong_rows)[0])
    row = probabilities[first].astype(np.float64)
    where = f"row {', '.join(map(str, first))}" if first else "the row"
    # Shortened: a row of 10,000 numbers filled the notebook.
    shown = reprlib.repr(np.round(row, 4).tolist())
    # Before the logits: a diverged model's NaN, met by the pad on a drawing, sent the student looking for a softmax.
    if np.isnan(row).any():
        return (f"these answers hold NaN ({where} is {shown}), which a model answers when its training went wrong "
                "(diverged): train it again")
    message = f"these are not probabilities (each row 0 or more, summing to 1): {where} is {shown}. "
    # Percentages would pass once divided by 100; "not logits" sent the student looking for a softmax.
    if (row >= 0).all() and abs(row.sum() / 100 - 1) <= PROBABILITY_SUM_TOLERANCE:
        return message + "Rows summing to 100 are percentages: divide them by 100"
    return message + "Pass probabilities (softmax), not logits"


def _not_rows(probabilities: np.ndarray) -> str:
    if not probabilities.size:  # an empty list, from a filter that kept nothing, say: nothing was swapped
        return f"no {NO_ANSWERS}"
    message = (f"give the probabilities as rows, one per answer (N, classes), not an array of shape "
               f"{probabilities.shape}")
    # One long row is what labels given first look like.
    return message + (": the probabilities come first, then their labels" if probabilities.ndim == 1 else "")


def checked_probabilities(probabilities, rows: bool = False) -> np.ndarray:
    """`probabilities` as an array of rows of probabilities (along its last axis), or a ConfigError: logits or a
    network's NaN would come out of the temperature as other numbers, and into the calibration as figures, that
    look like probabilities and are not. `rows`: an (N, classes) array only, one row per answer."""
    try:
        probabilities = np.asarray(probabilities)
    except ValueError:  # NumPy's "inhomogeneous shape" names neither the probabilities nor what to give
        raise ConfigError(_ragged_rows(probabilities)) from None
    if probabilities.ndim == 0 or probabilities.dtype.kind not in "biuf":
        raise ConfigError(_not_numbers(probabilities))
    # Before the sums: labels given first were read as one row of probabilities, and blamed as logits.
    if rows and probabilities.ndim != 2:
        raise ConfigError(_not_rows(probabilities))
    sums = probabilities.sum(axis=-1, dtype=np.float64)
    # Compared so that NaN fails too.
    wrong_rows = ~((probabilities >= 0).all(axis=-1) & (np.abs(sums - 1) <= PROBABILITY_SUM_TOLERANCE))
    if wrong_rows.any():
        raise ConfigError(_not_probabilities(probabilities, wrong_rows))
    return probabilities


def _checked_answers(probabilities, labels) -> tuple[np.ndarray, np.ndarray]:
    """(N, classes) rows of probabilities and their N labels as digits, or a ConfigError: the calibration or the
    temperature of anything else is a number that looks meaningful and is not (0, "perfect", for no answers)."""
    probabilities = checked_probabilities(probabilities, rows=True)
    labels = checked_labels(labels, len(probabilities), NO_ANSWERS)
    classes = probabilities.shape[1]
    if labels.max() >= classes:
        raise ConfigError(f"each label is the column of its answer's right class, but these rows hold {classes} "
                          f"classes (0 to {classes - 1}) and the labels go up to {labels.max()}")
    return probabilities, labels


def reliability_curve(probabilities: np.ndarray, labels: np.ndarray, bins: int = CALIBRATION_BINS) -> ReliabilityCurve:
    if not (is_whole_number(bins) and bins >= 1):
        raise ConfigError(f"bins is how many groups of confidence to sort the answers into: a whole number, 1 or "
                          f"more (the default is {CALIBRATION_BINS}), not {bins!r}")
    probabilities, labels = _checked_answers(probabilities, labels)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    # Bins are (low, high]; a confidence of exactly 1.0 belongs in the last one.
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    counts = np.bincount(index, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(index, weights=confidence, minlength=bins) / counts
        accuracy = np.bincount(index, weights=correct.astype(np.float64), minlength=bins) / counts
    return ReliabilityCurve(mean_confidence, accuracy, counts)


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    return reliability_curve(probabilities, labels, bins).expected_calibration_error

"""Confidence that means what it says: temperature scaling, and how to measure calibration.

A network trained to minimise cross-entropy tends to be overconfident: of the answers it gives with 99%, fewer
than 99 in 100 are right. Temperature scaling divides the network's log-probabilities by one number T, fitted
on validation data (never on the test or benchmark set) to make the probabilities as likely as possible: T > 1
softens overconfident answers, T < 1 sharpens timid ones, and the most probable digit never changes.

Expected calibration error (ECE) sorts the answers into bins by confidence and averages, weighted by the bins'
sizes, how far each bin's accuracy is from its mean confidence: 0 for a perfectly calibrated model.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import log_softmax, softmax

from .errors import ConfigError
from .values import is_number

CALIBRATION_BINS = 15
# The temperatures searched: far beyond what any sensible network needs on either side.
TEMPERATURE_RANGE = (0.05, 20.0)
# Probabilities are floored before their logarithm: a softmax output can round to exactly zero.
SMALLEST_PROBABILITY = 1e-12
# How far a row of probabilities may sum from 1: float32 softmax outputs, averaged over readings, are well within.
PROBABILITY_SUM_TOLERANCE = 1e-3


def _log_probabilities(probabilities: np.ndarray) -> np.ndarray:
    return np.log(np.clip(np.asarray(probabilities, dtype=np.float64), SMALLEST_PROBABILITY, 1.0))


def apply_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """The probabilities (N, classes) or (classes,) after dividing their logarithms by `temperature`."""
    # NaN would turn every probability into NaN, and infinity make all answers equal.
    if not (is_number(temperature) and temperature > 0):
        raise ConfigError(f"a temperature must be a positive number (above 1 softens, below 1 sharpens), "
                          f"got {temperature!r}")
    if temperature == 1.0:
        return np.asarray(probabilities)
    return softmax(_log_probabilities(probabilities) / temperature, axis=-1).astype(np.float32)


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    """Mean cross-entropy of the true labels after `temperature`."""
    log_probabilities = log_softmax(_log_probabilities(probabilities) / temperature, axis=-1)
    return float(-log_probabilities[np.arange(len(labels)), np.asarray(labels)].mean())


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the cross-entropy of `labels`: fit it on validation data only."""
    if len(labels) == 0:
        raise ConfigError("fitting a temperature needs at least one labelled example")
    # Imported here: the drawing pad's kernel needs `apply_temperature` only, and scipy.optimize would add memory
    # and start-up time to every student's kernel (benchmarks/light_kernel.py measures that kernel).
    from scipy.optimize import minimize_scalar

    result = minimize_scalar(lambda t: negative_log_likelihood(probabilities, labels, t),
                             bounds=TEMPERATURE_RANGE, method="bounded", options={"xatol": 1e-4})
    return round(float(result.x), 4)


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


def _checked_probabilities(probabilities, labels) -> tuple[np.ndarray, np.ndarray]:
    """(N, classes) rows of probabilities and their N labels, or a ConfigError: the calibration error of anything
    else is a number that looks meaningful and is not (0, "perfect", for no answers at all)."""
    probabilities, labels = np.asarray(probabilities), np.asarray(labels)
    if probabilities.ndim != 2:
        raise ConfigError(f"give the probabilities as rows, one per answer (N, classes), not an array of shape "
                          f"{probabilities.shape}")
    if not len(probabilities):
        raise ConfigError("no answers to measure the calibration of: give the probabilities of at least one answer")
    if labels.shape != (len(probabilities),):
        raise ConfigError(f"{len(probabilities)} rows of probabilities but labels of shape {labels.shape}: give one "
                          "label per row")
    sums = probabilities.sum(axis=1, dtype=np.float64)
    # Compared so that NaN fails too.
    if not ((probabilities >= 0).all() and (np.abs(sums - 1) <= PROBABILITY_SUM_TOLERANCE).all()):
        raise ConfigError("these rows are not probabilities (each row 0 or more, summing to 1): pass probabilities "
                          "(softmax), not logits")
    return probabilities, labels


def reliability_curve(probabilities: np.ndarray, labels: np.ndarray, bins: int = CALIBRATION_BINS) -> ReliabilityCurve:
    probabilities, labels = _checked_probabilities(probabilities, labels)
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

"""Temperature scaling and the calibration error, on data whose true calibration is known."""
import re

import numpy as np
import pytest
from scipy.special import softmax

from numvision_lib.calibration import (MIN_FIT_ANSWERS, apply_temperature, expected_calibration_error,
                                       fit_temperature, negative_log_likelihood, reliability_curve)
from numvision_lib.errors import ConfigError


def calibrated_sample(count: int, seed: int = 0):
    """Probabilities and labels drawn from those very probabilities: perfectly calibrated by construction."""
    rng = np.random.default_rng(seed)
    probabilities = softmax(rng.normal(0, 3, size=(count, 10)), axis=1)
    labels = np.array([rng.choice(10, p=row) for row in probabilities])
    return probabilities, labels


def test_a_calibrated_model_has_almost_no_calibration_error():
    probabilities, labels = calibrated_sample(20_000)
    assert expected_calibration_error(probabilities, labels) < 0.015


def test_the_fitted_temperature_undoes_overconfidence():
    probabilities, labels = calibrated_sample(20_000, seed=1)
    overconfident = apply_temperature(probabilities, 0.5)  # what an overconfident network would say
    assert expected_calibration_error(overconfident, labels) > 0.05
    temperature = fit_temperature(overconfident, labels)
    assert temperature == pytest.approx(2.0, rel=0.08)
    assert expected_calibration_error(apply_temperature(overconfident, temperature), labels) < 0.015


def test_temperature_never_changes_the_answer():
    probabilities, _ = calibrated_sample(500, seed=2)
    for temperature in (0.3, 1.7, 5.0):
        softened = apply_temperature(probabilities, temperature)
        assert np.array_equal(softened.argmax(axis=1), probabilities.argmax(axis=1))
        assert np.allclose(softened.sum(axis=1), 1.0, atol=1e-5)
    unchanged = apply_temperature(probabilities, 1.0)
    assert np.array_equal(unchanged, probabilities) and unchanged is not probabilities


def test_temperature_keeps_two_digits_a_float32_step_apart_in_their_order():
    """As float32, 0.49999997 and 0.5 became one number after the temperature, and argmax then took the lower digit."""
    probabilities = np.zeros(10, np.float32)
    probabilities[3] = np.float32(0.5) - np.float32(3e-8)
    probabilities[5] = 1 - probabilities[3]
    assert probabilities[3] < probabilities[5]
    for temperature in (1.0, 1.5, 3.0, 20.0):
        softened = apply_temperature(probabilities, temperature)
        assert softened.dtype == np.float64 and softened[3] < softened[5] and softened.argmax() == 5, temperature


def test_reliability_curve_bins_by_confidence():
    probabilities = np.array([[0.95, 0.05], [0.95, 0.05], [0.55, 0.45], [0.55, 0.45]])
    curve = reliability_curve(probabilities, np.array([0, 1, 0, 0]), bins=10)
    assert curve.counts.sum() == 4 and curve.counts[9] == 2 and curve.counts[5] == 2
    assert curve.accuracy[9] == 0.5 and curve.accuracy[5] == 1.0
    assert curve.expected_calibration_error == pytest.approx(0.5 * 0.45 + 0.5 * 0.45)


def test_bad_settings_are_config_errors():
    with pytest.raises(ConfigError, match="positive"):
        apply_temperature(np.ones((1, 10)) / 10, 0)
    with pytest.raises(ConfigError, match="at least one"):
        fit_temperature(np.zeros((0, 10)), np.zeros(0, dtype=int))


@pytest.mark.parametrize("temperature", [float("nan"), float("inf"), -1.0, None, "2", True, 2j])
def test_a_temperature_is_a_positive_number(temperature):
    with pytest.raises(ConfigError, match="temperature must be a positive"):
        apply_temperature(np.array([0.2, 0.8]), temperature)


@pytest.mark.parametrize("measure", [fit_temperature, negative_log_likelihood, expected_calibration_error,
                                     reliability_curve])
@pytest.mark.parametrize("nothing", [np.zeros((0, 10)), []], ids=["no rows", "an empty list"])
def test_no_answers_are_told_so_however_they_are_given(measure, nothing):
    """An empty list, from a filter that kept nothing, was told that the probabilities come before their labels."""
    with pytest.raises(ConfigError) as refusal:
        measure(nothing, [])
    assert str(refusal.value) == "no answers: give the probabilities and label of at least one"


def test_the_calibration_error_of_nothing_is_not_perfect():
    with pytest.raises(ConfigError, match=r"as rows, one per answer \(N, classes\), not an array of shape \(2,\)"):
        expected_calibration_error(np.array([0.1, 0.9]), [1])
    with pytest.raises(ConfigError, match=r"one label per image: 5 images, but labels of shape \(1,\)"):
        expected_calibration_error(np.full((5, 10), 0.1), [1])  # one label would count for all five


@pytest.mark.parametrize("rows", [
    [[3.0, -1.0]],  # logits
    [[0.5, 0.5, 0.5]],  # not summing to 1
    [[1.2, -0.2]],  # summing to 1, but not probabilities
])
def test_the_calibration_error_needs_probabilities(rows):
    with pytest.raises(ConfigError, match=r"probabilities \(softmax\), not logits"):
        expected_calibration_error(np.array(rows), [0])


def test_probabilities_in_float32_count_as_probabilities():
    probabilities, labels = calibrated_sample(2_000, seed=3)
    # As a network gives them: the average of three readings in float32, whose rows sum to 1 only to float32's
    # precision.
    readings = np.stack([apply_temperature(probabilities, t) for t in (0.9, 1.3, 1.7)]).astype(np.float32)
    averaged = readings.mean(axis=0)
    assert averaged.dtype == np.float32
    in_float64 = expected_calibration_error(averaged.astype(np.float64), labels)
    assert in_float64 > 0.01 and expected_calibration_error(averaged, labels) == pytest.approx(in_float64, abs=1e-6)
    assert reliability_curve(averaged.astype(np.float16), labels).counts.sum() == len(labels)


def with_a_nan_row(probabilities):
    probabilities = probabilities.copy()
    probabilities[3] = np.nan  # what a network whose training diverged answers
    return probabilities


@pytest.mark.parametrize("change, problem", [
    (lambda p, l: (np.log(p), l), r"not probabilities .*: row 0 is \[.*\]\. Pass probabilities \(softmax\)"),
    (lambda p, l: (with_a_nan_row(p), l), r"^these answers hold NaN \(row 3 is \[nan, .*\]\), which a model answers "
                                          r"when its training went wrong \(diverged\): train it again$"),
    (lambda p, l: (p.astype(str), l), "give the probabilities as numbers"),
    (lambda p, l: (p, l[:300]), r"one label per image: 500 images, but labels of shape \(300,\)"),
    (lambda p, l: (p, l + 1), r"labels are the digits 0-9; these also hold \[10\]"),  # counted from 1
    (lambda p, l: (p, l - 1), r"labels are the digits 0-9; these also hold \[-1\]"),
    (lambda p, l: (p, l + 0.5), "labels are the digits 0-9; these also hold"),
    (lambda p, l: (p, l.astype(str)), "labels are the digits 0-9 as numbers"),
    (lambda p, l: (p, None), "one label per image"),
    (lambda p, l: (p, np.eye(10)[l]), "one-hot rows"),
    (lambda p, l: (p[:, :5] / p[:, :5].sum(axis=1, keepdims=True), l), r"hold 5 classes \(0 to 4\) and the labels"),
], ids=["logits", "a NaN row", "text", "too few labels", "labels 1-10", "labels -1", "fractional labels",
        "text labels", "no labels", "one-hot labels", "labels beyond the classes"])
def test_temperature_and_calibration_refuse_what_is_no_answer_and_label(change, problem):
    """Each of these once gave a temperature or a calibration error that looked right, or a raw error."""
    probabilities, labels = change(*calibrated_sample(500, seed=4))
    for measure in (fit_temperature, negative_log_likelihood, expected_calibration_error, reliability_curve):
        with pytest.raises(ConfigError, match=problem):
            measure(probabilities, labels)


@pytest.mark.parametrize("temperature", [1.0, 2.0])
@pytest.mark.parametrize("probabilities, problem", [
    (np.log(calibrated_sample(5)[0]), r"row 0 is .* not logits"),
    (with_a_nan_row(calibrated_sample(5)[0]), "row 3 is .*train it again"),
    (np.array([3.0, -1.0]), r"the row is \[3\.0, -1\.0\]"),
    (None, "give the probabilities as numbers, .* not None"),
])
def test_the_temperature_takes_probabilities_only(probabilities, problem, temperature):
    with pytest.raises(ConfigError, match=problem):
        apply_temperature(probabilities, temperature)


@pytest.mark.parametrize("measure", [apply_temperature, fit_temperature, expected_calibration_error])
def test_a_diverged_models_nan_is_not_blamed_on_logits(measure):
    """A diverged model's NaN, met by the pad on a drawing, was told first to "pass probabilities (softmax), not
    logits": the student had passed a drawing."""
    nan_row = with_a_nan_row(calibrated_sample(MIN_FIT_ANSWERS)[0])
    with pytest.raises(ConfigError, match="training went wrong") as refusal:
        measure(nan_row, 1.0) if measure is apply_temperature else measure(nan_row, np.zeros(MIN_FIT_ANSWERS, int))
    assert "logits" not in str(refusal.value) and "softmax" not in str(refusal.value)


def test_the_likelihood_is_of_a_temperature():
    probabilities, labels = calibrated_sample(500, seed=5)
    assert negative_log_likelihood(probabilities, labels) == pytest.approx(
        -np.log(probabilities[np.arange(500), labels]).mean())
    with pytest.raises(ConfigError, match="temperature must be a positive number"):
        negative_log_likelihood(probabilities, labels, 0)


def test_the_cross_entropy_floors_a_probability_as_keras_does():
    """Floored at 1e-12 here and at Keras' 1e-7 in `evaluate`, the same answers had two losses, 8.56 and 5.68."""
    answers = np.array([[1.0, 0.0], [0.5, 0.5]])
    assert negative_log_likelihood(answers, [1, 0]) == pytest.approx((-np.log(1e-7) - np.log(0.5)) / 2)


@pytest.mark.parametrize("measure", [fit_temperature, negative_log_likelihood, expected_calibration_error,
                                     reliability_curve])
def test_labels_given_before_the_probabilities_are_named_as_such(measure):
    """The 10,000 labels, read as one row of probabilities, filled the notebook (a message of 50,117 characters) and
    were blamed as logits."""
    probabilities, labels = calibrated_sample(10_000, seed=7)
    with pytest.raises(ConfigError) as refusal:
        measure(labels, probabilities)
    assert str(refusal.value) == ("give the probabilities as rows, one per answer (N, classes), not an array of shape "
                                  "(10000,): the probabilities come first, then their labels")


def test_percentages_are_named_as_such_and_a_long_row_is_quoted_short():
    """Percentages were told "not logits", and the row quoted whole."""
    probabilities, labels = calibrated_sample(50, seed=8)
    with pytest.raises(ConfigError, match=r"row 0 is \[(\d+\.\d+, ){6}\.\.\.\]\. Rows summing to 100 are percentages: "
                                          r"divide them by 100$"):
        expected_calibration_error(probabilities * 100, labels)
    with pytest.raises(ConfigError, match=r"the row is \[0\.0, 1\.0, 2\.0, 3\.0, 4\.0, 5\.0, \.\.\.\]\. Pass "
                                          r"probabilities \(softmax\), not logits$"):
        apply_temperature(np.arange(10_000.0), 2.0)


@pytest.mark.parametrize("bins", [0, -3, 2.5, "10", None, True])
def test_the_bins_are_a_whole_number(bins):
    probabilities, labels = calibrated_sample(50, seed=6)
    with pytest.raises(ConfigError, match=f"a whole number, 1 or more .* not {re.escape(repr(bins))}"):
        expected_calibration_error(probabilities, labels, bins)
    assert reliability_curve(probabilities, labels, np.int64(1)).counts.tolist() == [50]


@pytest.mark.parametrize("measure", [apply_temperature, fit_temperature, negative_log_likelihood,
                                     expected_calibration_error, reliability_curve])
def test_rows_of_different_lengths_are_refused(measure):
    """NumPy's "inhomogeneous shape" ValueError named neither the probabilities nor what to give."""
    ragged = [[0.5, 0.5], [1.0]]
    with pytest.raises(ConfigError, match=r"give the probabilities as rows of the same length, .* not all of one "
                                          r"length: \[\[0.5, 0.5\], \[1.0\]\]"):
        measure(ragged, 2.0) if measure is apply_temperature else measure(ragged, [0, 0])


def test_answers_without_a_best_temperature_are_refused():
    """All right, the sharper the better: the search stopped near 0.05, and a 60% answer became 100%."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 100)
    confidence = rng.uniform(0.6, 0.999, 100)
    all_right = np.tile(((1 - confidence) / 9)[:, None], (1, 10))
    all_right[np.arange(100), labels] = confidence
    with pytest.raises(ConfigError, match=r"no best temperature between 0.05 and 20.0: .* lowest at 0.05, .*"
                                          r"\(100 of 100 answers right, .*enough that some are wrong"):
        fit_temperature(all_right, labels)
    with pytest.raises(ConfigError, match=r"lowest at 20.0, .*\(0 of 100 answers right\): .*the labels are those of "
                                          r"these answers"):
        fit_temperature(all_right, (labels + 1) % 10)  # labels of other answers: every one wrong
    some_wrong = np.concatenate([all_right, all_right[:5]])
    assert 0.05 < fit_temperature(some_wrong, np.concatenate([labels, (labels[:5] + 1) % 10])) < 20


def test_answers_alike_are_told_they_are_guesses_not_that_none_is_wrong():
    """An untrained model's answers, all 10% each, were told "14 of 100 answers right, so sharpening them only ever
    helps. Fit it on more validation answers, enough that some are wrong"."""
    labels = np.random.default_rng(0).integers(0, 10, 100)
    right = np.count_nonzero(labels == 0)  # a row of ties answers its first digit
    with pytest.raises(ConfigError, match=rf"\({right} of 100 answers right\): the answers are no better than "
                                          r"guesses\. Train the model first") as refusal:
        fit_temperature(np.full((100, 10), 0.1), labels)
    assert "sharpening" not in str(refusal.value)


@pytest.mark.parametrize("true_class, wrong, temperature", [(1e-10, 10, 1.696), (0.0, 3, 1.269)])
def test_the_temperature_is_fitted_on_every_mistake_however_sure(true_class, wrong, temperature):
    """Mistakes that gave their true class less than the loss's floor (1e-7; exactly 0 from a float32 softmax) cost the
    same at every temperature: the fit ran to the sharpest edge and said that no answer was wrong."""
    right = np.full((200 - wrong, 10), 0.02 / 9)
    right[:, 0] = 0.98
    mistakes = np.zeros((wrong, 10))
    mistakes[:, 0], mistakes[:, 1] = 1 - true_class, true_class
    labels = np.array([0] * (200 - wrong) + [1] * wrong)
    assert fit_temperature(np.concatenate([right, mistakes]), labels) == pytest.approx(temperature, abs=2e-3)


def test_a_temperature_needs_enough_answers():
    """One answer 80% sure and wrong gave 5.47, which turned every later 99.9% answer into 37%."""
    with pytest.raises(ConfigError) as refusal:
        fit_temperature(np.array([[0.8, 0.2] + [0] * 8]), [1])
    assert str(refusal.value) == (f"fit the temperature on at least {MIN_FIT_ANSWERS} validation answers, enough that "
                                  "some are wrong, not 1: fitted on so few, it follows their luck")
    assert 0.05 < fit_temperature(*calibrated_sample(MIN_FIT_ANSWERS)) < 20

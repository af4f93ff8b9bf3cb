"""Temperature scaling and the calibration error, on data whose true calibration is known."""
import numpy as np
import pytest
from scipy.special import softmax

from numvision_lib.calibration import (apply_temperature, expected_calibration_error, fit_temperature,
                                       reliability_curve)
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
    assert apply_temperature(probabilities, 1.0) is probabilities


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


def test_the_calibration_error_of_nothing_is_not_perfect():
    with pytest.raises(ConfigError, match="no answers"):
        expected_calibration_error(np.zeros((0, 10)), np.zeros(0, dtype=int))
    with pytest.raises(ConfigError, match=r"as rows, one per answer \(N, classes\), not an array of shape \(2,\)"):
        expected_calibration_error(np.array([0.1, 0.9]), [1])
    with pytest.raises(ConfigError, match=r"5 rows of probabilities but labels of shape \(1,\)"):
        expected_calibration_error(np.full((5, 10), 0.1), [1])  # one label would count for all five


@pytest.mark.parametrize("rows", [
    [[3.0, -1.0]],  # logits
    [[0.5, 0.5, 0.5]],  # not summing to 1
    [[1.2, -0.2]],  # summing to 1, but not probabilities
    [[np.nan, 1.0]],
])
def test_the_calibration_error_needs_probabilities(rows):
    with pytest.raises(ConfigError, match=r"probabilities \(softmax\), not logits"):
        expected_calibration_error(np.array(rows), [0])


def test_probabilities_in_float32_count_as_probabilities():
    probabilities, labels = calibrated_sample(2_000, seed=3)
    # As the predictors give them: the average of three readings after the temperature, in float32.
    readings = np.stack([apply_temperature(probabilities, t) for t in (0.9, 1.3, 1.7)]).astype(np.float32)
    averaged = apply_temperature(readings.mean(axis=0), 1.4)
    assert 0 <= expected_calibration_error(averaged, labels) <= 1
    assert reliability_curve(averaged.astype(np.float16), labels).counts.sum() == len(labels)

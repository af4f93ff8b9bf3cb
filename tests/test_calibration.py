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

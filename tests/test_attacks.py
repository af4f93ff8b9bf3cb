"""FGSM on the shipped models and MNIST test digits, the smallest change that flips a drawing, one round of
adversarial training in quick mode, and a smoke run of benchmarks/robustness.py."""
from __future__ import annotations

import json

import numpy as np
import pytest

from numvision_lib import attacks
from numvision_lib.data import to_model_input
from numvision_lib.drawn_digits import template_strokes
from numvision_lib.errors import ConfigError
from numvision_lib.model import load_model, predict_probabilities
from numvision_lib.model_card import pad_model_path
from numvision_lib.preprocess import preprocess

from project_scripts import run_script


@pytest.fixture(scope="module")
def reference_model(shipped_model_path):
    return load_model(shipped_model_path)


@pytest.fixture(scope="module")
def pad_model():
    return load_model(pad_model_path())


def fgsm(model, images, labels, epsilon):
    """One FGSM step: every pixel moved by ε along the sign of the loss's gradient, as `attacks.attack` does."""
    return attacks.perturb(images, attacks.GradientSigns(model)(images, labels), epsilon)


@pytest.fixture(scope="module")
def held_out(mnist):
    """The first 1,000 MNIST test digits: no training or choice in this project ever sees them."""
    return to_model_input(mnist.x_test[:1000]), mnist.y_test[:1000]


def test_fgsm_pictures_stay_pictures_within_epsilon(reference_model, held_out):
    images, labels = held_out[0][:300], held_out[1][:300]
    for epsilon in (0.1, 0.3):
        attacked = fgsm(reference_model, images, labels, epsilon)
        assert attacked.shape == images.shape and attacked.dtype == np.float32
        assert attacked.min() >= 0 and attacked.max() <= 1
        assert np.abs(attacked - images).max() <= epsilon + 1e-6
        # Every pixel that can move by the whole ε without leaving [0, 1] does: one full step along the sign.
        free = (images >= epsilon) & (images <= 1 - epsilon)
        moved = np.abs(attacked - images)[free]
        assert np.mean(np.isclose(moved, epsilon, atol=1e-6)) > 0.99
    with pytest.raises(ConfigError, match="epsilon"):
        fgsm(reference_model, images, labels, -0.1)


def test_iterative_fgsm_is_stronger_and_stays_within_epsilon(reference_model, held_out):
    images, labels = held_out[0][:300], held_out[1][:300]
    attacked = attacks.iterative_fgsm(reference_model, images, labels, 0.1)
    assert attacked.min() >= 0 and attacked.max() <= 1 and np.abs(attacked - images).max() <= 0.1 + 1e-6
    one_step = fgsm(reference_model, images, labels, 0.1)

    def accuracy(pictures):
        return (predict_probabilities(reference_model, pictures).argmax(axis=1) == labels).mean()

    assert accuracy(attacked) < accuracy(one_step) - 0.05


@pytest.mark.parametrize("which", ["reference", "pad"])
def test_accuracy_falls_monotonically_with_epsilon(which, reference_model, pad_model, held_out):
    model = reference_model if which == "reference" else pad_model
    images, labels = held_out[0][:500], held_out[1][:500]
    curve = attacks.accuracy_under_attack(model, images, labels)
    clean = float((predict_probabilities(model, images).argmax(axis=1) == labels).mean())
    assert curve.epsilons == attacks.EPSILONS and curve.images == 500
    assert curve.accuracy_at(0.0) == clean  # ε = 0 changes nothing
    assert all(later <= earlier for earlier, later in zip(curve.accuracies, curve.accuracies[1:]))
    assert curve.accuracies[-1] < clean - 0.3  # a real attack, not a rounding error


def test_smallest_epsilon_that_flips_a_drawing(pad_model):
    model = pad_model
    four = preprocess(template_strokes(4))
    example = attacks.smallest_fooling_epsilon(model, four)
    assert example is not None and example.fooled and example.digit_before == 4 and example.epsilon > 0
    assert np.abs(example.perturbation).max() <= example.epsilon + 1e-6
    just_below = attacks.attack(model, four, round(example.epsilon - 0.005, 3))
    assert not just_below.fooled  # the grid's previous ε still leaves the answer alone
    assert attacks.smallest_fooling_epsilon(model, four, epsilons=[0.0, 0.001]) is None


def test_one_round_of_adversarial_training_in_quick_mode(reference_model, mnist, held_out):
    images, labels = held_out
    weights_before = [weights.copy() for weights in reference_model.get_weights()]
    trained = attacks.adversarial_training_round(reference_model, mnist)  # TrainConfig.quick(): 3,000 images
    before = attacks.accuracy_under_attack(reference_model, images, labels, (0.0, attacks.TRAINING_EPSILON))
    after = attacks.accuracy_under_attack(trained, images, labels, (0.0, attacks.TRAINING_EPSILON))
    assert after.accuracy_at(attacks.TRAINING_EPSILON) >= before.accuracy_at(attacks.TRAINING_EPSILON) + 0.01
    assert after.accuracy_at(0.0) >= before.accuracy_at(0.0) - 0.01  # clean digits are still read
    assert all(np.array_equal(a, b) for a, b in zip(weights_before, reference_model.get_weights()))


def test_robustness_benchmark_smoke_run(tmp_path, shipped_model_path):
    """benchmarks/robustness.py at tiny sizes: it runs, prints its tables and writes its report."""
    output = tmp_path / "robustness.json"
    printed = run_script("benchmarks/robustness.py", "--images", 100, "--train-images", 100, "--explain-images", 10,
                         "--models", shipped_model_path, "--output", output)
    report = json.loads(output.read_text())
    name = shipped_model_path.stem
    assert list(report["accuracy_under_attack"]) == [name] and len(report["accuracy_under_attack"][name]) == 7
    assert report["adversarial_training"]["model"] == name and len(report["adversarial_training"]["after"]) == 7
    assert 0 <= report["explanations"]["models"][name]["gradcam_near_ink"] <= 1
    assert "Accuracy under FGSM attack" in printed and "published" in printed


def test_an_epsilon_the_curve_did_not_measure_names_those_it_did():
    curve = attacks.RobustnessCurve("m", (0.0, 0.1, 0.2), (0.99, 0.5, 0.1), 100)
    assert curve.accuracy_at(0.1) == 0.5 and curve.accuracy_at(float(np.float32(0.1))) == 0.5
    with pytest.raises(ConfigError, match=r"ε = 0.12 was not measured for this curve: choose one of 0.0, 0.1, 0.2"):
        curve.accuracy_at(0.12)


def test_epsilon_must_be_a_number_of_0_or_more_as_given(pad_model):
    four = preprocess(template_strokes(4))
    signs = attacks.GradientSigns(pad_model)(four, [4])
    for epsilon in (float("nan"), -0.1, float("inf")):
        with pytest.raises(ConfigError, match=rf"epsilon must be .* not {epsilon}"):
            attacks.perturb(four, signs, epsilon)
        with pytest.raises(ConfigError, match=rf"not {epsilon}"):
            attacks.attack(pad_model, four, epsilon)
    # The ε the caller gave, not the quarter of it that each of the attack's steps takes.
    with pytest.raises(ConfigError, match=r"not -0\.1$"):
        attacks.iterative_fgsm(pad_model, four, [4], -0.1, steps=1)
    with pytest.raises(ConfigError, match=r"not nan$"):
        attacks.accuracy_under_attack(pad_model, four[None], [4], epsilons=[0.1, float("nan")])


def test_an_attack_needs_epsilons_and_pictures(pad_model):
    with pytest.raises(ConfigError, match="at least one ε"):
        attacks.smallest_fooling_epsilon(pad_model, preprocess(template_strokes(4)), [])
    with pytest.raises(ConfigError, match="no pictures"):
        attacks.accuracy_under_attack(pad_model, np.zeros((0, 28, 28), np.uint8), [])


def test_an_attack_needs_one_label_per_picture(pad_model):
    four = preprocess(template_strokes(4))
    for pictures, labels in ((3, [4, 4]), (2, [4, 4, 4])):
        with pytest.raises(ConfigError, match=rf"^{pictures} pictures but {len(labels)} labels"):
            attacks.accuracy_under_attack(pad_model, np.stack([four] * pictures), labels, epsilons=[0.1])

"""FGSM on the shipped models and MNIST test digits, the smallest change that flips a drawing, one round of
adversarial training in quick mode, and a smoke run of benchmarks/robustness.py."""
from __future__ import annotations

import gc
import json
import re
import weakref

import numpy as np
import pytest

from numvision_lib import attacks
from numvision_lib._tensorflow import keras
from numvision_lib.data import to_model_input
from numvision_lib.drawing import pad_predictor
from numvision_lib.drawn_digits import template_strokes
from numvision_lib.errors import ConfigError, ImageError
from numvision_lib.fine_tuning import FineTuneRun, FineTuneSettings
from numvision_lib.model import build_numvision_cnn, input_gradient_function, load_model, predict_probabilities
from numvision_lib.model_card import pad_model_path
from numvision_lib.predict import Predictor
from numvision_lib.preprocess import preprocess
from numvision_lib.training import TrainConfig, TrainingRun

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


def test_epsilon_must_be_a_number_from_0_to_1_as_given(pad_model):
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
        with pytest.raises(ConfigError, match=rf"^give one label per image: {pictures} images, but labels of shape "
                                              rf"\({len(labels)},\)"):
            attacks.accuracy_under_attack(pad_model, np.stack([four] * pictures), labels, epsilons=[0.1])
        with pytest.raises(ConfigError, match=rf"{pictures} images, but labels of shape \({len(labels)},\)"):
            attacks.iterative_fgsm(pad_model, np.stack([four] * pictures), labels, 0.1, steps=1)


@pytest.mark.parametrize("labels, problem", [
    (["4", "4"], r"labels are the digits 0-9 as numbers, not <U1 values such as \['4', '4'\]"),
    ([1.5, 4], r"labels are the digits 0-9; these also hold \[1\.5\]"),
    ([12, 4], r"labels are the digits 0-9; these also hold \[12\]"),
    ([-1, 4], r"labels are the digits 0-9; these also hold \[-1\]"),
    ([[4], [4]], r"give one label per image: 2 images, but labels of shape \(2, 1\)"),
])
def test_an_attack_needs_digits_for_labels(pad_model, labels, problem):
    """Not an accuracy of 0 against text or fractions, nor TensorFlow's error about its cross-entropy."""
    fours = np.stack([preprocess(template_strokes(4))] * 2)
    with pytest.raises(ConfigError, match=problem):
        attacks.accuracy_under_attack(pad_model, fours, labels, epsilons=[0.0, 0.1])
    with pytest.raises(ConfigError, match=problem):
        attacks.iterative_fgsm(pad_model, fours, labels, 0.1, steps=1)


def test_pixels_are_read_by_their_type_as_predict_probabilities_reads_them(reference_model, mnist):
    """Whole numbers of any type are levels 0-255 and floats the network's input: floats still 0-255 are refused, not
    clipped to white squares that no ε changes (a model that would look immune to the attack)."""
    levels, labels = mnist.x_test[:100], mnist.y_test[:100]
    expected = attacks.accuracy_under_attack(reference_model, to_model_input(levels), labels, (0.0, 0.3))
    assert expected.accuracies[1] < expected.accuracies[0] - 0.3
    for pixels in (levels, levels.astype(np.int64)):
        assert attacks.accuracy_under_attack(reference_model, pixels, labels, (0.0, 0.3)) == expected
    attacked = attacks.iterative_fgsm(reference_model, levels[:5], labels[:5], 0.1, steps=2)
    assert attacked.min() >= 0 and attacked.max() <= 1
    assert np.array_equal(attacked, attacks.iterative_fgsm(reference_model, to_model_input(levels[:5]), labels[:5],
                                                           0.1, steps=2))
    example = attacks.attack(reference_model, levels[0], 0.1)
    assert np.array_equal(example.original, to_model_input(levels[:1])[0, ..., 0])
    assert np.abs(example.perturbation).max() <= 0.1 + 1e-6
    floats_0_to_255 = levels.astype(np.float32)
    for attempt in (lambda: attacks.accuracy_under_attack(reference_model, floats_0_to_255, labels),
                    lambda: attacks.iterative_fgsm(reference_model, floats_0_to_255[:5], labels[:5], 0.1),
                    lambda: attacks.attack(reference_model, floats_0_to_255[0], 0.1)):
        with pytest.raises(ConfigError, match=r"these go from 0 to 255 \(for 0-255 pixels, divide by 255 or give them "
                                                r"as uint8"):
            attempt()


def test_an_attack_on_examples_takes_one_picture_at_a_time(pad_model):
    """Not the first picture compared with the others' attacked copies, nor the first attacked and the rest ignored."""
    fours = np.stack([preprocess(template_strokes(4))] * 3)
    with pytest.raises(ImageError, match=r"^an attack takes one picture at a time, not 3: give one 28x28 picture, such as images\[0\]; "
                                             r"accuracy_under_attack and iterative_fgsm attack a batch"):
        attacks.attack_examples(pad_model, fours, [0.0, 0.3])
    with pytest.raises(ImageError, match="one picture at a time, not 3"):
        attacks.attack(pad_model, fours, 0.1)
    with pytest.raises(ImageError, match="one picture at a time, not 3"):
        attacks.smallest_fooling_epsilon(pad_model, fours)
    assert np.array_equal(attacks.attack(pad_model, fours[:1], 0.1).original, fours[0])  # a batch of one is one


def test_the_smallest_fooling_epsilon_whatever_the_order_of_the_epsilons(pad_model):
    four = preprocess(template_strokes(4))
    smallest = attacks.smallest_fooling_epsilon(pad_model, four)
    assert smallest is not None
    assert attacks.smallest_fooling_epsilon(pad_model, four, attacks.SEARCH_EPSILONS[::-1]).epsilon == smallest.epsilon


def test_one_epsilon_alone_is_a_list_of_one(pad_model):
    four = preprocess(template_strokes(4))
    curve = attacks.accuracy_under_attack(pad_model, four[None], [4], epsilons=0.1)
    assert curve == attacks.accuracy_under_attack(pad_model, four[None], [4], epsilons=[0.1])
    assert curve.epsilons == (0.1,)
    [example] = attacks.attack_examples(pad_model, four, 0.1)
    assert example.epsilon == 0.1
    assert np.array_equal(example.adversarial, attacks.attack(pad_model, four, 0.1).adversarial)
    with pytest.raises(ConfigError, match="give at least one ε"):
        attacks.accuracy_under_attack(pad_model, four[None], [4], epsilons=[])


@pytest.mark.parametrize("epsilon", [True, "0.1"])
def test_an_epsilon_is_a_number_not_text_or_true(epsilon):
    with pytest.raises(ConfigError,
                       match=rf"^epsilon must be a number from 0 to 1: .*; not {re.escape(repr(epsilon))}$"):
        attacks.checked_epsilon(epsilon)


@pytest.mark.parametrize("epsilon, levels", [(8, "8 levels is ε = 0.0314"), (25.0, "25 levels is ε = 0.098"),
                                             (1.5, "1.5 levels is ε = 0.00588")])
def test_an_epsilon_in_grey_levels_is_refused_in_the_networks_units(pad_model, epsilon, levels):
    """Not every pixel pushed to black or white and the network reported as fooled "at ε = 25": ε is how far a
    pixel may move in the network's units, from 0 to 1, also where the pictures are given as 0-255 levels."""
    message = (rf"^epsilon must be a number from 0 to 1: how far every pixel may move, in the network's units, "
               rf"where pixels run from 0 to 1 \(0\.1 is a tenth of that range\); not {epsilon}\. For grey levels "
               rf"0-255, divide by 255: {re.escape(levels)}$")
    with pytest.raises(ConfigError, match=message):
        attacks.checked_epsilon(epsilon)
    levels_of_four = np.rint(preprocess(template_strokes(4)) * 255).astype(np.uint8)
    for attack in (lambda: attacks.attack(pad_model, levels_of_four, epsilon),
                   lambda: attacks.accuracy_under_attack(pad_model, levels_of_four[None], [4], [0.1, epsilon]),
                   lambda: attacks.iterative_fgsm(pad_model, levels_of_four, [4], epsilon, steps=1)):
        with pytest.raises(ConfigError, match=message):
            attack()
    # The whole range is the largest ε: every pixel may go anywhere.
    assert attacks.attack(pad_model, levels_of_four, 1).epsilon == attacks.checked_epsilon(1) == 1.0


def test_epsilons_given_as_text_are_refused_whole_not_read_a_character_at_a_time(pad_model):
    four = preprocess(template_strokes(4))
    with pytest.raises(ConfigError, match=r"not '0\.1'$"):
        attacks.accuracy_under_attack(pad_model, four[None], [4], epsilons="0.1")
    with pytest.raises(ConfigError, match=r"not '0\.1'$"):
        attacks.attack_examples(pad_model, four, "0.1")


@pytest.mark.parametrize("steps", [0, -1, 2.5, "10", True])
def test_an_iterative_attack_takes_at_least_one_whole_step(pad_model, steps):
    """Not the pictures returned unattacked, nor range()'s TypeError."""
    with pytest.raises(ConfigError, match=rf"^steps is a whole number of FGSM steps, at least 1, not {steps!r}$"):
        attacks.iterative_fgsm(pad_model, preprocess(template_strokes(4)), [4], 0.1, steps=steps)


@pytest.mark.parametrize("batch_size", [0, 2.5, None])
def test_gradient_signs_take_a_whole_number_of_pictures_at_a_time(pad_model, batch_size):
    """Refused when the model is given, not as a ValueError of range() at the first pictures; in the words of every
    other batch size (`data.check_batch_size`)."""
    with pytest.raises(ConfigError, match=rf"^the batch size is a whole number of images, at least 1, not "
                                          rf"{batch_size}$"):
        attacks.GradientSigns(pad_model, batch_size=batch_size)


def test_a_curve_is_asked_for_its_accuracy_at_a_number():
    curve = attacks.RobustnessCurve("m", (0.0, 0.1), (0.99, 0.5), 100)
    for epsilon in ("0.1", True, None):
        with pytest.raises(ConfigError, match=rf"^ε = {re.escape(repr(epsilon))} was not measured for this curve: "
                                              r"choose one of 0\.0, 0\.1"):
            curve.accuracy_at(epsilon)


def test_adversarial_training_needs_mnist_and_a_train_config(pad_model, mnist):
    """Not an AttributeError from inside the training loop."""
    with pytest.raises(ConfigError, match="^adversarial training needs MNIST's training images: .* not NoneType$"):
        attacks.adversarial_training_round(pad_model, None)
    with pytest.raises(ConfigError, match=r"^config is a TrainConfig, .*quick\(\*\*settings\)\), not dict$"):
        attacks.adversarial_training_round(pad_model, mnist, config={"epochs": 1})


def test_perturb_and_gradient_signs_read_pixels_as_the_rest_of_the_attack_does(reference_model, mnist):
    """uint8 levels are divided by 255, not clipped to pictures of pure black and white; floats still 0-255 are
    refused, not clipped to white squares that no ε changes."""
    levels, labels = mnist.x_test[:5], mnist.y_test[:5]
    inputs = to_model_input(levels)
    gradient_signs = attacks.GradientSigns(reference_model)
    signs = gradient_signs(inputs, labels)
    attacked = attacks.perturb(levels, signs, 0.1)
    assert np.array_equal(attacked, attacks.perturb(inputs, signs, 0.1))
    assert np.abs(attacked - inputs).max() <= 0.1 + 1e-6
    assert np.array_equal(gradient_signs(levels, labels), signs)
    for attempt in (lambda: attacks.perturb(levels.astype(np.float32), signs, 0.1),
                    lambda: gradient_signs(levels.astype(np.float32), labels)):
        with pytest.raises(ConfigError, match=r"these go from 0 to 255 \(for 0-255 pixels, divide by 255"):
            attempt()


def test_perturb_takes_one_sign_per_pixel(reference_model, mnist):
    """Signs of another batch would be spread over the pictures by NumPy: three attacked pictures from one."""
    inputs = to_model_input(mnist.x_test[:3])
    signs = attacks.GradientSigns(reference_model)(inputs, mnist.y_test[:3])
    assert np.array_equal(attacks.perturb(inputs, signs[..., 0], 0.1), attacks.perturb(inputs, signs, 0.1))
    assert np.array_equal(attacks.perturb(inputs[:1], signs[0, ..., 0], 0.1), attacks.perturb(inputs[:1], signs[:1], 0.1))
    for wrong in (signs[:1, ..., 0], signs[:2]):
        with pytest.raises(ConfigError, match=rf"^give one sign per pixel of the pictures, shape \(3, 28, 28, 1\) as "
                                              rf"GradientSigns gives them, not \({wrong.shape[0]}, 28, 28"):
            attacks.perturb(inputs, wrong, 0.1)
    with pytest.raises(ConfigError, match="give one sign per pixel"):
        attacks.perturb(inputs[:1], signs, 0.1)
    with pytest.raises(ConfigError, match="the signs must be numbers"):
        attacks.perturb(inputs[:1], np.full((28, 28), np.nan), 0.1)


def test_perturb_takes_only_directions_so_no_pixel_moves_further_than_epsilon(mnist):
    """Notebook 08's random-noise control changed to normal noise moved pixels by up to 3 ε: not "the same amount
    of change" as the attack."""
    inputs = to_model_input(mnist.x_test[:2])
    noise = np.random.default_rng(0).normal(size=inputs.shape).astype(np.float32)
    with pytest.raises(ConfigError, match=r"^the signs must be numbers \(-1, 0 or 1, as GradientSigns gives them\): "
                                          r"the direction each pixel moves in, by ε exactly; not float32 values such "
                                          r"as \[0\.12.*\]\. For random noise of the same size, give "
                                          r"np\.sign\(noise\)$"):
        attacks.perturb(inputs, noise, 0.1)
    for wrong in (noise > 0, np.full(inputs.shape, 2), np.full(inputs.shape, 0.5)):
        with pytest.raises(ConfigError, match="the signs must be numbers"):
            attacks.perturb(inputs, wrong, 0.1)
    moved = attacks.perturb(inputs, np.sign(noise), 0.1)
    assert np.abs(moved - inputs).max() <= 0.1 + 1e-6
    random_signs = np.random.default_rng(0).choice([-1.0, 1.0], size=inputs.shape).astype(np.float32)  # notebook 08's
    assert np.abs(attacks.perturb(inputs, random_signs, 0.1) - inputs).max() <= 0.1 + 1e-6


@pytest.fixture(scope="module")
def pad_model_file_predictor(pad_model):
    """The pad's model as a Predictor that knows its file."""
    return Predictor(pad_model, source=pad_model_path())


def test_every_attack_takes_a_predictor_as_the_explanations_do(pad_model, pad_model_file_predictor, mnist):
    """Its Keras model, the most natural slip in notebook 08 (notebook 07 and the class report take the Predictor):
    it was a raw AttributeError or TypeError."""
    predictor = pad_model_file_predictor
    images, labels = to_model_input(mnist.x_test[:20]), mnist.y_test[:20]
    four = preprocess(template_strokes(4))
    assert np.array_equal(attacks.GradientSigns(predictor)(images, labels),
                          attacks.GradientSigns(pad_model)(images, labels))
    assert np.array_equal(attacks.iterative_fgsm(predictor, images[:3], labels[:3], 0.1, steps=2),
                          attacks.iterative_fgsm(pad_model, images[:3], labels[:3], 0.1, steps=2))
    assert (attacks.accuracy_under_attack(predictor, images, labels, [0.0, 0.1]).accuracies ==
            attacks.accuracy_under_attack(pad_model, images, labels, [0.0, 0.1]).accuracies)
    assert np.array_equal(attacks.attack(predictor, four, 0.1).adversarial,
                          attacks.attack(pad_model, four, 0.1).adversarial)
    assert (attacks.smallest_fooling_epsilon(predictor, four, [0.05, 0.1, 0.2]).epsilon ==
            attacks.smallest_fooling_epsilon(pad_model, four, [0.05, 0.1, 0.2]).epsilon)
    hardened = attacks.adversarial_training_round(predictor, mnist,
                                                  config=TrainConfig.quick(max_train_samples=100, batch_size=50))
    assert isinstance(hardened, keras.Model) and hardened is not pad_model


@pytest.mark.parametrize("make, problem", [
    (lambda: "models/numvision_plus.keras", r"needs a Keras model, such as load_model\(\.\.\.\) or "
                                            r"Predictor\.load\(\), not a str$"),
    (pad_predictor, r"needs the Keras model, which the light drawing pad does not load"),
], ids=["a path", "the light pad's predictor"])
def test_an_attack_needs_a_keras_model_or_a_predictor(mnist, make, problem):
    given, four = make(), preprocess(template_strokes(4))
    for purpose, attack in (("GradientSigns", lambda: attacks.GradientSigns(given)),
                            ("iterative_fgsm", lambda: attacks.iterative_fgsm(given, four, [4], 0.1)),
                            ("accuracy_under_attack", lambda: attacks.accuracy_under_attack(given, four[None], [4])),
                            ("an attack", lambda: attacks.attack(given, four, 0.1)),
                            ("an attack", lambda: attacks.smallest_fooling_epsilon(given, four)),
                            ("adversarial training", lambda: attacks.adversarial_training_round(given, mnist))):
        with pytest.raises(ConfigError, match=rf"^{purpose} {problem}"):
            attack()


def test_a_curve_is_named_after_the_predictors_file_or_the_networks_own_name(pad_model_file_predictor):
    """numvision_plus_real.keras holds a network named numvision_plus: two shipped models were two identical legend
    entries."""
    model_file = pad_model_path().parent / "numvision_plus_real.keras"
    real = Predictor(load_model(model_file), source=model_file)
    four = preprocess(template_strokes(4))[None]
    assert attacks.accuracy_under_attack(real, four, [4], 0.1).name == "numvision_plus_real"
    assert attacks.accuracy_under_attack(real.model, four, [4], 0.1).name == real.model.name == "numvision_plus"
    assert attacks.accuracy_under_attack(real, four, [4], 0.1, name="the pad").name == "the pad"
    assert (attacks.accuracy_under_attack(pad_model_file_predictor, four, [4], 0.1).name ==
            pad_model_file_predictor.name == pad_model_path().stem)


def test_gradient_signs_need_one_digit_per_picture(pad_model):
    """Not one label spread over every picture, nor a label beyond the digits handed to the cross-entropy."""
    four = preprocess(template_strokes(4))
    gradient_signs = attacks.GradientSigns(pad_model)
    assert np.array_equal(gradient_signs(four, 4), gradient_signs(four[None], [4]))  # one picture's label alone
    with pytest.raises(ConfigError, match=r"^give one label per image: 3 images, but labels of shape \(1,\)"):
        gradient_signs(np.stack([four] * 3), 4)
    with pytest.raises(ConfigError, match=r"labels are the digits 0-9; these also hold \[12\]"):
        gradient_signs(np.stack([four] * 2), [12, 4])
    with pytest.raises(ConfigError, match="no pictures to attack"):
        gradient_signs(np.zeros((0, 28, 28), np.uint8), [])


def test_a_curve_of_a_run_is_named_after_the_file_it_saved(pad_model, tmp_path):
    """`run` where `run.model` was meant, which every attack takes as the model it made: its curve was an
    AttributeError once all the pictures had been attacked."""
    trained = TrainingRun(pad_model, TrainConfig.quick(), history={}, best_epoch=1, best_val_accuracy=0.99,
                          model_path=tmp_path / "my_cnn.keras", card_path=tmp_path / "my_cnn.json",
                          history_path=tmp_path / "my_cnn.history.csv", resumed_from_epoch=0, train_seconds=1.0)
    fine_tuned = FineTuneRun(pad_model, tmp_path / "class_model.keras", tmp_path / "class_model.json",
                             tmp_path / "base.keras", FineTuneSettings(), students=2, drawings=3, prepare_seconds=0.0,
                             train_seconds=0.0, mnist_test_accuracy=0.99)
    four = preprocess(template_strokes(4))[None]
    of_the_network = attacks.accuracy_under_attack(pad_model, four, [4], [0.0, 0.2])
    for run, name in ((trained, "my_cnn"), (fine_tuned, "class_model")):
        curve = attacks.accuracy_under_attack(run, four, [4], [0.0, 0.2])
        assert curve.name == name and curve.accuracies == of_the_network.accuracies
        assert attacks.accuracy_under_attack(run, four, [4], 0.1, name="mine").name == "mine"


def test_attacks_on_one_model_share_one_compiled_gradient(monkeypatch, mnist):
    """Notebook 08's ε slider attacks at every step of a drag: each attack compiled the gradient's graph again, and
    memory grew with each. A model no longer used is not kept for it."""
    built = []

    def building(model, objective):
        built.append(input_gradient_function(model, objective))
        return built[-1]

    monkeypatch.setattr(attacks, "input_gradient_function", building)
    model = build_numvision_cnn()  # no attack has seen it yet
    four = preprocess(template_strokes(4))
    for epsilon in (0.05, 0.1, 0.15):
        attacks.attack(model, four, epsilon)
    attacks.smallest_fooling_epsilon(model, four, [0.1, 0.2])
    attacks.accuracy_under_attack(model, mnist.x_test[:20], mnist.y_test[:20], [0.0, 0.1])
    attacks.iterative_fgsm(model, mnist.x_test[:3], mnist.y_test[:3], 0.1, steps=2)
    assert len(built) == 1 and built[0].experimental_get_tracing_count() == 1
    still_used = weakref.ref(model)
    del model
    gc.collect()
    assert still_used() is None

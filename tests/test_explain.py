"""Explanations on the shipped models and MNIST test digits: they mark the ink, differ between classes, point at
what the answer depends on, and the pad's explain view runs only while it is shown."""
from __future__ import annotations

import re

import numpy as np
import pytest

from numvision_lib import explain, plots
from numvision_lib._tensorflow import keras
from numvision_lib.data import to_model_input
from numvision_lib.drawing import DrawingPad, pad_predictor
from numvision_lib.drawn_digits import template_strokes
from numvision_lib.errors import ConfigError, ImageError, ModelStructureError
from numvision_lib.explain_view import ExplainPanel
from numvision_lib.model import load_model, predict_probabilities
from numvision_lib.model_card import pad_model_path
from numvision_lib.predict import Predictor
from numvision_lib.preprocess import preprocess

EXPLAIN_DIGIT = re.compile(r'<span class="numvision-explain-digit"[^>]*>(\d)</span>')


@pytest.fixture(scope="module")
def pad_model():
    """The model the pad and notebook 07 explain."""
    return load_model(pad_model_path())


@pytest.fixture(scope="module")
def gradcam(pad_model):
    return explain.GradCam(pad_model)


@pytest.fixture(scope="module")
def test_digits(mnist):
    """300 MNIST test digits, chosen at random once."""
    chosen = np.random.default_rng(7).choice(len(mnist.y_test), 300, replace=False)
    return to_model_input(mnist.x_test[chosen])[..., 0], mnist.y_test[chosen]


def shuffled(heat: np.ndarray, seed: int = 0) -> np.ndarray:
    """The same heat values, each map's pixels in random places: the heat map of a method that knows nothing."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.permutation(one.ravel()).reshape(one.shape) for one in heat])


# ---------------------------------------------------------------- feature maps


@pytest.mark.parametrize("model_file", ["numvision_cnn.keras", "numvision_plus.keras"])
def test_every_convolution_shows_what_it_passes_on_and_its_filters(model_file, shipped_model_path):
    model = load_model(shipped_model_path.parent / model_file)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    views = explain.feature_maps(model, preprocess(template_strokes(7)))
    assert [view.name for view in views] == [conv.name for conv in convs]
    for view, conv in zip(views, convs):
        passed_on = explain.passed_on_by(model, conv)
        # numvision_plus: the ReLU after the batch normalisation, not the raw convolution
        assert isinstance(passed_on, keras.layers.ReLU) or passed_on is conv
        assert view.maps.shape == tuple(passed_on.output.shape[1:]) and view.maps.min() >= 0
        kernel_height, kernel_width, input_maps, filters = conv.kernel.shape
        assert view.filters.shape == (kernel_height, kernel_width, filters) and view.input_maps == input_maps
    assert views[0].input_maps == 1
    spreads = views[0].maps.std(axis=(0, 1))  # maps that vary most over the drawing come first
    assert list(spreads[views[0].strongest(4)]) == sorted(spreads, reverse=True)[:4]
    last = views[-1]
    if last.maps.shape[:2] == (1, 1):  # a 1x1 map cannot vary: its value counts
        assert list(last.maps[0, 0, last.strongest(3)]) == sorted(last.maps[0, 0], reverse=True)[:3]


def test_gradcam_looks_at_the_last_convolution_that_still_has_a_picture(pad_model, shipped_model_path):
    assert explain.gradcam_layer(pad_model).name == "block2_downsample_relu"  # the head's 1x1 map says no "where"
    assert explain.gradcam_layer(load_model(shipped_model_path)).name == "conv3"


def test_cell_centres_are_the_centres_of_the_receptive_fields():
    """Measured: the input pixels a feature cell depends on (non-zero gradient, with all-positive weights and no
    activations, so nothing hides) are centred where `cell_centres` says, for every kind of window."""
    import tensorflow as tf

    ones = {"kernel_initializer": "ones", "use_bias": False}
    inputs = keras.Input((48, 48, 1))  # larger than MNIST, so that many fields lie inside the picture
    x = keras.layers.Conv2D(1, 3, **ones)(inputs)  # valid: 46
    x = keras.layers.Conv2D(1, 5, strides=2, padding="same", **ones)(x)  # even input, odd padding: 23
    x = keras.layers.AveragePooling2D(2)(x)  # 11
    x = keras.layers.Conv2D(1, 3, padding="same", **ones)(x)  # 11
    model = keras.Model(inputs, x)
    rows, columns = explain.cell_centres(model, model.layers[-1])
    assert len(rows) == len(columns) == 11
    image = tf.ones((1, 48, 48, 1))
    measured = 0
    for row in range(11):
        for column in range(11):
            with tf.GradientTape() as tape:
                tape.watch(image)
                cell = model(image)[0, row, column, 0]
            ys, xs = np.nonzero(tape.gradient(cell, image).numpy()[0, ..., 0])
            if min(ys.min(), xs.min()) > 0 and max(ys.max(), xs.max()) < 47:  # the edge cuts no part of the field
                assert (ys.min() + ys.max()) / 2 == rows[row] and (xs.min() + xs.max()) / 2 == columns[column]
                measured += 1
    assert measured >= 25


# ---------------------------------------------------------------- where the network looked


def test_gradcam_heat_lies_on_the_ink(gradcam, test_digits):
    images, _ = test_digits
    heat = gradcam(images)
    assert heat.shape == images.shape and heat.min() >= 0 and heat.max() <= 1
    on_ink = explain.share_near_ink(heat, images)
    assert on_ink >= 0.8
    assert explain.share_near_ink(shuffled(heat), images) <= on_ink - 0.25


def test_integrated_gradients_lie_on_the_ink(pad_model, test_digits):
    images, _ = test_digits
    images = images[:100]
    attributions = explain.IntegratedGradients(pad_model)(images, predict_probabilities(pad_model, images[..., None])
                                                          .argmax(axis=1))
    on_ink = explain.share_near_ink(attributions, images)
    assert on_ink >= 0.8
    assert explain.share_near_ink(shuffled(attributions), images) <= on_ink - 0.25


def test_integrated_gradients_add_up_to_the_score_change(pad_model, test_digits):
    images, labels = test_digits[0][:12], test_digits[1][:12]
    integrated = explain.IntegratedGradients(pad_model)
    for baseline in explain.BASELINES:
        attributions, gaps = integrated.attributions_and_gap(images, labels, baseline)
        assert np.allclose(attributions.sum(axis=(1, 2)), gaps, rtol=0.1, atol=0.5), baseline
    # Against black, MNIST's own background, a background pixel can never be credited: why it is not the default.
    black = integrated(images, labels, baseline="black")
    assert np.all(black[images == 0] == 0)
    with pytest.raises(ConfigError, match="baseline"):
        explain.make_baseline(images, "white")


def test_one_picture_can_be_explained_for_several_classes(gradcam, pad_model):
    seven = preprocess(template_strokes(7))
    heat, scores = gradcam.heat_and_scores(seven, [7, 1, explain.PREDICTED])
    assert heat.shape == (3, 28, 28) and np.array_equal(heat[0], heat[2]) and not np.allclose(heat[0], heat[1])
    attributions = explain.IntegratedGradients(pad_model, steps=8)(seven, [7, 1])
    assert attributions.shape == (2, 28, 28) and not np.allclose(attributions[0], attributions[1])
    with pytest.raises(ConfigError, match="one class per picture"):
        gradcam(np.stack([seven] * 3), [7, 1])
    with pytest.raises(ConfigError, match=r"classes must be digits 0-9 .* got \[10\]"):
        gradcam(seven, 10)
    with pytest.raises(ImageError, match=r"shape \(28, 28, 3\) are not 28x28 model inputs"):
        gradcam(np.stack([seven] * 3, axis=-1), 7)  # a colour picture, not three pictures


def test_a_class_must_be_a_whole_digit(gradcam):
    seven = preprocess(template_strokes(7))
    for classes in (3.7, [1, 2.5], float("nan"), "7", 10):
        with pytest.raises(ConfigError, match="classes must be digits 0-9"):
            gradcam(seven, classes)
    assert np.array_equal(gradcam(seven, 3.0), gradcam(seven, 3))  # a whole number stored as a float is fine


def test_the_runner_up_has_heat_of_its_own(gradcam, test_digits):
    images, _ = test_digits
    images = images[:100]
    heat, scores = gradcam.heat_and_scores(images)
    runner_up = np.argsort(scores, axis=1)[:, -2]
    runner_up_heat = gradcam(images, runner_up)
    comparable = (heat.std(axis=(1, 2)) > 0) & (runner_up_heat.std(axis=(1, 2)) > 0)
    correlations = [np.corrcoef(answer.ravel(), other.ravel())[0, 1]
                    for answer, other in zip(heat[comparable], runner_up_heat[comparable])]
    assert comparable.mean() > 0.9 and np.mean(correlations) < 0.7


def probability_lost_where_marked_and_elsewhere(model: keras.Model, gradcam: explain.GradCam,
                                                images: np.ndarray) -> tuple[float, float]:
    """Notebook 07's second check: the answer's mean probability lost when Grad-CAM's 36 hottest pixels are
    covered, and when the same shape is covered elsewhere on the digit."""
    heat, scores = gradcam.heat_and_scores(images)
    answers = scores.argmax(axis=1)
    marked = explain.hottest_region(heat, area=36)
    elsewhere = explain.same_region_elsewhere(marked, images)
    assert np.array_equal(marked.sum(axis=(1, 2)), np.full(len(images), 36))
    # The same shape moved: near the picture's edge a few of its pixels can fall outside, never most of them.
    assert (elsewhere.sum(axis=(1, 2)) >= 24).all() and np.median(elsewhere.sum(axis=(1, 2))) == 36
    return (explain.probability_lost(model, images, marked, answers).mean(),
            explain.probability_lost(model, images, elsewhere, answers).mean())


def test_covering_what_gradcam_marks_costs_more_than_covering_the_same_region_elsewhere(shipped_model_path,
                                                                                          test_digits):
    """On the MNIST-only `numvision_plus`, the last 4x4 map points at what the answer depends on."""
    model = load_model(shipped_model_path.parent / "numvision_plus.keras")
    lost_marked, lost_elsewhere = probability_lost_where_marked_and_elsewhere(model, explain.GradCam(model),
                                                                              test_digits[0])
    assert lost_marked > 1.2 * lost_elsewhere


def test_the_same_region_elsewhere_needs_ink_to_move_to():
    digit = np.zeros((1, 28, 28), np.float32)
    digit[0, 5:23, 13:16] = 1.0
    region = np.zeros((1, 28, 28), bool)
    region[0, 2:5, 2:5] = True
    with pytest.raises(ImageError, match="picture 0 has no ink"):
        explain.same_region_elsewhere(region, np.zeros((1, 28, 28), np.float32))
    # An empty region is the same empty region anywhere: it stays empty, and the others still move.
    moved = explain.same_region_elsewhere(np.concatenate([np.zeros_like(region), region]),
                                          np.concatenate([digit, digit]))
    centre = np.argwhere(moved[1]).mean(axis=0).astype(int)
    assert not moved[0].any() and moved[1].sum() == 9 and digit[0][tuple(centre)] == 1.0
    with pytest.raises(ConfigError, match="the seed must be a whole number from 0 to 4294967295, not -1"):
        explain.same_region_elsewhere(region, digit, seed=-1)


def test_for_the_pads_model_only_the_finer_map_passes_the_check(pad_model, gradcam, test_digits):
    """What notebook 07 tells students: the pad's model fails the check at its last 4x4 map and passes it at the
    10x10 map of exercise 8."""
    images = test_digits[0]
    lost_marked, lost_elsewhere = probability_lost_where_marked_and_elsewhere(pad_model, gradcam, images)
    assert lost_marked < 1.1 * lost_elsewhere
    finer = explain.GradCam(pad_model, pad_model.get_layer("block2_conv1_relu"))
    lost_marked, lost_elsewhere = probability_lost_where_marked_and_elsewhere(pad_model, finer, images)
    assert lost_marked > 1.2 * lost_elsewhere


# ---------------------------------------------------------------- occlusion


def test_occlusion_needs_a_square_that_moves_and_fits(pad_model):
    seven = preprocess(template_strokes(7))
    for settings in ({"stride": 0}, {"stride": -2}, {"stride": 1.5}, {"patch": 0}, {"patch": 29}):
        with pytest.raises(ConfigError, match="occlusion"):
            explain.occlusion_map(pad_model, seven, **settings)


def test_occlusion_map_of_a_drawing(pad_model):
    seven = preprocess(template_strokes(7))
    occlusion = explain.occlusion_map(pad_model, seven)
    assert occlusion.digit == 7 and occlusion.answers.shape == occlusion.probabilities.shape == (12, 12)
    # A square over the empty corner changes nothing: black on black.
    assert occlusion.probabilities[0, 0] == pytest.approx(occlusion.probability, abs=1e-6)
    assert occlusion.drop.max() > 0.1 and occlusion.drop[0, 0] == pytest.approx(0, abs=1e-6)
    others = occlusion.other_answers()
    assert list(others.values()) == sorted(others.values(), reverse=True) and 7 not in others
    assert sum(others.values()) == int((occlusion.answers != 7).sum())


def test_models_without_what_explanations_need_are_refused():
    dense_only = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                                   keras.layers.Dense(10, activation="softmax")])
    with pytest.raises(ModelStructureError, match="no convolution"):
        explain.gradcam_layer(dense_only)
    no_softmax = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3), keras.layers.Flatten(),
                                   keras.layers.Dense(10)])
    with pytest.raises(ModelStructureError, match="softmax"):
        explain.GradCam(no_softmax)


# ---------------------------------------------------------------- the pad's explain view


@pytest.fixture
def pad_with_explain(pad_model):
    pad = DrawingPad(Predictor(pad_model))
    return pad, ExplainPanel.attach(pad)


def test_the_light_pad_says_the_explain_view_needs_the_keras_model():
    with pytest.raises(ConfigError, match=r"the explain view needs the Keras model.*Predictor\.load\(\)"):
        ExplainPanel.attach(DrawingPad(pad_predictor()))


def test_explain_view_runs_only_while_shown(pad_with_explain):
    pad, panel = pad_with_explain
    assert pad.side.children == (pad.result, panel.widget)
    assert "numvision-explain-toggle" in panel.toggle._dom_classes and "numvision-explain" in panel.view._dom_classes
    calls, gradcam = [], panel.gradcam
    panel.gradcam = lambda *args: calls.append(args) or gradcam(*args)
    pad.draw(template_strokes(7))
    assert panel.view.value == "" and calls == []  # switched off: the plain pad, no Grad-CAM

    panel.toggle.value = True  # switched on: the current drawing is explained at once
    assert EXPLAIN_DIGIT.findall(panel.view.value) == ["7"] and 'class="numvision-gradcam"' in panel.view.value
    pad.clear()
    assert "numvision-explain-status" in panel.view.value and "numvision-gradcam" not in panel.view.value
    four = template_strokes(4)
    pad.draw(four)  # the answer after every stroke is explained
    assert EXPLAIN_DIGIT.findall(panel.view.value) == ["4"] and len(calls) == 1 + len(four)

    panel.toggle.value = False  # switched off: the plain panel again, and no more Grad-CAM
    pad.clear()
    pad.draw(template_strokes(1))
    assert panel.view.value == "" and len(calls) == 1 + len(four) and pad.prediction.digit == 1


def test_explain_view_says_when_it_explains_a_guess_on_something_that_is_not_a_digit(pad_with_explain):
    pad, panel = pad_with_explain
    panel.toggle.value = True
    pad.draw([[(20, 140), (90, 120), (160, 140), (230, 120), (270, 140)]])  # a wave: far wider than a digit
    assert not pad.prediction.is_digit
    assert "The pad says this is not a digit. The network on its own would still have guessed" in panel.view.value
    assert EXPLAIN_DIGIT.findall(panel.view.value) == [str(pad.prediction.digit)]
    assert 'class="numvision-gradcam"' in panel.view.value and "Where the network looked for the" not in panel.view.value


def test_the_overlay_takes_a_heat_map_as_grad_cam_returns_it(gradcam):
    seven = preprocess(template_strokes(7))
    heat = gradcam(seven)  # a batch of one: (1, 28, 28)
    overlay = plots.heatmap_overlay(seven, heat)
    assert overlay.shape == (28, 28, 3) and np.array_equal(overlay, plots.heatmap_overlay(seven, heat[0]))
    with pytest.raises(ImageError, match=r"the heat map must be one 28x28 picture, not .* shape \(2, 28, 28\)"):
        plots.heatmap_overlay(seven, np.concatenate([heat, heat]))


def test_integrated_gradients_need_a_whole_number_of_steps(pad_model):
    # 0 steps divided by 0 into NaN attributions; negative or fractional steps crashed deep in NumPy.
    for steps in (0, -3, 2.5, True):
        with pytest.raises(ConfigError, match=rf"integrated gradients need a whole number of steps, 1 or more, "
                                              rf"not {steps}"):
            explain.IntegratedGradients(pad_model, steps=steps)

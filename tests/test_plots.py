"""Figures with more, or fewer, things to show than the usual case: every model, curve and picture is drawn."""
import re
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas  # seaborn's: a lesson may read the history CSV with it
import pytest
from scipy.special import softmax

from numvision_lib import plots
from numvision_lib.calibration import reliability_curve
from numvision_lib.errors import ConfigError, ImageError


def test_every_model_gets_its_line_of_accuracies_by_writer():
    reports = {f"model {index}": {"by_writer": {"w1": {"accuracy": 0.5 + index / 100, "samples": 3},
                                                "w2": {"accuracy": 0.9, "samples": 3}}}
               for index in range(7)}
    figure = plots.plot_accuracy_by_writer(reports)
    assert [line.get_label() for line in figure.axes[0].get_lines()] == list(reports)


def test_the_reliability_diagram_draws_every_curve():
    rng = np.random.default_rng(0)
    curves = {f"model {index}": reliability_curve(softmax(rng.normal(0, 3, (50, 10)), axis=1),
                                                  rng.integers(0, 10, 50))
              for index in range(6)}
    figure = plots.plot_reliability_diagram(curves)
    drawn = [line.get_label() for line in figure.axes[0].get_lines()][1:]  # after the diagonal
    assert [label.split(" (ECE")[0] for label in drawn] == list(curves)


def test_a_digit_with_few_examples_shows_those_it_has():
    images = np.random.default_rng(0).integers(0, 256, (23, 28, 28)).astype(np.uint8)
    labels = np.array([3] * 20 + [5] * 3)
    figure = plots.plot_examples_per_digit(images, labels, per_digit=4)
    shown = np.array([len(ax.get_images()) for ax in figure.axes]).reshape(10, 4).sum(axis=1)
    assert shown.tolist() == [0, 0, 0, 4, 0, 3, 0, 0, 0, 0]


@pytest.mark.parametrize("plot", [plots.plot_heatmaps, plots.plot_attributions])
def test_a_figure_with_nothing_to_show_beside_the_picture_says_so(plot):
    with pytest.raises(ConfigError, match="nothing to plot"):
        plot(np.zeros((28, 28)), {})


def test_the_confidence_histogram_takes_plain_lists():
    figure = plots.plot_confidence_histogram([0.9, 0.5, 0.99], [True, False, True])
    assert [text.get_text() for text in figure.axes[0].get_legend().get_texts()] == ["right (2)", "wrong (1)"]
    # 1s and 0s are right and wrong, not positions 1 and 0 of the confidences.
    figure = plots.plot_confidence_histogram(np.array([0.9, 0.5, 0.99]), np.array([1, 0, 1]))
    assert [text.get_text() for text in figure.axes[0].get_legend().get_texts()] == ["right (2)", "wrong (1)"]
    with pytest.raises(ConfigError, match="3 confidences but 2 right/wrong answers"):
        plots.plot_confidence_histogram([0.9, 0.5, 0.99], [True, False])


def test_accuracy_against_epsilon_needs_a_curve():
    with pytest.raises(ConfigError, match="no robustness curves to plot"):
        plots.plot_accuracy_vs_epsilon([])


def test_probabilities_are_the_ten_of_one_picture():
    figure = plots.plot_probabilities(softmax(np.arange(10.0))[None])  # a batch of one, as models return it
    assert len(figure.axes[0].patches) == 10
    with pytest.raises(ConfigError, match=r"ten probabilities, one per digit 0-9, not 3 values"):
        plots.plot_probabilities([0.2, 0.3, 0.5])


def test_a_history_without_accuracy_shows_its_loss():
    figure = plots.plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]})
    assert [ax.get_title() for ax in figure.axes] == ["Loss"]
    with pytest.raises(ConfigError, match="neither 'loss' nor 'accuracy'"):
        plots.plot_history({"learning_rate": [0.1, 0.01]})
    with pytest.raises(ConfigError, match=re.escape("a history has one value per epoch in every column; these have "
                                                    "{'loss': 2, 'val_loss': 1}")):
        plots.plot_history({"loss": [1.0, 0.5], "val_loss": [1.1]})  # was matplotlib's ValueError


def test_a_normalised_confusion_matrix_shows_shares():
    counts = np.diag(np.full(10, 90)) + 1
    figure = plots.plot_confusion_matrix(counts.tolist())
    assert figure.axes[0].get_title() == "Confusion matrix (910 of 1,000 right)"
    assert figure.axes[0].texts[1].get_text() == "1"
    shares = counts / counts.sum(axis=1, keepdims=True)
    figure = plots.plot_confusion_matrix(shares)
    assert figure.axes[0].get_title() == "Confusion matrix (shares: 91.0% on the diagonal)"
    assert figure.axes[0].texts[1].get_text() == "0.01"
    # Whole numbers as floats (counts summed in a float array) are still counts.
    assert plots.plot_confusion_matrix(counts.astype(float)).axes[0].texts[1].get_text() == "1"
    # ... but not the normalised matrix of a model without mistakes: whole numbers too, its rows adding up to 1.
    perfect = np.diag(np.full(10, 93.0)) / 93
    figure = plots.plot_confusion_matrix(perfect)
    assert figure.axes[0].get_title() == "Confusion matrix (shares: 100.0% on the diagonal)"
    assert figure.axes[0].texts[0].get_text() == "1.00"
    assert plots.plot_confusion_matrix(np.diag(np.full(10, 93))).axes[0].get_title() == \
        "Confusion matrix (930 of 930 right)"
    for wrong in (np.ones((10, 9)), -np.ones((10, 10)), np.full((10, 10), np.nan)):
        with pytest.raises(ConfigError, match="a confusion matrix is a square table"):
            plots.plot_confusion_matrix(wrong)


def test_the_history_can_be_what_model_fit_returns():
    from numvision_lib._tensorflow import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    fitted = model.fit(rng.normal(size=(32, 4)), rng.integers(0, 2, 32), validation_split=0.25, epochs=2,
                       verbose=0)
    figure = plots.plot_history(fitted)
    assert [ax.get_title() for ax in figure.axes] == ["Loss", "Accuracy"]
    assert len(figure.axes[0].get_lines()) == 2  # training and validation
    with pytest.raises(ConfigError, match="what model.fit returns, or its .history dict of lists; not a list"):
        plots.plot_history([0.5, 0.4])
    table = plots.plot_history(pandas.DataFrame(fitted.history))
    assert [ax.get_title() for ax in table.axes] == ["Loss", "Accuracy"]


def test_per_digit_accuracies_are_ten_shares():
    figure = plots.plot_per_class_accuracy([0.99, 0.995, 0.98, 0.97, 0.99, 0.985, 0.99, 0.98, 0.97, 0.96])
    assert len(figure.axes[0].patches) == 10
    assert figure.axes[0].texts[1].get_text() == "99.5%"
    for wrong in ([99.0] * 10, [0.9] * 9, "accuracy", [[0.9] * 10] * 2, [float("nan")] * 10):
        with pytest.raises(ConfigError, match="ten accuracies, one per digit 0-9, each a share from 0 to 1"):
            plots.plot_per_class_accuracy(wrong)


def test_a_digit_without_images_gets_no_bar():
    """NaN is no accuracy (no images of that digit): a bar at 0% would say every one was read wrong."""
    figure = plots.plot_per_class_accuracy([0.99, float("nan"), *[0.98] * 8])
    assert len(figure.axes[0].patches) == 9 and figure.axes[0].texts[1].get_text() == "no images"
    assert figure.axes[0].get_ylim()[0] == pytest.approx(97)  # zoomed in on the digits that were measured


def _histogram(figure) -> list[float]:
    return [bar.get_height() for bar in figure.axes[0].patches]


def test_the_pixel_histogram_reads_pixels_as_the_model_does():
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28)).astype(np.uint8)
    counts = _histogram(plots.plot_pixel_histogram(images))
    assert counts == _histogram(plots.plot_pixel_histogram(images.astype(np.int64)))
    # The network's input, x / 255, on the same 0-255 scale: not 255 levels crowded into the first two bars.
    assert counts == _histogram(plots.plot_pixel_histogram(images / 255))
    # A blur's rounding above 1, which the model takes too, is full ink.
    assert _histogram(plots.plot_pixel_histogram(np.full((28, 28), 1.0000000000000002)))[255] == 28 * 28
    with pytest.raises(ConfigError, match="whole numbers are levels from 0 to 255.*these go from -1 to 300"):
        plots.plot_pixel_histogram(np.where(images > 128, 300, -1))
    with pytest.raises(ConfigError, match=r"floats are the network's input, from 0 to 1; these go from 0 to 255 "
                                          r"\(for 0-255 pixels, divide by 255 or give them as uint8"):
        plots.plot_pixel_histogram(images.astype(np.float32))
    with pytest.raises(ConfigError, match="these hold NaN or infinity"):
        plots.plot_pixel_histogram(np.full((28, 28), np.nan))


def test_mean_images_of_a_subset_without_some_digits_say_so():
    images = np.random.default_rng(0).integers(0, 256, (50, 28, 28)).astype(np.uint8)
    labels = [digit % 5 for digit in range(50)]  # a list, as a student may type one: digits 5-9 missing
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Mean of empty slice"
        figure = plots.plot_mean_images(images, labels)
    assert [ax.get_title() for ax in figure.axes] == [*"01234", *(f"{digit}: no images" for digit in range(5, 10))]
    assert [len(ax.get_images()) for ax in figure.axes] == [1] * 5 + [0] * 5
    with pytest.raises(ConfigError, match=r"give one label per image: 50 images, but labels of shape \(40,\)"):
        plots.plot_mean_images(images, labels[:40])
    with pytest.raises(ConfigError, match=r"give one label per image: 50 images, but labels of shape \(40,\)"):
        plots.plot_examples_per_digit(images, labels[:40])


def test_mean_images_share_one_colour_scale_with_full_ink_the_brightest():
    """Each panel scaled to its own brightest mean pixel made a faint 5 look as inky as a 1: "bright means almost
    always ink here" compares the digits only on one scale."""
    images = np.zeros((20, 28, 28), np.uint8)
    images[:10, 5:20, 13:15] = 255  # ten 1s, always in the same place
    images[10:, 5:20, 5:20] = np.random.default_rng(0).integers(0, 256, (10, 15, 15))  # ten scattered others
    labels = [1] * 10 + [5] * 10
    for pixels, full_ink in ((images, 255), (images.astype(np.int64), 255), (images / 255, 1)):
        figure = plots.plot_mean_images(pixels, labels)
        limits = [ax.get_images()[0].get_clim() for ax in figure.axes if ax.get_images()]
        assert limits == [(0, full_ink)] * 2


def test_a_figure_is_saved_in_the_format_its_name_says(tmp_path, monkeypatch):
    probabilities = np.full(10, 0.1)
    plots.plot_probabilities(probabilities, save_to=tmp_path / "bars")  # as matplotlib's savefig: .png added
    assert (tmp_path / "bars.png").read_bytes().startswith(b"\x89PNG")
    plots.plot_probabilities(probabilities, save_to=str(tmp_path / "bars.SVG"))
    assert b"<svg" in (tmp_path / "bars.SVG").read_bytes()[:500]
    plots.plot_probabilities(probabilities, save_to=tmp_path / "bars.jpg")
    assert (tmp_path / "bars.jpg").read_bytes().startswith(b"\xff\xd8")
    with pytest.raises(ConfigError, match=r"cannot save a figure as bars\.v2: matplotlib does not write \.v2 files\. "
                                          r"End the name in one of .*\.pdf, .*\.png, .*\.svg"):
        plots.plot_probabilities(probabilities, save_to=tmp_path / "bars.v2")
    with pytest.raises(ConfigError, match=r"is a folder: give the name of the picture file to write in it, such as "
                                          r".*figure\.png"):
        plots.plot_probabilities(probabilities, save_to=tmp_path)
    with monkeypatch.context() as without_latex:
        without_latex.setenv("PATH", str(tmp_path / "no programs"))
        with pytest.raises(ConfigError, match=r"matplotlib cannot write bars\.pgf here: 'xelatex' not found.*\. Save "
                                              r"it as \.png, \.pdf or \.svg, which need nothing more"):
            plots.plot_probabilities(probabilities, save_to=tmp_path / "bars.pgf")
        with plt.rc_context({"text.usetex": True}), pytest.raises(
                ConfigError, match=r"cannot lay out this figure's text: .*latex could not be found\. Switch LaTeX "
                                   r"off with plt\.rcParams\['text\.usetex'\] = False"):
            plots.plot_probabilities(probabilities)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bars.SVG", "bars.jpg", "bars.png"]
    assert not plt.get_fignums()  # closed even when it could not be saved


def test_probabilities_and_confidences_are_shares():
    for wrong in (np.arange(10.0) - 5, np.full(10, 10.0)):  # logits, percentages
        with pytest.raises(ConfigError, match=r"not probabilities \(each row 0 or more, summing to 1\)"):
            plots.plot_probabilities(wrong)
    with pytest.raises(ConfigError, match=r"these answers hold NaN .*which a model answers when its training went "
                                          r"wrong \(diverged\): train it again"):
        plots.plot_probabilities(np.full(10, np.nan))
    with pytest.raises(ConfigError, match=r"one per digit 0-9, not an array of shape \(2, 5\)"):
        plots.plot_probabilities(np.full((2, 5), 0.1))
    for wrong in ([99, 95, 40], [0.9, float("nan"), 0.5]):
        with pytest.raises(ConfigError, match=r"confidences are the probabilities of the answers, from 0 to 1 "
                                              r"\(0.99, not 99\)"):
            plots.plot_confidence_histogram(wrong, [True, True, False])


def test_the_digit_grid_draws_pixels_as_the_model_reads_them():
    images = np.random.default_rng(0).integers(0, 256, (3, 28, 28))  # int64, as np.random gives them
    figure = plots.plot_digit_grid(images)
    assert figure.axes[0].get_images()[0].get_clim() == (0, 255)
    assert plots.plot_digit_grid(images / 255).axes[0].get_images()[0].get_clim() == (0, 1)
    with pytest.raises(ConfigError, match="floats are the network's input, from 0 to 1; these go from 0 to 255"):
        plots.plot_digit_grid(images.astype(float))
    one = plots.plot_digit_grid(images[0])  # one picture alone, and pictures as lists
    assert sum(len(ax.get_images()) for ax in one.axes) == 1
    assert sum(len(ax.get_images()) for ax in plots.plot_digit_grid(images.tolist()).axes) == 3
    for columns in (0, 2.5):
        with pytest.raises(ConfigError, match=f"columns is how many pictures each row shows: a whole number, 1 or "
                                              f"more, not {columns}"):
            plots.plot_digit_grid(images, columns=columns)
    with pytest.raises(ConfigError, match="give one of the titles per picture: there are 3 pictures and 1 titles"):
        plots.plot_digit_grid(images, titles=["7"])
    # The steps of preprocessing: a 280x280 canvas of floats, a 20x20 crop of levels, the 28x28 input.
    steps = plots.plot_digit_grid([np.zeros((280, 280)), np.full((20, 20), 255, np.uint8), images[0] / 255])
    assert [image.get_array().shape for ax in steps.axes for image in ax.get_images()] == [(280, 280), (20, 20),
                                                                                           (28, 28)]
    assert [image.get_clim() for ax in steps.axes for image in ax.get_images()] == [(0, 1), (0, 255), (0, 1)]
    with pytest.raises(ConfigError, match=r"give pictures as 2-D arrays of grey levels, .* not of shape \(28, 28, 3\)"):
        plots.plot_digit_grid(np.zeros((3, 28, 28, 3)))


def test_one_curve_alone_is_plotted_and_nothing_fooled_is_said():
    from numvision_lib.attacks import RobustnessCurve

    curve = RobustnessCurve("model", (0.0, 0.1), (0.99, 0.5), 100)
    assert [line.get_label() for line in plots.plot_accuracy_vs_epsilon(curve).axes[0].get_lines()] == ["model"]
    assert plots.plot_accuracy_vs_epsilon(curve).axes[0].get_title() == "Accuracy under FGSM attack (100 test images)"
    rng = np.random.default_rng(0)
    reliability = reliability_curve(softmax(rng.normal(0, 3, (50, 10)), axis=1), rng.integers(0, 10, 50))
    assert len(plots.plot_reliability_diagram(reliability).axes[0].get_lines()) == 2  # the diagonal and the curve
    with pytest.raises(ConfigError, match="nothing fooled the model at these epsilons"):
        plots.plot_adversarial_example(None)  # what attacks.smallest_fooling_epsilon returns then


@pytest.mark.parametrize("plot", [plots.plot_heatmaps, plots.plot_attributions])
def test_the_picture_beside_the_maps_may_come_as_a_batch_of_one(plot):
    picture = np.zeros((1, 28, 28, 1), dtype=np.float32)  # as a model takes it
    picture[0, 5:20, 10:14] = 1.0
    figure = plot(picture, {"map": np.linspace(0, 1, 784).reshape(1, 28, 28)})
    assert figure.axes[0].get_images()[0].get_array().shape == (28, 28)


def test_curves_measured_on_different_numbers_of_images_each_say_their_own():
    """The title counted only the first curve's pictures: 50 for a curve measured on 400."""
    from numvision_lib.attacks import RobustnessCurve

    few = RobustnessCurve("numvision_cnn", (0.0, 0.1), (0.99, 0.5), 50)
    many = RobustnessCurve("numvision_plus_real", (0.0, 0.1), (0.99, 0.7), 4000)
    ax = plots.plot_accuracy_vs_epsilon([few, many]).axes[0]
    assert ax.get_title() == "Accuracy under FGSM attack"
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["numvision_cnn (50 test images)",
                                                                          "numvision_plus_real (4,000 test images)"]
    ax = plots.plot_accuracy_vs_epsilon([few, RobustnessCurve("other", (0.0,), (0.9,), 50)]).axes[0]
    assert ax.get_title() == "Accuracy under FGSM attack (50 test images)"
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["numvision_cnn", "other"]


def test_writers_and_students_appear_by_rank_under_one_rule():
    from numvision_lib.class_report import anonymous_labels

    assert plots.ranked_labels("writer", 3) == ["writer 1", "writer 2", "writer 3"]
    assert anonymous_labels(2) == plots.ranked_labels("student", 2) == ["student 1", "student 2"]
    reports = {"a": {"by_writer": {"w1": {"accuracy": 0.9}, "w2": {"accuracy": 0.5}}}}
    ticks = plots.plot_accuracy_by_writer(reports, who="pupil").axes[0].get_xticklabels()
    assert [tick.get_text() for tick in ticks] == plots.ranked_labels("pupil", 2)


@pytest.mark.parametrize("accuracies", [[1.0], [1.0, 1.0, 1.0], [0.6, 1.0], [0.0], [0.0, 1.0], [0.9, 0.95]],
                         ids=str)
def test_accuracies_by_writer_stay_within_0_and_100_percent(accuracies):
    """One held-out student, or all read perfectly: matplotlib padded 100% on both sides, ticks up to 106%."""
    reports = {name: {"by_writer": {f"w{index}": {"accuracy": accuracy} for index, accuracy in enumerate(accuracies)}}
               for name in ("before", "after fine-tuning")}
    ax = plots.plot_accuracy_by_writer(reports, who="student").axes[0]
    bottom, top = ax.get_ylim()
    assert -2.5 < bottom <= min(accuracies) * 100 and max(accuracies) * 100 < top < 102.5  # room for a marker
    assert all(0 <= tick <= 100 for tick in ax.get_yticks() if bottom <= tick <= top)


def test_accuracy_by_writer_needs_the_same_writers_for_every_model():
    first = {"by_writer": {"w1": {"accuracy": 0.5}, "w2": {"accuracy": 0.9}}}
    with pytest.raises(ConfigError, match=r"'b' was scored on other writers than 'a' \(it lacks 1 of theirs"):
        plots.plot_accuracy_by_writer({"a": first, "b": {"by_writer": {"w1": {"accuracy": 0.6}}}})
    with pytest.raises(ConfigError, match="no reports to plot"):
        plots.plot_accuracy_by_writer({})
    with pytest.raises(ConfigError, match=r"reference is a \(label, accuracy\) pair.* not 0.99"):
        plots.plot_accuracy_by_writer({"a": first}, reference=0.99)
    figure = plots.plot_accuracy_by_writer({"a": first}, reference=("MNIST test images", 0.99))
    assert figure.axes[0].get_lines()[-1].get_label() == "MNIST test images (99.00%)"


def test_an_overlay_of_a_heat_map_of_nan_is_refused():
    with pytest.raises(ImageError, match="the heat map must be numbers, not NaN or infinity"):
        plots.heatmap_overlay(np.zeros((28, 28)), np.full((28, 28), np.nan))


def test_an_overlay_takes_heat_from_0_to_1_and_a_strength_from_0_to_1():
    """Signed attributions were drawn as heat, the pixels that lowered the score as "no colour: not used", and a
    strength of 2 gave colours from -0.98."""
    picture = np.zeros((28, 28), np.float32)
    picture[10:18, 12:15] = 1
    heat = np.zeros((28, 28))
    heat[8:20, 10:18] = 1.0
    signed = np.linspace(-0.2, 0.5, 784).reshape(28, 28)
    for wrong, shown in ((signed, "-0.2 to 0.5"), (heat * 10, "0 to 10")):
        with pytest.raises(ImageError, match=rf"^the heat map goes from {shown}, but heat maps go from 0 to 1, as "
                                             rf"GradCam gives them: for signed attributions \(integrated gradients\) "
                                             rf"use plots\.plot_attributions, and scale any other map to 0-1 first"):
            plots.heatmap_overlay(picture, wrong)
        with pytest.raises(ImageError, match=r"^the heat map 'integrated gradients' goes from"):
            plots.plot_heatmaps(picture, {"Grad-CAM": heat, "integrated gradients": wrong})
    assert plots.plot_attributions(picture, {"integrated gradients": signed}).axes[1].get_images()
    for strength in (2.0, -1.0, "0.5", float("nan"), None):
        with pytest.raises(ConfigError, match=rf"^strength is how strongly the colour covers the picture where the "
                                              rf"heat is 1, a number from 0 \(not at all\) to 1 \(colour only\), not "
                                              rf"{re.escape(repr(strength))}$"):
            plots.heatmap_overlay(picture, heat, strength=strength)
    assert np.array_equal(plots.heatmap_overlay(picture, heat, strength=0), np.repeat(picture[..., None], 3, axis=2))
    overlay = plots.heatmap_overlay(picture, heat, strength=1)
    assert overlay.dtype == np.float32 and overlay.min() >= 0 and overlay.max() <= 1
    # A map divided by its own peak may land a hair above 1: still a heat map.
    assert np.array_equal(plots.heatmap_overlay(picture, heat * (1 + 1e-7)), plots.heatmap_overlay(picture, heat))


def _conv_layer_views() -> list:
    from numvision_lib.explain import ConvLayerView

    rng = np.random.default_rng(0)
    return [ConvLayerView("conv1", rng.random((26, 26, 4)), rng.normal(size=(3, 3, 4)), 1),
            ConvLayerView("conv2", rng.random((1, 1, 6)), rng.normal(size=(3, 3, 6)), 4)]


@pytest.mark.parametrize("draw, problem", [
    (lambda image, maps, views: plots.plot_heatmaps(image, maps["heat"]),
     r"^give the heat maps by name, \{title: one 28x28 map\}, such as \{'Grad-CAM': heat\[0\]\}; not a ndarray$"),
    (lambda image, maps, views: plots.plot_attributions(image, maps["heat"]),
     r"^give the attributions by name, \{title: one 28x28 map\}, such as \{'integrated gradients': "
     r"attributions\[0\]\}; not a ndarray$"),
    (lambda image, maps, views: plots.plot_heatmaps(image, {"fine": maps["heat"][0], "two": maps["heat"]}),
     r"^the heat map 'two' must be one 28x28 picture, not an array of shape \(2, 28, 28\)$"),
    (lambda image, maps, views: plots.plot_attributions(image, {"nan": np.full((28, 28), np.nan)}),
     r"^the attributions 'nan' must be numbers, not NaN or infinity"),
    (lambda image, maps, views: plots.plot_feature_maps([]), r"^no layers to show: give what explain.feature_maps"),
    (lambda image, maps, views: plots.plot_feature_maps(views, per_layer=0),
     r"^the number of strongest filters to show must be a whole number, 1 or more, not 0$"),
    (lambda image, maps, views: plots.plot_feature_maps(maps["heat"]),
     r"^plot_feature_maps shows what explain.feature_maps\(model, image\) gives: a list of the convolutions' views, "
     r"or one of them; not an array of shape \(2, 28, 28\)$"),
    (lambda image, maps, views: plots.plot_feature_maps([*views, "conv3"]), r"^plot_feature_maps shows what"),
    (lambda image, maps, views: plots.plot_reliability_diagram({"a": 0.5}),
     r"^'a' is a float, not a reliability curve: give \{name: calibration.reliability_curve\(...\)\}"),
    (lambda image, maps, views: plots.plot_occlusion(maps["heat"]),
     r"^plot_occlusion shows what explain.occlusion_map\(model, image\) gives, not an array of shape \(2, 28, 28\)$"),
    (lambda image, maps, views: plots.plot_adversarial_example([1]),
     r"^plot_adversarial_example shows what attacks.attack\(model, image, epsilon\) gives, not \[1\]$"),
], ids=["heat maps unnamed", "attributions unnamed", "two maps as one", "NaN attributions", "no layers",
        "no filters per layer", "no layers but maps", "a name among the layers", "no reliability curve",
        "no occlusion map", "no adversarial example"])
def test_what_a_figure_cannot_show_is_refused_before_the_figure_is_made(draw, problem):
    """A figure made before the error stayed open, and a notebook showed it half-drawn under the traceback."""
    image = np.zeros((28, 28), np.float32)
    maps = {"heat": np.zeros((2, 28, 28))}
    with pytest.raises((ConfigError, ImageError), match=problem):
        draw(image, maps, _conv_layer_views())
    assert not plt.get_fignums()


@pytest.mark.parametrize("draw", [
    lambda: plots.plot_mean_images(np.zeros((3, 28, 28), np.uint8), [1, 2, 3]),
    lambda: plots.plot_heatmaps(np.zeros((28, 28)), {"map": np.zeros((28, 28))}),
    lambda: plots.plot_feature_maps(_conv_layer_views()),
    lambda: plots.plot_accuracy_by_writer({"a": {"by_writer": {"w1": {"accuracy": 0.5}}}}),
], ids=["mean images", "heat maps", "feature maps", "accuracy by writer"])
def test_a_figure_that_fails_while_it_is_drawn_is_closed(monkeypatch, draw):
    """What only drawing finds out (a value inside a report or a curve) left the half-drawn figure open, and a
    notebook showed it under the error."""
    from matplotlib.axes import Axes

    def failing(*args, **kwargs):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(Axes, "set_title", failing)
    monkeypatch.setattr(Axes, "text", failing)
    with pytest.raises(RuntimeError, match="drawing failed"):
        draw()
    assert not plt.get_fignums()


def test_feature_maps_of_one_layer_or_a_list_are_drawn():
    views = _conv_layer_views()
    assert len(plots.plot_feature_maps(views, per_layer=3).axes) == 2 * (1 + 2 * 3)
    assert len(plots.plot_feature_maps(views[0], per_layer=3).axes) == 1 + 2 * 3  # a lone view, not a TypeError


def test_class_counts_are_counted_from_checked_labels():
    figure = plots.plot_class_counts([3, 3, 5], np.array([3, 9]))  # a list, as a student may type one
    bars = [bar.get_height() for bar in figure.axes[0].patches]
    assert bars[:10] == [0, 0, 0, 2, 0, 1, 0, 0, 0, 0] and bars[10:] == [0, 0, 0, 1, 0, 0, 0, 0, 0, 1]
    with pytest.raises(ConfigError, match="these labels are one-hot rows"):
        plots.plot_class_counts(np.eye(10)[[3, 5]], [3, 9])
    for wrong, problem in (([-1, 3], r"these also hold \[-1\]"), ([2.5, 3], r"these also hold \[2\.5\]"),
                           (["3", "5"], "labels are the digits 0-9 as numbers")):
        with pytest.raises(ConfigError, match=problem):
            plots.plot_class_counts([3, 5], wrong)
    with pytest.raises(ConfigError, match="no training images to count"):
        plots.plot_class_counts([], [3, 9])


def _mistakes(count: int) -> list:
    from numvision_lib.evaluation import Mistake

    return [Mistake(index, 3, 5, 0.9) for index in range(count)]


@pytest.mark.parametrize("count", [0, -1, 2.5, True, "30"])
def test_the_mistakes_shown_are_a_whole_number_1_or_more(count):
    """Not an empty figure for 0, all but the last mistake for -1, nor the slice's TypeError for 2.5."""
    with pytest.raises(ConfigError, match=rf"^count is how many mistakes to show: a whole number, 1 or more, "
                                          rf"not {re.escape(repr(count))}$"):
        plots.plot_mistakes(np.zeros((5, 28, 28), np.uint8), _mistakes(5), count=count)


def test_mistakes_are_shown_from_the_pictures_they_were_made_on():
    with pytest.raises(ConfigError, match="give the pictures the mistakes were made on: these are 3, and a mistake was "
                                          "made on picture 3"):
        plots.plot_mistakes(np.zeros((3, 28, 28), np.uint8), _mistakes(5))
    figure = plots.plot_mistakes(np.zeros((28, 28), np.uint8), _mistakes(1))  # one picture, as it was evaluated
    assert sum(len(ax.get_images()) for ax in figure.axes) == 1 and figure.axes[0].get_title() == "3→5 (90%)"


def test_a_drawn_figure_is_saved_later_as_save_to_saves_it(tmp_path):
    probabilities = np.full(10, 0.1)
    plots.plot_probabilities(probabilities, save_to=tmp_path / "at once.png")
    assert plots.save_figure(plots.plot_probabilities(probabilities), tmp_path / "later") == tmp_path / "later.png"
    assert (tmp_path / "later.png").read_bytes() == (tmp_path / "at once.png").read_bytes()


def test_a_count_beyond_the_mistakes_shows_them_all():
    figure = plots.plot_mistakes(np.zeros((5, 28, 28), np.uint8), _mistakes(5), count=10**30)
    assert sum(len(ax.get_images()) for ax in figure.axes) == 5


@pytest.mark.parametrize("per_digit", [0, -1, 2.5, None])
def test_examples_per_digit_are_a_whole_number_1_or_more(per_digit):
    """Not matplotlib's ValueError about a grid of no columns, nor its TypeError for 2.5."""
    with pytest.raises(ConfigError, match=rf"^per_digit is how many examples each digit's row shows: a whole number, "
                                          rf"1 or more, not {per_digit}$"):
        plots.plot_examples_per_digit(np.zeros((5, 28, 28), np.uint8), [3] * 5, per_digit=per_digit)


@pytest.mark.parametrize("seed", [-1, 2.5, None, 2**32])
def test_the_examples_are_chosen_by_a_seed_as_every_seed_is_checked(seed):
    """Not NumPy's own ValueError or TypeError, nor None taken as a new choice every run."""
    with pytest.raises(ConfigError, match=rf"^the seed must be a whole number from 0 to 4294967295, not {seed}$"):
        plots.plot_examples_per_digit(np.zeros((5, 28, 28), np.uint8), [3] * 5, seed=seed)


def test_accuracy_by_writer_takes_whole_reports_by_model_name():
    report = {"accuracy": 0.7, "by_writer": {"w1": {"accuracy": 0.5}, "w2": {"accuracy": 0.9}}}
    with pytest.raises(ConfigError, match=r"give the reports by model name, \{'my model': "
                                          r"evaluation.score_real_handwriting\(...\)\}, not one report alone"):
        plots.plot_accuracy_by_writer(report)
    with pytest.raises(ConfigError, match="give the reports by model name, .* not a list"):
        plots.plot_accuracy_by_writer([report])
    # A report's own accuracies by writer, by mistake: refused without naming the writers in it.
    with pytest.raises(ConfigError, match=r"^report 2 of 2 has no accuracies by writer \('by_writer'\): give each "
                                          r"model's whole report") as refused:
        plots.plot_accuracy_by_writer({"a": report, "b": report["by_writer"]})
    assert "w1" not in str(refused.value)
    with pytest.raises(ConfigError, match="report 1 of 1 has no accuracies by writer"):
        plots.plot_accuracy_by_writer({"a": 0.7})


@pytest.mark.parametrize("curves", [None, [0.99, 0.5], {"model": 0.5}])
def test_accuracy_against_epsilon_needs_robustness_curves(curves):
    with pytest.raises(ConfigError, match=rf"^give the robustness curves to plot as a list of "
                                          rf"attacks.RobustnessCurve, .* or one curve alone; not "
                                          rf"{re.escape(repr(curves))}$"):
        plots.plot_accuracy_vs_epsilon(curves)


def test_probabilities_in_rows_of_different_lengths_are_refused():
    with pytest.raises(ConfigError, match="ten probabilities, one per digit 0-9, not rows of different lengths"):
        plots.plot_probabilities([[0.1] * 10, [0.2] * 5])


@pytest.mark.parametrize("plot", [plots.plot_heatmaps, plots.plot_attributions])
def test_the_picture_beside_the_maps_is_read_as_the_model_reads_it(plot):
    """MNIST's uint8 levels are pixels from 0 to 255, not every stroke clipped to white."""
    levels = np.zeros((28, 28), np.uint8)
    levels[5:20, 10:14] = 128
    heat = np.linspace(0, 1, 784).reshape(28, 28)
    shown = plot(levels, {"map": heat}).axes[0].get_images()[0].get_array()
    assert np.allclose(shown, levels / 255)
    assert np.allclose(plots.heatmap_overlay(levels, heat), plots.heatmap_overlay(levels / 255, heat))
    with pytest.raises(ConfigError, match="floats are the network's input, from 0 to 1; these go from 0 to 128"):
        plot(levels.astype(np.float32), {"map": heat})
    with pytest.raises(ImageError, match="laying maps over a picture takes one picture at a time, not 2"):
        plot(np.stack([levels, levels]), {"map": heat})

"""Figures with more, or fewer, things to show than the usual case: every model, curve and picture is drawn."""
import numpy as np
import pandas  # seaborn's: a lesson may read the history CSV with it
import pytest
from scipy.special import softmax

from numvision_lib import plots
from numvision_lib.calibration import reliability_curve
from numvision_lib.errors import ConfigError


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

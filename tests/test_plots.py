"""Figures with more, or fewer, things to show than the usual case: every model, curve and picture is drawn."""
import numpy as np
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

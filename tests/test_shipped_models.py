"""The shipped models score what their committed results and model cards say."""
import json

import pytest

from numvision_lib.drawn_digits import drawn_digit_sets, score_drawn_digits
from numvision_lib.evaluation import evaluate
from numvision_lib.model import load_model
from numvision_lib.paths import MODELS_DIR, RESULTS_DIR
from numvision_lib.predict import Predictor

SHIPPED_CARDS = sorted(MODELS_DIR.glob("*.json"))
MINIMUM_TEST_ACCURACY = {"numvision_cnn": 0.992}


def test_the_reference_model_is_shipped():
    assert (MODELS_DIR / "numvision_cnn.keras").is_file() and (MODELS_DIR / "numvision_cnn.json").is_file()


@pytest.mark.parametrize("card_path", SHIPPED_CARDS, ids=[p.stem for p in SHIPPED_CARDS])
def test_shipped_figures_are_what_the_model_scores(card_path, mnist):
    card = json.loads(card_path.read_text())
    report = evaluate(load_model(MODELS_DIR / card["model_file"]), mnist.x_test, mnist.y_test)
    shipped_metrics = json.loads((RESULTS_DIR / card["name"] / "metrics.json").read_text())
    assert report.accuracy >= MINIMUM_TEST_ACCURACY.get(card["name"], 0.992)
    # Thread count and oneDNN change the last digits, hence the tolerance.
    assert report.accuracy == pytest.approx(shipped_metrics["test_accuracy"], abs=0.0005)
    assert report.accuracy == pytest.approx(card["metrics"]["test_accuracy"], abs=0.0005)
    assert card["data"]["train_images"] + card["data"]["validation_images"] == 60_000, "trained on full MNIST"


@pytest.mark.parametrize("card_path", SHIPPED_CARDS, ids=[p.stem for p in SHIPPED_CARDS])
def test_shipped_drawn_digit_figures_are_what_the_model_scores(card_path):
    """The drawing pad picks its model by these figures, so they must be true."""
    card = json.loads(card_path.read_text())
    metrics = card["metrics"]
    by_variant = metrics["drawn_accuracy_by_variant"]
    samples_per_digit = metrics["drawn_samples"] // (10 * len(by_variant))
    predictor = Predictor.load(MODELS_DIR / card["model_file"])
    sets = drawn_digit_sets(samples_per_digit, metrics["drawn_seed"], list(by_variant))
    for variant, samples in sets.items():
        score = score_drawn_digits(predictor, samples, variant)
        # One drawing of 300 may flip with the thread count; more would mean the figures are stale.
        assert score.accuracy == pytest.approx(by_variant[variant], abs=1.01 / len(samples)), variant

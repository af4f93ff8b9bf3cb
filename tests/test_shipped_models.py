"""The shipped models score what their committed results and model cards say."""
import json
import shutil

import numpy as np
import pytest

from numvision_lib.drawn_digits import drawn_digit_sets, score_drawn_digits
from numvision_lib.evaluation import calibrate_model_file, evaluate, evaluate_on_real_handwriting
from numvision_lib.handwriting import SCANS, digit_split, render_every_way, validation_digits
from numvision_lib.model import accuracy, load_model
from numvision_lib.model_card import (DIGIT_CHECK_PATH, REAL_HANDWRITING_ACCURACY,
                                      REAL_HANDWRITING_CONFIDENT_MISTAKES, REAL_HANDWRITING_VAL_ACCURACY, ModelCard,
                                      pad_model_path)
from numvision_lib.not_a_digit import DigitCheck
from numvision_lib.paths import MODELS_DIR, RESULTS_DIR
from numvision_lib.predict import Predictor
from numvision_lib.prediction import NOT_A_DIGIT
from project_scripts import load_script

SHIPPED_CARDS = sorted(MODELS_DIR.glob("*.json"))
MINIMUM_TEST_ACCURACY = {"numvision_cnn": 0.992, "numvision_plus_real": 0.996}


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
    real = card["data"].get("real_handwriting", {"train_images": 0, "validation_images": 0})
    mnist_images = card["data"]["train_images"] + card["data"]["validation_images"]
    assert mnist_images - real["train_images"] - real["validation_images"] == 60_000, "trained on full MNIST"


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


def test_the_pads_temperature_is_what_calibrating_it_through_its_readings_gives(mnist, tmp_path):
    """The temperature is fitted on the average of each picture's readings, as the predictors use it."""
    shipped = pad_model_path()
    for source in (shipped, ModelCard.path_for(shipped)):
        shutil.copy(source, tmp_path / source.name)
    calibration = calibrate_model_file(tmp_path / shipped.name, mnist)
    assert calibration["temperature"] == pytest.approx(ModelCard.for_model(shipped).temperature, abs=0.003)
    assert ModelCard.for_model(tmp_path / shipped.name).calibration == calibration


@pytest.fixture(scope="module")
def real_handwriting():
    """The validation writers' digits (they rank models for the pad) and the benchmark writers' (figures only)."""
    return validation_digits(), render_every_way(digit_split()["benchmark"])


@pytest.mark.parametrize("card_path", SHIPPED_CARDS, ids=[p.stem for p in SHIPPED_CARDS])
def test_shipped_real_handwriting_figures_are_what_the_model_scores(card_path, real_handwriting):
    """The pad picks its model by the validation writers' figure, and the README quotes the benchmark's."""
    validation, benchmark = real_handwriting
    card = ModelCard.load(card_path)
    model = load_model(MODELS_DIR / card.model_file)
    tolerance = 2.01 / len(validation)  # the thread count can flip a digit or two
    assert accuracy(model, validation.model_inputs, validation.labels) == pytest.approx(
        card.metrics[REAL_HANDWRITING_VAL_ACCURACY], abs=tolerance)
    # Through its predictor, with its temperature, as the benchmark measures.
    report = evaluate_on_real_handwriting(MODELS_DIR / card.model_file, benchmark)
    assert report["accuracy"] == pytest.approx(card.metrics[REAL_HANDWRITING_ACCURACY], abs=tolerance)
    assert report["confident_mistakes"]["share_of_samples"] == pytest.approx(
        card.metrics[REAL_HANDWRITING_CONFIDENT_MISTAKES], abs=tolerance)
    # The README says which digits the pad's model misreads however they are drawn: the benchmark's report.
    shipped = json.loads((RESULTS_DIR / "benchmarks" / "real_handwriting.json").read_text())["models"][card.name]
    every_way = str(len(benchmark))
    assert report["misread"]["digits_by_renderings_misread"][every_way] == pytest.approx(
        shipped["misread"]["digits_by_renderings_misread"][every_way], abs=2)


@pytest.fixture(scope="module")
def benchmark_scans():
    return render_every_way(digit_split()["benchmark"], tuple(SCANS))


@pytest.mark.parametrize("card_path", SHIPPED_CARDS, ids=[p.stem for p in SHIPPED_CARDS])
def test_shipped_scan_figures_are_what_the_model_scores(card_path, benchmark_scans):
    """The benchmark's table of the same digits kept as small scans, which the README quotes."""
    card = ModelCard.load(card_path)
    scored = evaluate_on_real_handwriting(MODELS_DIR / card.model_file, benchmark_scans)["by_rendering"]
    shipped = json.loads((RESULTS_DIR / "benchmarks" / "real_handwriting.json").read_text())["scans"]["models"]
    assert list(shipped[card.name]) == list(SCANS)
    for name, figures in shipped[card.name].items():
        assert scored[name]["accuracy"] == pytest.approx(figures["accuracy"], abs=2.01 / figures["samples"]), name
        assert scored[name]["confident_mistakes"]["count"] == pytest.approx(
            figures["confident_mistakes"]["count"], abs=2), name


def test_the_pad_uses_the_model_that_reads_the_validation_writers_best():
    cards = [ModelCard.load(path) for path in SHIPPED_CARDS]
    best = max(cards, key=lambda card: card.metrics[REAL_HANDWRITING_VAL_ACCURACY])
    assert pad_model_path() == MODELS_DIR / best.model_file


def test_shipped_writing_style_figures_are_what_the_pad_scores():
    """The README and notebook 06 quote these for the pad's model and its digit check; every style is in them."""
    writing_styles = load_script("benchmarks/writing_styles.py")
    shipped = json.loads((RESULTS_DIR / "benchmarks" / "writing_styles.json").read_text())
    rows = writing_styles.style_rows(None, shipped["data"]["max_per_digit"])
    assert set(rows) == set(shipped["styles"]), "re-run benchmarks/writing_styles.py"
    pad_figures = shipped["models"][pad_model_path().stem]
    predictor = Predictor.load(pad_model_path(), digit_check_path=None)
    check = DigitCheck.load(DIGIT_CHECK_PATH)
    for name, (digit, drawings) in rows.items():
        measured = writing_styles.score(predictor.probabilities(drawings.model_inputs), digit)
        tolerance = 2.01 / len(drawings)  # the thread count can flip a drawing or two
        assert measured["accuracy"] == pytest.approx(pad_figures[name]["accuracy"], abs=tolerance), name
        assert measured["confident_mistakes"] == pytest.approx(pad_figures[name]["confident_mistakes"],
                                                               abs=tolerance), name
        refused = np.mean(check.refuses(drawings.model_inputs))
        assert refused == pytest.approx(shipped["digit_check_refused"][name], abs=tolerance), name


CHECKED_NOT_A_DIGIT_GROUPS = ("digits, pen_20", "letters", "shapes", "scribbles", "shapes never trained on")


@pytest.fixture(scope="module")
def not_a_digit_benchmark():
    """The not-a-digit benchmark script, its shipped report, its groups of drawings and the pad's predictor."""
    script = load_script("benchmarks/not_a_digit.py")
    shipped = json.loads((RESULTS_DIR / "benchmarks" / "not_a_digit.json").read_text())
    groups = script.benchmark_groups(*script.benchmark_samples(None), None, names=CHECKED_NOT_A_DIGIT_GROUPS)
    return script, shipped, groups, Predictor.load(pad_model_path(), DIGIT_CHECK_PATH)


@pytest.mark.parametrize("group", CHECKED_NOT_A_DIGIT_GROUPS)
def test_shipped_not_a_digit_figures_are_what_the_pad_answers(group, not_a_digit_benchmark):
    """The README's figures for "not a digit", from the pad's answers (its model and digit check)."""
    script, shipped, groups, predictor = not_a_digit_benchmark
    refused = np.mean([script.pad_answer(predictor, drawing)[0] == NOT_A_DIGIT for drawing in groups[group]])
    assert refused == pytest.approx(shipped["groups"][group]["refused"], abs=2.01 / len(groups[group]))

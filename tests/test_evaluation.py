import dataclasses
import json
import re
import shutil

import numpy as np
import pytest

from numvision_lib import evaluation, plots
from numvision_lib._tensorflow import keras
from numvision_lib.calibration import negative_log_likelihood
from numvision_lib.errors import ConfigError, DataError, ModelStructureError
from numvision_lib.evaluation import (NO_ANSWER, EvaluationReport, confident_mistakes, evaluate, evaluate_model_file,
                                      evaluate_on_real_handwriting, score_groups, score_real_handwriting)
from numvision_lib.handwriting import RenderedDigits
from numvision_lib.model import load_model, save_model
from numvision_lib.not_a_digit import build_digit_check


class FixedProbabilities(keras.Model):
    """A stand-in model with known outputs, so every figure of the report can be checked by hand: a Keras model,
    as `evaluate` takes only those (and Predictors)."""

    output_shape = (None, 10)  # what `model.checked_model` reads, without building a network

    def __init__(self, probabilities):
        super().__init__()
        self.fixed = np.asarray(probabilities, dtype=np.float32)

    def predict(self, images, batch_size, verbose):
        return self.fixed[: len(images)]


class SeesItsInput(FixedProbabilities):
    """A stand-in that keeps what it was given: the network's input, after the library has read the pixels."""

    def predict(self, images, batch_size, verbose):
        self.seen = images
        return super().predict(images, batch_size, verbose)


@pytest.mark.parametrize("convert", [lambda x: x, lambda x: x.astype(np.int64),
                                     lambda x: x.astype(np.float32)[..., None] / 255],
                         ids=["uint8", "int64 0-255", "float 0-1"])
def test_the_network_gets_pixels_from_0_to_1(convert):
    pixels = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
    model = SeesItsInput(np.eye(10)[:2])
    evaluate(model, convert(pixels.astype(np.uint8)), [0, 1])
    np.testing.assert_allclose(model.seen[..., 0], pixels / 255, atol=1e-6)


def test_pixels_are_read_by_their_type_never_by_one_pictures_values():
    """One bright pixel in one picture changes nothing of the others; floats still 0-255 are refused."""
    pictures = np.full((3, 28, 28), 0.5, np.float32)
    pictures[2, 0, 0] = 1.04  # an interpolation's overshoot
    model = SeesItsInput(np.eye(10)[:3])
    evaluate(model, pictures, [0, 1, 2])
    assert model.seen[0].max() == 0.5
    for wrong, message in [(np.full((3, 28, 28), 200.0), r"these go from 200 to 200 \(for 0-255 pixels, divide by 255"),
                           (np.full((3, 28, 28), 300), "levels from 0 to 255, as MNIST's; these go from 300 to 300"),
                           (np.full((3, 28, 28), "a"), "arrays of numbers, not of <U1")]:
        with pytest.raises(ConfigError, match=message):
            evaluate(model, wrong, [0, 1, 2])


@pytest.mark.parametrize("labels, message", [
    (np.eye(10)[[0, 1, 2]], r"one-hot rows .* labels.argmax\(axis=1\)"),
    ([0, 1], r"one label per image: 3 images, but labels of shape \(2,\)"),
    ([0, 10, -1], r"digits 0-9; these also hold \[-1, 10\]"),
    (["0", "1", "2"], r"digits 0-9 as numbers, not <U1 values such as \['0', '1', '2'\]"),
])
def test_labels_are_one_digit_per_image(labels, message):
    with pytest.raises(ConfigError, match=message):
        evaluate(FixedProbabilities(np.eye(10)[:3]), np.zeros((3, 28, 28), np.uint8), labels)


def test_no_pictures_or_pictures_of_another_size_are_refused():
    with pytest.raises(ConfigError, match="no test images to evaluate the model on"):
        evaluate(FixedProbabilities(np.eye(10)[:3]), np.zeros((0, 28, 28), np.uint8), [])
    with pytest.raises(ConfigError, match=r"give 28x28 pictures: .* not an array of shape \(3, 32, 32\)"):
        evaluate(FixedProbabilities(np.eye(10)[:3]), np.zeros((3, 32, 32), np.uint8), [0, 1, 2])


def one_hot_like(predicted, confidence):
    rows = np.full((len(predicted), 10), (1 - confidence) / 9)
    rows[np.arange(len(predicted)), predicted] = confidence
    return rows


def test_report_figures_match_a_hand_count():
    labels = np.array([0, 1, 2, 3, 4, 4, 9, 9])
    predicted = np.array([0, 1, 2, 5, 9, 4, 4, 9])
    probabilities = one_hot_like(predicted, 0.91)
    probabilities[4] = one_hot_like([9], 0.99)[0]  # the most confident mistake
    report = evaluate(FixedProbabilities(probabilities), np.zeros((8, 28, 28), np.uint8), labels)
    assert report.accuracy == pytest.approx(5 / 8)
    assert [(m.index, m.true, m.predicted) for m in report.mistakes] == [(4, 4, 9), (3, 3, 5), (6, 9, 4)]
    assert report.mistakes[0].confidence == pytest.approx(0.99, abs=1e-6)
    assert report.confusion_matrix[4, 9] == 1 and report.confusion_matrix.trace() == 5
    assert report.per_class_accuracy[4] == pytest.approx(0.5) and report.per_class_accuracy[0] == 1.0
    expected_loss = -np.mean(np.log(probabilities[np.arange(8), labels]))
    assert report.loss == pytest.approx(expected_loss, rel=1e-5)
    assert "accuracy" in report.report_text
    assert set(report.top_confusions()) == {(4, 9, 1), (3, 5, 1), (9, 4, 1)}


def test_the_loss_is_the_cross_entropy_of_the_calibration():
    """The same answers had two losses: 5.68 here, 8.56 from `calibration.negative_log_likelihood`, whose floor for
    a probability was lower than Keras'."""
    labels = np.array([1, 0, 0, 0])
    probabilities = one_hot_like([0, 0, 0, 0], 0.9)
    probabilities[0, 0], probabilities[0, 1] = 1 - 8 * 0.1 / 9, 4.7e-19  # the true class as good as ruled out
    report = evaluate(FixedProbabilities(probabilities), np.zeros((4, 28, 28), np.uint8), labels)
    assert report.loss == pytest.approx(negative_log_likelihood(report.probabilities, labels), rel=1e-12)
    assert report.loss == pytest.approx((-np.log(1e-7) - 3 * np.log(0.9)) / 4, rel=1e-6)  # Keras' floor, 1e-7


def test_a_digit_without_test_images_has_no_accuracy_not_zero(tmp_path):
    """Three 1s, one read as 7: the nine other digits were never shown, so nothing was read wrong either."""
    report = evaluate(FixedProbabilities(np.eye(10)[[1, 1, 7]]), np.zeros((3, 28, 28), np.uint8), [1, 1, 1])
    assert report.per_class_accuracy[1] == pytest.approx(2 / 3)
    assert np.isnan(np.delete(report.per_class_accuracy, 1)).all()
    report.save(tmp_path, np.zeros((3, 28, 28), np.uint8))
    per_digit = json.loads((tmp_path / "metrics.json").read_text())["per_class_accuracy"]
    assert per_digit["1"] == pytest.approx(0.666667) and per_digit["0"] is None and per_digit["7"] is None
    texts = [text.get_text() for text in plots.plot_per_class_accuracy(report.per_class_accuracy).axes[0].texts]
    assert texts[1] == "66.7%" and texts.count("no images") == 9


def test_a_model_that_answers_nan_reads_nothing_right():
    """A diverged model's probabilities are NaN; argmax would read each as "0" and score every 0 as right."""
    probabilities = np.full((4, 10), np.nan)
    probabilities[3] = np.eye(10)[3]  # one picture answered: right
    report = evaluate(FixedProbabilities(probabilities), np.zeros((4, 28, 28), np.uint8), [0, 0, 5, 3])
    assert report.accuracy == 0.25 and report.unanswered == 3
    assert list(report.predictions) == [NO_ANSWER, NO_ANSWER, NO_ANSWER, 3]
    assert report.per_class_accuracy[0] == 0 and report.per_class_accuracy[3] == 1
    assert report.confusion_matrix[:, 0].sum() == 0  # "answers 0 to everything" it does not
    assert [(m.index, m.predicted) for m in report.mistakes] == [(0, NO_ANSWER), (1, NO_ANSWER), (2, NO_ANSWER)]
    assert report.metrics()["mistakes"] == 3
    # The same rule wherever answers are counted: the accuracy a model card records, as evaluate's.
    from numvision_lib.model import accuracy

    assert accuracy(FixedProbabilities(probabilities), np.zeros((4, 28, 28), np.uint8), [0, 0, 5, 3]) == 0.25
    figure = plots.plot_mistakes(np.zeros((4, 28, 28), np.uint8), report.mistakes)
    assert figure.axes[0].get_title() == "0→? (no answer)"


def test_evaluate_takes_a_predictor_and_refuses_what_is_no_digit_model(predictor, mnist):
    images, labels = mnist.x_test[:20], mnist.y_test[:20]
    by_predictor = evaluate(predictor, images, labels)
    assert np.array_equal(by_predictor.probabilities, evaluate(predictor.model, images, labels).probabilities)
    with pytest.raises(ModelStructureError, match="evaluate needs a digit model, .* gives 1 outputs"):
        evaluate(build_digit_check(), images, labels)
    with pytest.raises(ConfigError, match="evaluate needs a Keras model, such as load_model"):
        evaluate("models/numvision_cnn.keras", images, labels)
    for batch_size in (-5, 0, 2.5, "10", True):
        with pytest.raises(ConfigError, match=f"the batch size is a whole number of images, at least 1, not "
                                              f"{re.escape(repr(batch_size))}"):
            evaluate(predictor, images, labels, batch_size)


def test_one_picture_is_one_image():
    """As everywhere else, one 28x28 picture is a batch of one: not 28 images, one per row."""
    model = FixedProbabilities(np.eye(10)[[7]])
    assert evaluate(model, np.zeros((28, 28), np.uint8), [7]).accuracy == 1.0
    with pytest.raises(ConfigError, match=r"give one label per image: 1 images, but labels of shape \(28,\)"):
        evaluate(model, np.zeros((28, 28), np.uint8), np.zeros(28, int))


def test_top_confusions_counts_are_whole_numbers_from_1():
    report = evaluate(FixedProbabilities(np.eye(10)[[2, 3, 3]]), np.zeros((3, 28, 28), np.uint8), [1, 2, 4])
    assert report.top_confusions(1) in ([(1, 2, 1)], [(2, 3, 1)], [(4, 3, 1)]) and len(report.top_confusions(8)) == 3
    for count in (-1, 0, 2.5, "3", True):
        with pytest.raises(ConfigError, match=f"count is how many confusions to show, the most frequent first: a "
                                              f"whole number, 1 or more, not {re.escape(repr(count))}"):
            report.top_confusions(count)


def test_save_writes_every_result_file(tmp_path):
    labels = np.arange(20) % 10
    predicted = labels.copy()
    predicted[:3] = (predicted[:3] + 1) % 10
    report = evaluate(FixedProbabilities(one_hot_like(predicted, 0.8)), np.zeros((20, 28, 28), np.uint8), labels)
    history = {"epoch": [0, 1], "loss": [0.5, 0.3], "accuracy": [0.8, 0.9], "val_loss": [0.4, 0.35],
               "val_accuracy": [0.85, 0.88], "learning_rate": [1e-3, 5e-4]}
    written = report.save(tmp_path, np.zeros((20, 28, 28), np.uint8), history)
    names = sorted(p.name for p in written)
    assert names == sorted(["metrics.json", "classification_report.txt", "confusion_matrix.png",
                            "misclassifications.png", "training_history.png", "history.csv"])
    for path in written:
        assert path.stat().st_size > 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["test_accuracy"] == pytest.approx(0.85) and metrics["mistakes"] == 3
    assert (tmp_path / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "history.csv").read_text().splitlines()[0].startswith("epoch,")


def test_a_save_that_is_refused_writes_nothing(tmp_path):
    """Other images than the report's, or a history that is none, are refused before the first file is written: new
    metrics beside an older run's figures would not say that they do not belong together."""
    labels = np.arange(20) % 10
    report = evaluate(FixedProbabilities(np.eye(10)[(labels + 1) % 10]), np.zeros((20, 28, 28), np.uint8), labels)
    with pytest.raises(ConfigError, match="give the 20 images this report was evaluated on, not 5"):
        report.save(tmp_path / "fewer", np.zeros((5, 28, 28), np.uint8))
    with pytest.raises(ConfigError, match="a training history is what model.fit returns"):
        report.save(tmp_path / "no history", np.zeros((20, 28, 28), np.uint8), history=[0.5, 0.3])
    with pytest.raises(ConfigError, match="one value per epoch in every column, a list of them; 'loss' holds 0.5"):
        report.save(tmp_path / "one number", np.zeros((20, 28, 28), np.uint8), history={"loss": 0.5})
    assert not list(tmp_path.iterdir())


def test_a_history_as_model_fit_returns_it_is_saved(tmp_path):
    """It was plotted, then five files were written, then writing history.csv failed with a raw AttributeError."""
    labels = np.arange(20) % 10
    report = evaluate(FixedProbabilities(np.eye(10)[labels]), np.zeros((20, 28, 28), np.uint8), labels)
    fitted = keras.callbacks.History()
    fitted.history = {"loss": [0.5, 0.3], "accuracy": [0.8, 0.9]}
    written = report.save(tmp_path, np.zeros((20, 28, 28), np.uint8), history=fitted)
    assert "training_history.png" in {path.name for path in written}
    assert (tmp_path / "history.csv").read_text() == "epoch,loss,accuracy\n0,0.5,0.8\n1,0.3,0.9\n"


def test_evaluate_model_file_updates_the_card(tmp_path, mnist):
    from numvision_lib.training import TrainConfig, train

    run = train(TrainConfig.quick(max_train_samples=1000), mnist, output=tmp_path / "m.keras", verbose=0)
    report, results_dir, card_left_because = evaluate_model_file(run.model_path, mnist, tmp_path / "results")
    assert card_left_because is None
    assert isinstance(report, EvaluationReport) and report.accuracy > 0.6
    card = json.loads(run.card_path.read_text())
    assert card["metrics"]["test_accuracy"] == pytest.approx(report.accuracy, abs=1e-6)
    assert (results_dir / "training_history.png").is_file()


def test_fewer_test_images_leave_the_card_and_the_models_results_as_they_are(tmp_path, mnist, shipped_model_path,
                                                                             monkeypatch):
    from numvision_lib import paths

    model_path = tmp_path / shipped_model_path.name
    shutil.copy(shipped_model_path, model_path)
    shutil.copy(shipped_model_path.with_suffix(".json"), model_path.with_suffix(".json"))
    card_before = model_path.with_suffix(".json").read_bytes()
    monkeypatch.setattr(evaluation, "RESULTS_DIR", tmp_path / "results")
    monkeypatch.setattr(paths, "MODELS_DIR", tmp_path)  # as if the file were a shipped model
    few = dataclasses.replace(mnist, x_test=mnist.x_test[:200], y_test=mnist.y_test[:200])
    report, results_dir, card_left_because = evaluate_model_file(model_path, few)
    assert card_left_because == ("The model card was left as it is: its test figures are those of MNIST's 10,000 "
                                 "test images, and these are 200.")
    assert len(report.labels) == 200 and not few.whole_test_set
    assert results_dir == tmp_path / "results" / f"{model_path.stem}_on_200_test_images"
    assert (results_dir / "metrics.json").is_file()
    assert model_path.with_suffix(".json").read_bytes() == card_before


def test_only_a_shipped_models_results_go_to_the_projects_results_folder(tmp_path, mnist, shipped_model_path,
                                                                          monkeypatch):
    """A quick run is named after the shipped model it stands in for: evaluated, it replaced the shipped model's
    reports and figures in results/, which git keeps."""
    quick_run = tmp_path / "quick_runs" / shipped_model_path.name
    quick_run.parent.mkdir()
    shutil.copy(shipped_model_path, quick_run)
    monkeypatch.setattr(evaluation, "RESULTS_DIR", tmp_path / "results")
    few = dataclasses.replace(mnist, x_test=mnist.x_test[:100], y_test=mnist.y_test[:100])
    _, results_dir, _ = evaluate_model_file(quick_run, few)
    assert results_dir == tmp_path / "quick_runs" / "numvision_cnn_on_100_test_images_results"
    assert (results_dir / "metrics.json").is_file() and not (tmp_path / "results").exists()
    _, results_dir, _ = evaluate_model_file(shipped_model_path, few, tmp_path / "chosen")
    assert results_dir == tmp_path / "chosen" and (results_dir / "metrics.json").is_file()


def test_what_the_evaluation_needs_is_checked_before_it_runs(tmp_path, mnist, shipped_model_path, monkeypatch):
    """A file named as the results' folder was found after the evaluation, and notebook 04's ModelChoice, or None,
    was a raw TypeError."""
    from numvision_lib.evaluation import calibrate_model_file
    from numvision_lib.model_card import model_to_evaluate

    def no_evaluation(*args):
        raise AssertionError("evaluated before its results' folder was checked")

    monkeypatch.setattr(evaluation, "evaluate", no_evaluation)
    (tmp_path / "afile").write_text("notes")
    with pytest.raises(ConfigError, match="afile is a file, not a folder: give a folder for the results"):
        evaluate_model_file(shipped_model_path, mnist, tmp_path / "afile")
    for read_model_file in (evaluate_model_file, calibrate_model_file):
        for given in (None, model_to_evaluate()):
            with pytest.raises(ConfigError, match="give the path of a model file, such as models/numvision_cnn.keras, "
                                                  "not (None|ModelChoice)"):
                read_model_file(given, mnist)


def test_a_card_or_a_result_that_cannot_be_replaced_is_found_before_the_work(tmp_path, mnist, shipped_model_path,
                                                                              monkeypatch):
    """calibrate fitted for half a minute, then found the card read-only and threw the temperature away; evaluate wrote
    its results first, and neither printed its figures."""
    from numvision_lib.evaluation import calibrate_model_file

    def work_started(*args):
        raise AssertionError("the work began before the files it writes were checked")

    monkeypatch.setattr(evaluation, "evaluate", work_started)
    monkeypatch.setattr(evaluation, "validation_images_of", work_started)
    model_path = tmp_path / shipped_model_path.name
    shutil.copy(shipped_model_path, model_path)
    card = shutil.copy(shipped_model_path.with_suffix(".json"), model_path.with_suffix(".json"))
    card.chmod(0o444)
    refusal = r"numvision_cnn.json is read-only, so it was not replaced: nothing has been changed"
    with pytest.raises(DataError, match=refusal):
        calibrate_model_file(model_path, mnist)
    with pytest.raises(DataError, match=refusal):
        evaluate_model_file(model_path, mnist, tmp_path / "results")
    assert list((tmp_path / "results").iterdir()) == []
    card.chmod(0o644)
    (tmp_path / "results" / "metrics.json").write_text("an earlier evaluation's")
    (tmp_path / "results" / "metrics.json").chmod(0o444)
    with pytest.raises(DataError, match=r"metrics.json is read-only, so it was not replaced: nothing has been changed"):
        evaluate_model_file(model_path, mnist, tmp_path / "results")
    assert card.read_bytes() == shipped_model_path.with_suffix(".json").read_bytes()


def test_a_fine_tuned_model_is_not_calibrated_on_images_it_trained_on(tmp_path, mnist, shipped_model_path):
    """Its card's seed, the fine-tuning's, picked "validation" images of which 5,374 of 6,000 were the base model's
    training images (and its MNIST replay draws from all of them): the temperature made wrong answers look certain."""
    from numvision_lib.evaluation import calibrate_model_file, validation_images_of
    from numvision_lib.fine_tuning import FineTuneSettings

    model_path = tmp_path / "class_numvision_cnn.keras"
    shutil.copy(shipped_model_path, model_path)
    card = json.loads(shipped_model_path.with_suffix(".json").read_text())
    card.update(name=model_path.stem, model_file=model_path.name, config=FineTuneSettings().to_dict(),
                data={"source": "fine-tuned from numvision_cnn on a class's drawings, with MNIST replay",
                      "base_model": "numvision_cnn", "class_drawings": 600, "students": 12,
                      "train_images_per_epoch": 21000, "validation_images": 0, "test_images": 10000})
    model_path.with_suffix(".json").write_text(json.dumps(card))
    card_before = model_path.with_suffix(".json").read_bytes()
    for calibration_images in (calibrate_model_file, validation_images_of):
        with pytest.raises(ConfigError, match=r"^class_numvision_cnn.keras was fine-tuned from numvision_cnn with MNIST "
                                              r"replay drawn from all of MNIST's training images: none is held out "
                                              r"from it, .* keep temperature 1 \(no calibration\)$"):
            calibration_images(model_path, mnist)
    assert model_path.with_suffix(".json").read_bytes() == card_before
    # The model it was fine-tuned from keeps its own held-out images.
    assert len(validation_images_of(shipped_model_path, mnist)[1]) == 6000


def test_a_diverged_model_is_evaluated_and_its_card_left_as_it_was(tmp_path, mnist, shipped_model_path):
    """A NaN loss would make the card unreadable: a student's record of the run, which git does not keep."""
    model_path = tmp_path / shipped_model_path.name
    shutil.copy(shipped_model_path.with_suffix(".json"), model_path.with_suffix(".json"))
    card_before = model_path.with_suffix(".json").read_bytes()
    diverged = load_model(shipped_model_path)
    diverged.set_weights([np.full_like(weights, np.nan) for weights in diverged.get_weights()])
    save_model(diverged, model_path)
    report, results_dir, card_left_because = evaluate_model_file(model_path, mnist, tmp_path / "results")
    assert np.isnan(report.loss) and (results_dir / "metrics.json").is_file()
    # It answers nothing: not "every 0 right" (argmax reads a row of NaN as 0).
    assert report.accuracy == 0 and report.unanswered == len(mnist.y_test) and report.per_class_accuracy[0] == 0
    assert "not written" in card_left_because and "training it again is the fix" in card_left_because
    assert model_path.with_suffix(".json").read_bytes() == card_before


def test_the_mean_of_writers_counts_each_person_once():
    """One busy writer (eight digits, all read) and one brief writer (two digits, one misread): 90% of the
    drawings, but 75% on average per person."""
    labels = np.array([1] * 8 + [2, 3])
    writers = np.array(["apa/Busy"] * 8 + ["apb/Brief"] * 2)
    rendered = {"pen_20": RenderedDigits(np.zeros((10, 28, 28), np.float32), labels, writers,
                                         np.array(["apa"] * 8 + ["apb"] * 2))}
    report = score_real_handwriting({"pen_20": np.eye(10)[[1] * 8 + [2, 5]]}, rendered)
    assert report["accuracy"] == pytest.approx(0.9) and report["mean_of_writers"] == pytest.approx(0.75)
    assert report["by_writer"]["apb/Brief"] == {"accuracy": 0.5, "samples": 2}


def _four_digits(labels=(1, 7, 4, 0), writers=("apa/A", "apa/A", "apb/B", "apb/B")) -> RenderedDigits:
    return RenderedDigits(np.zeros((4, 28, 28), np.float32), np.array(labels), np.array(writers),
                          np.array([writer[:3] for writer in writers]))


def test_a_digit_misread_in_every_rendering_is_told_from_one_misread_by_one_pen():
    """The 1 is read as 7 by both pens (its handwriting), the 4 as 9 by the thin pen only (the drawing): three
    drawing mistakes, two of them on the digit misread every way."""
    rendered = {"pen_12": _four_digits(), "pen_28": _four_digits()}
    answers = {"pen_12": [7, 7, 9, 0], "pen_28": [7, 7, 4, 0]}
    report = score_real_handwriting({name: np.eye(10)[read] for name, read in answers.items()}, rendered)
    misread = report["misread"]
    assert misread["digits_by_renderings_misread"] == {"0": 2, "1": 1, "2": 1}
    assert misread["share_of_mistakes_on_digits_misread_every_way"] == pytest.approx(2 / 3)
    assert misread["digits_misread_every_way"] == [{"index": 0, "digit": 1, "writer": "apa/A", "read_as": 7}]


def test_renderings_of_different_digits_cannot_be_compared_digit_by_digit():
    rendered = {"pen_12": _four_digits(), "pen_28": _four_digits(labels=(1, 7, 0, 4))}
    with pytest.raises(ConfigError, match="same digits in the same order"):
        score_real_handwriting({name: np.eye(10)[[1, 7, 4, 0]] for name in rendered}, rendered)


def test_probabilities_must_be_one_row_per_drawing_of_each_rendering():
    rendered = {"pen_12": _four_digits(), "pen_28": _four_digits()}
    with pytest.raises(ConfigError, match="no renderings to score"):
        score_real_handwriting({}, {})
    with pytest.raises(ConfigError, match=r"rendering 'pen_28': .* of shape \(4, 10\), not none"):
        score_real_handwriting({"pen_12": np.eye(10)[[1, 7, 4, 0]]}, rendered)
    with pytest.raises(ConfigError, match=r"rendering 'pen_12': .* of shape \(4, 10\), not \(3, 10\)"):
        score_real_handwriting({name: np.eye(10)[[1, 7, 4]] for name in rendered}, rendered)


def test_renderings_are_drawings_by_name_each_with_some(shipped_model_path):
    with pytest.raises(ConfigError, match="rendering 'pen_20' has no drawings: render some digits in it, or leave"):
        score_real_handwriting({"pen_20": np.zeros((0, 10))}, {"pen_20": _four_digits(labels=(), writers=())})
    for given in ([_four_digits()], {"pen_20": _four_digits().model_inputs}):
        with pytest.raises(ConfigError, match="give the drawings by rendering|rendering 'pen_20': give its drawings "
                                              "as handwriting.render_model_inputs gives them, not a ndarray"):
            evaluate_on_real_handwriting(shipped_model_path, given)


def test_a_diverged_models_drawings_have_no_answer_and_the_worst_writers_are_the_figures_worst():
    """NaN probabilities answer nothing, in every rendering; the writers named worst are the first of the
    per-writer figure, in the one order (`plots.worst_read_first`), also when they tie."""
    rendered = {"pen_12": _four_digits(), "pen_28": _four_digits()}
    probabilities = {name: np.full((4, 10), np.nan) for name in rendered}
    report = score_real_handwriting(probabilities, rendered)
    assert report["accuracy"] == 0 and report["by_digit"]["0"]["accuracy"] == 0
    assert [digit["read_as"] for digit in report["misread"]["digits_misread_every_way"]] == [NO_ANSWER] * 4
    three = RenderedDigits(np.zeros((3, 28, 28), np.float32), np.array([1, 2, 3]),
                           np.array(["apa/One", "apb/Many", "apb/Many"]), np.array(["apa", "apb", "apb"]))
    tied = score_real_handwriting({"pen_20": np.eye(10)[[0, 0, 0]]}, {"pen_20": three})  # every writer at 0%
    assert tied["worst_writers"] == plots.worst_read_first({"apa/One": 0.0, "apb/Many": 0.0}) == ["apa/One",
                                                                                                    "apb/Many"]


def test_groups_and_confident_mistakes_need_one_value_per_sample():
    with pytest.raises(ConfigError, match=r"one value per sample .* keys of shape \(3,\), the other of shape \(2,\)"):
        score_groups(["a", "b", "a"], [True, False])
    with pytest.raises(ConfigError, match=r"right/wrong answers of shape \(2,\), the other of shape \(1,\)"):
        confident_mistakes(np.array([True, False]), np.array([0.95]))
    assert confident_mistakes(np.array([True, False]), np.array([0.95, 0.99]))["share_of_samples"] == 0.5
    with pytest.raises(ConfigError, match=r"one value per sample, a flat list or 1-D array: right/wrong answers of "
                                          r"shape \(1, 1\)$"):
        confident_mistakes(np.array([[True]]), np.array([[0.95]]))

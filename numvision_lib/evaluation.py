"""Test-set evaluation: accuracy, loss, classification report, confusion matrix, mistakes; and the results files."""
from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from . import plots
from .calibration import apply_temperature, expected_calibration_error, fit_temperature, negative_log_likelihood
from .data import (DIGITS, MNIST_TEST_IMAGES, NO_ANSWER, NUM_CLASSES, MnistData, answers, check_batch_size,
                   checked_labels, model_input, stratified_split, to_model_input)
from .errors import ConfigError
from .handwriting import RenderedDigits, person_of, validation_digits
from .history import checked_history, read_history_csv, write_history_csv
from .model import checked_model, load_model, predict_probabilities
from .model_card import HISTORY_SUFFIX, MODEL_FILE_EXAMPLE, TEST_ACCURACY, TEST_LOSS, ModelCard, record_metrics
from .paths import RESULTS_DIR, check_replaceable, checked_path, in_models_dir, writable_folder, write_text_atomic
from .predict import Predictor
from .prediction import BasePredictor, is_sure, read
from .values import is_whole_number

# How many of the worst-read writers a real-handwriting report names.
WORST_WRITERS = 5


def result_files(results_dir: str | os.PathLike, with_history: bool) -> list[Path]:
    """The files `EvaluationReport.save` writes into `results_dir`, in its order: the last two only `with_history`, a
    training history."""
    names = ["metrics.json", "classification_report.txt", "confusion_matrix.png", "misclassifications.png"]
    if with_history:
        names += ["training_history.png", "history.csv"]
    results_dir = checked_path(results_dir, "the folder for the results, such as my_models/my_results")
    return [results_dir / name for name in names]


@dataclass(frozen=True)
class Mistake:
    index: int
    true: int
    predicted: int
    confidence: float


@dataclass(frozen=True)
class EvaluationReport:
    """Everything `evaluate` measured. Figures are drawn from it; nothing here is recomputed by plots."""

    accuracy: float
    loss: float
    report_text: str
    confusion_matrix: np.ndarray
    per_class_accuracy: np.ndarray
    mistakes: tuple[Mistake, ...]  # most confident first
    probabilities: np.ndarray
    labels: np.ndarray

    @property
    def predictions(self) -> np.ndarray:
        """Each picture's answer (`answers`): `NO_ANSWER` where the model gave none."""
        return answers(self.probabilities)

    @property
    def unanswered(self) -> int:
        """How many pictures the model gave no answer to (NaN probabilities: its training diverged)."""
        return int(np.count_nonzero(self.predictions == NO_ANSWER))

    @property
    def confidences(self) -> np.ndarray:
        return self.probabilities.max(axis=1)

    @property
    def correct(self) -> np.ndarray:
        return self.predictions == self.labels

    def top_confusions(self, count: int = 5) -> list[tuple[int, int, int]]:
        """The most frequent (true, predicted, count) mistakes, at most `count` of them."""
        # A slice would take -1 as all but the last cell, 0 as none, and 2.5 as a TypeError.
        if not (is_whole_number(count) and count >= 1):
            raise ConfigError(f"count is how many confusions to show, the most frequent first: a whole number, 1 or "
                              f"more, not {count!r}")
        off_diagonal = self.confusion_matrix.copy()
        np.fill_diagonal(off_diagonal, 0)
        order = np.argsort(off_diagonal, axis=None)[::-1][:count]
        pairs = [np.unravel_index(flat, off_diagonal.shape) for flat in order]
        return [(int(t), int(p), int(off_diagonal[t, p])) for t, p in pairs if off_diagonal[t, p] > 0]

    def metrics(self) -> dict:
        return {
            TEST_ACCURACY: round(self.accuracy, 6),
            TEST_LOSS: round(self.loss, 6),
            "test_images": int(len(self.labels)),
            "mistakes": len(self.mistakes),
            # None for a digit without test images: no accuracy at all (NaN, which JSON cannot hold), not 0.
            "per_class_accuracy": {str(d): None if np.isnan(a) else round(float(a), 6)
                                   for d, a in enumerate(self.per_class_accuracy)},
            "top_confusions": [{"true": t, "predicted": p, "count": c} for t, p, c in self.top_confusions()],
        }

    def save(
        self, results_dir: str | os.PathLike, images: np.ndarray, history: dict[str, list[float]] | None = None
    ) -> list[Path]:
        """Write metrics.json, classification_report.txt, confusion_matrix.png, misclassifications.png and,
        given a training history (`history.checked_history`: what model.fit returns, say), training_history.png and
        history.csv. Returns the written paths. `images` are the pictures the report was made on (the mistakes show
        them)."""
        given = len(model_input(images))
        if given != len(self.labels):
            raise ConfigError(f"give the {len(self.labels):,} images this report was evaluated on, not {given:,}: "
                              f"its mistakes are shown from them")
        # Every figure is drawn, and so every argument checked, before the first file is written: a refusal half
        # way would leave new metrics beside an older run's figures, with nothing to tell them apart.
        history = checked_history(history) if history is not None else None
        metrics, report, confusion, mistakes, history_figure, history_csv = result_files(results_dir, True)
        figures = {confusion: plots.plot_confusion_matrix(self.confusion_matrix),
                   mistakes: plots.plot_mistakes(images, self.mistakes)}
        if history is not None:
            figures[history_figure] = plots.plot_history(history)
        written = [
            write_text_atomic(metrics, json.dumps(self.metrics(), indent=2) + "\n"),
            write_text_atomic(report, self.report_text),
            *(plots.save_figure(figure, path) for path, figure in figures.items()),
        ]
        if history is not None:
            written.append(write_history_csv(history, history_csv))
        return written


def evaluate(model, images: np.ndarray, labels: np.ndarray, batch_size: int = 1000) -> EvaluationReport:
    """Evaluate `model` (a Keras model, or a `Predictor`: its model) on test images (uint8 (N, 28, 28) or float
    (N, 28, 28, 1); one picture is a batch of one) and their labels. A picture whose probabilities are NaN (a model
    whose training diverged) has no answer (`NO_ANSWER`) and counts as a mistake."""
    from sklearn.metrics import classification_report, confusion_matrix

    model = checked_model(model, "evaluate")
    check_batch_size(batch_size)
    inputs = model_input(images)  # counted as read: one 28x28 picture is one image, not 28
    labels = checked_labels(labels, len(inputs), "test images to evaluate the model on")
    probabilities = predict_probabilities(model, inputs, batch_size)
    predictions = answers(probabilities)
    names = [str(d) for d in DIGITS]
    confusion = confusion_matrix(labels, predictions, labels=DIGITS)  # leaves the pictures without an answer out
    correct = predictions == labels
    by_digit = score_groups(labels, correct)
    wrong = np.flatnonzero(~correct)
    confidences = probabilities.max(axis=1)
    mistakes = tuple(
        Mistake(int(i), int(labels[i]), int(predictions[i]), float(confidences[i]))
        for i in wrong[np.argsort(-confidences[wrong], kind="stable")]
    )
    return EvaluationReport(
        accuracy=float(correct.mean()),
        # NaN where the model answered a picture with NaN (its training diverged): it has no loss to give.
        loss=negative_log_likelihood(probabilities, labels) if (predictions != NO_ANSWER).all() else float("nan"),
        # NaN, not 0, for a digit without test images, as in per_class_accuracy.
        report_text=classification_report(labels, predictions, labels=DIGITS, target_names=names, digits=4,
                                          zero_division=np.nan),
        confusion_matrix=confusion,
        # NaN for a digit without test images, as for any group without samples (`Score`).
        per_class_accuracy=np.array([by_digit.get(digit, Score(0, 0)).accuracy for digit in DIGITS]),
        mistakes=mistakes,
        probabilities=probabilities,
        labels=labels,
    )


def evaluate_model_file(
    model_path: str | os.PathLike, data: MnistData, results_dir: str | os.PathLike | None = None
) -> tuple[EvaluationReport, Path, str | None]:
    """Evaluate a saved model, write its results folder and record the test figures in its model card; returns the
    report, the folder, and why the model's card was left as it was (None when it was updated, or there is none).

    The folder is by default results/<model name>/ for a shipped model (in models/), and <model name>_results/
    beside any other: a quick run named like a shipped model, or a student's, must not replace the shipped model's
    reports, which git keeps.

    Only on MNIST's whole test set: the figures of fewer test images (a small folder) go by default to a results
    folder of their own (<model name>_on_<N>_test_images), and the card keeps the figures it has. So it does when a
    figure is NaN (a model whose training diverged): the report and its folder still show what the model does."""
    model_path = checked_path(model_path, MODEL_FILE_EXAMPLE)
    model = checked_model(load_model(model_path), "evaluate")  # the digit check is refused before a folder is made
    name = model_path.stem if data.whole_test_set else f"{model_path.stem}_on_{len(data.y_test)}_test_images"
    if results_dir is None:
        results_dir = RESULTS_DIR / name if in_models_dir(model_path) else model_path.parent / f"{name}_results"
    # Before the evaluation, which takes a while: a file in the folder's place, or a file there or a card that cannot
    # be replaced, was found only after it.
    results_dir = writable_folder(checked_path(results_dir, "the folder for the results, such as my_models/my_results"),
                                  "the results")
    history_path = model_path.with_suffix(HISTORY_SUFFIX)
    history = read_history_csv(history_path) if history_path.exists() else None
    for path in result_files(results_dir, history is not None):
        check_replaceable(path, "the results")
    card_path = ModelCard.path_for(model_path)
    if card_path.exists() and data.whole_test_set:
        check_replaceable(card_path, "the test figures")
    report = evaluate(model, data.x_test, data.y_test)
    report.save(results_dir, data.x_test, history)
    if not card_path.exists():
        return report, results_dir, None
    if not data.whole_test_set:
        return report, results_dir, (f"The model card was left as it is: its test figures are those of MNIST's "
                                     f"{MNIST_TEST_IMAGES:,} test images, and these are {len(data.y_test):,}.")
    metrics = report.metrics()
    try:
        record_metrics(model_path, {key: metrics[key] for key in (TEST_ACCURACY, TEST_LOSS)})
    except ConfigError as refusal:  # says what and why, and that the card is as it was
        return report, results_dir, str(refusal)
    return report, results_dir, None


@dataclass(frozen=True)
class Score:
    """Right answers among some samples: one writer's, one student's, one digit's."""

    samples: int
    right: int

    @property
    def mistakes(self) -> int:
        return self.samples - self.right

    @property
    def accuracy(self) -> float:
        return self.right / self.samples if self.samples else float("nan")

    @property
    def error(self) -> float:
        return 1.0 - self.accuracy


def score_groups(keys, correct: np.ndarray) -> dict:
    """key -> `Score` of the samples with that key (`correct`: one bool per sample), in sorted key order."""
    keys, correct = np.asarray(keys), np.asarray(correct, dtype=bool)
    _check_one_each(keys, correct, "keys")
    return {key: Score(int(np.count_nonzero(keys == key)), int(np.count_nonzero(correct[keys == key])))
            for key in sorted(set(keys.tolist()))}


def _check_one_each(first: np.ndarray, second: np.ndarray, what: str) -> None:
    # NumPy would broadcast one of a single sample over the others, or fail with an IndexError.
    if first.ndim != 1:
        raise ConfigError(f"give one value per sample, a flat list or 1-D array: {what} of shape {first.shape}")
    if first.shape != second.shape:
        raise ConfigError(f"give one value per sample on each side: {what} of shape {first.shape}, the other of "
                          f"shape {second.shape}")


def _accuracy_by(keys: np.ndarray, correct: np.ndarray) -> dict[str, dict]:
    return {str(key): {"accuracy": score.accuracy, "samples": score.samples}
            for key, score in score_groups(keys, correct).items()}


def confident_mistakes(wrong: np.ndarray, confidence: np.ndarray) -> dict:
    """Mistakes made with at least `MIN_CONFIDENCE` (the pad shows them without a warning): their count, and their
    share of the mistakes and of all samples."""
    wrong, confidence = np.asarray(wrong, dtype=bool), np.asarray(confidence)
    _check_one_each(wrong, confidence, "right/wrong answers")
    confident = int(np.count_nonzero(wrong & is_sure(confidence)))
    mistakes = int(np.count_nonzero(wrong))
    return {"count": confident, "share_of_mistakes": confident / mistakes if mistakes else 0.0,
            "share_of_samples": confident / len(wrong) if len(wrong) else 0.0}


def _misread_every_way(given: np.ndarray, rendered: dict[str, RenderedDigits]) -> dict:
    """How the mistakes fall on the digits, from the answers `given` (digits, renderings) to the same digits in
    every rendering: how many digits are misread in 0, 1, ... of the renderings, the share of the drawing mistakes
    made on digits misread in every rendering (their handwriting, not the pen or the placing, is what the model
    cannot read), and those digits: their index in the rendering order, their label and the answer the model gave
    most often (`NO_ANSWER` if that was none)."""
    first = next(iter(rendered.values()))
    wrong = given != first.labels[:, np.newaxis]
    times_misread = wrong.sum(axis=1)
    every_way = np.flatnonzero(times_misread == len(rendered))
    return {
        "digits_by_renderings_misread": {str(times): int(np.count_nonzero(times_misread == times))
                                         for times in range(len(rendered) + 1)},
        "share_of_mistakes_on_digits_misread_every_way":
            float(times_misread[every_way].sum() / wrong.sum()) if wrong.any() else 0.0,
        "digits_misread_every_way": [
            {"index": int(index), "digit": int(first.labels[index]), "writer": str(first.writer_ids[index]),
             "read_as": _most_common(given[index])}
            for index in every_way],
    }


def _most_common(values: np.ndarray) -> int:
    """The value that occurs most often; of those that tie, the smallest."""
    distinct, counts = np.unique(values, return_counts=True)
    return int(distinct[counts.argmax()])


def score_real_handwriting(probabilities: dict[str, np.ndarray], rendered: dict[str, RenderedDigits]) -> dict:
    """Every real-handwriting figure of one model, from its probabilities on each rendering of the same digits:
    accuracy overall and by rendering, digit, institution and writer (person), the mean of the writers' accuracies
    (each person counted once, however many digits they wrote), the worst writers, the confusions, confident
    mistakes (wrong with at least `MIN_CONFIDENCE`, shown by the pad without a warning), and which digits it misreads
    however they are drawn). A drawing whose probabilities are NaN (a model whose training diverged) has no answer
    (`NO_ANSWER`) and counts as a mistake."""
    _check_renderings(rendered)
    names = list(rendered)
    for name in names:
        shape = np.shape(probabilities[name]) if name in probabilities else "none"
        if shape != (len(rendered[name]), NUM_CLASSES):
            raise ConfigError(f"rendering {name!r}: give the probabilities of its {len(rendered[name])} drawings, "
                              f"of shape ({len(rendered[name])}, {NUM_CLASSES}), not {shape}")
    given = np.stack([answers(probabilities[name]) for name in names], axis=1)  # (digits, renderings)
    predicted = given.T.ravel()  # rendering after rendering, as the other figures
    confidence = np.concatenate([probabilities[name].max(axis=1) for name in names])
    labels = np.concatenate([rendered[name].labels for name in names])
    people = np.array([person_of(writer) for name in names for writer in rendered[name].writer_ids], dtype=str)
    institutions = np.concatenate([rendered[name].institutions for name in names])
    renderings = np.repeat(names, [len(rendered[name]) for name in names])
    correct = predicted == labels
    by_rendering = _accuracy_by(renderings, correct)
    for name in names:
        chosen = renderings == name
        by_rendering[name]["confident_mistakes"] = confident_mistakes(~correct[chosen], confidence[chosen])
    by_writer = _accuracy_by(people, correct)
    worst = plots.worst_read_first({writer: figures["accuracy"] for writer, figures in by_writer.items()})
    confusions = Counter(f"{true}->{guess}" for true, guess in zip(labels[~correct], predicted[~correct]))
    return {
        "accuracy": float(correct.mean()),
        "samples": int(len(correct)),
        "by_rendering": {name: by_rendering[name] for name in names},
        "by_digit": _accuracy_by(labels, correct),
        "by_institution": _accuracy_by(institutions, correct),
        "by_writer": by_writer,
        "mean_of_writers": float(np.mean([figures["accuracy"] for figures in by_writer.values()])),
        "worst_writers": worst[:WORST_WRITERS],
        "confusions": dict(confusions.most_common()),  # true->predicted: count, most common first
        "confident_mistakes": confident_mistakes(~correct, confidence),
        "misread": _misread_every_way(given, rendered),
    }


def _check_renderings(rendered) -> None:
    """A ConfigError unless `rendered` is {rendering name: drawings}, the same digits in the same order in each."""
    if not isinstance(rendered, Mapping):
        raise ConfigError(f"give the drawings by rendering, {{rendering name: its drawings}}, as "
                          f"handwriting.render_every_way gives them, not a {type(rendered).__name__}")
    if not rendered:
        raise ConfigError("no renderings to score: give each rendering's drawings and the model's probabilities on "
                          "them (handwriting.render_every_way)")
    for name, digits in rendered.items():
        if not isinstance(digits, RenderedDigits):
            raise ConfigError(f"rendering {name!r}: give its drawings as handwriting.render_model_inputs gives them, "
                              f"not a {type(digits).__name__}")
        if not len(digits):
            raise ConfigError(f"rendering {name!r} has no drawings: render some digits in it, or leave it out")
    first, *others = rendered.values()
    if any(len(other) != len(first) or not np.array_equal(other.labels, first.labels)
           or not np.array_equal(other.writer_ids, first.writer_ids) for other in others):
        raise ConfigError("the renderings must draw the same digits in the same order: "
                          "use handwriting.render_every_way")


def evaluate_on_real_handwriting(model: str | os.PathLike | BasePredictor, rendered: dict[str, RenderedDigits]) -> dict:
    """`score_real_handwriting` of a model (the path of a saved one, or a loaded predictor, to read several sets
    without loading it again) on the same digits drawn in several renderings (rendering name ->
    `handwriting.render_model_inputs` result)."""
    _check_renderings(rendered)  # before the model is loaded
    predictor = model if isinstance(model, BasePredictor) else Predictor.load(model)
    return score_real_handwriting(
        {name: predictor.probabilities(digits.model_inputs) for name, digits in rendered.items()}, rendered)


def validation_images_of(model_path: str | os.PathLike, data: MnistData) -> tuple[np.ndarray, np.ndarray]:
    """The MNIST validation images (uint8) and labels that the model's training run kept aside, as its card says;
    the usual split (10%, seed 42) for a model without a card. A fine-tuned model has none, which is a ConfigError
    saying so."""
    card_path = ModelCard.path_for(model_path)
    card = ModelCard.load(card_path) if card_path.is_file() else None
    # Its card's seed is the fine-tuning's, no split's: the "validation" images it picked were mostly the base model's
    # training images, and a temperature fitted on those made the pad's wrong answers look certain.
    if card is not None and card.fine_tuned_from is not None:
        raise ConfigError(_no_validation_images(card_path.with_suffix(".keras").name, card.fine_tuned_from))
    config = card.config if card is not None else {}
    split_settings = {name: config[name] for name in ("validation_fraction", "seed") if name in config}
    _, _, x_val, y_val = stratified_split(data.x_train, data.y_train, **split_settings)
    return x_val, y_val


def _no_validation_images(model_name: str, base_model: str) -> str:
    return (f"{model_name} was fine-tuned from {base_model} with MNIST replay drawn from all of MNIST's training "
            "images: none is held out from it, and a temperature fitted on images it trained on would make its "
            "answers look surer than they are. Fit its temperature on the drawings of held-out students "
            "(calibration.fit_temperature), or keep temperature 1 (no calibration)")


def calibrate_model_file(model_path: str | os.PathLike, data: MnistData,
                         handwriting_dir: str | os.PathLike | None = None) -> dict:
    """Fit the temperature of a saved model on validation data only (the MNIST validation images of its training
    run, and UNIPEN's validation writers in every rendering), and record it in the model's card. A fine-tuned model,
    from which no MNIST images are held out, is a ConfigError (`validation_images_of`)."""
    model_path = checked_path(model_path, MODEL_FILE_EXAMPLE)
    card_path = ModelCard.path_for(model_path)
    card = ModelCard.load(card_path)
    check_replaceable(card_path, "the temperature")  # before the fitting, which takes a while
    x_val, y_val = validation_images_of(model_path, data)
    real = validation_digits(handwriting_dir)
    inputs = np.concatenate([to_model_input(x_val)[..., 0], real.model_inputs])
    labels = np.concatenate([y_val.astype(np.int64), real.labels])
    model = load_model(model_path)
    # Fitted on what the predictors pass through the temperature: the average of each picture's readings.
    probabilities = read(partial(predict_probabilities, model), inputs)
    temperature = fit_temperature(probabilities, labels)
    card.calibration = {
        "temperature": temperature,
        "fitted_on": f"{len(y_val):,} MNIST validation images and {len(real):,} drawings of UNIPEN's validation "
                     "writers (every rendering), each read three times as the predictors read it",
        "validation_ece_before": round(expected_calibration_error(probabilities, labels), 6),
        "validation_ece_after": round(expected_calibration_error(apply_temperature(probabilities, temperature),
                                                                  labels), 6),
    }
    card.save(card_path)
    return card.calibration

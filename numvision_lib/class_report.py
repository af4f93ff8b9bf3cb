"""The class report: how well a model reads the class's own handwriting, beside its score on MNIST's test set.

Every drawing is prepared exactly as the pad prepared it (its strokes, canvas and brush) and read once by the
float32 model, as fine-tuning measures the class (`fine_tuning`), not averaged over the pad's three readings. The
report gives accuracy per student and per digit, the confusion matrix and a contact sheet of the drawings it got
wrong. What is shown to the class is anonymous: students appear only as ranks ("student 1" is the one whose
handwriting the model reads worst), never under their ids; `by_student()` with the stored ids is for the teacher.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable

import numpy as np
from matplotlib.figure import Figure

from . import plots
from ._tensorflow import keras
from .class_collection import DrawingRecord, checked_records, model_inputs
from .data import DIGITS
from .errors import ConfigError
from .evaluation import EvaluationReport, Score, evaluate, score_groups
from .model import checked_model, shown_name
from .model_card import TEST_ACCURACY, ModelCard
from .predict import Predictor
from .tables import format_table
from .values import counted, is_whole_number


def ranked(scores: dict[str, Score]) -> list[str]:
    """Students by score, the worst read first (`plots.worst_read_first`, the order the per-student figure draws
    them in): the order of `anonymous_labels`."""
    return plots.worst_read_first({student: score.accuracy for student, score in scores.items()})


def anonymous_labels(count: int) -> list[str]:
    """"student 1" ... "student N": how students appear in what the class sees, by rank."""
    return plots.ranked_labels("student", count)


def writer_accuracies(scores: dict[str, Score]) -> dict:
    """Scores in the form `plots.plot_accuracy_by_writer` draws."""
    return {"by_writer": {student: {"accuracy": score.accuracy} for student, score in scores.items()}}


@dataclass(frozen=True, eq=False)
class ClassReport:
    """One model measured on a class's drawings (see `class_report`)."""

    model_name: str
    mnist_test_accuracy: float | None  # as its model card records it; None without one
    evaluation: EvaluationReport  # predictions, confusion matrix and mistakes on the class's drawings
    model_inputs: np.ndarray  # (N, 28, 28): what the network saw, as the pad prepared it
    students: np.ndarray  # (N,) who drew each drawing (stored ids)

    def __repr__(self) -> str:
        # Not the generated one: a cell ending in `report` would put every student's id beside their results on the
        # projector, and each student knows their own (the panel shows it).
        return f"ClassReport({self.model_name}: {self.accuracy:.2%} on {self._drawings_by_students()})"

    @property
    def accuracy(self) -> float:
        return self.evaluation.accuracy

    def _drawings_by_students(self) -> str:
        return f"{counted(len(self.students), 'drawing')} by {counted(len(set(self.students.tolist())), 'student')}"

    def by_student(self) -> dict[str, Score]:
        """Stored student id -> score: for the teacher, not for showing to the class."""
        return score_groups(self.students, self.evaluation.correct)

    def by_digit(self) -> dict[int, Score]:
        return score_groups(self.evaluation.labels, self.evaluation.correct)

    def ranked_students(self) -> list[Score]:
        """Every student's score, the worst read first, without names."""
        scores = self.by_student()
        return [scores[student] for student in ranked(scores)]

    def summary(self) -> str:
        mnist = f"{self.mnist_test_accuracy:.2%}" if self.mnist_test_accuracy is not None else "not recorded"
        return (f"model: {self.model_name}\n"
                f"  MNIST test images (from its model card): {mnist}\n"
                f"  the class's drawings:                    {self.accuracy:.2%} "
                f"({counted(len(self.evaluation.mistakes), 'mistake')} in {self._drawings_by_students()})")

    def digit_table(self) -> str:
        """Accuracy per digit and what the model most often read instead; every digit, those the class has not
        drawn too (a table without them would look complete)."""
        predictions, labels = self.evaluation.predictions, self.evaluation.labels
        scores = self.by_digit()
        rows = []
        for digit in DIGITS:
            if digit not in scores:
                rows.append([str(digit), "0", "-", "no drawings"])
                continue
            score = scores[digit]
            wrong = Counter(predictions[(labels == digit) & (predictions != digit)].tolist()).most_common(1)
            instead = f"{wrong[0][0]} ({wrong[0][1]}x)" if wrong else "-"
            rows.append([str(digit), str(score.samples), f"{score.accuracy:.1%}", instead])
        return format_table(["digit", "drawings", "accuracy", "most often read as"], rows,
                            [False, True, True, False])

    def student_table(self, count: int | None = None) -> str:
        """The `count` students (default: all) the model reads worst, anonymous: ranks instead of names."""
        # A slice would take -1 as all but the last student, 0 as none, and 2.5 as a TypeError.
        if not (count is None or (is_whole_number(count) and count >= 1)):
            raise ConfigError(f"count is how many students to show, the worst read first: a whole number, 1 or more "
                              f"(None: all), not {count!r}")
        scores = self.ranked_students()
        rows = [[label, str(score.samples), str(score.mistakes), f"{score.accuracy:.1%}"]
                for label, score in zip(anonymous_labels(len(scores)), scores[:count])]
        return format_table(["", "drawings", "mistakes", "accuracy"], rows, [False, True, True, True])

    def student_figure(self) -> Figure:
        """Accuracy per student, anonymous and worst first, with the MNIST test accuracy as a line."""
        reference = None if self.mnist_test_accuracy is None else ("MNIST test images", self.mnist_test_accuracy)
        return plots.plot_accuracy_by_writer({self.model_name: writer_accuracies(self.by_student())}, who="student",
                                             reference=reference)

    def confusion_figure(self) -> Figure:
        return plots.plot_confusion_matrix(self.evaluation.confusion_matrix)

    def mistakes_figure(self, count: int = 40) -> Figure:
        """A contact sheet of the drawings read wrong, as the network saw them, most confident first."""
        figure = plots.plot_mistakes(self.model_inputs, self.evaluation.mistakes, count=count)
        if not self.evaluation.mistakes:  # an empty sheet titled "Most confident mistakes" looks like a failure
            read = "the one drawing" if len(self.students) == 1 else f"all {counted(len(self.students), 'drawing')}"
            figure.suptitle(f"No mistakes: {self.model_name} read {read} right")
        return figure


def recorded_mnist_accuracy(predictor: Predictor) -> float | None:
    """The MNIST test accuracy in the model's card, if it has a card that records one."""
    if predictor.source is None or not ModelCard.path_for(predictor.source).is_file():
        return None
    return ModelCard.for_model(predictor.source).metrics.get(TEST_ACCURACY)


def class_report(records: Iterable[DrawingRecord], predictor: Predictor | keras.Model) -> ClassReport:
    """Measure a digit model on the class's drawings (e.g. `ClassCollection.read().records`): a `Predictor`'s (e.g.
    `Predictor.load()`: named as its file, beside the MNIST test accuracy its card records) or a Keras model (named
    as the network, without an MNIST figure: it has no card; `fine_tune`'s result is taken for its model, named as its
    file)."""
    model = checked_model(predictor, "the class report")
    is_predictor = isinstance(predictor, Predictor)
    records = checked_records(records, "class_report")
    inputs = model_inputs(records)
    labels = np.array([record.label for record in records], dtype=np.int64)
    return ClassReport(
        model_name=shown_name(predictor, model),
        mnist_test_accuracy=recorded_mnist_accuracy(predictor) if is_predictor else None,
        evaluation=evaluate(model, inputs[..., np.newaxis], labels),
        model_inputs=inputs,
        students=np.array([record.student for record in records]),
    )


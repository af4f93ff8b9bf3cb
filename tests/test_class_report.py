"""The class report on a real collection and a real model: every figure checked against a direct computation."""
from __future__ import annotations

import re

import numpy as np
import pytest

from numvision_lib.class_collection import demo_collection, model_inputs
from numvision_lib.class_report import class_report
from numvision_lib.drawing import pad_predictor
from numvision_lib.drawn_digits import template_strokes
from numvision_lib.errors import ConfigError, ModelStructureError
from numvision_lib.model import load_model
from numvision_lib.model_card import ModelCard
from numvision_lib.not_a_digit import build_digit_check
from numvision_lib.predict import Predictor


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    collection = demo_collection(tmp_path_factory.mktemp("demo"), drawings_per_student=4)
    # One student labels three clear 1s as 7s: the model reads them as 1s, so there are mistakes to show.
    student = collection.student_id("mislabelled")
    for _ in range(3):
        collection.save(7, template_strokes(1), student)
    return collection.read().records


@pytest.fixture(scope="module")
def report(records, predictor):
    return class_report(records, predictor)


def test_accuracy_per_student_and_digit_match_a_direct_count(report, records, predictor):
    labels = np.array([record.label for record in records])
    # The report measures the network read once (as the fine-tuning figures do), not the pad's three readings:
    # counted here by calling the network directly.
    answers = np.asarray(predictor.model(model_inputs(records)[..., np.newaxis], training=False)).argmax(axis=1)
    right = answers == labels
    assert report.accuracy == pytest.approx(right.mean())
    assert report.accuracy > 0.8, "the reference model reads unseen writers' digits (but not the three mislabelled)"
    for student, score in report.by_student().items():
        own = np.array([record.student == student for record in records])
        assert (score.samples, score.right) == (own.sum(), right[own].sum())
    for digit, score in report.by_digit().items():
        assert (score.samples, score.right) == ((labels == digit).sum(), right[labels == digit].sum())
    assert len(report.by_student()) == 21 and sum(s.samples for s in report.by_student().values()) == len(records)


def test_the_mnist_figure_comes_from_the_model_card(report, shipped_model_path):
    recorded = ModelCard.for_model(shipped_model_path).metrics["test_accuracy"]
    assert report.mnist_test_accuracy == recorded
    assert f"MNIST test images (from its model card): {recorded:.2%}" in report.summary()
    assert f"the class's drawings:                    {report.accuracy:.2%}" in report.summary()


def test_what_the_class_sees_is_anonymous(report):
    shown = report.student_table() + report.digit_table() + report.summary()
    assert not [student for student in report.by_student() if student in shown]
    ranked = report.ranked_students()
    assert [score.accuracy for score in ranked] == sorted(score.accuracy for score in ranked)
    assert ranked[0].accuracy == 0.0  # the student who labelled 1s as 7s comes first, as "student 1"
    worst = report.student_table(count=3).splitlines()
    assert len(worst) == 5 and worst[2].split()[:2] == ["student", "1"]
    axes = report.student_figure().axes[0]
    assert [tick.get_text() for tick in axes.get_xticklabels()] == [f"student {rank}" for rank in range(1, 22)]
    # Rank for rank the same students in the figure as in the table: one order (plots.worst_read_first).
    assert list(axes.get_lines()[0].get_ydata()) == [score.accuracy * 100 for score in ranked]
    assert axes.get_legend().get_texts()[-1].get_text().startswith("MNIST test images (99.")


def test_the_report_shown_by_itself_names_no_student(report, records, predictor):
    """A cell ending in `report` showed the generated repr: every drawing's student id beside its result."""
    assert repr(report) == (f"ClassReport({predictor.name}: {report.accuracy:.2%} on {len(records):,} drawings by 21 "
                            "students)")


@pytest.mark.parametrize("count", [-1, 0, 2.5, "3"])
def test_the_student_table_shows_one_student_or_more(report, count):
    # A slice took -1 as all but the last student and 0 as none; 2.5 and "3" were raw TypeErrors.
    with pytest.raises(ConfigError, match=r"count is how many students to show, the worst read first: a whole "
                                          rf"number, 1 or more \(None: all\), not {count!r}"):
        report.student_table(count)


def test_the_student_table_shows_every_student_by_default(report):
    assert len(report.student_table().splitlines()) == 2 + 21 == len(report.student_table(None).splitlines())


def test_digit_table_says_what_a_digit_is_read_as(report):
    row_of_seven = next(line for line in report.digit_table().splitlines() if line.startswith("7 "))
    assert "1 (" in row_of_seven  # the mislabelled 1s


def test_digit_table_lists_the_digits_the_class_has_not_drawn(report):
    """A class that has not drawn every digit yet got a table without them, which looked complete."""
    not_drawn = sorted(set(range(10)) - set(report.by_digit()))
    assert not_drawn, "four drawings by each student: the fixture's class has not drawn every digit"
    rows = report.digit_table().splitlines()[2:]
    assert [row.split()[0] for row in rows] == [str(digit) for digit in range(10)]
    for digit in not_drawn:
        assert rows[digit].split() == [str(digit), "0", "-", "no", "drawings"]


def test_the_contact_sheet_shows_each_mistake_as_the_network_saw_it(report):
    mistakes = report.evaluation.mistakes
    assert len(mistakes) >= 3
    figure = report.mistakes_figure()
    titled = [ax for ax in figure.axes if ax.get_title()]
    assert len(titled) == min(len(mistakes), 40)
    shown = titled[0].get_images()[0].get_array()
    np.testing.assert_array_equal(shown, report.model_inputs[mistakes[0].index])
    assert report.confusion_figure().axes[0].get_title().startswith("Confusion matrix")


def test_a_class_read_without_mistakes_says_so(report, records, predictor):
    read_right = [record for record, right in zip(records, report.evaluation.correct) if right][:10]
    figure = class_report(read_right, predictor).mistakes_figure()
    assert figure.get_suptitle() == f"No mistakes: {predictor.name} read all 10 drawings right"


def test_one_drawing_by_one_student_is_counted_in_the_singular(report, records, predictor):
    """Early in a lesson: "0 mistakes in 1 drawings by 1 students"."""
    read_right = [record for record, right in zip(records, report.evaluation.correct) if right][:1]
    one = class_report(read_right, predictor)
    assert one.summary().endswith("100.00% (0 mistakes in 1 drawing by 1 student)")
    assert one.mistakes_figure().get_suptitle() == f"No mistakes: {predictor.name} read the one drawing right"
    assert repr(one) == f"ClassReport({predictor.name}: 100.00% on 1 drawing by 1 student)"


def test_a_keras_model_is_reported_too(report, records, predictor):
    # It was a raw AttributeError ('Functional' object has no attribute 'source').
    from_model = class_report(records, predictor.model)
    np.testing.assert_array_equal(from_model.evaluation.predictions, report.evaluation.predictions)
    assert from_model.model_name == predictor.model.name and from_model.mnist_test_accuracy is None
    assert "MNIST test images (from its model card): not recorded" in from_model.summary()
    with pytest.raises(ModelStructureError, match="the class report needs a digit model, with one probability for "
                                                  "each of the 10 digits; digit_check"):
        class_report(records[:10], build_digit_check())


def test_the_drawings_may_come_as_a_generator_and_the_report_names_itself(report, records, predictor):
    """A teacher filtering in a cell: the drawings were read once for the inputs and left no labels, a message
    about labels the teacher never gave; a wrong argument was blamed on model_inputs, never called."""
    filtered = class_report((record for record in records if record.label != 1), predictor)
    kept = np.array([record.label != 1 for record in records])
    np.testing.assert_array_equal(filtered.evaluation.predictions, report.evaluation.predictions[kept])
    with pytest.raises(ConfigError, match=re.escape("class_report: records is a list of DrawingRecords, such as "
                                                    "collection.read().records, not 'records'")):
        class_report("records", predictor)
    with pytest.raises(ConfigError, match=re.escape("class_report: records is a list of DrawingRecords: give [record] "
                                                    "for one")):
        class_report(records[0], predictor)


def test_fine_tunes_result_is_reported_as_its_model(records, predictor, tmp_path):
    """The same slip as before_and_after(..., run) one cell later, which was taken: here it was refused, "needs a
    Keras model ... not a FineTuneRun", without a word of run.model."""
    from numvision_lib.fine_tuning import FineTuneRun, FineTuneSettings
    run = FineTuneRun(predictor.model, tmp_path / "m.keras", tmp_path / "m.json", tmp_path / "base.keras",
                      FineTuneSettings(), students=2, drawings=3, prepare_seconds=0.0, train_seconds=0.0,
                      mnist_test_accuracy=0.99)
    from_run, from_model = class_report(records[:10], run), class_report(records[:10], predictor.model)
    np.testing.assert_array_equal(from_run.evaluation.predictions, from_model.evaluation.predictions)
    assert (from_run.model_name, from_model.model_name) == ("m", predictor.model.name)  # the run by its file


def test_a_predictor_is_named_after_its_file_and_a_keras_model_after_its_network(records, shipped_model_path):
    """numvision_plus_real.keras holds a network named numvision_plus: the file tells the two shipped models apart."""
    model_file = shipped_model_path.parent / "numvision_plus_real.keras"
    real = Predictor(load_model(model_file), source=model_file)
    assert class_report(records[:10], real).model_name == "numvision_plus_real"
    assert class_report(records[:10], real.model).model_name == real.model.name == "numvision_plus"


def test_a_model_without_card_has_no_mnist_figure(records, predictor):
    bare = Predictor(predictor.model)
    report = class_report(records[:10], bare)
    assert report.mnist_test_accuracy is None and "not recorded" in report.summary()


def test_the_light_predictor_is_refused_with_what_to_load_instead(records):
    with pytest.raises(ConfigError, match="the class report needs the Keras model, which the light drawing pad does "
                                          "not load"):
        class_report(records[:10], pad_predictor())

"""Fine-tuning on a class: a tiny real run from the pad's model, the student split, before and after."""
from __future__ import annotations

import dataclasses
import hashlib
import re
import json
import shutil

import numpy as np
import pytest

from numvision_lib import fine_tuning
from numvision_lib import model as model_module
from numvision_lib.class_collection import DEMO_SOURCE, PAD_SOURCE, demo_collection, model_inputs
from numvision_lib.drawing import DrawingPad
from numvision_lib.drawn_digits import template_strokes
from numvision_lib.errors import ConfigError, DataError, ModelFileError, ModelStructureError
from numvision_lib.evaluation import Score
from numvision_lib.fine_tuning import (SPLIT_AFTER_BENCHMARK_WRITERS, BeforeAfter, FineTuneSettings,
                                       before_and_after, epoch_selections, fine_tune, split_students,
                                       training_images)
from numvision_lib.model import batch_norm_layers, conv_layers, load_model
from numvision_lib.history import read_history_csv
from numvision_lib.model_card import DIGIT_CHECK_PATH, ModelCard, class_model_path, pad_model_path
from numvision_lib.not_a_digit import build_digit_check
from numvision_lib.paths import MODELS_DIR, MY_MODELS_DIR, project_relative
from numvision_lib.predict import Predictor


@pytest.fixture(scope="module")
def contents(tmp_path_factory):
    return demo_collection(tmp_path_factory.mktemp("demo"), drawings_per_student=5).read()


@pytest.fixture(scope="module")
def split(contents):
    return split_students(contents.students, held_out=5, seed=3)


@pytest.fixture(scope="module")
def run(contents, split, mnist):
    # Saved where fine_tune saves by default, as in notebook 09: my_models/ is a scratch folder in tests (conftest.py).
    return fine_tune(contents.of_students(split.fine_tune).records, mnist=mnist, settings=FineTuneSettings.quick())


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_students_are_split_never_drawings(contents, split):
    assert len(split.held_out) == 5 and len(split.fine_tune) == len(contents.students) - 5
    assert not set(split.fine_tune) & set(split.held_out)
    assert split_students(contents.students, 5, seed=3) == split
    assert split_students(contents.students, 5, seed=4) != split
    with pytest.raises(ConfigError, match="cannot hold out"):
        split_students(contents.students, len(contents.students))


@pytest.mark.parametrize("students, seed, message", [
    (["a", "b", "c"], -1, "the seed must be a whole number from 0 to 4294967295, not -1"),
    (["a", "b", "c"], 2.5, "the seed must be a whole number from 0 to 4294967295, not 2.5"),
    (["a", "b", "c"], "3", "the seed must be a whole number from 0 to 4294967295, not '3'"),
    (["a", "b", "c"], None, "the seed must be a whole number from 0 to 4294967295, not None"),  # another split each run
    ("alice", 0, r"give the students as a list of their ids \(e.g. contents.students\), not 'alice'"),
    (["a", 1, "b"], 0, r"student ids are strings, as a class collection stores them \(contents.students\), not 1"),
])
def test_a_split_needs_student_ids_and_a_seed(students, seed, message):
    with pytest.raises(ConfigError, match=message):
        split_students(students, 1, seed=seed)


@pytest.mark.parametrize("held_out, message", [
    ("8", "a whole number from 1 to 19, not '8'"),
    # len(students) * 0.4 or len(students) / 2.5: "not 8.0" read as a contradiction.
    (8.0, "a whole number from 1 to 19, not 8.0 (a float: write 8, or compute it with // instead of /)"),
    (0.4, "a whole number from 1 to 19, not 0.4 (a count, not a share: 0.4 of 20 students is 8)"),
    # "write 20" (or 0, or -2) would be refused next, as a count out of range.
    (20.0, "a whole number from 1 to 19, not 20.0"),
    (0.0, "a whole number from 1 to 19, not 0.0"),
    (-2.0, "a whole number from 1 to 19, not -2.0"),
])
def test_how_many_to_hold_out_is_a_count(held_out, message):
    """Holding out 8 of 20 is fine: what was wrong is the type, which a message about counts did not say."""
    with pytest.raises(ConfigError, match=re.escape(f"held_out is how many students to hold out: {message}") + "$"):
        split_students([f"s-{index:010x}" for index in range(20)], held_out)


def test_training_images_are_each_drawing_and_its_redrawn_copies(contents):
    records = contents.records[:6]
    images, labels = training_images(records, FineTuneSettings(augmented_copies=2))
    assert images.dtype == np.uint8 and images.shape == (18, 28, 28)
    expected = [record.label for record in records]
    assert labels.tolist() == expected + np.repeat(expected, 2).tolist()  # then two copies of each, in order
    np.testing.assert_allclose(images[0] / 255, records[0].model_input(), atol=0.5 / 255 + 1e-6)
    assert not np.array_equal(images[6], images[7])  # two different redrawings of the first drawing


def test_the_fine_tuned_model_goes_to_my_models_with_its_card(run, contents, split, mnist):
    pad_model = pad_model_path()
    assert run.base_path == pad_model and run.model_path == MY_MODELS_DIR / f"class_{pad_model.stem}.keras"
    card = ModelCard.for_model(run.model_path)
    assert card.metrics["test_accuracy"] == pytest.approx(run.mnist_test_accuracy, abs=1e-6)
    assert card.data["base_model"] == pad_model.stem and card.data["students"] == len(split.fine_tune)
    assert card.data["class_drawings"] == run.drawings == len(contents.of_students(split.fine_tune))
    assert card.config == FineTuneSettings.quick().to_dict() and card.epochs_run == 1
    # Each drawing, its redrawn copy and two MNIST replays: an epoch's images, not all that made the model.
    assert card.data["train_images_per_epoch"] == 4 * run.drawings and "train_images" not in card.data
    assert (f"Fine-tuned from {pad_model.stem} on {run.drawings} class drawings by {run.students} students\n"
            in card.summary()), "not 'Trained on ... images (0 kept for validation)'"
    assert 0.9 < run.mnist_test_accuracy <= 1  # one small epoch with MNIST replay keeps MNIST
    # Whose drawings the model learned from, by their stored ids: for before_and_after, and for a student who asks
    # for their deletion. Out of the run's repr, which a cell ending in `run` shows.
    assert run.fine_tune_students == set(split.fine_tune) == set(card.data["fine_tune_students"])
    assert card.data["fine_tune_students"] == sorted(split.fine_tune) and card.data["class_sources"] == [DEMO_SOURCE]
    assert not [student for student in split.fine_tune if student in repr(run)]
    # The pad's model learned from UNIPEN's training writers, and so did every model fine-tuned from it.
    base_card = ModelCard.for_model(pad_model)
    assert base_card.saw_real_handwriting and card.saw_real_handwriting
    # The demonstration class is made of the benchmark writers: "the benchmark writers are never used" was copied.
    assert card.data["real_handwriting"] == {**base_card.data["real_handwriting"],
                                             "split": SPLIT_AFTER_BENCHMARK_WRITERS}
    assert "never used" in base_card.data["real_handwriting"]["split"] and "never" not in SPLIT_AFTER_BENCHMARK_WRITERS
    assert card.saw_benchmark_writers and not base_card.saw_benchmark_writers
    assert "including UNIPEN's benchmark writers (the demonstration class)" in card.summary()


def test_a_card_records_test_accuracy_only_on_all_of_mnists_test_images(contents, split, mnist, tmp_path):
    few_test_images = dataclasses.replace(mnist, x_test=mnist.x_test[:500], y_test=mnist.y_test[:500])
    run = fine_tune(contents.of_students(split.fine_tune).records[:20], mnist=few_test_images,
                    settings=FineTuneSettings.quick(), output=tmp_path / "tuned.keras")
    card = ModelCard.for_model(run.model_path)
    assert "test_accuracy" not in card.metrics and card.data["test_images"] == 500
    assert 0.8 < run.mnist_test_accuracy <= 1, "the run still measures the test images it was given"
    assert not run.replaced and run.summary() == (f"fine-tuned on 20 drawings by {run.students} students, saved as "
                                                  f"{project_relative(tmp_path / 'tuned.keras')}")


def test_a_run_that_replaces_an_earlier_model_says_so(contents, mnist, tmp_path):
    """A quick run, or an exercise's, over the class's full fine-tuned model replaced it without a word."""
    earlier = tmp_path / "class_numvision_plus_real.keras"
    shutil.copy(pad_model_path(), earlier)  # stands for the full run's model
    tiny = dataclasses.replace(mnist, x_train=mnist.x_train[:100], y_train=mnist.y_train[:100],
                               x_test=mnist.x_test[:100], y_test=mnist.y_test[:100])
    run = fine_tune(contents.records[:1], mnist=tiny, settings=FineTuneSettings.quick(augmented_copies=0),
                    output=earlier)
    assert run.replaced and run.model_path == earlier
    assert run.summary() == (f"fine-tuned on 1 drawing by 1 student, saved as {project_relative(earlier)} (it "
                             "replaced the model saved there before)")


def tiny(mnist):
    return dataclasses.replace(mnist, x_train=mnist.x_train[:100], y_train=mnist.y_train[:100],
                               x_test=mnist.x_test[:100], y_test=mnist.y_test[:100])


def test_a_class_of_its_own_keeps_the_benchmark_writers_unseen(contents, mnist, tmp_path):
    """Only the demonstration class is made of the benchmark writers: a class's own drawings leave the claim."""
    own_class = [dataclasses.replace(record, source=PAD_SOURCE) for record in contents.records[:2]]
    run = fine_tune(own_class, mnist=tiny(mnist), settings=FineTuneSettings.quick(augmented_copies=0),
                    output=tmp_path / "tuned.keras")
    card, base_card = ModelCard.for_model(run.model_path), ModelCard.for_model(run.base_path)
    assert card.data["real_handwriting"] == base_card.data["real_handwriting"] and not card.saw_benchmark_writers
    assert card.data["class_sources"] == [PAD_SOURCE] and "benchmark" not in card.summary()


def test_a_fine_tuned_model_fine_tuned_again_keeps_what_it_learned_from(run, contents, split, mnist, tmp_path):
    """The card said only "80 drawings by 9 students": the first fine-tuning's students could then be held out."""
    first = ModelCard.for_model(run.model_path)
    own_class = [dataclasses.replace(record, source=PAD_SOURCE) for record in contents.of_students(split.held_out)]
    again = fine_tune(own_class[:3], run.model_path, tiny(mnist), FineTuneSettings.quick(augmented_copies=0),
                      output=tmp_path / "again.keras")
    card = ModelCard.for_model(again.model_path)
    assert card.data["earlier_fine_tuning"] == [{key: first.data[key] for key in (
        "base_model", "class_drawings", "students", "fine_tune_students", "class_sources")}]
    assert card.fine_tunings[-1]["fine_tune_students"] == sorted(again.fine_tune_students)
    assert again.learned_from == set(split.fine_tune) | again.fine_tune_students
    # Learned from the demonstration class's benchmark writers, if not in this fine-tuning.
    assert card.saw_benchmark_writers and card.data["real_handwriting"]["split"] == SPLIT_AFTER_BENCHMARK_WRITERS
    assert (f"Fine-tuned from {run.model_path.stem} on 3 class drawings by {again.students} student"
            f"{'s' if again.students > 1 else ''}\n  before that, from {run.base_path.stem} on {run.drawings} class "
            f"drawings by {run.students} students\n" in card.summary())
    # Three times: the earliest first.
    third = fine_tune(own_class[3:4], again.model_path, tiny(mnist), FineTuneSettings.quick(augmented_copies=0),
                      output=tmp_path / "third.keras")
    assert [entry["base_model"] for entry in ModelCard.for_model(third.model_path).fine_tunings] == [
        run.base_path.stem, run.model_path.stem, again.model_path.stem]
    with pytest.raises(ConfigError, match=f"and {len(split.fine_tune)} of the {len(split.fine_tune)} students in these "
                                          "drawings fine-tuned the model"):
        before_and_after(contents.of_students(split.fine_tune).records, run.model, again)


def test_a_class_within_the_budget_shows_every_image_each_epoch_with_fresh_replay():
    settings = FineTuneSettings(epochs=3, mnist_per_drawing=6.0, images_per_epoch=21_000)
    epochs = list(epoch_selections(3_000, 60_000, settings, np.random.default_rng(0)))
    assert len(epochs) == 3
    for shown, replay in epochs:
        np.testing.assert_array_equal(shown, np.arange(3_000))
        assert len(replay) == 18_000 == len(set(replay.tolist()))
    assert not np.array_equal(epochs[0][1], epochs[1][1])


def test_a_large_class_shows_a_fresh_share_of_its_images_each_epoch():
    # 30 students' 50 drawings with 4 redrawn copies each: 7,500 class images, 52,500 with their replay.
    settings = FineTuneSettings(epochs=3, mnist_per_drawing=6.0, images_per_epoch=21_000)
    epochs = list(epoch_selections(7_500, 60_000, settings, np.random.default_rng(0)))
    shares = [set(shown.tolist()) for shown, _ in epochs]
    assert all(len(share) == 3_000 and max(share) < 7_500 for share in shares)
    assert all(len(shown) + len(replay) == 21_000 for shown, replay in epochs)
    assert shares[0] != shares[1] and len(set().union(*shares)) > 5_000  # most of the class is seen over 3 epochs


def test_epochs_select_whole_numbers_of_images():
    settings = FineTuneSettings()
    for class_count, mnist_count, message in [(2.5, 100, "class_count is a number of images: a whole number, 1 or "
                                                         "more, not 2.5"),
                                              (0, 100, "class_count .* not 0"),
                                              (10, -1, "mnist_count is a number of images: a whole number, 0 or "
                                                       "more, not -1"),
                                              (10, "100", "mnist_count .* not '100'")]:
        with pytest.raises(ConfigError, match=message):
            list(epoch_selections(class_count, mnist_count, settings, np.random.default_rng(0)))


def test_a_fine_tuning_run_keeps_to_its_budget(contents, split, mnist, tmp_path):
    records = contents.of_students(split.fine_tune).records
    output = class_model_path(pad_model_path().stem, tmp_path)
    budget = FineTuneSettings.quick(images_per_epoch=10)
    run = fine_tune(records, mnist=mnist, settings=budget, output=output)
    assert 2 * len(records) > 10 and ModelCard.for_model(run.model_path).data["train_images_per_epoch"] == 10


def test_the_largest_seed_fine_tunes_for_several_epochs(contents, split, mnist, tmp_path):
    """Each epoch shuffles with the next seed: past the largest, it starts again from 0."""
    settings = FineTuneSettings.quick(images_per_epoch=10, epochs=2, seed=2**32 - 1)
    run = fine_tune(contents.of_students(split.fine_tune).records[:5], mnist=mnist, settings=settings,
                    output=tmp_path / "tuned.keras")
    assert ModelCard.for_model(run.model_path).epochs_run == 2
    # From 0, as Keras and `train` count them: plots draw epoch 0 as the first.
    assert read_history_csv(run.model_path.with_suffix(".history.csv"))["epoch"] == [0, 1]


def test_fine_tuning_changes_the_weights_but_not_batch_normalisation_or_the_base_file(run):
    base_file_before = sha256(run.base_path)
    base = load_model(run.base_path)
    tuned = load_model(run.model_path)
    assert sha256(run.base_path) == base_file_before
    changed = [not np.array_equal(a, b) for a, b in zip(base.get_weights(), tuned.get_weights())]
    assert any(changed)
    for base_layer, tuned_layer in zip(batch_norm_layers(base), batch_norm_layers(tuned)):
        for a, b in zip(base_layer.get_weights(), tuned_layer.get_weights()):
            np.testing.assert_array_equal(a, b)  # scale, shift and statistics all frozen


def test_the_first_convolutions_can_be_left_as_they_are(contents, split, mnist, tmp_path):
    frozen = 3  # numvision_plus's first block
    run = fine_tune(contents.of_students(split.fine_tune).records, mnist=mnist, output=tmp_path / "tuned.keras",
                    settings=FineTuneSettings.quick(frozen_convolutions=frozen))
    assert ModelCard.for_model(run.model_path).config["frozen_convolutions"] == frozen
    base, tuned = (conv_layers(load_model(path))[:frozen + 1] for path in (run.base_path, run.model_path))
    for base_layer, tuned_layer in zip(base[:frozen], tuned[:frozen]):
        for a, b in zip(base_layer.get_weights(), tuned_layer.get_weights()):
            np.testing.assert_array_equal(a, b)
    assert not np.array_equal(base[frozen].get_weights()[0], tuned[frozen].get_weights()[0])

    # Fine-tuned again without freezing: Keras saved which layers were frozen, and they stayed so, while the card
    # said none was. The drawings as a generator, too: they are read more than once.
    few_test_images = dataclasses.replace(mnist, x_test=mnist.x_test[:100], y_test=mnist.y_test[:100])
    again = fine_tune((record for record in contents.of_students(split.fine_tune).records[:10]), run.model_path,
                      few_test_images, FineTuneSettings.quick(), output=tmp_path / "again.keras")
    assert all(layer.trainable for layer in conv_layers(again.model)) and again.drawings == 10
    assert not np.array_equal(tuned[0].get_weights()[0], conv_layers(load_model(again.model_path))[0].get_weights()[0])


def test_freezing_more_convolutions_than_the_model_has_fails_before_any_work(contents, tmp_path):
    output = tmp_path / "tuned.keras"
    with pytest.raises(ConfigError, match="cannot leave 99 convolutions as they are: numvision_plus has 7"):
        fine_tune(contents.records[:5], output=output, settings=FineTuneSettings.quick(frozen_convolutions=99))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("arguments, error, message", [
    # The notebook's call with MNIST left out: the settings land in its place.
    ({"mnist": FineTuneSettings.quick()}, ConfigError,
     "mnist is MNIST as load_mnist() gives it, or None to load it there; not FineTuneSettings"),
    ({"settings": {"epochs": 1}}, ConfigError,
     "settings is a FineTuneSettings, such as FineTuneSettings.quick() (a dict of settings becomes one as "
     "FineTuneSettings(**settings)), not dict"),
    ({"base_path": 123}, ConfigError, "give the path of a model file, such as models/numvision_cnn.keras, not 123"),
    ({"output": 123}, ConfigError, "give the path of the model file to write, such as my_models/my_model.keras, not "
                                   "123"),
    # Both were blamed on the model's card.
    ({"base_path": DIGIT_CHECK_PATH}, ModelStructureError, "fine_tune's base model needs a digit model, with one "
                                                           "probability for each of the 10 digits; digit_check (the "
                                                           "digit check) gives 1 outputs"),
    ({"base_path": "missing.keras"}, ModelFileError, "missing.keras: model file not found"),
], ids=["settings as mnist", "settings as a dict", "base as a number", "output as a number", "the digit check",
        "a missing base"])
def test_arguments_of_the_wrong_kind_are_refused_before_any_work(contents, tmp_path, monkeypatch, arguments, error,
                                                                 message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=re.escape(message)):
        fine_tune(contents.records[:5], **{"output": tmp_path / "tuned.keras", **arguments})
    assert list(tmp_path.iterdir()) == []


def test_the_pad_can_switch_to_the_fine_tuned_model(run):
    pad = DrawingPad(Predictor.load(run.model_path))
    assert pad.predictor.name == run.model_path.stem
    assert pad.draw(template_strokes(3)).digit == 3


def test_before_and_after_per_held_out_student(run, contents, split):
    held_out = contents.of_students(split.held_out).records
    comparison = before_and_after(held_out, load_model(run.base_path), run.model)
    assert set(comparison.before) == set(comparison.after) == set(split.held_out)
    assert sum(score.samples for score in comparison.after.values()) == len(held_out)
    # Counted drawing by drawing, by calling both networks directly.
    inputs = model_inputs(held_out)[..., np.newaxis]
    labels = np.array([record.label for record in held_out])
    right_before, right_after = (np.asarray(model(inputs, training=False)).argmax(axis=1) == labels
                                 for model in (load_model(run.base_path), run.model))
    assert (comparison.fixed, comparison.broken) == ((right_after & ~right_before).sum(),
                                                     (right_before & ~right_after).sum())
    same = before_and_after(held_out, run.model, run.model)
    assert (same.fixed, same.broken) == (0, 0)
    error, error_again = same.errors()
    assert error == error_again
    assert same.relative_reduction == (0 if error else None)  # None: nothing to remove
    table = comparison.table()
    assert "student 1" in table and not [student for student in split.held_out if student in table]
    assert [line.get_label() for line in comparison.figure().axes[0].get_lines()] == ["before", "after fine-tuning"]


def test_the_students_a_run_learned_from_are_never_measured_as_held_out(run, contents, split, predictor):
    """All twelve fine-tuning students were scored as "held-out", and the advice flattered the model."""
    message = (f"before_and_after measures on held-out students, and {len(split.fine_tune)} of the "
               f"{len(contents.students)} students in these drawings fine-tuned the model: it learned from their "
               "drawings, which would flatter it. Give only the held-out students' drawings, such as "
               "contents.of_students(split.held_out).records")
    for before, after in ((predictor, run), (run, predictor)):
        with pytest.raises(ConfigError) as refused:
            before_and_after(contents.records, before, after)
        assert str(refused.value) == message  # a count: no student's id on the class's screen
    one = contents.of_students(split.fine_tune[:1]).records
    with pytest.raises(ConfigError, match="and 1 of the 1 student in these drawings fine-tuned the model"):
        before_and_after(one, predictor, run)
    held_out = contents.of_students(split.held_out).records
    assert before_and_after(held_out, predictor, run) == before_and_after(held_out, predictor, run.model)


def test_before_and_after_take_digit_models_or_predictors(run, contents, split, predictor):
    held_out = contents.of_students(split.held_out).records
    with_predictors = before_and_after(held_out, predictor, predictor)  # was a raw TypeError from predict()
    assert with_predictors == before_and_after(held_out, predictor.model, predictor.model)
    # fine_tune's result for its model: "needs a Keras model, such as load_model(...) or Predictor.load(), not a
    # FineTuneRun", without the fix, run.model.
    assert before_and_after(held_out, predictor, run) == before_and_after(held_out, predictor, run.model)
    # The drawings as a generator: read once for the inputs, they left no labels ("labels of shape (0,)").
    assert before_and_after((record for record in held_out), predictor, predictor) == with_predictors
    with pytest.raises(ConfigError, match=re.escape("before_and_after: records is a list of DrawingRecords, such as "
                                                    "collection.read().records; record 0 is a str")):
        before_and_after(split.held_out, predictor, predictor)  # the students, not their drawings
    # The check's one score read as ten probabilities was "digit 0" for every drawing: "made things worse".
    with pytest.raises(ModelStructureError, match="before_and_after's fine-tuned model needs a digit model, with one "
                                                  r"probability for each of the 10 digits; digit_check \(the digit "
                                                  r"check\) gives 1 outputs"):
        before_and_after(held_out, predictor.model, build_digit_check())
    with pytest.raises(ModelStructureError, match="before_and_after's model before fine-tuning needs a digit model"):
        before_and_after(held_out, build_digit_check(), predictor)


def test_before_and_after_score_the_same_drawings():
    # No drawings gave "nan% → nan% error"; other students after than before a raw KeyError in the table.
    for before, after, found in [({}, {}, "0 students (0 drawings) before and 0 students (0 drawings) after"),
                                 ({"a": Score(5, 5)}, {"b": Score(5, 4)}, "1 student (5 drawings) before"),
                                 ({"a": Score(5, 5)}, {"a": Score(4, 4)}, "1 student (4 drawings) after"),
                                 ({"a": Score(0, 0)}, {"a": Score(0, 0)}, "1 student (0 drawings) before")]:
        with pytest.raises(ConfigError, match="before and after must score the same held-out students, each on the "
                                              rf"same drawings \(at least one\): .*found .*{re.escape(found)}"):
            BeforeAfter(before, after, 0, 0)


@pytest.mark.parametrize("fixed, broken", [(4, 0), (6, 1), (-1, -3), (2.0, 0), (True, False)])
def test_the_drawings_fixed_and_broken_add_up_to_the_change(fixed, broken):
    with pytest.raises(ConfigError, match=re.escape(
            "fixed and broken count the held-out drawings read right only after fine-tuning and only before it, as "
            "before_and_after(records, model_before, model_after) counts them: with 5 → 3 mistakes, fixed - broken "
            f"is 2, fixed at most 5 and broken at most 3; found fixed={fixed!r}, broken={broken!r}")):
        BeforeAfter({"a": Score(50, 45)}, {"a": Score(50, 47)}, fixed, broken)
    assert BeforeAfter({"a": Score(50, 45)}, {"a": Score(50, 47)}, 3, 1).mistakes() == (5, 3)


def test_no_mistakes_before_is_said_in_words():
    for after, broken in ((Score(50, 50), 0), (Score(50, 48), 2)):
        comparison = BeforeAfter({"a": Score(50, 50)}, {"a": after}, 0, broken)
        assert comparison.relative_reduction is None  # null in the benchmark's JSON, which cannot hold NaN
        assert "No mistakes before fine-tuning: there was nothing to reduce." in comparison.advice()
        assert "nan" not in comparison.advice() + comparison.table()
    assert "nothing to reduce" not in BeforeAfter({"a": Score(50, 49)}, {"a": Score(50, 50)}, 1, 0).advice()


def test_the_relative_reduction_is_pooled_over_held_out_students():
    comparison = BeforeAfter({"a": Score(50, 40), "b": Score(50, 50)}, {"a": Score(50, 45), "b": Score(50, 49)}, 5, 1)
    assert comparison.errors() == (0.1, 0.06)
    assert comparison.relative_reduction == pytest.approx(0.4)
    perfect = BeforeAfter({"a": Score(50, 50)}, {"a": Score(50, 49)}, 0, 1)
    assert perfect.errors() == (0.0, 0.02) and perfect.relative_reduction is None


def test_the_advice_follows_the_held_out_mistakes_and_warns_of_luck():
    better = BeforeAfter({"a": Score(50, 40), "b": Score(50, 50)}, {"a": Score(50, 48), "b": Score(50, 50)}, 8, 0)
    assert better.advice() == ("Fine-tuning helped: 10 → 2 mistakes on 2 held-out students (10.0% → 2.0% error). "
                               "The pad can use the fine-tuned model.")
    worse = BeforeAfter({"a": Score(50, 49)}, {"a": Score(50, 41)}, 0, 8)
    assert worse.advice() == ("Fine-tuning made things worse: 1 → 9 mistakes on 1 held-out student (2.0% → 18.0% "
                              "error). Keep the pad's model.")
    same = BeforeAfter({"a": Score(50, 48)}, {"a": Score(50, 48)}, 2, 2)
    assert "gained nothing overall" in same.advice() and "luck" not in same.advice()


def test_a_change_that_can_be_luck_is_never_advised_with_confidence():
    """8 held-out students, 10 → 7 mistakes with 3 drawings fixed and none broken: "Fine-tuning helped ... The pad can
    use the fine-tuned model", for a change that McNemar's exact test cannot tell from luck (p = 0.25)."""
    before = {f"s-{index:010x}": Score(50, 48 if index < 5 else 50) for index in range(8)}
    after = {f"s-{index:010x}": Score(50, 48 if index < 2 else 49 if index < 5 else 50) for index in range(8)}
    comparison = BeforeAfter(before, after, 3, 0)
    assert comparison.can_be_luck
    assert comparison.advice() == (
        "Fewer mistakes after fine-tuning: 10 → 7 mistakes on 8 held-out students (2.5% → 1.8% error). The pad may "
        "use either model. 3 drawings fixed (wrong before, right after) and 0 broken: too few to tell from luck, so "
        "this does not show that fine-tuning helped. Hold out more students, or collect more drawings, to be sure.")
    worse = BeforeAfter({"a": Score(50, 49)}, {"a": Score(50, 47)}, 0, 2)
    assert worse.advice().startswith("More mistakes after fine-tuning: 1 → 3 mistakes")
    assert "Keep the pad's model. 0 drawings fixed (wrong before, right after) and 2 broken: too few to tell from " \
           "luck, so this does not show that fine-tuning made things worse." in worse.advice()
    # The same net change of 6: significant when every changed drawing went one way, luck when they went both ways.
    one_way = BeforeAfter({"a": Score(50, 40)}, {"a": Score(50, 46)}, 6, 0)
    both_ways = BeforeAfter({"a": Score(50, 40)}, {"a": Score(50, 46)}, 10, 4)
    assert not one_way.can_be_luck and one_way.advice().startswith("Fine-tuning helped")
    assert both_ways.can_be_luck and "10 drawings fixed (wrong before, right after) and 4 broken" in both_ways.advice()
    # Five fixed and none broken is still luck at 5% (p = 0.0625).
    assert BeforeAfter({"a": Score(50, 45)}, {"a": Score(50, 50)}, 5, 0).can_be_luck


def test_the_comparison_shown_by_itself_names_no_student():
    """A cell ending in `comparison` showed the generated repr: each held-out student's id with their scores."""
    comparison = BeforeAfter({"s-26d4ac77ac": Score(50, 40), "s-37807c8688": Score(6, 6)},
                             {"s-26d4ac77ac": Score(50, 43), "s-37807c8688": Score(6, 6)}, 3, 0)
    assert repr(comparison) == "BeforeAfter(2 held-out students: 10 → 7 mistakes, 3 fixed and 0 broken)"


@pytest.mark.parametrize("protected", ["tuned.keras", "tuned.json", "tuned.history.csv"])
def test_an_output_that_cannot_be_replaced_is_refused_before_any_work(contents, tmp_path, monkeypatch, earlier_run,
                                                                      protected):
    """After minutes of fine-tuning, the model was lost to a read-only file; a read-only card also left a new model
    under the old card, with "nothing has been changed"."""
    def work_started(*arguments):
        raise AssertionError("the base model was loaded before the outputs were checked")

    monkeypatch.setattr(fine_tuning, "load_model", work_started)
    refusal, unchanged = earlier_run("tuned", protected)
    with pytest.raises(DataError, match=refusal):
        fine_tune(contents.records[:5], output=tmp_path / "tuned.keras")
    assert unchanged()
    (tmp_path / "afile").write_text("notes")
    with pytest.raises(ConfigError, match="afile is a file, not a folder: give a folder for the fine-tuned model"):
        fine_tune(contents.records[:5], output=tmp_path / "afile" / "tuned.keras")


def test_a_run_stopped_while_it_saves_leaves_the_earlier_model_card_and_history(contents, mnist, tmp_path,
                                                                                 monkeypatch):
    """Stopped after the model was saved (Ctrl-C, a card that could not be written), the run left its model under
    the earlier run's card: 99.63% for a model that scores 84.49%."""
    earlier = {name: f"the earlier run's {name}" for name in ("tuned.keras", "tuned.json", "tuned.history.csv")}
    for name, text in earlier.items():
        (tmp_path / name).write_text(text)

    def interrupted(*arguments):
        raise KeyboardInterrupt

    monkeypatch.setattr(model_module, "write_history_csv", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fine_tune(contents.records[:1], mnist=tiny(mnist), settings=FineTuneSettings.quick(augmented_copies=0),
                  output=tmp_path / "tuned.keras")
    assert {path.name: path.read_text() for path in tmp_path.iterdir()} == earlier


def test_the_base_model_is_never_overwritten(contents, tmp_path):
    base = tmp_path / pad_model_path().name  # a copy: were the guard ever to fail, no shipped model is lost
    shutil.copy(pad_model_path(), base)
    shutil.copy(pad_model_path().with_suffix(".json"), base.with_suffix(".json"))
    with pytest.raises(ConfigError, match="must not replace"):
        fine_tune(contents.records[:5], base_path=base, output=base)


@pytest.mark.parametrize("output, message", [
    (MODELS_DIR / "class_numvision_cnn.keras", "a fine-tuned model is saved in my_models/ .*never among the shipped"),
    (MODELS_DIR / "numvision_cnn.keras", "never among the shipped models"),
    ("tuned.h5", "must end in .keras"),
    ("folder.keras", "is a folder: give the name of the model file"),
], ids=["new file in models", "another shipped model", "not keras", "a folder"])
def test_an_output_that_cannot_take_the_model_is_refused_before_any_work(contents, tmp_path, monkeypatch, output,
                                                                         message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder.keras").mkdir()
    shipped = {path: sha256(path) for path in MODELS_DIR.rglob("*") if path.is_file()}
    # No MNIST given: the refusal comes before the data, the model and the training are loaded.
    with pytest.raises(ConfigError, match=message):
        fine_tune(contents.records[:5], settings=FineTuneSettings.quick(), output=output)
    assert {path: sha256(path) for path in MODELS_DIR.rglob("*") if path.is_file()} == shipped
    assert [path.name for path in tmp_path.iterdir()] == ["folder.keras"]


def test_settings_of_the_wrong_type_are_refused_when_made():
    for settings, problem in [({"epochs": 2.5}, "epochs must be a whole number, found 2.5"),
                              ({"epochs": "3"}, "epochs must be a whole number, found '3'"),
                              ({"frozen_convolutions": True}, "frozen_convolutions must be a whole number"),
                              ({"mnist_per_drawing": float("nan")}, "mnist_per_drawing must be a number, found nan"),
                              ({"learning_rate": "1e-4"}, "learning_rate must be a number, found '1e-4'"),
                              ({"epochs": 10**6}, "epochs must be at most 1,000"),
                              ({"seed": -1}, "the seed must be a whole number from 0 to 4294967295, not -1"),
                              ({"seed": 2**32}, "the seed must be a whole number from 0 to 4294967295, not 4294967296")]:
        with pytest.raises(ConfigError, match=f"invalid FineTuneSettings: {problem}"):
            FineTuneSettings(**settings)


def test_a_run_or_a_predictor_given_as_the_base_names_the_path_to_give(run, predictor, contents, tmp_path):
    """The refusal dumped the run's repr, pages of it, and named neither run.model_path nor predictor.source."""
    for given, advice in ((run, "a FineTuneRun: give run.model_path, the file it saved"),
                          (predictor, "a Predictor: give predictor.source, the file it was loaded from")):
        with pytest.raises(ConfigError, match=re.escape("give the path of a model file, such as "
                                                        f"models/numvision_cnn.keras, not {advice}") + "$"):
            fine_tune(contents.records[:5], base_path=given, output=tmp_path / "tuned.keras")
    assert list(tmp_path.iterdir()) == []


def test_a_base_model_without_a_card_fails_before_training_and_writes_nothing(contents, tmp_path):
    base = tmp_path / "no_card.keras"
    shutil.copy(pad_model_path(), base)
    output = tmp_path / "tuned.keras"
    with pytest.raises(ModelFileError, match="no_card.json: model card not found"):
        fine_tune(contents.records[:5], base_path=base, output=output)
    assert list(tmp_path.iterdir()) == [base]


def test_numpy_numbers_in_the_settings_are_stored_as_python_numbers():
    """A sweep over np.arange: the settings go into the model card's JSON, which cannot hold NumPy's numbers."""
    settings = FineTuneSettings(epochs=np.int64(2), learning_rate=np.float32(1e-4), mnist_per_drawing=np.int64(3),
                                seed=np.uint32(7))
    assert json.loads(json.dumps(settings.to_dict()))["epochs"] == 2
    assert [type(getattr(settings, name)) for name in ("epochs", "learning_rate", "mnist_per_drawing", "seed")] == \
        [int, float, float, int]


def test_settings_are_checked():
    with pytest.raises(ConfigError, match="epochs must be at least 1"):
        FineTuneSettings(epochs=0)
    with pytest.raises(ConfigError, match="images_per_epoch must be at least 7, room for one class image and its 6 "
                                          "MNIST replay images"):
        FineTuneSettings(images_per_epoch=0)
    # One image an epoch could not hold a class image and its replay; the class was then shown anyway.
    with pytest.raises(ConfigError, match="images_per_epoch must be at least 7"):
        FineTuneSettings(images_per_epoch=1)
    assert FineTuneSettings.quick(images_per_epoch=2).images_per_epoch == 2  # one class image, one replay
    # 1e20 replays per drawing left one class image in each epoch.
    for replay in (1e20, 101):
        with pytest.raises(ConfigError, match="invalid FineTuneSettings: mnist_per_drawing must be at most 100$"):
            FineTuneSettings(mnist_per_drawing=replay)
    # A typo's extra zero: NumPy's raw MemoryError (87.6 GiB), or hours of redrawing; capped as training's copies.
    for copies in (11, 10_000_000):
        with pytest.raises(ConfigError, match="invalid FineTuneSettings: augmented_copies must be at most 10$"):
            FineTuneSettings(augmented_copies=copies)
    assert FineTuneSettings(augmented_copies=10).augmented_copies == 10


def test_a_misspelt_setting_names_the_settings():
    message = (r"FineTuneSettings has no setting 'epoch' \(did you mean epochs\?\); its settings are: epochs, "
               "learning_rate, augmented_copies, mnist_per_drawing, images_per_epoch, frozen_convolutions, batch_size, "
               "seed")
    with pytest.raises(ConfigError, match=message):
        FineTuneSettings.quick(epoch=2)  # was a raw TypeError
    with pytest.raises(ConfigError, match=message):
        FineTuneSettings(epoch=2)
    assert dataclasses.replace(FineTuneSettings.quick(), seed=3).seed == 3
    with pytest.raises(ConfigError, match="frozen_convolutions must be at least 0"):
        FineTuneSettings(frozen_convolutions=-1)

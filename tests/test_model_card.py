"""The model card (writing, reading, summarising, recording figures) and every answer to "which model?"."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from functools import partial

import numpy as np
import pytest

from numvision_lib.errors import ConfigError, ModelFileError
from numvision_lib.model_card import (ModelCard, class_model_path, digit_check_threshold, model_card_summary,
                                      model_to_evaluate, my_model_path, newest_student_model, pad_model_path,
                                      record_metrics, reference_model_path, shipped_model_path, update_card)
from numvision_lib.paths import MODELS_DIR, MY_MODELS_DIR, PROJECT_ROOT, project_relative

SHIPPED_CARDS = sorted(MODELS_DIR.glob("*.json"))


def make_card(name: str = "m", metrics: dict | None = None, **changes) -> ModelCard:
    values = {"name": name, "model_file": f"{name}.keras", "architecture": "numvision_cnn", "parameters": 458570,
              "data": {"train_images": 54000, "validation_images": 6000}, "config": {"epochs": 10},
              "precision_used": "float32", "epochs_run": 3, "train_seconds": 153.2, "best_epoch": 2,
              "history_file": f"{name}.history.csv", "versions": {}, "metrics": metrics or {}}
    return ModelCard(**{**values, **changes})


# What a fine-tuned model's card holds in `data` (fine_tuning.fine_tune).
FINE_TUNED_DATA = {"source": "fine-tuned from numvision_plus_real on a class's drawings, with MNIST replay",
                   "base_model": "numvision_plus_real", "class_drawings": 80, "students": 4,
                   "train_images_per_epoch": 320, "validation_images": 0, "test_images": 10000}


def write_card(models_dir, name, metrics, model_file=True):
    make_card(name, metrics).save(models_dir / f"{name}.json")
    if model_file:
        (models_dir / f"{name}.keras").write_bytes(b"")


# ---------------------------------------------------------------- the card


@pytest.mark.parametrize("card_path", SHIPPED_CARDS, ids=lambda path: path.name)
def test_shipped_cards_read_and_write_back_unchanged(card_path, tmp_path):
    card = ModelCard.load(card_path)
    assert card.to_dict() == json.loads(card_path.read_text(encoding="utf-8"))
    assert card.save(tmp_path / card_path.name).read_text(encoding="utf-8") == card_path.read_text(encoding="utf-8")


def test_recording_figures_keeps_the_rest_of_the_card(tmp_path):
    write_card(tmp_path, "m", {"val_accuracy": 0.99})
    record_metrics(tmp_path / "m.keras", {"test_accuracy": 0.9937})
    card = ModelCard.for_model(tmp_path / "m.keras")
    assert card.metrics == {"val_accuracy": 0.99, "test_accuracy": 0.9937} and card.parameters == 458570


def test_damaged_or_missing_card_names_the_file(tmp_path):
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ModelFileError, match="broken.json: not a readable model card"):
        ModelCard.load(tmp_path / "broken.json")
    (tmp_path / "odd.json").write_text(json.dumps({"name": "odd"}))
    with pytest.raises(ModelFileError, match="odd.json: not a readable model card"):
        ModelCard.load(tmp_path / "odd.json")
    with pytest.raises(ModelFileError, match="gone.json: model card not found"):
        record_metrics(tmp_path / "gone.keras", {"test_accuracy": 1.0})


def test_a_note_added_to_a_card_is_named_with_how_to_take_it_out_never_train_again(tmp_path):
    """A teacher's note made the model unusable: a Python TypeError ("unexpected keyword argument 'notes'") and
    "Train the model again"; among the shipped models, it took the pad down with it."""
    card = {**make_card("m").to_dict(), "notes": "trained by Ms Smith for class 7B", "class": "7B"}
    (tmp_path / "m.json").write_text(json.dumps(card))
    (tmp_path / "m.keras").write_bytes(b"")
    refusal = (r"^m.json: 'notes', 'class' are not entries of a model card, which holds name, model_file, .*, litert. "
               r"Remove them from the card \(keep notes in a text file of their own beside it, such as "
               r"m_notes.txt\).$")
    for read in (partial(ModelCard.load, tmp_path / "m.json"), partial(ModelCard.for_model, tmp_path / "m.keras")):
        with pytest.raises(ModelFileError, match=refusal) as refused:
            read()
        assert "Train" not in str(refused.value) and "TypeError" not in str(refused.value)
    with pytest.raises(ModelFileError, match=r"m.json: 'notes', 'class' are not entries of a model card") as refused:
        pad_model_path(tmp_path)
    assert "Train" not in str(refused.value)
    del card["class"]
    (tmp_path / "m.json").write_text(json.dumps(card))
    with pytest.raises(ModelFileError, match=r"^m.json: 'notes' is not an entry of a model card, .* Remove it from"):
        ModelCard.load(tmp_path / "m.json")
    # A missing entry is named as one, not as a missing argument of Python's.
    del card["notes"], card["model_file"]
    (tmp_path / "m.json").write_text(json.dumps(card))
    with pytest.raises(ModelFileError, match=r"^m.json: not a readable model card \(missing entry 'model_file'\)\. "):
        ModelCard.load(tmp_path / "m.json")


def test_a_card_is_restored_from_git_only_among_the_shipped_models(tmp_path, monkeypatch):
    """my_models/ is ignored by git: a student's card can only be written again by training."""
    from numvision_lib import paths

    (tmp_path / "broken.json").write_text("{not json")
    for load in (lambda: ModelCard.load(tmp_path / "broken.json"),
                 lambda: ModelCard.for_model(tmp_path / "gone.keras")):
        with pytest.raises(ModelFileError, match=re.escape("Train the model again to write a new one (git does not "
                                                           "keep models outside models/).")):
            load()
        monkeypatch.setattr(paths, "MODELS_DIR", tmp_path)  # as if the cards were a shipped model's
        with pytest.raises(ModelFileError, match="Restore it from git, or train the model again"):
            load()
        monkeypatch.undo()


@pytest.mark.parametrize("change, problem", [
    ({"model_file": None}, "'model_file' must be a text"),
    ({"model_file": "../my_models/my_numvision_cnn.keras"}, "'model_file' must be the name of a .keras file beside"),
    ({"model_file": ""}, "'model_file' must be the name of a .keras file beside the card, found ''"),
    ({"model_file": "numvision_cnn.json"}, "'model_file' must be the name of a .keras file beside"),
    ({"metrics": []}, "'metrics' must be a JSON object"),
    ({"parameters": True}, "'parameters' must be a whole number"),
    ({"calibration": {"temperature": "hot"}}, "needs a number 'temperature'"),
    ({"calibration": {"temperature": 0}}, "the temperature must be positive"),
    ({"batch_norm_calibration": {"images": 9999}}, "needs a number 'val_accuracy_before'"),
    ({"metrics": {"test_accuracy": "99%"}}, "metric 'test_accuracy' must be a number"),
    # NaN and Infinity, which Python's json reads, are no temperature and no figure.
    ({"calibration": {"temperature": float("nan")}}, "needs a number 'temperature', found nan"),
    ({"calibration": {"temperature": float("inf")}}, "needs a number 'temperature', found inf"),
    ({"calibration": {"temperature": 10**400}}, "needs a number 'temperature'"),
    ({"metrics": {"real_handwriting_val_accuracy": float("nan")}},
     "metric 'real_handwriting_val_accuracy' must be a number, found nan"),
    ({"batch_norm_calibration": {"images": 9999, "val_accuracy_before": float("-inf"), "val_accuracy_after": 1}},
     "needs a number 'val_accuracy_before'"),
    # Accuracies are shares, not percentages: 97.6 would outrank every model for the pad and show as 9760.00%.
    ({"metrics": {"real_handwriting_val_accuracy": 97.6}},
     r"metric 'real_handwriting_val_accuracy' is a share from 0 to 1, found 97.6 \(a percentage such as 97.6% is"),
    ({"metrics": {"test_accuracy": 5.0}}, "metric 'test_accuracy' is a share from 0 to 1, found 5.0"),
    ({"metrics": {"val_accuracy": -0.1}}, "metric 'val_accuracy' is a share from 0 to 1"),
    ({"metrics": {"real_handwriting_confident_mistakes": 1.5}}, "'real_handwriting_confident_mistakes' is a share"),
    ({"metrics": {"test_loss": -0.02}}, "metric 'test_loss' is a loss, 0 or more, found -0.02"),
    ({"batch_norm_calibration": {"images": 9999, "val_accuracy_before": 0.99, "val_accuracy_after": 99.1}},
     "'val_accuracy_after' in 'batch_norm_calibration' is a share from 0 to 1, found 99.1"),
    # The parts of `data` that `summary` reads.
    ({"data": {"train_images": "74,778", "validation_images": 6000}},
     "'data' needs a number 'train_images', found '74,778'"),
    ({"data": {"train_images": 54000, "validation_images": None}}, "'data' needs a number 'validation_images'"),
    ({"data": {"train_images": [1]}}, "'data' needs a number 'train_images', found \\[1\\]"),
    ({"data": {"train_images": 54000, "validation_images": 6000, "real_handwriting": "unipen"}},
     "'data' needs a JSON object 'real_handwriting', found 'unipen'"),
    ({"data": {"train_images": 54000, "validation_images": 6000,
               "real_handwriting": {"train_images": 300, "train_digits": 100}}},
     "'real_handwriting' in 'data' needs a number 'train_people', found None"),
    ({"data": {"base_model": "numvision_plus_real", "class_drawings": 80}},
     "a fine-tuned model's 'data' needs a number 'students', found None"),
    # What fine_tune reads in the card of the model it starts from, and summary in the earlier fine-tunings.
    ({"data": {**FINE_TUNED_DATA, "fine_tune_students": "s-0123456789"}},
     "a fine-tuned model's 'data' needs a list of stored student ids 'fine_tune_students', found 's-0123456789'"),
    ({"data": {**FINE_TUNED_DATA, "earlier_fine_tuning": {"base_model": "numvision_plus_real"}}},
     "'earlier_fine_tuning' in 'data' must be a list of JSON objects, found {'base_model'"),
    ({"data": {**FINE_TUNED_DATA, "earlier_fine_tuning": [{"base_model": "numvision_plus_real", "students": 3}]}},
     "each of 'earlier_fine_tuning' in 'data' needs a number 'class_drawings', found None"),
    ({"data": {**FINE_TUNED_DATA, "earlier_fine_tuning": [{**FINE_TUNED_DATA, "fine_tune_students": [7]}]}},
     "each of 'earlier_fine_tuning' in 'data' needs a list of stored student ids 'fine_tune_students', found \\[7\\]"),
    ({"data": {**FINE_TUNED_DATA, "benchmark_writers_seen": "no"}},
     "'benchmark_writers_seen' in 'data' must be true or false, found 'no'"),
], ids=lambda value: str(value)[:40])
def test_a_hand_edited_card_with_wrong_values_names_the_file_and_the_value(tmp_path, change, problem):
    """Wrong values fail when the card is read, not later as a raw error in the pad or a notebook's summary."""
    (tmp_path / "edited.json").write_text(json.dumps({**make_card().to_dict(), **change}))
    with pytest.raises(ModelFileError, match=f"edited.json: not a readable model card .*{problem}"):
        ModelCard.load(tmp_path / "edited.json")


@pytest.mark.parametrize("edited", ["real", "cnn"])
def test_a_hand_edited_card_among_the_shipped_ones_is_named_not_passed_over(tmp_path, edited):
    """A percentage typed into the pad's card handed the pad another model without a word, and an export then made
    the switch permanent; typed into another card, it must not choose the pad's model either."""
    write_card(tmp_path, "real", {"test_accuracy": 0.9965, "real_handwriting_val_accuracy": 0.9886})
    write_card(tmp_path, "cnn", {"test_accuracy": 0.9937, "real_handwriting_val_accuracy": 0.9762})
    card = json.loads((tmp_path / f"{edited}.json").read_text())
    card["metrics"]["real_handwriting_val_accuracy"] = 97.6  # edited by hand, as a percentage
    (tmp_path / f"{edited}.json").write_text(json.dumps(card))
    with pytest.raises(ModelFileError, match=rf"the pad's model is chosen among all the shipped models, and not "
                                             rf"every one can be read. {edited}.json: not a readable model card "
                                             rf"\(metric 'real_handwriting_val_accuracy' is a share from 0 to 1, "
                                             rf"found 97.6 .*\. Train the model again to write a new one \(git does "
                                             rf"not keep models outside models/\)\.$"):
        pad_model_path(tmp_path)


def test_a_damaged_shipped_card_gives_one_remedy(tmp_path, monkeypatch):
    """The card's own advice was followed by the advice for an empty folder: two remedies in a row."""
    from numvision_lib import paths

    monkeypatch.setattr(paths, "MODELS_DIR", tmp_path)  # as if the cards were the shipped ones
    write_card(tmp_path, "cnn", {"test_accuracy": 0.9937})
    write_card(tmp_path, "real", {"real_handwriting_val_accuracy": 0.9886})
    (tmp_path / "real.json").write_text("{")
    with pytest.raises(ModelFileError) as refused:
        pad_model_path(tmp_path)
    assert re.fullmatch(r".*: the pad's model is chosen among all the shipped models, and not every one can be "
                        r"read\. real.json: not a readable model card \(JSONDecodeError: .*\)\. Restore it from "
                        r"git, or train the model again to write a new one\.", str(refused.value))


def test_a_card_saved_with_a_byte_order_mark_still_reads(tmp_path):
    """Windows Notepad starts the files it saves with one."""
    make_card(metrics={"test_accuracy": 0.9937}).save(tmp_path / "m.json")
    (tmp_path / "m.json").write_bytes(b"\xef\xbb\xbf" + (tmp_path / "m.json").read_bytes())
    assert "Test accuracy (recorded): 99.37%" in model_card_summary(tmp_path / "m.keras")
    (tmp_path / "check.json").write_bytes(b"\xef\xbb\xbf" + json.dumps({"threshold": 0.09}).encode())
    assert digit_check_threshold(tmp_path / "check.keras") == 0.09


def test_a_fine_tuned_models_summary_says_what_it_was_fine_tuned_from_and_on(tmp_path):
    """It said "Trained on 320 images (0 kept for validation)": the last epoch's class and replay images."""
    card = make_card(data=dict(FINE_TUNED_DATA), config={"epochs": 2}, epochs_run=2, best_epoch=2)
    summary = ModelCard.load(card.save(tmp_path / "m.json")).summary()
    assert "Fine-tuned from numvision_plus_real on 80 class drawings by 4 students\n" in summary
    assert "Trained on" not in summary and "320" not in summary
    card.data["students"] = 1
    assert "by 1 student\n" in card.summary()
    card.data["class_drawings"] = 1  # was "1 class drawings"
    assert "Fine-tuned from numvision_plus_real on 1 class drawing by 1 student\n" in card.summary()


def test_a_model_fine_tuned_again_says_every_fine_tuning_and_the_benchmark_writers_it_learned_from(tmp_path):
    """A model fine-tuned from a fine-tuned one showed only the last class: the first class's students could then be
    held out; and one fine-tuned on the demonstration class still claimed "the benchmark writers are never used"."""
    earlier = [{**FINE_TUNED_DATA, "class_drawings": 118, "students": 12, "fine_tune_students": ["s-0123456789"]},
               {**FINE_TUNED_DATA, "base_model": "class_numvision_plus_real", "class_drawings": 1, "students": 1}]
    data = {**FINE_TUNED_DATA, "base_model": "class_class_numvision_plus_real", "earlier_fine_tuning": earlier,
            "benchmark_writers_seen": True}
    card = ModelCard.load(make_card(data=data).save(tmp_path / "m.json"))
    assert card.fine_tunings == [*earlier, {key: data[key] for key in ("base_model", "class_drawings", "students")}]
    assert card.saw_benchmark_writers and not make_card(data=FINE_TUNED_DATA).saw_benchmark_writers
    assert ("Fine-tuned from class_class_numvision_plus_real on 80 class drawings by 4 students\n"
            "  before that, from class_numvision_plus_real on 1 class drawing by 1 student\n"
            "  before that, from numvision_plus_real on 118 class drawings by 12 students\n"
            "  including UNIPEN's benchmark writers (the demonstration class): no figure on them is one of unseen "
            "handwriting\n") in card.summary()
    assert make_card().fine_tunings == [] and "before that" not in make_card(data=FINE_TUNED_DATA).summary()


def test_a_card_without_the_optional_parts_of_data_still_reads_and_summarises(tmp_path):
    (tmp_path / "plain.json").write_text(json.dumps({**make_card().to_dict(), "data": {"source": "elsewhere"}}))
    assert "Trained on 0 images (0 kept for validation)" in ModelCard.load(tmp_path / "plain.json").summary()


def test_model_card_summary(tmp_path):
    model_path = tmp_path / "m.keras"
    model_path.write_bytes(b"")
    assert "No model card (m.json)" in model_card_summary(model_path)
    card = make_card(metrics={"val_accuracy": 0.99, "test_accuracy": 0.9937})
    card.save(tmp_path / "m.json")
    summary = model_card_summary(model_path)
    assert "458,570 parameters" in summary and "Test accuracy (recorded): 99.37%" in summary
    assert "Epochs run: 3 of at most 10; best epoch: 2" in summary
    assert "153" not in summary and str(tmp_path) not in summary, "no timings, no paths"
    assert "calibrated" not in summary, "the reference CNN has no batch normalisation"
    card.batch_norm_calibration = {"images": 10000, "val_accuracy_before": 0.9953, "val_accuracy_after": 0.9958}
    card.save(tmp_path / "m.json")
    assert ("Validation accuracy: 99.00%\nBatch normalisation calibrated on 10,000 plain training images: "
            "validation accuracy 99.53% before, 99.58% after\n") in model_card_summary(model_path)
    card.config["real_handwriting"] = "none"  # what `train` records without UNIPEN
    assert not card.saw_real_handwriting
    card.data["real_handwriting"] = {"train_images": 300, "train_digits": 100, "train_people": 5}
    assert card.saw_real_handwriting
    card.save(tmp_path / "m.json")
    summary = model_card_summary(model_path)
    assert "Including real handwriting: 300 drawings of 100 digits by 5 UNIPEN writers\n" in summary
    assert "long flag" not in summary
    card.config["handwriting_styles"] = True
    card.save(tmp_path / "m.json")
    assert "UNIPEN writers\n  some redrawn in styles few of them use (1s with a long flag, slashed 0s)\n" in (
        model_card_summary(model_path))


def test_the_summary_of_a_model_that_is_not_there_says_so_not_that_its_card_is_missing(tmp_path):
    """A mistyped name (my_model_path("sdg")) is no model, not a model without its card."""
    summary = model_card_summary(PROJECT_ROOT / "my_models" / "my_sdg.keras")
    assert summary.startswith("No model file my_models/my_sdg.keras: check its name (") and "card" not in summary
    (tmp_path / "m.keras").write_bytes(b"")
    assert model_card_summary(tmp_path / "m.keras") == "No model card (m.json) beside the model file."


def test_the_summary_before_any_model_says_what_to_do(tmp_path):
    assert newest_student_model(tmp_path / "my_models") is None
    assert model_card_summary(newest_student_model(tmp_path / "my_models")) == (
        "No model yet: train one in notebook 03, or give the path of a model file.")
    with pytest.raises(ConfigError, match="give the path of a model file, such as models/numvision_cnn.keras, not ''"):
        model_card_summary("")


# ---------------------------------------------------------------- recording figures


def test_the_digit_checks_card_or_a_model_given_as_a_model_card_is_named_for_what_it_is(tmp_path):
    """The check's card was "not a readable model card (TypeError: ... unexpected keyword argument 'threshold')",
    to be restored from git or trained again, and a model's file a UnicodeDecodeError."""
    from numvision_lib.evaluation import calibrate_model_file
    from numvision_lib.model_card import DIGIT_CHECK_PATH

    is_the_check = r"^digit_check.keras is the pad's digit check, which tells a digit from a non-digit, not a model"
    for read in (partial(ModelCard.load, DIGIT_CHECK_PATH.with_suffix(".json")),
                 partial(model_card_summary, DIGIT_CHECK_PATH), partial(calibrate_model_file, DIGIT_CHECK_PATH, None)):
        with pytest.raises(ModelFileError, match=is_the_check):
            read()
    with pytest.raises(ModelFileError, match=r"^numvision_cnn.keras is the model itself: give its card, "
                                             r"numvision_cnn.json, or use ModelCard.for_model\(model_path\)$"):
        ModelCard.load(reference_model_path())


def test_only_a_digit_check_among_the_models_is_told_to_move_to_models_checks(tmp_path):
    """The shipped check given by its own path (`Predictor.load("models/checks/digit_check.keras")`) was told to move
    to models/checks/, where it already is, and a student's own check told to move over the pad's."""
    from numvision_lib.model_card import DIGIT_CHECK_PATH, digit_check_given_as_model, readable_model_cards
    from numvision_lib.predict import Predictor

    is_the_check = ("digit_check.keras is the pad's digit check, which tells a digit from a non-digit, not a model "
                    "that reads digits: give a digit model, such as one in models/.")
    move = " A check belongs in models/checks/, never among the models: move it and its card there."
    checks = tmp_path / "checks"
    checks.mkdir()
    for folder in (tmp_path, checks):
        shutil.copy(DIGIT_CHECK_PATH.with_suffix(".json"), folder)
    for read in (partial(Predictor.load, DIGIT_CHECK_PATH), partial(ModelCard.for_model, DIGIT_CHECK_PATH),
                 partial(ModelCard.load, tmp_path / "digit_check.json")):
        with pytest.raises(ModelFileError, match=f"^{re.escape(is_the_check)}$"):
            read()
    # Among the models, where a folder of them is listed (the pad's, or a benchmark's --models-dir): it must move.
    assert readable_model_cards(tmp_path) == ([], [is_the_check + move])
    with pytest.raises(ModelFileError, match=re.escape(is_the_check + move)):
        pad_model_path(tmp_path)
    assert digit_check_given_as_model(MODELS_DIR / "digit_check.keras") == is_the_check + move
    # A checks folder given as the models' holds it where it belongs.
    assert readable_model_cards(checks) == ([], [is_the_check])


def test_a_card_is_read_from_a_path():
    for odd in (None, "", 3):
        with pytest.raises(ConfigError, match=f"give the path of a model card, such as models/numvision_cnn.json, "
                                              f"not {odd!r}"):
            ModelCard.load(odd)


def test_numpy_figures_are_recorded_as_numbers(tmp_path):
    write_card(tmp_path, "m", {"val_accuracy": 0.99})
    record_metrics(tmp_path / "m.keras", {"test_accuracy": np.float32(0.9), "drawn_samples": np.int64(3000)})
    metrics = ModelCard.for_model(tmp_path / "m.keras").metrics
    assert metrics == {"val_accuracy": 0.99, "test_accuracy": pytest.approx(0.9), "drawn_samples": 3000}
    assert type(metrics["test_accuracy"]) is float and type(metrics["drawn_samples"]) is int


@pytest.mark.parametrize("figures, problem", [
    # The loss of a model whose training went to NaN: the card once took it, and then could not be read again.
    ({"test_accuracy": 0.098, "test_loss": float("nan")}, "metric 'test_loss' must be a number, found nan"),
    ({"test_loss": float("inf")}, "metric 'test_loss' must be a number, found inf"),
    ({"real_handwriting_val_accuracy": 97.6}, "metric 'real_handwriting_val_accuracy' is a share from 0 to 1"),
    ({"drawn_accuracy": {1, 2}}, "TypeError: Object of type set is not JSON serializable"),
    ({"drawn_accuracy_by_variant": {"thin_pen": float("nan")}}, "a figure is NaN or infinite"),
])
def test_a_figure_the_card_cannot_hold_leaves_it_as_it_was(tmp_path, figures, problem):
    write_card(tmp_path, "m", {"test_accuracy": 0.99, "test_loss": 0.03})
    before = (tmp_path / "m.json").read_text()
    with pytest.raises(ConfigError, match=rf"m.json: not written, as the card would be unreadable \({problem}.*\); a "
                                          "card already there is left as it was. Record each figure as a finite"):
        record_metrics(tmp_path / "m.keras", figures)
    assert (tmp_path / "m.json").read_text() == before
    assert ModelCard.for_model(tmp_path / "m.keras").metrics == {"test_accuracy": 0.99, "test_loss": 0.03}


@pytest.mark.parametrize("entries, problem", [
    ({"calibration": {"temperature": "x"}}, "m.json: not written, .*'calibration' needs a number 'temperature'"),
    ({"calibration": {"temperature": float("nan")}}, "m.json: not written, .*needs a number 'temperature', found nan"),
    ({"architecture": None}, "m.json: not written, .*'architecture' must be a text"),
    ({"threshold": 0.5}, r"m.json: not written, as the card would be unreadable \('threshold' is not an entry of a "
                         r"model card, which holds name, model_file, .*, litert\)"),
    ([("a", 1)], r"give the card's entries as a dict of names and values, not list \[\('a', 1\)\]"),
])
def test_card_entries_its_reader_would_refuse_are_not_written(tmp_path, entries, problem):
    write_card(tmp_path, "m", {"test_accuracy": 0.99})
    before = (tmp_path / "m.json").read_text()
    with pytest.raises(ConfigError, match=problem):
        update_card(tmp_path / "m.keras", entries)
    assert (tmp_path / "m.json").read_text() == before
    update_card(tmp_path / "m.keras", {"calibration": {"temperature": np.float32(1.5)}})
    assert ModelCard.for_model(tmp_path / "m.keras").temperature == 1.5


def test_a_digit_check_threshold_its_reader_would_refuse_is_not_written(tmp_path):
    check = tmp_path / "check.keras"
    check.with_suffix(".json").write_text(json.dumps({"threshold": 0.09, "epochs": 4}))
    for threshold in (1.5, float("nan"), "0.5"):
        with pytest.raises(ConfigError, match="check.json: not written, .*threshold must be a number from 0 to 1"):
            update_card(check, {"threshold": threshold})
    assert digit_check_threshold(check) == 0.09
    update_card(check, {"threshold": 0.5})
    assert digit_check_threshold(check) == 0.5


# ---------------------------------------------------------------- which model


def test_pad_model_by_real_handwriting_then_drawn_then_test_accuracy(tmp_path):
    write_card(tmp_path, "mnist_champion", {"test_accuracy": 0.999})
    write_card(tmp_path, "good_drawer", {"test_accuracy": 0.995, "drawn_accuracy": 0.97})
    write_card(tmp_path, "better_drawer", {"test_accuracy": 0.985, "drawn_accuracy": 0.99})
    assert pad_model_path(tmp_path) == tmp_path / "better_drawer.keras"  # drawings first, whatever MNIST says
    write_card(tmp_path, "many_hands", {"test_accuracy": 0.98, "drawn_accuracy": 0.95,
                                        "real_handwriting_val_accuracy": 0.90})
    write_card(tmp_path, "more_hands", {"test_accuracy": 0.97, "drawn_accuracy": 0.94,
                                        "real_handwriting_val_accuracy": 0.92})
    assert pad_model_path(tmp_path) == tmp_path / "more_hands.keras"  # real handwriting above both


def test_test_accuracy_when_nothing_was_measured_on_drawings(tmp_path):
    write_card(tmp_path, "small", {"test_accuracy": 0.98})
    write_card(tmp_path, "big", {"test_accuracy": 0.993})
    assert pad_model_path(tmp_path) == tmp_path / "big.keras"


def test_a_card_without_its_model_file_is_named_not_passed_over(tmp_path):
    """The pad's model deleted by mistake handed the pad the next model without a word."""
    write_card(tmp_path, "here", {"test_accuracy": 0.9})
    assert pad_model_path(tmp_path) == tmp_path / "here.keras"
    write_card(tmp_path, "gone", {"drawn_accuracy": 1.0}, model_file=False)
    with pytest.raises(ModelFileError, match=r"not every one can be read. gone.json: its model file gone.keras is "
                                             r"missing\. Train the model again \(git does not keep models outside "
                                             r"models/\)\.$"):
        pad_model_path(tmp_path)


def test_no_shipped_model_is_a_clear_error(tmp_path):
    write_card(tmp_path, "gone", {"test_accuracy": 0.99}, model_file=False)
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ModelFileError, match=r"no shipped model.*broken.json.*gone.keras is missing\. Train the model "
                                             r"again"):
        pad_model_path(tmp_path)
    for card in tmp_path.glob("*.json"):
        card.unlink()
    with pytest.raises(ModelFileError, match=r"no shipped model to load\. No model cards \(\*\.json\) found\. Train "
                                             r"one with `python -m numvision_lib train`, or restore models/ from git\.$"):
        pad_model_path(tmp_path)


def test_pad_model_is_a_shipped_one_and_the_reference_is_the_cnn():
    assert pad_model_path().suffix == ".keras" and pad_model_path().is_file()
    assert reference_model_path() == MODELS_DIR / "numvision_cnn.keras" and reference_model_path().is_file()
    assert shipped_model_path("numvision_plus") == MODELS_DIR / "numvision_plus.keras"


def test_project_relative_never_shows_the_machine_path(tmp_path):
    assert project_relative(PROJECT_ROOT / "my_models" / "m.keras") == "my_models/m.keras"
    assert project_relative("models/x.keras") == "models/x.keras"
    outside = project_relative(tmp_path / "deep" / "m.keras")
    assert outside == "…/deep/m.keras" and str(tmp_path) not in outside


@pytest.mark.parametrize("name", [None, 3, "", "numvision_cnn.keras", "../models/numvision_cnn", "a\\b", ["sgd"]],
                         ids=repr)
def test_a_model_path_is_made_only_from_a_models_name(name):
    """A slip once trained into my_models/my_None.keras or my_sgd.keras.keras, without a word."""
    for make_path, parameter in ((my_model_path, "architecture"), (shipped_model_path, "architecture"),
                                 (class_model_path, "base_model")):
        with pytest.raises(ConfigError, match=rf"{parameter} is the name of a model without folder or .keras, such as "
                                              rf"'numvision_cnn' or 'sgd', not {re.escape(repr(name))}"):
            make_path(name)
    assert class_model_path("numvision_plus_real", MY_MODELS_DIR) == MY_MODELS_DIR / "class_numvision_plus_real.keras"
    assert my_model_path(np.str_("sgd")) == MY_MODELS_DIR / "my_sgd.keras"


def test_a_card_is_saved_to_a_path(tmp_path):
    for odd in (None, ""):
        with pytest.raises(ConfigError, match=f"give the path of a model card, such as models/numvision_cnn.json, "
                                              f"not {odd!r}"):
            make_card().save(odd)


@pytest.mark.parametrize("figure", [True, float("nan")])
def test_a_card_built_in_code_ranks_only_by_a_figure_that_is_a_number(figure):
    card = make_card(metrics={"real_handwriting_val_accuracy": figure, "test_accuracy": 0.99})
    assert card.score() == (1, 0.99), "ranked by its test accuracy, as if it had no real-handwriting figure"


def test_notebook_models_never_go_to_the_shipped_folder():
    path = my_model_path("numvision_cnn")
    assert path == MY_MODELS_DIR / "my_numvision_cnn.keras"
    assert path.parent != reference_model_path().parent


def test_my_models_folder_is_in_the_project_unless_redirected():
    # A fresh interpreter: the test session itself redirects the folder (notebooks/conftest.py).
    script = "from numvision_lib.paths import MY_MODELS_DIR; print(MY_MODELS_DIR)"
    environment = {k: v for k, v in os.environ.items() if k != "NUMVISION_MY_MODELS_DIR"}
    default = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True)
    assert default.stdout.strip() == str(PROJECT_ROOT / "my_models")
    redirected = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                env={**environment, "NUMVISION_MY_MODELS_DIR": "/scratch/models"})
    assert redirected.stdout.strip() == "/scratch/models"


def test_model_choice_prefers_the_newest_notebook_model(tmp_path):
    mine, shipped = tmp_path / "my_models", tmp_path / "models" / "numvision_cnn.keras"
    shipped.parent.mkdir()
    shipped.write_bytes(b"shipped")
    choice = model_to_evaluate(mine, shipped.parent)
    assert choice.path == shipped and "No model trained" in choice.reason
    mine.mkdir()
    older, newer = mine / "my_numvision_cnn.keras", mine / "my_other.keras"
    older.write_bytes(b"1")
    newer.write_bytes(b"2")
    os.utime(older, (1, 1))
    choice = model_to_evaluate(mine, shipped.parent)
    assert choice.path == newer and "the model you trained in notebook 03" in choice.reason
    assert str(tmp_path) not in str(choice)


def test_no_model_at_all_says_what_to_do(tmp_path):
    with pytest.raises(ModelFileError, match="Run notebook 03 first"):
        model_to_evaluate(tmp_path / "my_models", tmp_path / "models")


@pytest.mark.parametrize("threshold", [0.0949, 0, 1])
def test_the_digit_check_threshold_is_read_from_its_card(tmp_path, threshold):
    check = tmp_path / "digit_check.keras"
    check.with_suffix(".json").write_text(json.dumps({"threshold": threshold}))
    assert digit_check_threshold(check) == threshold


@pytest.mark.parametrize("card, problem", [
    (None, "digit_check.json: model card not found beside the model file"),
    ("{not json", "digit_check.json: not a readable model card .JSONDecodeError"),
    ("[0.09]", "digit_check.json: not a readable model card .a JSON object was expected, not list"),
    ("{}", "digit_check.json: the digit check's card has no 'threshold'"),
])
def test_a_digit_check_card_that_cannot_be_read_says_how_to_train_the_check_again(tmp_path, card, problem):
    check = tmp_path / "digit_check.keras"
    if card is not None:
        check.with_suffix(".json").write_text(card)
    with pytest.raises(ModelFileError, match=rf"{problem}.*Restore the card from git, or train the check again with "
                                             r"`python -m numvision_lib train-digit-check`\.$"):
        digit_check_threshold(check)


@pytest.mark.parametrize("threshold", ["NaN", "true", "1.5", "-0.1", "\"0.09\""])
def test_a_digit_check_threshold_that_is_no_probability_is_refused(tmp_path, threshold):
    check = tmp_path / "digit_check.keras"
    check.with_suffix(".json").write_text(f'{{"threshold": {threshold}}}')
    with pytest.raises(ModelFileError, match="the digit check's threshold must be a number from 0 to 1"):
        digit_check_threshold(check)

"""The digit check: drawings that are no digit, the letters kept apart by writer, training it, and the pad's answers."""
from __future__ import annotations

import hashlib
import json
import re
import shutil

import numpy as np
import pytest

from numvision_lib.data import MAX_SEED
from numvision_lib.drawn_digits import template_strokes
from numvision_lib import not_a_digit
from numvision_lib.errors import ConfigError, DataError, ModelFileError, ModelStructureError
from numvision_lib.handwriting import AUGMENTATION_WITH_STYLES, digit_split, letter_split, person_of
from numvision_lib.model import build_numvision_cnn, load_model
from numvision_lib.model_card import ModelCard
from numvision_lib.not_a_digit import (DIGIT_CHECK_PATH, GENERATED_KINDS, LOOKALIKE_LETTERS, SHAPES, UNSEEN_SHAPES,
                                       DigitCheck, build_digit_check, check_examples, checked_kind_weights,
                                       digit_scores, example_letters, generated_non_digits, threshold_for,
                                       train_digit_check)
from numvision_lib.predict import Predictor
from numvision_lib.prediction import DIGIT, NOT_A_DIGIT

from project_scripts import run_script


def people(split, part):
    return {person_of(writer) for writer in split.writers[part]}


def test_letters_are_split_with_the_same_people_as_the_digits():
    digits, letters = digit_split(), letter_split()
    for part in ("train", "validation", "benchmark"):
        others = [other for other in ("train", "validation", "benchmark") if other != part]
        assert not people(letters, part) & set().union(*(people(digits, other) for other in others)), part
        assert not people(letters, part) & set().union(*(people(letters, other) for other in others)), part
    assert len(letters["benchmark"]) > 2000


@pytest.mark.parametrize("kind", GENERATED_KINDS)
def test_generated_drawings_are_deterministic_and_of_their_kind(kind):
    digits = digit_split()["train"]
    first = generated_non_digits(kind, 12, seed=3, digits=digits)
    again = generated_non_digits(kind, 12, seed=3, digits=digits)
    other = generated_non_digits(kind, 12, seed=4, digits=digits)
    assert len(first) == 12 and all(sample.label.startswith(f"{kind}:") for sample in first)
    assert all(np.array_equal(a, b) for x, y in zip(first, again) for a, b in zip(x.strokes, y.strokes))
    assert not all(np.array_equal(x.strokes[0], y.strokes[0]) for x, y in zip(first, other))
    # Each drawing its own: random changes when drawn are seeded by the strokes (`PenSample.key`).
    assert len({sample.key for sample in first}) == len(first)


def test_unknown_kind_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown kind of drawing 'smiley'"):
        generated_non_digits("smiley", 1, seed=0)


@pytest.mark.parametrize("count, seed, message", [
    (-1, 0, "count is how many drawings to generate: a whole number, 1 or more, not -1"),
    (2.5, 0, "count is how many drawings to generate: a whole number, 1 or more, not 2.5"),
    (None, 0, "count is how many drawings to generate: a whole number, 1 or more, not None"),
    (2, -1, "the seed must be a whole number from 0 to 4294967295, not -1"),
    (2, "1", "the seed must be a whole number from 0 to 4294967295, not '1'"),
])
def test_generated_drawings_need_a_count_and_a_seed(count, seed, message):
    with pytest.raises(ConfigError, match=message):
        generated_non_digits("shapes", count, seed)


def test_several_digits_need_the_digits_to_combine():
    with pytest.raises(ConfigError, match=r"several_digits.*digits="):
        generated_non_digits("several_digits", 2, seed=0)
    with pytest.raises(ConfigError, match=r"several_digits.*digits=.* for training, not None"):  # len(None)
        generated_non_digits("several_digits", 2, seed=0, digits=None)


def test_several_digits_are_combined_from_peoples_digits_only():
    """MNIST's arrays, or the pad's strokes, failed deep in the drawing with a raw AttributeError, and letters were
    combined into "several digits" without a word. The message named the argument `samples`, and for letters gave
    render_model_inputs' advice (draw them with pen_drawing), which does not combine digits."""
    letter = letter_split()["train"][0]
    for digits, problem in ((list(np.zeros((3, 28, 28), np.uint8)),
                             "digits is a list of PenSamples, such as load_unipen('digits'); digit 0 is a ndarray"),
                            ([[[(1.0, 2.0), (3.0, 4.0)]]],
                             "digits is a list of PenSamples, such as load_unipen('digits'); digit 0 is a list"),
                            ([letter], f"digits are drawn as digits here; sample 0 ({letter.writer_id}) is labelled "
                                       f"{letter.label!r}. Give digits, such as load_unipen('digits')")):
        with pytest.raises(ConfigError, match=re.escape(f'"several_digits" combines the digits passed as digits=...: '
                                                        f'{problem}') + "$"):
            generated_non_digits("several_digits", 2, seed=0, digits=digits)


def test_example_letters_are_a_string_of_letters(monkeypatch):
    import numvision_lib.not_a_digit as not_a_digit

    def no_reading(data_dir=None):
        raise AssertionError("the letters were read before the argument was checked")

    with monkeypatch.context() as patched:
        patched.setattr(not_a_digit, "letter_split", no_reading)
        for letters in (None, 5, "", ["A", "H"]):  # None and 5 were a TypeError once the letters had been read
            with pytest.raises(ConfigError, match=rf"letters is a string of the letters to show, such as \"AHKM\", "
                                                  rf"not {re.escape(repr(letters))}"):
                example_letters(letters)
    with pytest.raises(ConfigError, match="^no handwritten example of ' ', '7': choose letters A-Z or a-z"):
        example_letters("A B 7")


def test_training_examples_leave_lookalike_letters_out():
    examples = check_examples("train", per_kind=40, augment=True)
    assert set(examples.kinds) == {"digit", "letter", *GENERATED_KINDS}
    letters = examples.labels[examples.kinds == "letter"]
    assert len(letters) and not set(letters) & set(LOOKALIKE_LETTERS)
    assert set(examples.is_digit[examples.kinds == "digit"]) == {1}
    assert set(examples.is_digit[examples.kinds != "digit"]) == {0}
    validation = check_examples("validation", per_kind=40)
    assert "lookalike" in set(validation.kinds), "validation and benchmark report lookalikes apart"


@pytest.mark.parametrize("settings, message", [
    ({"per_kind": -5}, r"per_kind caps the drawings of each kind \(None: no cap\): a whole number, 1 or more, not -5"),
    ({"per_kind": 0}, "per_kind caps .* not 0"),
    ({"per_kind": 2.5}, "per_kind caps .* not 2.5"),
    ({"copies": 0}, "copies is how many times each letter and digit is drawn: a whole number, 1 or more, not 0"),
    ({"copies": -1}, "copies is how many .* not -1"),
    ({"seed": -1}, "the seed must be a whole number from 0 to 4294967295, not -1"),
    ({"seed": None}, "the seed must be a whole number from 0 to 4294967295, not None"),
    ({"augment": "yes"}, r"augment is True .*, False .* or a handwriting.Augmentation, not 'yes'"),
])
def test_examples_need_counts_a_seed_and_a_way_to_draw(settings, message):
    with pytest.raises(ConfigError, match=message):
        check_examples("validation", **settings)


def test_examples_of_the_largest_seed_give_their_generated_drawings_a_seed_too():
    # The generated drawings' seed is the part's offset from `seed`, wrapped round to stay a seed.
    examples = check_examples("benchmark", seed=MAX_SEED, per_kind=4)
    assert set(GENERATED_KINDS) <= set(examples.kinds)


def shape_families(examples, kind):
    return {label.split(":", 1)[1] for label in examples.labels[examples.kinds == kind]}


def test_unseen_shape_families_stay_out_of_training():
    validation, benchmark = set(UNSEEN_SHAPES["validation"]), set(UNSEEN_SHAPES["benchmark"])
    assert not set(SHAPES) & validation and not set(SHAPES) & benchmark and not validation & benchmark
    training = check_examples("train", per_kind=2 * len(SHAPES), augment=True)
    assert shape_families(training, "shapes") == set(SHAPES) and "unseen_shapes" not in set(training.kinds)
    chosen_by = check_examples("validation", per_kind=len(SHAPES))
    assert shape_families(chosen_by, "unseen_shapes") == validation
    assert shape_families(chosen_by, "shapes") == set(SHAPES), "drawings of the trained families, drawn anew"


def test_styled_training_redraws_only_ones_and_zeros():
    plain = check_examples("train", per_kind=40, augment=True, copies=3)
    styled = check_examples("train", per_kind=40, augment=AUGMENTATION_WITH_STYLES, copies=3)
    changed = np.abs(plain.inputs - styled.inputs).max(axis=(1, 2)) > 0
    assert set(plain.labels[changed]) == {"0", "1"}, "letters, shapes and the other digits are drawn as before"
    assert list(styled.labels) == list(plain.labels)


@pytest.fixture(scope="module")
def quick_check(mnist, tmp_path_factory):
    """A quick check trained once for the tests of training: its file and its card."""
    path = tmp_path_factory.mktemp("quick-check") / "check.keras"
    return path, train_digit_check(mnist, path, quick=True, verbose=0)


def test_a_quick_check_trains_and_its_threshold_keeps_the_validation_digits(quick_check, tmp_path):
    trained, card = quick_check
    saved = json.loads(trained.with_suffix(".json").read_text())
    assert saved["threshold"] == card["threshold"] and 0 < card["threshold"] < 1
    # The threshold refuses 0.5% of the digits it is chosen on; the quick run's few hundred let one digit more through
    # the rounding of the threshold, hence 1%.
    assert card["validation"]["digit"] >= 0.99, "the threshold refuses about 0.5% of validation digits, not more"
    # And it has learnt something in its few steps: an untrained check, its threshold chosen the same way, would
    # accept about 99% of everything (the quick run accepts about half of the non-digits, 7% of several digits).
    non_digits = ("letter", "shapes", "scribbles", "several_digits", "dots")
    assert np.mean([card["validation"][kind] for kind in non_digits]) < 0.7, card["validation"]
    assert card["validation"]["several_digits"] < 0.3, card["validation"]
    check = DigitCheck.load(trained)
    assert check.threshold == card["threshold"]
    shutil.copy(trained, tmp_path / "check.keras")  # its card damaged in a copy: the other tests use the original
    (tmp_path / "check.json").write_text("{}")
    with pytest.raises(ModelFileError, match="check.json: the digit check's card has no 'threshold'"):
        DigitCheck.load(tmp_path / "check.keras")


def test_a_check_does_not_continue_from_a_digit_model(shipped_model_path, tmp_path, monkeypatch):
    """It read all the data and then failed at the first training step with a raw Keras ValueError."""
    monkeypatch.chdir(tmp_path)
    # No MNIST: the refusal comes before any data is read.
    with pytest.raises(ModelStructureError, match="^continue_from needs the digit check, with one score; numvision_cnn "
                                                  "gives 10 outputs"):
        train_digit_check(None, tmp_path / "x.keras", quick=True, verbose=0, continue_from=shipped_model_path)
    assert list(tmp_path.iterdir()) == []


def test_a_mistyped_digit_check_is_named_as_the_predictors_name_it(tmp_path):
    """It was "model file not found. Train the model again", which takes minutes and mends no typo."""
    with pytest.raises(ModelFileError, match=r"digit_chek.keras: digit check not found. Give the path of its .keras "
                                             r"file, such as models/checks/digit_check.keras$"):
        DigitCheck.load(tmp_path / "digit_chek.keras")
    with pytest.raises(ModelFileError, match="is a folder: give the .keras model file in it"):
        DigitCheck.load(tmp_path)


def test_a_digit_model_is_no_digit_check_to_load(shipped_model_path):
    """Its card has no threshold, and was called missing or unreadable: "train it again"."""
    with pytest.raises(ModelFileError, match="^numvision_cnn.keras is a model that reads digits, not the pad's digit "
                                             "check"):
        DigitCheck.load(shipped_model_path)


def test_a_check_continues_from_a_saved_one_which_it_leaves_as_it_was(mnist, quick_check, tmp_path):
    first_path = quick_check[0]
    first_bytes = first_path.read_bytes()
    # Another seed: a network drawn anew would start from other weights altogether.
    card = train_digit_check(mnist, tmp_path / "continued.keras", quick=True, verbose=0, seed=7,
                             continue_from=first_path, learning_rate=1e-4)
    assert card["continued_from"] == {"file": first_path.name, "sha256": hashlib.sha256(first_bytes).hexdigest()}
    assert card["learning_rate"] == 1e-4 and first_path.read_bytes() == first_bytes
    first, continued = (DigitCheck.load(path).model for path in (first_path, tmp_path / "continued.keras"))
    # Trained on from the first check's weights: changed, but by a small step, not drawn anew.
    before, after = (model.get_layer(index=1).get_weights()[0] for model in (first, continued))
    change = np.abs(after - before).mean() / np.abs(before).mean()
    assert 0 < change < 0.1, change
    with pytest.raises(ModelFileError, match="missing.keras: model file not found"):
        train_digit_check(mnist, tmp_path / "x.keras", quick=True, verbose=0, continue_from=tmp_path / "missing.keras")
    assert not (tmp_path / "x.keras").exists()


def test_a_kind_that_counts_more_is_refused_more(mnist, quick_check, tmp_path):
    """Two continuations of one check, alike but for the scribbles counting 30 times as much in one: that one lets
    far fewer of the validation writers' scribbles through (about a third, against a half)."""
    cards = {name: train_digit_check(mnist, tmp_path / f"{name}.keras", quick=True, verbose=0, seed=7,
                                     continue_from=quick_check[0], kind_weights=weights)
             for name, weights in (("plain", {}), ("weighed", {"scribbles": 30}))}
    assert cards["weighed"]["kind_weights"] == {"scribbles": 30} and cards["plain"]["kind_weights"] == {}
    assert cards["weighed"]["validation"]["scribbles"] < cards["plain"]["validation"]["scribbles"] - 0.1, cards
    for wrong in ({"scribble": 3}, {"scribbles": 0}):
        with pytest.raises(ConfigError, match="each kind must be one of digit, mnist, letter, shapes, scribbles"):
            train_digit_check(mnist, tmp_path / "x.keras", quick=True, verbose=0, kind_weights=wrong)
    assert not (tmp_path / "x.keras").exists()


@pytest.mark.parametrize("settings, message", [
    ({"learning_rate": 0}, "the learning rate must be a number between 0 and 1 .* not 0"),
    ({"learning_rate": -1.0}, "the learning rate must be a number between 0 and 1"),
    ({"learning_rate": float("nan")}, "the learning rate must be a number between 0 and 1 .* not nan"),
    ({"output": "check.h5"}, "must end in .keras"),
    ({"epochs": 10**6}, "epochs must be a whole number from 1 to 1,000, not 1000000"),
    ({"epochs": 2.5}, "epochs must be a whole number from 1 to 1,000, not 2.5"),
    ({"seed": -1}, "the seed must be a whole number from 0 to 4294967295, not -1"),
    ({"seed": "7"}, "the seed must be a whole number from 0 to 4294967295, not '7'"),
])
def test_settings_that_would_lose_the_run_are_refused_before_it(tmp_path, monkeypatch, settings, message):
    monkeypatch.chdir(tmp_path)
    # No MNIST: the refusal comes before any data is read.
    with pytest.raises(ConfigError, match=message):
        train_digit_check(None, **{"output": tmp_path / "x.keras", "quick": True, "verbose": 0, **settings})
    assert list(tmp_path.iterdir()) == []


def drawings_read(*arguments, **settings):
    raise AssertionError("the drawings were read before the check's files were checked")


@pytest.mark.parametrize("protected", ["check.keras", "check.json"])
def test_a_check_or_card_that_cannot_be_replaced_is_refused_before_any_data_is_read(tmp_path, monkeypatch, earlier_run,
                                                                                   protected):
    """Found only once the check was trained; and a read-only card left the new check under the old check's card, its
    threshold too, with "nothing has been changed"."""
    monkeypatch.setattr(not_a_digit, "check_examples", drawings_read)
    refusal, unchanged = earlier_run("check", protected)
    with pytest.raises(DataError, match=refusal):
        train_digit_check(None, tmp_path / "check.keras", quick=True, verbose=0)
    assert unchanged()


def test_a_card_protected_during_the_run_keeps_the_earlier_check_with_it(mnist, tmp_path, monkeypatch):
    """The check was saved before its card: a card that could no longer be written left the new check running under
    the old check's threshold."""
    import keras

    earlier = {name: f"the earlier run's {name}" for name in ("check.keras", "check.json")}
    for name, text in earlier.items():
        (tmp_path / name).write_text(text)

    save = keras.Model.save

    def save_and_protect_the_card(model, path, *arguments, **options):  # between the check's save and its card's
        save(model, path, *arguments, **options)
        (tmp_path / "check.json").chmod(0o444)

    monkeypatch.setattr(keras.Model, "fit", lambda model, *arguments, **options: None)  # its minutes are not the point
    monkeypatch.setattr(keras.Model, "save", save_and_protect_the_card)
    with pytest.raises(DataError, match=r"check.json was made read-only while the new versions of check.json and "
                                        r"check.keras were being made, so none of them was replaced"):
        train_digit_check(mnist, tmp_path / "check.keras", quick=True, verbose=0)
    assert {name: (tmp_path / name).read_text() for name in earlier} == earlier
    # The new check and its card are kept beside them, together.
    assert 0 <= json.loads((tmp_path / "check.new.json").read_text())["threshold"] <= 1
    assert load_model(tmp_path / "check.new.keras", compile=False).output_shape == (None, 1)


def test_a_check_never_replaces_a_digit_model(shipped_model_path, tmp_path, monkeypatch):
    """`train-digit-check --output my_models/my_numvision_cnn.keras` replaced a student's model, which git does not
    keep, and its card, without a word."""
    monkeypatch.setattr(not_a_digit, "check_examples", drawings_read)
    model = tmp_path / "my_numvision_cnn.keras"
    shutil.copy(shipped_model_path, model)
    shutil.copy(shipped_model_path.with_suffix(".json"), model.with_suffix(".json"))
    refusal = re.escape("my_numvision_cnn.keras is a digit model, not a digit check: the digit check would replace it "
                        "and its card. Choose another output file.")
    with pytest.raises(ConfigError, match=refusal):
        train_digit_check(None, model, quick=True, verbose=0)
    model.with_suffix(".json").unlink()  # without its card, the model says what it is, and no card is named
    with pytest.raises(ConfigError, match=refusal.replace(re.escape(" and its card"), "") + "$"):
        train_digit_check(None, model, quick=True, verbose=0)
    assert model.read_bytes() == shipped_model_path.read_bytes()
    # A check replaces a check: the run goes on to read its drawings.
    shutil.copy(DIGIT_CHECK_PATH, tmp_path / "check.keras")
    for card in (DIGIT_CHECK_PATH.with_suffix(".json"), None):
        if card is not None:
            shutil.copy(card, tmp_path / "check.json")
        else:
            (tmp_path / "check.json").unlink()
        with pytest.raises(AssertionError, match="the drawings were read"):
            train_digit_check(None, tmp_path / "check.keras", quick=True, verbose=0)


class FitCalled(Exception):
    """Stands in for the check's training: what it would train, without its time."""


@pytest.mark.parametrize("epochs, trained", [(None, 1), (3, 3)])
def test_a_quick_check_trains_one_epoch_unless_given_more(mnist, tmp_path, monkeypatch, epochs, trained):
    """`quick` dropped the epochs it was given without a word: one epoch, and its card said so."""
    import keras

    def fit(model, *args, **options):
        raise FitCalled(options["epochs"])

    monkeypatch.setattr(keras.Model, "fit", fit)
    with pytest.raises(FitCalled) as run:
        train_digit_check(mnist, tmp_path / "check.keras", epochs=epochs, quick=True, verbose=0)
    assert run.value.args == (trained,)


@pytest.fixture(scope="module")
def pad_predictor():
    assert DIGIT_CHECK_PATH.is_file(), "the digit check ships with the project"
    return Predictor.load()


def _shape_strokes(name, centre=140, size=180):
    from numvision_lib.not_a_digit import SHAPES

    return [[(centre + x * size, centre + y * size) for x, y in stroke] for stroke in SHAPES[name]()]


@pytest.mark.parametrize("digit", range(10))
def test_the_pad_accepts_drawn_digits(pad_predictor, digit):
    prediction = pad_predictor.predict(template_strokes(digit))
    assert prediction.is_digit and prediction.digit == digit


@pytest.mark.parametrize("name", ["star", "smiley", "heart", "hash", "house", "spiral"])
def test_the_pad_says_not_a_digit_for_shapes(pad_predictor, name):
    prediction = pad_predictor.predict(_shape_strokes(name))
    assert prediction.verdict == NOT_A_DIGIT and prediction.advice


def test_the_pad_says_not_a_digit_for_two_digits_side_by_side(pad_predictor):
    one = [[(x * 0.45 + 10, y * 0.45 + 80) for x, y in stroke] for stroke in template_strokes(1)]
    two = [[(x * 0.45 + 140, y * 0.45 + 80) for x, y in stroke] for stroke in template_strokes(2)]
    assert pad_predictor.predict(one + two).verdict == NOT_A_DIGIT


@pytest.mark.parametrize("brush", [12, 20, 28])
def test_a_stray_click_or_tick_is_not_a_digit_with_any_pen(pad_predictor, brush):
    # With the default pen a click leaves a disc as wide as a small digit; scaled up, the network reads it as 0.
    for marks in ([[(150, 150)]], [[(150, 150), (158, 163)]]):
        prediction = pad_predictor.predict(marks, brush_width=brush)
        assert prediction.verdict == NOT_A_DIGIT and "dot" in prediction.advice, (marks, prediction.to_dict())


def test_the_pad_answers_with_its_cards_temperature(pad_predictor):
    # The temperature is so near 1 that its effect on an answer is below any tolerance: tests/test_predict.py and
    # tests/test_litert.py check with a temperature of 2 that every answer goes through it.
    assert pad_predictor.temperature == ModelCard.for_model(pad_predictor.source).temperature != 1.0
    assert pad_predictor.predict(template_strokes(5)).verdict == DIGIT


def test_benchmark_smoke_run(tmp_path):
    output = tmp_path / "nad.json"
    printed = run_script("benchmarks/not_a_digit.py", "--per-kind", "10", "--output", output)
    report = json.loads(output.read_text())
    assert {"letters", "lookalike letters", "shapes", "several digits", "blank pad"} <= set(report["groups"])
    assert report["groups"]["blank pad"]["refused"] == 1.0
    unseen = report["groups"]["shapes never trained on"]
    assert unseen["samples"] == 10 and set(unseen["accepted_by_family"]) <= set(UNSEEN_SHAPES["benchmark"])
    assert list(report["groups"]["shapes"]["accepted_by_family"]) == list(SHAPES)[:10]  # the families in turn
    for name in ("letters", "lookalike letters"):  # shares, like the families', not counts
        assert all(0 <= share <= 1 for share in report["groups"][name]["accepted_by_letter"].values()), name
    assert 0 <= report["digits_refused"] <= 1 and 0.5 <= report["auroc_digits_vs_letters"] <= 1
    assert "real digits refused" in printed and "AUROC" in printed


def test_shapes_need_shape_families_to_draw():
    with pytest.raises(ConfigError, match=r"no shape families to draw.*SHAPES"):
        generated_non_digits("shapes", 3, seed=0, shapes={})
    with pytest.raises(ConfigError, match=r"no shape families to draw: pass shapes as \{name: function .*, not "
                                          r"\['star'\]"):  # names without their drawings: a raw TypeError
        generated_non_digits("shapes", 3, seed=0, shapes=["star"])
    # Other kinds draw no shapes, so they do not care.
    assert len(generated_non_digits("dots", 3, seed=0, shapes={})) == 3


def test_a_threshold_needs_digit_scores_and_a_share_from_0_to_1():
    assert threshold_for(np.array([0.2, 0.9]), 0.0) == 0.2
    with pytest.raises(ConfigError, match="no digit scores"):
        threshold_for(np.array([]))
    with pytest.raises(ConfigError, match=r"1 of the digit scores are not numbers \(NaN\): the check's training "):
        threshold_for(np.array([0.2, np.nan, 0.9]))
    for share in (2, -0.1, float("nan"), "0.01"):
        with pytest.raises(ConfigError, match=rf"max_rejected .* from 0 to 1.*not {share!r}"):
            threshold_for(np.array([0.2, 0.9]), share)
    # Scores are probabilities: a quantile of other numbers (-2.92 of these) is no threshold for the check.
    with pytest.raises(ConfigError, match=r"each the probability that a drawing is a digit, a number from 0 to 1; "
                                          r"found 3 outside 0-1 \(from -3 to 10\)"):
        threshold_for([5, 10, -3])
    for scores in (None, "0.5", ["0.5", "0.9"], [[0.1, 0.2], [0.3]]):
        with pytest.raises(ConfigError, match=r"chosen from the check's scores of real digits \(digit_scores"):
            threshold_for(scores)
    assert threshold_for([0.2, 0.9], 0.0) == 0.2


@pytest.mark.parametrize("count, max_rejected", [(10, 0.05), (15, 0.005), (199, 0.005), (200, 0.005), (201, 0.005),
                                                 (1000, 0.1), (7, 1.0)])
def test_a_threshold_refuses_its_share_of_digits_rounded_up_to_a_whole_digit(count, max_rejected):
    scores = np.random.default_rng(count).uniform(0.2, 1, count).astype(np.float32)
    refused = np.count_nonzero(scores < threshold_for(scores, max_rejected))
    # The quantile lies at max_rejected * (count - 1) in the sorted scores; a score only part of the way to the next
    # one is refused.
    assert max_rejected * (count - 1) <= refused <= max_rejected * (count - 1) + 1


def test_the_check_is_the_digit_check_with_a_threshold_from_0_to_1():
    """A digit model's first output is P(digit 0): read as the check's score, it refused most real digits."""
    check, digit_model = build_digit_check(), build_numvision_cnn()
    inputs = np.zeros((3, 28, 28), dtype=np.float32)
    assert digit_scores(check, inputs).shape == (3,)
    assert DigitCheck(check, 0.5).refuses(inputs).shape == (3,)
    with pytest.raises(ModelStructureError, match="digit_scores needs the digit check, with one score; "
                                                  "numvision_cnn gives 10 outputs"):
        digit_scores(digit_model, inputs)
    with pytest.raises(ModelStructureError, match="DigitCheck needs the digit check"):
        DigitCheck(digit_model, 0.095)
    # NaN refused nothing, 50 everything, None and '0.5' were raw errors at the first drawing.
    for threshold in (None, float("nan"), 50, -0.1, "0.5"):
        with pytest.raises(ConfigError, match=rf"threshold must be a number from 0 to 1, found {threshold!r}: a "
                                              r"drawing scoring below it is refused"):
            DigitCheck(check, threshold)
    for path in (None, ""):
        with pytest.raises(ConfigError, match=rf"give the path of the digit check's model file, such as "
                                              rf"models/checks/digit_check.keras, not {path!r}"):
            DigitCheck.load(path)


def test_kind_weights_must_be_numbers():
    assert checked_kind_weights({"scribbles": 3, "letter": 0.5}) == {"scribbles": 3, "letter": 0.5}
    for factor in ("3", None, float("inf"), float("nan")):
        with pytest.raises(ConfigError, match="each factor a number above 0"):
            checked_kind_weights({"scribbles": factor})
    for weights in ("letter", ["scribbles"]):  # dict() split the one into letters and failed on both
        with pytest.raises(ConfigError, match=r"kind_weights is a dict of kinds and factors, .* not " + re.escape(repr(weights))):
            checked_kind_weights(weights)


def test_a_check_to_continue_from_given_with_a_tilde_is_read_from_the_home_folder(tmp_path, monkeypatch):
    """`--continue-from=~/check.keras` was loaded from the home folder, then hashed as typed: a raw
    FileNotFoundError after MNIST was read."""
    monkeypatch.setenv("HOME", str(tmp_path))
    shutil.copy(DIGIT_CHECK_PATH, tmp_path / "check.keras")
    monkeypatch.setattr(not_a_digit, "check_examples", drawings_read)
    with pytest.raises(AssertionError, match="the drawings were read"):  # past the start, to its drawings
        train_digit_check(None, tmp_path / "continued.keras", quick=True, verbose=0, continue_from="~/check.keras",
                          learning_rate=1e-4)

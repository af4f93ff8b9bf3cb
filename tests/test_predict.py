"""Predictor: loading a model once and answering with honest confidence."""
from __future__ import annotations

import json
import platform
import sys
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from numvision_lib.drawn_digits import template_strokes
from numvision_lib.errors import ConfigError, DataError, ImageError, ModelFileError, ModelStructureError
from numvision_lib.calibration import apply_temperature
from numvision_lib.model import predict_probabilities
from numvision_lib.model_card import DIGIT_CHECK_PATH
from numvision_lib.not_a_digit import build_digit_check, example_letters
from numvision_lib.paths import MODELS_DIR
from numvision_lib.predict import Predictor, litert_for_pad
from numvision_lib.prediction import (ADVICE_FOR_STROKES, DIGIT, MIN_CONFIDENCE, NOT_A_DIGIT, PROBABLY, READING_SHIFTS,
                                      READINGS, Prediction, digit_check_file, make_prediction, read)
from numvision_lib.preprocess import preprocess_steps


def test_missing_model_file(tmp_path):
    with pytest.raises(ModelFileError, match="not found"):
        Predictor.load(tmp_path / "nothing.keras")


def test_the_digit_check_or_a_litert_export_given_as_the_model_is_named_for_what_it_is():
    with pytest.raises(ModelFileError, match="digit_check.keras is the pad's digit check, .* not a model that reads"):
        Predictor.load(DIGIT_CHECK_PATH)
    with pytest.raises(ModelFileError, match=r"numvision_plus_real.tflite: this is a LiteRT export, .* give the "
                                             r".keras model it was exported from \(numvision_plus_real.keras"):
        Predictor.load(MODELS_DIR / "numvision_plus_real.tflite")


def test_a_model_or_a_check_already_loaded_is_no_path_to_load(predictor, shipped_model_path):
    """Both were a raw TypeError from pathlib."""
    with pytest.raises(ConfigError, match=r"give the path of a model file, such as models/numvision_cnn.keras \(for "
                                          r"a model already loaded: Predictor\(model\), .*not <Functional"):
        Predictor.load(predictor.model)
    with pytest.raises(ConfigError, match="give the path of the digit check's model file, such as "
                                          "models/checks/digit_check.keras, not <Functional"):
        Predictor.load(shipped_model_path, build_digit_check())


def test_a_run_or_a_predictor_given_to_load_names_the_path_to_give(predictor, tmp_path):
    """`Predictor.load(run)` in the cell after fine_tune dumped the run's repr, and advised Predictor(model), which
    drops the card's temperature: the answer is the file the run saved."""
    from numvision_lib.fine_tuning import FineTuneRun, FineTuneSettings

    run = FineTuneRun(predictor.model, tmp_path / "class_m.keras", tmp_path / "class_m.json", tmp_path / "m.keras",
                      FineTuneSettings(), students=2, drawings=3, prepare_seconds=0.0, train_seconds=0.0,
                      mnist_test_accuracy=0.99)
    expected = (r"give the path of a model file, such as models/numvision_cnn.keras \(for a model already loaded: "
                r"Predictor\(model\), from numvision_lib.predict\), not ")
    for given, advice in ((run, r"a FineTuneRun: give run.model_path, the file it saved$"),
                          (predictor, r"a Predictor: give predictor.source, the file it was loaded from$"),
                          (Predictor(predictor.model), r"a Predictor$")):  # made from a model: it has no file
        with pytest.raises(ConfigError, match=expected + advice):
            Predictor.load(given)


def test_a_digit_check_path_that_was_given_must_be_the_check(tmp_path, shipped_model_path):
    """A mistyped path took the check away without a word: a handwritten A was "4, 99.8% sure"."""
    with pytest.raises(ModelFileError, match=r"digit_chek.keras: digit check not found. Give the path of its .keras "
                                             r"file, such as models/checks/digit_check.keras, or none for no "
                                             r"check \(digit_check_path=None\)"):
        Predictor.load(shipped_model_path, tmp_path / "digit_chek.keras")
    # A digit model's card has no threshold, and was called "missing or unreadable".
    with pytest.raises(ModelFileError, match="^numvision_cnn.keras is a model that reads digits, not the pad's digit "
                                             "check"):
        Predictor.load(shipped_model_path, shipped_model_path)


def test_only_the_default_digit_check_may_be_absent(tmp_path, monkeypatch):
    """Where no check has ever been trained (no card either: a teacher's own models/), the pad answers without one;
    a check whose card is still there went missing, and the pad would call a handwritten A a confident 4."""
    import numvision_lib.prediction as prediction

    default = tmp_path / "checks" / "digit_check.keras"
    monkeypatch.setattr(prediction, "DIGIT_CHECK_PATH", default)
    assert digit_check_file(default) is None and digit_check_file(None) is None
    with pytest.raises(ModelFileError, match="digit-check.keras: digit check not found"):
        digit_check_file(default.with_name("digit-check.keras"))
    default.parent.mkdir()
    default.with_suffix(".json").write_text(json.dumps({"threshold": 0.09}))
    with pytest.raises(ModelFileError, match=r"digit_check.keras is missing, though its card digit_check.json is "
                                             r"there: .* from git, or give none for no check"):
        digit_check_file(default)
    default.touch()
    assert digit_check_file(str(default)) == default


def test_export_checks_every_file_it_writes_before_it_converts_any(tmp_path, shipped_model_path, monkeypatch):
    """A read-only card of the check was found once the model's LiteRT copy was written and its card updated, with
    "nothing has been changed"."""
    import shutil

    from numvision_lib import predict
    from numvision_lib.predict import export_litert

    def converted(*arguments):
        raise AssertionError("converted before every file was checked")

    monkeypatch.setattr(predict, "convert_for_litert", converted)
    model, check = tmp_path / shipped_model_path.name, tmp_path / "checks" / DIGIT_CHECK_PATH.name
    check.parent.mkdir()
    for source, copy in ((shipped_model_path, model), (DIGIT_CHECK_PATH, check)):
        shutil.copy(source, copy)
        shutil.copy(source.with_suffix(".json"), copy.with_suffix(".json"))
    model.with_suffix(".tflite").write_text("an earlier export")

    def files() -> dict:
        return {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}

    before = files()
    for protected in (check.with_suffix(".json"), model.with_suffix(".tflite")):
        protected.chmod(0o444)
        with pytest.raises(DataError, match=rf"{protected.name} is read-only, so it was not replaced: nothing has been "
                                            r"changed"):
            export_litert(model, check)
        assert files() == before
        protected.chmod(0o644)


def test_a_predictor_is_made_of_a_digit_model_and_a_digit_check(predictor):
    """The check's one score was read as "digit 0, 99.99% sure", a path failed deep in TensorFlow, and a Keras
    check given as the DigitCheck at its first use."""
    check = build_digit_check()
    with pytest.raises(ModelStructureError, match=r"^Predictor needs a digit model, with one probability for each of "
                                                  r"the 10 digits; digit_check \(the digit check\) gives 1 outputs"):
        Predictor(check)
    with pytest.raises(ConfigError, match=r"Predictor needs a Keras model, such as load_model\(...\) or "
                                          r"Predictor.load\(\), not a str"):
        Predictor(str(MODELS_DIR / "numvision_cnn.keras"))
    with pytest.raises(ConfigError, match=r"^digit_check is the digit check with its threshold .* "
                                          r"DigitCheck\(model, threshold\) for a check already loaded; not a Functional"):
        Predictor(predictor.model, digit_check=check)
    with pytest.raises(ConfigError, match="a temperature must be a positive number .* got 0"):
        Predictor(predictor.model, temperature=0)


def test_every_answer_goes_through_the_temperature(predictor):
    """The pad's temperature is so near 1 (0.996) that a predictor ignoring it would pass every other test."""
    assert predictor.temperature == 1.0, "the reference model has no calibration"
    warm = Predictor(predictor.model, temperature=2.0)
    plus = [[(140, 50), (140, 230)], [(60, 140), (220, 140)]]  # a 4 to the reference model, but only 99% sure
    drawings = [template_strokes(5), plus]
    inputs = np.stack([predictor.predict(drawing).model_input for drawing in drawings])
    answers = {
        "predict": lambda p: np.stack([p.predict(drawing).probabilities for drawing in drawings]),
        "predict_batch": lambda p: np.stack([answer.probabilities for answer in p.predict_batch(drawings)]),
        "probabilities": lambda p: p.probabilities(inputs),
        "probabilities_read_once": lambda p: p.probabilities_read_once(inputs),
    }
    for name, answer in answers.items():
        raw, softened = answer(predictor), answer(warm)
        np.testing.assert_allclose(softened, apply_temperature(raw, 2.0), atol=1e-5, err_msg=name)
        assert np.abs(softened - raw).max() > 0.01, name


# ---------------------------------------------------------------- predictions


@pytest.mark.parametrize("digit", range(10))
def test_shipped_model_reads_clean_drawings(predictor, digit):
    prediction = predictor.predict(template_strokes(digit), brush_width=20)
    assert prediction.digit == digit
    assert prediction.verdict == DIGIT and prediction.is_digit


def test_prediction_fields_are_consistent(predictor):
    prediction = predictor.predict(template_strokes(7))
    assert isinstance(prediction, Prediction)
    assert prediction.probabilities.shape == (10,)
    assert prediction.probabilities.sum() == pytest.approx(1.0, abs=1e-4)
    assert prediction.top3[0] == (prediction.digit, prediction.confidence)
    assert [p for _, p in prediction.top3] == sorted((p for _, p in prediction.top3), reverse=True)
    assert prediction.confidence == pytest.approx(float(prediction.probabilities[prediction.digit]))
    assert prediction.model_input.shape == (28, 28)


def test_prediction_as_json(predictor):
    prediction = predictor.predict(template_strokes(2))
    values = json.loads(json.dumps(prediction.to_dict()))
    assert values["digit"] == 2 and values["top3"][0][0] == 2
    assert len(values["probabilities"]) == 10 and values["verdict"] == "digit" and values["is_digit"] is True


def test_a_batch_gets_the_pads_answers(predictor):
    """The batch ran the float32 model and check, the pad their 8-bit copies: a letter D the pad took for a 0 was "not
    a digit" in a batch, and a K another digit."""
    drawings = [template_strokes(digit) for digit in (3, 5, 8)] + example_letters("DK")
    for drawing, from_batch in zip(drawings, predictor.predict_batch(drawings)):
        single = predictor.predict(drawing)
        assert (from_batch.digit, from_batch.verdict) == (single.digit, single.verdict)
        np.testing.assert_array_equal(from_batch.probabilities, single.probabilities)


@pytest.mark.skipif(sys.platform == "darwin" and platform.machine() == "x86_64",
                    reason="ai-edge-litert has no wheels for Intel Macs (pyproject.toml); elsewhere it must be there")
def test_pad_path_is_8_bit_litert_and_agrees_with_keras(predictor, mnist):
    """The pad's 8-bit LiteRT interpreter reads real and drawn digits as the float32 Keras model does."""
    assert predictor.pad_path == "LiteRT interpreter, 8-bit", predictor.pad_fallback_reason
    real = mnist.x_test[:2000].astype(np.float32) / 255.0
    drawn = np.stack([predictor.predict(template_strokes(digit)).model_input for digit in range(10)])
    images = np.concatenate([real, drawn])[..., None]
    expected = read(partial(predict_probabilities, predictor.model), images)
    pad = np.concatenate([read(predictor.pad_network, image[None]) for image in images])
    assert np.count_nonzero(pad.argmax(axis=1) != expected.argmax(axis=1)) <= 1, "at most 1 in 2,000"
    differences = np.abs(pad - expected)
    assert differences.max() < 0.1 and np.median(differences.max(axis=1)) < 1e-3
    float32_interpreter, _ = litert_for_pad(predictor.model, READINGS, eight_bit=False)
    for image, probabilities in zip(images[:20], expected[:20]):
        np.testing.assert_allclose(read(float32_interpreter, image[None])[0], probabilities, atol=1e-5)


def test_a_picture_is_read_as_it_is_and_moved_by_a_pixel_each_way():
    picture = np.zeros((28, 28), np.float32)
    picture[0, 5] = picture[27, 27] = picture[10, 12] = 1.0  # ink at the edges must not wrap round
    given = []

    def network(batch):  # its "answer" for an image is the image itself, flattened
        given.append(batch.copy())
        return batch.reshape(len(batch), -1)

    averaged = read(network, np.stack([picture, picture * 0.5]))
    (batch,) = given
    assert len(READING_SHIFTS) == 3 and batch.shape == (6, 28, 28, 1)
    for copy, (down, right) in zip(batch[:3, ..., 0], READING_SHIFTS):
        expected = np.zeros_like(picture)
        for row, column in zip(*np.nonzero(picture)):
            if 0 <= row + down < 28 and 0 <= column + right < 28:
                expected[row + down, column + right] = 1.0
        np.testing.assert_array_equal(copy, expected)
    assert batch[1].sum() == 2.0 and batch[2].sum() == 2.0  # a corner pixel fell off each time, not round
    np.testing.assert_array_equal(batch[3:], batch[:3] * 0.5)  # each picture's copies side by side
    np.testing.assert_allclose(averaged, batch.reshape(2, 3, -1).mean(axis=1))


def test_a_picture_read_once_is_the_network_on_it_as_it_is(predictor, mnist):
    images = mnist.x_test[:50].astype(np.float32) / 255.0
    once = predictor.probabilities_read_once(images)
    expected = apply_temperature(predict_probabilities(predictor.model, images[..., None]), predictor.temperature)
    np.testing.assert_allclose(once, expected, atol=1e-5)
    assert np.abs(once - predictor.probabilities(images)).max() > 1e-3, "three readings average to something else"


def test_many_pictures_are_read_a_chunk_at_a_time(monkeypatch):
    import numvision_lib.prediction as prediction

    pictures = np.random.default_rng(0).random((5, 28, 28)).astype(np.float32)
    sizes = []

    def network(batch):
        sizes.append(len(batch))
        return batch.reshape(len(batch), 28 * 28)[:, :10]

    whole = read(network, pictures)
    monkeypatch.setattr(prediction, "READ_CHUNK", 2)
    sizes.clear()
    np.testing.assert_array_equal(read(network, pictures), whole)
    assert sizes == [6, 6, 3]
    assert read(network, np.zeros((0, 28, 28))).shape == (0, 10)


def test_a_large_batch_goes_through_the_network_in_bounded_chunks():
    from numvision_lib.prediction import in_chunks

    sizes = []

    def network(batch):
        sizes.append(len(batch))
        return batch.reshape(len(batch), -1)[:, :10]

    batch = np.random.default_rng(0).random((7, 28, 28, 1)).astype(np.float32)
    np.testing.assert_array_equal(in_chunks(network, batch, size=3, width=10), batch.reshape(7, -1)[:, :10])
    assert sizes == [3, 3, 1]
    sizes.clear()
    assert in_chunks(network, batch[:0], size=3, width=10).shape == (0, 10)
    assert sizes == [], "an empty batch needs no call to know its width"


def test_a_network_fixed_at_a_few_images_gets_whole_groups():
    from numvision_lib.litert import in_groups

    sizes = []

    def network(batch):
        sizes.append(len(batch))
        return np.zeros((len(batch), 10), np.float32)

    assert in_groups(network, np.zeros((6, 28, 28, 1), np.float32), size=3, width=10).shape == (6, 10)
    assert sizes == [3, 3]
    with pytest.raises(ConfigError, match="groups of 3"):
        in_groups(network, np.zeros((4, 28, 28, 1), np.float32), size=3, width=10)


def test_xla_fallback_without_litert(shipped_model_path, monkeypatch):
    import numvision_lib.predict as predict_module

    monkeypatch.setattr(predict_module, "litert_for_pad", lambda model, images: (None, "no LiteRT (test)"))
    fallback = Predictor.load(shipped_model_path)
    assert fallback.pad_path in ("tf.function, XLA", "tf.function, graph")
    assert fallback.pad_fallback_reason == "no LiteRT (test)"
    prediction = fallback.predict(template_strokes(6), brush_width=20)
    assert prediction.digit == 6 and prediction.probabilities.shape == (10,)


def test_conversion_prints_nothing(shipped_model_path, capfd):
    Predictor.load(shipped_model_path)
    printed = capfd.readouterr()
    assert printed.out == "" and printed.err == ""


def test_probabilities_of_preprocessed_inputs(predictor):
    assert predictor.probabilities(np.zeros((0, 28, 28))).shape == (0, 10)
    assert predictor.probabilities(np.zeros((300, 28, 28, 1))).shape == (300, 10)  # more than one chunk


def test_a_small_digit_is_probably_a_digit_and_a_stray_mark_none(predictor):
    small_seven = [[(x * 0.14 + 100, y * 0.14 + 100) for x, y in stroke] for stroke in template_strokes(7)]
    prediction = predictor.predict(small_seven)
    assert prediction.verdict == PROBABLY and prediction.advice == "Draw the digit larger."
    mark = predictor.predict([[(100, 100), (115, 108), (104, 118)]], brush_width=6)
    assert (mark.verdict, mark.advice) == (NOT_A_DIGIT, ADVICE_FOR_STROKES["mark"])


def test_low_confidence_is_flagged():
    four = preprocess_steps(template_strokes(4))
    flat = np.full(10, 0.1, dtype=np.float32)
    prediction = make_prediction(flat, four)
    assert prediction.verdict == PROBABLY and prediction.is_digit and prediction.runner_up[1] == pytest.approx(0.1)
    confident = make_prediction(np.eye(10, dtype=np.float32)[4] * 0.99 + 0.001, four)
    assert confident.confidence > MIN_CONFIDENCE and confident.verdict == DIGIT


def scribbled_patch(turns: int, width: float = 120, height: float = 90) -> list:
    """Round and round over one place, as a student colours a patch in."""
    angles = np.linspace(0, 2 * np.pi * turns, 40 * turns)
    radii = 0.55 + 0.45 * np.abs(np.sin(angles * 0.37))
    return [list(zip(140 + width / 2 * radii * np.cos(angles), 140 + height / 2 * radii * np.sin(angles)))]


@pytest.mark.parametrize("turns", [8, 20])
def test_scribbling_is_not_a_digit(predictor, turns):
    prediction = predictor.predict(scribbled_patch(turns))
    assert prediction.verdict == NOT_A_DIGIT and "scribbling" in prediction.advice, prediction.to_dict()
    assert predictor.predict_batch([scribbled_patch(turns)])[0].verdict == NOT_A_DIGIT


@pytest.mark.parametrize("digit", [0, 3, 8])
def test_a_digit_gone_over_twice_is_still_read(predictor, digit):
    # Students go over a digit again to make it bolder: the pen travels twice as far, and that is no scribble.
    prediction = predictor.predict(template_strokes(digit) * 2)
    assert prediction.is_digit and prediction.digit == digit, prediction.to_dict()


def test_separate_dots_are_not_a_digit(predictor):
    rng = np.random.default_rng(3)
    dots = [[tuple(point)] for point in rng.uniform(60, 220, size=(9, 2))]
    prediction = predictor.predict(dots)
    assert prediction.verdict == NOT_A_DIGIT, prediction.to_dict()
    assert prediction.advice == "Separate dots are not a digit: draw one digit in lines, 0 to 9, without dots."
    assert predictor.predict_batch([dots])[0].verdict == NOT_A_DIGIT


@pytest.mark.parametrize("brush", [10, 20, 40])
def test_dots_alone_are_not_a_digit_however_few(predictor, brush):
    """Two clicks far apart were "1, 96.0% sure": a digit may have a stray dot or two, but it is not made of them."""
    two_clicks = [[(60.0, 60.0)], [(220.0, 220.0)]]
    assert preprocess_steps(two_clicks).separate_dots == 2  # no more than a digit's stray dots
    prediction = predictor.predict(two_clicks, brush_width=brush)
    assert prediction.verdict == NOT_A_DIGIT and "Separate dots" in prediction.advice, prediction.to_dict()
    # A tap's jitter makes no line of it.
    assert predictor.predict([[(60.0, 60.0), (61.0, 62.0)], [(220.0, 220.0)]], brush_width=brush).verdict == NOT_A_DIGIT


def test_a_digit_with_more_stray_dots_is_told_to_leave_the_dots_out(predictor):
    """A 7 drawn in lines with three stray dots was told "Those are separate dots: draw one digit in lines", which
    describes a drawing of dots alone."""
    prediction = predictor.predict(template_strokes(7) + [[(30.0, 30.0)], [(250.0, 40.0)], [(30.0, 250.0)]])
    assert prediction.verdict == NOT_A_DIGIT, prediction.to_dict()
    assert prediction.advice == "Separate dots are not a digit: draw one digit in lines, 0 to 9, without dots."


def test_a_digit_with_a_stray_dot_or_two_is_still_read(predictor):
    # A dot is a stroke far smaller than the drawing, whichever way the student made it (a click or a tiny tick).
    seven = template_strokes(7)
    with_dots = seven + [[(30.0, 30.0)], [(250.0, 40.0), (251.0, 41.0)]]
    assert preprocess_steps(with_dots).separate_dots == 2 and preprocess_steps(seven).separate_dots == 0
    prediction = predictor.predict(with_dots)
    assert prediction.digit == 7 and prediction.is_digit and "dots" not in prediction.advice, prediction.to_dict()
    assert prediction.verdict == predictor.predict(seven).verdict, "a stray dot or two does not make it less sure"


def test_flat_wide_drawing_is_flagged(predictor):
    """A single dash was told "draw one digit at a time", as if it were several digits: so were a wave and an 8 drawn
    flat. The advice fits them as well as two digits side by side."""
    prediction = predictor.predict([[(30, 140), (250, 150)]])
    assert not prediction.is_digit and prediction.verdict == NOT_A_DIGIT
    assert prediction.advice == "Much wider than a digit: draw one digit, 0 to 9, taller than it is wide."


def test_blank_drawing_is_an_image_error(predictor):
    with pytest.raises(ImageError, match="draw a digit"):
        predictor.predict([])


@pytest.mark.parametrize("model_inputs, message", [
    ([np.zeros((28, 28)), np.zeros((27, 27))], "all of the same size"),
    ("abc", "not an array of shape \\(\\)"),
    (np.full((1, 28, 28), np.nan), "NaN or infinity"),
    (np.full((2, 28, 28), np.inf), "NaN or infinity"),
    (np.full((3, 28, 28), 255.0), "these go from 255 to 255 \\(for 0-255 pixels, divide by 255"),
    (np.full((1, 28, 28), -5.0), "these go from -5 to -5"),
    (np.zeros((2, 5, 28, 28)), "not an array of shape \\(2, 5, 28, 28\\)"),
    (np.zeros((28, 28, 3)), "not an array of shape \\(28, 28, 3\\)"),
    (np.zeros((1, 28, 28), complex), "not of complex128"),
], ids=["ragged", "a string", "NaN", "infinity", "floats 0-255", "negative", "four dimensions", "colour", "complex"])
def test_model_inputs_that_are_not_pictures_of_the_networks_input_are_refused(predictor, model_inputs, message):
    """Read as `data.model_input` reads them: floats 0-255 would be read 255 times too bright, a batch of batches
    or a colour picture as several grey pictures, without a word."""
    with_check = [predictor.digit_scores] if predictor.threshold is not None else []
    for reading in (predictor.probabilities, predictor.probabilities_read_once, *with_check):
        with pytest.raises(ConfigError, match=message) as refused:
            reading(model_inputs)
        assert str(refused.value).endswith(". A photo or a drawing becomes a 28x28 input with preprocess(), or give "
                                           "it to predict()")


def test_mnist_images_are_read_as_they_come(predictor, mnist):
    """uint8 0-255, as `load_test_data()` gives them: read as levels, not as the network's input (which had 79%
    right instead of 100%)."""
    images, labels = mnist.x_test[:300], mnist.y_test[:300]
    as_input = images.astype(np.float32) / 255
    probabilities = predictor.probabilities(images)
    np.testing.assert_allclose(probabilities, predictor.probabilities(as_input), atol=1e-6)
    assert (probabilities.argmax(axis=1) == labels).mean() > 0.97
    np.testing.assert_allclose(predictor.probabilities_read_once(images), predictor.probabilities_read_once(as_input),
                               atol=1e-6)
    if predictor.digit_scores(as_input) is not None:
        np.testing.assert_allclose(predictor.digit_scores(images), predictor.digit_scores(as_input), atol=1e-6)


@pytest.mark.parametrize("one_picture", [
    "digit.png", Path("digit.png"), b"\x89PNG", Image.new("L", (28, 28)), np.zeros((28, 28)), np.zeros((50, 40, 3)),
    np.zeros((28, 28, 1)), 7,
], ids=["file name", "path", "bytes", "PIL image", "grey array", "colour array", "with a channel axis", "number"])
def test_a_batch_of_one_picture_is_refused(predictor, one_picture):
    """A file name would be read letter by letter ("d: file not found"), an array row by row."""
    with pytest.raises(ConfigError, match=r"predict_batch takes a list of pictures, not one \w+: for one picture "
                                          r"use predict\(\), or give a list of one, such as \[picture\]"):
        predictor.predict_batch(one_picture)


def test_a_batch_says_which_picture_it_cannot_read(predictor):
    drawings = [template_strokes(digit) for digit in range(10)]
    drawings.insert(5, [])  # blank
    with pytest.raises(ImageError, match=r"^picture 6 of 11: the picture is blank: draw a digit"):
        predictor.predict_batch(drawings)
    drawings[5] = [[(10, 10), (900, 900)]]  # beyond the canvas: a ConfigError, and it says which picture too
    with pytest.raises(ConfigError, match=r"^picture 6 of 11: the strokes reach from x=10, y=10 to x=900, y=900"):
        predictor.predict_batch(drawings)


def test_a_batch_takes_any_list_of_pictures(predictor):
    inputs = np.stack([predictor.predict(template_strokes(digit)).model_input for digit in (4, 1)])
    assert [prediction.digit for prediction in predictor.predict_batch(inputs)] == [4, 1]  # an array (N, 28, 28)
    assert [prediction.digit for prediction in predictor.predict_batch(template_strokes(d) for d in (2, 9))] == [2, 9]
    assert predictor.predict_batch([]) == []

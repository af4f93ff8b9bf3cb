"""The pad's answer (`make_prediction`) without a network: its verdicts, and advice that fits what was given."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from numvision_lib.drawn_digits import TEMPLATES, template_strokes
from numvision_lib.errors import ConfigError
from numvision_lib.prediction import (ADVICE_FOR_PICTURES, ADVICE_FOR_STROKES, DIGIT, MIN_CONFIDENCE, NOT_A_DIGIT,
                                      PROBABLY, VERDICTS, BasePredictor, Prediction, a_digit, is_sure, make_prediction,
                                      percentage)
from numvision_lib.preprocess import preprocess_steps, rasterise_strokes

SURE_SEVEN = np.eye(10)[7] * 0.99 + 0.001


def seven(scale: float, centre: float = 250) -> list:
    """The template 7 (about 160 pixels tall on its 280-pixel canvas) scaled by `scale` around `centre`."""
    return [[(centre + (x - 140) * scale, centre + (y - 140) * scale) for x, y in stroke]
            for stroke in template_strokes(7)]


def photo(strokes, side: int = 500, brush: float = 6) -> np.ndarray:
    """Strokes as a photo of paper would show them: dark ink on light grey, no strokes left to go by."""
    return (225 - rasterise_strokes(strokes, side, brush) * 0.75).astype(np.uint8)


# A digit about a tenth of the frame tall is small, one a fourteenth only a mark; a line across the picture is far
# too wide (in a photo, a ruled line, say).
CASES = {"small": (seven(0.25), PROBABLY), "mark": (seven(0.15), NOT_A_DIGIT),
         "wide": ([[(40, 250), (460, 250)]], NOT_A_DIGIT)}


@pytest.mark.parametrize("rule", CASES)
def test_a_photo_gets_advice_about_the_photo_and_a_drawing_about_drawing(rule):
    """A legible 3 small in a phone photo was told "Only a dot or a small mark: draw a digit", and a 7 on a ruled line
    "draw one digit at a time": advice that no photo can follow. The verdicts stay as they were."""
    strokes, verdict = CASES[rule]
    for given, advice in ((photo(strokes), ADVICE_FOR_PICTURES), (strokes, ADVICE_FOR_STROKES)):
        prediction = make_prediction(SURE_SEVEN, preprocess_steps(given, 500, 6))
        assert (prediction.verdict, prediction.advice) == (verdict, advice[rule]), rule


def test_a_tiny_digit_refused_as_a_mark_is_told_to_draw_larger():
    """A legible digit about 20 pixels tall on the pad (notebook 05 asks for "a tiny digit in a corner") was told
    "Only a dot or a small mark: draw a digit"."""
    prediction = make_prediction(SURE_SEVEN, preprocess_steps(seven(0.12, centre=140)))
    assert (prediction.verdict, prediction.advice) == (NOT_A_DIGIT, ADVICE_FOR_STROKES["mark"])
    assert "tiny digit" in prediction.advice and prediction.advice.endswith("larger.")


def test_a_photo_the_digit_check_refuses_is_told_about_the_photo():
    picture, strokes = photo(seven(0.8)), seven(0.8)
    for given, advice in ((picture, ADVICE_FOR_PICTURES), (strokes, ADVICE_FOR_STROKES)):
        prediction = make_prediction(SURE_SEVEN, preprocess_steps(given, 500, 6), digit_score=0.1, threshold=0.5)
        assert (prediction.verdict, prediction.advice) == (NOT_A_DIGIT, advice["check"])
    assert make_prediction(SURE_SEVEN, preprocess_steps(picture, 500, 6)).verdict == DIGIT


def test_the_advice_for_pictures_speaks_of_the_photo_never_of_drawing():
    assert set(ADVICE_FOR_PICTURES) < set(ADVICE_FOR_STROKES)  # scribbling and dots are found in strokes only
    for rule, advice in ADVICE_FOR_PICTURES.items():
        assert "photo" in advice and "crop" in advice, rule
        assert not any(word in advice.lower() for word in ("draw", "pen", "larger")), rule


def test_a_drawing_that_ran_off_the_pad_is_at_most_probably_a_digit_and_says_why():
    """A digit drawn too large: the pad keeps a stroke that left the canvas and came back as pieces, the first ending
    where it left (`DrawingPad.leave`). What was left on the pad was read with confidence and no word on why: a 7
    whose bar ran off the top was "1, 100% sure"."""
    bar_ran_off_the_top = [[(60, 40), (70, 0)], [(215, 6), (190, 70), (130, 250)]]
    prediction = make_prediction(SURE_SEVEN, preprocess_steps(bar_ran_off_the_top))
    assert (prediction.verdict, prediction.advice) == (PROBABLY, ADVICE_FOR_STROKES["off_pad"])
    # A stroke that runs over the edge comes back in near where it left: nothing of the digit is lost.
    over_the_edge = [[(60, 40), (120, 0)], [(126, 3), (220, 4), (130, 250)]]
    assert make_prediction(SURE_SEVEN, preprocess_steps(over_the_edge)).verdict == DIGIT
    # Nor is a drawing in one piece doubted: its bar on the edge was never off the pad.
    assert make_prediction(SURE_SEVEN, preprocess_steps([[(60, 0), (220, 0), (130, 250)]])).verdict == DIGIT
    # A refusal stays a refusal, with its own advice.
    refused = make_prediction(SURE_SEVEN, preprocess_steps(bar_ran_off_the_top), digit_score=0.1, threshold=0.5)
    assert (refused.verdict, refused.advice) == (NOT_A_DIGIT, ADVICE_FOR_STROKES["check"])


# Drawings that never left their canvas, though a stroke ends exactly on its edge before the next one: each was taken
# for a pen that ran off the pad and came back, "Probably ..." with the advice to draw smaller.
ON_THE_EDGE_ONLY = {
    # The browser gives y=0 on the top row of pixels: a 4's stem released there, then its arm and bar.
    "stem released on the top row": ([[(180, 250), (180, 120), (180, 0)], [(110, 20), (50, 160), (240, 160)]], 280),
    "bar drawn leftwards to the edge": ([[(220, 30), (0, 30)], [(220, 30), (120, 260)]], 280),
    "template 7 at full height": (template_strokes(7, "bar", height=1.0), 280),
    "template 1 at full height": (template_strokes(1, "flag and base", height=1.0), 280),
    "template 7 in the unit box": (TEMPLATES[7]["bar"], 1),
    # A UNIPEN 4 scaled to fill the canvas: its stem ends on the bottom edge, its next stroke starts at the top.
    "4 scaled to the canvas": ([[(93.5, 101.9), (150.9, 280.0)], [(149.8, 2.4), (218.8, 182.0)]], 280),
}


@pytest.mark.parametrize("name", ON_THE_EDGE_ONLY)
def test_a_drawing_that_only_touches_the_edge_did_not_run_off_the_pad(name):
    """Only a next piece that starts where a pen coming back in starts, near the edge it left by or one beside it,
    is a return (`preprocess._came_back_in`)."""
    strokes, canvas_size = ON_THE_EDGE_ONLY[name]
    steps = preprocess_steps(strokes, canvas_size, 20 * canvas_size / 280)
    assert make_prediction(SURE_SEVEN, steps).verdict == DIGIT


def test_a_pen_that_came_back_in_a_little_lower_is_not_doubted():
    """A 7 whose bar overshoots the right edge turns its corner out there and comes back in a little lower, 0.12 of
    its size from where it left: nothing of the 7 is lost, and it was "Probably a 7" with the advice to draw smaller.
    A 7 whose bar was drawn off the top comes back in 0.58 of its size away (`bar_ran_off_the_top` above)."""
    corner_outside = [[(84, 62), (280, 62)], [(277, 84), (126, 224)]]
    steps = preprocess_steps(corner_outside)
    assert 0.1 < steps.off_canvas_gap < 0.15
    assert make_prediction(SURE_SEVEN, steps).verdict == DIGIT


def test_a_slip_in_a_batchs_arguments_is_named_as_the_argument_not_as_picture_1():
    """A brush width of 0 was "picture 1 of 3: the brush width must be ...": without picture 1, picture 2 failed."""
    def uniform(batch):
        return np.full((len(batch), 10), 0.1, np.float32)

    predictor, drawings = BasePredictor(None, 1.0, uniform, uniform), [template_strokes(digit) for digit in (7, 1, 4)]
    for arguments, message in (
            ({"brush_width": 0}, "the brush width must be a number of pixels above 0 and at most the canvas size, "
                                 "280, got 0"),
            ({"canvas_size": 0}, "the canvas size must be a whole number of pixels from 1 to 6,324, got 0")):
        with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
            predictor.predict_batch(drawings, **arguments)
    # Strokes beyond their canvas are one picture's own slip.
    with pytest.raises(ConfigError, match=r"^picture 2 of 3: the strokes reach from x=10, y=10 to x=900, y=900"):
        predictor.predict_batch([drawings[0], [[(10, 10), (900, 900)]], drawings[2]])


def test_a_digit_has_its_article():
    assert [a_digit(digit) for digit in range(10)] == [
        "a 0", "a 1", "a 2", "a 3", "a 4", "a 5", "a 6", "a 7", "an 8", "a 9"]


def test_a_sure_answer_reaches_the_minimum_confidence():
    assert is_sure(MIN_CONFIDENCE) and not is_sure(MIN_CONFIDENCE - 1e-6)


def test_an_unsure_probability_is_never_shown_as_sure():
    """89.96% was shown as 90.0%, the sure answer's figure, beside the question mark."""
    assert [percentage(p) for p in (0.8996, 0.89951, 0.899, 0.61, 0.0004)] == ["89.9%", "89.9%", "89.9%", "61.0%",
                                                                                "0.0%"]
    assert [percentage(p) for p in (MIN_CONFIDENCE, 0.9996, np.float32(0.95))] == ["90.0%", "100.0%", "95.0%"]


def test_a_model_that_answers_nan_is_told_to_train_again_whatever_it_was_given():
    """A diverged model on the pad told the student, who had drawn a digit, to pass probabilities, not logits."""
    def nan(batch):
        return np.full((len(batch), 10), np.nan, np.float32)

    predictor, drawing = BasePredictor(None, 1.0, nan, nan), template_strokes(7)
    for answer in (lambda: predictor.predict(drawing), lambda: predictor.predict_batch([drawing]),
                   lambda: predictor.probabilities(np.zeros((1, 28, 28)))):
        with pytest.raises(ConfigError, match=r"training went wrong \(diverged\): train it again$") as refusal:
            answer()
        assert "logits" not in str(refusal.value)


def test_a_prediction_has_one_of_the_three_verdicts():
    """A misspelt verdict would fail only where the pad shows it, in a widget's callback."""
    fields = dict(digit=7, confidence=0.99, top3=((7, 0.99), (1, 0.01), (0, 0.0)), probabilities=SURE_SEVEN,
                  model_input=np.zeros((28, 28), np.float32))
    assert [Prediction(**fields, verdict=verdict).verdict for verdict in VERDICTS] == [DIGIT, PROBABLY, NOT_A_DIGIT]
    with pytest.raises(ConfigError, match="^a prediction's verdict is one of 'digit', 'probably a digit', 'not a "
                                          "digit', not 'probably'$"):
        Prediction(**fields, verdict="probably")


def test_a_relative_digit_check_path_typed_in_a_notebook_is_told_where_it_was_read_from(monkeypatch):
    """Notebooks run in notebooks/: "models/checks/digit_check.keras" is not found there, and the advice was to give
    exactly that path."""
    from numvision_lib.paths import PROJECT_ROOT
    from numvision_lib.prediction import digit_check_not_found

    monkeypatch.chdir(PROJECT_ROOT / "notebooks")
    message = digit_check_not_found(Path("models/checks/digit_check.keras"))
    assert message == ("models/checks/digit_check.keras: digit check not found. A relative path is read from the folder "
                       "this runs in (notebooks/), not from the project's: give '../models/checks/digit_check.keras', "
                       "or an absolute path")

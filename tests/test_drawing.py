"""The drawing pad driven through its real event handlers, without a browser."""
from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image

from numvision_lib.drawing import DrawingPad, ImageUploadPanel, render_panel
from numvision_lib.drawn_digits import template_strokes
from numvision_lib.predict import Predictor
from numvision_lib.preprocess import rasterise_strokes

DIGIT_SPAN = re.compile(r'<span class="numvision-digit">(\d)</span>')


@pytest.fixture(scope="module")
def predictor(shipped_model_path) -> Predictor:
    return Predictor.load(shipped_model_path)


@pytest.fixture
def pad(predictor) -> DrawingPad:
    return DrawingPad(predictor)


def shown_digits(pad: DrawingPad) -> list[int]:
    return [int(digit) for digit in DIGIT_SPAN.findall(pad.result.value)]


def send(pad: DrawingPad, event: str, **content) -> None:
    """Deliver a message exactly as the browser front end sends it to the canvas."""
    pad.canvas._handle_frontend_event(None, {"event": event, **content}, [])


def mouse_strokes(pad: DrawingPad, strokes) -> None:
    for first, *rest in strokes:
        send(pad, "mouse_down", x=first[0], y=first[1])
        for x, y in rest[:-1]:
            send(pad, "mouse_move", x=x, y=y)
        last = rest[-1] if rest else first
        send(pad, "mouse_up", x=last[0], y=last[1])


def assert_empty(pad: DrawingPad) -> None:
    assert pad.strokes == [] and pad.prediction is None
    assert '<span class="numvision-status">Draw a digit</span>' in pad.result.value
    assert "numvision-digit" not in pad.result.value


def test_dom_contract(pad):
    assert "numvision-pad" in pad.widget._dom_classes
    assert "numvision-canvas" in pad.canvas._dom_classes
    assert "numvision-result" in pad.result._dom_classes
    assert (pad.clear_button.description, pad.undo_button.description) == ("Clear", "Undo")
    assert "numvision-clear" in pad.clear_button._dom_classes
    assert "numvision-undo" in pad.undo_button._dom_classes
    assert (pad.canvas.width, pad.canvas.height) == (280, 280)
    assert (pad.canvas.layout.width, pad.canvas.layout.height) == ("280px", "280px")
    assert pad._repr_mimebundle_()["application/vnd.jupyter.widget-view+json"]["model_id"] == pad.widget.model_id


def test_blank_pad_says_draw_a_digit(pad):
    assert_empty(pad)


@pytest.mark.parametrize("digit", [0, 1, 4, 7])
def test_mouse_strokes_show_the_digit(pad, digit):
    mouse_strokes(pad, template_strokes(digit))
    assert shown_digits(pad) == [digit]
    assert "numvision-bars" in pad.result.value and "numvision-model-input" in pad.result.value
    assert pad.result.value.count("numvision-digit") == 1


def test_touch_strokes_show_the_digit(pad):
    for first, *rest in template_strokes(1, "flag"):
        send(pad, "touch_start", touches=[{"x": first[0], "y": first[1]}])
        for x, y in rest:
            send(pad, "touch_move", touches=[{"x": x, "y": y}])
        send(pad, "touch_end", touches=[])
    assert shown_digits(pad) == [1]


def test_moving_without_pressing_draws_nothing(pad):
    send(pad, "mouse_move", x=10, y=10)
    send(pad, "mouse_up", x=20, y=20)
    assert_empty(pad)


def test_leaving_the_canvas_ends_the_stroke(pad):
    send(pad, "mouse_down", x=140, y=30)
    send(pad, "mouse_move", x=140, y=250)
    send(pad, "mouse_out", x=140, y=290)
    assert pad.strokes == [[(140, 30), (140, 250)]]
    assert shown_digits(pad) == [1]
    send(pad, "mouse_move", x=50, y=50)  # the button is up now: no ink
    assert len(pad.strokes) == 1


def test_undo_removes_the_last_stroke(pad):
    seven_with_bar = template_strokes(7, "bar")
    pad.draw(seven_with_bar)
    assert len(pad.strokes) == 2
    pad.undo_button.click()
    assert pad.strokes == [list(point for point in seven_with_bar[0])]
    assert shown_digits(pad) == [7]
    pad.undo()
    assert_empty(pad)
    pad.undo()  # nothing left to undo: still fine
    assert_empty(pad)


def test_clear_empties_the_pad(pad):
    pad.draw(template_strokes(4))
    assert shown_digits(pad) == [4]
    pad.clear_button.click()
    assert_empty(pad)


def test_brush_width_changes_the_model_input(pad):
    # Both pens give strokes within MNIST's range of widths, so preprocessing keeps the difference.
    pad.brush.value = 24
    pad.draw(template_strokes(0))
    thin = pad.prediction.model_input
    pad.brush.value = 36
    assert pad.prediction.model_input.sum() > thin.sum() * 1.2
    assert shown_digits(pad) == [0]


def test_a_fat_pen_on_a_small_digit_keeps_its_loops(pad):
    pad.brush.value = 20
    small_eight = [[(x * 0.3 + 20, y * 0.3 + 20) for x, y in stroke] for stroke in template_strokes(8)]
    pad.draw(small_eight)
    assert shown_digits(pad) == [8]
    steps_input = pad.prediction.model_input
    assert (steps_input[8:20, 8:20] < 0.2).sum() > 10, "the loops stay open, not a filled blob"


def test_tiny_scribble_is_shown_as_uncertain(pad):
    pad.draw([[(100, 100), (106, 103), (102, 107)]])
    assert len(shown_digits(pad)) == 1
    assert '<span class="numvision-uncertain">' in pad.result.value
    assert "Draw the digit larger." in pad.result.value


def test_render_panel_escapes_messages():
    panel = render_panel(None, "a <b> error")
    assert "a &lt;b&gt; error" in panel and "numvision-digit" not in panel


def test_upload_panel_shows_a_photo_of_paper(predictor):
    upload = ImageUploadPanel(predictor)
    paper = 235 - rasterise_strokes(template_strokes(4), 280, 20) * 0.8  # dark ink on paper
    buffer = io.BytesIO()
    Image.fromarray(paper.astype(np.uint8)).save(buffer, format="JPEG")
    upload.show_files(({"name": "four.jpg", "content": memoryview(buffer.getvalue())},))
    assert DIGIT_SPAN.findall(upload.result.value) == ["4"]


def test_upload_panel_explains_a_bad_file(predictor):
    upload = ImageUploadPanel(predictor)
    assert upload.show(b"not an image", name="homework.pdf") is None
    assert "homework.pdf: not an image file" in upload.result.value


def test_added_panels_and_prediction_listeners(pad):
    import ipywidgets as widgets

    heard = []
    pad.on_prediction(heard.append)
    extra = widgets.HTML("extra")
    pad.add_panel(extra)
    assert pad.side.children == (pad.result, extra)
    pad.draw(template_strokes(3))
    assert heard[-1] is pad.prediction and heard[-1].digit == 3
    pad.clear()
    assert heard[-1] is None

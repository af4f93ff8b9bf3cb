"""The drawing pad driven through its real event handlers, without a browser."""
from __future__ import annotations

import base64
import html
import io
import math
import re

import numpy as np
import pytest
from ipycanvas.canvas import COMMANDS
from PIL import Image

from numvision_lib.drawing import (ANSWER_WIDTH, MAX_BRUSH_WIDTH, MIN_BRUSH_WIDTH, PANEL_STATES, PHOTO_DISPLAY_SIZE,
                                   VERDICT_STATES, DrawingPad, ImageUploadPanel, render_panel)
from numvision_lib.drawn_digits import template_strokes
from numvision_lib.errors import ConfigError, ImageError
from numvision_lib.prediction import (ADVICE_FOR_STROKES, DIGIT, NOT_A_DIGIT, PROBABLY, VERDICTS, Prediction, a_digit,
                                      is_sure)
from numvision_lib.preprocess import rasterise_strokes

DIGIT_SPAN = re.compile(r'<span class="numvision-digit">(\d)</span>')
STATE = re.compile(r'<div class="numvision-panel" data-state="([a-z-]+)"')
BAR_PERCENT = re.compile(r'font-variant-numeric:tabular-nums">([^<]*)</span>')


@pytest.fixture
def pad(predictor) -> DrawingPad:
    pad = DrawingPad(predictor)
    send(pad, "client_ready")  # as the browser does once it has created the canvas
    return pad


def shown_digits(pad: DrawingPad) -> list[int]:
    return [int(digit) for digit in DIGIT_SPAN.findall(pad.result.value)]


def send(pad: DrawingPad, event: str, **content) -> None:
    """Deliver a message exactly as the browser front end sends it to the canvas."""
    pad.canvas._handle_frontend_event(None, {"event": event, **content}, [])


def touch(pad: DrawingPad, event: str, *points) -> None:
    """A touch event as ipycanvas' front end sends it: the (x, y) of every touch that is down."""
    send(pad, event, touches=[{"x": x, "y": y} for x, y in points])


def pointer_enters(pad: DrawingPad, buttons: int) -> None:
    """Deliver the DOM `mouseenter` event as ipyevents' front end sends it (`buttons` 1: primary held)."""
    pad.pointer_watcher._handle_mouse_msg(None, {"type": "mouseenter", "buttons": buttons}, [])


def panel_state(html_text: str) -> str:
    (state,) = STATE.findall(html_text)
    return state


def mouse_strokes(pad: DrawingPad, strokes) -> None:
    for first, *rest in strokes:
        send(pad, "mouse_down", x=first[0], y=first[1])
        for x, y in rest[:-1]:
            send(pad, "mouse_move", x=x, y=y)
        last = rest[-1] if rest else first
        send(pad, "mouse_up", x=last[0], y=last[1])


def assert_empty(pad: DrawingPad) -> None:
    assert pad.strokes == [] and pad.prediction is None
    assert panel_state(pad.result.value) == "empty"
    assert '<span class="numvision-status">Draw a digit</span>' in pad.result.value
    assert "numvision-digit" not in pad.result.value


def test_dom_contract(pad):
    assert "numvision-pad" in pad.widget._dom_classes
    assert "numvision-canvas" in pad.canvas._dom_classes
    assert pad.pointer_watcher.source is pad.canvas and pad.pointer_watcher.watched_events == ["mouseenter"]
    assert "numvision-result" in pad.result._dom_classes
    assert (pad.clear_button.description, pad.undo_button.description) == ("Clear", "Undo")
    assert "numvision-clear" in pad.clear_button._dom_classes
    assert "numvision-undo" in pad.undo_button._dom_classes
    assert (pad.canvas.width, pad.canvas.height) == (280, 280)
    assert (pad.canvas.layout.width, pad.canvas.layout.height) == ("280px", "280px")
    assert pad._repr_mimebundle_()["application/vnd.jupyter.widget-view+json"]["model_id"] == pad.widget.model_id


def test_blank_pad_says_draw_a_digit(pad):
    assert_empty(pad)


def test_pad_says_it_waits_until_the_kernel_handles_its_first_event(predictor):
    pad = DrawingPad(predictor)
    assert panel_state(pad.result.value) == "waiting" and "Waiting for Python" in pad.result.value
    assert not pad.ready
    send(pad, "client_ready")
    assert pad.ready
    assert_empty(pad)


def test_a_pad_in_an_app_does_not_announce_waiting(predictor):
    """In Voilà the page appears once the kernel is free: the pad says "Draw a digit" from the start, on the
    canvas too, whether or not the page hears the answer to its first message."""
    pad = DrawingPad(predictor, announce_waiting=False)
    assert_empty(pad)

    def writes_on_the_canvas(**options) -> bool:
        batches = sent_messages(pad, lambda: DrawingPad(predictor, **options))  # one canvas manager for all
        names = [command[0] for batch in batches for command in batch]
        assert COMMANDS["fillRect"] in names  # the black square, in both cases
        return COMMANDS["fillText"] in names

    assert writes_on_the_canvas() and not writes_on_the_canvas(announce_waiting=False)
    send(pad, "client_ready")
    assert pad.ready
    assert_empty(pad)


def test_a_stroke_drawn_while_waiting_also_ends_the_wait(predictor):
    pad = DrawingPad(predictor)  # no client_ready: an old front end, or one whose message came late
    mouse_strokes(pad, template_strokes(1))
    assert pad.ready and shown_digits(pad) == [1]


def sent_while(action, sender, method: str, keep) -> list:
    """What `sender.method` would have sent to the browser while `action()` runs: `keep(*arguments)` of each call,
    where it is not None. Nothing is sent meanwhile."""
    sent = []

    def record(*arguments, **keywords):
        kept = keep(*arguments, **keywords)
        if kept is not None:
            sent.append(kept)
    original = getattr(sender, method)
    setattr(sender, method, record)
    try:
        action()
    finally:
        setattr(sender, method, original)
    return sent


def sent_messages(pad: DrawingPad, action) -> list[list]:
    """The command batches the canvas manager sends to the browser while `action()` runs."""
    return sent_while(action, pad.canvas._canvas_manager, "_send_custom", lambda commands, buffers=None: commands)


def sent_answers(pad: DrawingPad, action) -> list[str]:
    """The answer column's contents that the kernel sends to the browser while `action()` runs."""
    def answer(data=None, metadata=None, buffers=None):
        return data["state"]["value"] if data["method"] == "update" and "value" in data["state"] else None
    return sent_while(action, pad.result.comm, "send", answer)


def test_clear_sends_the_answer_even_when_it_has_not_changed(pad):
    """A page can miss a change (Voilà under load missed the first answer and said "Waiting for Python" for
    good): every action sends the answer column again, so Clear puts right whatever the browser shows."""
    assert sent_answers(pad, pad.clear_button.click) == [pad.result.value]
    assert_empty(pad)
    mouse_strokes(pad, template_strokes(3))
    assert sent_answers(pad, pad.undo_button.click) == [pad.result.value]
    assert_empty(pad)


def test_a_recreated_canvas_gets_every_stroke_again(pad):
    """After a reload the browser's canvas manager is new and knows no current canvas: the redraw must
    name the canvas before its first drawing command (ipycanvas issue #322)."""
    pad.draw(template_strokes(7))
    (batch,) = sent_messages(pad, lambda: send(pad, "client_ready"))  # one message: the whole redraw
    names = [command[0] for command in batch]
    assert names[0] == COMMANDS["switchCanvas"], "the redraw must start by naming its canvas"
    assert COMMANDS["fillRect"] in names and names.count(COMMANDS["strokeLines"]) == len(pad.strokes)


def test_every_message_names_its_canvas(pad):
    """A page opened mid-stroke (a second tab) must be able to draw the very next move."""
    send(pad, "mouse_down", x=100, y=100)
    batches = sent_messages(pad, lambda: [send(pad, "mouse_move", x=100 + i, y=120) for i in range(3)])
    assert len(batches) == 3 and all(batch[0][0] == COMMANDS["switchCanvas"] for batch in batches)


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


def test_leaving_the_canvas_answers_at_once_and_the_ink_reaches_the_edge(pad):
    send(pad, "mouse_down", x=140, y=30)
    send(pad, "mouse_move", x=140, y=250)
    send(pad, "mouse_out", x=140, y=290)
    assert pad.strokes == [[(140, 30), (140, 250), (140, 280)]]
    assert shown_digits(pad) == [1]  # the button may be released out there: answer now


def test_coming_back_with_the_button_up_draws_nothing(pad):
    send(pad, "mouse_down", x=140, y=30)
    send(pad, "mouse_move", x=140, y=250)
    send(pad, "mouse_out", x=140, y=290)
    pointer_enters(pad, buttons=0)  # released outside
    send(pad, "mouse_move", x=50, y=50)
    send(pad, "mouse_up", x=60, y=60)
    assert len(pad.strokes) == 1 and shown_digits(pad) == [1]


def test_a_stroke_that_leaves_and_comes_back_held_goes_on(pad):
    """A 7 whose bar overshoots the right edge: the diagonal drawn after coming back belongs to it."""
    send(pad, "mouse_down", x=70, y=60)
    send(pad, "mouse_move", x=200, y=60)
    send(pad, "mouse_out", x=281, y=62)
    pointer_enters(pad, buttons=1)
    for x, y in [(279, 70), (240, 100), (180, 160), (130, 230)]:
        send(pad, "mouse_move", x=x, y=y)
    send(pad, "mouse_up", x=125, y=240)
    assert pad.strokes == [[(70, 60), (200, 60), (280, 62)],
                           [(279, 70), (240, 100), (180, 160), (130, 230), (125, 240)]]
    assert shown_digits(pad) == [7]
    pad.undo()  # one stroke, in two pieces: Undo takes both
    assert_empty(pad)


def test_touches_that_leave_the_canvas_stop_at_the_edge_and_go_on_when_they_come_back(pad):
    """Browsers keep sending a finger's moves to the canvas it started on, from outside it too. A 7 whose bar
    overshoots the right edge by 20 pixels: the ink stops at the edge, as the mouse's does, and the diagonal drawn
    after coming back belongs to the same stroke. The point outside was kept: with a brush thinner than the
    overshoot the drawing was refused as "beyond the 280-pixel canvas: give the canvas_size"."""
    touch(pad, "touch_start", (70, 60))
    for point in [(200, 60), (300, 62), (279, 70), (130, 230)]:
        touch(pad, "touch_move", point)
    touch(pad, "touch_end")
    assert pad.strokes == [[(70, 60), (200, 60), (280, 62)], [(279, 70), (130, 230)]]
    assert shown_digits(pad) == [7]
    pad.brush.value = 10
    assert panel_state(pad.result.value) == "digit" and shown_digits(pad) == [7]
    pad.undo()  # one stroke, in two pieces: Undo takes both
    assert_empty(pad)


def test_a_finger_lifted_outside_the_canvas_ends_the_stroke_at_the_edge(pad):
    """A 1 drawn top to bottom, the finger sliding off the bottom edge (once a developer's error on the pad)."""
    touch(pad, "touch_start", (140, 40))
    for y in range(60, 400, 40):
        touch(pad, "touch_move", (140, y))
    assert shown_digits(pad) == [1]  # the finger may be lifted out there: answer now
    touch(pad, "touch_end")
    assert pad.strokes == [[(140, 40), *((140, y) for y in range(60, 280, 40)), (140, 280)]]
    touch(pad, "touch_start", (100, 60))  # the next touch starts a stroke of its own
    touch(pad, "touch_move", (180, 60))
    touch(pad, "touch_end")
    assert len(pad.strokes) == 2 and pad.strokes[1] == [(100, 60), (180, 60)]


def test_a_palm_on_the_pad_neither_starts_nor_ends_the_stroke(pad):
    """A 7 drawn with a finger; half-way a palm lands on the corner and lifts again. The palm ended the stroke, and
    the rest of the 7 was lost: "not a digit"."""
    palm = (270, 270)
    touch(pad, "touch_start", (60, 60))
    touch(pad, "touch_move", (140, 60))
    touch(pad, "touch_move", (220, 60))
    touch(pad, "touch_start", (220, 60), palm)  # the browser lists every touch that is down, the finger first
    touch(pad, "touch_move", (190, 120), palm)
    touch(pad, "touch_end", (190, 120))  # the palm lifts: the finger is still down
    touch(pad, "touch_move", (160, 180))
    touch(pad, "touch_move", (130, 250))
    touch(pad, "touch_end")
    assert pad.strokes == [[(60, 60), (140, 60), (220, 60), (190, 120), (160, 180), (130, 250)]]
    assert shown_digits(pad) == [7]


def test_a_palm_that_stays_down_after_the_finger_lifts_neither_draws_nor_holds_the_stroke(pad):
    """The browser lists every touch on the page, without telling them apart. A 1 drawn with a finger while a palm
    rests on the pad: the stroke ends when the finger lifts, the palm's moves draw nothing, and the next finger
    starts a stroke of its own. Following the first touch listed, the palm drew a line into the 1 ("not a digit")
    and the next stroke was lost."""
    palm = (260, 260)
    touch(pad, "touch_start", (150, 60))
    touch(pad, "touch_move", (150, 150))
    touch(pad, "touch_start", (150, 150), palm)
    touch(pad, "touch_move", (150, 230), palm)
    touch(pad, "touch_end", palm)  # the finger lifts, the palm stays
    assert pad.strokes == [[(150, 60), (150, 150), (150, 230)]] and shown_digits(pad) == [1]
    touch(pad, "touch_move", (262, 261))  # the palm moves
    assert pad.strokes == [[(150, 60), (150, 150), (150, 230)]]
    touch(pad, "touch_start", (262, 261), (100, 100))  # the next finger lands, listed after the palm
    touch(pad, "touch_move", (262, 261), (180, 100))
    touch(pad, "touch_end", (262, 261))
    assert pad.strokes[1] == [(100, 100), (180, 100)]


def test_a_finger_lands_while_a_hand_rests_outside_the_canvas(pad):
    hand = (150, 420)  # on the page below the pad: the browser lists it too
    touch(pad, "touch_start", hand, (140, 40))
    for y in range(80, 260, 40):
        touch(pad, "touch_move", hand, (140, y))
    touch(pad, "touch_end", hand)
    assert pad.strokes == [[(140, 40), *((140, y) for y in range(80, 260, 40))]] and shown_digits(pad) == [1]


def test_a_page_reloaded_while_a_finger_drew_does_not_block_the_next_stroke(pad):
    touch(pad, "touch_start", (150, 60))
    touch(pad, "touch_move", (150, 230))  # the page reloads: this touch never ends
    pad.client_ready()
    touch(pad, "touch_start", (100, 100))
    touch(pad, "touch_move", (180, 100))
    touch(pad, "touch_end")
    assert pad.strokes[-1] == [(100, 100), (180, 100)]


def test_a_palm_that_lands_while_the_finger_is_outside_starts_nothing(pad):
    touch(pad, "touch_start", (70, 60))
    touch(pad, "touch_move", (200, 60))
    touch(pad, "touch_move", (300, 62))  # the finger slides off the right edge
    touch(pad, "touch_start", (300, 62), (150, 270))  # a palm lands on the pad
    touch(pad, "touch_cancel")  # the browser gives up on both touches
    assert pad.strokes == [[(70, 60), (200, 60), (280, 62)]]
    touch(pad, "touch_move", (150, 200))  # no touch is down any more: nothing comes back
    assert len(pad.strokes) == 1


def test_a_stroke_that_wobbles_along_the_edge_is_no_separate_dots(pad):
    """A large 7 whose bar runs along the top edge: the pointer leaves and comes back with the button held four
    times, so the one stroke is kept as five pieces, three of them short. They were counted as separate dots, and
    a 7 the network read at 100% was "not a digit"."""
    send(pad, "mouse_down", x=30, y=6)
    for x in range(40, 90, 10):
        send(pad, "mouse_move", x=x, y=4)
    for k in range(4):
        send(pad, "mouse_out", x=90 + 35 * k, y=-2)
        pointer_enters(pad, buttons=1)
        send(pad, "mouse_move", x=100 + 35 * k, y=1)
        send(pad, "mouse_move", x=106 + 35 * k, y=2)
    for x in range(230, 261, 10):
        send(pad, "mouse_move", x=x, y=4)
    for t in range(1, 11):
        send(pad, "mouse_move", x=260 - 15 * t, y=4 + 25 * t)
    send(pad, "mouse_up", x=110, y=254)
    assert [len(piece) for piece in pad.strokes] == [7, 3, 3, 3, 17]
    assert pad.prediction.verdict == DIGIT and shown_digits(pad) == [7], pad.prediction.to_dict()
    pad.undo()  # one stroke: Undo takes every piece
    assert_empty(pad)


def seven_with_its_bar_off_the_top(pad: DrawingPad, bar_out_there: bool) -> None:
    """A 7 drawn with the mouse from the top left corner, out over the top edge: its bar is drawn out there and the
    pointer comes back in at the bar's end, or (`bar_out_there` False) it comes back in at once and the bar is drawn on
    the pad."""
    send(pad, "mouse_down", x=40, y=12)
    send(pad, "mouse_out", x=46, y=-4)
    pointer_enters(pad, buttons=1)
    bar = [(226, 4)] if bar_out_there else [(50, 3), (140, 4), (226, 4)]
    for x, y in [*bar, (200, 60), (170, 130), (140, 200)]:
        send(pad, "mouse_move", x=x, y=y)
    send(pad, "mouse_up", x=130, y=250)


def test_a_digit_that_ran_off_the_pad_is_only_probably_read_and_says_why(pad):
    """Drawn too large, a digit runs off the pad and what is left on it was read with confidence, with no word on why:
    a 7 whose bar ran off the top was "1, 99.7% sure". The pad knows: the pointer came back in far from where it
    left."""
    seven_with_its_bar_off_the_top(pad, bar_out_there=True)
    assert pad.strokes == [[(40, 12), (46, 0)], [(226, 4), (200, 60), (170, 130), (140, 200), (130, 250)]]
    assert (pad.prediction.verdict, pad.prediction.advice) == (PROBABLY, ADVICE_FOR_STROKES["off_pad"])
    assert is_sure(pad.prediction.confidence), "the network is as sure as it was: the drawing is in doubt"
    assert panel_state(pad.result.value) == "probably"
    # Not "Probably a 1: it is small", beside the advice to draw it smaller.
    assert f'<div class="numvision-confidence">Probably {a_digit(pad.prediction.digit)}</div>' in pad.result.value
    assert html.escape(ADVICE_FOR_STROKES["off_pad"]) in pad.result.value
    # A stroke that only runs over the edge and comes back where it left is no reason to doubt the drawing.
    pad.clear()
    seven_with_its_bar_off_the_top(pad, bar_out_there=False)
    assert len(pad.strokes) == 2 and pad.prediction.advice == ""


def mouse_path(pad: DrawingPad, strokes, step_px: float = 6.0) -> None:
    """Draw `strokes`, in fractions of the canvas, as the browser test's mouse does (`LabPage.draw`): each segment
    walked in steps of about `step_px` pixels, with the events the browser sends the canvas: `mouse_out` at the first
    point outside, `mouseenter` with the button held and a move at the first point back in, `mouse_up` only inside."""
    def inside(x: float, y: float) -> bool:
        return 0 <= x < pad.size and 0 <= y < pad.size

    for stroke in strokes:
        points = [(x * pad.size, y * pad.size) for x, y in stroke]
        send(pad, "mouse_down", x=points[0][0], y=points[0][1])
        was_inside = True
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            steps = max(1, round(math.dist((x0, y0), (x1, y1)) / step_px))
            for step in range(1, steps + 1):
                x, y = x0 + (x1 - x0) * step / steps, y0 + (y1 - y0) * step / steps
                if inside(x, y) and not was_inside:
                    pointer_enters(pad, buttons=1)
                if inside(x, y) or was_inside:
                    send(pad, "mouse_move" if inside(x, y) else "mouse_out", x=x, y=y)
                was_inside = inside(x, y)
        if was_inside:
            send(pad, "mouse_up", x=points[-1][0], y=points[-1][1])


# The browser test's 7 whose bar overshoots the right edge (test_browser_drawing.py): the pointer turns the bar's
# corner outside the pad and comes back in 22 pixels lower to draw the diagonal.
SEVEN_OVERSHOOTING = [[(0.3, 0.22), (0.99, 0.22), (1.12, 0.22), (1.12, 0.3), (0.9, 0.3), (0.45, 0.8)]]


def test_a_seven_whose_corner_turned_outside_the_pad_is_a_sure_seven(pad):
    """Nothing of the 7 was lost, yet the pad said "Probably a 7: Part of the digit ran off the pad"."""
    mouse_path(pad, SEVEN_OVERSHOOTING)
    assert len(pad.strokes) == 2 and pad.strokes[0][-1][0] == pad.size, "it left by the right edge and came back"
    assert (pad.prediction.verdict, pad.prediction.digit, pad.prediction.advice) == (DIGIT, 7, "")
    assert panel_state(pad.result.value) == "digit"


def test_a_stroke_released_on_the_top_row_did_not_run_off_the_pad(pad):
    """The browser gives y=0 on the canvas's top row of pixels: a 4 whose stem was released there, then its arm and
    bar drawn, was "Probably a 4" with the advice to draw it smaller, as if the pen had left there and come back."""
    mouse_strokes(pad, [[(180, 250), (180, 120), (180, 0)], [(110, 20), (50, 160), (240, 160)]])
    assert pad.strokes[0][-1] == (180, 0)
    assert (pad.prediction.verdict, pad.prediction.digit, pad.prediction.advice) == (DIGIT, 4, "")


@pytest.mark.parametrize("digit, style", [(7, "bar"), (1, "flag and base")])
def test_a_template_at_full_height_did_not_run_off_the_pad(pad, digit, style):
    """`template_strokes` allows a height of 1: the drawing touches the edges, one stroke ending on one."""
    assert pad.draw(template_strokes(digit, style, height=1.0)).advice == ""
    assert (pad.prediction.verdict, pad.prediction.digit) == (DIGIT, digit)


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


def test_a_small_three_in_a_corner_with_the_default_pen(pad):
    assert pad.brush.value == 20
    small_three = [[(x * 0.3 + 12, y * 0.3 + 12) for x, y in stroke] for stroke in template_strokes(3)]
    pad.draw(small_three)
    assert shown_digits(pad) == [3]
    if pad.prediction.verdict != DIGIT:  # the digit is small: advice, if any, must say what to do
        assert "larger" in pad.prediction.advice or "thinner" in pad.prediction.advice


def test_a_tiny_drawing_is_probably_a_digit_with_advice(pad):
    pad.draw([[(x * 0.14 + 100, y * 0.14 + 100) for x, y in stroke] for stroke in template_strokes(3)])
    assert pad.prediction.verdict == PROBABLY
    assert panel_state(pad.result.value) == "probably"
    assert len(shown_digits(pad)) == 1 and '<span class="numvision-question"' in pad.result.value
    runner_up, _ = pad.prediction.runner_up
    other = ("no other digit comes close" if is_sure(pad.prediction.confidence)  # only its size is in doubt
             else f"or perhaps {a_digit(runner_up)} (")
    assert f'<div class="numvision-runner-up">{other}' in pad.result.value
    assert '<div class="numvision-advice"' in pad.result.value and pad.prediction.advice in pad.result.value


def test_a_long_dash_is_not_a_digit(pad):
    pad.draw([[(20, 140), (90, 130), (160, 150), (260, 140)]])
    assert pad.prediction.verdict == NOT_A_DIGIT
    assert panel_state(pad.result.value) == "not-a-digit"
    assert shown_digits(pad) == [] and "?" not in re.sub(r"<[^>]*>", "", pad.result.value)
    assert "That doesn&#x27;t look like a single digit." in pad.result.value
    assert pad.prediction.advice and html.escape(pad.prediction.advice) in pad.result.value


def _prediction(verdict: str, advice: str = "") -> Prediction:
    probabilities = np.full(10, 0.01, dtype=np.float32)
    probabilities[7], probabilities[1] = 0.61, 0.31
    return Prediction(digit=7, confidence=0.61, top3=((7, 0.61), (1, 0.31), (0, 0.01)),
                      probabilities=probabilities, model_input=np.zeros((28, 28), np.float32),
                      verdict=verdict, advice=advice)


@pytest.mark.parametrize("verdict, state, digits", [
    (DIGIT, "digit", ["7"]), (PROBABLY, "probably", ["7"]), (NOT_A_DIGIT, "not-a-digit", []),
])
def test_every_state_has_the_same_fixed_frame(verdict, state, digits):
    panel = render_panel(_prediction(verdict, advice="Draw the digit larger."))
    assert panel_state(panel) == state and DIGIT_SPAN.findall(panel) == digits
    assert f'<div class="numvision-answer" style="width:{ANSWER_WIDTH}px;flex:none">' in panel
    assert panel.count('class="numvision-bar"') == 10
    assert ('class="numvision-question"' in panel) == (state == "probably")
    assert ('class="numvision-runner-up"' in panel) == (state == "probably")
    assert '<div class="numvision-advice"' in panel


@pytest.mark.parametrize("state", ["empty", "waiting", "error"])
def test_panels_without_a_prediction_keep_the_frame_and_escape_messages(state):
    panel = render_panel(None, "a <b> error", state=state)
    assert panel_state(panel) == state and "a &lt;b&gt; error" in panel and "numvision-digit" not in panel
    assert panel.count('class="numvision-bar"') == 10 and "%</span>" not in panel  # tracks only, no figures


@pytest.mark.parametrize("digit, confidence, line, other, bar", [
    (7, 0.61, "Probably a 7 (61.0% sure)", "or perhaps an 8 (4.3%)", "61.0%"),
    (8, 0.61, "Probably an 8 (61.0% sure)", "or perhaps a 9 (4.3%)", "61.0%"),
    # Just short of sure: "(90.0% sure)" was the sure answer's figure beside the question mark, and the bar beside the
    # sentence still showed it.
    (4, 0.8996, "Probably a 4 (89.9% sure)", "or perhaps a 5 (1.1%)", "89.9%"),
    # Sure, and still "probably": the drawing is doubted (its advice says why), which "Probably an 8 (100.0% sure)"
    # contradicted; and "or perhaps a 9 (0.0%)" offered a digit without a chance.
    (8, 0.9996, "Probably an 8", "no other digit comes close", "100.0%"),
])
def test_the_probably_line_says_why_it_is_unsure(digit, confidence, line, other, bar):
    probabilities = np.full(10, (1 - confidence) / 9)
    probabilities[digit] = confidence
    runner_up = (digit + 1) % 10
    prediction = Prediction(digit=digit, confidence=confidence,
                            top3=((digit, confidence), (runner_up, probabilities[runner_up]), (0, 0.0)),
                            probabilities=probabilities, model_input=np.zeros((28, 28), np.float32),
                            verdict=PROBABLY, advice="Draw the digit larger.")
    panel = render_panel(prediction)
    assert f'<div class="numvision-confidence">{line}</div>' in panel
    assert f'<div class="numvision-runner-up">{other}</div>' in panel
    assert BAR_PERCENT.findall(panel)[digit] == bar
    assert '<div class="numvision-advice" style="color:#b35900;margin-top:4px">Draw the digit larger.</div>' in panel


def test_panel_states_are_checked():
    assert set(PANEL_STATES) == {"digit", "probably", "not-a-digit", "empty", "waiting", "error"}
    assert set(VERDICT_STATES) == set(VERDICTS), "every verdict has its state"
    with pytest.raises(ConfigError, match="not 'digit'"):
        render_panel(None, "no prediction", state="digit")


def test_upload_panel_shows_a_photo_of_paper(predictor):
    upload = ImageUploadPanel(predictor)
    paper = 235 - rasterise_strokes(template_strokes(4), 280, 20) * 0.8  # dark ink on paper
    buffer = io.BytesIO()
    Image.fromarray(paper.astype(np.uint8)).save(buffer, format="JPEG")
    assert 'class="numvision-photo"' not in upload.photo.value  # an empty frame before the upload
    upload.show_files(({"name": "four.jpg", "content": memoryview(buffer.getvalue())},))
    assert DIGIT_SPAN.findall(upload.result.value) == ["4"]
    thumbnail = re.search(r'<img class="numvision-photo" src="data:image/png;base64,([^"]+)"', upload.photo.value)
    photo = Image.open(io.BytesIO(base64.b64decode(thumbnail.group(1))))
    assert photo.size == (PHOTO_DISPLAY_SIZE, PHOTO_DISPLAY_SIZE) and photo.mode == "RGB"
    assert abs(np.asarray(photo.convert("L"), dtype=float)[5, 5] - 235) < 8, "the photo itself: light paper"


def test_upload_panel_keeps_a_colour_photo_in_colour(predictor):
    upload = ImageUploadPanel(predictor)
    paper = np.stack([235 - rasterise_strokes(template_strokes(2), 400, 30) * 0.8] * 3, axis=-1)
    paper[..., 2] = 180  # yellowish paper
    upload.show(Image.fromarray(paper.astype(np.uint8)).resize((300, 400)))
    thumbnail = re.search(r'base64,([^"]+)" width="(\d+)" height="(\d+)"', upload.photo.value)
    assert (int(thumbnail.group(2)), int(thumbnail.group(3))) == (120, 160)  # the aspect ratio is kept
    red, green, blue = Image.open(io.BytesIO(base64.b64decode(thumbnail.group(1)))).getpixel((3, 3))
    assert blue < red - 30


@pytest.mark.parametrize("ink, background", [(255, 0), (0, 255)], ids=["white ink", "black ink"])
def test_a_transparent_upload_is_shown_on_the_background_it_is_read_on(predictor, ink, background):
    """White ink on a transparent background is read on black, and was shown on the notebook's white page: an
    empty frame beside a confident 7. (Black ink is read on white, which a dark theme's page is not.)"""
    pixels = np.zeros((300, 300, 4), np.uint8)
    pixels[..., :3] = ink
    pixels[..., 3] = rasterise_strokes(template_strokes(7), 300, 18)  # the ink alone is opaque
    upload = ImageUploadPanel(predictor)
    assert upload.show(_png(pixels), name="white_pen.png").digit == 7
    thumbnail = re.search(r'<img class="numvision-photo" src="data:image/png;base64,([^"]+)"', upload.photo.value)
    photo = np.asarray(Image.open(io.BytesIO(base64.b64decode(thumbnail.group(1)))).convert("L"), dtype=float)
    assert photo.shape == (PHOTO_DISPLAY_SIZE, PHOTO_DISPLAY_SIZE)
    assert photo[2, 2] == background and np.abs(photo - background).max() > 200, "the ink shows on its background"


def test_upload_panel_explains_a_bad_file_in_plain_words(predictor):
    upload = ImageUploadPanel(predictor)
    assert upload.show(b"not an image", name="homework.pdf") is None
    assert panel_state(upload.result.value) == "error"
    assert "homework.pdf is not a picture" in upload.result.value and "PNG or JPEG" in upload.result.value
    assert "Pillow" not in upload.result.value and 'class="numvision-photo"' not in upload.photo.value


def test_upload_panel_shows_the_photo_even_when_no_digit_is_found(predictor):
    upload = ImageUploadPanel(predictor)
    buffer = io.BytesIO()
    Image.new("L", (200, 150), 230).save(buffer, format="PNG")  # an empty page
    assert upload.show(buffer.getvalue(), name="page.png") is None
    assert panel_state(upload.result.value) == "error" and "blank" in upload.result.value
    assert 'class="numvision-photo"' in upload.photo.value


def _upside_down_photo_of_a_six() -> bytes:
    """A 6 as a phone held upside down saves it: stored turned by 180 degrees (a 9), with EXIF orientation 3."""
    exif = Image.Exif()
    exif[0x0112] = 3  # Orientation: rotate 180 to show
    buffer = io.BytesIO()
    six = 255 - rasterise_strokes(template_strokes(6), 280, 20)
    Image.fromarray(six).rotate(180).save(buffer, format="JPEG", quality=95, exif=exif)
    return buffer.getvalue()


def test_upload_panel_reads_and_shows_a_pil_image_upright_as_its_file(predictor):
    photo = _upside_down_photo_of_a_six()
    by_file, as_image = ImageUploadPanel(predictor), ImageUploadPanel(predictor)
    by_file.show(photo, name="six.jpg")
    # Given as Image.open, it was read as stored: a 9 as sure as the file's 6.
    as_image.show(Image.open(io.BytesIO(photo)))
    assert by_file.prediction.digit == as_image.prediction.digit == 6
    np.testing.assert_array_equal(as_image.prediction.model_input, by_file.prediction.model_input)
    assert as_image.photo.value == by_file.photo.value, "the thumbnail shows the photo upright too"


def test_upload_panel_explains_a_pil_image_that_cannot_be_read(predictor, tmp_path):
    path = tmp_path / "digit.png"
    Image.fromarray(rasterise_strokes(template_strokes(7), 280, 20)).save(path)
    with Image.open(path) as closed:
        pass
    upload = ImageUploadPanel(predictor)
    # A raw AssertionError, raised out of the panel.
    assert upload.show(closed) is None
    assert panel_state(upload.result.value) == "error" and "was closed before it was read" in upload.result.value
    path.write_bytes(path.read_bytes()[:300])
    assert upload.show(Image.open(path)) is None  # a raw OSError
    assert "digit.png looks damaged or incomplete" in upload.result.value


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


def test_a_stray_mark_is_not_a_digit(pad):
    pad.draw([[(100, 100), (106, 103), (102, 107)]])
    assert (pad.prediction.verdict, pad.prediction.advice) == (NOT_A_DIGIT, ADVICE_FOR_STROKES["mark"])


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("height, width", [(500, 1), (1, 500)])
def test_upload_panel_shows_a_picture_one_pixel_thin_and_says_it_is_too_small(predictor, height, width):
    upload = ImageUploadPanel(predictor)
    assert upload.show(_png(np.zeros((height, width), np.uint8)), name="line.png") is None
    assert panel_state(upload.result.value) == "error" and "too small to hold a digit" in upload.result.value
    thumbnail = re.search(r'<img class="numvision-photo" src="data:image/png;base64,([^"]+)"', upload.photo.value)
    assert Image.open(io.BytesIO(base64.b64decode(thumbnail.group(1)))).size == (
        max(1, width * PHOTO_DISPLAY_SIZE // 500), max(1, height * PHOTO_DISPLAY_SIZE // 500))


def test_upload_panel_names_a_colour_format_it_cannot_read(predictor):
    upload = ImageUploadPanel(predictor)
    buffer = io.BytesIO()
    Image.new("LAB", (100, 100)).save(buffer, format="TIFF")
    assert upload.show(buffer.getvalue(), name="scan.tif") is None
    assert panel_state(upload.result.value) == "error"
    assert "colour format (LAB) cannot be read: save it as PNG or JPEG" in html.unescape(upload.result.value)


def test_an_empty_stroke_draws_nothing(pad):
    assert pad.draw([[]]) is None
    assert_empty(pad)
    assert pad.draw([[], *template_strokes(7), []]).digit == 7


def test_numpy_strokes_are_drawn_and_the_canvas_keeps_working(predictor):
    """NumPy numbers cannot be sent to the browser: once one was queued, every canvas of the kernel failed."""
    pad = DrawingPad(predictor)
    pad.client_ready()
    assert pad.draw([np.array(stroke, dtype=np.int64) for stroke in template_strokes(7)]).digit == 7
    assert pad.draw([np.array(stroke, dtype=np.float32) for stroke in template_strokes(1)]) is not None
    assert {type(value) for stroke in pad.strokes for point in stroke for value in point} == {float}
    pad.clear()
    assert DrawingPad(predictor).draw(template_strokes(7)).digit == 7


@pytest.mark.parametrize("strokes, message", [
    ([(100, 50), (100, 230)], "rows of the same length"),  # one stroke's points among the strokes
    ([[(100, 50, 1), (100, 230, 1)]], "stroke 2 has points of 3 numbers: each point must be two numbers, x and y"),
    ("12", "not a str"),
])
def test_strokes_of_the_wrong_shape_are_refused_and_nothing_is_drawn(pad, strokes, message):
    pad.draw(template_strokes(7))
    with pytest.raises(ImageError, match=message):
        pad.draw([*template_strokes(1), *strokes] if isinstance(strokes, list) else strokes)
    assert shown_digits(pad) == [7] and len(pad.strokes) == len(template_strokes(7))


@pytest.mark.parametrize("slip", [
    template_strokes(7)[0], [[(x, y, 0.5) for x, y in template_strokes(7)[0]]], [template_strokes(4)],
    [float(value) for point in template_strokes(7)[0] for value in point], np.array(template_strokes(7)[0]),
    np.array(template_strokes(7)),
], ids=["one stroke without its brackets", "points with a pressure", "a bracket too many", "flat numbers",
        "one stroke as an array", "strokes stacked into an array"])
def test_draw_names_each_slip_as_predict_does(pad, predictor, slip):
    """`draw` checked points by its own rule, and called each of these "stroke 1 is not a list of (x, y) points"
    (which one stroke without its brackets is). The arrays students get from np.array(pad.strokes[0]) and
    np.array(pad.strokes) were "not a ndarray", in a third wording of the strokes' format."""
    with pytest.raises(ImageError) as from_predict:
        predictor.predict(slip)
    with pytest.raises(ImageError, match=f"^{re.escape(str(from_predict.value))}$"):
        pad.draw(slip)
    assert pad.strokes == []


@pytest.mark.parametrize("given", ["12", None, {"strokes": []}], ids=["text", "None", "a dict"])
def test_what_is_neither_strokes_nor_an_array_is_told_the_strokes_format(pad, given):
    with pytest.raises(ImageError, match=re.escape(f"the pad draws strokes, not a {type(given).__name__}: strokes are "
                                                   "lists of (x, y) points, [[(x0, y0), (x1, y1), ...], ...]")):
        pad.draw(given)
    assert pad.strokes == []


def test_a_picture_is_not_drawn_on_the_pad(pad, predictor):
    picture = rasterise_strokes(template_strokes(7, canvas_size=28), 28, 2).tolist()
    assert predictor.predict(picture).digit == 7
    with pytest.raises(ImageError, match=re.escape("the pad draws strokes, and these are read as a picture: strokes "
                                                   "are lists of (x, y) points")):
        pad.draw(picture)
    assert pad.strokes == []


def test_strokes_beyond_the_pad_are_refused_before_they_are_drawn(pad):
    """They were drawn, and the panel asked for "the canvas_size they were drawn on", which `draw` has no argument
    for; the mouse leaves no ink beyond the pad."""
    pad.draw(template_strokes(7))
    on_a_larger_pad = template_strokes(3, canvas_size=560)

    def draw_them():
        with pytest.raises(ImageError, match=re.escape("beyond the 280-pixel canvas (0 to 280): scale them to the "
                                                       "pad's 280 pixels")):
            pad.draw(on_a_larger_pad)

    assert sent_messages(pad, draw_them) == []  # nothing went to the browser
    assert shown_digits(pad) == [7] and len(pad.strokes) == len(template_strokes(7))
    assert pad.draw([[(x / 2, y / 2) for x, y in stroke] for stroke in on_a_larger_pad]).digit == 3


@pytest.mark.parametrize("stroke, message", [
    ([(float("nan"), 5.0), (100.0, 100.0)], "stroke 2 has a point that is missing or not an ordinary number (NaN or "
                                            "infinity): each point must be two numbers, x and y"),
    ([(float("inf"), 5.0), (100.0, 100.0)], "stroke 2 has a point that is missing or not an ordinary number"),
    ([("12", "34"), (100.0, 100.0)], "stroke 2 is not a list of (x, y) points: each point must be two ordinary"),
    ([(True, False), (False, True)], "stroke 2 is not a list of (x, y) points: each point must be two ordinary"),
], ids=["NaN", "infinity", "text", "booleans"])
def test_a_point_that_is_not_a_number_is_refused_before_it_reaches_the_canvas(pad, stroke, message):
    """NaN or infinity in ipycanvas' queue fails the browser's reading of every command sent with it: every canvas
    of the kernel would stop drawing. Text would be drawn as numbers ("12" as 1, 2) that `predict` refuses. Both
    refuse by one rule, with one message."""
    seven = template_strokes(7)
    pad.draw(seven)

    def draw_with_the_bad_point():
        with pytest.raises(ImageError, match=re.escape(message)):
            pad.draw([*template_strokes(1), stroke])

    assert sent_messages(pad, draw_with_the_bad_point) == []  # nothing went to the browser
    assert len(pad.strokes) == len(seven) and shown_digits(pad) == [7]


@pytest.mark.parametrize("size", [0, -10, 2.5, True, "280", 100_000], ids=repr)
def test_a_pad_size_that_is_no_canvas_is_refused_when_the_pad_is_made(predictor, size):
    """Not once a student draws: the teacher sees it when the cell runs, and "280" was a raw TypeError."""
    with pytest.raises(ConfigError, match=rf"^the pad's size must be a whole number of pixels from 1 to [\d,]+, "
                                          rf"got {re.escape(repr(size))}$"):
        DrawingPad(predictor, size=size)


@pytest.mark.parametrize("brush_width", [2, 100, -5, 2.5, True, "20"], ids=repr)
def test_a_brush_the_slider_cannot_hold_is_refused_not_moved_to_its_end(predictor, brush_width):
    with pytest.raises(ConfigError, match=rf"^brush_width must be a whole number of pixels from {MIN_BRUSH_WIDTH} to "
                                          rf"{MAX_BRUSH_WIDTH} \(the brush slider's range\), got "
                                          rf"{re.escape(repr(brush_width))}$"):
        DrawingPad(predictor, brush_width=brush_width)


def test_a_brush_wider_than_the_pad_is_refused(predictor):
    with pytest.raises(ConfigError, match="the brush width must be .* at most the canvas size, 30, got 40"):
        DrawingPad(predictor, size=30, brush_width=40)
    assert DrawingPad(predictor, size=30, brush_width=30).brush.max == 30, "nor can the slider make it wider"


@pytest.mark.parametrize("make", [DrawingPad, ImageUploadPanel], ids=["pad", "upload panel"])
def test_what_is_no_predictor_is_refused_when_the_pad_is_made(predictor, make):
    """A Keras model or a path was taken, and then every stroke or upload raised a raw error into the widget's
    callback, where the student sees nothing."""
    panel = "the drawing pad" if make is DrawingPad else "the upload panel"
    for wrong, name in ((predictor.model, "Functional"), ("models/numvision_cnn.keras", "str")):
        with pytest.raises(ConfigError, match=rf"^{panel} needs a predictor \(from numvision_lib.predict\): .* "
                                              rf"Predictor\(model\) for a model already loaded; not a {name}$"):
            make(wrong)
    assert make(predictor).predictor is predictor


def test_every_brush_of_the_slider_and_a_numpy_size_make_a_pad(predictor):
    for brush_width in (MIN_BRUSH_WIDTH, MAX_BRUSH_WIDTH, np.int64(12)):
        pad = DrawingPad(predictor, size=np.int64(200), brush_width=brush_width)
        assert pad.brush.value == brush_width and (pad.canvas.width, pad.canvas.height) == (200, 200)


@pytest.mark.parametrize("change", ["append", "assign"])
def test_undo_after_strokes_were_set_directly(pad, change):
    """`pad.strokes` is public: a teacher's template stroke has no piece count, and Undo (a button callback, which
    fails silently in the browser) once stopped working with an IndexError."""
    one, bar = [(140.0, 30.0), (140.0, 250.0)], [(100.0, 60.0), (180.0, 60.0)]
    if change == "append":
        pad.draw([one])
        pad.strokes.append(bar)
    else:
        pad.strokes = [one, bar]
    pad.undo_button.click()
    assert pad.strokes == [one] and shown_digits(pad) == [1]
    pad.undo()
    assert_empty(pad)


def test_upload_panel_shows_a_picture_of_no_pixels_as_too_small(predictor):
    """A crop of no size (photo.crop((10, 10, 10, 10))) had no thumbnail to scale: a raw ZeroDivisionError."""
    upload = ImageUploadPanel(predictor)
    photo = Image.new("RGB", (100, 100), "white")
    assert upload.show(photo.crop((10, 10, 10, 10))) is None
    assert panel_state(upload.result.value) == "error"
    assert "an image of 0x0 pixels is too small to hold a digit" in upload.result.value
    assert 'class="numvision-photo"' not in upload.photo.value


def test_upload_panel_shows_a_name_the_system_cannot_open_without_repeating_it(predictor):
    """A pasted data URL is a file name too long for the system: its OSError escaped the panel."""
    upload = ImageUploadPanel(predictor)
    data_url = "data:image/png;base64," + "A" * 5000
    assert upload.show(data_url) is None
    assert panel_state(upload.result.value) == "error" and "A" * 100 not in upload.result.value


def test_upload_panel_shows_a_file_it_may_not_read(predictor, monkeypatch, tmp_path):
    import builtins

    picture = tmp_path / "digit.png"
    Image.fromarray(rasterise_strokes(template_strokes(3), 280, 20)).save(picture)
    real_open = builtins.open

    def denied(file, *args, **kwargs):  # what chmod does for a user that is not root (the tests may be root)
        if str(file) == str(picture):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", denied)  # below load_image: Pillow opens a path with builtins.open
    upload = ImageUploadPanel(predictor)
    assert upload.show(picture, name="homework/digit.png") is None
    assert panel_state(upload.result.value) == "error"
    assert ("homework/digit.png: you may not read this file (Permission denied)"
            in html.unescape(upload.result.value))


def test_without_litert_the_pad_loads_tensorflow_once_and_says_so(monkeypatch):
    """Where LiteRT is missing (Intel Macs, a kernel without the package), the app the README calls light loaded
    TensorFlow without a word: about 800 MB and 15 s per visitor instead of 100 MB and 1.5 s."""
    import sys
    import warnings

    from numvision_lib.predict import Predictor

    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)  # find_spec finds nothing, as where it is not installed
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        pad = DrawingPad(announce_waiting=False)  # what the app's cell does
        ImageUploadPanel(pad.predictor)
    assert isinstance(pad.predictor, Predictor)
    (warning,) = [warning for warning in said if "LiteRT" in str(warning.message)]
    assert warning.category is UserWarning and warning.filename == "numvision_lib", "no path on the app's page"
    assert str(warning.message) == (
        "the drawing pad loaded TensorFlow instead of its light LiteRT files: no LiteRT (import of ai_edge_litert "
        "halted; None in sys.modules). Each kernel with a pad (each visitor of the app) then takes about 800 MB of "
        "memory and 10-25 s to start, instead of about 100 MB and 1 s. Install LiteRT in this environment with `pip "
        "install ai-edge-litert` (it has no wheels for Intel Macs, where the pad always loads TensorFlow)")

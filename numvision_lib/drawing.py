"""The drawing pad: draw a digit with the mouse (or a finger) and watch the network answer.

The strokes are kept in Python and rasterised with Pillow for the prediction, so what the model sees
never depends on the browser sending the canvas back (that image can lag behind the mouse, and it
hangs kernels in VS Code). The canvas only displays the same strokes, and draws them all again
whenever the browser creates it anew (a reloaded page, a second tab). Every event handler is a
plain method, so the whole pad can be driven and tested without a browser.

The result panel (`render_panel`, shared with the photo upload) has one fixed layout for every state:
the answer on the left in a column of fixed width, the ten probability bars on the right, always in
the same place, so nothing jumps sideways while a student draws.

DOM contract (the real-browser tests rely on it): the pad's Box has class `numvision-pad`, the
canvas `numvision-canvas`, the buttons "Clear"/"Undo" `numvision-clear`/`numvision-undo`, and the
result panel is an HTML widget of class `numvision-result` (`numvision-upload-result` in the upload
panel) holding one `<div class="numvision-panel" data-state="STATE">`, STATE being one of
`PANEL_STATES`:

- "digit" and "probably": exactly one `<span class="numvision-digit">D</span>`; "probably" adds a
  `<span class="numvision-question">?</span>` after it and a `numvision-runner-up` line;
- "not-a-digit", "empty", "waiting" and "error": no `numvision-digit` at all, but a
  `<span class="numvision-status">` with the message ("Draw a digit" when the pad is empty,
  `WAITING_MESSAGE` until the kernel has handled the pad's first event);
- a `numvision-advice` line when the prediction has advice, and always a `numvision-bars` block of
  ten `numvision-bar` rows (empty tracks when there is no prediction).

The upload panel's photo thumbnail is an `<img class="numvision-photo">`.
"""
from __future__ import annotations

import base64
import html
import importlib.util
import io
import math
import os
import warnings
from contextlib import contextmanager
from typing import Callable

import ipywidgets as widgets
import numpy as np
from ipycanvas import Canvas, hold_canvas
from ipyevents import Event
from PIL import Image

from .data import DIGITS
from .errors import ConfigError, ImageError, NumVisionError
from .litert import LitePredictor
from .prediction import DIGIT, NOT_A_DIGIT, PROBABLY, BasePredictor, Prediction, a_digit, is_sure, percentage
from .preprocess import (DEFAULT_BRUSH_WIDTH, DEFAULT_CANVAS_SIZE, STROKES_FORMAT, WORKING_SIZE, as_stroke_arrays,
                         brush_width_problem, canvas_size_problem, image_to_array, load_image, off_canvas_problem,
                         to_greyscale, to_greyscale_image)
from .values import is_whole_number

EMPTY_MESSAGE = "Draw a digit"
# Shown from the pad's creation until the kernel handles its first event. During "Run All" the kernel
# runs the cells below before it can answer the pad, and strokes drawn meanwhile appear only then. The
# panel's text is also what a notebook saved with widget state shows before its cells are run again,
# so it must hold there too: there the pad starts only once its cell has run.
WAITING_MESSAGE = "Waiting for Python: the pad starts once this cell has run and Python is free."
NOT_A_DIGIT_MESSAGE = "That doesn't look like a single digit."
# Plain paper: the lines of ruled or squared paper are read as ink (docs/benchmarks.md, *Real handwriting*).
UPLOAD_MESSAGE = "Upload a photo or scan of one handwritten digit, written on plain paper."
BACKGROUND = "black"
INK = "white"
WAITING_INK = "#9a9a9a"
MODEL_INPUT_DISPLAY_SIZE = 112  # CSS pixels for the 28x28 image: 4 screen pixels per input pixel
# The brush slider's range in canvas pixels: the pad refuses a brush_width outside it, which the slider would move
# to its nearest end without a word.
MIN_BRUSH_WIDTH, MAX_BRUSH_WIDTH = 6, 40
PHOTO_DISPLAY_SIZE = 160  # the uploaded photo's thumbnail fits in a square of this many CSS pixels
# Fixed widths (CSS pixels): the answer column, and in each bar row the digit, the bar and the percentage.
ANSWER_WIDTH = 200
BAR_LABEL_WIDTH, BAR_WIDTH, BAR_PERCENT_WIDTH = 12, 120, 52
# A touch still down this close to where the drawing finger was last reported is that finger (a finger moves
# less between two events; a palm or another finger lies further away).
SAME_TOUCH_DISTANCE = 30.0
PANEL_MIN_HEIGHT = 272  # the tallest state (digit, advice and model input), so panels below do not move
# The panel's states, as written in its data-state attribute (see the DOM contract above).
VERDICT_STATES = {DIGIT: "digit", PROBABLY: "probably", NOT_A_DIGIT: "not-a-digit"}
PANEL_STATES = (*VERDICT_STATES.values(), "empty", "waiting", "error")
# Bar colours by state: the best guess stands out in the answer's colour; the others are pale.
STATE_COLOURS = {"digit": "#1f77b4", "probably": "#d97a00", "not-a-digit": "#8c8c8c"}
PALE_BAR = "#c6dbef"


def _png_base64(image: Image.Image) -> str:
    buffer = io.BytesIO()
    # Uncompressed: a 28x28 picture is small either way, and zlib would cost the pad's update time.
    image.save(buffer, format="PNG", compress_level=0)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _model_input_png(model_input: np.ndarray) -> str:
    """The 28x28 input as a base64 PNG; the browser enlarges it with `image-rendering: pixelated`."""
    return _png_base64(Image.fromarray((np.clip(model_input, 0, 1) * 255).astype(np.uint8)))


def pixelated_image(picture: np.ndarray, css_class: str, alt: str, on_its_own_line: bool = False) -> str:
    """An `<img>` of a 28x28 picture (grey (28, 28) or RGB (28, 28, 3), floats in [0, 1]) as an inline PNG,
    shown `MODEL_INPUT_DISPLAY_SIZE` pixels wide: the browser enlarges it with `image-rendering: pixelated`."""
    display = ";display:block" if on_its_own_line else ""
    return (f'<img class="{css_class}" src="data:image/png;base64,{_model_input_png(picture)}" '
            f'width="{MODEL_INPUT_DISPLAY_SIZE}" height="{MODEL_INPUT_DISPLAY_SIZE}" '
            f'style="image-rendering:pixelated;border:1px solid #888{display}" alt="{alt}"/>')


def _probability_bars(prediction: Prediction | None, state: str) -> str:
    """Ten rows of fixed widths; without a prediction the tracks stay empty and no percentage is shown."""
    rows = []
    for digit in DIGITS:
        probability = 0.0 if prediction is None else float(prediction.probabilities[digit])
        best = prediction is not None and digit == prediction.digit
        colour = STATE_COLOURS[state] if best else PALE_BAR
        percent = "" if prediction is None else percentage(probability)
        rows.append(
            '<div class="numvision-bar" style="display:flex;align-items:center;gap:6px;height:18px">'
            f'<span style="width:{BAR_LABEL_WIDTH}px;flex:none;text-align:right">{digit}</span>'
            f'<span style="display:block;width:{BAR_WIDTH}px;flex:none;height:12px;background:#eee">'
            f'<span style="display:block;width:{probability * 100:.1f}%;height:100%;background:{colour}"></span></span>'
            f'<span style="width:{BAR_PERCENT_WIDTH}px;flex:none;text-align:right;font-size:11px;'
            f'font-variant-numeric:tabular-nums">{percent}</span></div>'
        )
    caption = "If it had to pick a digit:" if state == "not-a-digit" else "Probability of each digit:"
    return (f'<div class="numvision-bars" style="flex:none;font-size:13px">'
            f'<div style="font-size:12px;color:#555;margin-bottom:4px">{caption}</div>{"".join(rows)}</div>')


def _answer(prediction: Prediction | None, message: str, state: str) -> str:
    """The left column: the big digit (with "?" when unsure) or a message, then confidence and advice."""
    if prediction is None or state == "not-a-digit":
        text = NOT_A_DIGIT_MESSAGE if prediction is not None else message
        headline = (f'<div style="min-height:76px;display:flex;align-items:center;font-size:17px">'
                    f'<span class="numvision-status">{html.escape(text)}</span></div>')
        details = ""
    else:
        question = (f'<span class="numvision-question" style="color:{STATE_COLOURS["probably"]}">?</span>'
                    if state == "probably" else "")
        headline = (f'<div style="height:76px;font-size:68px;font-weight:bold;line-height:76px">'
                    f'<span class="numvision-digit">{prediction.digit}</span>{question}</div>')
        if state == "probably":
            runner_up, runner_up_probability = prediction.runner_up
            probably = f"Probably {a_digit(prediction.digit)}"
            # An answer the network is sure of is doubted for the drawing alone (a small digit, or one that ran off
            # the pad), which the advice below names: "(100.0% sure)" beside "Probably" would contradict it (the bars
            # show the percentage). Nor is another digit offered then: "or perhaps a 5 (0.0%)" gave it and took it back.
            if is_sure(prediction.confidence):
                confidence, other = probably, "no other digit comes close"
            else:
                confidence = f"{probably} ({percentage(prediction.confidence)} sure)"
                other = f"or perhaps {a_digit(runner_up)} ({percentage(runner_up_probability)})"
            details = (f'<div class="numvision-confidence">{confidence}</div>'
                       f'<div class="numvision-runner-up">{other}</div>')
        else:
            details = f'<div class="numvision-confidence">{percentage(prediction.confidence)} sure</div>'
    advice = ""
    if prediction is not None and prediction.advice:
        advice = (f'<div class="numvision-advice" style="color:#b35900;margin-top:4px">'
                  f'{html.escape(prediction.advice)}</div>')
    model_input = ""
    if prediction is not None:
        model_input = (
            '<div style="font-size:12px;margin-top:8px;color:#555">What the network sees (28x28):</div>'
            + pixelated_image(prediction.model_input, "numvision-model-input", "what the network sees",
                              on_its_own_line=True)
        )
    return (f'<div class="numvision-answer" style="width:{ANSWER_WIDTH}px;flex:none">'
            f'{headline}{details}{advice}{model_input}</div>')


def render_panel(prediction: Prediction | None, message: str = EMPTY_MESSAGE, state: str = "empty") -> str:
    """The result panel's HTML, in one fixed layout for every state (see the module docstring).

    With a prediction its verdict sets the state: the big digit when sure; the digit with a "?" and
    the runner-up when it is probably a digit; no digit but a plain message when it is not a digit.
    Without one it shows `message` in `state` ("empty", "waiting" or "error").
    """
    if prediction is not None:
        state = VERDICT_STATES[prediction.verdict]
    elif state not in PANEL_STATES or state in VERDICT_STATES.values():
        raise ConfigError(f"a panel without a prediction is 'empty', 'waiting' or 'error', not {state!r}")
    # ipywidgets' HTML gives its content a 28-pixel line height (the height of one widget row): wrapped
    # messages would stand four lines far apart, so every line height here is set explicitly.
    return (
        f'<div class="numvision-panel" data-state="{state}" style="display:flex;gap:16px;'
        f'min-height:{PANEL_MIN_HEIGHT}px;font-family:sans-serif;font-size:14px;line-height:1.35;'
        f'white-space:normal">{_answer(prediction, message, state)}{_probability_bars(prediction, state)}</div>'
    )


def _brush_slider_problem(brush_width) -> str | None:
    if is_whole_number(brush_width) and MIN_BRUSH_WIDTH <= brush_width <= MAX_BRUSH_WIDTH:
        return None
    return (f"brush_width must be a whole number of pixels from {MIN_BRUSH_WIDTH} to {MAX_BRUSH_WIDTH} (the brush "
            f"slider's range), got {brush_width!r}")


class DrawingPad:
    """Canvas, brush slider, Clear and Undo, and the live prediction panel; display it in a notebook cell."""

    def __init__(self, predictor: BasePredictor | None = None, size: int = DEFAULT_CANVAS_SIZE,
                 brush_width: int = DEFAULT_BRUSH_WIDTH, announce_waiting: bool = True):
        """`announce_waiting=False` where the page appears only once the kernel is free (a Voilà app): there
        the pad starts by saying "Draw a digit", since on a slow browser the kernel's first answer can reach
        the page before the page listens for it (see `_show_answer`)."""
        # Checked where the teacher runs the cell: a bad size would fail only once a student draws.
        problem = (canvas_size_problem(size, "the pad's size") or _brush_slider_problem(brush_width)
                   or brush_width_problem(brush_width, size))
        if problem:
            raise ConfigError(problem)
        self.predictor = _predictor_for("the drawing pad", predictor)
        # A NumPy integer in a canvas command cannot be sent, and stops every canvas of the kernel (see `draw`).
        self.size = size = int(size)
        # The pieces of ink, each a list of (x, y) points. A stroke that leaves the canvas and comes back
        # with the button held is one stroke in two pieces: the path outside is unknown, and a straight
        # line between exit and entry could cut across the drawing.
        self.strokes: list[list[tuple[float, float]]] = []
        self._pieces_per_stroke: list[int] = []  # what Undo removes: all pieces of the last stroke
        self.prediction: Prediction | None = None
        self._drawing = False  # the button is down and the pointer on the canvas
        self._left_while_drawing = False  # the pointer left during a stroke; it may come back with the button held
        self._finger: tuple[float, float] | None = None  # where the touch drawing the stroke was last
        self._resuming = False  # it came back held: the next move starts the stroke's next piece
        self.ready = False  # True once the kernel has handled an event from the pad's front end
        self._prediction_listeners: list[Callable[[Prediction | None], None]] = []

        # An explicit layout size, or a surrounding VBox stretches the canvas and the mouse misses the ink.
        self.canvas = Canvas(width=size, height=size, layout=widgets.Layout(width=f"{size}px", height=f"{size}px"))
        self.canvas.add_class("numvision-canvas")
        # ipycanvas reports neither the buttons held nor a return of the pointer; this watcher does, so a
        # stroke can go on when the pointer comes back in with the button still down.
        self.pointer_watcher = Event(source=self.canvas, watched_events=["mouseenter"])
        # On a pad narrower than MAX_BRUSH_WIDTH the slider stops at its size: `brush_width_problem` allows no more.
        self.brush = widgets.IntSlider(value=brush_width, min=MIN_BRUSH_WIDTH, max=min(MAX_BRUSH_WIDTH, size),
                                       description="Brush", layout=widgets.Layout(width=f"{size}px"))
        half_width = widgets.Layout(width=f"{size // 2 - 4}px")  # the two buttons span the canvas
        self.clear_button = widgets.Button(description="Clear", icon="eraser", layout=half_width)
        self.clear_button.add_class("numvision-clear")
        self.undo_button = widgets.Button(description="Undo", icon="undo", layout=half_width)
        self.undo_button.add_class("numvision-undo")
        self.result = widgets.HTML(render_panel(None, WAITING_MESSAGE, state="waiting") if announce_waiting
                                   else render_panel(None))
        self.result.add_class("numvision-result")
        controls = widgets.VBox([self.canvas, widgets.HBox([self.clear_button, self.undo_button]), self.brush])
        # The right-hand column: the answer first, then any panels added with `add_panel`.
        self.side = widgets.VBox([self.result], layout=widgets.Layout(margin="0 0 0 16px"))
        self.widget = widgets.HBox([controls, self.side])
        self.widget.add_class("numvision-pad")

        self.canvas.on_mouse_down(self._handled(self.start_stroke))
        self.canvas.on_mouse_move(self._handled(self.extend_stroke))
        self.canvas.on_mouse_up(self._handled(self.end_stroke))
        self.canvas.on_mouse_out(self._handled(self.leave))
        self.pointer_watcher.on_dom_event(self._handled(self.enter))
        self.canvas.on_touch_start(self._handled(self.touch_start))
        self.canvas.on_touch_move(self._handled(self.touch_move))
        self.canvas.on_touch_end(self._handled(self.touch_end))
        self.canvas.on_touch_cancel(self._handled(self.touch_end))
        self.canvas.on_client_ready(self.client_ready)
        self.clear_button.on_click(lambda _: self.clear())
        self.undo_button.on_click(lambda _: self.undo())
        self.brush.observe(self._brush_changed, names="value")
        self._redraw()
        if announce_waiting:
            self._draw_waiting_message()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def add_panel(self, panel: widgets.Widget) -> None:
        """Show another widget under the answer (a lesson's extra view, say)."""
        self.side.children = (*self.side.children, panel)

    def on_prediction(self, callback: Callable[[Prediction | None], None]) -> None:
        """Call `callback(prediction)` after every new answer; `None` when the pad is empty or unreadable."""
        self._prediction_listeners.append(callback)

    # ------------------------------------------------------------ event handlers

    def _handled(self, handler):
        """Wrap a front-end event handler: the first event handled proves that the kernel serves the pad."""
        def handle(*args):
            if not self.ready:
                self._become_ready()
            return handler(*args)
        return handle

    def _become_ready(self) -> None:
        self.ready = True
        self._redraw()  # paints over the waiting message
        self.update_prediction()

    def client_ready(self) -> None:
        """The browser has (re)created the canvas, blank: the first time, after a reload, in another tab."""
        self._finger = None  # a page reloaded while a finger drew never sends its end
        if self.ready:
            self._redraw()
        else:
            self._become_ready()  # redraws too

    @contextmanager
    def _canvas_commands(self):
        """Send the drawing commands of the block as one message that names its canvas first.

        ipycanvas sends every command through one shared manager that names the target canvas only when the
        target changes. A browser page that has just been (re)loaded has a new manager that knows no target
        yet: its first command failed ("Cannot read properties of undefined (reading 'setAttr')"), and
        since that manager runs its commands in one promise chain, a failure stops every later command in
        the page, so the canvas stayed blank while predictions still came (ipycanvas issue #322). Naming the
        canvas in every message costs a few bytes and holds for any number of tabs, whenever they open.
        """
        self.canvas._canvas_manager._current_canvas = None
        with hold_canvas():
            yield

    def start_stroke(self, x: float, y: float) -> None:
        self._drawing, self._left_while_drawing, self._resuming = True, False, False
        self.strokes.append([(x, y)])
        self._pieces_per_stroke.append(1)
        with self._canvas_commands():
            self.canvas.fill_circle(x, y, self.brush.value / 2)

    def extend_stroke(self, x: float, y: float) -> None:
        if not self._drawing:
            return
        if self._resuming:  # back on the canvas with the button held: the stroke's next piece starts here
            self._resuming = False
            self.strokes.append([(x, y)])
            self._pieces_per_stroke[-1] += 1
            with self._canvas_commands():
                self.canvas.fill_circle(x, y, self.brush.value / 2)
            return
        stroke = self.strokes[-1]
        previous = stroke[-1]
        stroke.append((x, y))
        with self._canvas_commands():
            self.canvas.stroke_line(previous[0], previous[1], x, y)

    def end_stroke(self, x: float | None = None, y: float | None = None) -> None:
        """Mouse up or finger lifted: the stroke is complete, predict."""
        if not self._drawing:
            return
        if x is not None and y is not None and self._inside(x, y):
            self.extend_stroke(x, y)
        self._drawing = self._resuming = False
        self.update_prediction()

    def leave(self, x: float | None = None, y: float | None = None) -> None:
        """The pointer left the canvas. The ink goes on to the edge, and the answer is shown at once,
        since the button may be released out there; if it comes back held, `enter` continues the stroke."""
        if not self._drawing:
            return
        if x is not None and y is not None and not self._resuming:
            self.extend_stroke(min(max(x, 0.0), self.size), min(max(y, 0.0), self.size))
        self._drawing = self._resuming = False
        self._left_while_drawing = True
        self.update_prediction()

    def enter(self, event: dict) -> None:
        """The pointer came back onto the canvas (a DOM `mouseenter` with the buttons held)."""
        if self._left_while_drawing and event.get("buttons", 0) & 1:  # the primary button is still down
            self._drawing = self._resuming = True
        self._left_while_drawing = False

    # A touch event carries the (x, y) of every touch that is down on the page (the browser's `touches`), which
    # ipycanvas sends without their identifiers. The pad follows the finger that started the stroke by its position:
    # from one event to the next it is the touch nearest to where it was, and a resting palm or a second finger is
    # another touch, which neither draws nor ends the stroke.

    def touch_start(self, touches: list[tuple[float, float]]) -> None:
        """A finger (or a palm) touched the screen. The touch that has just landed, listed last, starts a stroke if it
        is on the canvas and no other finger is drawing."""
        if not touches or (self._finger is not None and len(touches) > 1):
            return  # the drawing finger is still down (alone, it would be this one: its end was lost)
        x, y = touches[-1]
        if self._inside(x, y):
            self._finger = (x, y)
            self.start_stroke(x, y)

    def touch_move(self, touches: list[tuple[float, float]]) -> None:
        """The drawing finger moved. Browsers go on sending its moves from outside the canvas: there it leaves as the
        mouse does (the ink stops at the edge), and back on the canvas the stroke goes on with its next piece."""
        if self._finger is None or not touches:
            return
        x, y = self._finger = self._nearest_touch(touches)
        if not self._inside(x, y):
            self.leave(x, y)
            return
        if self._left_while_drawing:
            self.enter({"buttons": 1})  # a finger that moves is down
        self.extend_stroke(x, y)

    def touch_end(self, touches: list[tuple[float, float]]) -> None:
        """A touch lifted or was cancelled; `touches` are those still down. The stroke ends when its finger lifts: a
        palm lifted meanwhile does not cut it, and one that stays down does not hold the stroke open."""
        if self._finger is None:
            return
        if touches and math.dist(self._nearest_touch(touches), self._finger) <= SAME_TOUCH_DISTANCE:
            return  # another touch lifted: the finger is still where it was
        self._finger = None
        self._left_while_drawing = False  # lifted outside the canvas: the stroke cannot come back
        self.end_stroke()

    def _nearest_touch(self, touches: list[tuple[float, float]]) -> tuple[float, float]:
        return min(touches, key=lambda point: math.dist(point, self._finger))

    def clear(self) -> None:
        self.strokes.clear()
        self._pieces_per_stroke.clear()
        self._drawing = self._left_while_drawing = self._resuming = False
        self._redraw()
        self.update_prediction()

    def undo(self) -> None:
        """Remove the last stroke (with every piece of it, if it left the canvas and came back)."""
        if self.strokes:
            # One piece for strokes set or added directly (`pad.strokes` is public), which no count follows.
            pieces = self._pieces_per_stroke.pop() if self._pieces_per_stroke else 1
            del self.strokes[-pieces:]
        self._drawing = self._left_while_drawing = self._resuming = False
        self._redraw()
        self.update_prediction()

    def draw(self, strokes) -> Prediction | None:
        """Draw strokes (lists of (x, y) points in the pad's pixels) as if with the mouse; returns the new prediction.

        All are checked before any is drawn, by the rules and with the messages of `predict`, and strokes beyond the
        pad are refused: the mouse leaves no ink out there (`leave`)."""
        # `predict` would open text as a picture file. An array goes on to its rules, which name one stroke or strokes
        # stacked into an array (np.array of pad.strokes[0] or of pad.strokes).
        if not isinstance(strokes, (list, tuple, np.ndarray)):
            raise ImageError(f"the pad draws strokes, not a {type(strokes).__name__}: {STROKES_FORMAT}")
        points = as_stroke_arrays(strokes)
        if points is None:
            to_greyscale_image(strokes)  # raises `predict`'s message for a slip (a bracket left out, a pen's pressure)
            raise ImageError(f"the pad draws strokes, and these are read as a picture: {STROKES_FORMAT} (a picture is "
                             "shown with ImageUploadPanel, or read with the predictor's predict())")
        problem = off_canvas_problem(points, self.size)
        if problem:
            raise ImageError(f"{problem}: scale them to the pad's {self.size} pixels")
        for stroke in points:
            if not len(stroke):  # a mouse press that sent no point leaves no ink
                continue
            # Python floats, checked by `as_stroke_arrays`: a NumPy number cannot be sent, and NaN or infinity fails
            # the browser's reading of the commands queued with it, either of which stops every canvas of the kernel.
            first, *rest = stroke.tolist()
            self.start_stroke(*first)
            for point in rest:
                self.extend_stroke(*point)
            self.end_stroke()
        return self.prediction

    # ------------------------------------------------------------ prediction and display

    def update_prediction(self) -> None:
        if not self.strokes:
            self.prediction = None
            self._show_answer(render_panel(None))
        else:
            try:
                self.prediction = self.predictor.predict(self.strokes, canvas_size=self.size,
                                                         brush_width=self.brush.value)
                self._show_answer(render_panel(self.prediction))
            except NumVisionError as error:  # keep the drawing and say what is wrong
                self.prediction = None
                self._show_answer(render_panel(None, str(error), state="error"))
        for listener in self._prediction_listeners:
            listener(self.prediction)

    def _inside(self, x: float, y: float) -> bool:
        return 0 <= x <= self.size and 0 <= y <= self.size

    def _set_pen(self) -> None:
        # The browser's canvas keeps this state, so each mouse move sends only its line segment.
        self.canvas.stroke_style = INK
        self.canvas.fill_style = INK
        self.canvas.line_width = self.brush.value
        self.canvas.line_cap = "round"
        self.canvas.line_join = "round"

    def _redraw(self, *_) -> None:
        with self._canvas_commands():
            self.canvas.fill_style = BACKGROUND
            self.canvas.fill_rect(0, 0, self.size, self.size)
            self._set_pen()
            for stroke in self.strokes:
                if len(stroke) == 1:
                    self.canvas.fill_circle(stroke[0][0], stroke[0][1], self.brush.value / 2)
                else:
                    self.canvas.stroke_lines(stroke)

    def _show_answer(self, panel: str) -> None:
        """Put `panel` in the answer column, and send it to the browser even when it has not changed.

        A page still creating its widgets can miss a change: in Voilà on a busy machine, the answer to the
        canvas's first message arrived before the page listened to the answer column, which went on saying
        "Waiting for Python" while the kernel held "Draw a digit", and Clear, changing nothing, sent nothing.
        Sent on every action, the column shows the kernel's answer after the next Clear or Undo at the latest.
        """
        if self.result.value == panel:
            self.result.send_state("value")
        else:
            self.result.value = panel

    def _draw_waiting_message(self) -> None:
        """Grey text on the canvas until the kernel serves the pad: the browser shows it at once, and the
        first event the kernel handles paints over it."""
        with self._canvas_commands():
            self.canvas.fill_style = WAITING_INK
            self.canvas.font = "15px sans-serif"
            self.canvas.text_align = "center"
            middle = self.size / 2
            self.canvas.fill_text("Waiting for Python...", middle, middle - 10)
            self.canvas.fill_text("It is running other cells.", middle, middle + 12)
            self.canvas.fill_style = INK

    def _brush_changed(self, _change) -> None:
        # The brush applies to the whole drawing: students can watch how thickness changes the answer.
        self._redraw()
        if self.strokes:
            self.update_prediction()


def photo_thumbnail(image) -> Image.Image | None:
    """A small copy of an uploaded picture, to show beside the answer: in colour where the file has it, a
    transparent one on the background that the reading puts behind it (so white ink on a transparent background
    shows on the notebook's white page); arrays, 16-bit and floating-point pictures as the grey levels the network's
    first step reads. None for a picture of no pixels (a crop of no size), which has nothing to show."""
    if isinstance(image, Image.Image) and image.mode in ("1", "L", "P", "RGB", "RGBA", "LA", "PA", "CMYK", "YCbCr"):
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            level = _reading_background(image)
            picture = Image.alpha_composite(Image.new("RGBA", image.size, (level, level, level, 255)),
                                            image.convert("RGBA")).convert("RGB")
        else:
            picture = image.convert("RGB")
    else:
        picture = Image.fromarray((to_greyscale_image(image) * 255).round().astype(np.uint8))
    if not min(picture.size):  # `predict` then says why no digit can be read from it
        return None
    # Not ImageOps.contain: it rounds the short side of a thin picture (1x500) to no pixels, which cannot be saved.
    scale = PHOTO_DISPLAY_SIZE / max(picture.size)
    return picture.resize(tuple(max(1, round(side * scale)) for side in picture.size), Image.Resampling.BICUBIC)


def _reading_background(image: Image.Image) -> int:
    """The grey level (0 to 255) that the reading puts behind a transparent picture: black behind light ink, white
    behind dark. Found by reading the picture as `predict` does (`preprocess.to_greyscale`) with fully transparent
    pixels added at a corner, which show that background alone: the rule stays in one place."""
    pixels = image_to_array(image, WORKING_SIZE)  # (height, width, 4): a transparent picture is read as RGBA
    # Two rows and columns of zeros: even a picture of no pixels then has the 2x2 that `to_greyscale` reads.
    with_corner = np.pad(pixels, ((0, 2), (0, 2), (0, 0)))
    return round(float(to_greyscale(with_corner)[-1, -1]) * 255)


def render_photo(image: Image.Image | None) -> str:
    """The thumbnail's HTML; a dashed empty frame of the same size before any upload works."""
    frame = (f"width:{PHOTO_DISPLAY_SIZE}px;height:{PHOTO_DISPLAY_SIZE}px;display:flex;align-items:center;"
             "justify-content:center")
    if image is None:
        content = (f'<div style="{frame};border:1px dashed #aaa;color:#888;font-size:12px;line-height:1.35;'
                   'text-align:center">Your photo<br>appears here</div>')
    else:
        content = (f'<div style="{frame}"><img class="numvision-photo" src="data:image/png;base64,{_png_base64(image)}" '
                   f'width="{image.width}" height="{image.height}" style="border:1px solid #888" '
                   'alt="the uploaded photo"/></div>')
    return (f'<div style="font-family:sans-serif;font-size:12px;line-height:1.35;color:#555">'
            f'Your photo:{content}</div>')


class ImageUploadPanel:
    """Upload a photo or scan of a handwritten digit: its thumbnail, and the same result panel as the pad."""

    def __init__(self, predictor: BasePredictor | None = None):
        self.predictor = _predictor_for("the upload panel", predictor)
        self.prediction: Prediction | None = None
        # As wide as its label: at the default width the label was cut off once the file count was added.
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="Upload a photo",
                                         layout=widgets.Layout(width="auto", align_self="flex-start"))
        self.upload.add_class("numvision-upload")
        self.photo = widgets.HTML(render_photo(None), layout=widgets.Layout(margin="0 16px 0 0"))
        self.result = widgets.HTML(render_panel(None, UPLOAD_MESSAGE))
        # Not `numvision-result`: that class belongs to the drawing pad alone (the browser test looks for it).
        self.result.add_class("numvision-upload-result")
        self.widget = widgets.VBox([self.upload, widgets.HBox(
            [self.photo, self.result], layout=widgets.Layout(align_items="flex-start"))])
        self.widget.add_class("numvision-upload-panel")
        self.upload.observe(lambda change: self.show_files(change["new"]), names="value")

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def show_files(self, files) -> None:
        """Predict the digit in the (last) uploaded file: FileUpload's value, a tuple of dicts."""
        if not files:
            return
        file = files[-1]
        self.show(bytes(file["content"]), name=file["name"])

    def show(self, image, name: str | None = None) -> Prediction | None:
        """Show any picture (file bytes or path, array, PIL image) and predict its digit; errors are shown,
        not raised, and a picture that opened stays on screen when no digit can be read from it."""
        self.photo.value = render_photo(None)
        try:
            # A PIL image too: the thumbnail shows it turned upright, as it is read.
            if isinstance(image, (bytes, bytearray, memoryview, str, os.PathLike, Image.Image)):
                image = load_image(image, name=name)
            self.photo.value = render_photo(photo_thumbnail(image))
            self.prediction = self.predictor.predict(image)
            self.result.value = render_panel(self.prediction)
        except NumVisionError as error:
            self.prediction = None
            self.result.value = render_panel(None, str(error), state="error")
        return self.prediction


def _predictor_for(panel: str, predictor) -> BasePredictor:
    """`predictor`, or the pad's own for None. Anything else is refused where the teacher runs the cell: on every
    stroke it would be a raw error in the widget's callback, which the student never sees."""
    if predictor is None:
        return pad_predictor()
    if not isinstance(predictor, BasePredictor):
        raise ConfigError(f"{panel} needs a predictor (from numvision_lib.predict): Predictor.load() for the pad's "
                          "model, Predictor.load(path) for a model file (such as a fine-tuning run's run.model_path), "
                          f"Predictor(model) for a model already loaded; not a {type(predictor).__name__}")
    return predictor


def pad_predictor() -> BasePredictor:
    """The pad's predictor: the exported LiteRT files, so that a drawing kernel needs no TensorFlow (see `litert`).

    Where LiteRT is not installed (it has no wheels for Intel Macs), the Keras model and TensorFlow instead, with a
    warning: a teacher sizing a server for the light kernel would otherwise find each one eight times larger.
    """
    if importlib.util.find_spec("ai_edge_litert") is None:
        from .predict import Predictor

        predictor = Predictor.load()
        # Named by the package, not by a file and line of it: the app's page shows the warning to every visitor.
        warnings.warn_explicit(_pad_on_tensorflow(predictor.pad_fallback_reason), UserWarning, _PACKAGE, 0,
                               registry=_FALLBACK_WARNINGS)
        return predictor
    return LitePredictor.load()


_PACKAGE = __name__.partition(".")[0]
# The warnings already given: under Python's default filter, each is given once in a kernel.
_FALLBACK_WARNINGS: dict = {}


def _pad_on_tensorflow(reason: str) -> str:
    return (f"the drawing pad loaded TensorFlow instead of its light LiteRT files: {reason}. Each kernel with a pad "
            "(each visitor of the app) then takes about 800 MB of memory and 10-25 s to start, instead of about "
            "100 MB and 1 s. Install LiteRT in this environment with `pip install ai-edge-litert` (it has no wheels "
            "for Intel Macs, where the pad always loads TensorFlow)")

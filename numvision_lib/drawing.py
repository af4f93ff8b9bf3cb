"""The drawing pad: draw a digit with the mouse (or a finger) and watch the network answer.

The strokes are kept in Python and rasterised with Pillow for the prediction, so what the model sees
never depends on the browser sending the canvas back (that image can lag behind the mouse, and it
hangs kernels in VS Code). The canvas only displays the same strokes. Every event handler is a
plain method, so the whole pad can be driven and tested without a browser.

DOM contract (the real-browser test relies on it): the pad's Box has class `numvision-pad`, the
canvas `numvision-canvas`, the buttons "Clear"/"Undo" `numvision-clear`/`numvision-undo`, and the
result panel (an HTML widget, class `numvision-result`) holds exactly one
`<span class="numvision-digit">D</span>` while a prediction is shown, or
`<span class="numvision-status">Draw a digit</span>` when the pad is empty.
"""
from __future__ import annotations

import base64
import html
import io
from typing import Callable

import ipywidgets as widgets
import numpy as np
from ipycanvas import Canvas, hold_canvas
from PIL import Image

from .errors import NumVisionError
from .predict import Prediction, Predictor
from .preprocess import DEFAULT_BRUSH_WIDTH, DEFAULT_CANVAS_SIZE, load_image

EMPTY_MESSAGE = "Draw a digit"
BACKGROUND = "black"
INK = "white"
MODEL_INPUT_DISPLAY_SIZE = 112  # CSS pixels for the 28x28 image: 4 screen pixels per input pixel


def pixelated_image(picture: np.ndarray, css_class: str, alt: str) -> str:
    """An `<img>` of a 28x28 picture (grey (28, 28) or RGB (28, 28, 3), floats in [0, 1]) as an inline PNG,
    shown `MODEL_INPUT_DISPLAY_SIZE` pixels wide: the browser enlarges it with `image-rendering: pixelated`."""
    buffer = io.BytesIO()
    Image.fromarray((np.clip(picture, 0, 1) * 255).astype(np.uint8)).save(buffer, format="PNG")
    png = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'<img class="{css_class}" src="data:image/png;base64,{png}" width="{MODEL_INPUT_DISPLAY_SIZE}" '
            f'height="{MODEL_INPUT_DISPLAY_SIZE}" style="image-rendering:pixelated;border:1px solid #888" '
            f'alt="{alt}"/>')


def _probability_bars(prediction: Prediction) -> str:
    rows = []
    for digit, probability in enumerate(prediction.probabilities):
        colour = "#1f77b4" if digit == prediction.digit else "#9ecae1"
        rows.append(
            '<div style="display:flex;align-items:center;gap:6px;height:16px">'
            f'<span style="width:10px;text-align:right">{digit}</span>'
            '<span style="display:inline-block;width:120px;height:12px;background:#eee">'
            f'<span style="display:block;width:{probability * 100:.1f}%;height:100%;background:{colour}"></span></span>'
            f'<span style="width:48px;text-align:right;font-size:11px">{probability:.1%}</span></div>'
        )
    return f'<div class="numvision-bars" title="probability of each digit">{"".join(rows)}</div>'


def render_panel(prediction: Prediction | None, message: str = EMPTY_MESSAGE) -> str:
    """The result panel's HTML: big digit, confidence, top-3, ten probability bars and the model input.

    Without a prediction it shows only `message` (an empty pad: "Draw a digit"; or what went wrong).
    """
    if prediction is None:
        return (f'<div class="numvision-panel" style="font-family:sans-serif;font-size:20px;padding:12px">'
                f'<span class="numvision-status">{html.escape(message)}</span></div>')
    others = " · ".join(f"{digit} ({probability:.1%})" for digit, probability in prediction.top3)
    warning = (f'<div style="color:#b35900;max-width:220px"><span class="numvision-uncertain">Not sure: '
               f'{html.escape(prediction.uncertain_reason)}</span></div>' if prediction.uncertain else "")
    return (
        '<div class="numvision-panel" style="display:flex;gap:18px;font-family:sans-serif">'
        '<div style="display:flex;flex-direction:column;gap:4px">'
        f'<div style="font-size:64px;font-weight:bold;line-height:1"><span class="numvision-digit">{prediction.digit}</span></div>'
        f'<div class="numvision-confidence">{prediction.confidence:.1%} sure</div>{warning}'
        f'<div class="numvision-top3" style="font-size:12px">Top 3: {others}</div>'
        '<div style="font-size:12px;margin-top:6px">What the network sees (28x28):</div>'
        f'{pixelated_image(prediction.model_input, "numvision-model-input", "model input")}</div>'
        f'{_probability_bars(prediction)}</div>'
    )


class DrawingPad:
    """Canvas, brush slider, Clear and Undo, and the live prediction panel; display it in a notebook cell."""

    def __init__(self, predictor: Predictor | None = None, size: int = DEFAULT_CANVAS_SIZE,
                 brush_width: int = DEFAULT_BRUSH_WIDTH):
        self.predictor = predictor or Predictor.load()
        self.size = size
        self.strokes: list[list[tuple[float, float]]] = []
        self.prediction: Prediction | None = None
        self._drawing = False
        self._prediction_listeners: list[Callable[[Prediction | None], None]] = []

        # An explicit layout size, or a surrounding VBox stretches the canvas and the mouse misses the ink.
        self.canvas = Canvas(width=size, height=size, layout=widgets.Layout(width=f"{size}px", height=f"{size}px"))
        self.canvas.add_class("numvision-canvas")
        self.brush = widgets.IntSlider(value=brush_width, min=6, max=40, description="Brush",
                                       layout=widgets.Layout(width=f"{size}px"))
        half_width = widgets.Layout(width=f"{size // 2 - 4}px")  # the two buttons span the canvas
        self.clear_button = widgets.Button(description="Clear", icon="eraser", layout=half_width)
        self.clear_button.add_class("numvision-clear")
        self.undo_button = widgets.Button(description="Undo", icon="undo", layout=half_width)
        self.undo_button.add_class("numvision-undo")
        self.result = widgets.HTML(render_panel(None))
        self.result.add_class("numvision-result")
        controls = widgets.VBox([self.canvas, widgets.HBox([self.clear_button, self.undo_button]), self.brush])
        # The right-hand column: the answer first, then any panels added with `add_panel`.
        self.side = widgets.VBox([self.result], layout=widgets.Layout(margin="0 0 0 16px"))
        self.widget = widgets.HBox([controls, self.side])
        self.widget.add_class("numvision-pad")

        self.canvas.on_mouse_down(self.start_stroke)
        self.canvas.on_mouse_move(self.extend_stroke)
        self.canvas.on_mouse_up(self.end_stroke)
        self.canvas.on_mouse_out(self.end_stroke)
        self.canvas.on_touch_start(lambda touches: self.start_stroke(*touches[0]) if touches else None)
        self.canvas.on_touch_move(lambda touches: self.extend_stroke(*touches[0]) if touches else None)
        self.canvas.on_touch_end(lambda touches: self.end_stroke())
        self.canvas.on_touch_cancel(lambda touches: self.end_stroke())
        self.canvas.on_client_ready(self._redraw)
        self.clear_button.on_click(lambda _: self.clear())
        self.undo_button.on_click(lambda _: self.undo())
        self.brush.observe(self._brush_changed, names="value")
        self._redraw()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def add_panel(self, panel: widgets.Widget) -> None:
        """Show another widget under the answer (a lesson's extra view, say)."""
        self.side.children = (*self.side.children, panel)

    def on_prediction(self, callback: Callable[[Prediction | None], None]) -> None:
        """Call `callback(prediction)` after every new answer; `None` when the pad is empty or unreadable."""
        self._prediction_listeners.append(callback)

    # ------------------------------------------------------------ event handlers

    def start_stroke(self, x: float, y: float) -> None:
        self._drawing = True
        self.strokes.append([(x, y)])
        with hold_canvas():
            self.canvas.fill_circle(x, y, self.brush.value / 2)

    def extend_stroke(self, x: float, y: float) -> None:
        if not self._drawing:
            return
        stroke = self.strokes[-1]
        previous = stroke[-1]
        stroke.append((x, y))
        with hold_canvas():
            self.canvas.stroke_line(previous[0], previous[1], x, y)

    def end_stroke(self, x: float | None = None, y: float | None = None) -> None:
        """Mouse up, mouse leaving the canvas or finger lifted: the stroke is complete, predict."""
        if not self._drawing:
            return
        if x is not None and y is not None and self._inside(x, y):
            self.extend_stroke(x, y)
        self._drawing = False
        self.update_prediction()

    def clear(self) -> None:
        self.strokes.clear()
        self._drawing = False
        self._redraw()
        self.update_prediction()

    def undo(self) -> None:
        """Remove the last stroke."""
        if self.strokes:
            self.strokes.pop()
        self._drawing = False
        self._redraw()
        self.update_prediction()

    def draw(self, strokes) -> Prediction | None:
        """Draw strokes (lists of (x, y) canvas points) as if with the mouse; returns the new prediction."""
        for stroke in strokes:
            first, *rest = stroke
            self.start_stroke(*first)
            for point in rest:
                self.extend_stroke(*point)
            self.end_stroke()
        return self.prediction

    # ------------------------------------------------------------ prediction and display

    def update_prediction(self) -> None:
        if not self.strokes:
            self.prediction = None
            self.result.value = render_panel(None)
        else:
            try:
                self.prediction = self.predictor.predict(self.strokes, canvas_size=self.size,
                                                         brush_width=self.brush.value)
                self.result.value = render_panel(self.prediction)
            except NumVisionError as error:  # keep the drawing and say what is wrong
                self.prediction = None
                self.result.value = render_panel(None, str(error))
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
        with hold_canvas():
            self.canvas.fill_style = BACKGROUND
            self.canvas.fill_rect(0, 0, self.size, self.size)
            self._set_pen()
            for stroke in self.strokes:
                if len(stroke) == 1:
                    self.canvas.fill_circle(stroke[0][0], stroke[0][1], self.brush.value / 2)
                else:
                    self.canvas.stroke_lines(stroke)

    def _brush_changed(self, _change) -> None:
        # The brush applies to the whole drawing: students can watch how thickness changes the answer.
        self._redraw()
        if self.strokes:
            self.update_prediction()


class ImageUploadPanel:
    """Upload a photo or scan of a handwritten digit and see the same prediction panel as the pad."""

    def __init__(self, predictor: Predictor | None = None):
        self.predictor = predictor or Predictor.load()
        self.prediction: Prediction | None = None
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="Upload a digit")
        self.result = widgets.HTML(render_panel(None, "Upload a photo or scan of one handwritten digit"))
        # Not `numvision-result`: that class belongs to the drawing pad alone (the browser test looks for it).
        self.result.add_class("numvision-upload-result")
        self.widget = widgets.VBox([self.upload, self.result])
        self.upload.observe(lambda change: self.show_files(change["new"]), names="value")

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def add_panel(self, panel: widgets.Widget) -> None:
        """Show another widget under the answer (a lesson's extra view, say)."""
        self.side.children = (*self.side.children, panel)

    def on_prediction(self, callback: Callable[[Prediction | None], None]) -> None:
        """Call `callback(prediction)` after every new answer; `None` when the pad is empty or unreadable."""
        self._prediction_listeners.append(callback)

    def show_files(self, files) -> None:
        """Predict the digit in the (last) uploaded file: FileUpload's value, a tuple of dicts."""
        if not files:
            return
        file = files[-1]
        self.show(bytes(file["content"]), name=file["name"])

    def show(self, image, name: str | None = None) -> Prediction | None:
        """Predict any image (path, bytes, array, PIL image) and show it; errors are shown, not raised."""
        try:
            if isinstance(image, bytes):
                image = load_image(image, name=name)
            self.prediction = self.predictor.predict(image)
            self.result.value = render_panel(self.prediction)
        except NumVisionError as error:
            self.prediction = None
            self.result.value = render_panel(None, str(error))
        return self.prediction

"""The drawing pad's explain view: a toggle under the answer that shows where the network looked (Grad-CAM).

`ExplainPanel.attach(pad)` adds the panel below the pad's answer (`DrawingPad.add_panel`) and listens for every
new answer (`DrawingPad.on_prediction`); the pad itself knows nothing about it. Grad-CAM runs on the pad's float
Keras model (the 8-bit LiteRT copy that answers has no gradients) and only while the view is shown: switched
off, the panel holds just its button, and the pad does what the plain pad does.

DOM contract (the real-browser test relies on it): the toggle button has class `numvision-explain-toggle`; the
view (an HTML widget, class `numvision-explain`) is empty while switched off. Switched on, it holds
`<span class="numvision-explain-digit">D</span>` (the digit explained) and `<img class="numvision-gradcam">`,
or `<span class="numvision-explain-status">` while there is no answer to explain.
"""
from __future__ import annotations

import html

import ipywidgets as widgets

from .drawing import DrawingPad, pixelated_image
from .errors import ConfigError
from .explain import GradCam
from .plots import heatmap_overlay
from .prediction import Prediction, keras_model_of

NOTHING_TO_EXPLAIN = "Draw a digit to see where the network looks."


def render_explanation(prediction: Prediction | None, heat) -> str:
    """The view's HTML: the Grad-CAM overlay of the drawing for its answer, or a message without an answer.

    On a "not a digit" answer it explains the network's best guess, saying so: the network itself always names a
    digit, and seeing what it made of a letter or a scribble is part of the lesson."""
    if prediction is None:
        return (f'<div class="numvision-explain-panel" style="font-family:sans-serif;font-size:12px">'
                f'<span class="numvision-explain-status">{html.escape(NOTHING_TO_EXPLAIN)}</span></div>')
    digit = f'<span class="numvision-explain-digit" style="font-weight:bold">{prediction.digit}</span>'
    heading = (f"Where the network looked for the {digit} (Grad-CAM):" if prediction.is_digit else
               f"The pad says this is not a digit. The network on its own would still have guessed {digit}; "
               "where it looked for it (Grad-CAM):")
    return (
        '<div class="numvision-explain-panel" style="font-family:sans-serif;font-size:12px;max-width:240px">'
        f'<div>{heading}</div>'
        f'{pixelated_image(heatmap_overlay(prediction.model_input, heat), "numvision-gradcam", "Grad-CAM overlay")}'
        '<div style="color:#555">Red: the strongest evidence for this digit, then yellow, green and blue for less '
        'and less; no colour: none.</div></div>'
    )


class ExplainPanel:
    """An "Explain" toggle and the Grad-CAM view of the pad's current drawing; see the module's docstring."""

    def __init__(self, gradcam: GradCam):
        self.gradcam = gradcam
        self.prediction: Prediction | None = None
        self.toggle = widgets.ToggleButton(value=False, description="Explain", icon="eye",
                                           tooltip="Show where the network looked to give its answer")
        self.toggle.add_class("numvision-explain-toggle")
        self.view = widgets.HTML("")
        self.view.add_class("numvision-explain")
        self.widget = widgets.VBox([self.toggle, self.view], layout=widgets.Layout(margin="8px 0 0 0"))
        self.toggle.observe(lambda _change: self.update(), names="value")

    @classmethod
    def attach(cls, pad) -> "ExplainPanel":
        """An explain panel for a `DrawingPad`, shown under its answer and following every new answer."""
        if not isinstance(pad, DrawingPad):  # anything else lacked a pad's hooks: a raw AttributeError
            raise ConfigError(f"ExplainPanel.attach takes the drawing pad, such as pad = DrawingPad(Predictor.load()), "
                              f"not a {type(pad).__name__}")
        panel = cls(GradCam(keras_model_of(pad.predictor, "the explain view")))
        pad.add_panel(panel.widget)
        pad.on_prediction(panel.show)
        panel.show(pad.prediction)
        return panel

    @property
    def shown(self) -> bool:
        return self.toggle.value

    def show(self, prediction: Prediction | None) -> None:
        """Take the pad's new answer; explain it at once if the view is switched on."""
        self.prediction = prediction
        self.update()

    def update(self) -> None:
        if not self.shown:
            self.view.value = ""  # also drops the last overlay, so nothing stale reappears when switched on
            return
        heat = None
        if self.prediction is not None:
            heat = self.gradcam(self.prediction.model_input, self.prediction.digit)[0]
        self.view.value = render_explanation(self.prediction, heat)

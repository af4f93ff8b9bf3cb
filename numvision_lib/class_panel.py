"""Saving labelled drawings from the drawing pad into the class collection: a panel under the pad's answer.

When the network has answered, the student confirms the answer with one click, or clicks the digit it really
is; the drawing is saved (`class_collection`) with its label, the network's answer and confidence, the model's
name, the student and the time, and the pad clears for the next one. A counter shows how many of each digit the
student has saved, in this session and before. A wrong button clicked can be taken back: *Undo the last save*
deletes that drawing from the collection and puts it back on the pad, with the brush it was drawn with, to be saved
again. While a new drawing is on the pad it takes nothing back and says so: Clear the pad first.

Who is saving: the JupyterHub user ($JUPYTERHUB_USER) where there is one, otherwise a name the student types
once; the collection stores a pseudonym of it (see `ClassCollection.student_id`). If a save fails (the
folder cannot be written, say), the panel says why and the drawing stays on the pad.

The panel only uses the pad's hooks (`add_panel`, `on_prediction`) and plain methods, so it can be driven and
tested without a browser. A click reaches the kernel after anything drawn before it, so the answer may have
changed between what the student saw and the click: each answer has its own confirm button ("Yes, it is a 3"), and
a click on one the kernel no longer shows saves nothing and asks again. DOM classes: the panel
`numvision-save-panel`, the confirm buttons `numvision-save-confirm`, the digit buttons `numvision-save-digit`, the
undo button `numvision-save-undo` and the counter `numvision-save-counter`.
"""
from __future__ import annotations

import html
import os

import ipywidgets as widgets
import numpy as np

from .class_collection import ClassCollection, CollectionContents, DrawingRecord
from .data import DIGITS
from .drawing import DrawingPad
from .errors import ConfigError, NumVisionError
from .prediction import BasePredictor, Prediction, a_digit

HUB_USER_VARIABLE = "JUPYTERHUB_USER"


class SaveDrawingPanel:
    """Confirm or correct the pad's answer and save the labelled drawing; attaches itself to `pad`."""

    def __init__(self, pad: DrawingPad, collection: ClassCollection | None = None, student: str | None = None):
        """`student`: a name to save under (default: $JUPYTERHUB_USER, else the student types one)."""
        if not isinstance(pad, DrawingPad):  # a Predictor, meant as the pad's model, had no add_panel to attach to
            raise ConfigError(_not_a_pad_message(pad))
        # `is None`, not truthiness: an empty collection.read() is falsy, and would quietly send every drawing to
        # the default class folder.
        if collection is not None and not isinstance(collection, ClassCollection):
            raise ConfigError(_not_a_collection_message(collection))
        self.pad = pad
        self.collection = ClassCollection() if collection is None else collection
        self.name: str | None = None  # as the student typed it
        self.student: str | None = None  # the stored id, once known
        self.counts = np.zeros(len(DIGITS), dtype=np.int64)
        self.last_saved: DrawingRecord | None = None  # what Undo takes back

        # Enter (or leaving the box) sets the value once: it starts saving as the button does.
        self.name_box = widgets.Text(placeholder="your name or a nickname", description="Name:",
                                     continuous_update=False, layout=widgets.Layout(width="230px"))
        self.start_button = widgets.Button(description="Start saving", icon="check",
                                           layout=widgets.Layout(width="110px"))
        self.name_row = widgets.HBox([self.name_box, self.start_button])
        self.question = widgets.HTML()
        # One button per answer, of which the panel shows one: a click names the answer the student saw.
        self.disabled_confirm_button = _confirm_button("Yes, save it")
        self.disabled_confirm_button.disabled = True
        self.confirm_buttons = [_confirm_button(f"Yes, it is {a_digit(digit)}") for digit in DIGITS]
        self.confirm_row = widgets.Box([self.disabled_confirm_button])
        self.digit_buttons = [widgets.Button(description=str(digit), layout=widgets.Layout(width="34px"))
                              for digit in DIGITS]
        for button in self.digit_buttons:
            button.add_class("numvision-save-digit")
        self.status = widgets.HTML()
        self.undo_button = widgets.Button(description="Undo the last save", icon="undo", disabled=True,
                                          layout=widgets.Layout(width="230px"))
        self.undo_button.add_class("numvision-save-undo")
        self.counter = widgets.HTML()
        self.counter.add_class("numvision-save-counter")
        self.widget = widgets.VBox([
            widgets.HTML("<b>Save this drawing for the class</b>"), self.name_row, self.question,
            self.confirm_row, widgets.HTML("No, it is a:"), widgets.HBox(self.digit_buttons),
            self.status, self.undo_button, self.counter,
        ], layout=widgets.Layout(margin="12px 0 0 0"))
        self.widget.add_class("numvision-save-panel")

        self.start_button.on_click(lambda _: self.start(self.name_box.value))
        self.name_box.observe(lambda change: self.start(change["new"]) if change["new"].strip() else None,
                              names="value")
        for digit, button in zip(DIGITS, self.confirm_buttons):
            button.on_click(lambda _, digit=digit: self.confirm(digit))
        for digit, button in zip(DIGITS, self.digit_buttons):
            button.on_click(lambda _, digit=digit: self.save(digit))
        self.undo_button.on_click(lambda _: self.undo_last_save())
        pad.add_panel(self.widget)
        pad.on_prediction(self.show_prediction)

        name = student or os.environ.get(HUB_USER_VARIABLE)
        if name:
            self.start(name)
        else:
            self.status.value = ("Type your name once and press Enter or click <i>Start saving</i> (it is stored as a "
                                 "pseudonym), then draw.")
            self.show_prediction(pad.prediction)

    def start(self, name: str) -> None:
        """Save from now on as `name` (stored as the collection's id for it); the name row then goes away."""
        try:
            self.student = self.collection.student_id(name)
            self._count_saved()
        except NumVisionError as error:
            self.status.value = _problem(str(error))
            return
        self.name = name
        self.name_row.layout.display = "none"
        stored_as = "a pseudonym: your name is not stored" if self.collection.pseudonymous else "your name"
        self.status.value = f"Saving as <code>{html.escape(self.student)}</code> ({stored_as})."
        self.show_prediction(self.pad.prediction)

    @property
    def shown_confirm_button(self) -> widgets.Button:
        """The confirm button the panel shows now."""
        return self.confirm_row.children[0]

    def show_prediction(self, prediction: Prediction | None) -> None:
        """Called by the pad after every answer: ask about it, and allow saving only when there is one."""
        ready = self.student is not None and prediction is not None
        for button in self.digit_buttons:
            button.disabled = not ready
        # Nothing to confirm when the pad says "not a digit": the student clicks the digit it is, if it is one.
        if prediction is not None and prediction.is_digit:
            shown = self.confirm_buttons[prediction.digit]
            shown.disabled = not ready  # until the student's name is known
        else:
            shown = self.disabled_confirm_button
        self.confirm_row.children = [shown]
        if prediction is None and self.pad.strokes:
            self.question.value = "This drawing cannot be read (the pad says why), so there is nothing to save yet."
        elif prediction is None:
            self.question.value = "Draw a digit; then confirm or correct the network's answer to save it."
        elif not prediction.is_digit:
            self.question.value = (f"The network thinks this is <b>not a digit</b> (its best guess: "
                                   f"{prediction.digit}). If it is one, click it below.")
        else:
            self.question.value = f"The network says <b>{prediction.digit}</b>. Is that right?"
        self.counter.value = _counter_table(self.counts)

    def confirm(self, digit: int) -> DrawingRecord | None:
        """The student confirms that the drawing is the `digit` the network answered: save it with that label.
        If the network's answer is no longer `digit` (the drawing changed before the click arrived), nothing is
        saved and the panel asks about the new answer."""
        prediction = self.pad.prediction
        if prediction is not None and (not prediction.is_digit or prediction.digit != digit):
            answer = prediction.digit if prediction.is_digit else "not a digit"
            self.status.value = _problem(f"Not saved: as you clicked, the network's answer changed from {digit} to "
                                         f"{answer}. Check the answer above and click again.")
            return None
        return self.save(digit)  # no answer at all: `save` says why, for both kinds of button

    def save(self, label: int) -> DrawingRecord | None:
        """Save the pad's drawing labelled `label` and clear the pad; None when there is nothing to save or the
        save failed (the panel then says why, and the drawing stays on the pad)."""
        prediction = self.pad.prediction
        if self.student is None:
            return None
        if prediction is None:
            # A click sent before the kernel disabled the buttons still arrives: the answer the student saw is gone.
            if self.pad.strokes:  # a stroke drawn just before the click made the drawing unreadable
                self.status.value = _problem("Not saved: as you clicked, the drawing changed into one the pad "
                                             "cannot read (the pad says why).")
            return None  # otherwise the pad is empty: cleared by the save of a first click, say
        # "Not a digit" is the answer stored: its best guess is no answer, whichever digit the student clicks.
        answered = prediction.is_digit
        try:
            # The id again at every save: in a collection started afresh (its pseudonym key gone) the name has a
            # new one, and drawings saved under the old id could not be found by the name to be deleted.
            student = self.collection.student_id(self.name)
            record = self.collection.save(
                label, self.pad.strokes, student, canvas_size=self.pad.size, brush_width=self.pad.brush.value,
                predicted=prediction.digit if answered else None,
                confidence=prediction.confidence if answered else None, model=self.pad.predictor.name)
        except NumVisionError as error:
            self.status.value = _problem(f"{error} Your drawing is still on the pad.")
            return None
        self.student = student
        self._count_saved()
        self.last_saved = record
        self.undo_button.disabled = False
        if not answered:
            answer = "the network said it was not a digit"
        elif label == prediction.digit:
            answer = "as the network said"
        else:
            answer = f"the network said {prediction.digit}"
        self.status.value = f"Saved {a_digit(label)} ({answer}). Thank you! Draw the next one."
        self.pad.clear()  # the pad then calls show_prediction(None): nothing left to save twice
        return record

    def undo_last_save(self) -> DrawingRecord | None:
        """Take back the last drawing this panel saved (a wrong button clicked): delete it from the collection and
        draw it on the pad again, with the brush it was saved with, to be saved with the right answer. A stroke that
        left the canvas and came back was saved as its pieces, which come back as strokes of their own: the pad's
        Undo takes them back one at a time.

        While the student's next drawing is on the pad, nothing is taken back (the saved drawing would have nowhere
        to go) and the panel says to clear the pad first; the button stays. Returns the record taken back, None if
        there was none or it could not be."""
        record = self.last_saved
        if record is None:
            return None
        if self.pad.strokes:
            self.status.value = _problem(_pad_not_empty_message(record.label))
            return None
        try:
            deleted = self.collection.delete_record(record)
        except NumVisionError as error:
            self.status.value = _problem(str(error))
            return None
        self.last_saved = None
        self.undo_button.disabled = True
        self._count_saved()
        self.counter.value = _counter_table(self.counts)
        gone = "" if deleted else " (someone had deleted it already)"
        # The slider keeps its value within its range; a record this panel saved was drawn within it.
        self.pad.brush.value = round(record.brush_width)
        self.pad.draw([stroke.tolist() for stroke in record.strokes])  # the pad then asks about it again
        self.status.value = (f"Took back the {record.label}{gone}: it is on the pad again, to be saved with "
                             f"the right answer (or cleared).")
        return record

    def _count_saved(self) -> None:
        # Counted in the collection, not kept by hand: it then counts the student's saves from another panel (notebook
        # 09 has two), and not a drawing someone else deleted.
        self.counts = self.collection.counts(self.student)


def _not_a_collection_message(given) -> str:
    return (f"SaveDrawingPanel saves into a ClassCollection, such as ClassCollection() or "
            f"ClassCollection('class_drawings'), not a {type(given).__name__}"
            + (" (collection.read() gives the drawings saved so far, not the collection: give the collection itself)"
               if isinstance(given, CollectionContents) else ""))


def _not_a_pad_message(given) -> str:
    return (f"SaveDrawingPanel goes under a drawing pad: give it the DrawingPad, not a {type(given).__name__}"
            + (" (that is the pad's model: make the pad with it first, pad = DrawingPad(predictor), then "
               "SaveDrawingPanel(pad, collection))" if isinstance(given, BasePredictor) else ""))


def _pad_not_empty_message(label: int) -> str:
    # Clear, not save: a save of the new drawing would become the last save, and Undo would take back that one.
    return (f"Nothing taken back yet: a new drawing is on the pad. Click Clear under the pad first; then Undo the "
            f"last save puts the drawing saved as {a_digit(label)} back on the pad, to be saved with the right digit.")


def _confirm_button(description: str) -> widgets.Button:
    button = widgets.Button(description=description, button_style="success", icon="save",
                            layout=widgets.Layout(width="230px"))
    button.add_class("numvision-save-confirm")
    return button


def _problem(message: str) -> str:
    return f'<span class="numvision-save-problem" style="color:#b30000">{html.escape(message)}</span>'


def _counter_table(counts: np.ndarray) -> str:
    cells = "".join(f'<td style="padding:0 5px;text-align:center">{count}</td>' for count in counts)
    header = "".join(f'<th style="padding:0 5px">{digit}</th>' for digit in DIGITS)
    return (f'<table style="font-size:12px"><tr><th style="text-align:left">digit</th>{header}<th>all</th></tr>'
            f'<tr><td>you saved</td>{cells}<td style="padding:0 5px"><b>{int(counts.sum())}</b></td></tr></table>')

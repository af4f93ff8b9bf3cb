"""The save panel on a real drawing pad, driven through its buttons without a browser."""
from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from numvision_lib.class_collection import ClassCollection
from numvision_lib.class_panel import SaveDrawingPanel
from numvision_lib.drawing import DrawingPad
from numvision_lib.drawn_digits import template_strokes
from numvision_lib.errors import ConfigError, ImageError
from numvision_lib.prediction import a_digit

WAVE = [[(40, 140), (80, 120), (120, 160), (160, 120), (200, 160), (240, 140)]]  # the pad says: not a digit


@pytest.fixture
def collection(tmp_path) -> ClassCollection:
    return ClassCollection(tmp_path / "class")


@pytest.fixture
def pad(predictor) -> DrawingPad:
    return DrawingPad(predictor)


def counter_cells(panel: SaveDrawingPanel) -> list[int]:
    row = panel.counter.value.split("you saved")[1]
    return [int(cell) for cell in re.findall(r">(\d+)<", row)]


def buttons_enabled(panel: SaveDrawingPanel) -> bool:
    states = {panel.shown_confirm_button.disabled, *(button.disabled for button in panel.digit_buttons)}
    assert len(states) == 1, "for a digit, the confirm and digit buttons are enabled together"
    return not states.pop()


def test_the_panel_sits_under_the_answer(pad, collection):
    panel = SaveDrawingPanel(pad, collection, student="Ada")
    assert pad.side.children == (pad.result, panel.widget)
    assert "numvision-save-panel" in panel.widget._dom_classes
    assert all("numvision-save-confirm" in button._dom_classes
               for button in [panel.shown_confirm_button, *panel.confirm_buttons])
    assert [button.description for button in panel.digit_buttons] == [str(digit) for digit in range(10)]


def test_the_panel_saves_into_the_collection_it_is_given_and_refuses_anything_else(pad, collection, tmp_path,
                                                                                   monkeypatch):
    """collection.read() (in notebook 09 beside the collection) is the drawings, not where to save: an empty one
    must not send the drawings to the default class folder, nor a folder's name fail on a missing attribute."""
    monkeypatch.setenv("NUMVISION_CLASS_DIR", str(tmp_path / "default_class"))
    for given in (collection.read(), str(collection.folder)):
        with pytest.raises(ConfigError, match=rf"SaveDrawingPanel saves into a ClassCollection, such as "
                                              rf"ClassCollection\(\) .* not a {type(given).__name__}"):
            SaveDrawingPanel(pad, given, student="Ada")
    with pytest.raises(ConfigError, match=r"collection.read\(\) gives the drawings saved so far, not the collection"):
        SaveDrawingPanel(pad, collection.read(), student="Ada")
    assert pad.side.children == (pad.result,)  # nothing attached to the pad
    panel = SaveDrawingPanel(pad, None, student="Ada")
    assert panel.collection.folder == tmp_path / "default_class"  # None: the default collection


def test_the_panel_goes_under_a_pad_not_its_model(predictor, collection):
    """"Switch the pad to the fine-tuned model" written as SaveDrawingPanel(Predictor.load(...), collection) was a raw
    AttributeError ('Predictor' object has no attribute 'add_panel')."""
    with pytest.raises(ConfigError, match=re.escape(
            "SaveDrawingPanel goes under a drawing pad: give it the DrawingPad, not a Predictor (that is the pad's "
            "model: make the pad with it first, pad = DrawingPad(predictor), then SaveDrawingPanel(pad, "
            "collection))")):
        SaveDrawingPanel(predictor, collection, student="Ada")
    with pytest.raises(ConfigError, match=r"give it the DrawingPad, not a str$"):
        SaveDrawingPanel("pad", collection, student="Ada")
    assert not collection.folder.exists()  # nothing started


def test_one_click_confirms_saves_and_clears_the_pad(pad, collection):
    panel = SaveDrawingPanel(pad, collection, student="Ada")
    assert not buttons_enabled(panel)  # nothing drawn yet
    strokes = template_strokes(7, "bar")
    pad.draw(strokes)
    assert "says <b>7</b>" in panel.question.value and panel.shown_confirm_button.description == "Yes, it is a 7"
    confidence = pad.prediction.confidence
    panel.shown_confirm_button.click()

    (record,) = collection.read().records
    assert (record.label, record.predicted, record.model) == (7, 7, "numvision_cnn")
    assert record.student == collection.student_id("Ada") and record.confidence == pytest.approx(confidence)
    for stored, drawn in zip(record.strokes, strokes, strict=True):
        np.testing.assert_allclose(stored, drawn, atol=0.006)  # kept to a hundredth of a pixel
    assert (record.brush_width, record.canvas_size) == (pad.brush.value, pad.size)
    assert pad.strokes == [] and pad.prediction is None
    assert counter_cells(panel) == [0] * 7 + [1, 0, 0, 1]
    assert not buttons_enabled(panel)
    panel.confirm_buttons[7].click()  # a double click: the second has nothing left to save
    assert len(collection.read()) == 1 and "Saved a 7" in panel.status.value


def test_a_click_on_an_answer_that_changed_before_it_arrived_saves_nothing(pad, collection):
    """The student sees "Yes, it is a 1" and clicks it, but a stroke drawn just before reaches the kernel first and
    makes the drawing a 7: the click names the 1 the student saw, so nothing is saved and the panel asks again."""
    panel = SaveDrawingPanel(pad, collection, student="Ada")
    pad.draw(template_strokes(1, "stroke"))
    seen = panel.shown_confirm_button
    assert seen.description == "Yes, it is a 1"
    pad.draw([[(70, 44), (140, 44)]])  # a bar across the top: the 1 becomes a 7
    assert pad.prediction.digit == 7 and panel.shown_confirm_button.description == "Yes, it is a 7"
    seen.click()
    assert len(collection.read()) == 0 and pad.strokes  # the drawing stays on the pad
    assert "changed from 1 to 7" in panel.status.value
    panel.shown_confirm_button.click()
    assert [record.label for record in collection.read().records] == [7]


def test_an_8_has_its_article(pad, collection):
    panel = SaveDrawingPanel(pad, collection, student="Ada")
    assert [button.description for button in panel.confirm_buttons[7:9]] == ["Yes, it is a 7", "Yes, it is an 8"]
    pad.draw(template_strokes(3))
    panel.digit_buttons[8].click()
    assert "Saved an 8 (the network said 3)" in panel.status.value


def test_a_wrong_answer_is_corrected_with_the_digit_buttons(pad, collection):
    panel = SaveDrawingPanel(pad, collection, student="Ada")
    pad.draw(template_strokes(1, "stroke"))
    assert pad.prediction.digit == 1
    panel.digit_buttons[7].click()  # say the student meant a 7
    (record,) = collection.read().records
    assert (record.label, record.predicted) == (7, 1)
    assert "Saved a 7 (the network said 1)" in panel.status.value
    assert counter_cells(panel)[7] == 1


def test_a_wrong_button_clicked_is_taken_back_and_the_drawing_returns_to_the_pad(pad, collection):
    panel = SaveDrawingPanel(pad, collection, student="Ada")
    assert panel.undo_button.disabled  # nothing saved yet
    strokes = template_strokes(7, "bar")
    pad.draw(strokes)
    panel.digit_buttons[1].click()  # meant the "Yes", hit the 1
    assert counter_cells(panel)[1] == 1 and not panel.undo_button.disabled

    panel.undo_button.click()
    assert len(collection.read()) == 0 and counter_cells(panel)[1] == 0
    assert "Took back the 1" in panel.status.value and panel.undo_button.disabled
    for back, drawn in zip(pad.strokes, strokes, strict=True):
        np.testing.assert_allclose(back, drawn, atol=0.006)  # as it was saved
    assert pad.prediction.digit == 7 and panel.shown_confirm_button.description == "Yes, it is a 7"
    panel.shown_confirm_button.click()
    assert [(record.label, record.predicted) for record in collection.read().records] == [(7, 7)]


def test_taking_back_a_save_waits_until_the_drawing_started_since_is_cleared(pad, collection):
    """The student clicks the wrong digit, starts the next drawing, then sees the mistake. Undo deleted the saved
    drawing for good and put it nowhere: notebook 09 promises that it goes back on the pad."""
    panel = SaveDrawingPanel(pad, collection, student="Ada")
    three = template_strokes(3)
    pad.draw(three)
    panel.digit_buttons[8].click()
    started = template_strokes(1, "stroke")
    pad.draw(started)
    assert panel.undo_last_save() is None
    assert len(collection.read()) == 1 and counter_cells(panel)[8] == 1, "nothing was taken back"
    assert not panel.undo_button.disabled and panel.last_saved is not None
    assert ("Nothing taken back yet: a new drawing is on the pad. Click Clear under the pad first; then Undo the "
            "last save puts the drawing saved as an 8 back on the pad") in panel.status.value
    assert len(pad.strokes) == len(started) and pad.prediction.digit == 1  # the new drawing is untouched

    pad.clear_button.click()
    panel.undo_button.click()
    assert len(collection.read()) == 0 and "Took back the 8" in panel.status.value
    for back, drawn in zip(pad.strokes, three, strict=True):
        np.testing.assert_allclose(back, drawn, atol=0.006)
    assert pad.prediction.digit == 3


def test_a_drawing_taken_back_comes_back_with_its_brush(pad, collection):
    """The student saves, moves the Brush slider for the next drawing, then takes the save back: the drawing came
    back with the new brush, and a second save stored that one."""
    panel = SaveDrawingPanel(pad, collection, student="Ada")
    pad.brush.value = 14
    pad.draw(template_strokes(7))
    panel.digit_buttons[1].click()
    pad.brush.value = 32
    panel.undo_button.click()
    assert pad.brush.value == 14 and pad.prediction.digit == 7
    panel.shown_confirm_button.click()
    assert [(record.label, record.brush_width) for record in collection.read().records] == [(7, 14)]


def test_the_counter_counts_what_the_collection_holds(pad, collection):
    """The counter was kept by hand: a drawing the teacher had deleted before the student's Undo stayed counted, and
    each of notebook 09's two panels counted only its own saves."""
    panel = SaveDrawingPanel(pad, collection, student="Ada")
    pad.draw(template_strokes(7, "bar"))
    panel.shown_confirm_button.click()
    assert collection.delete_student("Ada") == 1  # the teacher, meanwhile
    panel.undo_button.click()
    assert "someone had deleted it already" in panel.status.value
    assert counter_cells(panel) == [0] * 11
    panel.shown_confirm_button.click()  # saved again, with the right answer
    assert counter_cells(panel) == [0] * 7 + [1, 0, 0, 1] == [*collection.counts("Ada"), 1]

    tuned_pad = DrawingPad(pad.predictor)
    second = SaveDrawingPanel(tuned_pad, collection, student=panel.name)  # notebook 09's section 6
    assert counter_cells(second) == [0] * 7 + [1, 0, 0, 1], "the saves from the first panel count"
    tuned_pad.draw(template_strokes(3))
    second.digit_buttons[3].click()
    pad.draw(template_strokes(4))
    panel.digit_buttons[4].click()
    assert counter_cells(panel) == [0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 3], "the save from the second panel counts"


def test_taking_back_a_save_that_cannot_be_deleted_says_why(pad, collection):
    panel = SaveDrawingPanel(pad, collection, student="Ada")
    pad.draw(template_strokes(3))
    panel.digit_buttons[3].click()
    (saved,) = (collection.folder / panel.last_saved.student).iterdir()
    saved.unlink()
    saved.mkdir()  # something the file system will not unlink, even for root
    panel.undo_button.click()
    assert "cannot delete the drawing" in panel.status.value and not panel.undo_button.disabled
    assert counter_cells(panel)[3] == 1, "nothing was taken back"


def test_a_drawing_that_is_not_a_digit_can_only_be_labelled(pad, collection):
    panel = SaveDrawingPanel(pad, collection, student="Ada")
    pad.draw(WAVE)
    assert not pad.prediction.is_digit
    assert "not a digit" in panel.question.value and panel.shown_confirm_button.disabled
    assert not panel.digit_buttons[0].disabled and panel.confirm(pad.prediction.digit) is None
    panel.digit_buttons[2].click()  # the student says it was meant as a 2
    assert collection.read().records[0].label == 2


def test_a_digit_saved_after_not_a_digit_keeps_what_the_pad_said(pad, collection):
    """The network's best guess is not its answer: clicking that digit is a correction, not an agreement."""
    panel = SaveDrawingPanel(pad, collection, student="Ada")
    pad.draw(WAVE)
    guess = pad.prediction.digit
    assert not pad.prediction.is_digit
    panel.digit_buttons[guess].click()
    (record,) = collection.read().records
    assert (record.label, record.predicted, record.confidence, record.model) == (guess, None, None, "numvision_cnn")
    assert f"Saved {a_digit(guess)} (the network said it was not a digit)" in panel.status.value


def test_without_a_hub_user_the_name_is_typed_once(pad, collection, monkeypatch):
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    panel = SaveDrawingPanel(pad, collection)
    pad.draw(template_strokes(3))
    assert not buttons_enabled(panel)  # who is drawing is not known yet
    assert panel.shown_confirm_button.description == "Yes, it is a 3"  # the answer is shown all the same
    panel.name_box.value = "Grace"
    panel.start_button.click()
    assert panel.name_row.layout.display == "none" and buttons_enabled(panel)
    assert "pseudonym" in panel.status.value and "Grace" not in panel.status.value
    panel.shown_confirm_button.click()
    assert collection.read().records[0].student == collection.student_id("Grace") != "Grace"


def test_enter_in_the_name_box_starts_saving_too(pad, collection, monkeypatch):
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    panel = SaveDrawingPanel(pad, collection)
    assert "press Enter or click <i>Start saving</i>" in panel.status.value
    assert panel.name_box.continuous_update is False  # the value arrives once, on Enter or on leaving the box
    panel.name_box.value = "Grace"
    assert panel.student == collection.student_id("Grace") and panel.name_row.layout.display == "none"


def test_a_drawing_the_pad_cannot_read_is_not_offered_for_saving(pad, collection, monkeypatch):
    panel = SaveDrawingPanel(pad, collection, student="Ada")

    def unreadable(*args, **kwargs):
        raise ImageError("the drawing could not be read")

    pad.draw(template_strokes(4))
    seen = panel.shown_confirm_button
    monkeypatch.setattr(pad.predictor, "predict", unreadable)
    pad.draw([[(40, 250), (60, 250)]])  # one more stroke, and the pad can no longer read it
    assert pad.prediction is None and pad.strokes
    assert "cannot be read" in panel.question.value and not buttons_enabled(panel)
    seen.click()  # "Yes, it is a 4", clicked as that stroke arrived
    assert len(collection.read()) == 0 and "cannot read" in panel.status.value


def test_a_digit_click_that_arrives_as_the_drawing_becomes_unreadable_says_it_saved_nothing(pad, collection,
                                                                                          monkeypatch):
    """The digit buttons called `save`, which returned without a word: the status still said "Saved a 3 ... Thank
    you!" about the drawing that was not saved."""
    panel = SaveDrawingPanel(pad, collection, student="Ada")
    pad.draw(template_strokes(3))
    panel.digit_buttons[3].click()
    assert "Saved a 3" in panel.status.value

    def unreadable(*args, **kwargs):
        raise ImageError("the drawing could not be read")

    pad.draw(template_strokes(4))
    monkeypatch.setattr(pad.predictor, "predict", unreadable)
    pad.draw([[(40, 250), (60, 250)]])
    assert pad.prediction is None and pad.strokes
    assert panel.save(4) is None  # the click on "4", sent before the kernel disabled the button
    assert len(collection.read()) == 1 and "Saved" not in panel.status.value
    assert ("Not saved: as you clicked, the drawing changed into one the pad cannot read (the pad says why)."
            in panel.status.value)


def test_a_name_typed_again_with_more_spaces_is_the_same_student(pad, collection, monkeypatch):
    """Off a hub a student types the name in each panel: "Ada  Lovelace" the second time was another pseudonym, and
    the split could fine-tune on one and hold out the other, measuring the model on a student it had learned."""
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    first = SaveDrawingPanel(pad, collection)
    first.name_box.value = "Ada Lovelace"
    second = SaveDrawingPanel(DrawingPad(pad.predictor), collection)
    second.name_box.value = "ada  Lovelace"
    assert second.student == first.student == collection.student_id(" ADA   LOVELACE")


def test_an_empty_name_is_refused(pad, collection, monkeypatch):
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    panel = SaveDrawingPanel(pad, collection)
    panel.start("   ")
    assert panel.student is None and "empty" in panel.status.value and panel.name_row.layout.display != "none"


def test_the_hub_user_is_used_and_earlier_drawings_are_counted(pad, collection, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "ada-lovelace")
    student = collection.student_id("ada-lovelace")
    for digit in (2, 2, 5):  # saved in an earlier session
        collection.save(digit, template_strokes(digit), student)
    panel = SaveDrawingPanel(pad, collection)
    assert panel.student == student and panel.name_row.layout.display == "none"
    assert counter_cells(panel) == [0, 0, 2, 0, 0, 1, 0, 0, 0, 0, 3]


def test_a_collection_started_afresh_gets_the_students_new_pseudonym(pad, collection):
    """The teacher empties the folder, pseudonym key and all: the panel's next save is under the name's new id, so
    that the student's drawings can still be deleted by name."""
    panel = SaveDrawingPanel(pad, collection, student="Ada")
    pad.draw(template_strokes(7, "bar"))
    panel.shown_confirm_button.click()
    shutil.rmtree(collection.folder)
    pad.draw(template_strokes(3))
    panel.shown_confirm_button.click()
    assert panel.student == collection.student_id("Ada") and counter_cells(panel) == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1]
    assert collection.delete_student("Ada") == 1 and len(collection.read()) == 0


def test_the_panel_says_whether_the_name_or_a_pseudonym_is_stored(pad, collection, tmp_path):
    assert "(a pseudonym: your name is not stored)" in SaveDrawingPanel(pad, collection, student="Ada").status.value
    named = ClassCollection(tmp_path / "named", pseudonymous=False)
    (named.folder / "Ada").mkdir(parents=True)
    panel = SaveDrawingPanel(DrawingPad(pad.predictor), named, student="ada")  # typed otherwise than before
    assert panel.student == "Ada" and "Saving as <code>Ada</code> (your name)." in panel.status.value


def test_a_failed_save_keeps_the_drawing_and_says_why(pad, collection):
    panel = SaveDrawingPanel(pad, collection, student="Ada")
    shutil.rmtree(collection.folder)
    collection.folder.write_text("the shared folder went away")  # now nothing can be written there
    pad.draw(template_strokes(4))
    strokes = [list(stroke) for stroke in pad.strokes]
    assert panel.save(4) is None
    assert "cannot write to the class collection" in panel.status.value
    assert "Your drawing is still on the pad." in panel.status.value
    assert pad.strokes == strokes and pad.prediction is not None  # the drawing is still there
    assert np.all(panel.counts == 0) and buttons_enabled(panel)

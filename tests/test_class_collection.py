"""The class collection under a class's real conditions: many kernels at once, kills, damaged files, deletion,
export and import in the UNIPEN format. Every process here is a real one."""
from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from numvision_lib.class_collection import (PSEUDONYM_KEY_FILE, ClassCollection, balanced_choice,
                                            demo_collection, model_inputs, parse_record)
from numvision_lib.drawn_digits import template_strokes
from numvision_lib.errors import ConfigError, DataError, ImageError
from numvision_lib.handwriting import handwriting_dir, load_pen_samples, load_unipen
from numvision_lib.paths import PROJECT_ROOT

KERNELS = 30
SAVES_PER_KERNEL = 50

# One student's kernel: wait for the signal, then save as fast as it can. The strokes and the model field say
# which kernel saved which drawing, so the test can check every record is complete and where it belongs.
SAVING_KERNEL = """
import sys
from numvision_lib.class_collection import ClassCollection
folder, kernel, saves = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
print("ready", flush=True)
sys.stdin.readline()
collection = ClassCollection(folder)
student = collection.student_id(f"student {kernel}")
for index in range(saves):
    strokes = [[(10 + kernel, 10 + index), (200, 250 - index)], [(50, 60), (70, 80 + kernel)]]
    collection.save(index % 10, strokes, student, predicted=(index + 1) % 10, confidence=0.5,
                    model=f"kernel {kernel} drawing {index}")
"""

# A kernel that saves long drawings without end, printing each record id once its save has returned.
ENDLESS_SAVER = """
import sys
from numvision_lib.class_collection import ClassCollection
collection = ClassCollection(sys.argv[1])
student = collection.student_id("interrupted")
strokes = [[(x % 280, (x * 7) % 280) for x in range(20000)]]
while True:
    print(collection.save(3, strokes, student).record_id, flush=True)
"""

# A student's kernel saving without end while the teacher deletes the student: prints, once stopped, the ids of the
# saves that returned and the messages of those that failed.
SAVING_WHILE_DELETED = """
import json, os, sys
from numvision_lib.class_collection import ClassCollection
from numvision_lib.errors import DataError
collection = ClassCollection(sys.argv[1])
student = collection.student_id("Alex")
saved, refusals = [], set()
print("ready", flush=True)
while not os.path.exists(sys.argv[2]):
    try:
        saved.append(collection.save(3, [[(10, 10), (200, 250)]], student).record_id)
    except DataError as error:
        refusals.add(str(error))
print(json.dumps([saved, sorted(refusals)]))
"""


def start_kernel(script: str, *arguments: str) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.Popen([sys.executable, "-c", script, *arguments], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)


def expected_strokes(kernel: int, index: int) -> list:
    return [[[10 + kernel, 10 + index], [200, 250 - index]], [[50, 60], [70, 80 + kernel]]]


@pytest.fixture
def collection(tmp_path) -> ClassCollection:
    return ClassCollection(tmp_path / "class", name="class 7b")


def save_digits(collection: ClassCollection, name: str, digits) -> list:
    student = collection.student_id(name)
    return [collection.save(digit, template_strokes(digit), student, predicted=digit, confidence=0.9,
                            model="numvision_cnn") for digit in digits]


def file_bytes(folder) -> dict:
    return {path.relative_to(folder): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


# ---------------------------------------------------------------- saving and reading


def test_a_saved_drawing_reads_back_whole(collection):
    student = collection.student_id("Ada")
    strokes = template_strokes(4, "open")
    record = collection.save(4, strokes, student, canvas_size=280, brush_width=14, predicted=9, confidence=0.61,
                             model="numvision_plus")
    (read,) = collection.read().records
    assert (read.record_id, read.label, read.student, read.institution) == (record.record_id, 4, student, "class 7b")
    assert (read.predicted, read.confidence, read.model, read.brush_width, read.canvas_size) == (
        9, 0.61, "numvision_plus", 14.0, 280)
    assert read.saved_at == record.saved_at
    for stored, drawn in zip(read.strokes, strokes):
        np.testing.assert_allclose(stored, drawn, atol=0.005)
    # What the pad gave the network is what the record gives it back.
    from numvision_lib.preprocess import preprocess
    np.testing.assert_allclose(read.model_input(), preprocess(strokes, 280, 14), atol=0.02)


def test_a_record_file_is_a_line_of_the_unipen_format(collection):
    (record,) = save_digits(collection, "Ada", [7])
    path = collection.folder / record.student / f"{record.record_id}.json"
    (sample,) = load_pen_samples(path)  # the shared data's own reader
    assert (sample.label, sample.writer_id, sample.institution) == ("7", record.student, "class 7b")
    fields = json.loads(path.read_text())
    assert list(fields)[:7] == ["label", "writer", "institution", "source", "segment", "strokes", "writer_id"]


def test_students_are_stored_under_stable_pseudonyms(collection, tmp_path):
    pseudonym = collection.student_id("Ada Lovelace")
    assert pseudonym.startswith("s-") and "Ada" not in pseudonym
    assert ClassCollection(collection.folder).student_id("  ada lovelace ") == pseudonym  # another session
    assert collection.student_id("Grace Hopper") != pseudonym
    assert ClassCollection(tmp_path / "other class").student_id("Ada Lovelace") != pseudonym  # its own key
    assert ClassCollection(tmp_path / "named", pseudonymous=False).student_id(" Ada ") == "Ada"
    with pytest.raises(ConfigError, match="empty"):
        collection.student_id("   ")


KEY = "0123456789abcdef0123456789abcdef"


def test_pseudonyms_stay_what_they_were(collection):
    """Pseudonyms computed before names were put in one Unicode form: a class's students keep their drawings."""
    collection._create_key(KEY)
    assert [collection.student_id(name) for name in ("Zo\u00eb", "Ada Lovelace", "Zo\u00eb \u00c5ngstr\u00f6m")] == [
        "s-e4dbdcad55", "s-e4b1ff5f40", "s-2f2fc4b82d"]


def test_a_name_has_one_pseudonym_however_its_accents_were_typed(collection):
    collection._create_key(KEY)
    precomposed, decomposed = "Zo\u00eb", "Zoe\u0308"  # the same name, as two keyboards send it
    assert collection.student_id(decomposed) == collection.student_id(precomposed) == "s-e4dbdcad55"
    save_digits(collection, decomposed, [1])
    assert collection.delete_student(precomposed) == 1


def test_without_pseudonyms_a_name_is_one_student_however_it_is_typed(tmp_path):
    """As a pseudonym is: and on macOS or Windows "Ada/" and "ada/" would be one folder holding two students."""
    named = ClassCollection(tmp_path / "named", pseudonymous=False)
    save_digits(named, "Zo\u00eb", [1])
    assert named.student_id("zoe\u0308") == named.student_id("ZO\u00cb") == "Zo\u00eb"
    save_digits(named, "ZOE\u0308", [2])
    contents = named.read()
    assert contents.students == ["Zo\u00eb"] and contents.problems == ()
    assert [record.label for record in contents.records] == [1, 2]
    assert named.student_id("Zoey") == "Zoey"  # another student
    assert named.delete_student("zo\u00eb") == 2


def test_drawings_saved_before_extra_spaces_were_merged_are_still_found_by_the_name(collection):
    """"Ada  Lovelace", typed with two spaces, had a pseudonym of its own before it was one student with "Ada
    Lovelace": asked by that name, the collection counted 0 and a deletion request answered 0 while the drawing
    stayed."""
    collection._create_key(KEY)
    before = "s-8c827df585"  # the pseudonym "Ada  Lovelace" had then (of "ada  lovelace", two spaces)
    collection.save(4, template_strokes(4), before)
    save_digits(collection, "Ada  Lovelace", [7])  # saved since: under "Ada Lovelace"'s pseudonym
    assert collection.student_id("Ada  Lovelace") == collection.student_id("Ada Lovelace") == "s-e4b1ff5f40"
    assert collection.counts("Ada  Lovelace").tolist() == [0, 0, 0, 0, 1, 0, 0, 1, 0, 0]
    assert [record.label for record in collection.read("Ada  Lovelace")] == [4, 7]
    assert collection.delete_student("Ada  Lovelace") == 2
    assert len(collection.read()) == 0


def test_without_pseudonyms_extra_spaces_between_words_are_one_student(tmp_path):
    """As with pseudonyms, and as the file reader counts writers: "Ada  Lovelace" and "Ada Lovelace" were two
    students here, and the reader refused the collection's own export for it."""
    named = ClassCollection(tmp_path / "named", pseudonymous=False)
    save_digits(named, "Ada  Lovelace", [1])
    assert named.student_id("ada lovelace") == "Ada  Lovelace"  # as first typed
    save_digits(named, "Ada Lovelace", [2])
    assert named.read().students == ["Ada  Lovelace"]
    named.export_ndjson(tmp_path / "named.ndjson")
    assert len(load_pen_samples(tmp_path / "named.ndjson")) == 2
    assert named.delete_student("Ada Lovelace") == 2


def test_without_pseudonyms_folders_saved_before_names_were_matched_are_still_found(tmp_path):
    """Saved then as typed: a name with a decomposed accent, and two students whose names differ in case."""
    named = ClassCollection(tmp_path / "named", pseudonymous=False)
    for folder in ("Zoe\u0308", "Ada", "ada"):
        (named.folder / folder).mkdir(parents=True)
    assert named.student_id("Zo\u00eb") == "Zoe\u0308"
    for student, digit in (("Ada", 1), ("ada", 2), ("ada", 3)):  # saved under these ids, as then
        named.save(digit, template_strokes(digit), student)
    assert named.delete_student("ada") == 2  # exactly this name's folder, not also Ada's
    assert [record.label for record in named.read().records] == [1]


def test_a_name_too_long_for_its_folder_is_refused_in_plain_words(tmp_path):
    """Without pseudonyms a name is a folder name, each non-ASCII letter quoted into up to 12 bytes."""
    named = ClassCollection(tmp_path / "named", pseudonymous=False)
    fits = named.student_id("\u5c71\u7530\u592a\u90ce" * 7)  # 28 characters: a 252-byte folder name
    save_digits(named, fits, [3])
    assert named.read().students == [fits]
    with pytest.raises(ConfigError, match="^the student name is too long: use a shorter one$"):
        named.student_id("\u5c71\u7530\u592a\u90ce" * 8)
    with pytest.raises(ConfigError, match="too long: use a shorter one"):
        named.save(3, template_strokes(3), "\U0001f600" * 22)
    pseudonymous = ClassCollection(tmp_path / "pseudonyms")
    assert pseudonymous.student_id("\u5c71\u7530\u592a\u90ce" * 8).startswith("s-")  # a pseudonym is short
    assert pseudonymous.delete_student("\u5c71\u7530\u592a\u90ce" * 8) == 0


def test_a_long_name_is_only_hashed_so_it_may_be_longer_than_a_stored_one(collection, tmp_path):
    """A hub user name such as an e-mail address is what the panel saves under: refused, the student had to type a
    nickname, and the teacher could not delete their drawings by their hub name."""
    hub_user = "alexandra.konstantinopoulou-whitfield@students.example-academy.org"  # 66 characters
    save_digits(collection, hub_user, [1, 2])
    assert collection.counts(hub_user).sum() == 2 and collection.delete_student(hub_user) == 2
    with pytest.raises(ConfigError, match=re.escape(f"the student name '{'x' * 80}' must be at most 256 printable "
                                                    "characters")):
        collection.student_id("x" * 257)
    with pytest.raises(ConfigError, match="must be at most 64 printable characters"):  # stored: a folder's name
        ClassCollection(tmp_path / "named", pseudonymous=False).student_id(hub_user)
    tablet = tmp_path / "long writer.ndjson"
    tablet.write_text(json.dumps({"label": "5", "writer_id": hub_user, "institution": "tablet",
                                  "strokes": [[[0, 0], [10, 20]]]}) + "\n")
    assert collection.import_ndjson(tablet) == 1 and collection.delete_student(hub_user) == 1


def test_a_damaged_pseudonym_key_is_refused_rather_than_replaced(collection):
    collection.student_id("Ada")
    (collection.folder / PSEUDONYM_KEY_FILE).write_text("oops")
    with pytest.raises(DataError, match="new pseudonym"):
        collection.student_id("Ada")


def test_an_unreadable_pseudonym_key_is_a_clear_error(collection):
    collection.student_id("Ada")
    key = collection.folder / PSEUDONYM_KEY_FILE
    key.unlink()
    key.mkdir()  # a folder where the key should be: reading it fails as a permission problem would
    with pytest.raises(DataError, match="cannot read .*the key of the class's pseudonyms"):
        collection.student_id("Ada")


def test_a_lost_pseudonym_key_is_refused_where_students_have_saved(collection):
    """A copy that left out the hidden key: a new key would give every student a new pseudonym, their counters would
    start again, and deleting a student by name would find nothing."""
    (record,) = save_digits(collection, "Ada", [3])
    (collection.folder / PSEUDONYM_KEY_FILE).unlink()
    lost = re.escape(f"class/{PSEUDONYM_KEY_FILE}, the key of the class's pseudonyms, is missing, but the collection "
                     "holds the drawings of 1 student: restore it from a backup")
    for use in (lambda: collection.student_id("Ada"), lambda: collection.delete_student("Ada"),
                lambda: collection.read("Ada"), lambda: collection.save(4, template_strokes(4), record.student)):
        with pytest.raises(DataError, match=lost):
            use()
    assert not (collection.folder / PSEUDONYM_KEY_FILE).exists() and len(collection.read()) == 1
    assert collection.delete_student(record.student) == 1  # by the pseudonym: found without the key
    assert collection.student_id("Ada").startswith("s-")  # no student left: new pseudonyms can start


def test_a_collection_stored_by_name_is_not_given_pseudonyms_by_mistake(tmp_path):
    save_digits(ClassCollection(tmp_path / "named", pseudonymous=False), "Ada", [1])
    with pytest.raises(DataError, match=r"holds the drawings of 1 student stored by name, not under pseudonyms: open "
                                        r"it as ClassCollection\(.*named', pseudonymous=False\)"):
        ClassCollection(tmp_path / "named").student_id("Ada")


def test_looking_a_name_up_where_nothing_is_saved_makes_no_key(tmp_path):
    empty = ClassCollection(tmp_path / "empty")
    empty.folder.mkdir()
    assert len(empty.read("Ada")) == 0 and empty.counts("Ada").sum() == 0 and empty.delete_student("Ada") == 0
    assert list(empty.folder.iterdir()) == []


def test_a_collection_that_imported_before_anyone_saved_has_its_key(collection, tmp_path):
    """The students' folders come after the key, whatever makes them first. A key lost later is refused as any
    other: nothing tells a drawing imported from another class from one of this class's in a folder renamed."""
    save_digits(collection, "Ada", [1])
    exported = tmp_path / "class.ndjson"
    collection.export_ndjson(exported)
    other = ClassCollection(tmp_path / "other")
    other.import_ndjson(exported)
    assert (other.folder / PSEUDONYM_KEY_FILE).is_file() and other.student_id("Grace").startswith("s-")
    (other.folder / PSEUDONYM_KEY_FILE).unlink()
    with pytest.raises(DataError, match="the key of the class's pseudonyms, is missing"):
        other.student_id("Grace")
    assert not (other.folder / PSEUDONYM_KEY_FILE).exists() and len(other.read()) == 1


@pytest.mark.parametrize("copy, name", [("class 2027", None), ("class", "class 7b, 2027")],
                         ids=["copied into a folder of another name", "opened under another class name"])
def test_a_lost_pseudonym_key_is_refused_whatever_the_class_is_called(collection, tmp_path, copy, name):
    """A new server, a new school year: the copy left out the hidden key. A new key made there gave every student a
    second pseudonym, and deleting one by name answered 0 while the drawings stayed."""
    save_digits(collection, "Ada", [3])
    save_digits(collection, "Bob", [4])
    (tmp_path / "copies").mkdir()
    shutil.copytree(collection.folder, tmp_path / "copies" / copy, ignore=shutil.ignore_patterns(".*"))
    copied = ClassCollection(tmp_path / "copies" / copy, name=name)
    lost = re.escape(f"{copy}/{PSEUDONYM_KEY_FILE}, the key of the class's pseudonyms, is missing, but the collection "
                     f"holds the drawings of 2 students: restore it from a backup (it is a hidden file, which some "
                     f"copies leave out: copy {PSEUDONYM_KEY_FILE} from the folder these drawings were copied from") + \
        ".*To start a class with new pseudonyms on purpose, use a new, empty folder"
    for use in (lambda: copied.student_id("Ada"), lambda: copied.delete_student("Ada"),
                lambda: copied.save(4, template_strokes(4), collection.student_id("Ada"))):
        with pytest.raises(DataError, match=lost):
            use()
    assert not (copied.folder / PSEUDONYM_KEY_FILE).exists() and len(copied.read()) == 2
    shutil.copy(collection.folder / PSEUDONYM_KEY_FILE, copied.folder)  # restored as the message says
    assert copied.delete_student("Ada") == 1


def test_a_class_folder_that_cannot_be_looked_into_is_a_clear_error(tmp_path):
    """Looking for the key raises, rather than answers "no key", where the folder cannot be entered (a student
    without permission) or named (here a name too long for the file system, which fails for root too)."""
    with pytest.raises(DataError, match="cannot read .*the key of the class's pseudonyms: File name too long"):
        ClassCollection(tmp_path / ("shared" * 50) / "class").student_id("Ada")


def test_the_folder_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMVISION_CLASS_DIR", str(tmp_path / "shared" / "maths"))
    collection = ClassCollection()
    assert collection.folder == tmp_path / "shared" / "maths" and collection.name == "maths"
    assert len(collection.read()) == 0  # nothing saved yet: empty, not an error


def test_a_folder_that_is_not_a_folder_is_refused_in_plain_words(tmp_path, monkeypatch):
    """'' is not "the default": that is the real class's folder."""
    for folder in (123, ""):
        with pytest.raises(ConfigError, match=f"give the path of the class collection's folder, such as "
                                              f"class_drawings, not {folder!r}"):
            ClassCollection(folder)
    monkeypatch.chdir(tmp_path)
    assert ClassCollection(".").name == tmp_path.name
    with pytest.raises(ConfigError, match=re.escape("the folder / has no name to name the class by: give the class a "
                                                    "name, such as ClassCollection('/', name='class 7b')")):
        ClassCollection("/")
    assert ClassCollection("/", name="class 7b").name == "class 7b"


def test_a_file_to_export_or_import_must_be_named(collection):
    for path in (None, ""):
        for use in (collection.export_ndjson, collection.import_ndjson):
            with pytest.raises(ConfigError, match=re.escape(f"give the path of an NDJSON file, such as "
                                                            f"our_class.ndjson.gz, not {path!r}")):
                use(path)


def test_what_cannot_be_saved_is_refused_with_a_reason(collection):
    student = collection.student_id("Ada")
    with pytest.raises(ConfigError, match="digit 0-9"):
        collection.save(10, template_strokes(1), student)
    with pytest.raises(ImageError, match="no ink"):
        collection.save(1, [[(40, 40)]], student)  # one tap: a single point
    with pytest.raises(ImageError, match="non-empty"):
        collection.save(1, [], student)
    assert len(collection.read()) == 0


def stored_strokes(collection: ClassCollection, record) -> list:
    return json.loads((collection.folder / record.student / f"{record.record_id}.json").read_bytes())["strokes"]


def test_strokes_are_stored_as_the_pad_gives_them_however_they_are_held(collection):
    """The record format is shared with UNIPEN's files: lists of points, NumPy arrays and empty strokes (the pad's
    click on nothing) store the same line as ever."""
    student = collection.student_id("Ada")
    points = [[(60, 60.125), (220.5, 60)], [], [(120, 240)]]
    expected = [[[60.0, 60.12], [220.5, 60.0]], [[120.0, 240.0]]]
    for strokes in (points, tuple(points), [np.array(stroke, dtype=np.float64).reshape(-1, 2) for stroke in points],
                    [np.array(stroke, dtype=np.float32).reshape(-1, 2) for stroke in points]):
        assert stored_strokes(collection, collection.save(3, strokes, student)) == expected
    both = np.array([[(60, 60), (220, 60)], [(120, 240), (130, 250)]])  # strokes of as many points: one array
    assert stored_strokes(collection, collection.save(3, both, student)) == [[[60.0, 60.0], [220.0, 60.0]],
                                                                            [[120.0, 240.0], [130.0, 250.0]]]


@pytest.mark.parametrize("strokes, message", [
    # A "1" given without the brackets of its only stroke was stored as two dots.
    ([(150, 40), (150, 250)], "strokes must be a list of strokes, each a list of (x, y) points, such as [[(60, 60), "
                              "(220, 60), (120, 240)]] (a single stroke too, in its own brackets); got [(150, 40), "
                              "(150, 250)]"),
    (np.array([[150, 40], [150, 250]]), "got an array of shape (2, 2)"),
    # Points of x, y and time were cut into made-up points: (60, 60), (0, 220), (60, 15).
    ([[(60, 60, 0), (220, 60, 15)]], "got [[(60, 60, 0), (220, 60, 15)]]"),
    ([[("60", "60"), ("220", "60")]], "stroke 1 is not a list of (x, y) points: each point must be two ordinary "
                                      "numbers (not text, True/False, NaN or infinity)"),
    ([[(60, 60), (220, 60)], [(True, False), (False, True)]], "stroke 2 is not a list of (x, y) points"),
    ([[(60, 60), (float("nan"), 240)]], "stroke 1 has a point that is missing or not an ordinary number"),
], ids=["a stroke without its brackets", "a stroke as one array", "points of three numbers", "text", "True/False",
        "NaN"])
def test_strokes_that_are_not_points_are_refused_before_anything_is_written(collection, strokes, message):
    with pytest.raises(ImageError, match="^cannot save this drawing: .*" + re.escape(message)):
        collection.save(1, strokes, "s-0123456789")
    assert not collection.folder.exists()  # not even the key of a class that has no drawing


def test_strokes_beyond_the_canvas_are_refused_with_a_remedy_that_works(collection):
    """They were stored, and then stopped the report of the whole class (the library refuses them since f5eff60)."""
    student = collection.student_id("Ada")
    bar, *rest = template_strokes(7)
    strokes = [bar + [(286.0, bar[-1][1])], *rest]  # 6 px beyond the right edge
    with pytest.raises(ImageError, match="^" + re.escape(
            "cannot save this drawing: the strokes reach from x=81.2, y=51.8 to x=286, y=238, beyond the 280-pixel "
            "canvas (0 to 280): keep every point on the canvas, as the pad does (draw it on the pad again); points "
            "made in code can be clamped onto it with np.clip(stroke, 0, 280)") + "$"):
        collection.save(7, strokes, student)
    assert len(collection.read()) == 0
    collection.save(7, [np.clip(stroke, 0, 280) for stroke in strokes], student)
    assert len(collection.read()) == 1


@pytest.mark.parametrize("argument, value, message", [
    ("label", True, "the label must be a digit 0-9, found True"),
    ("label", 1.0, "the label must be a digit 0-9, found 1.0"),
    ("canvas_size", "abc", "'canvas_size' must be a whole number of pixels from 1 to 6,324, got 'abc'"),
    ("canvas_size", "280", "'canvas_size' must be a whole number of pixels from 1 to 6,324, got '280'"),
    ("canvas_size", 280.9, "'canvas_size' must be a whole number of pixels from 1 to 6,324, got 280.9"),
    ("brush_width", "x", "'brush_width' must be a number of pixels above 0 and at most the canvas size, 280, "
                         "got 'x'"),
    ("brush_width", True, "'brush_width' must be a number of pixels above 0 and at most the canvas size, 280, "
                          "got True"),
    ("predicted", "x", "'predicted' must be a digit 0-9 or None, found 'x'"),
    ("predicted", 3.9, "'predicted' must be a digit 0-9 or None, found 3.9"),
    ("predicted", True, "'predicted' must be a digit 0-9 or None, found True"),
    ("confidence", "x", "'confidence' must be a probability from 0 to 1 or None, found 'x'"),
    ("confidence", True, "'confidence' must be a probability from 0 to 1 or None, found True"),
    ("confidence", [0.5], "'confidence' must be a probability from 0 to 1 or None, found [0.5]"),
])
def test_the_pads_values_are_checked_as_given_not_converted(collection, argument, value, message):
    """int() and float() would make True a 1 and the model's 3.9 a 3, and give raw errors for the rest."""
    arguments = {"label": 3, "strokes": template_strokes(3), "student": collection.student_id("Ada"), argument: value}
    with pytest.raises(ConfigError, match=re.escape(message)):
        collection.save(**arguments)
    assert len(collection.read()) == 0


def test_the_pads_values_may_be_numpy_numbers(collection):
    collection.save(np.int64(3), template_strokes(3), collection.student_id("Ada"), canvas_size=np.int64(280),
                    brush_width=np.float32(14.5), predicted=np.int64(3), confidence=np.float32(0.5))
    (read,) = collection.read().records
    assert (read.label, read.canvas_size, read.brush_width, read.predicted, read.confidence) == (3, 280, 14.5, 3, 0.5)


def test_a_pseudonymous_collection_saves_no_name(collection):
    with pytest.raises(ConfigError, match=re.escape("the student 'Alex' is not a pseudonym, and this collection "
                                                    "stores only pseudonyms") + r".*collection\.student_id\('Alex'\)"):
        collection.save(1, template_strokes(1), "Alex")
    assert not collection.folder.exists()


def test_an_unwritable_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "not a folder"
    blocker.write_text("a file where the class folder should be")
    collection = ClassCollection(blocker / "class")
    # The folder's path holds a file: nothing was deleted, whatever the error's class says.
    for write in (lambda: collection.save(1, template_strokes(1), "s-0000000000"),
                  lambda: collection.student_id("Ada")):
        with pytest.raises(DataError, match=r"^cannot write to the class collection .*write to\)\.$"):
            write()


def test_a_file_named_as_the_class_folder_is_called_a_file(tmp_path, monkeypatch):
    """A typo naming a file that exists: saving said "File exists", and reading "[Errno 20] Not a directory" with the
    absolute path."""
    notes = tmp_path / "notes.txt"
    notes.write_text("not a class")
    exported = tmp_path / "class.ndjson"
    save_digits(ClassCollection(tmp_path / "class"), "Ada", [1])
    ClassCollection(tmp_path / "class").export_ndjson(exported)
    a_file = re.escape(f"…/{tmp_path.name}/notes.txt is a file, not a folder: give a folder for the class's drawings "
                       "(a name that is not taken makes a new one).")
    ask = re.escape("Ask your teacher to check the folder (set NUMVISION_CLASS_DIR to a folder every student can "
                    "write to).")
    monkeypatch.setenv("NUMVISION_CLASS_DIR", str(notes))
    for collection in (ClassCollection(), ClassCollection(notes, pseudonymous=False)):
        # The panel's first step: making the key, or looking the name up among the students' folders.
        for use, doing in ((lambda: collection.student_id("Ada"), "write to" if collection.pseudonymous else "read"),
                           (lambda: collection.save(1, template_strokes(1), "s-0123456789"), "write to"),
                           (collection.read, "read"), (lambda: collection.delete_student("Ada"), "read")):
            with pytest.raises(DataError, match=f"^cannot {doing} the class collection: {a_file} {ask}$"):
                use()
        with pytest.raises(DataError, match=f"^cannot import class.ndjson: {a_file} Nothing was added.$"):
            collection.import_ndjson(exported)
    assert notes.read_text() == "not a class"


def test_a_class_folder_only_the_teacher_may_list_says_so_and_students_still_save(collection, monkeypatch):
    """The teachers' guide's `chmod 3773`: students save into the folder but may not list it. Reading the whole
    collection gave "[Errno 13] Permission denied: '/the/absolute/path'", and no remedy. These tests may run as root,
    whom permissions do not stop: the refusal is the one the system gives."""
    collection.student_id("teacher")  # the key, made by the teacher before the first lesson
    listing = Path.iterdir

    def refused(folder):
        if folder == collection.folder:
            raise PermissionError(13, "Permission denied", str(folder))
        return listing(folder)

    monkeypatch.setattr(Path, "iterdir", refused)
    (record,) = save_digits(collection, "Ada", [3])
    assert collection.counts("Ada")[3] == 1
    assert collection.delete_record(record) and collection.counts("Ada").sum() == 0  # Undo
    with pytest.raises(DataError, match="^" + re.escape(
            f"cannot read the class collection …/{collection.folder.parent.name}/class: Permission denied. Where the "
            "teacher has set the folder up so that only they can list it (the teachers' guide's chmod 3773), reading "
            "the whole class's drawings is for the teacher, on their own server; students can still save, count and "
            "undo their own drawings. If it was not set up so, this is a mistake. Ask your teacher to check the "
            "folder (set NUMVISION_CLASS_DIR to a folder every student can write to).") + "$"):
        collection.read()


# ---------------------------------------------------------------- a class at once, and kills


def test_thirty_kernels_saving_at_once_lose_and_duplicate_nothing(collection):
    kernels = [start_kernel(SAVING_KERNEL, str(collection.folder), str(kernel), str(SAVES_PER_KERNEL))
               for kernel in range(KERNELS)]
    try:
        for kernel in kernels:
            assert kernel.stdout.readline().strip() == "ready", kernel.stderr.read()
        for kernel in kernels:  # every kernel is waiting: start them together
            kernel.stdin.write("go\n")
            kernel.stdin.flush()
        for kernel in kernels:
            _, errors = kernel.communicate(timeout=240)
            assert kernel.returncode == 0, errors[-2000:]
    finally:
        for kernel in kernels:
            kernel.kill()

    contents = collection.read()
    assert contents.problems == () and contents.unfinished == 0
    assert len(contents.records) == KERNELS * SAVES_PER_KERNEL
    students = {collection.student_id(f"student {kernel}"): kernel for kernel in range(KERNELS)}
    assert set(contents.students) == set(students)  # all 30 kernels agreed on the pseudonym key
    seen = set()
    for record in contents.records:
        kernel = students[record.student]
        index = int(record.model.split()[-1])
        assert record.model == f"kernel {kernel} drawing {index}"
        assert (record.label, record.predicted) == (index % 10, (index + 1) % 10)
        assert [stroke.tolist() for stroke in record.strokes] == expected_strokes(kernel, index)
        seen.add((kernel, index))
    assert seen == {(kernel, index) for kernel in range(KERNELS) for index in range(SAVES_PER_KERNEL)}


def wait_until_stopped(pid: int) -> None:
    """SIGSTOP is delivered, not obeyed, when os.kill returns: on a busy machine the process may still finish its
    save before it stops, and a temporary file seen afterwards would be gone."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        # /proc/<pid>/stat: "pid (name) state ...", the state "T" once stopped.
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T":
            return
    pytest.fail(f"process {pid} did not stop")


def kill_in_the_middle_of_a_save(folder) -> list[str]:
    """Start a saving kernel, freeze it while a save's temporary file exists, kill it; returns the ids it
    reported as saved."""
    student_folder = folder / ClassCollection(folder).student_id("interrupted")
    left_by_earlier_kills = set(os.listdir(student_folder)) if student_folder.is_dir() else set()
    kernel = start_kernel(ENDLESS_SAVER, str(folder))
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if not student_folder.is_dir():
                continue
            temporaries = [student_folder / name for name in set(os.listdir(student_folder)) - left_by_earlier_kills
                           if name.startswith(".")]
            if not temporaries:
                continue
            os.kill(kernel.pid, signal.SIGSTOP)
            wait_until_stopped(kernel.pid)
            if any(path.exists() for path in temporaries):
                break  # frozen between creating its temporary file and renaming it: in the middle of a save
            os.kill(kernel.pid, signal.SIGCONT)
        else:
            pytest.fail(f"no save was caught in progress: {kernel.stderr.read() if kernel.poll() else ''}")
    finally:
        kernel.send_signal(signal.SIGKILL)
        kernel.wait()
    return kernel.stdout.read().split()


def test_a_kernel_killed_while_saving_leaves_no_half_record_and_harms_no_one(collection):
    save_digits(collection, "Ada", range(10))
    others_before = file_bytes(collection.folder)
    saved = []
    for _ in range(3):
        saved_before = len(collection.read(collection.student_id("interrupted")))
        reported = kill_in_the_middle_of_a_save(collection.folder)
        found = collection.read(collection.student_id("interrupted")).records
        # Every save that returned is there; the one killed half-way is not (nor anything of it).
        assert {record.record_id for record in found} >= set(saved + reported)
        assert len(found) - saved_before - len(reported) in (0, 1)  # 1: killed after a save, before its print
        saved = [record.record_id for record in found]

    contents = collection.read()
    assert contents.problems == () and contents.unfinished == 3
    interrupted = [record for record in contents.records if record.student != collection.student_id("Ada")]
    assert all(len(record.strokes[0]) == 20000 for record in interrupted)
    assert {path: data for path, data in file_bytes(collection.folder).items()
            if path in others_before} == others_before  # what the others saved is byte for byte intact
    save_digits(collection, "Grace", [5])  # and the class carries on
    assert len(collection.read()) == len(contents) + 1


# ---------------------------------------------------------------- damaged and hand-edited records


def test_damaged_and_hand_edited_records_are_named_and_skipped(collection):
    ada = save_digits(collection, "Ada", range(10))
    grace = save_digits(collection, "Grace", [1, 2, 3])
    folder = collection.folder / ada[0].student

    def path_of(record):
        return collection.folder / record.student / f"{record.record_id}.json"

    damage = {
        ada[0]: lambda path: path.write_bytes(path.read_bytes()[:100]),  # cut short
        ada[1]: lambda path: path.write_text(path.read_text().replace('"label":"1"', '"label":"one"')),
        ada[2]: lambda path: path.write_text(path.read_text().replace('"confidence":0.9', '"confidence":1.5')),
        ada[3]: lambda path: path.write_bytes(b""),
        ada[4]: lambda path: path.write_bytes(b"\xff\xfe not text"),
        ada[5]: lambda path: path.write_text(path.read_text().replace('"canvas_size":280,', "")),
    }
    for record, spoil in damage.items():
        spoil(path_of(record))
    shutil.copy(path_of(ada[6]), folder / "copy of a drawing.json")
    shutil.move(path_of(grace[0]), folder / f"{grace[0].record_id}.json")
    (folder / "notes.txt").write_text("the teacher's note")

    contents = collection.read()
    problems = "\n".join(contents.problems)
    assert len(contents.problems) == 9
    for record, reason in [(ada[0], "not valid JSON"), (ada[1], "label 'one' is not a digit"),
                           (ada[2], "'confidence' must be a probability"), (ada[3], "not valid JSON"),
                           (ada[4], "not UTF-8"), (ada[5], "missing field 'canvas_size'"),
                           (grace[0], f"drawn by {grace[0].student!r}, but in the folder of {ada[0].student!r}")]:
        assert f"{folder.name}/{record.record_id}.json: {reason}" in problems
    assert f"{folder.name}/copy of a drawing.json: its record id" in problems
    assert f"{folder.name}/notes.txt: not a drawing record" in problems
    # The rest is read: Ada's 7, 8 and 9 and the original 6, Grace's 2 and 3.
    assert sorted(record.record_id for record in contents.records) == sorted(
        record.record_id for record in [*ada[6:], *grace[1:]])
    assert "9 record(s) skipped" in contents.summary()


# ---------------------------------------------------------------- the teacher's tools


def test_deleting_a_student_removes_exactly_their_drawings(collection):
    save_digits(collection, "Ada", range(10))
    save_digits(collection, "Grace", [1, 2])
    grace = collection.student_id("Grace")
    kept = file_bytes(collection.folder / grace)
    assert collection.delete_student("Ada") == 10  # by name: the pseudonym is found from it
    assert collection.read().students == [grace]
    assert file_bytes(collection.folder / grace) == kept
    assert collection.delete_student("Ada") == 0
    assert collection.delete_student(grace) == 2  # by the stored id
    assert len(collection.read()) == 0


def test_one_students_drawings_are_found_by_the_stored_id_or_the_name(collection):
    """As `delete_student` finds them: "what has Ada saved?" is asked by name."""
    save_digits(collection, "Ada", [1, 1, 3])
    save_digits(collection, "Grace", [5])
    ada = collection.student_id("Ada")
    assert [record.label for record in collection.read("Ada").records] == [1, 1, 3]
    assert [record.label for record in collection.read(ada).records] == [1, 1, 3]
    assert collection.counts("Ada").tolist() == collection.counts(ada).tolist() == [0, 2, 0, 1, 0, 0, 0, 0, 0, 0]


@pytest.mark.parametrize("student, message", [("", "the student is empty"), (" ", "the student is empty"),
                                              (123, "the student must be a name (text), not 123")])
def test_a_student_that_is_not_a_name_is_refused(collection, student, message):
    """read('') would read the collection's folder as one student's, and report every student's folder as a
    broken record."""
    save_digits(collection, "Ada", [1])
    for use in (collection.read, collection.counts, collection.delete_student):
        with pytest.raises(ConfigError, match=re.escape(message)):
            use(student)
    with pytest.raises(ConfigError, match=r"counts counts one student's drawings: give the student, not None"):
        collection.counts(None)  # read(None) is the whole class
    assert len(collection.read()) == 1


def test_choosing_students_takes_one_alone_and_refuses_one_not_there(collection):
    """A string is one student, not its letters; a name where pseudonyms are stored would choose nothing."""
    save_digits(collection, "Ada", [1, 2])
    save_digits(collection, "Grace", [3])
    contents = collection.read()
    ada = collection.student_id("Ada")
    assert [record.label for record in contents.of_students(ada).records] == [1, 2]
    assert [record.label for record in contents.of_students([ada]).records] == [1, 2]
    assert [record.label for record in contents.of_students(s for s in [ada]).records] == [1, 2]  # a generator
    with pytest.raises(ConfigError, match=r"of_students: 'Ada' is not among the students of these drawings \('s-.*"
                                          r"collection\.student_id\(name\) gives a name's"):
        contents.of_students(["Ada", ada])
    with pytest.raises(ConfigError, match=re.escape(f"of_students takes a list of students, such as "
                                                    f"['{contents.students[0]}'], not None")):
        contents.of_students(None)
    with pytest.raises(ConfigError, match=re.escape(f"not [['{ada}']]")):
        contents.of_students([[ada]])  # a list in the list: no student is a list


def test_the_model_inputs_come_from_the_drawings_or_from_what_read_returns(collection):
    save_digits(collection, "Ada", [1, 2])
    contents = collection.read()
    np.testing.assert_array_equal(model_inputs(contents), model_inputs(contents.records))
    assert [record.label for record in contents] == [1, 2] and contents[-1] is contents.records[-1]
    kind = "model_inputs: records is a list of DrawingRecords"
    such_as = f"{kind}, such as collection.read().records"
    for wrong, message in ((collection, f"{such_as}, not ClassCollection("), ("drawings", f"{such_as}, not 'drawings'"),
                           ([1, 2], f"{such_as}; record 0 is a int"), (contents[0], f"{kind}: give [record] for one")):
        with pytest.raises(ConfigError, match=re.escape(message)):
            model_inputs(wrong)


def test_deleting_a_student_while_they_save_leaves_no_half_record(collection, tmp_path):
    """Every save either returns, and its drawing is deleted or still there, or fails with the clear message;
    the teacher's deletion never fails because a save was going on."""
    stop = tmp_path / "stop"
    kernel = start_kernel(SAVING_WHILE_DELETED, str(collection.folder), str(stop))
    try:
        assert kernel.stdout.readline().strip() == "ready", kernel.stderr.read()
        deleted, deadline = 0, time.monotonic() + 4
        while time.monotonic() < deadline:
            deleted += collection.delete_student("Alex")
        stop.touch()
        output, errors = kernel.communicate(timeout=60)
    finally:
        kernel.kill()
    assert kernel.returncode == 0, errors[-2000:]
    saved, refusals = json.loads(output)
    assert all(message.startswith("your drawing was not saved: your folder in the class collection was "
                                   "deleted just then") for message in refusals), refusals
    contents = collection.read()
    assert contents.problems == () and contents.unfinished == 0
    assert {record.record_id for record in contents.records} <= set(saved)
    assert deleted > 0 and deleted + len(contents) == len(saved)
    assert [path.name for path in collection.folder.iterdir() if path.is_dir() and path.name.startswith(".")] == []


def test_a_deletion_left_half_done_is_finished_by_the_next_one(collection):
    save_digits(collection, "Alex", [1, 2])
    save_digits(collection, "Ada", [3])
    # What a kernel killed in the middle of deleting Alex leaves: the folder renamed away, not yet removed.
    (collection.folder / collection.student_id("Alex")).rename(collection.folder / ".deleting-0123")
    assert collection.delete_student("Nobody") == 0
    assert not list(collection.folder.glob(".deleting-*"))
    assert [record.label for record in collection.read().records] == [3]


def test_deleting_one_drawing_removes_exactly_that_one(collection):
    save_digits(collection, "Ada", [3, 4, 5])
    records = collection.read().records
    assert collection.delete_record(records[1])
    assert [record.record_id for record in collection.read().records] == [records[0].record_id, records[2].record_id]
    assert not collection.delete_record(records[1]), "already gone: nothing to delete"


def test_export_and_import_round_trip_in_the_unipen_format(collection, tmp_path):
    save_digits(collection, "Ada", range(10))
    save_digits(collection, "Grace", [4, 4, 9])
    exported = tmp_path / "class.ndjson.gz"
    assert len(collection.export_ndjson(exported)) == 13
    samples = load_pen_samples(exported)  # the UNIPEN reader reads it like the shared files
    originals = collection.read().records
    assert [(s.label, s.writer_id, s.institution) for s in samples] == [
        (str(r.label), r.student, "class 7b") for r in originals]

    other = ClassCollection(tmp_path / "other class")
    assert other.import_ndjson(exported) == 13
    assert other.import_ndjson(exported) == 13  # a second import adds nothing
    imported = other.read().records
    assert len(imported) == 13
    for before, after in zip(originals, imported):
        assert before.to_line() == after.to_line()


def test_a_pseudonymous_collection_imports_names_as_pseudonyms(tmp_path):
    """Another class saved names (pseudonymous=False): this one stores no name, yet finds them by name."""
    named = ClassCollection(tmp_path / "named", pseudonymous=False)
    save_digits(named, "Ada Lovelace", [1, 2])
    exported = tmp_path / "named.ndjson"
    named.export_ndjson(exported)
    collection = ClassCollection(tmp_path / "pseudonyms")
    assert collection.import_ndjson(exported) == 2
    assert collection.import_ndjson(exported) == 2  # a second import adds nothing
    contents = collection.read()
    assert contents.students == [collection.student_id("Ada Lovelace")] and len(contents) == 2
    assert contents.problems == ()
    stored = file_bytes(collection.folder)
    assert not any("Lovelace" in str(path) or b"Lovelace" in data for path, data in stored.items())
    assert collection.delete_student("Ada Lovelace") == 2


def test_a_pooled_collection_deletes_another_classs_drawings_by_that_classs_pseudonym(tmp_path):
    """An export keeps the pseudonyms of its class's key. Asked by name, the class that imported it answered 0 and
    kept the drawings: a privacy request reported done that was not."""
    seven_a, seven_b = ClassCollection(tmp_path / "7a"), ClassCollection(tmp_path / "7b")
    save_digits(seven_a, "Ada", [3, 4])
    save_digits(seven_b, "Bob", [5])
    # Opened under a name of its own, the class still knows the drawings its kernels saved under the folder's name.
    assert ClassCollection(seven_b.folder, name="class 7b, 2026").delete_student("Carol") == 0
    seven_a.export_ndjson(tmp_path / "7a.ndjson")
    seven_b.import_ndjson(tmp_path / "7a.ndjson")
    with pytest.raises(ConfigError, match=re.escape(
            "no drawing here was saved by 'Ada' in '7b', so nothing was deleted; but the collection also holds "
            "drawings imported from '7a', stored under the pseudonyms their own class's key made") +
            ".*" + re.escape("collection.delete_student(ClassCollection('<that class's folder>').student_id('Ada'))")):
        seven_b.delete_student("Ada")
    assert len(seven_b.read()) == 3
    assert seven_b.delete_student(seven_a.student_id("Ada")) == 2  # as the message says
    assert seven_b.delete_student("Bob") == 1  # its own students, by name
    assert seven_b.delete_student("Ada") == 0 and len(seven_b.read()) == 0  # nothing of another class left


def test_a_tablet_writer_is_one_student_per_person(tmp_path):
    """IBM's writer_ids name a session: imported as they were, one person became several students, and a split
    of the class fine-tuned on them and measured them too."""
    from numvision_lib.fine_tuning import split_students

    source = tmp_path / "ibm.ndjson"
    source.write_text("".join(json.dumps({"label": str(digit), "writer_id": writer, "institution": "ibm",
                                          "strokes": [[[0, 0], [10, 20 + digit]]]}) + "\n"
                              for digit, writer in enumerate(["ibm/r00-07", "ibm/r01-07", "ibm/r02-07", "ibm/r01-08"])))
    pseudonymous = ClassCollection(tmp_path / "pseudonyms")
    assert pseudonymous.import_ndjson(source) == 4
    students = pseudonymous.read().students
    assert sorted(students) == sorted(pseudonymous.student_id(person) for person in ("ibm/07", "ibm/08"))
    split = split_students(students, held_out=1)
    assert len(split.fine_tune) == len(split.held_out) == 1
    assert pseudonymous.delete_student("ibm/r01-07") == 3  # by any of the person's ids: every session
    named = ClassCollection(tmp_path / "named", pseudonymous=False)
    named.import_ndjson(source)
    assert named.read().students == ["ibm/07", "ibm/08"] and named.delete_student("ibm/r00-07") == 3


def test_an_import_stopped_part_way_says_what_was_added(collection, tmp_path):
    """A full disk, or a folder blocked: the teacher is told what was added and what to do, not about the pad."""
    save_digits(collection, "Ada", [1])
    save_digits(collection, "Bob", [2])
    exported = tmp_path / "two.ndjson"
    collection.export_ndjson(exported)
    second = json.loads(exported.read_text().splitlines()[1])["writer_id"]
    target = ClassCollection(tmp_path / "tgt")
    target.folder.mkdir()
    (target.folder / second).write_text("a file where the second student's folder goes")
    with pytest.raises(DataError, match=re.escape(
            f"cannot import two.ndjson into …/{tmp_path.name}/tgt: Not a directory. 1 of the 2 drawings was added "
            "before this; importing the file again after fixing the folder adds only the rest")):
        target.import_ndjson(exported)
    assert len(target.read()) == 1
    (target.folder / second).unlink()
    assert target.import_ndjson(exported) == 2 and len(target.read()) == 2

    blocker = tmp_path / "not a folder"
    blocker.write_text("a file where the class folder should be")
    with pytest.raises(DataError, match=re.escape("cannot import two.ndjson into …/not a folder/class: Not a "
                                                  "directory. Nothing was added.")):
        ClassCollection(blocker / "class").import_ndjson(exported)


def test_importing_tablet_samples_draws_them_on_the_pad_canvas(collection, tmp_path):
    with gzip.open(handwriting_dir() / "digits.ndjson.gz", "rb") as stream:
        lines = [next(stream) for _ in range(12)]
    source = tmp_path / "tablet.ndjson"
    source.write_bytes(b"".join(lines))
    assert collection.import_ndjson(source) == 12
    records = collection.read().records
    unipen = load_unipen("digits")[:12]
    # A writer id is a name ("apa/ArloReeves"): stored as its pseudonym, as a student's name is.
    assert sorted((r.label, r.student) for r in records) == sorted(
        (s.digit, collection.student_id(s.writer_id)) for s in unipen)
    assert {(r.canvas_size, r.brush_width, r.predicted) for r in records} == {(280, 20.0, None)}
    assert model_inputs(records).shape == (12, 28, 28)


def test_adding_tablet_samples_takes_a_list_of_them(tmp_path):
    """One sample, or its writer's id, failed as Python's TypeError and AttributeError."""
    named = ClassCollection(tmp_path / "named", pseudonymous=False)
    sample = load_unipen("digits")[0]
    for samples, problem in ((sample, ": give [sample] for one"),
                             ([sample.writer_id], ", such as load_unipen('digits'); sample 0 is a str")):
        with pytest.raises(ConfigError, match=re.escape(f"samples is a list of PenSamples{problem}")):
            named.add_pen_samples(samples, "tablet")
    (record,) = named.add_pen_samples(iter([sample]), "tablet")  # a generator, as a list
    assert (record.label, record.student) == (sample.digit, sample.writer_id)
    assert len(named.read()) == 1


def test_a_record_with_nothing_on_its_canvas_is_named_and_skipped(collection, tmp_path):
    """Edited, or made by another tool: it would draw a blank picture and stop the class's report."""
    (record,) = save_digits(collection, "Ada", [3])
    fields = json.loads(record.to_line())
    off_canvas = {**fields, "segment": "off", "canvas_size": 28}  # the strokes' points are 40-240 px
    pooled = tmp_path / "pooled.ndjson"
    pooled.write_text(json.dumps(off_canvas) + "\n")
    with pytest.raises(DataError, match="pooled.ndjson: line 1: no point of its strokes is on its 28x28 canvas"):
        ClassCollection(tmp_path / "other").import_ndjson(pooled)
    (collection.folder / record.student / "off.json").write_text(json.dumps(off_canvas) + "\n")
    contents = collection.read()
    assert contents.problems == (f"{record.student}/off.json: no point of its strokes is on its 28x28 canvas: there "
                                 "is nothing to draw",)
    assert model_inputs(contents.records).shape == (1, 28, 28)


def test_a_drawing_stored_beyond_its_canvas_is_read_as_the_pad_draws_it_now(collection, tmp_path):
    """The touch pad before 6ec8a3b stored a finger's moves beyond the canvas unclamped, and DrawingPad.draw stored
    strokes beyond the pad: since the library refuses such points, one of them stopped `class_report`,
    `model_inputs` and `fine_tune` for the whole class, asking for a canvas_size the teacher cannot give."""
    save_digits(collection, "Ada", [1])
    (record,) = save_digits(collection, "Ben", [7])
    fields = json.loads(record.to_line())
    first, *others = fields["strokes"]
    end_y = first[-1][1]
    for segment, x in (("finger", 286.0), ("clamped", 280.0)):  # 6 px beyond the right edge; the pad's point now
        (collection.folder / record.student / f"{segment}.json").write_text(json.dumps(
            {**fields, "segment": segment, "strokes": [first + [[x, end_y]], *others]}))
    contents = collection.read()
    assert contents.problems == ()
    assert model_inputs(contents).shape == (4, 28, 28)
    read = {drawing.record_id: drawing for drawing in contents}
    for drawn, clamped in zip(read["finger"].strokes, read["clamped"].strokes, strict=True):
        np.testing.assert_array_equal(drawn, clamped)
    np.testing.assert_array_equal(read["finger"].model_input(), read["clamped"].model_input())
    # Exported as it is read, so that the class importing it reads the same drawing.
    exported = tmp_path / "class.ndjson"
    collection.export_ndjson(exported)
    lines = [json.loads(line) for line in exported.read_text().splitlines()]
    assert [line["strokes"][0][-1] for line in lines if line["segment"] == "finger"] == [[280.0, end_y]]
    other = ClassCollection(tmp_path / "other")
    assert other.import_ndjson(exported) == 4
    assert [drawing.to_line() for drawing in other.read()] == [drawing.to_line() for drawing in contents]


@pytest.mark.parametrize("change, reason", [
    ({"label": "two"}, "label 'two' is not a digit 0-9"),
    ({"strokes": [[[0.001, 0.001], [0.002, 0.003]]]},
     "once stored to a hundredth of a pixel, it would not read back: degenerate: every point is the same"),
    ({"brush_width": 0.004}, "once stored to a hundredth of a pixel, it would not read back: 'brush_width' must be "
                             "a number of pixels above 0"),
    # Else the drawings would be there for good: the teacher could not name their student to delete them.
    ({"writer_id": " Bob "}, "the writer_id ' Bob ' starts or ends with a space"),
    ({"writer_id": "a\nb"}, "the writer_id 'a\\nb' must be at most 256 printable characters"),
    ({"writer_id": "w" * 300}, f"the writer_id '{'w' * 80}' must be at most 256 printable characters"),  # shown cut
], ids=["not a digit", "strokes a point once rounded", "no brush once rounded", "writer with spaces",
        "writer on two lines", "writer too long"])
def test_a_bad_line_stops_the_import_before_anything_is_added(collection, tmp_path, change, reason):
    (record,) = save_digits(collection, "Ada", [3])
    fields = json.loads(record.to_line())
    pooled = tmp_path / "pooled.ndjson"
    pooled.write_text(json.dumps({**fields, "segment": "good"}) + "\n" +
                      json.dumps({**fields, "segment": "spoilt", **change}) + "\n")
    other = ClassCollection(tmp_path / "other")
    with pytest.raises(DataError, match=f"pooled.ndjson: line 2: {re.escape(reason)}.*Nothing was imported"):
        other.import_ndjson(pooled)
    assert len(other.read()) == 0


def test_drawings_are_read_in_order_of_time_and_times_must_be_utc(collection):
    """As text, 22:00:00.5 came before 22:00:00 written with a Z, and 21:30 UTC written as "23:30+02:00" after
    22:00 UTC; a time without its zone is no moment at all."""
    (record,) = save_digits(collection, "Ada", [3])
    fields = json.loads(record.to_line())
    folder = collection.folder / record.student
    for segment, saved_at in [("early", "2020-12-07T22:00:00Z"), ("late", "2020-12-07T22:00:00.5+00:00"),
                              ("plus2", "2020-12-07T23:30:00+02:00"), ("naive", "2020-12-07T21:00:00"),
                              ("date", "2020-12-07"), ("words", "yesterday")]:
        (folder / f"{segment}.json").write_text(json.dumps({**fields, "segment": segment, "saved_at": saved_at}))
    contents = collection.read()
    assert [record.record_id for record in contents.records] == ["early", "late", record.record_id]
    expected = "'saved_at' must be a date and time in UTC (ISO 8601, such as '2026-12-07T09:08:39.123160+00:00')"
    assert sorted(contents.problems) == [
        f"{record.student}/date.json: {expected}, found '2020-12-07', which does not say its time zone: write it in "
        "UTC, ending in +00:00",
        f"{record.student}/naive.json: {expected}, found '2020-12-07T21:00:00', which does not say its time zone: "
        "write it in UTC, ending in +00:00",
        f"{record.student}/plus2.json: {expected}, found '2020-12-07T23:30:00+02:00', which is not UTC: write it as "
        "'2020-12-07T21:30:00+00:00'",
        f"{record.student}/words.json: {expected}, found 'yesterday'"]


def test_what_read_returns_shows_as_counts_not_as_every_record(collection):
    """The last line of a cell, `collection.export_ndjson(...)`, put every stored id on the projector."""
    save_digits(collection, "Ada", [1, 2])
    (collection.folder / collection.student_id("Ada") / "broken.json").write_text("{")
    contents = collection.export_ndjson(collection.folder.parent / "class.ndjson")
    assert repr(contents) == "CollectionContents(2 drawings by 1 student, 1 skipped)"
    # One drawing, early in a lesson, as notebook 09 shows it: it was "1 drawings by 1 students".
    save_digits(collection, "Grace", [3])
    assert collection.read("Grace").summary().startswith("1 drawing by 1 student\n")
    assert repr(collection.read()) == "CollectionContents(3 drawings by 2 students, 1 skipped)"


def test_a_folder_of_another_users_is_not_to_be_deleted_by_hand(collection, monkeypatch):
    """On a hub, each student's folder is their own, in a folder with the sticky bit: the teacher's own user can
    delete it by hand no more than through the library (root can; these tests may run as root, so the refusal is
    the one the system gives)."""
    (record,) = save_digits(collection, "Ada", [3])

    def refused(source, target):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "rename", refused)
    with pytest.raises(DataError, match=re.escape(
            f"could not delete the drawings of '{record.student}' (Operation not permitted): "
            f"{collection.folder / record.student} belongs to another user (each student's folder is the student's "
            "own on a hub), and only they or root may delete it: on a hub, run this as root (see the teachers' guide, "
            "The Littlest JupyterHub, step 3)")):
        collection.delete_student("Ada")


@pytest.mark.parametrize("field, value, reason", [
    ("brush_width", 500, "at most the canvas size, 280, got 500"),
    ("predicted", True, "'predicted' must be a digit 0-9 or null, found True"),
    ("predicted", 3.0, "'predicted' must be a digit 0-9 or null, found 3.0"),
])
def test_a_pad_field_holds_only_what_it_means(collection, field, value, reason):
    (record,) = save_digits(collection, "Ada", [2])
    with pytest.raises(DataError, match=re.escape(reason)):
        parse_record(json.dumps({**json.loads(record.to_line()), field: value}).encode())


# ---------------------------------------------------------------- the demonstration class


def test_balanced_choice_takes_the_digits_in_turn():
    labels = [0] * 10 + [1] * 10 + [2] * 2
    chosen = balanced_choice(labels, 9, np.random.default_rng(0))
    assert np.bincount(np.array(labels)[chosen], minlength=3).tolist() == [4, 3, 2]


@pytest.mark.parametrize("count", ["5", 0, -2, True, 2.0])
def test_how_many_drawings_to_choose_is_a_whole_number_of_at_least_one(tmp_path, count):
    """0 would make an empty demonstration class, which fails much later, in the split or the fine-tuning."""
    message = re.escape(f"must be a whole number, at least 1, not {count!r}")
    with pytest.raises(ConfigError, match="drawings_per_student " + message):
        demo_collection(tmp_path / "demo", drawings_per_student=count)
    assert not (tmp_path / "demo").exists()
    with pytest.raises(ConfigError, match="balanced_choice's count " + message):
        balanced_choice([0, 1, 2], count, np.random.default_rng(0))


def test_the_demonstration_class_is_never_saved_among_a_real_class(tmp_path, monkeypatch):
    """'' or None would be the default folder, the real class's; and a folder with a key of its own would keep
    that key, not the seed's."""
    real = tmp_path / "real class"
    monkeypatch.setenv("NUMVISION_CLASS_DIR", str(real))
    save_digits(ClassCollection(), "Ada", [1])
    before = file_bytes(real)
    for folder in ("", None):
        with pytest.raises(ConfigError, match=re.escape(f"give the path of an empty folder for the demonstration "
                                                        f"class, such as tempfile.TemporaryDirectory().name, not "
                                                        f"{folder!r}")):
            demo_collection(folder, drawings_per_student=1)
    with pytest.raises(ConfigError, match=re.escape(
            "demo_collection makes a new demonstration class: give it an empty folder (such as "
            f"tempfile.TemporaryDirectory().name), not …/{tmp_path.name}/real class, which already holds the "
            "drawings of 1 student")):
        demo_collection(real, drawings_per_student=1)
    assert file_bytes(real) == before
    keyed = ClassCollection(tmp_path / "keyed")
    keyed.student_id("teacher")  # as the teachers' guide makes a shared class's key, before anyone saves
    with pytest.raises(ConfigError, match="which already holds the pseudonym key of a class$"):
        demo_collection(keyed.folder, drawings_per_student=1)
    assert len(keyed.read()) == 0


def test_the_demonstration_class_is_the_unseen_unipen_writers_under_pseudonyms(tmp_path):
    demo = demo_collection(tmp_path / "demo", drawings_per_student=10)
    contents = demo.read()
    assert len(contents.students) == 20 and all(student.startswith("s-") for student in contents.students)
    assert {record.institution for record in contents.records} == {"demo class"}
    assert 190 <= len(contents) <= 200 and contents.problems == ()
    per_student = np.bincount([contents.students.index(record.student) for record in contents.records])
    assert per_student.max() == 10


def test_the_demonstration_class_is_the_same_in_every_lesson(tmp_path):
    first, again = (demo_collection(tmp_path / name, drawings_per_student=3).read() for name in ("first", "again"))
    assert first.students == again.students

    def drawings(contents):
        return [{field: value for field, value in json.loads(record.to_line()).items() if field != "saved_at"}
                for record in contents.records]

    assert drawings(first) == drawings(again)
    other_seed = demo_collection(tmp_path / "other", drawings_per_student=3, seed=1).read()
    assert set(other_seed.students).isdisjoint(first.students)
    with pytest.raises(ConfigError, match="the seed must be a whole number from 0 to 4294967295, not 2.5"):
        demo_collection(tmp_path / "odd", seed=2.5)
    assert not (tmp_path / "odd").exists()

"""The class collection: labelled drawings that a whole class saves from the drawing pad at the same time.

Each drawing is one small file, written atomically: the drawing goes to a hidden temporary file beside its
final name, is flushed to disk, and only then renamed to `<record id>.json`, as nbgrader's exchange folder
hands in assignments. Why files rather than SQLite in WAL mode:

- a teacher puts the folder on the hub's shared storage, which is usually a network file system, and a hub
  may run kernels on several machines; SQLite's WAL mode needs memory shared by processes on one machine and
  does not work over a network file system (SQLite's documentation says so), and its other modes depend on
  file locks that network file systems often get wrong;
- every save creates a new file under a unique name, so thirty kernels saving at once never touch the same
  file: nothing to lock, nothing to wait for, nothing to lose;
- a kernel killed in the middle of a save leaves only its hidden temporary file, which is never read as a
  drawing; a damaged or hand-edited record spoils only itself, and it is reported by its name;
- a teacher can see what is stored with any file browser, and deleting a student's drawings deletes a folder.

Layout of the folder (`$NUMVISION_CLASS_DIR`, else `class_drawings/` in the project, ignored by git):

    .pseudonym-key              the secret that turns names into pseudonyms; never exported
    <student>/<record id>.json  one drawing

A record is one line of the NDJSON format of the shared UNIPEN files (`handwriting`): label, writer, institution
(the collection's name), source, segment (the record id), strokes (the pad's points in canvas pixels) and
writer_id (the student), followed by what only the pad knows: canvas_size, brush_width, the model's answer
(predicted, confidence, model) and saved_at. The export is those lines one after another, so classes can pool
their drawings, and `handwriting.load_pen_samples` reads it like the UNIPEN files. Every record, when saved,
read or imported, goes through `handwriting`'s line reader and its checks.

Students are stored under pseudonyms: `student_id(name)` is a keyed hash of the name (the JupyterHub user, or
a name typed once), the same in every session, so the teacher can find and delete one student's drawings on
request without the collection holding any name: `save` takes only pseudonyms, and an import stores each
writer's pseudonym (only `add_pen_samples` keeps writer ids as given: for public ones, such as UNIPEN's). A
tablet writer is one student per person (`handwriting.person_of`: IBM's ids name a session). A collection that
holds drawings but has lost its key is refused, never given a new key, which would part every student from their
drawings. Drawings imported from another class keep the pseudonyms that class's key made: only that key finds
them by name.
"""
from __future__ import annotations

import datetime
import errno
import gzip
import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence
from urllib.parse import quote, unquote

import numpy as np

from .data import DIGITS, NUM_CLASSES, check_seed
from .drawn_digits import DrawnDigit
from .errors import ConfigError, DataError, ImageError
from .handwriting import (PenSample, numbered_lines, parse_pen_sample, part_digits, pen_drawing, person_key,
                          person_of)
from .paths import (CLASS_DIR_VARIABLE, DEFAULT_CLASS_DIR, MAX_NAME_BYTES, atomic_path, checked_path, expanded_path,
                    not_a_folder_message, project_relative)
from .preprocess import (DEFAULT_BRUSH_WIDTH, DEFAULT_CANVAS_SIZE, as_stroke_arrays, brush_width_problem,
                         canvas_size_problem, off_canvas_problem)
from .values import checked_list_of, counted, is_number, is_whole_number

PSEUDONYM_KEY_FILE = ".pseudonym-key"
PSEUDONYM_PREFIX = "s-"
PSEUDONYM = re.compile(PSEUDONYM_PREFIX + "[0-9a-f]{10}")  # what `student_id` makes: 5 bytes of a keyed hash
RECORD_SUFFIX = ".json"
PAD_SOURCE = "numvision drawing pad"
# How a tablet sample is drawn on the pad's canvas when it is imported: the pad's default pen, centred.
IMPORT_RENDERING = "pen_20"
MAX_NAME_LENGTH = 64
# A name that is only hashed into a pseudonym, never stored: room for any hub user name, an e-mail address too.
MAX_HASHED_NAME_LENGTH = 256
# A student's folder being deleted is first renamed to this (and a random part): hidden, so never read.
DELETING_PREFIX = ".deleting-"
# Strokes are stored to a hundredth of a canvas pixel: finer than any mouse, and the files stay small.
STROKE_DECIMALS = 2
RECORD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
NDJSON_EXAMPLE = "an NDJSON file, such as our_class.ndjson.gz"
# The fields after the UNIPEN ones, in the order a record is written.
PAD_FIELDS = ("canvas_size", "brush_width", "predicted", "confidence", "model", "saved_at")
# A student cannot choose the collection's folder: on a hub, the teacher sets it for every kernel.
ASK_TEACHER = (f"Ask your teacher to check the folder (set {CLASS_DIR_VARIABLE} to a folder every student can "
               "write to).")


# ---------------------------------------------------------------- one drawing


@dataclass(frozen=True, eq=False)
class DrawingRecord:
    """One saved drawing: the strokes as the pad held them, what it is, who drew it and what the model said."""

    record_id: str
    label: int
    student: str
    institution: str  # the collection (a class) it was saved in
    strokes: tuple[np.ndarray, ...]  # float32 (n, 2) points in canvas pixels, y down
    canvas_size: int
    brush_width: float
    saved_at: str  # ISO 8601, UTC
    source: str = PAD_SOURCE
    # The model's answer when the drawing was saved and its probability; None when the pad said "not a digit"
    # (`model` then names the model that said so) or when there was no model (imported).
    predicted: int | None = None
    confidence: float | None = None
    model: str | None = None

    def __repr__(self) -> str:
        return (f"DrawingRecord({self.record_id!r}, label={self.label}, student={self.student!r}, "
                f"{len(self.strokes)} stroke(s), predicted={self.predicted})")

    def to_line(self) -> bytes:
        """The record as one NDJSON line (UNIPEN's fields first), without the newline."""
        fields = {
            "label": str(self.label), "writer": self.student, "institution": self.institution,
            "source": self.source, "segment": self.record_id,
            "strokes": [[[round(float(x), STROKE_DECIMALS), round(float(y), STROKE_DECIMALS)] for x, y in stroke]
                        for stroke in self.strokes],
            "writer_id": self.student,
            "canvas_size": self.canvas_size, "brush_width": round(float(self.brush_width), STROKE_DECIMALS),
            "predicted": self.predicted, "confidence": self.confidence, "model": self.model, "saved_at": self.saved_at,
        }
        return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def drawn_digit(self) -> DrawnDigit:
        return DrawnDigit(self.label, self.student, self.strokes, self.brush_width, self.canvas_size)

    def model_input(self) -> np.ndarray:
        """The 28x28 input the pad gave the network for this drawing."""
        return self.drawn_digit().model_input()

    def pen_sample(self) -> PenSample:
        """The drawing as a `handwriting.PenSample`, to be drawn again in other ways (augmentation)."""
        return PenSample(str(self.label), self.student, self.institution, self.strokes)


def _is_digit(value) -> bool:
    # Not `value in DIGITS` alone: True and 3.0 are equal to digits, but a label or an answer is neither.
    return is_whole_number(value) and value in DIGITS


def _pad_values_problem(canvas_size, brush_width, predicted, confidence, model, none: str) -> str | None:
    """What is wrong with the pad's values of a record, if anything: one rule for what is saved and what is read
    back. `none` is how the message writes None: "null" for a file's field, "None" for an argument."""
    # The pad's own rule: whatever pad a class draws on, its drawings can be saved and read back.
    if problem := (canvas_size_problem(canvas_size, "'canvas_size'")
                   or brush_width_problem(brush_width, canvas_size, "'brush_width'")):
        return problem
    if predicted is not None and not _is_digit(predicted):
        return f"'predicted' must be a digit 0-9 or {none}, found {predicted!r}"
    if confidence is not None and not (is_number(confidence) and 0 <= confidence <= 1):
        return f"'confidence' must be a probability from 0 to 1 or {none}, found {confidence!r}"
    if model is not None and not (isinstance(model, str) and model):
        return f"'model' must be a model's name or {none}, found {model!r}"
    return None


def _check_pad_fields(fields: dict) -> None:
    """Raise DataError naming the first pad field that is missing or wrong (the caller names the file)."""
    missing = [name for name in PAD_FIELDS if name not in fields]
    if missing:
        raise DataError("missing field " + ", ".join(repr(name) for name in missing))
    if problem := _pad_values_problem(fields["canvas_size"], fields["brush_width"], fields["predicted"],
                                      fields["confidence"], fields["model"], none="null"):
        raise DataError(problem)
    for name in ("source", "segment"):
        if not isinstance(fields.get(name), str):
            raise DataError(f"{name!r} must be a string, found {fields.get(name)!r}")
    if not RECORD_ID.fullmatch(fields["segment"]):
        raise DataError(f"'segment' must be a record id (letters, digits, '_', '.', '-'), found {fields['segment']!r}")
    _saved_time(fields["saved_at"])


def _saved_time(saved_at) -> datetime.datetime:
    """A record's `saved_at` as a time, to compare as a time: a date and time in UTC, as `_now` writes it. Raises
    DataError otherwise (the caller names the file)."""
    expected = "'saved_at' must be a date and time in UTC (ISO 8601, such as '2026-12-07T09:08:39.123160+00:00')"
    try:
        time = datetime.datetime.fromisoformat(saved_at)
    except (TypeError, ValueError):
        raise DataError(f"{expected}, found {saved_at!r}") from None
    # As text, times compare only when written alike: "21:30+02:00" (19:30 UTC) sorts after "20:00Z", and a time
    # without its offset is no moment at all. Such a record was written by hand or by another tool.
    if time.utcoffset() is None:
        raise DataError(f"{expected}, found {saved_at!r}, which does not say its time zone: write it in UTC, "
                        "ending in +00:00")
    if time.utcoffset():
        raise DataError(f"{expected}, found {saved_at!r}, which is not UTC: write it as "
                        f"{time.astimezone(datetime.timezone.utc).isoformat()!r}")
    return time


def parse_record(line: bytes) -> DrawingRecord:
    """A record from its NDJSON line; raises DataError saying what is wrong (the caller names the file)."""
    sample = parse_pen_sample(line, "digits")  # the UNIPEN reader's checks: label, writer, every stroke
    fields = json.loads(line)
    _check_pad_fields(fields)
    size = fields["canvas_size"]
    # The pad keeps points on its canvas; a record with none there (edited, or from another tool) draws nothing,
    # and would stop every report of the class with a "blank picture" instead of being skipped by name.
    if not any(np.any(np.all((stroke >= 0) & (stroke < size), axis=1)) for stroke in sample.strokes):
        raise DataError(f"no point of its strokes is on its {size}x{size} canvas: there is nothing to draw")
    strokes = sample.strokes
    # Saved before the library refused points beyond the canvas: a finger's moves out there (the touch pad before
    # 6ec8a3b), `DrawingPad.draw`'s strokes, another class's export. Refused, one such drawing would stop the report
    # and the fine-tuning of the whole class; it is read as the pad now draws it, its points clamped onto the edge
    # (`DrawingPad.leave`). Here, so that every reader (read, import, export) gets the same drawing.
    if off_canvas_problem(strokes, size):
        strokes = tuple(np.clip(stroke, 0, size) for stroke in strokes)
    return DrawingRecord(
        record_id=fields["segment"], label=sample.digit, student=sample.writer_id, institution=sample.institution,
        strokes=strokes, canvas_size=fields["canvas_size"], brush_width=float(fields["brush_width"]),
        saved_at=fields["saved_at"], source=fields["source"], predicted=fields["predicted"],
        confidence=None if fields["confidence"] is None else float(fields["confidence"]), model=fields["model"],
    )


def _stored_line(record: DrawingRecord) -> bytes:
    """The record's line as it is written, read back first: raises DataError if it would not read back (a
    stroke whose points become one when rounded to a hundredth of a pixel, say)."""
    line = record.to_line()
    parse_record(line)
    return line


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")


def _new_record_id() -> str:
    # The time first, so a student's folder lists in drawing order; random bits, so two saves never collide.
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(4)


def _content_record_id(sample: PenSample) -> str:
    # An imported sample's id comes from its content: importing the same file twice adds nothing.
    digest = hashlib.sha256("\0".join([sample.label, sample.writer_id, sample.institution]).encode())
    for stroke in sample.strokes:
        digest.update(np.ascontiguousarray(stroke, dtype=np.float32).tobytes())
    return "u-" + digest.hexdigest()[:20]


# ---------------------------------------------------------------- reading the whole collection


@dataclass(frozen=True, eq=False)
class CollectionContents:
    """What `ClassCollection.read()` found: the drawings it could read, and what it had to skip."""

    records: tuple[DrawingRecord, ...]
    problems: tuple[str, ...] = ()  # "<folder>/<file>: what is wrong", for each record file skipped
    unfinished: int = 0  # hidden temporary files of saves that never finished (a killed kernel): not drawings

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        # Short: a cell ending in `collection.export_ndjson(...)` shows this on the projector, and every record's
        # student would be in the default one. `summary()` gives the detail.
        return f"CollectionContents({self._drawings_by_students()}, {len(self.problems)} skipped)"

    # The drawings themselves, as `records`: so `model_inputs`, `class_report` and `fine_tune` take what
    # `read()` returns as they take its records.
    def __iter__(self) -> Iterator[DrawingRecord]:
        return iter(self.records)

    def __getitem__(self, index):
        return self.records[index]

    @property
    def students(self) -> list[str]:
        return sorted({record.student for record in self.records})

    @property
    def labels(self) -> np.ndarray:
        return np.array([record.label for record in self.records], dtype=np.int64)

    def of_students(self, students: Iterable[str] | str) -> "CollectionContents":
        """Only the drawings of these students (stored ids, as in `students`; one may be given alone)."""
        if isinstance(students, str):
            students = [students]  # not its letters
        elif isinstance(students, Iterable):
            students = list(students)  # a generator is read once: by the check below, and then by nothing
        if not (isinstance(students, list) and all(isinstance(student, str) for student in students)):
            raise ConfigError(f"of_students takes a list of students, such as {self.students[:1] or ['s-cf4b859b56']}"
                              f", not {students!r}")
        chosen = set(students)
        if unknown := sorted(chosen - set(self.students), key=str):
            raise ConfigError(_unknown_students(unknown, self.students))
        return replace(self, records=tuple(record for record in self.records if record.student in chosen))

    def _drawings_by_students(self) -> str:
        return f"{counted(len(self.records), 'drawing')} by {counted(len(self.students), 'student')}"

    def summary(self) -> str:
        """How many drawings of each digit by how many students, then every record skipped and why."""
        counts = np.bincount(self.labels, minlength=NUM_CLASSES)
        lines = [self._drawings_by_students(),
                 "per digit: " + ", ".join(f"{digit}: {count}" for digit, count in enumerate(counts))]
        if self.problems:
            lines.append(f"{len(self.problems)} record(s) skipped, the rest was read:")
            lines += [f"  {problem}" for problem in self.problems]
        if self.unfinished:
            lines.append(f"{self.unfinished} unfinished save(s) (a kernel stopped while saving): hidden temporary "
                         "files, never read as drawings; they go when their student's drawings are deleted")
        return "\n".join(lines)


def _unknown_students(unknown: list, students: list[str]) -> str:
    shown = ", ".join(map(repr, students[:5])) + (f" and {len(students) - 5} more" if len(students) > 5 else "")
    return (f"of_students: {', '.join(map(repr, unknown))} {'is' if len(unknown) == 1 else 'are'} not among the "
            f"students of these drawings ({shown or 'none'}). Give their stored ids, as `students` lists them: in "
            "a pseudonymous collection, collection.student_id(name) gives a name's.")


def checked_records(records: Iterable[DrawingRecord], caller: str) -> tuple[DrawingRecord, ...]:
    """The drawings given to `caller` (`collection.read()`, its `records`, some of them, or a generator of them) as
    a tuple: a generator is read once, and the callers go through the drawings more than once (their inputs, then
    their labels)."""
    try:
        records = tuple(checked_list_of(records, DrawingRecord, "records", "collection.read().records"))
    except ConfigError as error:  # named: a wrong argument to class_report was blamed on model_inputs, never called
        raise ConfigError(f"{caller}: {error}") from None
    if not records:
        raise DataError(f"{caller} got no drawings: the collection (or the chosen students) has none yet")
    return records


def model_inputs(records: Iterable[DrawingRecord]) -> np.ndarray:
    """The 28x28 inputs the pad gave the network for these drawings (`collection.read()`, its `records` or some
    of them), float32 (N, 28, 28)."""
    return np.stack([record.model_input() for record in checked_records(records, "model_inputs")])


def _check_count(count, what: str) -> None:
    if not (is_whole_number(count) and count >= 1):
        raise ConfigError(f"{what} must be a whole number, at least 1, not {count!r}")


def balanced_choice(labels: Sequence[int], count: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of up to `count` items, taking the digits in turn (random items of each), as a class draws them."""
    _check_count(count, "balanced_choice's count")
    by_digit = [list(rng.permutation(np.flatnonzero(np.asarray(labels) == digit))) for digit in DIGITS]
    chosen = []
    while len(chosen) < count and any(by_digit):
        for remaining in by_digit:
            if remaining and len(chosen) < count:
                chosen.append(remaining.pop())
    return np.array(sorted(chosen), dtype=np.int64)


# ---------------------------------------------------------------- the folder


def _check_name(name: str, what: str, longest: int = MAX_NAME_LENGTH) -> str:
    if not isinstance(name, str):
        raise ConfigError(f"the {what} must be a name (text), not {name!r:.80}")
    if not name.strip():
        raise ConfigError(f"the {what} is empty: type a name (a nickname will do)")
    name = name.strip()
    if len(name) > longest or not name.isprintable():
        raise ConfigError(f"the {what} {name[:80]!r} must be at most {longest} printable characters")
    return name


def _folder_name(student: str) -> str:
    # Any name becomes one safe folder name ('/' too), and back again with unquote; never '.', '..' or hidden.
    name = quote(student, safe="@+=,")
    return "%2E" + name[1:] if name.startswith(".") else name


def _fits_a_folder_name(student: str) -> bool:
    # Quoting makes the folder name ASCII, so its length is its length in bytes: up to 12 per letter.
    return len(_folder_name(student)) <= MAX_NAME_BYTES


def _check_student(student: str, what: str) -> str:
    """A student as stored (a pseudonym, or a name when there are none): checked as a name, and as a folder's."""
    student = _check_name(student, what)
    if not _fits_a_folder_name(student):
        raise ConfigError(f"the {what} is too long: use a shorter one")
    return student


def _earlier_key(name: str) -> str:
    """What a name was hashed by before `person_key` merged the spaces between its words: "Ada  Lovelace", typed
    with two, is one student with "Ada Lovelace" now, but the drawings saved then are under this key's pseudonym.
    For every other name it is `person_key`'s."""
    return person_of(unicodedata.normalize("NFC", name).strip().casefold())


def _is_pseudonym(student: str) -> bool:
    return PSEUDONYM.fullmatch(student) is not None


def _not_a_pseudonym(student: str) -> str:
    return (f"the student {student!r} is not a pseudonym, and this collection stores only pseudonyms (s- and 10 "
            f"hexadecimal digits, 0-9 and a-f, as student_id makes them; never a name): save under "
            f"collection.student_id({student!r})")


def _drawings_of(students: list[str]) -> str:
    return f"the drawings of {counted(len(students), 'student')}"


def _lost_key_problem(key: Path, students: list[str]) -> str:
    held = _drawings_of(students)
    if not any(_is_pseudonym(student) for student in students):
        return (f"{project_relative(key.parent)} holds {held} stored by name, not under pseudonyms: open it as "
                f"ClassCollection({project_relative(key.parent)!r}, pseudonymous=False), or use a new folder for "
                "a class stored under pseudonyms.")
    return (f"{project_relative(key)}, the key of the class's pseudonyms, is missing, but the collection holds "
            f"{held}: restore it from a backup (it is a hidden file, which some copies leave out: copy "
            f"{PSEUDONYM_KEY_FILE} from the folder these drawings were copied from, or from your backup, into this "
            "folder). A new key would give every student a new pseudonym, and their drawings could no longer be "
            "found by name, to be counted or deleted. To start a class with new pseudonyms on purpose, use a new, "
            "empty folder (or delete the students' folders here first).")


def _check_imported_student(writer_id: str, stored: bool) -> None:
    """Refuse a writer_id the collection could not find again to delete (the caller names the file and line):
    `stored` as it is, it is also a folder's name; else only hashed into a pseudonym."""
    try:
        if stored:
            _check_student(writer_id, "writer_id")
        else:
            _check_name(writer_id, "writer_id", MAX_HASHED_NAME_LENGTH)
    except ConfigError as error:
        raise DataError(str(error)) from None


def _imported_classes_problem(student: str, name: str, classes: list[str]) -> str:
    return (f"no drawing here was saved by {student!r} in {name!r}, so nothing was deleted; but the collection also "
            f"holds drawings imported from {', '.join(map(repr, classes))}, stored under the pseudonyms their own "
            f"class's key made, which a name cannot find here. If {student!r} drew in one of those classes, delete "
            f"those drawings by that class's pseudonym: collection.delete_student(ClassCollection('<that class's "
            f"folder>').student_id({student!r})). If not, check the spelling of the name.")


def _deletion_remedy(error: OSError, path: Path) -> str:
    if isinstance(error, PermissionError):  # on a hub, the student's own folder in a folder with the sticky bit
        return (f"{path} belongs to another user (each student's folder is the student's own on a hub), and only "
                "they or root may delete it: on a hub, run this as root (see the teachers' guide, The Littlest "
                "JupyterHub, step 3)")
    return f"delete {path} by hand"


def _holds_records(folder: Path) -> bool:
    """Whether a student's folder holds a record file, readable or not (a damaged one is still a student's)."""
    try:
        return any(not path.name.startswith(".") and path.suffix == RECORD_SUFFIX for path in folder.iterdir())
    except FileNotFoundError:
        return False  # deleted meanwhile
    except OSError:
        return True  # it cannot be looked into: what it holds may be drawings


def _not_strokes(strokes) -> str:
    given = f"an array of shape {strokes.shape}" if isinstance(strokes, np.ndarray) else f"{strokes!r:.80}"
    return ("cannot save this drawing: strokes must be a list of strokes, each a list of (x, y) points, such as "
            f"[[(60, 60), (220, 60), (120, 240)]] (a single stroke too, in its own brackets); got {given}")


def _beyond_the_canvas(problem: str, canvas_size: int) -> str:
    # Not "give the canvas_size": the panel saves with its pad's, and shows this to the student.
    return (f"cannot save this drawing: {problem}: keep every point on the canvas, as the pad does (draw it on the pad "
            f"again); points made in code can be clamped onto it with np.clip(stroke, 0, {canvas_size})")


def _empty_and_remove(folder: Path) -> int:
    """Delete a folder that was renamed away from a student's name, counting the drawings deleted. A save that had
    found the folder by its old name just before the rename can still move its record in afterwards: the folder is
    emptied until it can be removed, so every drawing is both deleted and counted."""
    deleted = 0
    while True:
        for path in folder.iterdir():
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
                continue
            try:
                path.unlink()
            except FileNotFoundError:
                continue  # gone meanwhile
            deleted += not path.name.startswith(".") and path.suffix == RECORD_SUFFIX
        try:
            folder.rmdir()
            return deleted
        except OSError as error:
            if error.errno != errno.ENOTEMPTY:
                raise


class ClassCollection:
    """A folder of drawings saved by a class: save from the pad, read, delete a student, export and import."""

    def __init__(self, folder: str | os.PathLike | None = None, name: str | None = None, pseudonymous: bool = True):
        """`folder`: where the drawings are (default $NUMVISION_CLASS_DIR, else class_drawings/ in the project).
        `name`: the class's name, written as each record's institution (default: the folder's name).
        `pseudonymous`: store a keyed hash of each student's name (default) instead of the name itself.
        """
        if folder is None:
            folder = os.environ.get(CLASS_DIR_VARIABLE) or DEFAULT_CLASS_DIR
        else:  # '' is not "the default": that would be the real class's folder, whatever the caller meant
            folder = checked_path(folder, "the class collection's folder, such as class_drawings")
        self.folder = expanded_path(folder)  # the variable's value too, by `checked_path`'s rule
        # abspath, not resolve: '.' names the current folder, and a link keeps its own name.
        folder_name = Path(os.path.abspath(self.folder)).name
        if not (name or folder_name):
            raise ConfigError(f"the folder {self.folder} has no name to name the class by: give the class a name, "
                              f"such as ClassCollection({str(self.folder)!r}, name='class 7b')")
        self.name = _check_name(name or folder_name, "class name")
        # The name its students' kernels save under, whatever name this one was given: the notebook's default.
        self._folder_name = folder_name
        self.pseudonymous = pseudonymous

    def __repr__(self) -> str:
        return f"ClassCollection({project_relative(self.folder)!r}, name={self.name!r})"

    def _cannot_write(self, error: OSError) -> str:
        return self._folder_problem("write to", error)

    def _cannot_list(self, error: OSError) -> str:
        if isinstance(error, PermissionError):
            # Not a mistake where the teacher has set the folder up so: the owners of the students' folders in a
            # listing would show whose pseudonym is whose.
            return (f"cannot read the class collection {project_relative(self.folder)}: {error.strerror or error}. "
                    "Where the teacher has set the folder up so that only they can list it (the teachers' guide's "
                    "chmod 3773), reading the whole class's drawings is for the teacher, on their own server; "
                    "students can still save, count and undo their own drawings. If it was not set up so, this is a "
                    f"mistake. {ASK_TEACHER}")
        return self._folder_problem("read", error)

    def _folder_problem(self, doing: str, error: OSError) -> str:
        if problem := self._not_a_folder():
            return f"cannot {doing} the class collection: {problem}. {ASK_TEACHER}"
        return (f"cannot {doing} the class collection {project_relative(self.folder)}: {error.strerror or error}. "
                f"{ASK_TEACHER}")

    def _not_a_folder(self) -> str | None:
        """What to say of a collection "folder" that is a file (a typo naming one), or None; asked once something
        has failed, as the system's words for it ("File exists", "Not a directory") do not name the mistake."""
        # os.path's answer False where Path's raise (a parent the student may not enter): this runs inside handlers.
        if os.path.exists(self.folder) and not os.path.isdir(self.folder):
            return not_a_folder_message(self.folder, "the class's drawings")
        return None

    def _cannot_save(self, error: OSError) -> str:
        # Only a deletion removes a student's folder between the save's making it and its rename into it; renamed
        # away just as `mkdir` found it there, the folder is then reported as existing but not being a folder.
        if isinstance(error, (FileNotFoundError, FileExistsError)):
            return ("your drawing was not saved: your folder in the class collection was deleted just then (your "
                    "teacher deleting your drawings?); save it again to start a new folder.")
        return self._cannot_write(error)

    # ------------------------------------------------------------ students

    def student_id(self, name: str) -> str:
        """How a student is stored: a pseudonym of `name` (the same in every session), or the name itself (as the
        student first typed it: "ada" later is still "Ada"). A tablet writer_id that names one session of a person
        (IBM's "ibm/r01-07") is that person's ("ibm/07"), as `handwriting.person_of` says."""
        if not self.pseudonymous:
            name = _check_student(person_of(unicodedata.normalize("NFC", _check_name(name, "student name"))),
                                  "student name")
            # One student however the name is typed, as with pseudonyms; and on macOS and Windows "Ada/" and "ada/"
            # are one folder, which two names must not share.
            key = person_key(name)
            return next((known for known in self._stored_students() if person_key(known) == key), name)
        # Only hashed, never stored: a long hub user name is a student's own name too, to be deleted by.
        name = _check_name(name, "student name", MAX_HASHED_NAME_LENGTH)
        # One student however the name is typed, as the writer split counts people (`person_key`). A name that
        # `person_key` once kept apart from its other spellings was hashed differently then: `_stored_ids` still
        # finds those drawings by the name.
        return self._pseudonym(person_key(name))

    def _pseudonym(self, key: str) -> str:
        digest = hashlib.blake2b(key.encode(), key=self._pseudonym_key(), digest_size=5)
        return PSEUDONYM_PREFIX + digest.hexdigest()

    @property
    def _key_path(self) -> Path:
        return self.folder / PSEUDONYM_KEY_FILE

    def _pseudonym_key(self, cannot_write: Callable[[OSError], str] | None = None) -> bytes:
        """The key, made first where the collection has none and holds no drawings yet; `cannot_write` gives
        the message if it cannot be made."""
        path = self._key_path
        try:
            if not path.exists():  # Path.exists raises, not answers False, in a folder the student may not enter
                self._check_no_students_without_key()
                self._create_key(cannot_write=cannot_write)
            text = path.read_text(encoding="ascii", errors="replace").strip()
        except OSError as error:
            raise DataError(f"cannot read {project_relative(path)}, the key of the class's pseudonyms: "
                            f"{error.strerror or error}. Ask your teacher to check the folder.") from None
        if not re.fullmatch(r"[0-9a-f]{32}", text):
            raise DataError(f"{project_relative(path)} is damaged, so every student would get a new pseudonym. "
                            "Restore it from a backup. To start new pseudonyms, delete it with the students' "
                            "folders, or use a new folder.")
        return bytes.fromhex(text)

    def _has_key(self) -> bool:
        try:
            return self._key_path.exists()
        except OSError:  # a folder the student may not enter: nothing to find there by name either
            return False

    def _check_no_students_without_key(self) -> None:
        """Refuse to make a key where students' drawings are stored already: it would give each of them a new
        pseudonym, and their drawings could no longer be found by name (to be deleted, or counted)."""
        if not self.folder.is_dir():
            return  # nothing saved yet, or nothing can be (making the key says why)
        # Any drawing, whatever its class name or source: a copy in a folder of another name, or opened with
        # name=, holds drawings of this key's class under another name; and the key is made before the first
        # drawing, whatever saves or imports it, so drawings without a key have lost theirs.
        holding = [unquote(folder.name) for folder in self._student_folders(None) if _holds_records(folder)]
        # Another kernel may have made the key, and saved, since the caller found none: only a key still missing
        # is a lost one.
        if holding and not self._key_path.exists():
            raise DataError(_lost_key_problem(self._key_path, holding))

    def _create_key(self, key: str | None = None, cannot_write: Callable[[OSError], str] | None = None) -> bool:
        """Publish `key` (default: a random one) as the collection's key; False if it already had one."""
        # Many kernels may start at once: each writes a key in full, and a hard link publishes the first one
        # only where no key exists yet, so no kernel ever reads half a key or a key that is replaced later.
        key = key if key is not None else secrets.token_hex(16)
        path = self._key_path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=f"{PSEUDONYM_KEY_FILE}.", dir=path.parent)
            try:
                with os.fdopen(handle, "w", encoding="ascii") as stream:
                    stream.write(key + "\n")
                    stream.flush()
                    os.fsync(stream.fileno())
                os.chmod(temporary, 0o644)
                try:
                    os.link(temporary, path)
                except FileExistsError:
                    return False  # another kernel was first: use its key
            finally:
                os.unlink(temporary)
        except OSError as error:
            raise DataError((cannot_write or self._cannot_write)(error)) from None
        return True

    # ------------------------------------------------------------ saving

    def save(self, label: int, strokes, student: str, *, canvas_size: int = DEFAULT_CANVAS_SIZE,
             brush_width: float = DEFAULT_BRUSH_WIDTH, predicted: int | None = None,
             confidence: float | None = None, model: str | None = None) -> DrawingRecord:
        """Save one drawing (the pad's strokes: lists of (x, y) canvas points) labelled `label` by `student`
        (a `student_id`); returns the record. Every record saved can be read back: it is checked first."""
        if not _is_digit(label):
            raise ConfigError(f"the label must be a digit 0-9, found {label!r}")
        # Checked as given: int() and float() would make True a 1, 3.9 a 3, and "x" a raw ValueError.
        if problem := _pad_values_problem(canvas_size, brush_width, predicted, confidence, model, none="None"):
            raise ConfigError(f"cannot save this drawing: {problem}")
        student = _check_student(student, "student id")
        if self.pseudonymous and not _is_pseudonym(student):
            raise ConfigError(_not_a_pseudonym(student))
        # The pad's rule for strokes, before anything is written: a stroke without its own brackets, points of three
        # numbers or text points would otherwise be stored as another drawing, under the student's label.
        try:
            points = as_stroke_arrays(list(strokes) if isinstance(strokes, np.ndarray) else strokes)
        except ImageError as error:
            raise ImageError(f"cannot save this drawing: {error}") from None
        if points is None:
            raise ImageError(_not_strokes(strokes))
        if problem := off_canvas_problem(points, canvas_size):
            raise ImageError(_beyond_the_canvas(problem, canvas_size))
        if self.pseudonymous:
            self._pseudonym_key()  # made before the first student's folder: a folder without a key is a lost key
        # Checked above: int() and float() only make NumPy's numbers Python's, which json writes.
        record = DrawingRecord(
            record_id=_new_record_id(), label=int(label), student=student, institution=self.name,
            strokes=tuple(stroke.astype(np.float32) for stroke in points if len(stroke)),
            canvas_size=int(canvas_size), brush_width=float(brush_width), saved_at=_now(),
            predicted=None if predicted is None else int(predicted),
            confidence=None if confidence is None else round(float(confidence), 6), model=model,
        )
        self._write(record, "cannot save this drawing", self._cannot_save)
        return record

    def _record_path(self, record: DrawingRecord) -> Path:
        return self.folder / _folder_name(record.student) / f"{record.record_id}{RECORD_SUFFIX}"

    def _write(self, record: DrawingRecord, refusal: str, cannot_write: Callable[[OSError], str]) -> Path:
        """Check that the record reads back, then write it atomically; `refusal` starts the message if not."""
        try:
            line = _stored_line(record)
        except DataError as error:
            raise ImageError(f"{refusal}: {error}") from None
        return self._write_line(record, line, cannot_write)

    def _write_line(self, record: DrawingRecord, line: bytes, cannot_write: Callable[[OSError], str]) -> Path:
        """Write the record's line atomically; `cannot_write(error)` is the message if that fails."""
        target = self._record_path(record)
        with atomic_path(target, cannot_write) as temporary:
            with open(temporary, "wb") as stream:
                stream.write(line + b"\n")
                stream.flush()
                os.fsync(stream.fileno())  # on disk before the rename makes it a record
        return target

    # ------------------------------------------------------------ reading

    def _student_folders(self, student: str | None) -> list[Path]:
        """The folders of one student (given as `delete_student` takes one), or of all."""
        if student is not None:
            return [self.folder / _folder_name(stored) for stored in sorted(self._stored_ids(student))]
        try:
            return sorted(entry for entry in self.folder.iterdir() if entry.is_dir() and not entry.name.startswith("."))
        except FileNotFoundError:
            return []  # nothing saved yet
        except OSError as error:
            raise DataError(self._cannot_list(error)) from None

    def _stored_students(self) -> list[str]:
        return [unquote(folder.name) for folder in self._student_folders(None)]

    def _stored_ids(self, student: str) -> set[str]:
        """The ids that `student`, a stored id or the name it was made from, may be stored under."""
        student = _check_name(student, "student", MAX_HASHED_NAME_LENGTH if self.pseudonymous else MAX_NAME_LENGTH)
        if self.pseudonymous:
            # A pseudonym is looked for as it is: found without the key, lost or another class's. A name may
            # also be stored as it is, in a collection that imported names before they were turned into
            # pseudonyms, or under the pseudonym an earlier rule gave it (`_earlier_key`): a deletion must never
            # answer 0 while drawings made under the name remain. Where nothing is stored and there is no key, no
            # name has a pseudonym yet: looking one up makes none.
            if _is_pseudonym(student) or not (self._has_key() or self._stored_students()):
                stored = {student}
            else:
                stored = {student, self.student_id(student), self._pseudonym(_earlier_key(student))}
        elif (self.folder / _folder_name(student)).is_dir() or not _fits_a_folder_name(student):
            # Exactly this name's folder, not also one of another case: "Ada/" and "ada/" may be two students in a
            # collection saved to before names were matched however typed.
            stored = {student}
        else:
            stored = {self.student_id(student)}
        return {name for name in stored if _fits_a_folder_name(name)}  # a name too long for a folder has none

    def read(self, student: str | None = None) -> CollectionContents:
        """Every drawing (or one student's: given by the stored id or the name it was made from), in order of
        student and time. A record that cannot be read is skipped and named in `problems`; everything else is
        still read."""
        records, problems, unfinished = [], [], 0
        for folder in self._student_folders(student):
            owner = unquote(folder.name)
            try:
                entries = sorted(folder.iterdir())
            except (FileNotFoundError, NotADirectoryError):
                continue  # nothing saved by this student, or deleted while we read
            except OSError as error:
                problems.append(f"{folder.name}/: cannot be read ({error.strerror or error})")
                continue
            for path in entries:
                shown = f"{folder.name}/{path.name}"
                if path.name.startswith("."):
                    unfinished += path.name.endswith(RECORD_SUFFIX)
                    continue
                if path.suffix != RECORD_SUFFIX or not path.is_file():
                    problems.append(f"{shown}: not a drawing record (records are <record id>{RECORD_SUFFIX} files)")
                    continue
                try:
                    record = parse_record(path.read_bytes())
                except FileNotFoundError:
                    continue
                except (OSError, DataError) as error:
                    problems.append(f"{shown}: {error}")
                    continue
                if record.record_id != path.stem:
                    problems.append(f"{shown}: its record id {record.record_id!r} is not its file name (a copy?)")
                elif record.student != owner:
                    problems.append(f"{shown}: drawn by {record.student!r}, but in the folder of {owner!r}")
                else:
                    records.append(record)
        records.sort(key=lambda record: (record.student, _saved_time(record.saved_at), record.record_id))
        return CollectionContents(tuple(records), tuple(problems), unfinished)

    def counts(self, student: str) -> np.ndarray:
        """How many drawings of each digit `student` (the stored id or the name) has saved, int64 (10,)."""
        if student is None:  # read(None) is the whole class: not what a student's counter shows
            raise ConfigError("counts counts one student's drawings: give the student, not None "
                              "(the whole class's: collection.read().labels)")
        return np.bincount(self.read(student).labels, minlength=NUM_CLASSES)

    def delete_record(self, record: DrawingRecord) -> bool:
        """Delete one saved drawing (a student taking back a save); False if it was no longer there."""
        path = self._record_path(record)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as error:
            raise DataError(f"cannot delete the drawing {path.name} from {project_relative(self.folder)}: "
                            f"{error.strerror or error}") from None
        return True

    # ------------------------------------------------------------ the teacher's tools

    def delete_student(self, student: str) -> int:
        """Delete every drawing of one student, given the stored id or the name it was made from; returns how
        many drawings were deleted (0 if there were none). Drawings imported from another class are stored under
        that class's pseudonyms: give theirs, `ClassCollection(<that class's folder>).student_id(name)`; a name
        that finds nothing where there are such drawings is refused, rather than answered 0."""
        folders = self._student_folders(student)
        # A deletion that a dead kernel left half done still holds someone's drawings: finish it first.
        for unfinished in self.folder.glob(f"{DELETING_PREFIX}*"):
            shutil.rmtree(unfinished, ignore_errors=True)
        deleted = sum(self._delete_folder(folder) for folder in folders)
        # 0 would read as "this student has no drawings here", a privacy request done, while the drawings the
        # student made in another class and this one imported are still here.
        if not deleted and not _is_pseudonym(student.strip()):
            imported_from = sorted({record.institution for record in self.read().records
                                    if record.source == PAD_SOURCE and _is_pseudonym(record.student)
                                    and record.institution not in (self.name, self._folder_name)})
            if imported_from:
                raise ConfigError(_imported_classes_problem(student.strip(), self.name, imported_from))
        return deleted

    def _delete_folder(self, folder: Path) -> int:
        """Delete a student's folder; returns how many drawings it held (0 if there was none)."""
        # The student may be saving meanwhile. Renamed first, the folder holds from then on exactly what is
        # deleted: a save under way fails (its temporary file was in the folder, or is written where the folder
        # was) with the usual "cannot write" message, and a save that starts later makes a new folder.
        if not folder.is_dir():
            return 0
        hidden = self.folder / f"{DELETING_PREFIX}{secrets.token_hex(8)}"
        try:
            os.rename(folder, hidden)
        except FileNotFoundError:
            return 0  # nothing saved, or deleted by someone else just now
        except OSError as error:
            raise DataError(f"could not delete the drawings of {unquote(folder.name)!r} ({error.strerror or error}): "
                            f"{_deletion_remedy(error, folder)}") from None
        try:
            deleted = _empty_and_remove(hidden)
        except OSError as error:
            raise DataError(f"could not delete all the drawings of {unquote(folder.name)!r} "
                            f"({error.strerror or error}). They are no longer read, but are still in the hidden "
                            f"folder {hidden.name}: {_deletion_remedy(error, hidden)}") from None
        return deleted

    def export_ndjson(self, path: str | os.PathLike) -> CollectionContents:
        """Write every readable drawing as NDJSON (gzipped if `path` ends in .gz), in the format of the UNIPEN
        files; returns what was exported (its `problems` name the records skipped)."""
        path = checked_path(path, NDJSON_EXAMPLE)
        contents = self.read()
        data = b"".join(record.to_line() + b"\n" for record in contents.records)
        with atomic_path(path, lambda error: f"cannot write the export {path.name}: {error.strerror or error}") \
                as temporary:
            temporary.write_bytes(gzip.compress(data, mtime=0) if path.name.endswith(".gz") else data)
        return contents

    def import_ndjson(self, path: str | os.PathLike) -> int:
        """Add the drawings of an NDJSON file (gzipped or not): another class's export, or UNIPEN-style tablet
        samples, which are drawn on the pad's canvas first. Every line is checked before anything is added;
        importing a file twice adds nothing. A tablet writer is one student per person (`handwriting.person_of`).
        In a pseudonymous collection, a writer that is not a pseudonym (a name, or a tablet writer's id) is stored
        as its pseudonym, `student_id(writer)`: the collection holds no names. Returns the number of drawings in
        the file."""
        path = checked_path(path, NDJSON_EXAMPLE)
        if not path.is_file():
            raise DataError(f"{path}: file not found")
        if self.pseudonymous:  # names are turned into pseudonyms as the lines are checked
            self._pseudonym_key(partial(self._cannot_add, f"import {path.name}", "importing the file", 0, 0))
        checked = []  # (record, its line as it will be written)
        for number, line in numbered_lines(path):
            if not line.strip():
                continue
            try:
                checked.append(self._imported_record(line))
            except DataError as error:
                raise DataError(f"{path.name}: line {number}: {error}. Nothing was imported.") from None
        if not checked:
            raise DataError(f"{path.name}: holds no drawings")
        for added, (record, stored) in enumerate(checked):
            self._write_line(record, stored, partial(self._cannot_add, f"import {path.name}", "importing the file",
                                                     added, len(checked)))
        return len(checked)

    def _cannot_add(self, action: str, again: str, added: int, total: int, error: OSError) -> str:
        """The message of a write failing after `added` of `total` drawings were added (`action`: what failed;
        `again`: doing what adds the rest)."""
        done = (f"{added} of the {total} drawings {'was' if added == 1 else 'were'} added before this; {again} again "
                "after fixing the folder adds only the rest (a drawing already added is not added twice)."
                if added else "Nothing was added.")
        if problem := self._not_a_folder():
            return f"cannot {action}: {problem}. {done}"
        return (f"cannot {action} into {project_relative(self.folder)}: {error.strerror or error}. {done} Choose a "
                f"folder you can write to, or free some disk space.")

    def _imported_record(self, line: bytes) -> tuple[DrawingRecord, bytes]:
        sample = parse_pen_sample(line, "digits")
        from_pad = "canvas_size" in json.loads(line)
        if not from_pad:  # one student per person, or one person could fine-tune and be held out (IBM's sessions)
            sample = replace(sample, writer_id=person_of(sample.writer_id))
        pseudonymised = self.pseudonymous and not _is_pseudonym(sample.writer_id)
        _check_imported_student(sample.writer_id, stored=not pseudonymised)
        if pseudonymised:
            sample = replace(sample, writer_id=self.student_id(sample.writer_id))
        if from_pad:  # kept as it is, but for a name made a pseudonym
            record = replace(parse_record(line), student=sample.writer_id)
        else:
            record = self._drawn_on_canvas(sample, source="imported tablet sample")
        try:
            return record, _stored_line(record)
        except DataError as error:
            raise DataError(f"once stored to a hundredth of a pixel, it would not read back: {error}") from None

    def _drawn_on_canvas(self, sample: PenSample, source: str) -> DrawingRecord:
        drawing = pen_drawing(sample, IMPORT_RENDERING)
        return DrawingRecord(
            record_id=_content_record_id(sample), label=sample.digit, student=sample.writer_id,
            institution=sample.institution, strokes=tuple(np.asarray(stroke, dtype=np.float32)
                                                          for stroke in drawing.strokes),
            canvas_size=drawing.canvas_size, brush_width=drawing.brush_width, saved_at=_now(), source=source,
        )

    def add_pen_samples(self, samples: Iterable[PenSample], source: str) -> list[DrawingRecord]:
        """Draw tablet samples on the pad's canvas (as `IMPORT_RENDERING` does) and save them; their writer is
        the student, stored as it is: public writer ids (UNIPEN's), or pseudonyms made with `student_id`, never
        a person's name. Adding the same sample again adds nothing."""
        samples = checked_list_of(samples, PenSample, "samples", "load_unipen('digits')")
        records = [self._drawn_on_canvas(sample, source) for sample in samples]
        if self.pseudonymous and records:
            self._pseudonym_key(partial(self._cannot_add, "add the samples", "adding them", 0, 0))
        for added, record in enumerate(records):
            self._write(record, f"cannot save the sample {record.record_id} of {record.student}",
                        partial(self._cannot_add, "add the samples", "adding them", added, len(records)))
        return records


# ---------------------------------------------------------------- a demonstration class


DEMO_SOURCE = "UNIPEN benchmark writer (demonstration)"


def demo_collection(folder: str | os.PathLike, drawings_per_student: int = 30, seed: int = 0,
                    data_dir: str | os.PathLike | None = None) -> ClassCollection:
    """A class of real writers for lessons without a class collection: the UNIPEN benchmark people (whom no
    pad model was trained or selected on), up to `drawings_per_student` digits each, the digits in turn,
    saved under pseudonyms in `folder`, a new or empty one, through the same store as the pad's drawings."""
    # All checked before the folder is made, so that a mistake leaves nothing behind.
    folder = checked_path(folder, "an empty folder for the demonstration class, such as "
                                  "tempfile.TemporaryDirectory().name")
    check_seed(seed)
    _check_count(drawings_per_student, "drawings_per_student")
    collection = ClassCollection(folder, name="demo class")
    # Never among a real class's drawings: reports and fine-tuning on "our class" would count 20 strangers.
    if students := collection._stored_students():
        raise ConfigError(_not_empty_for_demo(collection.folder, _drawings_of(students)))
    samples = part_digits("benchmark", data_dir)  # before the key: missing data leaves the folder as it was
    # A key made from the seed: the same pseudonyms, so the same student split and figures, in every run of a
    # lesson (these writers' names are public in UNIPEN anyway); a real class's key is random.
    seeded_key = hashlib.blake2b(f"{DEMO_SOURCE} {seed}".encode(), digest_size=16).hexdigest()
    if not collection._create_key(seeded_key, partial(collection._cannot_add, "add the demonstration class", "", 0, 0)):
        raise ConfigError(_not_empty_for_demo(collection.folder, "the pseudonym key of a class"))
    rng = np.random.default_rng(seed)
    chosen = []
    for person in sorted({sample.person for sample in samples}):
        own = [sample for sample in samples if sample.person == person]
        student = collection.student_id(person)
        picked = balanced_choice([sample.digit for sample in own], drawings_per_student, rng)
        chosen += [replace(own[index], writer_id=student, institution=collection.name) for index in picked]
    collection.add_pen_samples(chosen, DEMO_SOURCE)
    return collection


def _not_empty_for_demo(folder: Path, held: str) -> str:
    return (f"demo_collection makes a new demonstration class: give it an empty folder (such as "
            f"tempfile.TemporaryDirectory().name), not {project_relative(folder)}, which already holds {held}")

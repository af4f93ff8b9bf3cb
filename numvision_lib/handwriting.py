"""Real people's handwriting: UNIPEN pen trajectories, split by writer and drawn the way the pad draws.

UNIPEN (train_r01_v07, International Unipen Foundation; Zenodo https://doi.org/10.5281/zenodo.1195803,
CC BY 4.0) recorded isolated digits and letters on digitising tablets at a dozen institutions in the early
1990s. `load_unipen()` reads the NDJSON files built from it (one sample a line: label, writer, institution
and strokes of [x, y] tablet points, y down); every problem in a file is a `DataError` that names the file
and the line.

`split_by_writer()` keeps every writer on one side: a model that saw a person's 3s in training would look
better on that person's other 3s than on a stranger's. It splits by person (IBM's writer_ids name a recording
session: r00-07 and r01-07 are one writer) and fixes the benchmark people by a hash of their id, about a fifth
of each institution's digits. The digit file, as `python -m numvision_lib.handwriting` prints it (people /
digits; 97 people behind 107 writer_ids):

    institution           train     validation      benchmark
    apa               6 /   499      1 /    73      2 /   120
    apb              26 / 1,353      6 /   249      6 /   431
    app              10 /   697      1 /   124      3 /   225
    gmd               1 /   820      0 /     0      2 /   217
    ibm               8 /   583      1 /   103      3 /   217
    lou               1 /     7      0 /     0      0 /     0
    pri               2 /    49      0 /     0      1 /    29
    syn               9 / 2,918      5 /   569      3 /   959
    all              63 / 6,926     14 / 1,118     20 / 2,198

Rendering turns a sample into a `drawn_digits.DrawnDigit` on a canvas, so it goes through exactly the
pad's path (`DrawnDigit.model_input()`): the named `RENDERINGS` measure, `SCANS` keep the same drawings as
small scans, `Augmentation` varies pen, canvas, size, place, slant, rotation and stretch for training, and can
add styles that few training writers use (a long flag on a 1, a slash through a 0; `WRITING_STYLES` measures a
model on them). Each sample is first normalised (its longer side 1, aspect ratio kept, so a 1 stays a thin
line) and coarse tablets' stair steps are smoothed.
"""
from __future__ import annotations

import codecs
import dataclasses
import json
import os
import re
import string
import unicodedata
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from .drawn_digits import NO_DIGIT, DrawnDigit, Scan, Variant, draw_on_canvas, random_warp, resample_polyline
from .errors import ConfigError, DataError, ImageError
from .paths import PROJECT_ROOT, checked_path
from .data import (IMAGE_SIZE, check_seed, given_as, missing_folder_message, open_binary, shown_with_variable,
                   unreadable_file_message)
from .preprocess import DEFAULT_CANVAS_SIZE, canvas_size_problem
from .values import checked_list_of, is_number, is_whole_number, unknown_settings_problem

HANDWRITING_DIR_VARIABLE = "NUMVISION_HANDWRITING_DIR"
DEFAULT_HANDWRITING_DIR = PROJECT_ROOT.parent / "shared" / "data" / "unipen"
UNIPEN_DOI = "https://doi.org/10.5281/zenodo.1195803"
UNIPEN_CREDIT = (
    "UNIPEN train_r01_v07 (International Unipen Foundation, 1999), CC BY 4.0, " + UNIPEN_DOI + "; I. Guyon, "
    "L. Schomaker, R. Plamondon, M. Liberman, S. Janet, \"UNIPEN project of on-line data exchange and recognizer "
    "benchmarks\", Proc. 12th ICPR, 1994"
)
LABELS = {"digits": frozenset(string.digits), "letters": frozenset(string.ascii_letters)}
LABEL_NAMES = {"digits": "a digit 0-9", "letters": "a letter A-Z or a-z"}
LABEL_EXAMPLES = {"digits": "3", "letters": "A"}
REQUIRED_FIELDS = ("label", "writer_id", "institution", "strokes")

PARTS = ("train", "validation", "benchmark")
BENCHMARK_SHARE = 0.20  # of each institution's samples
VALIDATION_SHARE = 0.12
# Fewer writers than this: all of them train (holding out one of two would leave the model half the style).
MIN_WRITERS_TO_HOLD_OUT = 3
SPLIT_SALT = "numvision-unipen-split"
# IBM recorded sessions, and its writer_ids name the session too: r00-07, r01-07 and r02-07 are writer 07
# (see the data's README). Split by person, or one person's handwriting lands on both sides.
_IBM_SESSION = re.compile(r"ibm/r\d+-(\d+)")

# Strokes are smoothed on points this far apart (a fraction of the digit's longer side), with a Gaussian of
# one tablet unit: that flattens the stair steps of coarse tablets (apa, app: about 12x17 units a digit) and
# leaves fine ones (syn: about 200x240) as they are.
SMOOTHING_SPACING = 0.01
# A sample fewer units across than this is not in a tablet's units (UNIPEN's smallest digit is 7 across) but in
# fractions of some length, as an imported file may hold it: there are no stair steps, and smoothing by one such
# "unit" would melt the digit into a blob.
MIN_TABLET_UNITS_ACROSS = 5
# Then handed to the canvas with points this far apart: 4 pixels on a 200-pixel digit, like a steady mouse.
POINT_SPACING = 0.02


# Where the UNIPEN files come from, for a user who lacks them.
_UNIPEN_SOURCE = ("The UNIPEN files (digits.ndjson.gz, letters.ndjson.gz) are built from UNIPEN train_r01_v07 "
                  f"({UNIPEN_DOI}, CC BY 4.0) and come in the course's shared data folder shared/data/unipen.")
_UNIPEN_FOLDER_GIVEN_AS = given_as("data_dir", "--handwriting-dir")


def _where_to_get_it() -> str:
    """What to do without the UNIPEN files at hand."""
    return (f"{_UNIPEN_SOURCE} Put that folder beside the project ({DEFAULT_HANDWRITING_DIR}), set "
            f"{HANDWRITING_DIR_VARIABLE} to where it is, or give it ({_UNIPEN_FOLDER_GIVEN_AS}).")


def _unipen_fix(folder: Path, variable: str | None, holds: str) -> str:
    """What to do about `folder`, the UNIPEN folder chosen by the environment `variable` (None: given, or the one
    beside the project), which is not there or lacks `holds` (such as digits.ndjson.gz): never to set the variable
    that chose it, as if it were not set, nor to put the folder beside the project where it is already."""
    beside = DEFAULT_HANDWRITING_DIR.resolve()
    if variable and beside.is_dir() and folder.resolve() != beside:
        return (f"Unset {variable} to use the UNIPEN folder beside the project, {DEFAULT_HANDWRITING_DIR}, or set it "
                f"to the folder that holds {holds}.")
    if variable:
        return (f"{_UNIPEN_SOURCE} Set {variable} to the folder that holds {holds}, or unset it and put that folder "
                f"beside the project ({DEFAULT_HANDWRITING_DIR}).")
    if folder.resolve() == beside and folder.is_dir():
        return (f"{_UNIPEN_SOURCE} Copy {holds} from there into this folder, set {HANDWRITING_DIR_VARIABLE} to a "
                f"folder that holds it, or give one ({_UNIPEN_FOLDER_GIVEN_AS}).")
    return f"Give the folder that holds {holds} ({_UNIPEN_FOLDER_GIVEN_AS}). {_UNIPEN_SOURCE}"


# ---------------------------------------------------------------- reading


@dataclass(frozen=True, eq=False)
class PenSample:
    """One handwritten character: pen-down strokes as float32 (n, 2) arrays of tablet points, y down."""

    label: str
    writer_id: str
    institution: str
    strokes: tuple[np.ndarray, ...]

    def __repr__(self) -> str:
        points = sum(len(stroke) for stroke in self.strokes)
        return (f"PenSample(label={self.label!r}, writer_id={self.writer_id!r}, institution={self.institution!r}, "
                f"{len(self.strokes)} stroke(s), {points} points)")

    @property
    def digit(self) -> int:
        if self.label not in LABELS["digits"]:
            raise DataError(f"{self.writer_id}: label {self.label!r} is not a digit 0-9")
        return int(self.label)

    @property
    def person(self) -> str:
        return person_of(self.writer_id)

    @property
    def key(self) -> int:
        """A fingerprint of label and strokes: seeds the sample's own random draws, whatever order it comes in."""
        return zlib.crc32(b"".join([self.label.encode(), *(stroke.tobytes() for stroke in self.strokes)]))


def person_of(writer_id: str) -> str:
    """The person behind a writer_id: itself, except IBM's per-session ids ("ibm/r01-07" -> "ibm/07")."""
    match = _IBM_SESSION.fullmatch(writer_id)
    return f"ibm/{match.group(1)}" if match else writer_id


def _spelling(writer_id: str) -> str:
    """A writer_id however it is spelt: in NFC, without surrounding spaces, each run of spaces within it one space,
    casefolded. Class collections hash names by it: a change here changes every student's pseudonym, so keep the
    rule it replaces where old pseudonyms are looked up (`class_collection._earlier_key`)."""
    return " ".join(unicodedata.normalize("NFC", writer_id).split()).casefold()


def person_key(writer_id: str) -> str:
    """The person behind a writer_id however it is spelt, what a split keeps on one side: `person_of` of the id in
    NFC, without surrounding spaces, with one space between words, casefolded. A teacher's file may write one student
    "Ada Lovelace", "ada lovelace", "Ada  Lovelace" and "Ada Lovelace ", and a student may type the name so twice: one
    person, as the class collection counts them (by name or by pseudonym)."""
    return person_of(_spelling(writer_id))


def digit_labels(samples: Sequence[PenSample]) -> np.ndarray:
    """The samples' digits as int64 (N,)."""
    return np.array([sample.digit for sample in samples], dtype=np.int64)


def _check_kind(kind: str) -> None:
    # A list or other unhashable kind would fail the lookup with a TypeError.
    if not (isinstance(kind, str) and kind in LABELS):
        raise ConfigError(f"unknown kind of handwriting {kind!r}; choose one of: {', '.join(LABELS)}")


def _parse_strokes(strokes, may_hold_booleans: bool) -> tuple[np.ndarray, ...]:
    """The strokes as float32 arrays; a `DataError` says what is wrong (the caller adds file and line).
    `may_hold_booleans=False` skips the slow look for booleans, for strokes from JSON text without true or false."""
    if not isinstance(strokes, list) or not strokes:
        raise DataError("'strokes' must be a non-empty list of strokes")
    arrays = []
    for number, stroke in enumerate(strokes, 1):
        try:
            points = np.asarray(stroke)
        except ValueError:
            points = np.asarray(None)  # ragged: reported as not a list of points below
        if points.ndim != 2 or points.shape[1:] != (2,) or points.shape[0] == 0:
            raise DataError(f"stroke {number} is not a non-empty list of [x, y] points")
        # Booleans and strings would convert to numbers without complaint; a tablet records neither. Among numbers
        # a boolean passes as 1 or 0 (`points` is then of ints or floats), so each coordinate's type is looked at.
        # Finite is checked as stored: beyond float32's range (1e39) a number becomes infinite there.
        with np.errstate(over="ignore"):
            as_stored = points.astype(np.float32) if points.dtype.kind in "iuf" else None
        if (as_stored is None or not np.all(np.isfinite(as_stored))
                or may_hold_booleans and any(isinstance(value, bool) for point in stroke for value in point)):
            raise DataError(f"stroke {number} has points that are not finite numbers")
        arrays.append(as_stored)
    # In float64: near float32's limit the extent of far-apart points would overflow, a warning and an infinity.
    every_point = np.concatenate(arrays).astype(np.float64)
    if np.ptp(every_point, axis=0).max() == 0:
        raise DataError("degenerate: every point is the same, there is no ink to draw")
    return tuple(arrays)


def parse_pen_sample(line: bytes, kind: str) -> PenSample:
    """One line of the shared NDJSON format as a sample; raises DataError saying what is wrong (the caller names
    the file and line). The class collection reads its own records through this too."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(f"not UTF-8 text ({error.reason})") from None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise DataError(f"not valid JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(record, dict):
        raise DataError(f"expected a JSON object, found {type(record).__name__}")
    missing = [field for field in REQUIRED_FIELDS if field not in record]
    if missing:
        raise DataError("missing field " + ", ".join(repr(field) for field in missing))
    label = record["label"]
    if not isinstance(label, str):  # 3 is a digit: what is wrong is that it is a number
        raise DataError(f"'label' must be text, such as \"{LABEL_EXAMPLES[kind]}\", found {type(label).__name__} "
                        f"{label!r}")
    if label not in LABELS[kind]:
        raise DataError(f"label {label!r} is not {LABEL_NAMES[kind]}")
    for field in ("writer_id", "institution"):
        if not isinstance(record[field], str) or not record[field]:
            raise DataError(f"{field!r} must be a non-empty string, found {record[field]!r}")
    # A slip of a hand-made file: the split keeps "Ada " with "Ada" (`person_key`), but tables and reports would list
    # them as two writers.
    if record["writer_id"] != record["writer_id"].strip():
        raise DataError(f"the writer_id {record['writer_id']!r} starts or ends with a space: write each writer's id "
                        "the same way on every line, without surrounding spaces")
    strokes = _parse_strokes(record["strokes"], may_hold_booleans=b"true" in line or b"false" in line)
    return PenSample(label, record["writer_id"], record["institution"], strokes)


def numbered_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) of an NDJSON file, gzipped or not; a truncated or corrupt file is a DataError."""
    number = 0
    try:
        stream = open_binary(path)  # reads the first bytes: a file the user may not read fails here
    except OSError as error:
        raise DataError(unreadable_file_message(str(path), error, "copy it again.")) from None
    # Bytes, decoded line by line: a text stream decodes ahead in blocks and would blame the wrong line.
    with stream:
        try:
            for number, line in enumerate(stream, 1):
                # Windows Notepad starts a file it saves as UTF-8 with a byte order mark; it is no part of the data.
                yield number, line.removeprefix(codecs.BOM_UTF8) if number == 1 else line
        except (OSError, EOFError, zlib.error) as error:  # zlib.error: damaged compressed bytes
            raise DataError(f"{path}: cannot be read after line {number} ({error}); the file is truncated or "
                            "corrupt. Copy it again.") from None


def _one_writer_spelt_two_ways(first_lines: Mapping[str, int]) -> str | None:
    """What to say of two writer_ids, each with the line it first appears on (`first_lines`, in the order of the
    lines), that differ only in case, spaces or how their letters are encoded (`_spelling`); None when no two do. The
    split would keep them together, but reports, cards and a writer's `person` would count two people."""
    spelt_first: dict[str, str] = {}
    for writer_id in first_lines:
        other = spelt_first.setdefault(_spelling(writer_id), writer_id)
        if other == writer_id:
            continue
        # An accent stored as a letter of its own looks like the precomposed one: shown as code points, they differ.
        other_nfc, writer_nfc = (unicodedata.normalize("NFC", name) for name in (other, writer_id))
        same_letters = other_nfc == writer_nfc
        shown = ascii if same_letters else repr
        if same_letters:
            how = "are the same letters encoded two ways (Unicode normalisation)"
        elif other_nfc.casefold() == writer_nfc.casefold():
            how = "differ only in upper and lower case"
        elif other_nfc.split() == writer_nfc.split():
            how = "differ only in the spaces between their words"
        else:
            how = "differ only in spaces and in upper and lower case"
        return (f"the writer_ids {shown(other)} (first on line {first_lines[other]}) and {shown(writer_id)} (first on "
                f"line {first_lines[writer_id]}) {how}, so reports would count one writer as two: write each writer's "
                "id one way on every line")
    return None


@lru_cache(maxsize=4)
def _read_samples(path: Path, kind: str, modified_ns: int, size: int) -> tuple[PenSample, ...]:
    samples = []
    first_lines: dict[str, int] = {}
    for number, line in numbered_lines(path):
        if not line.strip():
            continue  # an empty line (a trailing newline, an editor's) holds no sample to lose
        try:
            sample = parse_pen_sample(line, kind)
        except DataError as error:
            raise DataError(f"{path}: line {number}: {error}") from None
        for stroke in sample.strokes:
            stroke.flags.writeable = False  # shared by every caller of the cache
        samples.append(sample)
        first_lines.setdefault(sample.writer_id, number)
    if not samples:
        raise DataError(f"{path}: holds no samples")
    if problem := _one_writer_spelt_two_ways(first_lines):
        raise DataError(f"{path}: {problem}")
    return tuple(samples)


def load_pen_samples(path: str | os.PathLike, kind: str = "digits") -> list[PenSample]:
    """Read one NDJSON file (gzipped or plain) of `kind` "digits" or "letters", checking every line."""
    _check_kind(kind)
    path = checked_path(path, f"a UNIPEN file, such as {kind}.ndjson.gz").resolve()
    if path.is_dir():
        raise DataError(f"{path} is a folder: give the file itself, such as {path / f'{kind}.ndjson.gz'}, or read "
                        f"the folder with load_unipen({kind!r}, data_dir=...)")
    if not path.is_file():
        raise DataError(f"{path}: file not found. {_where_to_get_it()}")
    status = path.stat()
    # Keyed on the modification time and size too: a file copied again is read again.
    return list(_read_samples(path, kind, status.st_mtime_ns, status.st_size))


def handwriting_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The UNIPEN folder: `data_dir`, else $NUMVISION_HANDWRITING_DIR, else shared/data/unipen beside the project."""
    return _chosen_handwriting_dir(data_dir)[0]


def _chosen_handwriting_dir(data_dir: str | os.PathLike | None) -> tuple[Path, str | None]:
    """`handwriting_dir` and the environment variable that chose it, if one did; a folder that is not there is a
    DataError that says what to do, by what chose it."""
    variable = None if data_dir else HANDWRITING_DIR_VARIABLE
    chosen = data_dir or os.environ.get(HANDWRITING_DIR_VARIABLE)
    if not chosen:
        if DEFAULT_HANDWRITING_DIR.is_dir():
            return DEFAULT_HANDWRITING_DIR, None
        raise DataError(f"no UNIPEN folder found. {_where_to_get_it()}")
    folder = checked_path(chosen, "the UNIPEN folder, such as shared/data/unipen")
    if not folder.is_dir():
        raise DataError(missing_folder_message(folder, "UNIPEN folder", variable,
                                               _unipen_fix(folder, variable, "digits.ndjson.gz")))
    return folder, variable


def load_unipen(kind: str = "digits", data_dir: str | os.PathLike | None = None) -> list[PenSample]:
    """Every UNIPEN sample of `kind` ("digits" or "letters") in file order (see `handwriting_dir` for where)."""
    _check_kind(kind)
    folder, variable = _chosen_handwriting_dir(data_dir)
    for candidate in (folder / f"{kind}.ndjson.gz", folder / f"{kind}.ndjson"):
        if candidate.is_file():
            return load_pen_samples(candidate, kind)
    raise DataError(f"{shown_with_variable(folder, variable)}: {kind}.ndjson.gz (or {kind}.ndjson) is missing. "
                    f"{_unipen_fix(folder, variable, f'{kind}.ndjson.gz')}")


# ---------------------------------------------------------------- splitting by writer


@dataclass(frozen=True, eq=False)
class WriterSplit:
    """Samples in the parts "train", "validation" and "benchmark"; no writer is in two parts.

    `writers` holds each part's writer_ids; a person recorded under several writer_ids (IBM's sessions, one id
    spelt several ways: see `person_key`) is in one part with all of them.
    """

    parts: Mapping[str, tuple[PenSample, ...]]
    writers: Mapping[str, frozenset[str]]

    def __getitem__(self, part: str) -> tuple[PenSample, ...]:
        # A list or other unhashable part would fail the lookup with a TypeError.
        if not (isinstance(part, str) and part in self.parts):
            raise ConfigError(f"unknown part {part!r}; choose one of: {', '.join(PARTS)}")
        return self.parts[part]

    def __iter__(self):
        # Without it, Python iterates by asking for part 0, and the message blamed a part nobody asked for.
        raise ConfigError(f"a WriterSplit holds three parts, {', '.join(PARTS)}: give one of them, such as "
                          "split['train']")

    def table(self) -> str:
        """Writers (people) / samples per part, for each institution and for all."""
        institutions = sorted({sample.institution for samples in self.parts.values() for sample in samples})
        lines = [f"{'institution':12s}" + "".join(f"{part:>15s}" for part in PARTS)]
        for institution in [*institutions, None]:
            cells = []
            for part in PARTS:
                chosen = [s for s in self.parts[part] if institution in (None, s.institution)]
                cells.append(f"{len({person_key(s.writer_id) for s in chosen}):>3d} / {len(chosen):>5,d}")
            lines.append(f"{institution or 'all':12s}" + "".join(f"{cell:>15s}" for cell in cells))
        return "\n".join(lines)


def _hash_order(person: str) -> int:
    return zlib.crc32(f"{SPLIT_SALT}:{person}".encode())


def _pick(people: Sequence[str], counts: Mapping[str, int], target: float) -> list[str]:
    # In hash order, take each person whose samples bring the part closer to its target: fair to an
    # institution of many small writers and to one (gmd) where one writer wrote four fifths of the digits.
    chosen, taken = [], 0
    for person in people:
        if abs(taken + counts[person] - target) < abs(taken - target):
            chosen.append(person)
            taken += counts[person]
    return chosen


def assign_parts(samples: Iterable[PenSample], benchmark_share: float = BENCHMARK_SHARE,
                 validation_share: float = VALIDATION_SHARE) -> dict[str, str]:
    """writer_id -> part, person by person, within each institution.

    Benchmark first: people in the order of a hash of their name, each taken while it brings the benchmark
    closer to `benchmark_share` of the institution's samples; then validation the same way from the rest.
    Institutions with fewer than three people only train. Depends on who wrote how many samples, never on
    the samples' order.
    """
    if not (is_number(benchmark_share) and is_number(validation_share) and benchmark_share >= 0
            and validation_share >= 0 and benchmark_share + validation_share < 1):
        raise ConfigError(f"benchmark_share and validation_share are shares of each institution's samples, each 0 or "
                          f"more and together below 1 (such as {BENCHMARK_SHARE} and {VALIDATION_SHARE}), not "
                          f"{benchmark_share!r} and {validation_share!r}")
    counts: dict[str, int] = defaultdict(int)
    institutions: dict[str, set[str]] = defaultdict(set)
    writer_ids: dict[str, set[str]] = defaultdict(set)
    for sample in samples:
        person = person_key(sample.writer_id)
        counts[person] += 1
        institutions[person].add(sample.institution)
        writer_ids[person].add(sample.writer_id)
    by_institution: dict[str, list[str]] = defaultdict(list)
    for person, names in institutions.items():
        by_institution[min(names)].append(person)
    # Each person is hashed by the name it had before ids were grouped by `person_key`, so that a file whose ids are
    # each spelt one way, as UNIPEN's are, splits as it always did (the shipped models' split).
    hashed_name = {person: min(map(person_of, writers)) for person, writers in writer_ids.items()}
    parts = {}
    for people in by_institution.values():
        people = sorted(people, key=lambda person: (_hash_order(hashed_name[person]), hashed_name[person]))
        total = sum(counts[person] for person in people)
        benchmark, validation = [], []
        if len(people) >= MIN_WRITERS_TO_HOLD_OUT:
            benchmark = _pick(people, counts, benchmark_share * total)
            rest = [person for person in people if person not in benchmark]
            validation = _pick(rest, counts, validation_share * total)
        for person in people:
            part = "benchmark" if person in benchmark else "validation" if person in validation else "train"
            parts.update(dict.fromkeys(writer_ids[person], part))
    return parts


def split_by_writer(samples: Sequence[PenSample], benchmark_share: float = BENCHMARK_SHARE,
                    validation_share: float = VALIDATION_SHARE, people_parts: Mapping[str, str] = {}) -> WriterSplit:
    """Split into writer-disjoint parts "train", "validation" and "benchmark" (see `assign_parts`).

    Split the whole file, then take subsets of a part: who goes where depends on everyone's sample count.
    `people_parts` (person or writer_id -> part) overrides the assignment for the people it names, however their
    ids are spelt (`person_key`). Samples keep their order within a part.
    """
    samples = checked_list_of(samples, PenSample, "samples", "load_unipen('digits')")
    # A name that is not text cannot be keyed (a number would fail as Python's error).
    if unknown := {person: part for person, part in people_parts.items()
                   if part not in PARTS or not isinstance(person, str)}:
        raise ConfigError(f"people_parts gives each person one of the parts {', '.join(PARTS)}; not {unknown}")
    chosen = {person_key(person): part for person, part in people_parts.items()}
    part_of = {writer: chosen.get(person_key(writer), part)
               for writer, part in assign_parts(samples, benchmark_share, validation_share).items()}
    parts: dict[str, list[PenSample]] = {part: [] for part in PARTS}
    for sample in samples:
        parts[part_of[sample.writer_id]].append(sample)
    writers = {part: frozenset(w for w, p in part_of.items() if p == part) for part in PARTS}
    return WriterSplit({part: tuple(chosen) for part, chosen in parts.items()}, writers)


def digit_split(data_dir: str | os.PathLike | None = None) -> WriterSplit:
    """The UNIPEN digits split by writer: the one split that training and the benchmark share."""
    return split_by_writer(load_unipen("digits", data_dir))


def letter_split(data_dir: str | os.PathLike | None = None) -> WriterSplit:
    """The UNIPEN letters split by writer, every person who also wrote digits in the same part as in
    `digit_split`: a benchmark writer's letters are never trained on either."""
    digits = digit_split(data_dir)
    people_parts = {writer: part for part, writers in digits.writers.items() for writer in writers}
    return split_by_writer(load_unipen("letters", data_dir), people_parts=people_parts)


# ---------------------------------------------------------------- normalising and rendering


def _gaussian_along(points: np.ndarray, sigma: float) -> np.ndarray:
    radius = int(np.ceil(3 * sigma))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    # Edge padding pins the stroke's ends instead of pulling them towards zero.
    padded = np.pad(points, ((radius, radius), (0, 0)), mode="edge")
    return np.stack([np.convolve(padded[:, axis], kernel, mode="valid") for axis in (0, 1)], axis=1)


def _smooth_stroke(points: np.ndarray, unit: float) -> np.ndarray:
    steps = np.any(np.diff(points, axis=0) != 0, axis=1)
    points = points[np.concatenate([[True], steps])]
    if len(points) < 2:
        return points  # a dot
    dense = resample_polyline(points, SMOOTHING_SPACING)
    sigma = unit / SMOOTHING_SPACING
    if sigma >= 0.5 and len(dense) >= 3:
        dense = _gaussian_along(dense, sigma)
    return resample_polyline(dense, POINT_SPACING)


def _fit_unit_box(strokes: Sequence[np.ndarray]) -> tuple[list[np.ndarray], float]:
    # In float64: a sample's float32 points near the type's limit have an extent that float32 cannot hold, which
    # would overflow to infinity and call every point the same.
    every_point = np.concatenate(strokes).astype(np.float64)
    low, high = every_point.min(axis=0), every_point.max(axis=0)
    size = float((high - low).max())
    if size == 0:
        raise ImageError("every point of the sample is the same: there is no digit to draw")
    centre = (low + high) / 2
    return [(np.asarray(stroke, dtype=float) - centre) / size for stroke in strokes], 1.0 / size


# Strokes made in the unit box (generated drawings, restyled samples) are held in units this fine, like a fine
# tablet's: `normalise_strokes` smooths by one unit, so it leaves their shape as it is.
TABLET_UNITS = 1000.0


def in_tablet_units(unit_strokes: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Strokes drawn in the unit box, as a `PenSample` holds them."""
    return tuple(np.asarray(np.asarray(stroke) * TABLET_UNITS, dtype=np.float32) for stroke in unit_strokes)


def normalise_strokes(strokes: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Strokes centred on (0, 0) with the longer side of their box 1 (aspect ratio kept), smoothed.

    Scaling by the longer side keeps a 1 a thin line instead of stretching it to fill a square.
    """
    unit_strokes, unit = _fit_unit_box(strokes)
    if unit > 1 / MIN_TABLET_UNITS_ACROSS:
        unit = 0.0
    # Smoothing pulls extremes in a little: fit the box again so a drawing is as tall as asked.
    return _fit_unit_box([_smooth_stroke(stroke, unit) for stroke in unit_strokes])[0]


# ---------------------------------------------------------------- writing styles few training writers use


def _stroke_length(stroke: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(stroke, axis=0), axis=1).sum())


def _stem_index(strokes: Sequence[np.ndarray]) -> int:
    """The stroke the pen travelled furthest: a 1's or a 7's stem, with whatever was drawn in the same movement."""
    return int(np.argmax([_stroke_length(stroke) for stroke in strokes]))


def _top_and_height(strokes: Sequence[np.ndarray]) -> tuple[float, float]:
    """Where the drawing starts at the top (y down) and how tall it is."""
    y = np.concatenate(strokes)[:, 1]
    return float(y.min()), float(np.ptp(y))


def _straight_stroke(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    return resample_polyline(np.stack([start, end]), POINT_SPACING)


# A pen that travels less than this share of the digit's height before the top of a 1's stem made a hook as it
# landed (most bare 1s have one), not a flag.
MAX_HOOK = 0.15


def with_long_flag(strokes: Sequence[np.ndarray], length: float, fall: float) -> list[np.ndarray]:
    """A 1 as much of Europe and Asia writes it: a long up-stroke into the top of the stem, in one movement.

    `strokes` are normalised (see `normalise_strokes`); the flag starts `length` times the drawing's height
    to the left of the stem's top and `fall` degrees below it, and replaces the little hook that a pen often
    makes as it lands. A stem that travels further (`MAX_HOOK`) to its highest point, from either end, already
    has a flag and is left as written.
    """
    strokes = [np.asarray(stroke, dtype=float) for stroke in strokes]
    stem_index = _stem_index(strokes)
    stem = strokes[stem_index]
    _, height = _top_and_height(strokes)
    highest = int(np.argmin(stem[:, 1]))
    before, after = _stroke_length(stem[:highest + 1]), _stroke_length(stem[highest:])
    if min(before, after) > MAX_HOOK * height:
        return strokes
    top_first = stem[highest:] if before <= after else stem[highest::-1]
    angle = np.radians(fall)
    start = top_first[0] + length * height * np.array([-np.cos(angle), np.sin(angle)])
    strokes[stem_index] = np.concatenate([_straight_stroke(start, top_first[0])[:-1], top_first])
    return _fit_unit_box(strokes)[0]


def with_slash(strokes: Sequence[np.ndarray], rising: bool, overshoot: float) -> list[np.ndarray]:
    """A 0 with a slash through it, corner to corner of its box ("/" when `rising`, else "\\"), drawn last.

    `overshoot` moves each end out of the box along the diagonal, as a fraction of the diagonal (negative:
    the slash stops inside the oval).
    """
    strokes = [np.asarray(stroke, dtype=float) for stroke in strokes]
    every_point = np.concatenate(strokes)
    low, high = every_point.min(axis=0), every_point.max(axis=0)
    start = np.array([low[0], high[1]]) if rising else low
    end = np.array([high[0], low[1]]) if rising else high
    reach = (end - start) * overshoot
    return _fit_unit_box(strokes + [_straight_stroke(start - reach, end + reach)])[0]


def with_crossbar(strokes: Sequence[np.ndarray], width: float) -> list[np.ndarray]:
    """A 7 with a bar across its stem, as much of Europe writes it: a level stroke `width` times the drawing's
    height, centred on the stem halfway down, drawn last. A 7 that already has a bar of its own (a stroke besides
    the longest that is wider than tall, below the top fifth) is left as written.
    """
    strokes = [np.asarray(stroke, dtype=float) for stroke in strokes]
    top, height = _top_and_height(strokes)
    stem_index = _stem_index(strokes)
    for index, stroke in enumerate(strokes):
        if (index != stem_index and np.ptp(stroke[:, 0]) > np.ptp(stroke[:, 1])
                and stroke[:, 1].mean() > top + 0.2 * height):
            return strokes
    stem = strokes[stem_index]
    middle = top + 0.5 * height
    centre = stem[int(np.argmin(np.abs(stem[:, 1] - middle)))]
    half = np.array([width * height / 2, 0.0])
    return _fit_unit_box(strokes + [_straight_stroke(centre - half, centre + half)])[0]


def without_lifting(strokes: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The same digit written in one movement: the pen stays down between strokes, so each stroke is joined to
    the next by the straight line it travels from one's end to the next one's start (a 4 written in one stroke, a
    7 whose crossbar follows its stem without the pen being lifted). The box stays."""
    strokes = [np.asarray(stroke, dtype=float) for stroke in strokes]
    joined = [strokes[0]]
    for stroke in strokes[1:]:
        joined += [_straight_stroke(joined[-1][-1], stroke[0])[1:-1], stroke]
    return [np.concatenate(joined)]


def open_in_one_stroke(strokes: Sequence[np.ndarray], loop_width: float) -> list[np.ndarray]:
    """A 4 written open in one movement: down the arm, along the bar, back to the stem, up it and down again.

    Made from a 4 written as an arm-and-bar stroke followed by a stem drawn downwards (most 4s): the pen goes
    from the bar's end back to where the bar crosses the stem, up to the stem's top beside its own way down, and
    down the stem. The way up starts `loop_width` times the drawing's height to the side of the stem, on the
    bar's side, and meets it at the top: a narrow loop, as a quick hand leaves. Other 4s are left as written.
    """
    strokes = [np.asarray(stroke, dtype=float) for stroke in strokes]
    stem = strokes[-1]
    if len(strokes) != 2 or np.ptp(stem[:, 1]) <= np.ptp(strokes[0][:, 1]) or stem[0, 1] >= stem[-1, 1]:
        return strokes
    arm_and_bar = strokes[0]
    crossing = int(np.argmin(np.abs(stem[:, 1] - arm_and_bar[-1, 1])))
    side = np.sign(arm_and_bar[-1, 0] - stem[crossing, 0]) or 1.0
    way_up = stem[crossing::-1].copy()
    _, height = _top_and_height(strokes)
    way_up[:, 0] += side * loop_width * height * np.linspace(1.0, 0.0, len(way_up))
    back_to_stem = _straight_stroke(arm_and_bar[-1], way_up[0])
    return [np.concatenate([arm_and_bar, back_to_stem[1:-1], way_up, stem[1:]])]


def with_hooked_tail(strokes: Sequence[np.ndarray], size: float) -> list[np.ndarray]:
    """A tail that ends in a hook: from where the pen stopped at the bottom, it carries on round to the left and
    back up (half a circle `size` times the drawing's height across), as many people end a 9. A digit whose last
    stroke does not end in the bottom fifth is left as written."""
    strokes = [np.asarray(stroke, dtype=float) for stroke in strokes]
    top, height = _top_and_height(strokes)
    end = strokes[-1][-1]
    if end[1] < top + 0.8 * height:
        return strokes
    radius = size * height / 2
    turn = np.linspace(0.0, np.pi, max(int(np.pi * radius / POINT_SPACING), 8))[1:]
    hook = end + radius * np.stack([np.cos(turn) - 1.0, np.sin(turn)], axis=1)
    return _fit_unit_box(strokes[:-1] + [np.concatenate([strokes[-1], hook])])[0]


def with_proportions(strokes: Sequence[np.ndarray], exponent: float) -> list[np.ndarray]:
    """Move the drawing's vertical middle: an exponent above 1 shrinks the top and stretches the bottom (a 9's
    small loop on a long tail), below 1 the opposite (a 6's long neck on a small loop). The box stays."""
    top, height = _top_and_height(strokes)
    if height == 0:
        return list(strokes)

    def remap(stroke: np.ndarray) -> np.ndarray:
        depth = np.clip((stroke[:, 1] - top) / height, 0.0, 1.0)
        return np.stack([stroke[:, 0], top + height * depth**exponent], axis=1)

    return [remap(np.asarray(stroke, dtype=float)) for stroke in strokes]


Restyle = Callable[[Sequence[np.ndarray]], list[np.ndarray]]

# Styles that many people write and few of UNIPEN's training writers do, each one change made to every sample of
# its digit: how `benchmarks/writing_styles.py` and notebook 06 measure a model on them. (digit, change)
WRITING_STYLES: dict[str, tuple[int, Restyle]] = {
    "1, flag 30%, 45 deg": (1, partial(with_long_flag, length=0.3, fall=45)),
    "1, flag 45%, 35 deg": (1, partial(with_long_flag, length=0.45, fall=35)),
    "1, flag 50%, 30 deg": (1, partial(with_long_flag, length=0.5, fall=30)),
    "0, slashed /": (0, partial(with_slash, rising=True, overshoot=0.1)),
    "0, slashed \\": (0, partial(with_slash, rising=False, overshoot=0.1)),
    "7, crossbar": (7, partial(with_crossbar, width=0.4)),
    "7, crossbar, pen kept down": (7, lambda strokes: without_lifting(with_crossbar(strokes, width=0.4))),
    "4, pen kept down": (4, without_lifting),
    "4, open, one stroke": (4, partial(open_in_one_stroke, loop_width=0.08)),
    "9, small loop, long tail": (9, partial(with_proportions, exponent=1.3)),
    "9, small loop, hooked tail": (9, lambda strokes: with_hooked_tail(with_proportions(strokes, 1.3), size=0.25)),
    "6, long neck, small loop": (6, partial(with_proportions, exponent=0.77)),
}


# Real handwriting as written: no slant, rotation or stretch added.
_AS_WRITTEN = {"slant": (0.0, 0.0), "rotation": (0.0, 0.0), "aspect": (1.0, 1.0)}

# A size is of the sample's longer side, the side `normalise_strokes` scales by: a wide 0 is less tall than that.
RENDERINGS: dict[str, Variant] = {
    "pen_12": Variant("brush 12 px on a 280 canvas, 150-220 px on its longer side, centred", brush=(12, 12),
                      **_AS_WRITTEN),
    "pen_20": Variant("brush 20 px (the pad's default), 150-220 px on its longer side, centred", brush=(20, 20),
                      **_AS_WRITTEN),
    "pen_28": Variant("brush 28 px, 150-220 px on its longer side, centred", brush=(28, 28), **_AS_WRITTEN),
    "dark_on_paper": Variant("dark ink on grainy light paper, brush 16-24 px", dark_on_light=True, **_AS_WRITTEN),
    "small_in_corner": Variant("60-100 px on its longer side near a corner, thin pen 10-14 px", height=(60, 100),
                               brush=(10, 14), corner=True, **_AS_WRITTEN),
}
# The same drawings kept as small scans, the way older collections of scanned digits store them: a measure of
# reading such pictures, apart from the pad's renderings above (the real-handwriting benchmark's scan table).
SCANS: dict[str, Variant] = {
    "scan_16_grey": Variant("cut out and shrunk to fill 16x16 pixels, grey levels", scan=Scan(16, False),
                            **_AS_WRITTEN),
    "scan_32": Variant("cut out and shrunk to fill 32x32 pixels, black and white", scan=Scan(32, True),
                       **_AS_WRITTEN),
}
AUGMENTED = "augmented"


@dataclass(frozen=True)
class Augmentation:
    """Random changes to a sample's strokes for training; ranges are (low, high) for a uniform draw."""

    canvas_size: tuple[int, int] = (160, 420)
    height: tuple[float, float] = (0.2, 0.85)  # the digit's longer side, as a fraction of the canvas
    brush: tuple[float, float] = (0.04, 0.2)  # pen diameter, as a fraction of the digit's longer side
    min_brush: float = 3.0  # canvas pixels
    centred_share: float = 0.6  # the rest anywhere on the canvas
    centre_shift: float = 0.08  # fraction of the canvas
    slant: tuple[float, float] = (-0.3, 0.3)
    rotation: tuple[float, float] = (-12.0, 12.0)  # degrees
    aspect: tuple[float, float] = (0.7, 1.3)  # width multiplier, drawn apart from the height
    jitter: tuple[float, float] = (0.0, 0.008)  # a shaky hand, as a fraction of the digit's longer side
    dark_on_light_share: float = 0.15
    drop_stroke_share: float = 0.1  # of samples with 3 or more strokes
    short_stroke: float = 0.5  # only a stroke shorter than this fraction of the longest may be dropped
    # Styles that many people use and few of UNIPEN's training writers do (see `with_long_flag` and
    # `with_slash`); off (0) by default, `AUGMENTATION_WITH_STYLES` turns them on.
    long_flag_share: float = 0.0  # of 1s
    flag_length: tuple[float, float] = (0.2, 0.55)  # of the digit's height
    flag_fall: tuple[float, float] = (30.0, 65.0)  # degrees below the horizontal: a level bar is a 7's
    slash_share: float = 0.0  # of 0s
    rising_slash_share: float = 0.7  # "/"; the rest "\"
    slash_overshoot: tuple[float, float] = (-0.05, 0.15)

    def __new__(cls, *args, **settings):
        if problem := unknown_settings_problem(cls, settings):  # before the dataclass's TypeError
            raise ConfigError(problem)
        return super().__new__(cls)

    def __post_init__(self) -> None:
        # Checked now: a wrong setting would otherwise fail as NumPy's error at the first drawing, or (a share of 35
        # for 0.35) change every drawing without a word.
        problems = []
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(field.default, tuple):
                if not (isinstance(value, tuple) and len(value) == 2 and all(map(is_number, value))
                        and value[0] <= value[1]):
                    problems.append(f"{field.name} is a range (low, high) of two numbers, low at most high, such as "
                                    f"{field.default}, not {value!r}")
            elif field.name.endswith("_share"):
                if not (is_number(value) and 0 <= value <= 1):
                    problems.append(f"{field.name} is a share from 0 to 1, such as {field.default}, not {value!r}")
            elif not (is_number(value) and value >= 0):
                problems.append(f"{field.name} is a number, 0 or more, such as {field.default}, not {value!r}")
        if not problems:  # a canvas is a whole number of pixels, which a range of numbers need not be
            problems += filter(None, (canvas_size_problem(size, "each end of canvas_size") for size in self.canvas_size))
        if not problems:  # settings each valid alone that together cannot draw
            problems += self._drawing_problems()
        if problems:
            raise ConfigError("invalid Augmentation: " + "; ".join(problems))

    def _drawing_problems(self) -> list[str]:
        # A digit 0 pixels long is a dot whatever it was, which every drawing would show without a word; a pen of 0
        # pixels or as wide as the canvas would fail at the first drawing, naming a brush and a canvas never set.
        default = {field.name: field.default for field in dataclasses.fields(self)}
        problems = []
        if self.height[0] <= 0:
            problems.append(f"height starts above 0 (the digit's longer side, as a share of the canvas), such as "
                            f"{default['height']}, not {self.height}: a digit of size 0 is drawn as a dot")
        if self.brush[0] <= 0 and self.min_brush <= 0:
            problems.append(f"brush starts above 0, or min_brush is above 0 (such as {default['brush']} and "
                            f"{default['min_brush']}), not {self.brush} and {self.min_brush}: a pen of 0 pixels draws "
                            "nothing")
        if self.canvas_size[0] <= self.min_brush:
            problems.append(f"canvas_size starts above min_brush, {self.min_brush} pixels, such as "
                            f"{default['canvas_size']}, not {self.canvas_size}: the pen would be as wide as the canvas")
        return problems

    def draw(self, rng: np.random.Generator, strokes: Sequence[np.ndarray], label: int, style: str) -> DrawnDigit:
        """Draw normalised strokes (see `normalise_strokes`) with random changes."""
        strokes = self._maybe_drop_a_stroke(rng, strokes)
        strokes = self._maybe_change_style(rng, strokes, label)
        warp = random_warp(rng)
        canvas_size = int(rng.integers(self.canvas_size[0], self.canvas_size[1] + 1))
        height = canvas_size * rng.uniform(*self.height)
        brush = max(self.min_brush, height * rng.uniform(*self.brush))
        variant = Variant(
            AUGMENTED, height=(height, height), brush=(brush, brush),
            centre_shift=self.centre_shift * canvas_size if rng.random() < self.centred_share else None,
            slant=self.slant, rotation=self.rotation, aspect=self.aspect,
            dark_on_light=bool(rng.random() < self.dark_on_light_share),
            jitter=height * rng.uniform(*self.jitter),
        )
        return draw_on_canvas(rng, label, style, [warp(stroke) for stroke in strokes], variant, canvas_size,
                              shrink_to_fit=True)

    def _maybe_change_style(self, rng: np.random.Generator, strokes: Sequence[np.ndarray],
                            label: int) -> list[np.ndarray]:
        # Draws from `rng` only where a style is on: without styles a drawing is what it always was.
        strokes = list(strokes)
        if label == 1 and self.long_flag_share and rng.random() < self.long_flag_share:
            strokes = with_long_flag(strokes, rng.uniform(*self.flag_length), rng.uniform(*self.flag_fall))
        if label == 0 and self.slash_share and rng.random() < self.slash_share:
            strokes = with_slash(strokes, bool(rng.random() < self.rising_slash_share),
                                 rng.uniform(*self.slash_overshoot))
        return strokes

    def _maybe_drop_a_stroke(self, rng: np.random.Generator, strokes: Sequence[np.ndarray]) -> list[np.ndarray]:
        # Writers leave out a bar or a flag now and then; the longest stroke carries the digit and always stays.
        drop = rng.random() < self.drop_stroke_share
        if not drop or len(strokes) < 3:
            return list(strokes)
        lengths = [_stroke_length(stroke) for stroke in strokes]
        short = [index for index, length in enumerate(lengths) if length < self.short_stroke * max(lengths)]
        if not short:
            return list(strokes)
        dropped = int(rng.choice(short))
        return [stroke for index, stroke in enumerate(strokes) if index != dropped]


AUGMENTATION = Augmentation()
# What `train --handwriting-styles` draws: about a third of the 1s flagged and a fifth of the 0s slashed.
AUGMENTATION_WITH_STYLES = Augmentation(long_flag_share=0.35, slash_share=0.2)
# Those styles in words, for help texts and model cards.
TRAINED_STYLES = "1s with a long flag, slashed 0s"


def checked_augment(augment) -> bool | Augmentation:
    """`augment` as the drawing functions take it; anything else is a ConfigError (a string such as "yes" would
    otherwise count as true, or fail deep in the drawing)."""
    if not isinstance(augment, (bool, Augmentation)):
        raise ConfigError(f"augment is True (drawn for training with handwriting.AUGMENTATION), False (drawn as the "
                          f"pad draws) or a handwriting.Augmentation, not {augment!r}")
    return augment


def _resolve_rendering(rendering: str | None, augment: bool | Augmentation) -> tuple[str, Variant | Augmentation]:
    if checked_augment(augment) is not False:
        if rendering is not None:
            raise ConfigError("give either a named rendering or augment=, not both")
        return AUGMENTED, AUGMENTATION if augment is True else augment
    rendering = rendering or "pen_20"
    named = {**RENDERINGS, **SCANS}
    # A list or other unhashable name would fail the lookup with a TypeError.
    if not (isinstance(rendering, str) and rendering in named):
        raise ConfigError(f"unknown rendering {rendering!r}; choose one of: {', '.join(named)} (or augment=True)")
    return rendering, named[rendering]


def pen_drawing(sample: PenSample, rendering: str | None = None, *, augment: bool | Augmentation = False,
                seed: int = 0, copy: int = 0, restyle: Restyle | None = None) -> DrawnDigit:
    """One sample drawn on a canvas: a named rendering (default "pen_20") or, with augment=, for training. A letter
    is drawn the same way, labelled `NO_DIGIT`. `restyle` changes the normalised strokes first (a
    `WRITING_STYLES` style).

    Deterministic for (seed, rendering, sample, copy), whatever other samples are drawn with it.
    """
    if not isinstance(sample, PenSample):  # a list would fail as Python's AttributeError
        raise ConfigError(f"pen_drawing draws one PenSample, such as load_unipen()[0], not a {type(sample).__name__}: "
                          "for a list of samples use render_model_inputs")
    name, spec = _resolve_rendering(rendering, augment)
    check_seed(seed)
    if not (is_whole_number(copy) and copy >= 0):
        raise ConfigError(f"copy is a whole number, 0 or more (which of a sample's copies to draw), not {copy!r}")
    _check_restyle(restyle)
    rng = np.random.default_rng([seed, zlib.crc32(name.encode()), sample.key, copy])
    strokes = normalise_strokes(sample.strokes)
    if restyle is not None:
        strokes = restyle(strokes)
    label = sample.digit if sample.label in LABELS["digits"] else NO_DIGIT
    if isinstance(spec, Augmentation):
        return spec.draw(rng, strokes, label, sample.writer_id)
    return draw_on_canvas(rng, label, sample.writer_id, strokes, spec, DEFAULT_CANVAS_SIZE, shrink_to_fit=True)


def _check_restyle(restyle) -> None:
    if restyle is not None and not callable(restyle):
        raise ConfigError(f"restyle is a function that changes the strokes, such as WRITING_STYLES[name][1] (the "
                          f"style's change without its digit), not {restyle!r}")


@dataclass(frozen=True, eq=False)
class RenderedDigits:
    """Model inputs rendered from pen samples, `copies` rows per sample in sample order."""

    model_inputs: np.ndarray  # (N, 28, 28) float32 in [0, 1]
    labels: np.ndarray  # (N,) int64 digits
    writer_ids: np.ndarray  # (N,) str
    institutions: np.ndarray  # (N,) str

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def people(self) -> set[str]:
        """The people who wrote these digits (IBM's sessions of one person count once)."""
        return {person_of(writer) for writer in self.writer_ids}

    def of_digit(self, digit: int) -> RenderedDigits:
        """The rows of one digit, in their order."""
        keep = self.labels == digit
        return RenderedDigits(*(getattr(self, field.name)[keep] for field in dataclasses.fields(self)))


def render_model_inputs(samples: Iterable[PenSample], rendering: str | None = None, *,
                        augment: bool | Augmentation = False, copies: int = 1, seed: int = 0,
                        restyle: Restyle | None = None) -> RenderedDigits:
    """Draw every digit sample `copies` times and prepare each drawing as the pad does.

    A drawing cannot come out blank (every sample has ink, and it is kept on the canvas); should preprocessing
    still refuse one, the `ImageError` names the sample instead of losing it from the batch.
    """
    name, _ = _resolve_rendering(rendering, augment)
    if not (is_whole_number(copies) and copies >= 1):
        raise ConfigError(f"copies must be a whole number, at least 1, not {copies!r}")
    check_seed(seed)  # also where there are no samples to draw, so that a wrong seed is found at once
    _check_restyle(restyle)
    samples = checked_digit_samples(samples, "samples",
                                    letters_instead="draw letters one at a time with pen_drawing (labelled NO_DIGIT)")
    labels = digit_labels(samples)
    model_inputs = np.empty((len(samples) * copies, IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    row = 0
    for index, sample in enumerate(samples):
        for copy in range(copies):
            try:
                model_inputs[row] = pen_drawing(sample, rendering, augment=augment, seed=seed, copy=copy,
                                                 restyle=restyle).model_input()
            except ImageError as error:
                raise ImageError(f"sample {index} ({sample.writer_id}, label {sample.label}), rendering {name}, "
                                 f"copy {copy}: {error}") from error
            row += 1
    return RenderedDigits(
        model_inputs=model_inputs,
        labels=np.repeat(labels, copies),
        writer_ids=np.repeat(np.array([sample.writer_id for sample in samples], dtype=str), copies),
        institutions=np.repeat(np.array([sample.institution for sample in samples], dtype=str), copies),
    )


def checked_digit_samples(samples, name: str, letters_instead: str = "") -> list[PenSample]:
    """`samples`, the argument `name`, as a list of digit PenSamples, all checked before any time is spent drawing
    (a WriterSplit refuses to be read as one, see its `__iter__`). `letters_instead` is what the caller's user can
    do with letters, where there is something."""
    samples = checked_list_of(samples, PenSample, name, "load_unipen('digits')")
    for index, sample in enumerate(samples):
        # The file is fine (a DataError would blame it): letters were given to a function that draws digits.
        if sample.label not in LABELS["digits"]:
            raise ConfigError(f"{name} are drawn as digits here; sample {index} ({sample.writer_id}) is labelled "
                              f"{sample.label!r}. Give digits, such as load_unipen('digits')"
                              + (f", or {letters_instead}" if letters_instead else ""))
    return samples


# Named renderings are drawn with this seed wherever a figure is measured (validation during training, the
# benchmark, the recorded card figures), so every model is measured on exactly the same drawings.
MEASUREMENT_SEED = 42


def spread_subset(samples: Sequence[PenSample], per_digit: int) -> list[PenSample]:
    """At most `per_digit` samples of each digit, taken in fingerprint order rather than file order, so that a
    small subset still holds many writers instead of the first writer's digits."""
    if not (is_whole_number(per_digit) and per_digit >= 1):
        raise ConfigError(f"per_digit is a whole number of samples of each digit, at least 1, not {per_digit!r}")
    taken: Counter = Counter()
    chosen = []
    for sample in sorted(samples, key=lambda sample: (sample.key, sample.writer_id)):
        if taken[sample.label] < per_digit:
            taken[sample.label] += 1
            chosen.append(sample)
    return chosen


def render_every_way(samples: Sequence[PenSample], renderings: Sequence[str] = tuple(RENDERINGS),
                     seed: int = MEASUREMENT_SEED, restyle: Restyle | None = None) -> dict[str, RenderedDigits]:
    """Every sample drawn in each named rendering: how real-handwriting figures are measured."""
    # A lone name would be read letter by letter.
    if isinstance(renderings, str) or not isinstance(renderings, Iterable):
        example = [renderings] if isinstance(renderings, str) else ["pen_20"]
        raise ConfigError(f"renderings is a list of names, such as {example}, not {renderings!r}")
    renderings = list(renderings)
    for name in renderings:  # all before any is drawn: a mistake in the last would otherwise show only at the end
        _resolve_rendering(name, False)
    return {name: render_model_inputs(samples, name, seed=seed, restyle=restyle) for name in renderings}


def concatenate(parts: Iterable):
    """One dataclass of arrays (such as `RenderedDigits`) from several of the same kind, field by field."""
    parts = list(parts)
    kind = type(parts[0])
    return kind(*(np.concatenate([getattr(part, field.name) for part in parts]) for field in dataclasses.fields(kind)))


def part_digits(part: str, data_dir: str | os.PathLike | None = None,
                per_digit: int | None = None) -> list[PenSample]:
    """The digits of one writer part of `digit_split` ("train", "validation" or "benchmark"); with `per_digit`, at
    most that many of each digit, spread over the writers (`spread_subset`: smoke and quick runs)."""
    samples = digit_split(data_dir)[part]
    if not samples:  # every caller measures or trains on the part: found now, not after a training run
        raise DataError(f"{handwriting_dir(data_dir)}: no writer of these digits is in the {part!r} part. People are "
                        f"held out for validation and the benchmark only in institutions with at least "
                        f"{MIN_WRITERS_TO_HOLD_OUT} of them; use the full UNIPEN folder (see its README).")
    return list(samples) if per_digit is None else spread_subset(samples, per_digit)


def validation_digits(data_dir: str | os.PathLike | None = None, per_digit: int | None = None) -> RenderedDigits:
    """The validation people's digits in every named rendering: what chooses a training run's best epoch and
    ranks models for the pad. `per_digit` takes a spread subset (quick runs).

    Drawn once in a process for the same samples (the reader's cache hands out the same ones until the file
    changes): a session that trains, calibrates and compares models reads the same drawings each time. The arrays
    are read-only, since every caller shares them.
    """
    return _every_rendering_together(tuple(part_digits("validation", data_dir, per_digit)))


@lru_cache(maxsize=2)
def _every_rendering_together(samples: tuple[PenSample, ...]) -> RenderedDigits:
    drawn = concatenate(render_every_way(samples).values())
    for field in dataclasses.fields(drawn):
        getattr(drawn, field.name).flags.writeable = False
    return drawn


if __name__ == "__main__":
    split = digit_split()
    print(f"UNIPEN digits by writer ({UNIPEN_CREDIT})\nwriters / digits per part\n")
    print(split.table())

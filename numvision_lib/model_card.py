"""The model card (the JSON file beside every `.keras` model) and the one place that answers "which model?".

`train` writes a card, `evaluate` and the benchmarks add figures to its `metrics`, and everything that has
to pick a model reads cards through this module:

- `pad_model_path()`: the shipped model the drawing pad uses (`Predictor.load()`), ranked by `PAD_RANKING`;
- `reference_model_path()`: the reference CNN, the lessons' baseline;
- `newest_student_model()`: the model a student trained most recently in notebook 03;
- `model_to_evaluate()`: the student's newest model, else the reference (notebook 04);
- `shipped_model_path(architecture)`: where the shipped model lives, and where `python -m numvision_lib train`
  publishes one by default;
- `my_model_path(architecture)`: where notebook 03, and `train` without an output, save a student's model;
- `class_model_path(base)`: where a model fine-tuned on a class's drawings is saved.
- `DIGIT_CHECK_PATH`: the pad's digit check (see `not_a_digit`), whose card is a plain JSON object.

`read_card` and `update_card` read and change the JSON of either kind of card without TensorFlow: the drawing
pad's light path (`litert`) finds its temperature, threshold and exported files there.
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ConfigError, ModelFileError
from .handwriting import TRAINED_STYLES
from .paths import (CARD_SUFFIX, MODELS_DIR, MY_MODELS_DIR, checked_path, how_to_replace_model, in_models_dir,
                    project_relative, write_text_atomic)
from .values import counted, is_number

# What `paths.checked_path` shows when a model file's or a card's path is missing.
MODEL_FILE_EXAMPLE = "a model file, such as models/numvision_cnn.keras"
CARD_FILE_EXAMPLE = "a model card, such as models/numvision_cnn.json"
# A card saved again in Windows Notepad starts with a byte order mark, which plain utf-8 refuses.
CARD_ENCODING = "utf-8-sig"
HISTORY_SUFFIX = ".history.csv"
REFERENCE_ARCHITECTURE = "numvision_cnn"
# Files notebook 03 writes are called my_<architecture>.keras (see `my_model_path`).
STUDENT_MODEL_PREFIX = "my_"
DIGIT_CHECK_PATH = MODELS_DIR / "checks" / "digit_check.keras"
# Models fine-tuned on a class's drawings are class_<base model>.keras: not my_*, because notebook 04 evaluates
# the newest my_* model as the one trained in notebook 03.
CLASS_MODEL_PREFIX = "class_"
# What a fine-tuned model's card says in `data` of its fine-tuning (`fine_tuning.fine_tune`): the model it started
# from, the class's drawings and students, the students' stored ids (pseudonyms: whose drawings went into the model,
# for a student who asks for their deletion) and where the drawings came from. A model fine-tuned from it keeps these
# in its EARLIER_FINE_TUNING, the earliest first.
FINE_TUNE_STUDENTS = "fine_tune_students"
FINE_TUNING_ENTRIES = ("base_model", "class_drawings", "students", FINE_TUNE_STUDENTS, "class_sources")
EARLIER_FINE_TUNING = "earlier_fine_tuning"
# True in the card of a model that learned from UNIPEN's benchmark writers (see `ModelCard.saw_benchmark_writers`).
BENCHMARK_WRITERS_SEEN = "benchmark_writers_seen"

# The figures a card's `metrics` can hold, written by train, evaluate and the benchmarks.
VAL_ACCURACY = "val_accuracy"
TEST_ACCURACY = "test_accuracy"
TEST_LOSS = "test_loss"
DRAWN_ACCURACY = "drawn_accuracy"
# Real handwriting (UNIPEN): the validation people's digits, which choose and rank models, and the benchmark
# people's, which nothing is chosen on (see `handwriting.digit_split`).
REAL_HANDWRITING_VAL_ACCURACY = "real_handwriting_val_accuracy"
REAL_HANDWRITING_ACCURACY = "real_handwriting_accuracy"
REAL_HANDWRITING_CONFIDENT_MISTAKES = "real_handwriting_confident_mistakes"
# How the drawing pad's model is chosen: the first of these figures that a card holds decides, and a card
# with an earlier one ranks above every card without it. People's handwriting is what the pad reads, so a
# score on real writers' digits outranks one on our synthetic drawings, which outranks MNIST's test accuracy.
PAD_RANKING = (REAL_HANDWRITING_VAL_ACCURACY, DRAWN_ACCURACY, TEST_ACCURACY)
# The figures that are shares of the answers, from 0 to 1: a percentage typed in by hand would outrank every model.
SHARE_METRICS = (VAL_ACCURACY, TEST_ACCURACY, DRAWN_ACCURACY, REAL_HANDWRITING_VAL_ACCURACY, REAL_HANDWRITING_ACCURACY,
                 REAL_HANDWRITING_CONFIDENT_MISTAKES)


@dataclass
class ModelCard:
    """What a model is, what it was trained on and how, and what it scored. Saved as `<model>.json`."""

    name: str
    model_file: str
    architecture: str
    parameters: int
    data: dict
    config: dict
    precision_used: str
    epochs_run: int
    train_seconds: float
    best_epoch: int
    history_file: str
    versions: dict
    metrics: dict
    # images, val_accuracy_before and val_accuracy_after of the batch-norm calibration; empty without one
    batch_norm_calibration: dict = field(default_factory=dict)
    # the temperature that calibrates its probabilities (see `calibration`), and how it was fitted; empty: none
    calibration: dict = field(default_factory=dict)
    # the model's LiteRT copy for the drawing pad, written by `export-litert` (see `litert`); empty: none
    litert: dict = field(default_factory=dict)

    @property
    def temperature(self) -> float:
        return float(self.calibration.get("temperature", 1.0))

    @classmethod
    def path_for(cls, model_path: str | os.PathLike) -> Path:
        return checked_path(model_path, MODEL_FILE_EXAMPLE).with_suffix(CARD_SUFFIX)

    @classmethod
    def files_for(cls, model_path: Path, with_history: bool = True) -> list[Path]:
        """The files that a run (training, fine-tuning, the digit check's) writes for the model at `model_path`, in the
        order `paths.atomic_paths` replaces them together: its history (but `with_history=False`: the digit check
        keeps none), its card, the model (the largest, last)."""
        history = [model_path.with_suffix(HISTORY_SUFFIX)] if with_history else []
        return [*history, cls.path_for(model_path), model_path]

    @classmethod
    def load(cls, card_path: str | os.PathLike) -> "ModelCard":
        """Read a card; a missing, damaged or incomplete one is a `ModelFileError` that names the file."""
        return cls._load(card_path, MODELS_DIR)

    @classmethod
    def _load(cls, card_path: str | os.PathLike, models_dir: Path) -> "ModelCard":
        """`load`, of a card read as one of the models in `models_dir` (see `digit_check_given_as_model`)."""
        card_path = checked_path(card_path, CARD_FILE_EXAMPLE)
        if card_path.suffix == ".keras":
            raise ModelFileError(f"{card_path.name} is the model itself: give its card, "
                                 f"{card_path.with_suffix(CARD_SUFFIX).name}, or use ModelCard.for_model(model_path)")
        values = _card_values(card_path)
        if is_digit_check_card(values):
            raise ModelFileError(digit_check_given_as_model(card_path.with_suffix(".keras"), models_dir))
        if unknown := _unknown_entries(values):  # a note added by hand: the card is fine once it is taken out again
            raise ModelFileError(f"{card_path.name}: {_unknown_entries_problem(unknown)}. Remove "
                                 f"{'it' if len(unknown) == 1 else 'them'} from the card (keep notes in a text file of "
                                 f"their own beside it, such as {card_path.stem}_notes.txt).")
        if problem := _model_card_problem(values):
            raise ModelFileError(_unreadable(card_path, problem, _restore_model_card(card_path)))
        return cls(**values)

    @classmethod
    def for_model(cls, model_path: str | os.PathLike) -> "ModelCard":
        return cls.load(cls.path_for(model_path))

    def to_dict(self) -> dict:
        values = dataclasses.asdict(self)
        for optional in ("batch_norm_calibration", "calibration", "litert"):
            if not values[optional]:
                del values[optional]
        return values

    def save(self, card_path: str | os.PathLike) -> Path:
        return _write_card(checked_path(card_path, CARD_FILE_EXAMPLE), self.to_dict(), _model_card_problem)

    @property
    def saw_real_handwriting(self) -> bool:
        """Whether the model trained on UNIPEN's writers: only then does the card's data name them."""
        return "real_handwriting" in self.data

    @property
    def fine_tuned_from(self) -> str | None:
        """The name of the model this one was fine-tuned from on a class's drawings (`fine_tuning`); None if none."""
        return self.data.get("base_model")

    @property
    def fine_tunings(self) -> list[dict]:
        """Every fine-tuning on a class's drawings that made this model, the earliest first (`FINE_TUNING_ENTRIES` of
        each, those its card holds); none for a model trained from scratch."""
        if self.fine_tuned_from is None:
            return []
        latest = {key: self.data[key] for key in FINE_TUNING_ENTRIES if key in self.data}
        return [*self.data.get(EARLIER_FINE_TUNING, []), latest]

    @property
    def fine_tune_students(self) -> frozenset[str]:
        """Every student whose drawings a fine-tuning that made this model learned from, as the class stored them."""
        return frozenset(student for entry in self.fine_tunings for student in entry.get(FINE_TUNE_STUDENTS, []))

    @property
    def saw_benchmark_writers(self) -> bool:
        """Whether the model learned from UNIPEN's benchmark writers, which no trained model sees: fine-tuned (itself,
        or a model it was fine-tuned from) on the demonstration class, which is made of them."""
        return self.data.get(BENCHMARK_WRITERS_SEEN, False)

    def score(self, ranking: tuple[str, ...] = PAD_RANKING) -> tuple[int, float]:
        """(how early in `ranking` the first figure this card holds comes, that figure); higher ranks first."""
        for position, key in enumerate(ranking):
            if is_number(self.metrics.get(key)):
                return len(ranking) - position, float(self.metrics[key])
        return 0, 0.0

    def summary(self) -> str:
        """What the card says about the model, in a few lines for a notebook (no paths, no timings)."""
        lines = [f"Architecture: {self.architecture}, {self.parameters:,} parameters"]
        if self.fine_tuned_from is not None:
            *earlier, latest = self.fine_tunings
            lines.append(f"Fine-tuned from {_fine_tuning_text(latest)}")
            lines += [f"  before that, from {_fine_tuning_text(entry)}" for entry in reversed(earlier)]
            if self.saw_benchmark_writers:
                lines.append("  including UNIPEN's benchmark writers (the demonstration class): no figure on them is "
                             "one of unseen handwriting")
        elif self.data:
            lines.append(f"Trained on {self.data.get('train_images', 0):,} images "
                         f"({self.data.get('validation_images', 0):,} kept for validation)")
        lines.append(f"Epochs run: {self.epochs_run} of at most {self.config.get('epochs', '?')}; "
                     f"best epoch: {self.best_epoch}")
        if self.saw_real_handwriting:
            handwriting = self.data["real_handwriting"]
            lines.append(f"Including real handwriting: {handwriting['train_images']:,} drawings of "
                         f"{handwriting['train_digits']:,} digits by {handwriting['train_people']} UNIPEN writers")
            if self.config.get("handwriting_styles"):
                lines.append(f"  some redrawn in styles few of them use ({TRAINED_STYLES})")
        for key, label in ((VAL_ACCURACY, "Validation accuracy"), (TEST_ACCURACY, "Test accuracy (recorded)"),
                           (DRAWN_ACCURACY, "Drawn-digit accuracy (recorded)"),
                           (REAL_HANDWRITING_VAL_ACCURACY, "Real handwriting, validation writers (recorded)"),
                           (REAL_HANDWRITING_ACCURACY, "Real handwriting, benchmark writers (recorded)")):
            if key in self.metrics:
                lines.append(f"{label}: {self.metrics[key]:.2%}")
            if key == VAL_ACCURACY and self.batch_norm_calibration:
                calibration = self.batch_norm_calibration
                lines.append(f"Batch normalisation calibrated on {calibration['images']:,} plain training images: "
                             f"validation accuracy {calibration['val_accuracy_before']:.2%} before, "
                             f"{calibration['val_accuracy_after']:.2%} after")
        return "\n".join(lines)


def record_metrics(model_path: str | os.PathLike, metrics: dict) -> Path:
    """Add or replace figures in the `metrics` of the card beside `model_path`; returns the card's path.

    A figure the card could not hold (NaN, say, the loss of a model whose training diverged) is a `ConfigError`
    that leaves the card as it was."""
    if not isinstance(metrics, dict):
        raise ConfigError(_not_a_dict("the figures to record", metrics))
    card_path = ModelCard.path_for(model_path)
    card = ModelCard.load(card_path)
    card.metrics.update(metrics)
    return _write_card(card_path, card.to_dict(), _model_card_problem,
                       "Record each figure as a finite number in its range: a figure of NaN comes from a model whose "
                       "training went wrong, and training it again is the fix.")


def digit_check_given_as_model(path: Path, models_dir: str | os.PathLike = MODELS_DIR) -> str:
    """What to say of the digit check at `path`, given where a digit model was expected. One that lies among the
    models, in `models_dir` (whose cards are read as models: the pad's folder, or a benchmark's --models-dir), is told
    to move to models/checks/, as the pad refuses such a folder. One given by its path from elsewhere (the shipped
    check in models/checks/, a student's own) is told only what to give instead: moved there, a student's check would
    replace the pad's."""
    given = (f"{path.name} is the pad's digit check, which tells a digit from a non-digit, not a model that reads "
             "digits: give a digit model, such as one in models/.")
    folder = path.resolve().parent
    # A checks folder given as the models' (`--models-dir models/checks`) holds its checks where they belong.
    if folder != Path(models_dir).resolve() or folder.name == DIGIT_CHECK_PATH.parent.name:
        return given
    return f"{given} A check belongs in models/checks/, never among the models: move it and its card there."


def _described(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


# How to get a good card back: from git for a shipped model; training writes a new one.
_RESTORE_DIGIT_CHECK_CARD = ("Restore the card from git, or train the check again with "
                            "`python -m numvision_lib train-digit-check`.")


def _restore_model_card(card_path: Path) -> str:
    if in_models_dir(card_path):
        return "Restore it from git, or train the model again to write a new one."
    return "Train the model again to write a new one (git does not keep models outside models/)."


def _unreadable(card_path: Path, reason: str, advice: str) -> str:
    return f"{card_path.name}: not a readable model card ({reason}). {advice}"


def _not_written(card_path: Path, reason: str, advice: str) -> str:
    return (f"{card_path.name}: not written, as the card would be unreadable ({reason}); a card already there is "
            f"left as it was. {advice}").rstrip()


def _not_a_dict(what: str, values) -> str:
    return f"give {what} as a dict of names and values, not {type(values).__name__} {values!r}"


# What each annotation of a ModelCard field allows in the JSON (a number written without a decimal point is an int).
_CARD_VALUE_TYPES = {"str": (str, "text"), "int": (int, "whole number"), "float": ((int, float), "number"),
                     "dict": (dict, "JSON object")}
# Fields of the optional entries that the card's own methods read.
_CARD_NUMBERS = {"batch_norm_calibration": ("images", "val_accuracy_before", "val_accuracy_after"),
                 "calibration": ("temperature",)}
# What `summary` reads in `data`: these numbers where they are there (cards of other tools may lack them)...
_DATA_NUMBERS = ("train_images", "validation_images")
# ... and, in a run with real handwriting, every one of these; in a fine-tuned model's, these (in each of its
# fine-tunings).
_REAL_HANDWRITING_NUMBERS = ("train_images", "train_digits", "train_people")
_FINE_TUNED_NUMBERS = ("class_drawings", "students")


def _numbers_problem(values: dict, names, where: str) -> str | None:
    for name in names:
        if not is_number(values.get(name)):
            return f"{where} needs a number {name!r}, found {values.get(name)!r}"
    return None


def _data_problem(data: dict) -> str | None:
    """What in the card's `data` would make `summary` (or `fine_tune`, starting from the model) fail; None when
    nothing would."""
    if problem := _numbers_problem(data, [name for name in _DATA_NUMBERS if name in data], "'data'"):
        return problem
    fine_tuned = "base_model" in data
    if fine_tuned and (problem := _fine_tuning_problem(data, "a fine-tuned model's 'data'")):
        return problem
    earlier = data.get(EARLIER_FINE_TUNING, [])
    if not (isinstance(earlier, list) and all(isinstance(entry, dict) for entry in earlier)):
        return f"{EARLIER_FINE_TUNING!r} in 'data' must be a list of JSON objects, found {earlier!r}"
    for entry in earlier:
        if problem := _fine_tuning_problem(entry, f"each of {EARLIER_FINE_TUNING!r} in 'data'"):
            return problem
    if not isinstance(data.get(BENCHMARK_WRITERS_SEEN, False), bool):
        return f"{BENCHMARK_WRITERS_SEEN!r} in 'data' must be true or false, found {data[BENCHMARK_WRITERS_SEEN]!r}"
    if "real_handwriting" not in data:
        return None
    if not isinstance(data["real_handwriting"], dict):
        return f"'data' needs a JSON object 'real_handwriting', found {data['real_handwriting']!r}"
    return _numbers_problem(data["real_handwriting"], _REAL_HANDWRITING_NUMBERS, "'real_handwriting' in 'data'")


def _fine_tuning_problem(entry: dict, where: str) -> str | None:
    if problem := _numbers_problem(entry, _FINE_TUNED_NUMBERS, where):
        return problem
    students = entry.get(FINE_TUNE_STUDENTS, [])
    if not (isinstance(students, list) and all(isinstance(student, str) for student in students)):
        return f"{where} needs a list of stored student ids {FINE_TUNE_STUDENTS!r}, found {students!r}"
    return None


def _fine_tuning_text(entry: dict) -> str:
    drawings = counted(entry["class_drawings"], "class drawing")
    return f"{entry.get('base_model')} on {drawings} by {counted(entry['students'], 'student')}"


def _card_value_problem(card: ModelCard) -> str | None:
    """What is wrong with a card edited by hand or half written by another tool, found when it is read rather than
    later as a raw error in one of its methods; None when nothing is."""
    for setting in dataclasses.fields(card):
        value = getattr(card, setting.name)
        allowed, description = _CARD_VALUE_TYPES[setting.type]
        if not isinstance(value, allowed) or isinstance(value, bool):
            return f"{setting.name!r} must be a {description}, found {value!r}"
    # The model is loaded from beside the card: a path would load one from elsewhere (another class's folder).
    if Path(card.model_file).name != card.model_file or not card.model_file.endswith(".keras"):
        return f"'model_file' must be the name of a .keras file beside the card, found {card.model_file!r}"
    for entry, names in _CARD_NUMBERS.items():
        values = getattr(card, entry)
        if values and (problem := _numbers_problem(values, names, repr(entry))):
            return problem
    for name in ("val_accuracy_before", "val_accuracy_after"):
        if card.batch_norm_calibration and (
                problem := _share_problem(f"{name!r} in 'batch_norm_calibration'", card.batch_norm_calibration[name])):
            return problem
    if problem := _data_problem(card.data):
        return problem
    if card.temperature <= 0:
        return f"the temperature must be positive, found {card.temperature}"
    for key in (*SHARE_METRICS, TEST_LOSS):
        if key not in card.metrics:
            continue
        value = card.metrics[key]
        if not is_number(value):
            return f"metric {key!r} must be a number, found {value!r}"
        if key in SHARE_METRICS and (problem := _share_problem(f"metric {key!r}", value)):
            return problem
        if key == TEST_LOSS and value < 0:
            return f"metric {key!r} is a loss, 0 or more, found {value!r}"
    return None


def _share_problem(name: str, value: float) -> str | None:
    if not 0 <= value <= 1:
        return f"{name} is a share from 0 to 1, found {value!r} (a percentage such as 97.6% is 0.976)"
    return None


# Every entry a model card holds, and those it must hold.
_CARD_ENTRIES = [setting.name for setting in dataclasses.fields(ModelCard)]
_REQUIRED_CARD_ENTRIES = [setting.name for setting in dataclasses.fields(ModelCard)
                          if setting.default is dataclasses.MISSING and setting.default_factory is dataclasses.MISSING]


def _unknown_entries(values: dict) -> list[str]:
    return [name for name in values if name not in _CARD_ENTRIES]


def _unknown_entries_problem(unknown: list[str]) -> str:
    named = ", ".join(map(repr, unknown))
    return (f"{named} {'is not an entry' if len(unknown) == 1 else 'are not entries'} of a model card, which holds "
            f"{', '.join(_CARD_ENTRIES)}")


def _model_card_problem(values: dict) -> str | None:
    """What makes these JSON values no readable `ModelCard`; None when nothing does."""
    if unknown := _unknown_entries(values):
        return _unknown_entries_problem(unknown)
    if missing := [name for name in _REQUIRED_CARD_ENTRIES if name not in values]:
        return f"missing {'entry' if len(missing) == 1 else 'entries'} {', '.join(map(repr, missing))}"
    return _card_value_problem(ModelCard(**values))


def _plain_number(value):
    """json's `default`: NumPy's numbers as Python's (a figure computed with NumPy is often an np.float32, which json
    cannot write)."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return json.JSONEncoder().default(value)  # json's own TypeError for what JSON has no form for


def _not_strict_json(values: dict) -> str | None:
    """Python's json writes NaN and infinity (a diverged model's figures), which other JSON readers refuse: said
    after the reader's own checks, which name the figure when it is one they check."""
    try:
        json.dumps(values, default=_plain_number, allow_nan=False)
    except ValueError:
        return "a figure is NaN or infinite, which JSON has no number for"
    return None


def _write_card(card_path: Path, values: dict, problem_of, advice: str = "") -> Path:
    """Write `values` as the card at `card_path`, unless `problem_of` (the checks of the card's reader) finds a
    problem in what would be read back: a card its reader refuses is lost to a student, whose model is not in git."""
    try:
        text = json.dumps(values, indent=2, default=_plain_number) + "\n"
    except (TypeError, ValueError) as error:  # a value JSON has no form for, or one that holds itself
        problem = _described(error)
    else:
        problem = problem_of(json.loads(text)) or _not_strict_json(values)
    if problem:
        raise ConfigError(_not_written(card_path, problem, advice))
    return write_text_atomic(card_path, text)


def _card_values(card_path: Path, advice: str | None = None) -> dict:
    """The JSON object in a card file; a missing or damaged one is a `ModelFileError` that names it and gives
    `advice`, how to get a good one back (by default, a model card's)."""
    advice = advice or _restore_model_card(card_path)
    try:
        values = json.loads(card_path.read_text(encoding=CARD_ENCODING))
    except FileNotFoundError:
        raise ModelFileError(f"{card_path.name}: model card not found beside the model file. {advice}") from None
    except (OSError, ValueError) as error:
        raise ModelFileError(_unreadable(card_path, _described(error), advice)) from None
    if not isinstance(values, dict):
        raise ModelFileError(_unreadable(card_path, f"a JSON object was expected, not {type(values).__name__}",
                                         advice))
    return values


def read_card(model_path: str | os.PathLike, of_check: bool = False) -> dict:
    """The card beside a model file (a `ModelCard`'s, or with `of_check` the digit check's, whose errors say how
    to make a new one) as plain JSON values."""
    return _card_values(ModelCard.path_for(model_path), _RESTORE_DIGIT_CHECK_CARD if of_check else None)


def digit_check_threshold(check_path: str | os.PathLike = DIGIT_CHECK_PATH) -> float:
    """The threshold in the digit check's card: a drawing scoring below it is not a digit."""
    card_path = ModelCard.path_for(check_path)
    card = read_card(check_path, of_check=True)
    if "threshold" not in card:
        raise ModelFileError(f"{card_path.name}: the digit check's card has no 'threshold'. "
                             f"{_RESTORE_DIGIT_CHECK_CARD}")
    threshold = card["threshold"]
    if problem := threshold_problem(threshold):
        raise ModelFileError(f"{card_path.name}: {problem}. {_RESTORE_DIGIT_CHECK_CARD}")
    return float(threshold)


def threshold_problem(threshold) -> str | None:
    # A score is a probability: a threshold outside [0, 1], NaN or true would refuse every drawing or none.
    if not (is_number(threshold) and 0 <= threshold <= 1):
        return f"the digit check's threshold must be a number from 0 to 1, found {threshold!r}"
    return None


def is_digit_check_card(values: dict) -> bool:
    """Whether a card's JSON values are the digit check's: only its card holds a threshold, and a model card with one
    is unreadable."""
    return "threshold" in values


def _digit_check_card_problem(values: dict) -> str | None:
    return threshold_problem(values["threshold"])


def update_card(model_path: str | os.PathLike, values: dict) -> Path:
    """Add or replace top-level entries of the card beside a model file, keeping the others and their order.

    Values that the card's reader would refuse are a `ConfigError` that leaves the card as it was."""
    if not isinstance(values, dict):
        raise ConfigError(_not_a_dict("the card's entries", values))
    card = read_card(model_path)
    problem_of = _digit_check_card_problem if is_digit_check_card(card) else _model_card_problem
    return _write_card(ModelCard.path_for(model_path), {**card, **values}, problem_of)


def model_card_summary(model_path: str | os.PathLike | None) -> str:
    """`ModelCard.summary()` of the card beside a model file, or a line saying there is none."""
    if model_path is None:  # what `newest_student_model()` finds before notebook 03 has trained anything
        return "No model yet: train one in notebook 03, or give the path of a model file."
    model_path = checked_path(model_path, MODEL_FILE_EXAMPLE)
    card_path = ModelCard.path_for(model_path)
    if not card_path.is_file():
        if not model_path.is_file():  # a mistyped name, such as my_model_path("sdg")
            return (f"No model file {project_relative(model_path)}: check its name ({project_relative(MY_MODELS_DIR)}/ "
                    f"holds the models you trained, {project_relative(MODELS_DIR)}/ the shipped ones).")
        return f"No model card ({card_path.name}) beside the model file."
    return ModelCard.load(card_path).summary()


# ------------------------------------------------------------------------------------ which model?
def _model_name(name, parameter: str) -> str:
    """`name` as the stem of a model file's name. Anything else is a `ConfigError`: a slip would otherwise train into
    my_None.keras or my_sgd.keras.keras without a word, or write outside the models' folder."""
    if not (isinstance(name, str) and name.strip() and not {"/", "\\"} & set(name)
            and not name.endswith(".keras")):
        raise ConfigError(f"{parameter} is the name of a model without folder or .keras, such as 'numvision_cnn' or "
                          f"'sgd', not {name!r}")
    return name


def shipped_model_path(architecture: str = REFERENCE_ARCHITECTURE, models_dir: str | os.PathLike = MODELS_DIR) -> Path:
    """Where the shipped model of `architecture` lives, and where `python -m numvision_lib train` publishes one
    unless given --output or --quick: models/<architecture>.keras (`train` itself writes to `my_model_path`)."""
    return Path(models_dir) / f"{_model_name(architecture, 'architecture')}.keras"


def reference_model_path(models_dir: str | os.PathLike = MODELS_DIR) -> Path:
    """The shipped reference CNN: the lessons' baseline and `evaluate`'s default."""
    return shipped_model_path(REFERENCE_ARCHITECTURE, models_dir)


def my_model_path(architecture: str = REFERENCE_ARCHITECTURE, my_models_dir: str | os.PathLike = MY_MODELS_DIR) -> Path:
    """Where notebook 03 saves the model it trains, and `train` one given no output: my_models/my_<architecture>.keras."""
    return Path(my_models_dir) / f"{STUDENT_MODEL_PREFIX}{_model_name(architecture, 'architecture')}.keras"


def class_model_path(base_model: str, my_models_dir: str | os.PathLike = MY_MODELS_DIR) -> Path:
    """Where a model fine-tuned on a class's drawings is saved: my_models/class_<base model>.keras."""
    return Path(my_models_dir) / f"{CLASS_MODEL_PREFIX}{_model_name(base_model, 'base_model')}.keras"


def readable_model_cards(models_dir: str | os.PathLike) -> tuple[list[ModelCard], list[str]]:
    """Every card in `models_dir` whose model file is beside it, by name, and a sentence for each card left out, with
    how to mend it: one that cannot be read (a digit check's among them) or whose model file is missing."""
    models_dir = Path(models_dir)
    cards, problems = [], []
    for card_path in sorted(models_dir.glob(f"*{CARD_SUFFIX}")):
        try:
            card = ModelCard._load(card_path, models_dir)
        except ModelFileError as error:
            problems.append(str(error))
            continue
        if (models_dir / card.model_file).is_file():
            cards.append(card)
        else:
            problems.append(f"{card_path.name}: its model file {card.model_file} is missing. "
                            f"{how_to_replace_model(models_dir / card.model_file)}.")
    return cards, problems


def shipped_model_cards(models_dir: str | os.PathLike = MODELS_DIR) -> list[ModelCard]:
    """Every card in `models_dir`, by name, among which the pad's model is chosen. An unreadable card, or a card
    without its model file, is a `ModelFileError` listing each problem: left out, it would hand the pad another model
    without a word (one figure typed in by hand, one file deleted by mistake), and a later export would make the
    switch permanent. Each problem says how to mend it; an empty folder, how to fill it."""
    cards, problems = readable_model_cards(models_dir)
    if problems or not cards:
        what = ("no shipped model to load" if not cards
                else "the pad's model is chosen among all the shipped models, and not every one can be read")
        details = " ".join(problems) or (f"No model cards (*{CARD_SUFFIX}) found. Train one with `python -m "
                                         "numvision_lib train`, or restore models/ from git.")
        raise ModelFileError(f"{project_relative(models_dir)}: {what}. {details}")
    return cards


def pad_model_path(models_dir: str | os.PathLike = MODELS_DIR) -> Path:
    """The shipped model the drawing pad uses: the best by `PAD_RANKING`."""
    best = max(shipped_model_cards(models_dir), key=ModelCard.score)
    return Path(models_dir) / best.model_file


def newest_student_model(my_models_dir: str | os.PathLike = MY_MODELS_DIR) -> Path | None:
    """The model most recently trained in notebook 03 (newest my_models/my_*.keras), or None."""
    my_models_dir = Path(my_models_dir)
    if not my_models_dir.is_dir():
        return None
    trained = sorted(my_models_dir.glob(f"{STUDENT_MODEL_PREFIX}*.keras"), key=lambda path: path.stat().st_mtime)
    return trained[-1] if trained else None


@dataclass(frozen=True)
class ModelChoice:
    """Which model notebook 04 evaluates, and why."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"Model: {project_relative(self.path)}\n{self.reason}"


def model_to_evaluate(my_models_dir: str | os.PathLike = MY_MODELS_DIR,
                      models_dir: str | os.PathLike = MODELS_DIR) -> ModelChoice:
    """The model most recently trained in notebook 03, else the shipped reference model."""
    newest = newest_student_model(my_models_dir)
    shown_dir = project_relative(my_models_dir)
    if newest is not None:
        return ModelChoice(newest, f"This is the model you trained in notebook 03 (the newest file in {shown_dir}/).")
    reference = reference_model_path(models_dir)
    if reference.is_file():
        return ModelChoice(reference, f"No model trained in notebook 03 yet ({shown_dir}/ has none), so we "
                                             "evaluate the model shipped with the project.")
    raise ModelFileError(
        f"No model to evaluate: nothing trained in {shown_dir}/ and the shipped model "
        f"{project_relative(reference)} is missing. Run notebook 03 first, or restore models/ from git."
    )


def library_versions() -> dict[str, str]:
    """The versions a card records, so a figure can be traced to the software that produced it."""
    import platform

    import sklearn

    from ._tensorflow import keras, tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
    }

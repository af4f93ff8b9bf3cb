"""Training: the run's settings (`TrainConfig`) and `train`, which fits a model and publishes it with its card.

A run trains on MNIST, and on request also on real people's handwriting (UNIPEN's training writers, drawn the
way the pad draws); it keeps the epoch with the best validation accuracy (validation images of MNIST and, with
real handwriting, of other writers), gives batch normalisation the statistics of plain images, and writes the
model atomically with its card and history. An interrupted run leaves its state in
`<output folder>/.runs/<name>/`, and calling `train` again with the same settings resumes it. A run holds that
folder's lock while it works, so a second run of the same output is refused instead of joining it.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import socket
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Collection, Iterator

import numpy as np

from ._tensorflow import keras, tf
from .callbacks import (BACKUP_FOLDER, BestEpochCheckpoint, RunBackup, RunClock, learning_rate_callbacks,
                        recorded_seconds, saved_best_epoch)
from .data import (MAX_EPOCHS, MNIST_TRAINING_IMAGES, NUM_CLASSES, VALIDATION_FRACTION, MnistData, load_mnist,
                   stratified_split, stratified_subset, seed_problem, to_mnist_pixels)
from .errors import ConfigError, DataError
from .handwriting import (AUGMENTATION, AUGMENTATION_WITH_STYLES, TRAINED_STYLES, UNIPEN_CREDIT, RenderedDigits,
                          part_digits, person_of, render_model_inputs, validation_digits)
from .handwriting import handwriting_dir as unipen_folder
from .hardware import (PRECISIONS, distribution_strategy, precision_policy, resolve_precision, set_seeds,
                       strategy_card_entry)
from .history import read_history_csv
from .model import (ARCHITECTURES, accuracy, batch_norm_layers, build_model, calibrate_batch_norm,
                    check_run_outputs, checked_output_path, load_model, save_run_outputs)
from .model_card import REAL_HANDWRITING_VAL_ACCURACY, VAL_ACCURACY, ModelCard, library_versions, my_model_path
from .paths import project_relative, write_text_atomic
from .pipeline import AUGMENTATIONS, make_dataset
from .values import store_plain_numbers, type_problems, unknown_settings_problem

if os.name == "posix":
    import fcntl
else:  # Windows
    import msvcrt

QUICK_MODE_VARIABLE = "NUMVISION_QUICK"
# A quick run: enough to see every step work, in a small fraction of a full run's time.
QUICK_SETTINGS = {"epochs": 1, "max_train_samples": 3000}
OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("plateau", "cosine")
REAL_HANDWRITING_SOURCES = ("none", "unipen")
# Several training steps per call into TensorFlow: the same maths, less Python overhead per batch. Not for a run
# spread over several devices: Keras 3.15's loop of several steps fails there ("You must feed a value for
# placeholder tensor") under MirroredStrategy, and each step is large enough there for one call each.
STEPS_PER_EXECUTION = 8
# Plain training images that set the shipped model's batch normalisation statistics: enough for each
# channel's mean to four digits.
BATCH_NORM_CALIBRATION_IMAGES = 10_000
# Fewer validation images of a digit than this say little about the epoch to keep; the smallest validation share
# allowed keeps this many of each digit out of MNIST's training images (`stratified_split` keeps every digit's
# share, and the rarest digit, 5, is 9% of them: 0.2% of 60,000 keeps 10 or 11 fives).
MIN_VALIDATION_IMAGES_PER_DIGIT = 10
MIN_VALIDATION_FRACTION = 0.002
# Copies beyond a few add little, and each one is another drawing of every real training digit to render and hold
# in memory: a typo's extra zero would not fit.
MAX_HANDWRITING_COPIES = 10
# The settings of how the real handwriting a run adds is drawn: without it, only their defaults mean anything.
REAL_HANDWRITING_SETTINGS = ("handwriting_copies", "handwriting_styles")
# Held in a run's folder while a run works there: a second run of the same output would otherwise resume the
# folder of one still training, and each would overwrite the other's history and backup.
RUN_LOCK_NAME = "running.lock"
# The rest of a run's folder: its settings, its history log, how long it has trained, and the mark that fit has ended.
RUN_SETTINGS_NAME = "config.json"
RUN_HISTORY_NAME = "history.csv"
RUN_SECONDS_NAME = "train_seconds.txt"
FIT_FINISHED_NAME = "fit_finished.txt"
# Runs of the same output that finish while this one opens the lock, before it gives up.
RUN_LOCK_TRIES = 5


def _setting(default, help: str, choices: tuple | None = None, flag: str | None = None):
    """A TrainConfig field with its explanation: the command line, notebook 03's table and validation read it."""
    metadata = {"help": help}
    if choices is not None:
        metadata["choices"] = tuple(choices)
    if flag is not None:
        metadata["flag"] = flag
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a training run. The defaults are the reference run's."""

    architecture: str = _setting("numvision_cnn", "which network to build", choices=sorted(ARCHITECTURES))
    epochs: int = _setting(10, "maximum passes over the training images (early stopping may end sooner)")
    batch_size: int = _setting(128, "images per training step")
    learning_rate: float = _setting(1e-3, "size of each optimiser step")
    optimizer: str = _setting("adam", "adam, or sgd (with Nesterov momentum 0.9)", choices=OPTIMIZERS)
    dropout: float | None = _setting(
        None, "share of units the dropout layers switch off while training (None: the architecture's default)")
    augmentation: str = _setting(
        "none", "random changes to training images: none, geometric (rotate, shift, zoom) or drawing (other hands "
        "and pens)", choices=AUGMENTATIONS)
    real_handwriting: str = _setting(
        "none", "real people's digits added to MNIST: none, or unipen (UNIPEN's training writers, drawn as the "
        "pad draws)", choices=REAL_HANDWRITING_SOURCES)
    handwriting_copies: int = _setting(3, "differently drawn copies of each real training digit")
    handwriting_styles: bool = _setting(
        False, f"redraw some real digits in styles few training writers use: {TRAINED_STYLES}")
    schedule: str = _setting(
        "plateau", "how the learning rate changes: plateau (halve when stuck) or cosine (decay over all epochs)",
        choices=SCHEDULES)
    precision: str = _setting("auto", "number format for the maths; auto: what this machine does fastest",
                              choices=PRECISIONS)
    validation_fraction: float = _setting(VALIDATION_FRACTION,
                                          "share of the training images kept aside to choose the best epoch")
    early_stopping_patience: int = _setting(
        3, "stop after this many epochs without a better validation loss", flag="--patience")
    reduce_lr_factor: float = _setting(0.5, "multiply the learning rate by this when progress stalls ...")
    reduce_lr_patience: int = _setting(2, "... for this many epochs")
    min_learning_rate: float = _setting(1e-7, "never go below this learning rate")
    max_train_samples: int | None = _setting(
        None, "the number of MNIST training images to use, a subset that keeps each digit's share (None: all); a run "
        "with real_handwriting adds as many UNIPEN drawings, and validation keeps at least 500 MNIST images")
    seed: int = _setting(42, "one number that fixes every random choice")
    deterministic: bool = _setting(False, "bit-for-bit repeatable operations (slower)")

    def __new__(cls, *args, **settings):
        if problem := unknown_settings_problem(cls, settings):  # before the dataclass's TypeError
            raise ConfigError(problem)
        return super().__new__(cls)

    def __post_init__(self) -> None:
        # Types first: the ranges below compare, and a value of the wrong type would fail there, or later as a raw
        # numpy, Keras or scikit-learn error far from the setting.
        problems = type_problems(self)
        if problems:
            raise ConfigError("invalid TrainConfig: " + "; ".join(problems))
        store_plain_numbers(self)
        problems = [
            f"{setting.name} must be one of {', '.join(setting.metadata['choices'])}"
            for setting in dataclasses.fields(self)
            if "choices" in setting.metadata and getattr(self, setting.name) not in setting.metadata["choices"]
        ]
        # Written `not low <= value`: NaN, which passes no comparison, is refused too.
        if not 1 <= self.epochs <= MAX_EPOCHS:
            problems.append(f"epochs must be between 1 and {MAX_EPOCHS:,}")
        # A batch larger than MNIST's training images is a typo, which would fail only inside `train`, after the
        # data is split and the run's folder is written.
        if not 1 <= self.batch_size <= MNIST_TRAINING_IMAGES:
            problems.append(f"batch_size must be between 1 and {MNIST_TRAINING_IMAGES:,}")
        if not 0 < self.learning_rate < 1:
            problems.append("learning_rate must be between 0 and 1")
        if not MIN_VALIDATION_FRACTION <= self.validation_fraction < 0.5:
            problems.append(f"validation_fraction must be between {MIN_VALIDATION_FRACTION:.2g} and 0.5: at least "
                            f"{MIN_VALIDATION_IMAGES_PER_DIGIT} validation images of each digit, and more training "
                            "images than validation images")
        if self.dropout is not None and not 0 <= self.dropout < 1:
            problems.append("dropout must be in [0, 1)")
        if self.max_train_samples is not None and self.max_train_samples < 100:
            problems.append("max_train_samples must be at least 100")
        if not 1 <= self.handwriting_copies <= MAX_HANDWRITING_COPIES:
            problems.append(f"handwriting_copies must be between 1 and {MAX_HANDWRITING_COPIES}")
        for patience in ("early_stopping_patience", "reduce_lr_patience"):
            if getattr(self, patience) < 0:
                problems.append(f"{patience} must be at least 0")
        if not 0 < self.reduce_lr_factor < 1:
            problems.append("reduce_lr_factor must be between 0 and 1 (it lowers the learning rate)")
        if not 0 <= self.min_learning_rate <= self.learning_rate:
            problems.append("min_learning_rate must be between 0 and learning_rate")
        if problem := seed_problem(self.seed):
            problems.append(problem)
        # A setting given its default cannot be told here from one left out: the command line, which can, refuses it.
        defaults = {setting.name: setting.default for setting in dataclasses.fields(self)}
        changed = [name for name in REAL_HANDWRITING_SETTINGS if getattr(self, name) != defaults[name]]
        problems += real_handwriting_problems(self.real_handwriting, changed)
        if problems:
            raise ConfigError("invalid TrainConfig: " + "; ".join(problems))

    @classmethod
    def quick(cls, **overrides) -> "TrainConfig":
        """`QUICK_SETTINGS` (one epoch on 3,000 images), then `overrides`."""
        return cls(**{**QUICK_SETTINGS, **overrides})

    @classmethod
    def create(cls, quick: bool = False, **settings) -> "TrainConfig":
        """`quick()` or a full run with `settings`: how the notebook and the command line make a config."""
        return cls.quick(**settings) if quick else cls(**settings)

    @property
    def is_quick(self) -> bool:
        """Whether this run is as long as a quick run (`QUICK_SETTINGS`), whatever its other settings."""
        return all(getattr(self, name) == value for name, value in QUICK_SETTINGS.items())

    @classmethod
    def explanations(cls) -> dict[str, str]:
        """Each setting's name and its explanation, in order."""
        return {setting.name: setting.metadata["help"] for setting in dataclasses.fields(cls)}

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def real_handwriting_problems(real_handwriting: str, given: Collection[str]) -> list[str]:
    """A problem for each setting of how real handwriting is drawn (`REAL_HANDWRITING_SETTINGS`) among the names
    `given`, for a run whose `real_handwriting` is "none": recorded in the card, it would say the run drew real
    handwriting that it never saw."""
    if real_handwriting != "none":
        return []
    return [f"{name} draws real handwriting: it needs real_handwriting='unipen'"
            for name in REAL_HANDWRITING_SETTINGS if name in given]


def quick_mode_requested() -> bool:
    """True when NUMVISION_QUICK is set to 1/true/yes (how the notebook tests ask for short runs)."""
    return os.environ.get(QUICK_MODE_VARIABLE, "").strip().lower() in {"1", "true", "yes"}


@dataclass
class TrainingRun:
    """The outcome of `train`: the best model (highest validation accuracy) and its records."""

    model: keras.Model
    config: TrainConfig
    history: dict[str, list[float]]
    best_epoch: int
    best_val_accuracy: float
    model_path: Path
    card_path: Path
    history_path: Path
    resumed_from_epoch: int  # the epochs an interrupted run had finished before this call; 0 for a fresh run
    train_seconds: float  # of every call that trained the run, not only this one
    # images, val_accuracy_before and val_accuracy_after of the batch-norm calibration; empty without one
    batch_norm_calibration: dict = dataclasses.field(default_factory=dict)

    @property
    def epochs_run(self) -> int:
        return len(self.history.get("epoch", []))


def _split_for_training(data: MnistData, config: TrainConfig):
    x_train, y_train, x_val, y_val = stratified_split(
        data.x_train, data.y_train, config.validation_fraction, config.seed
    )
    if config.max_train_samples is not None:
        x_train, y_train = stratified_subset(x_train, y_train, config.max_train_samples, config.seed)
        validation_size = max(int(config.max_train_samples * config.validation_fraction), 500)
        x_val, y_val = stratified_subset(x_val, y_val, validation_size, config.seed)
    return x_train, y_train, x_val, y_val


@dataclass(frozen=True, eq=False)
class RealHandwritingSet:
    """Real people's digits for a run: augmented drawings of the training writers, and the validation writers'
    digits in every named rendering. The benchmark writers are never loaded."""

    training: RenderedDigits
    validation: RenderedDigits
    training_people: int
    training_digits: int
    validation_people: int

    def card_entry(self) -> dict:
        return {
            "source": UNIPEN_CREDIT,
            "split": "by writer (handwriting.digit_split); the benchmark writers are never used",
            "train_people": self.training_people,
            "train_digits": self.training_digits,
            "train_images": int(len(self.training)),
            "validation_people": self.validation_people,
            "validation_images": int(len(self.validation)),
        }


def load_real_handwriting(config: TrainConfig, data_dir: str | os.PathLike | None = None) -> RealHandwritingSet:
    """Draw the UNIPEN digits a run trains and validates on. A run on a subset of MNIST (`max_train_samples`, as
    quick runs are) takes a spread subset of each part's digits too, in proportion, like its MNIST validation."""
    training = part_digits("train", data_dir, real_handwriting_per_digit(config))
    validation_per_digit = max(1, config.max_train_samples // 300) if config.max_train_samples is not None else None
    augmentation = AUGMENTATION_WITH_STYLES if config.handwriting_styles else AUGMENTATION
    drawn = render_model_inputs(training, augment=augmentation, copies=config.handwriting_copies, seed=config.seed)
    validation_drawings = validation_digits(data_dir, validation_per_digit)
    return RealHandwritingSet(
        training=drawn, validation=validation_drawings,
        training_people=len({sample.person for sample in training}), training_digits=len(training),
        validation_people=len({person_of(writer) for writer in validation_drawings.writer_ids}),
    )


def real_handwriting_per_digit(config: TrainConfig) -> int | None:
    """At most how many of each digit of UNIPEN's training writers a run on real handwriting draws; None: all of
    them. A run on a subset of MNIST adds about as many drawings as it takes MNIST images, copies included."""
    if config.max_train_samples is None:
        return None
    return max(1, config.max_train_samples // (NUM_CLASSES * config.handwriting_copies))


def build_for_config(config: TrainConfig, precision: str = "float32") -> keras.Model:
    """The configured architecture, built under `precision` without changing the global Keras policy."""
    options = {} if config.dropout is None else {"dropout": config.dropout}
    with precision_policy(precision):
        return build_model(config.architecture, **options)


def steps_per_epoch(images: int, batch_size: int) -> int:
    """How many training steps Keras counts in an epoch of `images` in batches of `batch_size`: `make_dataset` keeps
    the last, smaller batch, and it is a step too."""
    return math.ceil(images / batch_size)


def compile_model(config: TrainConfig, steps_per_epoch: int, precision: str = "float32",
                  steps_per_execution: int = STEPS_PER_EXECUTION) -> keras.Model:
    model = build_for_config(config, precision)
    learning_rate = config.learning_rate
    if config.schedule == "cosine":
        learning_rate = keras.optimizers.schedules.CosineDecay(
            config.learning_rate, decay_steps=config.epochs * steps_per_epoch, alpha=0.01
        )
    if config.optimizer == "adam":
        optimizer = keras.optimizers.Adam(learning_rate)
    else:
        optimizer = keras.optimizers.SGD(learning_rate, momentum=0.9, nesterov=True)
    model.compile(
        optimizer=optimizer,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
    )
    return model


@contextmanager
def _run_folder_lock(output: Path) -> Iterator[Path]:
    """Hold the lock of `output`'s run folder (`RUN_LOCK_NAME`) while the block runs, and yield the folder. The
    operating system holds it for this process and drops it when the process ends, however it ends: a killed kernel
    leaves no lock that stops the next run. A run interrupted in the block (Ctrl-C) keeps its folder, for the next
    call to resume."""
    run_dir = output.parent / ".runs" / output.stem
    lock = run_dir / RUN_LOCK_NAME
    descriptor = _take_run_lock(lock, output)
    try:
        yield run_dir
    finally:
        if os.name == "posix":
            lock.unlink(missing_ok=True)  # while still held: a run that opened it meanwhile sees it gone, and retries
            os.close(descriptor)
        else:
            os.close(descriptor)
            try:
                lock.unlink()  # Windows removes no open file: another run may hold it by now
            except OSError:
                pass
        for folder in (run_dir, run_dir.parent):
            try:
                folder.rmdir()  # only when empty: an interrupted run's state stays, and so may another output's
            except OSError:
                break


def _take_run_lock(lock: Path, output: Path) -> int:
    """Open and lock `lock`, writing this process's pid, host and start time into it for the message another run
    gets; returns the open file's descriptor. A `ConfigError` while another process holds it."""
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M")}
    for _ in range(RUN_LOCK_TRIES):
        try:
            lock.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:  # a run that just finished removed the empty folder: make it again
            continue
        except OSError as error:  # a folder that cannot be written, or a file where the folder should be
            raise DataError(_cannot_start_run_message(lock.parent, error)) from None
        if not _lock_open_file(descriptor):
            earlier = _run_lock_holder(descriptor)
            os.close(descriptor)
            raise ConfigError(_run_locked_message(output, earlier))
        if _still_named(lock, descriptor):
            os.ftruncate(descriptor, 0)
            os.write(descriptor, json.dumps(holder).encode())
            return descriptor
        os.close(descriptor)  # a run that finished meanwhile removed the file this one locked: lock the new one
    raise DataError(_cannot_start_run_message(lock.parent, OSError("other runs keep starting and ending there")))


def _lock_open_file(descriptor: int) -> bool:
    """Lock an open file for this process, without waiting; False while another process holds it."""
    try:
        if os.name == "posix":
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
    except BlockingIOError:
        return False
    except OSError as error:
        if os.name != "posix":  # Windows answers a held lock with a PermissionError
            return False
        # A file system without locks (some network shares): runs are not kept apart there, but they can run.
        warnings.warn(f"the run folder cannot be locked ({error.strerror or error}): do not train the same output in "
                      "two kernels at once", stacklevel=4)
    return True


def _still_named(lock: Path, descriptor: int) -> bool:
    try:
        return os.path.samestat(os.fstat(descriptor), os.stat(lock))
    except FileNotFoundError:
        return False


def _run_lock_holder(descriptor: int) -> dict | None:
    """The pid, host and start time the holder of a run lock wrote into it, or None when they cannot be read (a run
    that has only just taken it, or Windows, which keeps a locked file from being read)."""
    try:
        holder = json.loads(os.pread(descriptor, 1000, 0) if os.name == "posix" else b"")
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) and set(holder) >= {"pid", "host", "started"} else None


def _run_locked_message(output: Path, holder: dict | None) -> str:
    who = f" (pid {holder['pid']} on host {holder['host']}, started {holder['started']})" if holder else ""
    return (f"{project_relative(output)} is being trained by another process{who}. Wait for it to finish, or give "
            "this run another output.")


def _cannot_start_run_message(run_dir: Path, error: OSError) -> str:
    return (f"cannot start a run in {project_relative(run_dir)}: {error.strerror or error}. Choose an output in a "
            "folder you can write to.")


def _run_settings(config: TrainConfig, precision: str, data_source: str) -> dict:
    """What a run's folder records of its settings: those of `config`, the precision it computes in and its data."""
    return {**config.to_dict(), "precision_used": precision, "data": data_source}


def _settings_text(settings: dict) -> str:
    return json.dumps(settings, indent=2, sort_keys=True)


def _interrupted_run_precision(run_dir: Path, config: TrainConfig, data_source: str, restart: bool) -> str | None:
    """The precision that "auto" chose for an interrupted run of `config` in `run_dir`, which it resumes with; None for
    a precision given by name, a restart, or no such run. "auto" may time bfloat16 against float32, a noisy test:
    chosen afresh in another process, it could choose the other, and the run could then never be resumed."""
    if config.precision != "auto" or restart:
        return None
    earlier_text = _text_or_none(run_dir / RUN_SETTINGS_NAME)
    used = (_settings_or_none(earlier_text) or {}).get("precision_used")
    chosen = used != "auto" and used in PRECISIONS  # not one edited by hand into something Keras cannot use
    if chosen and earlier_text == _settings_text(_run_settings(config, used, data_source)):
        return used
    return None


def _prepare_run_dir(run_dir: Path, config: TrainConfig, precision: str, data_source: str, restart: bool,
                     verbose: int) -> None:
    """Set up the run's scratch folder, whose lock this run holds. An interrupted run is resumed only if it had the
    same configuration, the same precision (one given by name; "auto" resumes with the one it chose) and the same
    data; one with other settings and finished epochs is kept (a `ConfigError`), since those epochs may have taken
    hours; one that has lost the history of its finished epochs is a `DataError`; `restart` discards any."""
    config_file = run_dir / RUN_SETTINGS_NAME
    settings = _run_settings(config, precision, data_source)
    config_text = _settings_text(settings)
    interrupted = any(path.name != RUN_LOCK_NAME for path in run_dir.iterdir())
    if interrupted and not restart and _lost_its_history(run_dir):
        raise DataError(_lost_history_message(run_dir))
    earlier_text = _text_or_none(config_file) if interrupted else None
    if interrupted and (restart or earlier_text != config_text):
        finished_epochs = _finished_epochs(run_dir / RUN_HISTORY_NAME)
        if finished_epochs != 0 and not restart:
            raise ConfigError(_other_settings_message(run_dir, earlier_text, settings, finished_epochs))
        if verbose:
            why = "restart was asked for" if restart else "it had other settings, and no finished epoch"
            print(f"Starting afresh: the interrupted run in {project_relative(run_dir)} is discarded ({why}).")
        _clear_run_dir(run_dir)
    write_text_atomic(config_file, config_text)  # says which file cannot be written, if any


def _text_or_none(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _settings_or_none(config_text: str | None) -> dict | None:
    try:
        earlier = json.loads(config_text) if config_text is not None else None
    except json.JSONDecodeError:
        return None
    return earlier if isinstance(earlier, dict) else None


def _lost_its_history(run_dir: Path) -> bool:
    """Whether an interrupted run finished epochs (it has a backup, or its fit ended) but has no history log: the
    log says how many finished and which was best, so a run resumed without it would publish a card that contradicts
    itself, and could replace its best epoch with a worse one."""
    finished = any((run_dir / name).exists() for name in (BACKUP_FOLDER, FIT_FINISHED_NAME))
    return finished and not (run_dir / RUN_HISTORY_NAME).exists()


def _lost_history_message(run_dir: Path) -> str:
    return (f"{project_relative(run_dir)} holds an interrupted run of this model that has lost its history "
            f"({RUN_HISTORY_NAME}, which says which of its epochs finished and which was best), so it cannot be "
            "resumed. To discard it and start afresh, pass restart=True (on the command line: --restart); or choose "
            "another output for this run.")


def _finished_epochs(history_log: Path) -> int | None:
    """How many epochs an interrupted run finished; None when its log cannot be read (it may still hold some)."""
    if not history_log.exists():
        return 0
    try:
        return len(read_history_csv(history_log)["epoch"])
    except DataError:
        return None


def _other_settings_message(run_dir: Path, config_text: str | None, settings: dict,
                            finished_epochs: int | None) -> str:
    earlier = _settings_or_none(config_text)
    if earlier is not None:
        differences = "; ".join(f"{name}: {earlier.get(name)!r} there, {value!r} now"
                                for name, value in settings.items() if earlier.get(name) != value)
    else:
        differences = "its settings file cannot be read"
    finished = "some" if finished_epochs is None else f"{finished_epochs:,}"
    return (f"{project_relative(run_dir)} holds an interrupted run of this model with other settings "
            f"({differences}), of which {finished} epoch(s) finished. To resume it, train again with its settings; "
            "to discard it and start afresh, pass restart=True (on the command line: --restart); or choose another "
            "output for this run.")


def _clear_run_dir(run_dir: Path, ignore_errors: bool = False) -> None:
    """Delete a run's state from `run_dir`: all but the lock of the run clearing it."""
    for path in run_dir.iterdir():
        if path.name == RUN_LOCK_NAME:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=ignore_errors)
            continue
        try:
            path.unlink()
        except OSError:
            if not ignore_errors:
                raise


def _calibrate_batch_norm_on_plain_images(model, config: TrainConfig, x_train, y_train, x_val, y_val) -> dict:
    """`calibrate_batch_norm` on un-augmented training images, with validation accuracy before and after.

    The checkpoint was chosen on the statistics of training; the card shows what calibrating did to it.
    """
    if not batch_norm_layers(model):
        return {}
    before = accuracy(model, x_val, y_val)
    calibration_images, _ = stratified_subset(x_train, y_train, BATCH_NORM_CALIBRATION_IMAGES, config.seed)
    calibrate_batch_norm(model, calibration_images)
    return {"images": int(len(calibration_images)), "val_accuracy_before": before,
            "val_accuracy_after": accuracy(model, x_val, y_val)}


def _data_entry(data: MnistData, train_images: int, validation_images: int,
                handwriting: RealHandwritingSet | None, distribution: dict) -> dict:
    entry = {"source": data.source, "train_images": int(train_images), "validation_images": int(validation_images),
             "test_images": int(len(data.y_test))}
    if handwriting is not None:
        entry["real_handwriting"] = handwriting.card_entry()
    if distribution:  # only for a run spread over several devices: one-device cards keep their old form
        entry["distribution"] = distribution
    return entry


def _prepare_multi_worker_fit(model: keras.Model, dataset, strategy) -> None:
    """Work around two places where Keras 3's `fit` (up to 3.15 at least) fails under MultiWorkerMirroredStrategy
    (keras-team/keras#20585), on this model only.

    - `fit` builds the metrics and optimiser from a batch that it first averages over the replicas with
      `strategy.reduce`, which fails there ("Attempt to convert a value (PerReplica...) with an unsupported
      type"). The batch only gives the shapes, so one undistributed batch does the same job.
    - After each step it averages the replicas' logs along axis 0, and the logs are scalars ("Invalid reduction
      dimension 0"). Each step hands them over as one-element vectors instead; the average is a scalar again.
    """
    with strategy.scope():
        model._symbolic_build(data_batch=next(iter(dataset)))
    model._maybe_symbolic_build = lambda *args, **kwargs: None

    def with_vector_logs(step):
        return lambda data: {name: tf.reshape(value, [1]) for name, value in step(data).items()}

    model.train_step = with_vector_logs(model.train_step)
    model.test_step = with_vector_logs(model.test_step)


def train(
    config: TrainConfig = TrainConfig(),
    data: MnistData | None = None,
    output: str | os.PathLike | None = None,
    callbacks: list[keras.callbacks.Callback] | keras.callbacks.Callback = (),
    verbose: int = 2,
    handwriting_dir: str | os.PathLike | None = None,
    strategy=None,
    restart: bool = False,
) -> TrainingRun:
    """Train a model, keep the epoch with the best validation accuracy and publish it atomically at `output`
    (default: `my_model_path(config.architecture)`, my_models/my_<architecture>.keras, never over the shipped models
    in models/), with `<name>.json` (its card) and `<name>.history.csv` beside it. `callbacks`: a list of Keras
    callbacks, or one.

    With `config.real_handwriting="unipen"`, UNIPEN's training writers are added to the training images and its
    validation writers to the validation images (`handwriting_dir`: where UNIPEN is, see
    `handwriting.handwriting_dir`); the card records their accuracy on the validation writers alone.

    A model with batch normalisation gets its statistics from plain training images before it is published
    (`calibrate_batch_norm`); its card records validation accuracy before and after.

    The model is built and compiled under `strategy` (default: what `hardware.distribution_strategy` chooses:
    several GPUs or logical devices, or several processes named in TF_CONFIG). `config.batch_size` is the batch of
    all replicas together, so a spread run takes the same steps as a one-device run. With several processes each
    one publishes its own copy at its `output`: give each its own path. The card's `data` records the strategy.

    An interrupted run of the same `output` is resumed when it had the same settings (with precision "auto", in the
    precision it chose); one with other settings is a `ConfigError` that keeps it, and one that has lost its history
    a `DataError`. `restart` discards any and starts afresh. While another process trains the same `output`, this run
    is a `ConfigError` that leaves that run alone.
    """
    # Before any work: a dict, or one callback not in a list, would otherwise fail only inside fit, minutes later.
    check_train_config(config)
    check_mnist_data(data, "data")
    check_handwriting_dir(config, handwriting_dir)
    callbacks = _callback_list(callbacks)
    output = checked_output_path(output if output is not None else my_model_path(config.architecture))
    check_run_outputs(output, "the trained model")
    with _run_folder_lock(output) as run_dir:
        return _train_holding_lock(config, data, output, run_dir, callbacks, verbose, handwriting_dir, strategy,
                                   restart)


def check_handwriting_dir(config: TrainConfig, handwriting_dir: str | os.PathLike | None) -> None:
    """Before any data is read: a UNIPEN folder given to a run without real handwriting is a ConfigError (it would
    train on MNIST alone, for a user who meant UNIPEN), and one given to a run with it must be there."""
    if config.real_handwriting == "none":
        if handwriting_dir is not None:
            raise ConfigError("handwriting_dir, a UNIPEN folder, is read only by a run on real handwriting "
                              "(real_handwriting='unipen'): choose that too, or leave the folder out")
    else:
        unipen_folder(handwriting_dir)


def check_train_config(config) -> None:
    """A `ConfigError` unless `config` is a `TrainConfig`: a dict of settings would fail far from the call."""
    if not isinstance(config, TrainConfig):
        raise ConfigError(f"config is a TrainConfig, such as TrainConfig.quick(epochs=2) (a dict of settings becomes "
                          f"one as TrainConfig.quick(**settings)), not {_description(config)}")


def check_mnist_data(data, parameter: str) -> None:
    """A `ConfigError` unless `data` (the argument called `parameter`) is MNIST as `load_mnist()` gives it, or None
    for a function that loads it itself: arrays in a tuple, or settings in its place, would fail far from the call."""
    if data is not None and not isinstance(data, MnistData):
        raise ConfigError(f"{parameter} is MNIST as load_mnist() gives it, or None to load it there; not "
                          f"{_description(data)}")


def _callback_list(callbacks) -> list[keras.callbacks.Callback]:
    """`callbacks` as a list: one callback given alone is a list of one."""
    if isinstance(callbacks, keras.callbacks.Callback):
        return [callbacks]
    if isinstance(callbacks, (list, tuple)):
        wrong = [item for item in callbacks if not isinstance(item, keras.callbacks.Callback)]
        if not wrong:
            return list(callbacks)
        given = "a list holding " + ", ".join(_description(item) for item in wrong)
    else:
        given = _description(callbacks)
    raise ConfigError(f"callbacks is a list of Keras callbacks, such as [LiveLearningCurve()], not {given}")


def _description(value) -> str:
    if isinstance(value, type):
        return f"the class {value.__name__}"
    return type(value).__name__


def _train_holding_lock(config: TrainConfig, data: MnistData | None, output: Path, run_dir: Path,
                        callbacks: list[keras.callbacks.Callback], verbose: int,
                        handwriting_dir: str | os.PathLike | None, strategy, restart: bool) -> TrainingRun:
    """`train`'s work, once it holds the lock of its run folder `run_dir`."""
    data = data if data is not None else load_mnist()
    # First: a multi-worker strategy sets up TensorFlow's runtime, which the precision test would start.
    strategy = strategy if strategy is not None else distribution_strategy()
    # Before seeding: choosing may time a quick test.
    precision = (_interrupted_run_precision(run_dir, config, data.source, restart)
                 or resolve_precision(config.precision)[0])
    set_seeds(config.seed, config.deterministic)
    # Before the data is prepared: an interrupted run with other settings is refused without that wait.
    _prepare_run_dir(run_dir, config, precision, data.source, restart, verbose)
    x_train, y_train, x_val, y_val = _split_for_training(data, config)
    handwriting = load_real_handwriting(config, handwriting_dir) if config.real_handwriting != "none" else None
    if handwriting is not None:
        x_train = np.concatenate([x_train, to_mnist_pixels(handwriting.training.model_inputs)])
        y_train = np.concatenate([y_train, handwriting.training.labels.astype(y_train.dtype)])
        x_val = np.concatenate([x_val, to_mnist_pixels(handwriting.validation.model_inputs)])
        y_val = np.concatenate([y_val, handwriting.validation.labels.astype(y_val.dtype)])

    checkpoint_path, history_log = run_dir / "best.keras", run_dir / RUN_HISTORY_NAME
    # Written when fit has ended: a run interrupted while its model is published is then published on the next
    # call, not trained again from the start (Keras deletes its backup when fit ends).
    fit_finished = run_dir / FIT_FINISHED_NAME
    distribution = strategy_card_entry(strategy)
    with strategy.scope():
        model = compile_model(config, steps_per_epoch(len(y_train), config.batch_size), precision,
                              1 if distribution else STEPS_PER_EXECUTION)
    clock, backup = RunClock(run_dir / RUN_SECONDS_NAME), RunBackup(run_dir)
    standard_callbacks = [
        # The published weights come from BestEpochCheckpoint, so EarlyStopping only stops.
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.early_stopping_patience),
        *learning_rate_callbacks(config.schedule, config.reduce_lr_factor, config.reduce_lr_patience,
                                 config.min_learning_rate),
        # After the callbacks that write into the logs (the learning rate), so that it records them.
        keras.callbacks.CSVLogger(str(history_log), append=True),
        BestEpochCheckpoint(checkpoint_path, history_log),
        clock,
        # Last: an epoch counts as done for a resumed run only once its history row and checkpoint are written.
        backup,
    ]
    training_images = make_dataset(x_train, y_train, config.batch_size, True, config.augmentation, config.seed)
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        _prepare_multi_worker_fit(model, training_images, strategy)
    fit_ended_before = fit_finished.exists()
    if fit_ended_before:
        train_seconds = recorded_seconds(fit_finished, "Pass restart=True (on the command line: --restart) to train "
                                                       "the run again.")
    else:
        model.fit(
            training_images,
            validation_data=make_dataset(x_val, y_val, 512),
            epochs=config.epochs,
            callbacks=standard_callbacks + callbacks,
            verbose=verbose,
            shuffle=False,  # the tf.data pipeline already shuffles, reproducibly from the seed
        )
        train_seconds = clock.seconds
        write_text_atomic(fit_finished, f"{train_seconds}\n")

    history = read_history_csv(history_log)
    # A run whose fit had ended trained all its epochs before this call.
    resumed_from_epoch = len(history["epoch"]) if fit_ended_before else backup.restored_epochs
    # What the checkpoint holds: after a resume, the log's row for its epoch may be of a second attempt at it.
    best = saved_best_epoch(checkpoint_path, history)
    # The published model always computes in float32: same weights, exact and portable predictions. The checkpoint's
    # weights alone: a mixed_float16 run's optimizer, which is never published, made Keras warn that it skipped it.
    best_model = build_for_config(config)
    best_model.set_weights(load_model(checkpoint_path, compile=False).get_weights())
    calibration = _calibrate_batch_norm_on_plain_images(best_model, config, x_train, y_train, x_val, y_val)
    metrics = {VAL_ACCURACY: best["val_accuracy"]}
    if handwriting is not None:
        metrics[REAL_HANDWRITING_VAL_ACCURACY] = accuracy(best_model, handwriting.validation.model_inputs,
                                                          handwriting.validation.labels)

    history_path, card_path, _ = ModelCard.files_for(output)
    card = ModelCard(
        name=output.stem,
        model_file=output.name,
        architecture=config.architecture,
        parameters=int(best_model.count_params()),
        data=_data_entry(data, len(y_train), len(y_val), handwriting, distribution),
        config=config.to_dict(),
        precision_used=precision,
        epochs_run=len(history["epoch"]),
        train_seconds=round(train_seconds, 1),
        best_epoch=best["epoch"] + 1,
        history_file=history_path.name,
        versions=library_versions(),
        metrics=metrics,
        batch_norm_calibration=calibration,
    )
    save_run_outputs(best_model, card, history, output)
    _clear_run_dir(run_dir, ignore_errors=True)
    return TrainingRun(
        model=best_model,
        config=config,
        history=history,
        best_epoch=best["epoch"] + 1,
        best_val_accuracy=best["val_accuracy"],
        model_path=output,
        card_path=card_path,
        history_path=history_path,
        resumed_from_epoch=resumed_from_epoch,
        train_seconds=train_seconds,
        batch_norm_calibration=calibration,
    )

"""The Keras callbacks of a training run: keeping the best epoch and the run's state, logging the learning rate, a live
curve, how long the run has trained and how long it will take."""
from __future__ import annotations

import json
import math
import time
from functools import partial
from pathlib import Path
from typing import Callable

from ._tensorflow import keras
from .errors import DataError
from .history import best_epoch_index, is_a_figure, read_history_csv
from .model import save_model
from .paths import project_relative, sha256_of, write_text_atomic
from .values import is_whole_number


# What `BestEpochCheckpoint` records of the epoch whose model it keeps.
BEST_EPOCH_FIGURES = ("epoch", "val_accuracy", "val_loss")


class BestEpochCheckpoint(keras.callbacks.Callback):
    """Keras' ModelCheckpoint(monitor="val_accuracy", save_best_only=True), choosing by `best_epoch_index`.

    It judges each epoch against the best one so far, which a resumed run still knows: ModelCheckpoint starts afresh
    and would overwrite the best model with the first resumed epoch. With the model it records which epoch that is
    and its validation figures (`saved_best_epoch`): a run killed while `RunBackup` saves an epoch trains that epoch
    again when it resumes, and the row of the second attempt replaces the first in the log, while the model keeps
    the first attempt's weights when they were the better ones. Place it after the CSVLogger that writes
    `history_log`.
    """

    def __init__(self, path: Path, history_log: Path):
        super().__init__()
        self.path = path
        self.history_log = history_log
        self._saved: dict[str, float] | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        # Read once: from here on this callback writes the record, so it knows it.
        self._saved = _best_epoch_record(self.path)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        history = read_history_csv(self.history_log)
        if self._saved is not None:  # the epoch the model holds, whose row the log may have lost, against this one
            history = {figure: [self._saved[figure], *history.get(figure, [])[-1:]] for figure in BEST_EPOCH_FIGURES}
        if best_epoch_index(history) == len(history["epoch"]) - 1:
            figures = {figure: history[figure][-1] for figure in BEST_EPOCH_FIGURES}
            pending = _pending_record_path(self.path)
            # Before the model: a run killed after the model's save, before its record, finds the figures here.
            write_text_atomic(pending, json.dumps(figures))
            save_model(self.model, self.path)  # atomically: an interrupted save leaves the previous best
            # With the model's fingerprint: until the pending record is gone, it tells which of the two the model is.
            write_text_atomic(_record_path(self.path), json.dumps({**figures, "sha256": sha256_of(self.path)}))
            pending.unlink()
            self._saved = figures


def saved_best_epoch(checkpoint: Path, history: dict[str, list[float]]) -> dict[str, float]:
    """The epoch (counted from 0) whose weights `BestEpochCheckpoint` saved at `checkpoint`, with its validation
    accuracy and loss, as it recorded them; for a run folder from before those records, the best epoch of the run's
    `history` log."""
    saved = _best_epoch_record(checkpoint)
    if saved is None:
        best = best_epoch_index(history)
        saved = {figure: history[figure][best] for figure in BEST_EPOCH_FIGURES}
    return saved


def _record_path(checkpoint: Path) -> Path:
    return checkpoint.with_suffix(".json")


def _pending_record_path(checkpoint: Path) -> Path:
    return checkpoint.with_suffix(".pending.json")


def _best_epoch_record(checkpoint: Path) -> dict[str, float] | None:
    """What `BestEpochCheckpoint` recorded of the model at `checkpoint`: the record written after the model if it
    was written for this model, else the one written before it (the run was killed between the two); None without
    a model or records. One edited by hand is a `DataError`."""
    if not checkpoint.is_file():
        return None
    record = _read_record(_record_path(checkpoint), checkpoint, fingerprint=True)
    if record is not None and record.pop("sha256") == sha256_of(checkpoint):
        return record
    return _read_record(_pending_record_path(checkpoint), checkpoint, fingerprint=False)


def _read_record(path: Path, checkpoint: Path, fingerprint: bool) -> dict | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    try:
        saved = json.loads(text)
    except ValueError:
        saved = None
    if not (isinstance(saved, dict) and is_whole_number(saved.get("epoch")) and saved["epoch"] >= 0
            and all(is_a_figure(saved.get(figure)) for figure in BEST_EPOCH_FIGURES[1:])
            and (not fingerprint or isinstance(saved.get("sha256"), str))):
        raise DataError(f"{project_relative(path)}: not a record of the best epoch ({text.strip()[:80]!r}), which "
                        f"says which epoch {checkpoint.name} holds. Delete it to resume the run (the best epoch is "
                        "then read from the history log, whose row for it a resumed run may have replaced), or pass "
                        "restart=True (on the command line: --restart) to start afresh.")
    return saved


# Where in a run's folder `RunBackup` keeps its state.
BACKUP_FOLDER = "backup"


class RunBackup(keras.callbacks.BackupAndRestore):
    """Keras' BackupAndRestore in `<run_dir>/backup`, keeping the two last epochs' states (`double_checkpoint`, which
    the first Keras 3 releases lacked; 3.15 has it): a run killed while it saves one epoch's state resumes from the
    epoch before.

    Keras falls back on the earlier state only when the weights fail to load; a metadata file cut off (empty, or
    half a JSON object) fails to parse instead, and falls back the same way here. When no state can be read, the
    error names the run's folder and what to do, and deletes nothing: the run's best epoch so far is in there.
    """

    def __init__(self, run_dir: Path):
        super().__init__(str(run_dir / BACKUP_FOLDER), double_checkpoint=True)
        self.run_dir = run_dir
        # How many epochs the state it restored had finished, read from that state's own metadata: the history log
        # may hold one more, whose backup was cut off (the epoch Keras trains again). 0 without a state.
        self.restored_epochs = 0

    def _load_model(self) -> None:
        try:
            super()._load_model()
            metadata = Path(self._training_metadata_path)
            if metadata.exists():
                self.restored_epochs = json.loads(metadata.read_text(encoding="utf-8"))["epoch"]
        except (ValueError, KeyError, TypeError) as error:  # training_metadata.json cut off or not Keras'
            raise OSError(f"{type(error).__name__}: {error}") from error

    def on_train_begin(self, logs: dict | None = None) -> None:
        try:
            super().on_train_begin(logs)
        except OSError as error:
            folder = project_relative(self.run_dir)
            raise DataError(f"{folder}: the backup of this interrupted run cannot be read ({error}); it was "
                            "probably cut off while it was being saved. Delete the folder "
                            f"{folder} to train this run again from its first epoch (no published model is in it).") from None


class RunClock(keras.callbacks.Callback):
    """How long a run has trained, over every call of `train` that worked on it: `seconds` adds this call's time since
    its training began to what the calls before it recorded in `path`, and each finished epoch records the sum there
    (after every epoch, not at the end: a kernel that is killed runs no clean-up)."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.perf_counter):
        super().__init__()
        self.path = path
        self.clock = clock
        self.earlier = recorded_seconds(path, DAMAGED_CLOCK_ADVICE) if path.exists() else 0.0
        self._started: float | None = None

    @property
    def seconds(self) -> float:
        return self.earlier + (0.0 if self._started is None else self.clock() - self._started)

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._started = self.clock()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        write_text_atomic(self.path, f"{self.seconds}\n")


DAMAGED_CLOCK_ADVICE = ("Delete it to resume the run (its card then counts only the time from now), or pass "
                        "restart=True (on the command line: --restart) to start afresh.")


def recorded_seconds(path: Path, advice: str) -> float:
    """The seconds a run's file records (how long it has trained); a `DataError` that names the file and gives
    `advice` for anything else (a file edited by hand, or cut off)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds >= 0):
        raise DataError(f"{project_relative(path)}: not a number of seconds ({text.strip()[:40]!r}); it records how "
                        f"long this run has trained. {advice}")
    return seconds


class LearningRateLogger(keras.callbacks.Callback):
    """Adds the learning rate of the finished epoch to the logs, whatever schedule changes it."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))


def learning_rate_callbacks(schedule: str, factor: float, patience: int, min_learning_rate: float):
    """What changes (for "plateau") or records (for "cosine") the learning rate during a run."""
    if schedule == "cosine":
        return [LearningRateLogger()]
    # ReduceLROnPlateau logs the rate the epoch trained with itself, before it reduces it.
    return [keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=factor, patience=patience,
                                              min_lr=min_learning_rate)]


class LiveLearningCurve(keras.callbacks.Callback):
    """Redraws the learning curves in the notebook after every epoch, in place, so students watch training.

    Each point sits at its epoch's number, so a resumed run's curve starts where the run resumed. Whatever goes
    wrong with a value in the logs must not stop the run it draws: a value that is no number is left out, and a
    metric logged only in some epochs (validation every few epochs) has no point in the others."""

    def __init__(self) -> None:
        super().__init__()
        self.on_train_begin()

    def on_train_begin(self, logs: dict | None = None) -> None:
        # A curve given to another run draws that run alone, in the output of the cell that runs it.
        self._history: dict[str, list[float]] = {"epoch": []}
        self._display = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        from IPython.display import display

        from .plots import plot_history

        epochs = self._history["epoch"]
        epochs.append(epoch)
        for key, value in (logs or {}).items():
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            self._history.setdefault(key, [math.nan] * (len(epochs) - 1)).append(number)
        for values in self._history.values():
            values.extend([math.nan] * (len(epochs) - len(values)))
        figure = plot_history(self._history)
        if self._display is None:
            self._display = display(figure, display_id=True)
        else:
            self._display.update(figure)


def _minutes_or_seconds(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 600 else f"{seconds / 60:.0f} min"


class RunTimeEstimate(keras.callbacks.Callback):
    """Once the first epoch has run, how long the rest of the run takes at that pace: a teacher on a slow laptop
    learns within minutes, not at the end, whether a run fits the lesson (one command's time differs a lot from one
    CPU to another; the README's *Shipped models* has examples). Said as the second epoch begins, after Keras' line
    for the first."""

    def __init__(self, epochs: int, report: Callable[[str], None] = partial(print, flush=True),
                 clock: Callable[[], float] = time.perf_counter):
        super().__init__()
        self.epochs = epochs
        self.report = report
        self.clock = clock
        self._first_epoch: int | None = None  # a resumed run's first epoch is not epoch 0
        self._started = 0.0
        self._first_epoch_seconds: float | None = None

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self._first_epoch is None:
            self._first_epoch, self._started = epoch, self.clock()
        elif epoch == self._first_epoch + 1 and self._first_epoch_seconds is not None:
            seconds, remaining = self._first_epoch_seconds, self.epochs - epoch
            self.report(f"Epoch {epoch} of {self.epochs} took {_minutes_or_seconds(seconds)}; at this pace the "
                        f"remaining {remaining} take about {_minutes_or_seconds(remaining * seconds)} (early "
                        "stopping may end the run sooner).")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch == self._first_epoch:
            self._first_epoch_seconds = self.clock() - self._started

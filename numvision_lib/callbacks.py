"""The Keras callbacks of a training run: keeping the best epoch, logging the learning rate, a live curve."""
from __future__ import annotations

from pathlib import Path

from ._tensorflow import keras
from .history import best_epoch_index, read_history_csv


class BestEpochCheckpoint(keras.callbacks.Callback):
    """Keras' ModelCheckpoint(monitor="val_accuracy", save_best_only=True), choosing by `best_epoch_index`.

    It judges each epoch against the whole history log, so a resumed run still knows the epochs from before the
    interruption; ModelCheckpoint starts afresh and would overwrite the best model with the first resumed epoch.
    Place it after the CSVLogger that writes `history_log`.
    """

    def __init__(self, path: Path, history_log: Path):
        super().__init__()
        self.path = path
        self.history_log = history_log

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        history = read_history_csv(self.history_log)
        if best_epoch_index(history) == len(history["epoch"]) - 1:
            self.model.save(self.path)


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
    """Redraws the learning curves in the notebook after every epoch, in place, so students watch training."""

    def __init__(self) -> None:
        super().__init__()
        self._history: dict[str, list[float]] = {}
        self._display = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        from IPython.display import display

        from .plots import plot_history

        for key, value in (logs or {}).items():
            self._history.setdefault(key, []).append(float(value))
        figure = plot_history(self._history)
        if self._display is None:
            self._display = display(figure, display_id=True)
        else:
            self._display.update(figure)

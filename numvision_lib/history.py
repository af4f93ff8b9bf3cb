"""The per-epoch training history as a CSV file: what `train` logs, publishes beside a model and `evaluate` plots."""
from __future__ import annotations

import csv
import os
from pathlib import Path

from .errors import DataError
from .paths import write_text_atomic


def read_history_csv(path: str | os.PathLike) -> dict[str, list[float]]:
    """Per-epoch history from the CSV log; when a resumed run logged an epoch twice, the last row wins.

    A damaged log (edited by hand, or cut off by a full disk) is a `DataError` naming the file and the line."""
    rows = {}
    try:
        with open(path, newline="", encoding="utf-8") as stream:
            reader = csv.DictReader(stream)
            if reader.fieldnames is not None and "epoch" not in reader.fieldnames:
                raise DataError(f"{path}: not a training history (its first line has no 'epoch' column)")
            for row in reader:
                values = {column: float(row[column]) for column in reader.fieldnames}
                rows[int(values["epoch"])] = values
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: the training history cannot be read ({error})") from None
    except (TypeError, ValueError) as error:  # a missing field reads as None, a cut one as ""
        raise DataError(f"{path}: line {reader.line_num} is not a row of numbers for every column ({error}). "
                        "Delete that line, or the file to start the history afresh.") from None
    columns = list(next(iter(rows.values())).keys()) if rows else []
    history = {column: [rows[epoch][column] for epoch in sorted(rows)] for column in columns}
    history["epoch"] = [int(epoch) for epoch in history.get("epoch", [])]
    return history


def write_history_csv(history: dict[str, list[float]], path: str | os.PathLike) -> Path:
    columns = list(history)
    lines = [",".join(columns)]
    lines += [",".join(f"{history[c][i]:.6g}" for c in columns) for i in range(len(history["epoch"]))]
    return write_text_atomic(path, "\n".join(lines) + "\n")


def best_epoch_index(history: dict[str, list[float]]) -> int:
    """The epoch to keep: the highest validation accuracy, and among epochs that tie, the lowest validation loss.

    Validation accuracy moves in steps of one image, so epochs often tie; keeping the first of them, as Keras'
    ModelCheckpoint does, keeps the least trained one when the learning rate decays. The loss, measured on the
    same images, tells them apart.
    """
    scores = list(zip(history["val_accuracy"], (-loss for loss in history["val_loss"])))
    return scores.index(max(scores))

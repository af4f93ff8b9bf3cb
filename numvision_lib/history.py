"""The per-epoch training history as a CSV file: what `train` logs, publishes beside a model and `evaluate` plots."""
from __future__ import annotations

import csv
import os
from pathlib import Path

from .paths import write_text_atomic


def read_history_csv(path: str | os.PathLike) -> dict[str, list[float]]:
    """Per-epoch history from the CSV log; when a resumed run logged an epoch twice, the last row wins."""
    with open(path, newline="", encoding="utf-8") as stream:
        rows = {int(row["epoch"]): row for row in csv.DictReader(stream)}
    columns = list(next(iter(rows.values())).keys()) if rows else []
    history = {column: [float(rows[epoch][column]) for epoch in sorted(rows)] for column in columns}
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

"""The per-epoch training history as a CSV file: what `train` logs, publishes beside a model and `evaluate` plots."""
from __future__ import annotations

import csv
import io
import math
import numbers
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .errors import ConfigError, DataError
from .paths import write_text_atomic
from .values import is_whole_number


def read_history_csv(path: str | os.PathLike) -> dict[str, list[float]]:
    """Per-epoch history from the CSV log; when a resumed run logged an epoch twice, the last row wins.

    A damaged log (edited by hand, or cut off by a full disk) is a `DataError` naming the file and the line."""
    try:
        # utf-8-sig: a log opened and saved again in a spreadsheet starts with a byte order mark.
        with open(path, newline="", encoding="utf-8-sig") as stream:
            text = stream.read()
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: the training history cannot be read ({error})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:  # Keras' CSVLogger makes the file when training starts, and writes after an epoch
        return {"epoch": []}
    columns = [name.strip() for name in header]
    if "epoch" not in columns:
        raise DataError(_not_a_history_message(path, ",".join(header)))
    rows = {}
    for row in reader:
        if not "".join(row).strip():  # Keras' logger on Windows writes \r\r\n: a blank row after each
            continue
        values = _numbers(row, columns)
        if isinstance(values, str) or not values["epoch"].is_integer():  # also NaN and infinity
            problem = values if isinstance(values, str) else f"epoch {values['epoch']} is not a whole number"
            raise DataError(f"{path}: line {reader.line_num} is not a row of numbers for every column "
                            f"({problem}). Correct that line, or delete it.")
        rows[int(values["epoch"])] = values
    # Every row is written with one, and a row cut inside its last number would read as another number.
    if not text.endswith(("\n", "\r")):
        raise DataError(f"{path}: line {reader.line_num}, the last, ends without a line break, as a row cut off by a "
                        "full disk does, so its last number may be cut short. If the line is whole, end it with a "
                        "line break; else delete it.")
    history = {column: [rows[epoch][column] for epoch in sorted(rows)] for column in columns}
    history["epoch"] = [int(epoch) for epoch in history["epoch"]]
    return history


def _not_a_history_message(path: str | os.PathLike, first_line: str) -> str:
    # A spreadsheet set to a language that writes decimal commas saves its CSV files with ';' between the fields.
    return (f"{path}: not a training history: its first line, {first_line[:80]!r}, has no 'epoch' column. Saved again "
            "by a spreadsheet, with ';' between the fields? Save it as comma-separated CSV; a model's published "
            "history can also be deleted, as the model does not need it.")


def _numbers(row: list[str], columns: list[str]) -> dict[str, float] | str:
    """A row's numbers by column; what is wrong with it instead, when it is not one number per column."""
    if len(row) != len(columns):
        return f"{len(row)} fields for {len(columns)} columns"
    try:
        return dict(zip(columns, map(float, row)))
    except ValueError as error:  # a cut field reads as ""
        return str(error)


def check_one_value_per_epoch(history) -> None:
    """A ConfigError unless every column of `history` holds as many values as the others: one per epoch."""
    lengths = {column: len(values) for column, values in history.items()}
    if len(set(lengths.values())) > 1:
        raise ConfigError(f"a history has one value per epoch in every column; these have {lengths}")


def checked_history(history) -> dict[str, list]:
    """A training history as {column: one value per epoch}: given as what `model.fit` returns (a Keras History), its
    `.history` dict, or a pandas DataFrame of those columns (the history CSV read with pandas). Anything else, or
    columns of different lengths, is a ConfigError."""
    history = getattr(history, "history", history)  # model.fit's return value holds the dict
    if isinstance(history, (str, os.PathLike)):
        raise ConfigError(f"{os.fspath(history)!r} is the name of a file: read the history from it first, with "
                          "history.read_history_csv(path)")
    if not hasattr(history, "keys"):  # a dict, or a pandas DataFrame of the history CSV
        raise ConfigError(f"a training history is what model.fit returns, or its .history dict of lists; not a "
                          f"{type(history).__name__} (a pandas DataFrame of those columns works too)")
    columns = {}
    for column in history.keys():
        values = history[column]
        # One number is no list of them; text would be split into characters, or drawn as categories.
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise ConfigError(f"a history has one value per epoch in every column, a list of them; {column!r} holds "
                              f"{values!r}")
        columns[column] = list(values)
        if not all(map(is_a_figure, columns[column])):
            raise ConfigError(f"a history holds numbers; {column!r} holds {columns[column][:3]!r}: text read from the "
                              "CSV file? Read it with history.read_history_csv(path)")
    check_one_value_per_epoch(columns)
    return columns


def is_a_figure(value) -> bool:
    """A number an epoch can have, NaN included (a diverged loss, or an epoch a live curve has no value for yet)."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def write_history_csv(history, path: str | os.PathLike) -> Path:
    """Write a history (anything `checked_history` takes); without an 'epoch' column (Keras' History.history), the
    epochs are numbered from 0, as Keras counts them."""
    history = checked_history(history)
    epochs = len(next(iter(history.values()), []))
    history = {"epoch": list(range(epochs)), **history}
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")  # quotes a metric's name that holds a comma or a quote
    writer.writerow(history)
    writer.writerows([_field(values[epoch]) for values in history.values()] for epoch in range(epochs))
    return write_text_atomic(path, text.getvalue())


def _field(value: float) -> str:
    """A value exactly as it reads back: a count (the epoch) in full, a float as its shortest exact form."""
    return str(value) if is_whole_number(value) else repr(float(value))


def best_epoch_index(history: dict[str, list[float]]) -> int:
    """The epoch to keep: the highest validation accuracy, and among epochs that tie, the lowest validation loss.

    Validation accuracy moves in steps of one image, so epochs often tie; keeping the first of them, as Keras'
    ModelCheckpoint does, keeps the least trained one when the learning rate decays. The loss, measured on the
    same images, tells them apart.
    """
    columns = {column: len(history[column]) for column in ("val_accuracy", "val_loss") if column in history}
    if len(columns) < 2 or len(set(columns.values())) > 1 or not columns["val_accuracy"]:
        raise DataError(f"no best epoch to choose: the history needs 'val_accuracy' and 'val_loss' for every epoch, "
                        f"and has {', '.join(f'{column!r} ({len(values)})' for column, values in history.items())}")
    # NaN (a diverged epoch) passes no comparison, so `max` would keep it when it came first: it scores lowest.
    scores = [(accuracy if math.isfinite(accuracy) else -math.inf, -loss if math.isfinite(loss) else -math.inf)
              for accuracy, loss in zip(history["val_accuracy"], history["val_loss"])]
    return scores.index(max(scores))

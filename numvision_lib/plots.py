"""Every figure of the project. Each function draws what it is given, returns the Figure and can save it.

Figures are closed in pyplot before they are returned, so a notebook shows each exactly once (as the cell's
value) and a long session does not pile up open figures. What a figure is given is checked before the figure is made,
and a figure that fails while it is drawn is closed too: the inline backend would show it half-drawn under the error.

`save_to` names the file to write; its suffix says the format (.png, .svg, .pdf ...), and a name without one is
saved as PNG with .png added, as matplotlib's own savefig does.
"""
from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from itertools import cycle
from pathlib import Path
from typing import Callable, Sequence

import matplotlib

matplotlib.rcParams["svg.hashsalt"] = "numvision"  # stable SVG ids keep stored notebook outputs diff-free
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .calibration import ReliabilityCurve, checked_probabilities  # noqa: E402
from .data import (DIGITS, IMAGE_SIZE, NUM_CLASSES, check_seed, checked_labels, checked_pixels,  # noqa: E402
                   full_ink, images_per_digit, one_model_input, picture_array)
from .errors import ConfigError, ImageError  # noqa: E402
from .history import checked_history  # noqa: E402
from .paths import atomic_path, expanded_path, project_relative  # noqa: E402
from .values import is_number, is_whole_number  # noqa: E402

# The format of a `save_to` without a suffix, which gets it added: what matplotlib's own savefig does.
DEFAULT_FIGURE_FORMAT = "png"
# Room beyond 0% and 100% on an accuracy axis, as a share of its span: about half a marker of matplotlib's default
# size, so that a marker at 100% is drawn whole.
ACCURACY_MARKER_ROOM = 0.02


def _closed_if_drawing_fails(draw: Callable[..., Figure]) -> Callable[..., Figure]:
    """`draw`, a figure function, closing every figure it made when it fails: what only drawing finds out (a value
    inside a report or a curve) would otherwise leave a half-drawn figure, which a notebook shows under the error."""
    @functools.wraps(draw)
    def drawing(*args, **kwargs) -> Figure:
        before = set(plt.get_fignums())
        try:
            return draw(*args, **kwargs)
        except BaseException:
            for number in set(plt.get_fignums()) - before:
                plt.close(number)
            raise

    return drawing


def _finish(figure: Figure, save_to: str | os.PathLike | None) -> Figure:
    """Lay the figure out, save it to `save_to` (in the format its suffix names, PNG with .png added when it has
    none) and close it in pyplot, also when saving fails."""
    try:
        try:
            figure.tight_layout()
        except RuntimeError as error:  # text.usetex set where no LaTeX is installed
            raise ConfigError(f"matplotlib cannot lay out this figure's text: {error}. Switch LaTeX off with "
                              "plt.rcParams['text.usetex'] = False") from None
        if save_to is not None:
            save_figure(figure, save_to)
    finally:
        plt.close(figure)
    return figure


def save_figure(figure: Figure, save_to: str | os.PathLike) -> Path:
    """Write a figure one of these functions has drawn to `save_to`, as their own `save_to` does (the format its
    suffix names, PNG with .png added when it has none); returns the file written. To draw several figures, and
    so check everything they show, before writing any of them."""
    target, file_format = _figure_file(figure, save_to)
    # A PNG without matplotlib's version, so a new version changes no stored figure; the other formats' writers
    # refuse that key, or any metadata.
    metadata = {"metadata": {"Software": None}} if file_format == "png" else {}
    with atomic_path(target) as temporary:
        # The temporary file's name ends in random characters: matplotlib would take them for the format.
        try:
            figure.savefig(temporary, format=file_format, dpi=110, **metadata)
        except RuntimeError as error:  # .pgf needs a LaTeX installation
            raise ConfigError(f"matplotlib cannot write {target.name} here: {error}. Save it as .png, .pdf or .svg, "
                              "which need nothing more") from None
    return target


def _figure_file(figure: Figure, save_to) -> tuple[Path, str]:
    """Where a figure is saved, and in which of the formats matplotlib writes."""
    if not isinstance(save_to, (str, os.PathLike)):
        raise ConfigError(f"save_to is the name of the picture file to write, such as 'figure.png', not {save_to!r}")
    target = expanded_path(save_to)
    if target.is_dir():
        raise ConfigError(f"{project_relative(target)} is a folder: give the name of the picture file to write in "
                          f"it, such as {project_relative(target / 'figure.png')}")
    if not target.suffix:
        target = target.with_name(f"{target.name.rstrip('.')}.{DEFAULT_FIGURE_FORMAT}")
    file_format = target.suffix[1:].lower()
    writable = figure.canvas.get_supported_filetypes()
    if file_format not in writable:
        raise ConfigError(_unknown_format_message(target, writable))
    return target, file_format


def _unknown_format_message(target: Path, writable) -> str:
    return (f"cannot save a figure as {target.name}: matplotlib does not write {target.suffix} files. End the name "
            f"in one of {', '.join(f'.{suffix}' for suffix in sorted(writable))} (.png for most uses)")


def _hide_axes(axes) -> None:
    for ax in np.ravel(axes):
        ax.set_axis_off()


def _shortened(given) -> str:
    """What was given, for a message, cut short after 80 characters."""
    if isinstance(given, np.ndarray) and given.ndim > 1:  # its repr spreads over many lines
        return f"an array of shape {given.shape}"
    shown = repr(given)
    return shown if len(shown) <= 80 else shown[:76] + " ..."


def _has_fields(value, *fields: str) -> bool:
    """Whether `value` has the fields of one of explain's or attacks' results: they are recognised by their fields,
    as importing those modules for their classes would load TensorFlow."""
    return all(hasattr(value, field) for field in fields)


def _one_per_picture(values, name: str, count: int) -> list | None:
    if values is None:
        return None
    if isinstance(values, str):  # would be read letter by letter
        raise ConfigError(f"{name}: give a list with one text per picture, not the single text {values!r}")
    values = list(values)
    if len(values) != count:
        raise ConfigError(f"give one of the {name} per picture: there are {count} pictures and {len(values)} {name}")
    return values


def _show_digit(ax, image: np.ndarray, white: int) -> None:
    """One picture, white ink on black as the network sees it, `white` its full ink (see `data.full_ink`)."""
    ax.imshow(image, cmap="gray", vmin=0, vmax=white)


def _pictures_to_show(images) -> list[np.ndarray]:
    """Each picture of `images` as a 2-D array: a batch (N, H, W) or (N, H, W, 1), one picture, or a list of
    pictures of any sizes (the steps of preprocessing go from the canvas to 28x28)."""
    if not isinstance(images, (list, tuple)):
        batch = picture_array(images)
        images = [batch] if batch.ndim == 2 or batch.shape[-1:] == (1,) and batch.ndim == 3 else list(batch)
    pictures = [picture_array(image) for image in images]
    pictures = [picture[..., 0] if picture.ndim == 3 and picture.shape[-1] == 1 else picture for picture in pictures]
    if any(picture.ndim != 2 for picture in pictures):
        shapes = sorted({picture.shape for picture in pictures if picture.ndim != 2})
        raise ConfigError(f"give pictures as 2-D arrays of grey levels, one (H, W) or a batch (N, H, W) such as "
                          f"data.x_train, not of shape {shapes[0]}")
    return pictures


@_closed_if_drawing_fails
def plot_digit_grid(
    images: np.ndarray, titles: Sequence[str] | None = None, columns: int = 10, title: str | None = None,
    title_colors: Sequence[str] | None = None, save_to=None,
) -> Figure:
    """Show pictures in a grid, white ink on black as the network sees them: a batch (N, 28, 28) or
    (N, 28, 28, 1), one picture, or a list of pictures of any sizes; uint8 (or other whole numbers) in 0..255, or
    floats in [0, 1] (`data.full_ink`, which refuses a 0/1 mask of whole numbers)."""
    images = _pictures_to_show(images)
    whites = [full_ink(image) for image in images]
    if not (is_whole_number(columns) and columns >= 1):
        raise ConfigError(f"columns is how many pictures each row shows: a whole number, 1 or more, not {columns!r}")
    titles = _one_per_picture(titles, "titles", len(images))
    title_colors = _one_per_picture(title_colors, "title_colors", len(images))
    rows = max(1, int(np.ceil(len(images) / columns)))
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 1.05, rows * (1.25 if titles else 1.05)), squeeze=False)
    _hide_axes(axes)
    for index, image in enumerate(images):
        ax = axes.flat[index]
        _show_digit(ax, image, whites[index])
        if titles is not None:
            color = title_colors[index] if title_colors is not None else "black"
            ax.set_title(titles[index], fontsize=8, color=color)
    if title:
        figure.suptitle(title)
    return _finish(figure, save_to)


@_closed_if_drawing_fails
def plot_examples_per_digit(images: np.ndarray, labels: np.ndarray, per_digit: int = 10, seed: int = 42, save_to=None) -> Figure:
    """One row per digit 0–9 with `per_digit` random examples (another `seed` picks others): how differently people
    write the same digit. `images` as `plot_digit_grid` takes them, with their digits as `labels`.

    A digit with fewer examples (a small subset) shows those it has, and its row ends early.
    """
    if not (is_whole_number(per_digit) and per_digit >= 1):
        raise ConfigError(f"per_digit is how many examples each digit's row shows: a whole number, 1 or more, not "
                          f"{per_digit!r}")
    check_seed(seed)
    rng = np.random.default_rng(seed)
    images, white = checked_pixels(images)
    labels = checked_labels(labels, len(images), "images to show examples of")
    figure, axes = plt.subplots(NUM_CLASSES, per_digit, figsize=(per_digit * 1.05, NUM_CLASSES * 1.05),
                                squeeze=False)
    _hide_axes(axes)
    for digit in DIGITS:
        found = np.flatnonzero(labels == digit)
        for ax, index in zip(axes[digit], rng.choice(found, min(per_digit, len(found)), replace=False)):
            _show_digit(ax, images[index], white)
    return _finish(figure, save_to)


@_closed_if_drawing_fails
def plot_class_counts(train_labels: np.ndarray, test_labels: np.ndarray, save_to=None) -> Figure:
    """Bar chart of how many images each digit has in the training and test sets, from their labels (the digits
    0-9, such as data.y_train and data.y_test)."""
    train_counts = images_per_digit(train_labels, "training images to count")
    test_counts = images_per_digit(test_labels, "test images to count")
    figure, ax = plt.subplots(figsize=(8, 3.5))
    positions = np.arange(NUM_CLASSES)
    ax.bar(positions - 0.2, train_counts, width=0.4, label=f"train ({train_counts.sum():,})")
    ax.bar(positions + 0.2, test_counts, width=0.4, label=f"test ({test_counts.sum():,})")
    ax.set_xticks(positions)
    ax.set_xlabel("digit")
    ax.set_ylabel("images")
    ax.set_title("Images per digit")
    ax.legend()
    return _finish(figure, save_to)


@_closed_if_drawing_fails
def plot_mean_images(images: np.ndarray, labels: np.ndarray, save_to=None) -> Figure:
    """The average image of each digit: where the ink usually is, on one colour scale for all digits (full ink the
    brightest), so that the panels compare. A digit without images (a small subset may lack one) gets an empty panel
    titled so."""
    images, white = checked_pixels(images)
    labels = checked_labels(labels, len(images), "images to average")
    figure, axes = plt.subplots(1, 10, figsize=(10.5, 1.6))
    _hide_axes(axes)
    for digit, ax in zip(DIGITS, axes):
        chosen = images[labels == digit]
        if not len(chosen):  # their mean would be a blank picture of NaN, with a warning
            ax.set_title(f"{digit}: no images", fontsize=8)
            continue
        ax.imshow(chosen.mean(axis=0), cmap="magma", vmin=0, vmax=white)
        ax.set_title(str(digit))
    figure.suptitle("Mean image of each digit")
    return _finish(figure, save_to)


@_closed_if_drawing_fails
def plot_pixel_histogram(images: np.ndarray, save_to=None) -> Figure:
    """Histogram of pixel intensities: mostly black background, a peak of full ink, a few grey edge pixels.

    Pixels are read as the model reads them: uint8 (or other whole numbers) are levels 0-255, as data.x_train;
    floats are the network's input from 0 to 1 (`data.to_model_input(data.x_train)`), shown on the same 0-255 scale,
    each at its nearest level, so that both give the same histogram."""
    images, white = checked_pixels(images)
    # A float's overshoot beyond [0, 1] is no ink or full ink, as the pictures show it.
    levels = images if white == 255 else np.rint(np.clip(images, 0, 1) * 255.0)
    counts = np.bincount(levels.ravel().astype(np.intp), minlength=256)
    figure, ax = plt.subplots(figsize=(8, 3.2))
    ax.bar(np.arange(256), counts, width=1.0, color="steelblue")
    ax.set_yscale("log")
    ax.set_xlabel("pixel value (0 = black background, 255 = full ink)")
    ax.set_ylabel("pixels (log scale)")
    ax.set_title("Pixel intensities")
    return _finish(figure, save_to)


@_closed_if_drawing_fails
def plot_history(history, save_to=None) -> Figure:
    """Loss, accuracy and learning rate per epoch, training next to validation (a panel for each that is there).
    `history`: what `model.fit` returns (a Keras History), its `.history` dict {name: one value per epoch}, or a
    pandas DataFrame of those columns."""
    history = checked_history(history)
    # A model compiled without metrics has no accuracy: its loss is still worth showing.
    panels = [(key, title) for key, title in (("loss", "Loss"), ("accuracy", "Accuracy")) if key in history]
    if not panels:
        raise ConfigError(f"a training history has the loss or accuracy of each epoch (Keras' History.history); this "
                          f"one has neither 'loss' nor 'accuracy', only: {', '.join(map(repr, history)) or 'nothing'}")
    # Keras counts epochs from 0 and shows them from 1; a history with its epochs (the CSV log, a resumed run's live
    # curve) is drawn at them, the others from the first.
    epochs = (np.asarray(history["epoch"]) + 1 if "epoch" in history
              else np.arange(1, len(history[panels[0][0]]) + 1))
    show_learning_rate = "learning_rate" in history
    columns = len(panels) + show_learning_rate
    figure, axes = plt.subplots(1, columns, figsize=(4.2 * columns, 3.3), squeeze=False)
    axes = axes[0]
    for ax, (key, title) in zip(axes, panels):
        ax.plot(epochs, history[key], "o-", label="training")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], "o-", label="validation")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.legend()
    if show_learning_rate:
        axes[-1].plot(epochs, history["learning_rate"], "o-", color="tab:green")
        axes[-1].set_yscale("log")
        axes[-1].set_title("Learning rate")
        axes[-1].set_xlabel("epoch")
    for ax in axes:
        ax.xaxis.get_major_locator().set_params(integer=True)
    return _finish(figure, save_to)


@_closed_if_drawing_fails
def plot_confusion_matrix(confusion: np.ndarray, save_to=None) -> Figure:
    """Heatmap of true (rows) against predicted (columns) digits; the diagonal is right, the rest mistakes.

    Counts are shown as whole numbers; a normalised matrix (shares, e.g. each row divided by its sum) as shares.
    """
    import seaborn as sns

    confusion = np.asarray(confusion)
    if (confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1] or confusion.dtype.kind not in "biuf"
            or not np.all(np.isfinite(confusion)) or np.any(confusion < 0)):
        raise ConfigError("a confusion matrix is a square table of counts (or shares) of 0 or more, true digits in "
                          f"rows and predicted digits in columns; got an array of shape {confusion.shape} "
                          f"({confusion.dtype})")
    if _holds_counts(confusion):
        confusion = confusion.astype(np.int64)
        fmt, title = "d", f"Confusion matrix ({confusion.trace():,} of {confusion.sum():,} right)"
    else:  # "d" cannot format a share, and "0.99 of 10.0 right" would mean nothing
        fmt, title = ".2f", f"Confusion matrix (shares: {confusion.trace() / confusion.sum():.1%} on the diagonal)"
    figure, ax = plt.subplots(figsize=(7.5, 6.2))
    off_diagonal = confusion.copy()
    np.fill_diagonal(off_diagonal, 0)
    # Colour by mistakes only, so the few confusions stand out instead of a dark diagonal and pale rest.
    sns.heatmap(off_diagonal, annot=confusion, fmt=fmt, cmap="Reds", cbar_kws={"label": "mistakes"}, ax=ax,
                linewidths=0.5, linecolor="lightgrey", square=True)
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(title)
    return _finish(figure, save_to)


def _holds_counts(confusion: np.ndarray) -> bool:
    """Whether a confusion matrix holds counts rather than shares: whole numbers, also summed up in a float array,
    unless each row adds up to 1, as in the row-normalised matrix of a model that made no mistakes (all 0 and 1)."""
    if confusion.dtype.kind in "iu":
        return True
    return bool(np.all(confusion == np.round(confusion))) and not np.allclose(confusion.sum(axis=1), 1)


@_closed_if_drawing_fails
def plot_mistakes(images: np.ndarray, mistakes: Sequence, count: int = 30, columns: int = 10, save_to=None) -> Figure:
    """The first `count` of `mistakes` (an evaluation report's, most confident first), all of them when there are
    fewer, titled 'true → predicted (confidence)' ('true → ? (no answer)' where the model gave none); `images` are
    the pictures the report was made on."""
    # A slice would take 0 as none, -1 as all but the last, and 2.5 as a TypeError.
    if not (is_whole_number(count) and count >= 1):
        raise ConfigError(f"count is how many mistakes to show: a whole number, 1 or more, not {count!r}")
    shown = list(mistakes)[:count]
    titles = [f"{m.true}→{m.predicted} ({m.confidence:.0%})" if m.predicted in DIGITS else f"{m.true}→? (no answer)"
              for m in shown]
    pictures, _ = checked_pixels(images)  # one picture too, as it was evaluated
    beyond = [m.index for m in shown if m.index >= len(pictures)]
    if beyond:
        raise ConfigError(f"give the pictures the mistakes were made on: these are {len(pictures):,}, and a mistake "
                          f"was made on picture {beyond[0]:,}")
    pictures = pictures[[m.index for m in shown]]
    return plot_digit_grid(
        pictures, titles=titles, columns=columns, title_colors=["firebrick"] * len(shown),
        title="Most confident mistakes: true → predicted (confidence)", save_to=save_to,
    )


@_closed_if_drawing_fails
def plot_probabilities(probabilities: np.ndarray, save_to=None) -> Figure:
    """Bar chart of one picture's ten class probabilities (also as a batch of one, (1, 10)), the predicted digit
    highlighted."""
    try:
        probabilities = np.asarray(probabilities)
    except ValueError:  # rows of different lengths
        raise ConfigError(_not_ten_probabilities("rows of different lengths")) from None
    # Also as a model returns them for a batch of one picture: (1, 10).
    if probabilities.shape not in ((NUM_CLASSES,), (1, NUM_CLASSES)):
        raise ConfigError(_not_ten_probabilities(f"{probabilities.size} values" if probabilities.ndim == 1 else
                                                 f"an array of shape {probabilities.shape}"))
    probabilities = checked_probabilities(probabilities).reshape(NUM_CLASSES).astype(np.float64)
    figure, ax = plt.subplots(figsize=(4.5, 2.6))
    colors = ["tab:blue"] * 10
    colors[int(np.argmax(probabilities))] = "tab:orange"
    ax.bar(DIGITS, probabilities, color=colors)
    ax.set_xticks(DIGITS)
    ax.set_ylim(0, 1)
    ax.set_xlabel("digit")
    ax.set_ylabel("probability")
    return _finish(figure, save_to)


def _not_ten_probabilities(shown: str) -> str:
    return f"plot_probabilities shows one picture's ten probabilities, one per digit 0-9, not {shown}"


def _all_shares(values: np.ndarray) -> bool:
    """Whether every value is a share from 0 to 1 (NaN is not)."""
    return bool(np.all((values >= 0) & (values <= 1)))


def _some_values(values: np.ndarray) -> str:
    """A few of the values that are not shares, for a message."""
    wrong = values[~((values >= 0) & (values <= 1))] if values.dtype.kind in "iuf" else values.ravel()
    return ", ".join(map(str, wrong[:5].tolist()))


@_closed_if_drawing_fails
def plot_confidence_histogram(confidences: np.ndarray, correct: np.ndarray, save_to=None) -> Figure:
    """How sure the model was when it was right and when it was wrong (`correct`: True/False or 1/0 per answer)."""
    confidences, correct = np.asarray(confidences), np.asarray(correct)
    # 1s and 0s would pick positions 1 and 0 of the confidences instead of the right answers: they become flags.
    if correct.dtype != bool and not np.all(np.isin(correct, (0, 1))):
        raise ConfigError("correct says of each answer whether it was right: True/False or 1/0, not "
                          f"{np.unique(correct)[:5].tolist()}")
    if confidences.shape != correct.shape:
        raise ConfigError(f"{confidences.size} confidences but {correct.size} right/wrong answers: give one of each "
                          "per answer")
    if confidences.dtype.kind not in "iuf" or not _all_shares(confidences):
        raise ConfigError(f"confidences are the probabilities of the answers, from 0 to 1 (0.99, not 99), such as "
                          f"report.confidences; these hold {_some_values(confidences)}")
    correct = correct.astype(bool)
    figure, ax = plt.subplots(figsize=(8, 3.3))
    bins = np.linspace(0, 1, 41)
    ax.hist(confidences[correct], bins=bins, alpha=0.7, label=f"right ({correct.sum():,})", color="tab:green")
    ax.hist(confidences[~correct], bins=bins, alpha=0.8, label=f"wrong ({(~correct).sum():,})", color="tab:red")
    ax.set_yscale("log")
    ax.set_xlabel("confidence (probability of the predicted digit)")
    ax.set_ylabel("test images (log scale)")
    ax.set_title("Confidence of right and wrong answers")
    ax.legend()
    return _finish(figure, save_to)


@_closed_if_drawing_fails
def plot_per_class_accuracy(per_class_accuracy: np.ndarray, save_to=None) -> Figure:
    """Accuracy of each digit (ten shares from 0 to 1, digit 0 first; NaN for a digit without test images, which
    gets no bar), zoomed in on the top of the scale where the differences are."""
    try:
        shares = np.asarray(per_class_accuracy, dtype=np.float64)  # also a list, as a student may type one
    except (TypeError, ValueError):
        shares = None
    # NaN is a digit without images; all ten NaN is no evaluation at all.
    measured = None if shares is None else ~np.isnan(shares)
    if (shares is None or shares.shape != (NUM_CLASSES,) or not measured.any()
            or not _all_shares(shares[measured])):
        raise ConfigError(f"plot_per_class_accuracy shows ten accuracies, one per digit 0-9, each a share from 0 to "
                          f"1 (0.98, not 98; NaN for a digit without images), not {_shortened(per_class_accuracy)}")
    figure, ax = plt.subplots(figsize=(8, 3.2))
    ax.bar(np.array(DIGITS)[measured], shares[measured] * 100, color="tab:purple")
    low = max(0.0, min(shares[measured].min() * 100 - 1, 97))
    ax.set_ylim(low, 100)
    ax.set_xticks(DIGITS)
    ax.set_xlabel("digit")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("Test accuracy per digit")
    for digit, accuracy in enumerate(shares):
        # A digit never shown has no accuracy: a bar of 0% would say that every image of it was read wrong.
        text, height = (f"{accuracy:.1%}", accuracy * 100) if measured[digit] else ("no images", low)
        ax.text(digit, height, text, ha="center", va="bottom", fontsize=7)
    return _finish(figure, save_to)


@_closed_if_drawing_fails
def plot_accuracy_by_writer(reports: dict[str, dict], who: str = "writer",
                            reference: tuple[str, float] | None = None, save_to=None) -> Figure:
    """Each writer's accuracy under each model (`evaluation.score_real_handwriting` reports by model name), writers
    ordered by the first model's accuracy: who gains, and whose handwriting stays hard to read. Writers are shown
    only as "`who` 1", "`who` 2" ... (the worst read first); `reference` = (label, accuracy) adds a dashed line."""
    if not isinstance(reports, Mapping) or "by_writer" in reports:
        raise ConfigError(_not_reports_by_name_message(reports))
    names = list(reports)
    if not names:
        raise ConfigError("no reports to plot: give {model name: report}, such as "
                          "{'my model': evaluation.score_real_handwriting(...)}")
    for position, report in enumerate(reports.values()):
        if not (isinstance(report, Mapping) and isinstance(report.get("by_writer"), Mapping)):
            raise ConfigError(_not_a_writers_report_message(position, len(reports)))
    if reference is not None and not _is_reference(reference):
        raise ConfigError(f"reference is a (label, accuracy) pair, the accuracy a share from 0 to 1, such as "
                          f"('MNIST test images', 0.992); not {reference!r}")
    first = reports[names[0]]["by_writer"]
    for name in names[1:]:
        if set(reports[name]["by_writer"]) != set(first):  # writers stay unnamed, in errors too
            raise ConfigError(_other_writers_message(names[0], name, first, reports[name]["by_writer"]))
    writers = worst_read_first({writer: figures["accuracy"] for writer, figures in first.items()})
    figure, ax = plt.subplots(figsize=(max(6.0, 0.32 * len(writers)), 3.6))
    positions = np.arange(len(writers))
    for name, marker in zip(names, cycle("os^Dv")):  # markers repeat: zip must not drop the sixth model
        accuracies = [reports[name]["by_writer"][writer]["accuracy"] * 100 for writer in writers]
        ax.plot(positions, accuracies, marker=marker, linestyle="-", label=name)
    if reference is not None:
        ax.axhline(reference[1] * 100, color="grey", linestyle="--", label=f"{reference[0]} ({reference[1]:.2%})")
    ax.set_xticks(positions)
    ax.set_xticklabels(ranked_labels(who, len(writers)), rotation=90, fontsize=7)
    # Within 0-100%, with room for a marker at either end: matplotlib's margin, or its padding of a single value
    # (every held-out student read perfectly), put ticks up to 106% on the projector.
    bottom, top = ax.get_ylim()
    room = ACCURACY_MARKER_ROOM * (top - bottom)
    ax.set_ylim(max(bottom, -room), min(top, 100 + room))
    ax.set_ylabel("accuracy (%)")
    ax.set_title(f"Accuracy per {who} (each {who}'s own digits)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    return _finish(figure, save_to)


def worst_read_first(accuracies: Mapping) -> list:
    """The keys of `accuracies` (writer or student -> accuracy), the worst read first, ties in the keys' order: the
    one order of every per-writer and per-student figure, table and rank ("student 1" is the worst read)."""
    return sorted(accuracies, key=lambda key: (accuracies[key], key))


def ranked_labels(who: str, count: int) -> list[str]:
    """"`who` 1" ... "`who` N": how writers and students appear, by rank in `worst_read_first`'s order, never by
    their ids."""
    return [f"{who} {rank}" for rank in range(1, count + 1)]


def _not_reports_by_name_message(reports) -> str:
    given = "one report alone" if isinstance(reports, Mapping) else f"a {type(reports).__name__}"
    return (f"give the reports by model name, {{'my model': evaluation.score_real_handwriting(...)}}, not {given}: "
            f"plots.plot_accuracy_by_writer({{'my model': report}}) draws one")


def _not_a_writers_report_message(position: int, count: int) -> str:
    # Neither the name nor the keys: given a report's own 'by_writer' by mistake, they would be writers' ids.
    return (f"report {position + 1} of {count} has no accuracies by writer ('by_writer'): give each model's whole "
            f"report, as evaluation.score_real_handwriting returns it, such as {{'my model': report}}")


def _is_reference(reference) -> bool:
    return (isinstance(reference, (tuple, list)) and len(reference) == 2 and is_number(reference[1])
            and 0 <= reference[1] <= 1)


def _other_writers_message(first_name: str, name: str, first: dict, other: dict) -> str:
    missing, extra = len(set(first) - set(other)), len(set(other) - set(first))
    return (f"{name!r} was scored on other writers than {first_name!r} (it lacks {missing} of theirs and has {extra} "
            f"others): score every model on the same digits to compare them writer by writer")


@_closed_if_drawing_fails
def plot_reliability_diagram(curves: dict, save_to=None) -> Figure:
    """Accuracy against confidence, bin by bin, for each named `calibration.ReliabilityCurve` (or for one curve
    alone): on the diagonal the percentages mean what they say; below it the model is overconfident. Empty bins
    are left out."""
    if isinstance(curves, ReliabilityCurve):
        curves = {"model": curves}
    if not hasattr(curves, "items"):
        raise ConfigError(f"give the reliability curves by name, {{name: calibration.reliability_curve(...)}}, or "
                          f"one curve alone; not a {type(curves).__name__}")
    # Checked before the figure is made: drawing would fail with an AttributeError on the first one that is not.
    for name, curve in curves.items():
        if not isinstance(curve, ReliabilityCurve):
            raise ConfigError(f"{name!r} is a {type(curve).__name__}, not a reliability curve: give "
                              f"{{name: calibration.reliability_curve(...)}} for each model")
    figure, ax = plt.subplots(figsize=(5.2, 4.6))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfectly calibrated")
    for (name, curve), marker in zip(curves.items(), cycle("os^D")):  # markers repeat; every curve is drawn
        filled = curve.counts > 0
        ax.plot(curve.confidence[filled], curve.accuracy[filled], marker=marker,
                label=f"{name} (ECE {curve.expected_calibration_error:.2%})")
    ax.set_xlabel("confidence (the probability of the answer)")
    ax.set_ylabel("accuracy of the answers given with it")
    ax.set_xlim(0, 1.01)
    ax.set_ylim(0, 1.01)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("Reliability diagram")
    return _finish(figure, save_to)


# ---------------------------------------------------------------- inside the network (notebooks 07 and 08)

HEAT_COLORMAP = "turbo"  # blue (cold) to red (hot), like most Grad-CAM pictures
SIGNED_COLORMAP = "RdBu_r"  # red for positive, blue for negative, white for zero


def checked_heat_maps(maps, what: str = "the heat maps") -> np.ndarray:
    """`maps`, heat maps or attributions laid over 28x28 pictures, as float64 (N, 28, 28): a batch as `GradCam` and
    `IntegratedGradients` give them, also with a model's channel axis (N, 28, 28, 1), or one map (28, 28); True/False
    (a region, such as `explain.hottest_region` marks) counts as 1 and 0. The one rule of what a map is, for
    `explain`'s measures and for the figures. Read as they are: they are no pixels (see `data.model_input`)."""
    given = np.asarray(maps)
    values = given[..., 0] if given.ndim in (3, 4) and given.shape[-3:] == (IMAGE_SIZE, IMAGE_SIZE, 1) else given
    if values.dtype.kind not in "biuf" or values.ndim not in (2, 3) or values.shape[-2:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ImageError(f"{what} must be 28x28 maps of numbers, (N, 28, 28) as GradCam and IntegratedGradients give "
                         f"them, or one (28, 28); not {given.dtype} values of shape {given.shape}")
    # NaN sorts as the hottest pixel, sums to a share of 0 and turns a whole overlay into NaN: a map computed wrongly
    # would pass for a cold one.
    if not np.isfinite(values).all():
        raise ImageError(f"{what} must be numbers, not NaN or infinity, which can be neither drawn nor measured: "
                         "check how they were computed")
    return values.astype(np.float64).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)


def _one_map(values, what: str) -> np.ndarray:
    """One map (28, 28) by `checked_heat_maps`' rule, also as it comes out of a batch of one, in its own type: a
    figure draws the float32 that the explanations computed, not a float64 copy that matplotlib would round
    differently."""
    maps = checked_heat_maps(values, what)
    if len(maps) != 1:
        raise ImageError(f"{what} must be one 28x28 picture, not an array of shape {np.shape(values)}")
    return maps[0].astype(np.asarray(values).dtype)


def _one_heat_map(heat, what: str) -> np.ndarray:
    """One heat map (`_one_map`) in [0, 1], as Grad-CAM gives them, as float32: the overlay's colour and opacity."""
    heat = _one_map(heat, what).astype(np.float32)
    # A little rounding past 1 is allowed: a map divided by its own peak may land a hair above it.
    if heat.min() < 0 or heat.max() > 1 + 1e-6:
        raise ImageError(f"{what} goes from {heat.min():.3g} to {heat.max():.3g}, but heat maps go from 0 to 1, as "
                         "GradCam gives them: for signed attributions (integrated gradients) use "
                         "plots.plot_attributions, and scale any other map to 0-1 first (divide by its largest value)")
    return np.clip(heat, 0, 1)


def heatmap_overlay(image: np.ndarray, heat: np.ndarray, strength: float = 0.75) -> np.ndarray:
    """The picture (28x28, white on black: MNIST's uint8 levels 0-255 or floats in [0, 1], also as a batch of one)
    with a heat map (same size, in [0, 1]) laid over it, its colour `strength` (0 to 1) strong where the heat is 1.

    Returns float32 RGB (28, 28, 3) in [0, 1]. Colour shows only where there is heat: cold parts keep the plain
    picture, so the strokes stay visible under the colour. The drawing pad's explain view shows the same picture.
    """
    if not (is_number(strength) and 0 <= strength <= 1):
        raise ConfigError(f"strength is how strongly the colour covers the picture where the heat is 1, a number from "
                          f"0 (not at all) to 1 (colour only), not {strength!r}")
    image = one_model_input(image, "laying maps over a picture")[0, ..., 0]
    heat = _one_heat_map(heat, "the heat map")
    grey = np.repeat(np.clip(image, 0, 1)[..., None], 3, axis=2)
    colours = matplotlib.colormaps[HEAT_COLORMAP](heat)[..., :3]
    opacity = strength * heat[..., None]
    return ((1 - opacity) * grey + opacity * colours).astype(np.float32)


def _symmetric_limit(values: np.ndarray) -> float:
    return float(np.abs(values).max()) or 1.0


def _is_layer_view(value) -> bool:
    return _has_fields(value, "name", "maps", "filters", "input_maps", "strongest")


def _not_layer_views_message(given) -> str:
    return ("plot_feature_maps shows what explain.feature_maps(model, image) gives: a list of the convolutions' "
            f"views, or one of them; not {_shortened(given)}")


@_closed_if_drawing_fails
def plot_feature_maps(layers: Sequence, per_layer: int = 8, save_to=None) -> Figure:
    """For every convolution layer (`explain.ConvLayerView`s, a list or one alone): its most active feature maps for
    this picture, each under the filter that made it (red: weights that want ink, blue: weights that want
    background).

    Each map is scaled to its own brightest pixel, so weak maps show their pattern too; 1x1 maps (single numbers)
    share one scale, so their brightness compares how strongly each filter responded.
    """
    if _is_layer_view(layers):
        layers = [layers]
    listed = list(layers) if np.iterable(layers) and not isinstance(layers, str) else [layers]
    if not all(map(_is_layer_view, listed)):
        raise ConfigError(_not_layer_views_message(layers))
    if not listed:
        raise ConfigError("no layers to show: give what explain.feature_maps(model, image) gives")
    strongest = [layer.strongest(per_layer) for layer in listed]  # checks per_layer before the figure exists
    figure = plt.figure(figsize=(per_layer * 1.05, len(listed) * 2.45))
    grid = figure.add_gridspec(3 * len(listed), per_layer, height_ratios=[0.28, 1, 1] * len(listed))
    for index, (layer, shown) in enumerate(zip(listed, strongest)):
        height, width, count = layer.maps.shape
        limit = _symmetric_limit(layer.filters[..., shown])
        label = figure.add_subplot(grid[3 * index, :])
        label.set_axis_off()
        kernel = "x".join(map(str, layer.filters.shape[:2]))
        reads = "the picture" if layer.input_maps == 1 else f"{layer.input_maps} maps"
        label.text(0, 0, f"{layer.name}: {count} filters of {kernel}, each reading {reads}; feature maps of "
                   f"{height}x{width}", fontsize=9, va="bottom")
        for column, channel in enumerate(shown):
            kernel_ax = figure.add_subplot(grid[3 * index + 1, column])
            map_ax = figure.add_subplot(grid[3 * index + 2, column])
            _hide_axes([kernel_ax, map_ax])
            kernel_ax.imshow(layer.filters[..., channel], cmap=SIGNED_COLORMAP, vmin=-limit, vmax=limit)
            feature_map = layer.maps[..., channel]
            peak = layer.maps.max() if height * width == 1 else feature_map.max()
            map_ax.imshow(feature_map, cmap="magma", vmin=0, vmax=float(peak) or 1.0)
    return _finish(figure, save_to)


def _picture_and_panels(image: np.ndarray, caption: str, panels: int, panel_width: float = 2.2):
    """A row of frameless axes: the picture (28x28 in [0, 1]) under `caption`, then `panels` more; returns the
    figure and those further axes."""
    if panels < 1:  # one axis alone is no array of axes, and a figure of the picture alone explains nothing
        raise ConfigError("nothing to plot beside the picture: give at least one map, as {name: 28x28 array}")
    figure, axes = plt.subplots(1, panels + 1, figsize=(panel_width * (panels + 1), 2.6))
    _hide_axes(axes)
    axes[0].imshow(image, cmap="gray", vmin=0, vmax=1)
    axes[0].set_title(caption, fontsize=9)
    return figure, axes[1:]


def _maps_by_name(maps, kind: str, example: str) -> Mapping:
    """`maps`, {title: map}; a ConfigError for anything else, such as the array of maps itself."""
    if not isinstance(maps, Mapping):
        raise ConfigError(f"give the {kind} by name, {{title: one 28x28 map}}, such as {example}; not a "
                          f"{type(maps).__name__}")
    return maps


@_closed_if_drawing_fails
def plot_heatmaps(image: np.ndarray, heatmaps: dict[str, np.ndarray], title: str | None = None,
                  save_to=None) -> Figure:
    """The picture (as `heatmap_overlay` takes it), then each heat map (in [0, 1], e.g. Grad-CAM) laid over it, under
    its title.

    Each map is drawn as given, 1 in full red: maps shown side by side for comparison must share one scale, as
    `GradCam` gives one picture's maps for several classes; maps scaled each to its own peak all look equally hot."""
    image = one_model_input(image, "laying maps over a picture")[0, ..., 0]
    heatmaps = _maps_by_name(heatmaps, "heat maps", "{'Grad-CAM': heat[0]}")
    # Every map checked, and named in the error, before the figure is made.
    overlays = {name: heatmap_overlay(image, _one_heat_map(heat, f"the heat map {name!r}"))
                for name, heat in heatmaps.items()}
    figure, axes = _picture_and_panels(image, "input", len(overlays))
    for ax, (name, overlay) in zip(axes, overlays.items()):
        ax.imshow(overlay)
        ax.set_title(name, fontsize=9)
    if title:
        figure.suptitle(title, fontsize=10)
    return _finish(figure, save_to)


@_closed_if_drawing_fails
def plot_attributions(image: np.ndarray, attributions: dict[str, np.ndarray], title: str | None = None,
                      save_to=None) -> Figure:
    """Signed attributions (e.g. integrated gradients), red for pixels that raised the class's score and blue for
    those that lowered it, with the digit's outline drawn over them. The picture as `heatmap_overlay` takes it."""
    image = one_model_input(image, "laying maps over a picture")[0, ..., 0]
    attributions = _maps_by_name(attributions, "attributions", "{'integrated gradients': attributions[0]}")
    # Every map checked, and named in the error, before the figure is made.
    attributions = {name: _one_map(values, f"the attributions {name!r}") for name, values in attributions.items()}
    figure, axes = _picture_and_panels(image, "input", len(attributions))
    for ax, (name, attribution) in zip(axes, attributions.items()):
        limit = _symmetric_limit(attribution)
        ax.imshow(attribution, cmap=SIGNED_COLORMAP, vmin=-limit, vmax=limit)
        ax.contour(image, levels=[0.5], colors="black", linewidths=0.6)
        ax.set_title(name, fontsize=9)
    if title:
        figure.suptitle(title, fontsize=10)
    return _finish(figure, save_to)


@_closed_if_drawing_fails
def plot_occlusion(occlusion, save_to=None) -> Figure:
    """An `explain.OcclusionMap`: how much covering each part costs the answer, and what the answer becomes."""
    if not _has_fields(occlusion, "image", "digit", "probability", "drop", "centres", "answers"):
        raise ConfigError(f"plot_occlusion shows what explain.occlusion_map(model, image) gives, not "
                          f"{_shortened(occlusion)}")
    figure, (lost, answers) = _picture_and_panels(
        occlusion.image, f"input: {occlusion.digit} ({occlusion.probability:.0%})", 2, panel_width=3.0)
    shown = lost.imshow(occlusion.drop, cmap="magma", vmin=0, vmax=max(float(occlusion.drop.max()), 0.01))
    lost.contour(occlusion.image, levels=[0.5], colors="white", linewidths=0.6)
    figure.colorbar(shown, ax=lost, fraction=0.046, pad=0.04)
    lost.set_title(f"probability of {occlusion.digit} lost\nwhen this part is covered", fontsize=9)
    answers.imshow(occlusion.image, cmap="gray", vmin=0, vmax=1, alpha=0.45)
    for (row, column), answer in zip(occlusion.centres.reshape(-1, 2), occlusion.answers.ravel()):
        if answer != occlusion.digit:
            answers.text(column, row, str(answer), ha="center", va="center", fontsize=7, color="firebrick",
                         fontweight="bold")
    answers.set_title("the answer when a square\nis centred here (where it changes)", fontsize=9)
    return _finish(figure, save_to)


def _is_robustness_curve(value) -> bool:
    return _has_fields(value, "name", "epsilons", "accuracies", "images")


def _not_curves_message(given) -> str:
    return ("give the robustness curves to plot as a list of attacks.RobustnessCurve, such as "
            f"[attacks.accuracy_under_attack(model, images, labels)], or one curve alone; not {_shortened(given)}")


@_closed_if_drawing_fails
def plot_accuracy_vs_epsilon(curves: Sequence, published: dict[float, tuple[float, float]] | None = None,
                             save_to=None) -> Figure:
    """Accuracy on FGSM pictures against ε for each `attacks.RobustnessCurve` (a list, or one curve alone), with
    published ranges as bars. The title counts the test images when every curve was measured on as many; otherwise
    each curve's label says its own count."""
    if _is_robustness_curve(curves):
        curves = [curves]
    listed = list(curves) if np.iterable(curves) else [curves]
    if not all(map(_is_robustness_curve, listed)):
        raise ConfigError(_not_curves_message(curves))
    curves = listed
    if not curves:
        raise ConfigError("no robustness curves to plot: give a list of attacks.RobustnessCurve, e.g. "
                          "[attacks.accuracy_under_attack(model, images, labels)]")
    same_images = len({curve.images for curve in curves}) == 1
    figure, ax = plt.subplots(figsize=(6.5, 3.6))
    for curve in curves:
        ax.plot(curve.epsilons, np.array(curve.accuracies) * 100, "o-",
                label=curve.name if same_images else f"{curve.name} ({curve.images:,} test images)")
    if published:
        for index, (epsilon, (low, high)) in enumerate(sorted(published.items())):
            ax.plot([epsilon, epsilon], [low * 100, high * 100], color="grey", linewidth=6, alpha=0.5,
                    solid_capstyle="butt", label="published, small MNIST CNNs" if index == 0 else None)
    ax.set_xlabel("ε (how far every pixel may move; pixels run from 0 to 1)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"Accuracy under FGSM attack ({curves[0].images:,} test images)" if same_images else
                 "Accuracy under FGSM attack")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _finish(figure, save_to)


@_closed_if_drawing_fails
def plot_adversarial_example(example, save_to=None) -> Figure:
    """An `attacks.AdversarialExample`: the picture, the change the attack added, and the attacked picture."""
    if example is None:  # what attacks.smallest_fooling_epsilon returns when no ε changes the answer
        raise ConfigError("nothing fooled the model at these epsilons: attacks.smallest_fooling_epsilon gives None "
                          "when no ε it tries changes the answer. Show the attack at an ε of your choice instead: "
                          "plots.plot_adversarial_example(attacks.attack(model, image, 0.1))")
    if not _has_fields(example, "original", "adversarial", "perturbation", "epsilon", "digit_before", "digit_after",
                       "confidence_after", "fooled"):
        raise ConfigError(f"plot_adversarial_example shows what attacks.attack(model, image, epsilon) gives, not "
                          f"{_shortened(example)}")
    figure, (change, attacked) = _picture_and_panels(example.original, f"original: {example.digit_before}", 2)
    limit = max(example.epsilon, 1e-6)
    change.imshow(example.perturbation, cmap=SIGNED_COLORMAP, vmin=-limit, vmax=limit)
    change.set_title(f"change: ±{example.epsilon:g} per pixel", fontsize=9)
    attacked.imshow(example.adversarial, cmap="gray", vmin=0, vmax=1)
    colour = "firebrick" if example.fooled else "black"
    attacked.set_title(f"attacked: {example.digit_after} ({example.confidence_after:.0%})", fontsize=9, color=colour)
    return _finish(figure, save_to)

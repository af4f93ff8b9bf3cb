"""The plain-text tables the notebooks print: arrays, class counts, training settings, a model's parameters.

Plain text without absolute paths or timings, so that stored notebook outputs are readable, diff-free and
stable under nbval.
"""
from __future__ import annotations

import dataclasses
import inspect
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .data import NUM_CLASSES, images_per_digit, validation_count
from .errors import ConfigError
from .values import is_whole_number

# The output column of a layer whose output shape is not known.
UNKNOWN_OUTPUT = "?"
# What the weights of a batch normalisation do, by their Keras names.
BATCH_NORM_WEIGHTS = {"gamma": "scale", "beta": "shift", "moving_mean": "mean", "moving_variance": "variance"}


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]], right_align: Sequence[bool]) -> str:
    """Columns padded to their widest cell, two spaces apart, a rule under the header."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]

    def line(cells):
        parts = [str(c).rjust(w) if right else str(c).ljust(w) for c, w, right in zip(cells, widths, right_align)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def array_summary(*unnamed, **arrays: np.ndarray) -> str:
    """One line per named array: shape, dtype and value range. `array_summary(x_train=x, y_train=y)`."""
    if unnamed:  # the table names each row, and an array has no name of its own
        raise ConfigError(f"array_summary shows arrays each given by name, such as "
                          f"array_summary(x_train=data.x_train); {len(unnamed)} given without a name")
    rows = []
    for name, array in arrays.items():
        array = _array_of_numbers(name, array)
        low, high = (array.min(), array.max()) if array.size else ("-", "-")
        if array.size and np.issubdtype(array.dtype, np.floating):  # "-" for an empty array is no number
            low, high = f"{low:.3g}", f"{high:.3g}"
        shape = "(" + ", ".join(f"{n:,}" for n in array.shape) + ("," if array.ndim == 1 else "") + ")"
        rows.append([name, shape, str(array.dtype), str(low), str(high)])
    return format_table(["array", "shape", "dtype", "min", "max"], rows, [False, False, False, True, True])


def _array_of_numbers(name: str, values) -> np.ndarray:
    """`values` as an array of numbers (True and False count); a ConfigError names what it is instead."""
    try:
        array = np.asarray(values)
    except ValueError:
        given = "has rows of different lengths"
    else:
        if array.dtype.kind in "biuf":
            return array
        given = f"is an array of {array.dtype}" if isinstance(values, np.ndarray) else f"is {reprlib.repr(values)}"
    raise ConfigError(f"array_summary shows arrays of numbers, such as array_summary(x_train=data.x_train); {name} "
                      f"{given}")


def class_count_table(train_labels: np.ndarray, test_labels: np.ndarray) -> str:
    """Images per digit in the training and test sets, with each digit's share in percent."""
    train_counts = images_per_digit(train_labels, "training images to count")
    test_counts = images_per_digit(test_labels, "test images to count")
    rows = [
        [str(d), f"{train_counts[d]:,}", f"{train_counts[d] / train_counts.sum():.1%}",
         f"{test_counts[d]:,}", f"{test_counts[d] / test_counts.sum():.1%}"]
        for d in range(len(train_counts))
    ]
    rows.append(["all", f"{train_counts.sum():,}", "100.0%", f"{test_counts.sum():,}", "100.0%"])
    return format_table(["digit", "train", "share", "test", "share"], rows, [False, True, True, True, True])


def config_table(config, skip: Sequence[str] = ()) -> str:
    """Every setting of a TrainConfig with its value and the explanation stored with the setting."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise ConfigError(f"config_table shows a settings object, such as TrainConfig() or FineTuneSettings(), not "
                          f"{reprlib.repr(config)}")
    rows = [
        [setting.name, repr(getattr(config, setting.name)), setting.metadata.get("help", "")]
        for setting in dataclasses.fields(config)
        if setting.name not in skip
    ]
    return format_table(["setting", "value", "meaning"], rows, [False, False, False])


def describe_run_length(config, total_train_images: int) -> str:
    """One sentence: how many epochs on how many images this configuration (a `TrainConfig`) trains, of
    `total_train_images` MNIST training images (validation included), and the real handwriting it adds."""
    # Here, not at the top: notebook 01 uses this module without TensorFlow, and whoever has a TrainConfig to
    # describe has loaded it already.
    from .training import check_train_config, real_handwriting_per_digit

    # Anything else was a raw AttributeError, and the class itself (without brackets) was read as its defaults.
    check_train_config(config)
    # A negative count printed as "all -90 training images", a fraction as "54,000.5" and text failed in arithmetic.
    if not (is_whole_number(total_train_images) and total_train_images >= 1):
        raise ConfigError(f"total_train_images is how many training images there are, validation included, a whole "
                          f"number, 1 or more, such as len(data.y_train); not {total_train_images!r}")
    available = total_train_images - validation_count(total_train_images, config.validation_fraction)
    used = min(config.max_train_samples or available, available)
    epochs = f"{config.epochs} epoch" + ("s" if config.epochs != 1 else "")
    images = "training images" if config.real_handwriting == "none" else "MNIST training images"
    images = f"{used:,} of the {available:,} {images}" if used < available else f"all {available:,} {images}"
    kind = "QUICK run" if config.is_quick else "Subset run" if used < available else "Full run"
    if config.real_handwriting == "none":
        return f"{kind}: up to {epochs} on {images}."
    # The number of UNIPEN's training digits is not known without reading them, which takes seconds.
    drawings = f"{config.handwriting_copies} drawing" + ("s" if config.handwriting_copies != 1 else "")
    per_digit = real_handwriting_per_digit(config)
    digits = ("every digit" if per_digit is None else
              f"each of up to {NUM_CLASSES * per_digit:,} digits (at most {per_digit:,} of each digit)")
    return f"{kind}: up to {epochs} on {images}, and {drawings} of {digits} by UNIPEN's training writers."


@dataclass(frozen=True)
class LayerRow:
    name: str
    kind: str
    output_shape: str
    parameters: int
    formula: str


@dataclass(frozen=True)
class ParameterTable:
    """Layer-by-layer parameter counts of a Keras model, each with the formula that gives it."""

    rows: tuple[LayerRow, ...]
    total: int
    trainable: int

    def __str__(self) -> str:
        body = [[r.name, r.kind, r.output_shape, f"{r.parameters:,}", r.formula] for r in self.rows]
        body.append(["total", "", "", f"{self.total:,}", f"({self.trainable:,} trainable)"])
        table = format_table(["layer", "type", "output", "parameters", "how they add up"], body,
                              [False, False, False, True, False])
        if any(row.output_shape == UNKNOWN_OUTPUT for row in self.rows):
            table += (f"\n{UNKNOWN_OUTPUT}: a model written as a subclass of keras.Model shows no output shapes; one "
                      "made of keras.Input(shape=(28, 28, 1)) and layers does")
        return table


def _shape_text(shape) -> str:
    dims = [d for d in shape[1:]]  # drop the batch axis
    return "×".join(str(d) for d in dims)


def _output_shape_text(layer) -> str:
    try:
        return _shape_text(layer.output.shape)
    except AttributeError:  # a layer of a model written as a subclass of keras.Model has no symbolic output
        return UNKNOWN_OUTPUT


def _parameter_formula(layer) -> str:
    kind = layer.__class__.__name__
    weights = {w.name: tuple(w.shape) for w in layer.weights}
    if not layer.weights:
        return "no weights"
    if kind == "Conv2D" and "kernel" in weights:
        kh, kw, c_in, c_out = weights["kernel"]
        bias = f" + {c_out}" if "bias" in weights else ""
        return f"{kh}×{kw}×{c_in}×{c_out}{bias}  (kernel{' + bias' if bias else ''})"
    if kind == "Dense" and "kernel" in weights:
        n_in, n_out = weights["kernel"]
        bias = f" + {n_out}" if "bias" in weights else ""
        return f"{n_in:,}×{n_out}{bias}  (weights{' + bias' if bias else ''})"
    if kind == "BatchNormalization":
        return _batch_norm_formula(layer)
    # Every weight, not one per name: a model used as a layer holds a kernel and a bias of each of its layers.
    return " + ".join("×".join(str(d) for d in w.shape) or "1" for w in layer.weights)


def _batch_norm_formula(layer) -> str:
    """"4×32  (scale, shift trainable; mean, variance not)": counted from the weights the layer has, which a layer
    built without its shift or scale (center=False, scale=False) or frozen does not share with the usual one."""
    channels = layer.weights[0].shape[-1]
    trainable = [BATCH_NORM_WEIGHTS.get(w.name, w.name) for w in layer.weights if w.trainable]
    fixed = [BATCH_NORM_WEIGHTS.get(w.name, w.name) for w in layer.weights if not w.trainable]
    if trainable and fixed:
        kinds = f"{', '.join(trainable)} trainable; {', '.join(fixed)} not"
    else:
        kinds = f"{', '.join(trainable or fixed)} {'trainable' if trainable else 'not trainable'}"
    return f"{len(layer.weights)}×{channels}  ({kinds})"


def parameter_table(model) -> ParameterTable:
    """The model's layers with output shape, parameter count and the arithmetic behind each count."""
    if not (hasattr(model, "layers") and hasattr(model, "count_params")):
        raise ConfigError(f"parameter_table takes a Keras model, such as build_model('numvision_cnn') or a loaded "
                          f"one, not a {type(model).__name__}")
    if not model.built:  # its layers have no shapes yet, and Keras' AttributeError says only "never been called"
        raise ConfigError("this model has no shapes yet, so its parameters are not counted: build it first, with "
                          "model.build((None, 28, 28, 1)), or start it with keras.Input(shape=(28, 28, 1))")
    rows = []
    for layer in model.layers:
        if layer.__class__.__name__ == "InputLayer":
            continue
        rows.append(LayerRow(layer.name, layer.__class__.__name__, _output_shape_text(layer),
                             int(layer.count_params()), _parameter_formula(layer)))
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    return ParameterTable(tuple(rows), int(model.count_params()), trainable)


def source_code(function: Callable) -> str:
    """The Python source that defines `function`, e.g. the Keras code of an architecture for notebook 03."""
    try:
        return inspect.getsource(function).rstrip()
    except (TypeError, OSError):  # a name in quotes, a built-in, or a function whose file is gone
        raise ConfigError(f"no Python source to show for {function!r}: give the function itself, without quotes "
                          "or brackets, e.g. source_code(build_numvision_cnn)") from None


def real_handwriting_table(reports: dict[str, dict], section: str = "by_digit") -> str:
    """Models side by side on one section (by_digit, by_rendering, by_institution) of their real-handwriting
    reports (`evaluation.score_real_handwriting`): accuracy and how many drawings each row holds. The reports must
    have been measured on the same drawings: one column of counts stands for them all."""
    if not isinstance(reports, Mapping) or "samples" in reports:
        given = "one report alone" if isinstance(reports, Mapping) else f"a {type(reports).__name__}"
        raise ConfigError(f"give the reports by model name, {{model name: its score_real_handwriting report}}, not "
                          f"{given}: real_handwriting_table({{'my model': report}}) shows one")
    if not reports:
        raise ConfigError("no reports to compare: give {model name: its score_real_handwriting report}")
    names = list(reports)
    for name, report in reports.items():
        if not (isinstance(report, Mapping) and "accuracy" in report and "samples" in report):
            raise ConfigError(_not_a_report_message(name, report))
    first = reports[names[0]]
    sections = [key for key in first if key.startswith("by_")]
    if section not in sections or any(section not in reports[name] for name in names[1:]):
        raise ConfigError(f"these reports have no section {section!r}: choose one of {', '.join(sections)}")
    drawings = {name: _drawings(report) for name, report in reports.items()}
    if any(drawings[name] != drawings[names[0]] for name in names[1:]):
        raise ConfigError(_different_drawings_message(drawings))
    rows = [[key, f"{row['samples']:,}", *(f"{reports[name][section][key]['accuracy']:.1%}" for name in names)]
            for key, row in first[section].items()]
    rows.append(["all", f"{first['samples']:,}", *(f"{reports[name]['accuracy']:.1%}" for name in names)])
    return format_table([section.removeprefix("by_"), "drawings", *names], rows, [False, True, *(True for _ in names)])


def _drawings(report: Mapping) -> dict:
    """What a report was measured on: how many drawings in all and in each row of every section (digits,
    renderings, institutions, writers). Two reports that agree on these scored the same drawings."""
    return {"samples": report["samples"], **{section: {key: row["samples"] for key, row in rows.items()}
                                             for section, rows in report.items() if section.startswith("by_")}}


def _not_a_report_message(name: str, report) -> str:
    return (f"{name!r} is not a real-handwriting report (a {type(report).__name__} without 'accuracy' and "
            f"'samples'): give each model's whole report, as evaluation.score_real_handwriting returns it, such as "
            f"{{'my model': report}}")


def _different_drawings_message(drawings: dict[str, dict]) -> str:
    counts = ", ".join(f"{name!r}: {measured['samples']:,}" for name, measured in drawings.items())
    first, *others = drawings.values()
    if all(measured["samples"] == first["samples"] for measured in others):
        differing = [section for section in first if any(measured.get(section) != first[section] for measured in others)]
        counts += f", as many but not the same {differing[0].removeprefix('by_')}s" if differing else ""
    return (f"the reports were measured on different drawings ({counts}), so one column of drawings cannot stand "
            f"for them all: score every model on the same rendered digits, evaluate_on_real_handwriting(model, "
            f"rendered) with the same `rendered`")

"""Small helpers for the classroom notebooks (01–04): tables, a speed check, and where models are found.

The notebooks stay thin: anything longer than a couple of lines lives here, tested. Everything printed is
plain text without absolute paths or timings unless the function is explicitly about time (the speed check),
so that notebook outputs are readable, diff-free and stable under nbval.
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .errors import DataError, ModelFileError
from .paths import MODELS_DIR, PROJECT_ROOT

# Models trained in the notebooks go here, never over the shipped models in models/. The folder carries
# its own .gitignore, so students' experiments are not committed by accident. The notebook tests point
# NUMVISION_MY_MODELS_DIR at a scratch folder, so that `make test` never replaces a student's model.
MY_MODELS_DIR = Path(os.environ.get("NUMVISION_MY_MODELS_DIR") or PROJECT_ROOT / "my_models")
SHIPPED_REFERENCE_MODEL = MODELS_DIR / "numvision_cnn.keras"
BACKWARD_TO_FORWARD_COST = 2  # a backward pass costs about twice the forward pass (as in model.training_flops_per_image)


# --------------------------------------------------------------------------------------------- paths
def project_relative(path: str | os.PathLike) -> str:
    """`path` as a short, machine-independent string: relative to the project folder when inside it."""
    path = Path(path)
    if not path.is_absolute():
        return path.as_posix()
    try:
        return path.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return f"…/{path.parent.name}/{path.name}" if path.parent.name else path.name


def my_model_path(architecture: str = "numvision_cnn", my_models_dir: str | os.PathLike = MY_MODELS_DIR) -> Path:
    """Where notebook 03 saves the model it trains: my_models/my_<architecture>.keras."""
    return Path(my_models_dir) / f"my_{architecture}.keras"


# --------------------------------------------------------------------------------------------- tables
def _format_table(header: Sequence[str], rows: Sequence[Sequence[str]], right_align: Sequence[bool]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]

    def line(cells):
        parts = [str(c).rjust(w) if right else str(c).ljust(w) for c, w, right in zip(cells, widths, right_align)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def array_summary(**arrays: np.ndarray) -> str:
    """One line per named array: shape, dtype and value range. `array_summary(x_train=x, y_train=y)`."""
    rows = []
    for name, array in arrays.items():
        array = np.asarray(array)
        low, high = (array.min(), array.max()) if array.size else ("-", "-")
        if np.issubdtype(array.dtype, np.floating):
            low, high = f"{low:.3g}", f"{high:.3g}"
        shape = "(" + ", ".join(f"{n:,}" for n in array.shape) + ("," if array.ndim == 1 else "") + ")"
        rows.append([name, shape, str(array.dtype), str(low), str(high)])
    return _format_table(["array", "shape", "dtype", "min", "max"], rows, [False, False, False, True, True])


def class_count_table(train_labels: np.ndarray, test_labels: np.ndarray) -> str:
    """Images per digit in the training and test sets, with each digit's share in percent."""
    train_counts = np.bincount(train_labels, minlength=10)
    test_counts = np.bincount(test_labels, minlength=10)
    rows = [
        [str(d), f"{train_counts[d]:,}", f"{train_counts[d] / train_counts.sum():.1%}",
         f"{test_counts[d]:,}", f"{test_counts[d] / test_counts.sum():.1%}"]
        for d in range(len(train_counts))
    ]
    rows.append(["all", f"{train_counts.sum():,}", "100.0%", f"{test_counts.sum():,}", "100.0%"])
    return _format_table(["digit", "train", "share", "test", "share"], rows, [False, True, True, True, True])


# Short explanations of TrainConfig fields, shown beside their values in notebook 03.
CONFIG_EXPLANATIONS = {
    "architecture": "which network to build (see ARCHITECTURES)",
    "epochs": "maximum passes over the training images",
    "batch_size": "images per training step",
    "learning_rate": "size of each optimiser step",
    "optimizer": "adam, or sgd (with Nesterov momentum 0.9)",
    "dropout": "share of dense units switched off while training (None: the architecture's default)",
    "augmentation": "random changes to training images: none, geometric or drawing",
    "schedule": "how the learning rate changes: plateau (halve when stuck) or cosine",
    "precision": "number format for the maths; auto: what this machine does fastest",
    "validation_fraction": "share of the training images kept aside to choose the best epoch",
    "early_stopping_patience": "stop after this many epochs without a better validation loss",
    "reduce_lr_factor": "multiply the learning rate by this when progress stalls ...",
    "reduce_lr_patience": "... for this many epochs",
    "min_learning_rate": "never go below this learning rate",
    "max_train_samples": "train on a balanced subset of this size (None: all)",
    "seed": "one number that fixes every random choice",
    "deterministic": "bit-for-bit repeatable operations (slower)",
}


def config_table(config, skip: Sequence[str] = ()) -> str:
    """Every field of a TrainConfig (or any dataclass) with its value and a short explanation."""
    rows = [
        [field.name, repr(getattr(config, field.name)), CONFIG_EXPLANATIONS.get(field.name, "")]
        for field in dataclasses.fields(config)
        if field.name not in skip
    ]
    return _format_table(["setting", "value", "meaning"], rows, [False, False, False])


def describe_run_length(config, total_train_images: int, validation_fraction: float | None = None) -> str:
    """One sentence: how many epochs on how many images this configuration trains."""
    fraction = config.validation_fraction if validation_fraction is None else validation_fraction
    available = total_train_images - int(round(total_train_images * fraction))
    used = min(config.max_train_samples or available, available)
    epochs = f"{config.epochs} epoch" + ("s" if config.epochs != 1 else "")
    if used < available:
        return f"QUICK run: up to {epochs} on {used:,} of the {available:,} training images."
    return f"Full run: up to {epochs} on all {available:,} training images."


# --------------------------------------------------------------------------------------------- parameters
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
        return _format_table(["layer", "type", "output", "parameters", "how they add up"], body,
                             [False, False, False, True, False])


def _shape_text(shape) -> str:
    dims = [d for d in shape[1:]]  # drop the batch axis
    return "×".join(str(d) for d in dims)


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
        channels = layer.weights[0].shape[-1]
        return f"4×{channels}  (scale, shift trainable; mean, variance not)"
    return " + ".join("×".join(str(d) for d in shape) for shape in weights.values())


def parameter_table(model) -> ParameterTable:
    """The model's layers with output shape, parameter count and the arithmetic behind each count."""
    rows = []
    for layer in model.layers:
        if layer.__class__.__name__ == "InputLayer":
            continue
        rows.append(LayerRow(layer.name, layer.__class__.__name__, _shape_text(layer.output.shape),
                             int(layer.count_params()), _parameter_formula(layer)))
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    return ParameterTable(tuple(rows), int(model.count_params()), trainable)


def training_flops_per_image(model) -> int:
    """Forward plus backward pass for one image (about three times the forward cost); see model.py."""
    from .model import training_flops_per_image as model_training_flops

    return int(round(model_training_flops(model)))


def forward_flops_per_image(model) -> int:
    """Floating-point operations of one forward pass of one image, counting Conv2D and Dense layers
    (one multiply and one add per weight use). Pooling, activations and the rest are comparatively free."""
    return int(round(training_flops_per_image(model) / (1 + BACKWARD_TO_FORWARD_COST)))


# --------------------------------------------------------------------------------------------- speed
@dataclass(frozen=True)
class TrainingSpeed:
    """The result of `measure_training_speed`; str() gives a short report."""

    batch_size: int
    steps: int
    seconds_per_step: float
    flops_per_image: int

    @property
    def images_per_second(self) -> float:
        return self.batch_size / self.seconds_per_step

    @property
    def gflops_per_second(self) -> float:
        return self.images_per_second * self.flops_per_image / 1e9

    def seconds_per_epoch(self, images: int = 54_000) -> float:
        return images / self.images_per_second

    def __str__(self) -> str:
        return "\n".join([
            f"Training speed: {self.images_per_second:,.0f} images per second "
            f"({self.seconds_per_step * 1000:.0f} ms per step of {self.batch_size} images, median of {self.steps} steps)",
            f"One epoch of 54,000 images would take about {self.seconds_per_epoch():.0f} s",
            f"Arithmetic: {self.flops_per_image / 1e6:.0f} MFLOP per image -> about {self.gflops_per_second:.0f} GFLOP/s",
        ])


def measure_training_speed(model=None, batch_size: int = 128, steps: int = 20, warmup_steps: int = 3,
                           seed: int = 42) -> TrainingSpeed:
    """Time real training steps (forward, backward and weight update) on random images; see
    `hardware.median_step_seconds`. `model` defaults to a fresh reference CNN; its weights change."""
    from .hardware import median_step_seconds

    if model is None:
        from .model import build_numvision_cnn

        model = build_numvision_cnn()
    (seconds_per_step,) = median_step_seconds([model], batch_size, steps, warmup_steps, seed)
    return TrainingSpeed(batch_size, steps, seconds_per_step, training_flops_per_image(model))


# --------------------------------------------------------------------------------------------- models
@dataclass(frozen=True)
class ModelChoice:
    """Which model notebook 04 evaluates, and why."""

    path: Path
    trained_in_notebook: bool
    reason: str

    def __str__(self) -> str:
        return f"Model: {project_relative(self.path)}\n{self.reason}"


def choose_model_to_evaluate(my_models_dir: str | os.PathLike = MY_MODELS_DIR,
                             shipped: str | os.PathLike = SHIPPED_REFERENCE_MODEL) -> ModelChoice:
    """The model most recently trained in notebook 03 (newest my_models/my_*.keras), else the shipped one."""
    my_models_dir, shipped = Path(my_models_dir), Path(shipped)
    trained = sorted(my_models_dir.glob("my_*.keras"), key=lambda p: p.stat().st_mtime) if my_models_dir.is_dir() else []
    if trained:
        newest = trained[-1]
        return ModelChoice(newest, True, "This is the model you trained in notebook 03 (the newest file in "
                                         f"{project_relative(my_models_dir)}/).")
    if shipped.is_file():
        return ModelChoice(shipped, False, f"No model trained in notebook 03 yet ({project_relative(my_models_dir)}/ "
                                           "has none), so we evaluate the model shipped with the project.")
    raise ModelFileError(
        f"No model to evaluate: nothing trained in {project_relative(my_models_dir)}/ and the shipped model "
        f"{project_relative(shipped)} is missing. Run notebook 03 first, or restore models/ from git."
    )


def model_card_summary(model_path: str | os.PathLike) -> str:
    """What the model card beside a .keras file says about the model (no paths, no timings)."""
    card_path = Path(model_path).with_suffix(".json")
    if not card_path.is_file():
        return f"No model card ({card_path.name}) beside the model file."
    card = json.loads(card_path.read_text(encoding="utf-8"))
    config, data, metrics = card.get("config", {}), card.get("data", {}), card.get("metrics", {})
    lines = [f"Architecture: {card.get('architecture', '?')}, {card.get('parameters', 0):,} parameters"]
    if data:
        lines.append(f"Trained on {data.get('train_images', 0):,} images "
                     f"({data.get('validation_images', 0):,} kept for validation)")
    if "epochs_run" in card:
        lines.append(f"Epochs run: {card['epochs_run']} of at most {config.get('epochs', '?')}; "
                     f"best epoch: {card.get('best_epoch', '?')}")
    for key, label in (("val_accuracy", "Validation accuracy"), ("test_accuracy", "Test accuracy (recorded)"),
                       ("drawn_accuracy", "Drawn-digit accuracy (recorded)")):
        if key in metrics:
            lines.append(f"{label}: {metrics[key]:.2%}")
        if key == "val_accuracy" and "batch_norm_calibration" in card:
            calibration = card["batch_norm_calibration"]
            lines.append(f"Batch normalisation calibrated on {calibration['images']:,} plain training images: "
                         f"validation accuracy {calibration['val_accuracy_before']:.2%} before, "
                         f"{calibration['val_accuracy_after']:.2%} after")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------- data
class MissingTestData(DataError):
    """Raised by `load_test_data` when MNIST cannot be found; notebooks show only its message."""


def load_test_data(data_dir: str | os.PathLike | None = None):
    """Load MNIST for evaluation, or stop with one clear message saying what is missing and how to fix it."""
    from .data import DATA_DIR_VARIABLE, load_mnist

    try:
        return load_mnist(data_dir)
    except DataError as error:
        raise MissingTestData(
            f"The MNIST test images are needed from here on, and they are not available:\n  {error}\n"
            f"Fix: set {DATA_DIR_VARIABLE} to a folder with the four MNIST IDX files (or connect to the internet "
            "so Keras can download them), restart the kernel and run all cells again. Everything above this "
            "cell needs only the model and has already worked."
        ) from None

"""Training with the seed's callbacks, a history log, atomic model files and resumption after interruption."""
from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._tensorflow import keras
from .data import MnistData, load_mnist, stratified_split, stratified_subset, to_model_input
from .errors import ConfigError
from .evaluation import predict_probabilities
from .hardware import precision_policy, recommended_precision, set_seeds
from .model import ARCHITECTURES, batch_norm_layers, build_model, calibrate_batch_norm, load_model, save_model
from .paths import MODELS_DIR, write_text_atomic
from .pipeline import AUGMENTATIONS, make_dataset

QUICK_MODE_VARIABLE = "NUMVISION_QUICK"
OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("plateau", "cosine")
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
# Several training steps per call into TensorFlow: the same maths, less Python overhead per batch.
STEPS_PER_EXECUTION = 8
# Plain training images that set the shipped model's batch normalisation statistics: enough for each
# channel's mean to four digits, and about ten seconds for numvision_plus on two cores.
BATCH_NORM_CALIBRATION_IMAGES = 10_000


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a training run. The defaults are the reference run's."""

    architecture: str = "numvision_cnn"
    epochs: int = 10
    batch_size: int = 128
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    dropout: float | None = None  # None: the architecture's own default
    augmentation: str = "none"
    schedule: str = "plateau"  # "plateau": ReduceLROnPlateau; "cosine": cosine decay over all epochs
    precision: str = "auto"  # "auto": what hardware.recommended_precision() picks for this machine
    validation_fraction: float = 0.1
    early_stopping_patience: int = 3
    reduce_lr_factor: float = 0.5
    reduce_lr_patience: int = 2
    min_learning_rate: float = 1e-7
    max_train_samples: int | None = None  # a stratified subset, for quick runs
    seed: int = 42
    deterministic: bool = False

    def __post_init__(self) -> None:
        problems = []
        if self.architecture not in ARCHITECTURES:
            problems.append(f"architecture must be one of {', '.join(sorted(ARCHITECTURES))}")
        if self.epochs < 1:
            problems.append("epochs must be at least 1")
        if self.batch_size < 1:
            problems.append("batch_size must be at least 1")
        if not 0 < self.learning_rate < 1:
            problems.append("learning_rate must be between 0 and 1")
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer must be one of {', '.join(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule must be one of {', '.join(SCHEDULES)}")
        if self.precision not in PRECISIONS:
            problems.append(f"precision must be one of {', '.join(PRECISIONS)}")
        if self.augmentation not in AUGMENTATIONS:
            problems.append(f"augmentation must be one of {', '.join(AUGMENTATIONS)}")
        if not 0 < self.validation_fraction < 0.5:
            problems.append("validation_fraction must be between 0 and 0.5")
        if self.dropout is not None and not 0 <= self.dropout < 1:
            problems.append("dropout must be in [0, 1)")
        if self.max_train_samples is not None and self.max_train_samples < 100:
            problems.append("max_train_samples must be at least 100")
        if problems:
            raise ConfigError("invalid TrainConfig: " + "; ".join(problems))

    @classmethod
    def quick(cls, **overrides) -> "TrainConfig":
        """One epoch on 3,000 images: enough to see every step work in well under a minute."""
        return cls(**{"epochs": 1, "max_train_samples": 3000, **overrides})

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def resolved_precision(self) -> str:
        return recommended_precision()[0] if self.precision == "auto" else self.precision


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
    resumed_from_epoch: int
    train_seconds: float
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


def build_for_config(config: TrainConfig, precision: str = "float32") -> keras.Model:
    """The configured architecture, built under `precision` without changing the global Keras policy."""
    options = {} if config.dropout is None else {"dropout": config.dropout}
    with precision_policy(precision):
        return build_model(config.architecture, **options)


def compile_model(config: TrainConfig, steps_per_epoch: int) -> keras.Model:
    model = build_for_config(config, config.resolved_precision())
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
        steps_per_execution=STEPS_PER_EXECUTION,
    )
    return model


def best_epoch_index(history: dict[str, list[float]]) -> int:
    """The epoch to keep: the highest validation accuracy, and among epochs that tie, the lowest validation loss.

    Validation accuracy moves in steps of one image, so epochs often tie; keeping the first of them, as Keras'
    ModelCheckpoint does, keeps the least trained one when the learning rate decays. The loss, measured on the
    same images, tells them apart.
    """
    scores = list(zip(history["val_accuracy"], (-loss for loss in history["val_loss"])))
    return scores.index(max(scores))


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


def _learning_rate_callbacks(config: TrainConfig) -> list[keras.callbacks.Callback]:
    if config.schedule == "cosine":
        return [LearningRateLogger()]
    # ReduceLROnPlateau logs the rate the epoch trained with itself, before it reduces it.
    return [
        keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss", factor=config.reduce_lr_factor, patience=config.reduce_lr_patience,
            min_lr=config.min_learning_rate,
        )
    ]


def _prepare_run_dir(run_dir: Path, config: TrainConfig) -> None:
    """Keep an interrupted run's backup only if it belongs to the same configuration."""
    config_file = run_dir / "config.json"
    config_text = json.dumps(config.to_dict(), indent=2, sort_keys=True)
    if run_dir.exists() and (not config_file.exists() or config_file.read_text(encoding="utf-8") != config_text):
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    config_file.write_text(config_text, encoding="utf-8")


def read_history_csv(path: Path) -> dict[str, list[float]]:
    """Per-epoch history from the CSV log; when a resumed run logged an epoch twice, the last row wins."""
    with open(path, newline="", encoding="utf-8") as stream:
        rows = {int(row["epoch"]): row for row in csv.DictReader(stream)}
    columns = list(next(iter(rows.values())).keys()) if rows else []
    history = {column: [float(rows[epoch][column]) for epoch in sorted(rows)] for column in columns}
    history["epoch"] = [int(epoch) for epoch in history.get("epoch", [])]
    return history


def write_history_csv(history: dict[str, list[float]], path: Path) -> Path:
    columns = list(history)
    lines = [",".join(columns)]
    lines += [",".join(f"{history[c][i]:.6g}" for c in columns) for i in range(len(history["epoch"]))]
    return write_text_atomic(path, "\n".join(lines) + "\n")


def library_versions() -> dict[str, str]:
    import platform

    import sklearn
    from ._tensorflow import tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
    }


def _calibrate_batch_norm_on_plain_images(model, config: TrainConfig, x_train, y_train, x_val, y_val) -> dict:
    """`calibrate_batch_norm` on un-augmented training images, with validation accuracy before and after.

    The checkpoint was chosen on the statistics of training; the card shows what calibrating did to it.
    """
    def validation_accuracy() -> float:
        return round(float((predict_probabilities(model, x_val).argmax(axis=1) == y_val).mean()), 6)

    if not batch_norm_layers(model):
        return {}
    before = validation_accuracy()
    calibration_images, _ = stratified_subset(x_train, y_train, BATCH_NORM_CALIBRATION_IMAGES, config.seed)
    calibrate_batch_norm(model, to_model_input(calibration_images))
    return {"images": int(len(calibration_images)), "val_accuracy_before": before,
            "val_accuracy_after": validation_accuracy()}


def train(
    config: TrainConfig = TrainConfig(),
    data: MnistData | None = None,
    output: str | os.PathLike = MODELS_DIR / "numvision_cnn.keras",
    callbacks: list[keras.callbacks.Callback] = (),
    verbose: int = 2,
) -> TrainingRun:
    """Train a model, keep the epoch with the best validation accuracy and publish it atomically at `output`.

    A model with batch normalisation gets its statistics from plain training images before it is published
    (`calibrate_batch_norm`); its card records validation accuracy before and after.

    Beside `output` go `<name>.json` (the model card) and `<name>.history.csv`. An interrupted run leaves its
    state in `<output folder>/.runs/<name>/`; calling `train` again with the same configuration and output
    resumes from the last finished epoch.
    """
    output = Path(output)
    if output.suffix != ".keras":
        raise ConfigError(f"{output}: the output model file must end in .keras")
    data = data if data is not None else load_mnist()
    precision = config.resolved_precision()  # before seeding: choosing may time a quick test of this machine
    set_seeds(config.seed, config.deterministic)
    x_train, y_train, x_val, y_val = _split_for_training(data, config)
    train_set = make_dataset(x_train, y_train, config.batch_size, True, config.augmentation, config.seed)
    validation_set = make_dataset(x_val, y_val, 512)

    run_dir = output.parent / ".runs" / output.stem
    _prepare_run_dir(run_dir, config)
    checkpoint_path = run_dir / "best.keras"
    history_log = run_dir / "history.csv"
    resumed_from_epoch = len(read_history_csv(history_log).get("epoch", [])) if history_log.exists() else 0

    steps_per_epoch = int(np.ceil(len(y_train) / config.batch_size))
    model = compile_model(config, steps_per_epoch)
    standard_callbacks = [
        keras.callbacks.BackupAndRestore(str(run_dir / "backup")),
        keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=config.early_stopping_patience, restore_best_weights=True
        ),
        *_learning_rate_callbacks(config),
        # After the callbacks that write into the logs (the learning rate), so that it records them.
        keras.callbacks.CSVLogger(str(history_log), append=True),
        BestEpochCheckpoint(checkpoint_path, history_log),
    ]
    started = time.perf_counter()
    model.fit(
        train_set,
        validation_data=validation_set,
        epochs=config.epochs,
        callbacks=standard_callbacks + list(callbacks),
        verbose=verbose,
        shuffle=False,  # the tf.data pipeline already shuffles, reproducibly from the seed
    )
    train_seconds = time.perf_counter() - started

    history = read_history_csv(history_log)
    best_index = best_epoch_index(history)
    # The shipped model always computes in float32: same weights, exact and portable predictions.
    best_model = build_for_config(config)
    best_model.set_weights(load_model(checkpoint_path).get_weights())
    calibration = _calibrate_batch_norm_on_plain_images(best_model, config, x_train, y_train, x_val, y_val)
    save_model(best_model, output)
    history_path = output.with_suffix(".history.csv")
    write_history_csv(history, history_path)
    card_path = output.with_suffix(".json")
    card = {
        "name": output.stem,
        "model_file": output.name,
        "architecture": config.architecture,
        "parameters": int(best_model.count_params()),
        "data": {
            "source": data.source,
            "train_images": int(len(y_train)),
            "validation_images": int(len(y_val)),
            "test_images": int(len(data.y_test)),
        },
        "config": config.to_dict(),
        "precision_used": precision,
        "epochs_run": len(history["epoch"]),
        "train_seconds": round(train_seconds, 1),
        "best_epoch": best_index + 1,
        "history_file": history_path.name,
        "versions": library_versions(),
        "metrics": {"val_accuracy": history["val_accuracy"][best_index]},
    }
    if calibration:
        card["batch_norm_calibration"] = calibration
    write_text_atomic(card_path, json.dumps(card, indent=2) + "\n")
    shutil.rmtree(run_dir, ignore_errors=True)
    if not any(run_dir.parent.iterdir()):
        run_dir.parent.rmdir()
    return TrainingRun(
        model=best_model,
        config=config,
        history=history,
        best_epoch=best_index + 1,
        best_val_accuracy=history["val_accuracy"][best_index],
        model_path=output,
        card_path=card_path,
        history_path=history_path,
        resumed_from_epoch=resumed_from_epoch,
        train_seconds=train_seconds,
        batch_norm_calibration=calibration,
    )


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

"""Model architectures, their cost in arithmetic, batch-norm calibration, batch prediction, and `.keras` files."""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

from ._tensorflow import keras, tf
from .calibration import checked_probabilities
from .data import MODEL_INPUT_SHAPE, NUM_CLASSES, answers, checked_labels, model_input
from .errors import ConfigError, ModelFileError, ModelStructureError
from .history import write_history_csv
from .model_card import CARD_SUFFIX, MODEL_FILE_EXAMPLE, ModelCard, is_digit_check_card, read_card
from .paths import (atomic_path, atomic_paths, check_replaceable, checked_path, how_to_replace_model,
                    missing_model_problem, project_relative)
from .prediction import BasePredictor, keras_model_of

# A backward pass costs about twice the forward pass: gradients for both the weights and the inputs.
BACKWARD_TO_FORWARD_COST = 2


def _classifier_head(x, num_classes: int):
    # float32 output even under a mixed-precision policy: softmax in float16 loses small probabilities.
    return keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="probabilities")(x)


def build_numvision_cnn(input_shape=MODEL_INPUT_SHAPE, num_classes: int = NUM_CLASSES, dropout: float = 0.5) -> keras.Model:
    """The reference CNN: three 3x3 convolutions with pooling, a 128-unit dense layer and dropout.

    458,570 trainable parameters for 28x28x1 inputs and ten classes.
    """
    inputs = keras.Input(shape=input_shape, name="image")
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = keras.layers.Conv2D(64, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.MaxPooling2D(2, name="pool2")(x)
    x = keras.layers.Conv2D(64, 3, padding="same", activation="relu", name="conv3")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(128, activation="relu", name="dense")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(inputs, _classifier_head(x, num_classes), name="numvision_cnn")


def _conv_bn_relu(x, filters: int, kernel: int, name: str, strides: int = 1, padding: str = "valid"):
    # No bias: batch normalisation's own shift makes it redundant.
    x = keras.layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False, name=name)(x)
    # momentum 0.9: the moving statistics settle within ~50 steps, so even one quick epoch evaluates well.
    x = keras.layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def build_numvision_plus(input_shape=MODEL_INPUT_SHAPE, num_classes: int = NUM_CLASSES, dropout: float = 0.4) -> keras.Model:
    """The stronger model: two blocks of batch-normalised convolutions that shrink 28x28 to 4x4, and a 4x4 head.

    Each block has two 3x3 convolutions and then a 5x5 convolution with stride 2 that halves the picture: a
    learned downsampling, where max pooling would only keep the strongest response of each 2x2 window. The
    blocks have 32 and 64 filters and end with dropout; a 4x4 convolution with 128 filters then sees the whole
    digit. About 330,000 parameters, fewer than the reference, but deeper, and trained with augmentation: that
    is what wins the last tenths of a percent (docs/benchmarks.md compares it with max pooling).
    """
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for block, filters in enumerate((32, 64), start=1):
        x = _conv_bn_relu(x, filters, 3, f"block{block}_conv1")
        x = _conv_bn_relu(x, filters, 3, f"block{block}_conv2")
        x = _conv_bn_relu(x, filters, 5, f"block{block}_downsample", strides=2, padding="same")
        x = keras.layers.Dropout(dropout, name=f"block{block}_dropout")(x)
    x = _conv_bn_relu(x, 128, 4, "head_conv")
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    return keras.Model(inputs, _classifier_head(x, num_classes), name="numvision_plus")


def build_numvision_cnn_bn(input_shape=MODEL_INPUT_SHAPE, num_classes: int = NUM_CLASSES, dropout: float = 0.5) -> keras.Model:
    """The reference CNN with batch normalisation after each convolution (notebook 03's exercise)."""
    inputs = keras.Input(shape=input_shape, name="image")
    x = _conv_bn_relu(inputs, 32, 3, "conv1", padding="same")
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = _conv_bn_relu(x, 64, 3, "conv2", padding="same")
    x = keras.layers.MaxPooling2D(2, name="pool2")(x)
    x = _conv_bn_relu(x, 64, 3, "conv3", padding="same")
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(128, activation="relu", name="dense")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(inputs, _classifier_head(x, num_classes), name="numvision_cnn_bn")


ARCHITECTURES: dict[str, Callable[..., keras.Model]] = {
    "numvision_cnn": build_numvision_cnn,
    "numvision_cnn_bn": build_numvision_cnn_bn,
    "numvision_plus": build_numvision_plus,
}


def forward_flops_per_image(model: keras.Model) -> int:
    """Floating-point operations of one forward pass of one image, counting Conv2D and Dense layers (one
    multiply and one add per weight use). Pooling, activations and the rest are comparatively free."""
    forward = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, height, width, filters = layer.output.shape
            kernel_height, kernel_width, channels, _ = layer.kernel.shape
            forward += 2 * height * width * kernel_height * kernel_width * channels * filters
        elif isinstance(layer, keras.layers.Dense):
            forward += 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
    return int(forward)


def training_flops_per_image(model: keras.Model) -> int:
    """Floating-point operations to train on one image: the forward pass and the backward pass."""
    return forward_flops_per_image(model) * (1 + BACKWARD_TO_FORWARD_COST)


def conv_layers(model: keras.Model) -> list[keras.layers.Conv2D]:
    """Every convolution of the model, counted from the picture."""
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def batch_norm_layers(model: keras.Model) -> list[keras.layers.BatchNormalization]:
    return [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]


def calibrate_batch_norm(model: keras.Model, images: np.ndarray, batch_size: int = 500) -> int:
    """Set every batch normalisation's moving statistics to the exact mean and variance over `images`.

    During training those statistics follow the last few augmented batches (momentum 0.9: about ten), but
    the model is then used on plain images: MNIST's, and drawings that preprocessing makes look like them.
    Layers are calibrated in order, each on what reaches it through the already calibrated ones, so the
    statistics are exactly those of inference. `images` are read as `data.checked_pixels` reads them: MNIST's
    uint8 images (`x_train`) as they are, or float32 in [0, 1] such as `to_model_input(x_train)`. Returns how many
    layers were calibrated (0 for a model without any).
    """
    images = model_input(images)  # statistics of 0-255 inputs would ruin the model without a word
    layers = batch_norm_layers(model)
    for layer in layers:
        reaching_layer = tf.function(keras.Model(model.inputs[0], layer.input))  # a graph: faster than eager calls
        sums, squared_sums, count = 0.0, 0.0, 0
        for start in range(0, len(images), batch_size):
            features = keras.ops.cast(reaching_layer(images[start:start + batch_size], training=False), "float32")
            all_but_channels = tuple(range(len(features.shape) - 1))
            # Per-batch sums in float32, accumulated in float64: ~10^8 values would lose digits in float32.
            sums += keras.ops.convert_to_numpy(keras.ops.sum(features, axis=all_but_channels)).astype(np.float64)
            squared_sums += keras.ops.convert_to_numpy(
                keras.ops.sum(features**2, axis=all_but_channels)).astype(np.float64)
            count += int(np.prod(features.shape[:-1]))
        mean = sums / count
        layer.moving_mean.assign(mean.astype(np.float32))
        layer.moving_variance.assign(np.maximum(squared_sums / count - mean**2, 0.0).astype(np.float32))
    return len(layers)


def _computes_softmax(layer: keras.layers.Layer) -> bool:
    """Whether `layer` ends in a softmax: its activation (Dense, Activation) or the layer itself (Softmax)."""
    return isinstance(layer, keras.layers.Softmax) or getattr(layer, "activation", None) is keras.activations.softmax


def softmax_head(model: keras.Model) -> keras.layers.Dense:
    """The model's last layer, which must be a Dense layer with a softmax: every NumVision architecture has one."""
    head = model.layers[-1]
    if not (isinstance(head, keras.layers.Dense) and _computes_softmax(head)):
        raise ModelStructureError(
            f"model {model.name!r} ends in {type(head).__name__} {head.name!r}, not in a Dense layer with a softmax; "
            "gradients of the class scores need one (every architecture in numvision_lib.model has it)")
    return head


def logits_function(model: keras.Model, layers=()) -> Callable:
    """A function images → (the outputs of `layers`, as a list; the class scores before the softmax).

    Gradient methods (explanations, attacks) need those scores, the logits: a softmax that is 99.99% sure has
    almost no gradient left, which would blank every explanation of a confident answer and blunt every attack.
    The function shares the model's weights and runs it in inference mode (no dropout, batch-norm statistics
    fixed). Call it inside a `tf.GradientTape` to take gradients with respect to the layers' outputs.
    """
    head = softmax_head(model)
    layers = list(layers)
    # inputs[0], not input: Keras 3 refuses `input` of a Sequential model ("has never been called").
    body = keras.Model(model.inputs[0], [*(layer.output for layer in layers), head.input])

    def scores(images):
        outputs = body(images, training=False)
        # A model with a single output returns a tensor, not a list of one.
        layer_outputs, penultimate = (outputs[:-1], outputs[-1]) if layers else ([], outputs)
        return layer_outputs, keras.ops.matmul(penultimate, head.kernel) + head.bias

    return scores


def input_gradient_function(model: keras.Model, objective: Callable) -> Callable:
    """A compiled function (images (N, 28, 28, 1) float32, targets (N,) int32) → (the gradient of each picture's
    objective with respect to its pixels, the objectives).

    `objective(logits, targets)` turns the class scores before the softmax (`logits_function`) into one number
    per picture: a class's score (explanations) or the loss of the right answer (attacks). One trace serves every
    batch size.
    """
    scores = logits_function(model)

    def gradients(images, targets):
        with tf.GradientTape() as tape:
            tape.watch(images)
            _, logits = scores(images)
            values = objective(logits, targets)
        return tape.gradient(values, images), values

    return tf.function(gradients, reduce_retracing=True, input_signature=[
        tf.TensorSpec((None, *MODEL_INPUT_SHAPE), tf.float32), tf.TensorSpec((None,), tf.int32)])


def build_model(architecture: str = "numvision_cnn", **kwargs) -> keras.Model:
    """Build one of the named architectures in `ARCHITECTURES`."""
    try:
        builder = ARCHITECTURES[architecture]
    except KeyError:
        known = ", ".join(sorted(ARCHITECTURES))
        raise ConfigError(f"unknown architecture {architecture!r}; choose one of: {known}") from None
    return builder(**kwargs)


def predict_probabilities(model: keras.Model, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """Class probabilities (N, classes) for a batch of images, read as `data.checked_pixels` reads them. An empty
    batch gives no rows."""
    inputs = model_input(images)
    if not len(inputs):
        return np.zeros((0, model.output_shape[-1]))
    return np.asarray(model.predict(inputs, batch_size=batch_size, verbose=0), dtype=np.float64)


def accuracy(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> float:
    """The share of `images` whose answer (`answers`) is their label, rounded to six places."""
    labels = checked_labels(labels, len(images), "images to measure the accuracy on")
    return round(float((answers(predict_probabilities(model, images)) == labels).mean()), 6)


# What a loaded model must take and give: a batch of 28x28 grey pictures in, and one probability for each digit
# out; the pad's digit check (built by `not_a_digit.build_digit_check`, under this name) gives one probability,
# that the picture is a digit at all. Checked on loading, not later as a raw error in `predict`.
DIGIT_MODEL_OUTPUTS = NUM_CLASSES
DIGIT_CHECK_OUTPUTS = 1
OUTPUTS_BY_MODEL_NAME = {"digit_check": DIGIT_CHECK_OUTPUTS}


def checked_model(model, purpose: str, outputs: int = DIGIT_MODEL_OUTPUTS) -> keras.Model:
    """`model`, a Keras model, a `Predictor` or the result of a run that made one (`fine_tune`'s, `train`'s: their
    model, then), as `purpose` needs it: a digit model, or with `outputs=DIGIT_CHECK_OUTPUTS` the digit check. The
    other kind is a `ModelStructureError`: its outputs would be read as the wrong answers without a word (the check's
    one score as "digit 0"). Anything else is a ConfigError."""
    if isinstance(model, BasePredictor):
        model = keras_model_of(model, purpose)  # the light pad's has none, which it explains
    # `run` where `run.model` was meant, in the cell after the run: it holds one model, as a predictor does. Found by
    # its attribute, as this module cannot import the runs' (they import it).
    elif not isinstance(model, keras.Model) and isinstance(getattr(model, "model", None), keras.Model):
        model = model.model
    if not isinstance(model, keras.Model):
        such_as = "load_model(...) or Predictor.load()" if outputs == DIGIT_MODEL_OUTPUTS else "load_model(...)"
        raise ConfigError(f"{purpose} needs a Keras model, such as {such_as}, not a {type(model).__name__}")
    width = model.output_shape[-1]
    if width != outputs:
        wanted = ("a digit model, with one probability for each of the 10 digits" if outputs == DIGIT_MODEL_OUTPUTS
                  else "the digit check, with one score")
        kind = " (the digit check)" if width == DIGIT_CHECK_OUTPUTS else ""
        raise ModelStructureError(f"{purpose} needs {wanted}; {model.name}{kind} gives {width} outputs")
    return model


def _model_problem(model: keras.Model) -> str | None:
    """How `model` is not of its kind: the shapes it takes and gives, and for a digit model that it gives
    probabilities; None when it is."""
    inputs, outputs = getattr(model, "input_shape", None), getattr(model, "output_shape", None)
    expected_outputs = OUTPUTS_BY_MODEL_NAME.get(model.name, DIGIT_MODEL_OUTPUTS)
    if inputs != (None, *MODEL_INPUT_SHAPE):
        return f"takes pictures of shape {inputs}, not 28x28 grey {(None, *MODEL_INPUT_SHAPE)}"
    if outputs != (None, expected_outputs):
        width = outputs[-1] if isinstance(outputs, tuple) and outputs else outputs
        wanted = ("one probability for each of the 10 digits" if expected_outputs == DIGIT_MODEL_OUTPUTS else
                  "one, the probability that the picture is a digit")
        return f"gives {width} outputs, not {wanted}"
    if expected_outputs == DIGIT_MODEL_OUTPUTS:
        return _probabilities_problem(model)
    return None


def _probabilities_problem(model: keras.Model) -> str | None:
    """How a digit model's answer for a blank picture is not a row of probabilities, None when it is: scores (logits)
    would be read as probabilities over 100% and a wrong loss, and fail on every picture the pad reads. A row of NaN
    passes: a model whose training diverged is still loaded, for its evaluation to show what it does."""
    output = model(np.zeros((1, *MODEL_INPUT_SHAPE), np.float32), training=False)
    row = keras.ops.convert_to_numpy(output).astype(np.float64)  # NumPy's checks do not take bfloat16
    if not np.isfinite(row).all():
        return None
    # The rule every reading of the model applies (predict, evaluate, the pad): a model it refuses is refused here,
    # when it is loaded, with the reason.
    try:
        checked_probabilities(row)
    except ConfigError:
        pass
    else:
        return None
    # A softmax computed in bfloat16 (a model built under mixed_bfloat16 without dtype="float32" on its last layer)
    # sums to 1 only within about 0.01. A second softmax on top would squash every probability towards 10%.
    if _computes_softmax(model.layers[-1]):
        return (f"gives answers that do not sum to 1 (those for a blank picture sum to {row.sum():.4f}) although its "
                f"last layer is a softmax, computed in {keras.backend.standardize_dtype(output.dtype)}: give that "
                "layer dtype='float32', such as keras.layers.Dense(10, activation='softmax', dtype='float32'), as "
                "numvision_lib.model's architectures do, and train it again")
    return ("gives scores, not probabilities (its last layer needs a softmax: add keras.layers.Softmax() after it and "
            "save it again)")


def load_model(path: str | os.PathLike, compile: bool = True) -> keras.Model:
    """Load a `.keras` file in safe mode, turning every failure into a `ModelFileError` that names the file and,
    for a file of another kind (a folder, a card, a LiteRT export, a Keras 2 model), says so; so is a model that is
    not a digit model (or the digit check, `OUTPUTS_BY_MODEL_NAME`). With `compile=False` the optimizer is left out:
    a model saved by a mixed_float16 run holds a loss-scale optimizer's state, which a float32 policy cannot take, and
    Keras would warn that it skipped it."""
    path = checked_path(path, MODEL_FILE_EXAMPLE)
    shown = project_relative(path)
    if problem := missing_model_problem(path):
        raise ModelFileError(problem)
    if path.suffix == ".tflite":
        raise ModelFileError(f"{shown}: this is a LiteRT export, which the drawing pad runs without TensorFlow; give "
                             f"the .keras model it was exported from ({path.with_suffix('.keras').name}, say)")
    if path.suffix == CARD_SUFFIX:
        raise ModelFileError(f"{shown}: this is a model card, what is known about a model; give the model beside it, "
                             f"{path.with_suffix('.keras').name}")
    if path.suffix in (".h5", ".hdf5"):
        raise ModelFileError(f"{shown}: this is a Keras 2 model (HDF5), which is not loaded here: load it with "
                             "keras.saving.load_model and save it again as a .keras file with model.save")
    if path.suffix != ".keras" or not zipfile.is_zipfile(path):
        raise ModelFileError(
            f"{shown}: not a Keras 3 `.keras` file (it should be a zip archive); the file is corrupt "
            f"or of another format. {how_to_replace_model(path)}."
        )
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=compile)
    except Exception as error:  # Keras raises many different types for a damaged archive.
        if isinstance(error, ValueError) and "safe_mode" in str(error):
            raise ModelFileError(
                f"{shown}: the model holds Python code (a Lambda layer), which is not loaded, for safety; the file "
                "is not damaged. Choose a model made of Keras' own layers, such as one trained with `python -m "
                "numvision_lib train` or in the notebooks") from error
        raise ModelFileError(
            f"{shown}: the model could not be loaded ({type(error).__name__}: {error}). "
            f"The file is probably damaged. {how_to_replace_model(path)}."
        ) from error
    if problem := _model_problem(model):
        if model.name in OUTPUTS_BY_MODEL_NAME:
            kind, advice = "digit check", "Train it again with `python -m numvision_lib train-digit-check`"
        else:
            kind, advice = "digit model", ("Choose a model trained with `python -m numvision_lib train` or in the "
                                           "notebooks, or a shipped one in models/")
        raise ModelFileError(f"{shown}: not a NumVision {kind}: it {problem}. {advice}.")
    return model


def checked_output_path(path: str | os.PathLike) -> Path:
    """`path` as where a model will be saved, checked before the work that makes it: a `.keras` file, not a folder."""
    path = checked_path(path, "the model file to write, such as my_models/my_model.keras")
    if path.suffix != ".keras":
        raise ConfigError(f"{path}: the output model file must end in .keras")
    if path.is_dir():
        raise ConfigError(f"{path} is a folder: give the name of the model file to write, ending in .keras")
    return path


def shown_name(model, network: keras.Model) -> str:
    """How figures and reports name `model` as given (a Keras model, a `Predictor` or a run), whose Keras model is
    `network` (`checked_model`): a Predictor by its file (`Predictor.name`), a run (`train`'s, `fine_tune`'s) by the
    file it saved, a Keras model by the network's own name."""
    # By file where there is one: numvision_plus_real.keras holds a network named numvision_plus, as the MNIST-only
    # numvision_plus.keras does, and a run's network is named after its architecture.
    if isinstance(model, BasePredictor):
        return model.name
    model_path = getattr(model, "model_path", None)
    return Path(model_path).stem if model_path is not None else network.name


def save_model(model: keras.Model, path: str | os.PathLike) -> Path:
    """Save atomically: the previous file at `path` stays intact until the new one is complete."""
    path = checked_output_path(path)
    with atomic_path(path) as temporary:
        model.save(temporary)
    return path


def check_run_outputs(output: Path, what: str, outputs: int = DIGIT_MODEL_OUTPUTS) -> list[Path]:
    """The files a run writes for the model at `output` (`ModelCard.files_for`; a digit check's run, `outputs=
    DIGIT_CHECK_OUTPUTS`, keeps no history), each checked before the run: minutes of work are not lost to a file that
    cannot be replaced (`paths.check_replaceable`), and a model of the other kind is not replaced
    (`_check_output_kind`). `what` is what the run makes, such as "the trained model"."""
    _check_output_kind(output, outputs, what)
    files = ModelCard.files_for(output, with_history=outputs == DIGIT_MODEL_OUTPUTS)
    for path in files:
        check_replaceable(path, what)
    return files


def save_run_outputs(model: keras.Model, card: ModelCard | dict, history, output: Path) -> None:
    """The model at `output`, its card and its history, replaced together or not at all (`paths.atomic_paths`): a new
    model under the previous run's card would be credited with that run's figures. A digit check's run gives its card
    as JSON values, and None for the history it does not keep."""
    with atomic_paths(ModelCard.files_for(output, with_history=history is not None)) as files:
        *history_file, card_file, model_file = files
        if history is not None:
            write_history_csv(history, *history_file)
        if isinstance(card, ModelCard):
            card.save(card_file)
        else:
            card_file.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
        save_model(model, model_file)


_KINDS = {DIGIT_MODEL_OUTPUTS: "a digit model", DIGIT_CHECK_OUTPUTS: "a digit check"}


def _check_output_kind(output: Path, outputs: int, what: str) -> None:
    """Before a run that makes `what`, a model with `outputs` outputs (a digit model, or with `DIGIT_CHECK_OUTPUTS` a
    digit check): a ConfigError if `output` holds a model of the other kind, which the run would replace without a
    word (a student's model, which git does not keep, or the pad's check)."""
    found = _outputs_on_file(output)
    if found is not None and found != outputs:
        card = " and its card" if ModelCard.path_for(output).is_file() else ""
        raise ConfigError(f"{project_relative(output)} is {_KINDS[found]}, not {_KINDS[outputs]}: {what} would replace "
                          f"it{card}. Choose another output file.")


def _outputs_on_file(path: Path) -> int | None:
    """How many outputs the model at `path` gives: as its card says, where it has one (only a digit check's holds a
    threshold), else as the model itself does; None when neither is there or can be read, as nothing of a known kind
    is there to keep."""
    try:
        return DIGIT_CHECK_OUTPUTS if is_digit_check_card(read_card(path)) else DIGIT_MODEL_OUTPUTS
    except ModelFileError:  # no card, or no JSON object
        pass
    try:
        return load_model(path, compile=False).output_shape[-1]
    except ModelFileError:  # nothing there, or not a model of either kind
        return None

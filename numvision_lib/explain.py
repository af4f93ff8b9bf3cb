"""What the network sees and where it looks: feature maps, Grad-CAM, integrated gradients and occlusion.

Everything works on the float Keras model (`Predictor.model`; the pad's 8-bit LiteRT copy has no gradients) of
any chain of layers that ends in a softmax Dense layer. Convolutions are found by their type, not their names, so
a new architecture needs no change here. Gradients are taken of the class scores before the softmax (see
`model.logits_function`). Every function that takes a model takes a `Predictor` too (`model.checked_model`).
Pictures are read as every module reads them (`data.model_input`): whole numbers are MNIST's levels 0-255, floats
the network's input from 0 to 1.

Notebook 07 shows all of it on the student's drawing; the pad's explain view (`explain_view`) uses `GradCam`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ._tensorflow import keras, tf
from .data import IMAGE_SIZE, NUM_CLASSES, check_seed, model_input, one_model_input
from .errors import ConfigError, ImageError, ModelStructureError
from .model import checked_model, conv_layers, input_gradient_function, logits_function, predict_probabilities
from .plots import checked_heat_maps
from .values import is_number, is_whole_number

# Layers that change a convolution's output pixel by pixel: what a convolution passes on is the output of the
# last of them that follows it.
ELEMENTWISE_LAYERS = (keras.layers.BatchNormalization, keras.layers.ReLU, keras.layers.Activation,
                      keras.layers.LeakyReLU)
# Layers that slide a window over the picture, and so move and space out what a feature-map cell looks at.
WINDOW_LAYERS = (keras.layers.Conv2D, keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)
# A pixel counts as ink from this brightness on (MNIST's anti-aliased edges are grey).
INK_LEVEL = 0.2
BASELINES = ("blurred", "grey", "black")
# The blurred baseline keeps where the ink is but not its shape: strokes about 2.7 pixels wide vanish into a
# soft cloud at this width, while the digit's overall position and brightness stay.
BLUR_SIGMA = 3.0
# Integrated gradients: enough steps along the path for the attributions to add up to within a few per cent of
# the score difference (tests/test_explain.py checks it).
INTEGRATION_STEPS = 32
# "Within a few pixels of the ink": Grad-CAM's coarse cells and the blur of integrated gradients' baseline spread
# heat a little beyond the strokes, and a 3-pixel margin counts that as on the digit.
NEAR_INK_DISTANCE = 3.0
# Occlusion: a blank square about as wide as a stroke is long (MNIST's digits are 20 pixels tall).
OCCLUSION_PATCH = 6
OCCLUSION_STRIDE = 2
# `explanation_checks`: the region covered is about a 6x6 patch, a sixth of a 20-pixel digit's box; integrated
# gradients, INTEGRATION_STEPS gradients per picture, is the slowest check and runs on the first pictures only.
COVERED_AREA = 36
INTEGRATED_GRADIENTS_CHECKED = 100


# Asks Grad-CAM to explain each picture's own answer, whatever it is.
PREDICTED = -1


def _check_count(count: int, what: str, pictures: int) -> None:
    """A ConfigError unless there are as many of `what` as pictures: zip() would pair the first ones and drop the
    rest without a word."""
    if count != pictures:
        raise ConfigError(f"{count} {what} for {pictures} pictures: give one for each picture, in the same order")


def _checked_masks(masks, pictures: int) -> np.ndarray:
    """`masks`, (N, 28, 28) True/False, one for each of `pictures` pictures (one picture's may come as (28, 28))."""
    given = np.asarray(masks)
    if given.dtype != bool or given.ndim not in (2, 3) or given.shape[-2:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ConfigError(f"masks are 28x28 arrays of True (covered) and False, (N, 28, 28) for N pictures, such as "
                          f"hottest_region() gives; not {given.dtype} values of shape {given.shape}")
    masks = given.reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    _check_count(len(masks), "masks", pictures)
    return masks


def _pictures_and_classes(images, classes) -> tuple[np.ndarray, np.ndarray]:
    """Pair pictures with classes: one class for each picture, one class for all, or one picture for each class."""
    batch = model_input(images)
    given = np.atleast_1d(np.asarray(classes))
    if given.ndim != 1:  # one-hot rows, say, which would be read as many classes per picture
        raise ConfigError(f"classes are digits, one per picture, not an array of shape {given.shape} (for one-hot "
                          "rows, give labels.argmax(axis=1))")
    # Converting straight to int32 would quietly explain 3.7 as a 3: only whole numbers name a class.
    whole = given.dtype.kind in "iu" or (given.dtype.kind == "f" and bool(np.all(given == np.round(given))))
    if not whole or not np.all(((given >= 0) & (given < NUM_CLASSES)) | (given == PREDICTED)):
        raise ConfigError(f"classes must be digits 0-9 (or PREDICTED, the picture's own answer), got "
                          f"{given.tolist()}")
    classes = given.astype(np.int32)
    count = max(len(batch), len(classes))
    if len(batch) not in (1, count) or len(classes) not in (1, count):
        raise ConfigError(f"{len(batch)} pictures and {len(classes)} classes: give one class per picture, "
                          "one class for all pictures, or one picture with several classes")
    return np.broadcast_to(batch, (count, *batch.shape[1:])), np.broadcast_to(classes, (count,))


def _convolutions_to_look_inside(model: keras.Model) -> list[keras.layers.Conv2D]:
    """`conv_layers`; a `ModelStructureError` for a model without any, which has no maps to show."""
    layers = conv_layers(model)
    if not layers:
        raise ModelStructureError(f"model {model.name!r} has no convolution layer to look inside")
    return layers


def _next_layer(model: keras.Model, layer: keras.layers.Layer) -> keras.layers.Layer | None:
    """The layer that takes `layer`'s output, when exactly one does."""
    takers = [other for other in model.layers if other is not layer and other.input is layer.output]
    return takers[0] if len(takers) == 1 else None


def _layer_of(model: keras.Model, layer, refusal: str) -> keras.layers.Layer:
    """`layer`, a layer of `model` or its name, as the layer; `refusal` starts the message for anything else (what
    takes the layer, e.g. "Grad-CAM looks at a layer of the model it explains")."""
    names = [each.name for each in model.layers]
    if isinstance(layer, str):
        if layer not in names:
            raise ConfigError(f"model {model.name!r} has no layer named {layer!r}; its layers are {', '.join(names)}")
        return model.get_layer(layer)
    if not any(layer is each for each in model.layers):
        raise ConfigError(f"{refusal}, given as the layer (model.get_layer(name)) or its name, not {layer!r}; the "
                          f"layers of {model.name!r} are {', '.join(names)}")
    return layer


def passed_on_by(model: keras.Model, conv: keras.layers.Conv2D | str) -> keras.layers.Layer:
    """The layer whose output is what `conv` (a convolution of `model`, or its name) passes on: after its batch
    normalisation and activation, if any.

    A convolution with a built-in activation (the reference CNN's) is its own answer; in `numvision_plus` a
    convolution is followed by batch normalisation and a ReLU, and its raw output is not what later layers see.
    """
    model = checked_model(model, "passed_on_by")
    layer = _layer_of(model, conv, "passed_on_by follows a layer of the model")
    while (following := _next_layer(model, layer)) is not None and isinstance(following, ELEMENTWISE_LAYERS):
        layer = following
    return layer


@dataclass(frozen=True)
class ConvLayerView:
    """One convolution layer at work on one picture."""

    name: str  # the convolution's name
    maps: np.ndarray  # (height, width, filters): what the layer passes on, after batch norm and activation
    filters: np.ndarray  # (kernel height, kernel width, filters): each filter on the input map it weighs most
    input_maps: int  # how many maps each filter reads (1 for the first layer: the picture itself)

    def strongest(self, count: int) -> np.ndarray:
        """The indices of the `count` filters that responded most to this picture, strongest first.

        A map's response is how much it varies over the picture (its standard deviation): a map that is equally
        bright everywhere, such as one that answers to the empty background, says nothing about the drawing. A
        1x1 map cannot vary, so there the value itself counts. A count beyond the layer's filters gives them all.
        """
        # A negative count would slice off the weakest instead; a fraction fails inside NumPy.
        if not (is_whole_number(count) and count >= 1):
            raise ConfigError(f"the number of strongest filters to show must be a whole number, 1 or more, not "
                              f"{count!r}")
        height, width, _ = self.maps.shape
        response = self.maps.std(axis=(0, 1)) if height * width > 1 else self.maps[0, 0]
        return np.argsort(-response, kind="stable")[:count]


def feature_maps(model: keras.Model, image: np.ndarray) -> list[ConvLayerView]:
    """Every convolution layer's feature maps for one picture (28x28, also as a batch of one), with the filters that
    made them.

    A first-layer filter is a small picture that is compared with every patch of the input. A deeper filter reads
    all the maps of the layer before it; `filters` shows its weights on the one input map it weighs most.
    """
    model = checked_model(model, "feature_maps")
    image = one_model_input(image, "feature_maps")
    convs = _convolutions_to_look_inside(model)
    outputs = [passed_on_by(model, conv).output for conv in convs]
    # `inputs[0]`: a Sequential model has no `input` until it has been called. A model with a single output
    # returns a tensor, not a list of one.
    maps = keras.Model(model.inputs[0], outputs)(image, training=False)
    maps = maps if isinstance(maps, (list, tuple)) else [maps]
    views = []
    for conv, layer_maps in zip(convs, maps):
        kernel = keras.ops.convert_to_numpy(conv.kernel)  # (kh, kw, input maps, filters)
        strongest_input = np.abs(kernel).sum(axis=(0, 1)).argmax(axis=0)  # per filter
        filters = kernel[:, :, strongest_input, np.arange(kernel.shape[3])]
        views.append(ConvLayerView(conv.name, keras.ops.convert_to_numpy(layer_maps)[0], filters, kernel.shape[2]))
    return views


def _has_a_picture(layer: keras.layers.Layer) -> bool:
    """Whether `layer`'s feature maps are more than 1x1: a single cell, spread over the whole input, no longer says
    *where*, and Grad-CAM would paint every pixel equally hot."""
    height, width = layer.output.shape[1:3]
    return height > 1 or width > 1


def gradcam_layer(model: keras.Model) -> keras.layers.Layer:
    """The layer Grad-CAM looks at: what the last convolution that still has a picture (more than 1x1) passes on.

    The last convolutions see the largest parts of the digit and are closest to the decision; a 1x1 map (as at
    the end of `numvision_plus`) no longer says *where*.
    """
    model = checked_model(model, "gradcam_layer")
    for conv in reversed(_convolutions_to_look_inside(model)):
        if _has_a_picture(conv):
            return passed_on_by(model, conv)
    raise ModelStructureError(f"model {model.name!r}: every convolution's output is 1x1, so none says where")


def _layer_to_look_at(model: keras.Model, layer) -> keras.layers.Layer:
    """The layer Grad-CAM looks at: `layer` (a layer of `model` or its name), or by default `gradcam_layer`."""
    if layer is None:
        return gradcam_layer(model)
    layer = _layer_of(model, layer, "Grad-CAM looks at a layer of the model it explains")
    if len(layer.output.shape) != 4:
        raise ModelStructureError(f"layer {layer.name!r} gives {tuple(layer.output.shape)}, not feature maps "
                                  "(height, width, maps): Grad-CAM needs a layer that still has a picture, such "
                                  "as a convolution's")
    if not _has_a_picture(layer):
        raise ModelStructureError(_one_cell_message(model, layer))
    return layer


def _one_cell_message(model: keras.Model, layer: keras.layers.Layer) -> str:
    earlier = (f", such as {gradcam_layer(model).name!r}, the one it looks at by default"
               if any(map(_has_a_picture, conv_layers(model))) else "")
    return (f"layer {layer.name!r} gives 1x1 feature maps, which no longer say where: Grad-CAM would paint the whole "
            f"picture equally hot. Choose an earlier layer whose maps are larger than 1x1{earlier}")


def _window_geometry(layer: keras.layers.Layer, input_size: int, axis: int) -> tuple[float, int]:
    """(input position of output cell 0's centre, stride) of a sliding-window layer along one axis."""
    if isinstance(layer, keras.layers.Conv2D):
        kernel = (layer.kernel_size[axis] - 1) * layer.dilation_rate[axis] + 1
    else:
        kernel = layer.pool_size[axis]
    stride = layer.strides[axis]
    output_size = -(-input_size // stride) if layer.padding == "same" else (input_size - kernel) // stride + 1
    # TensorFlow's "same" padding puts the odd pixel of padding after the picture.
    padding_before = max((output_size - 1) * stride + kernel - input_size, 0) // 2 if layer.padding == "same" else 0
    return (kernel - 1) / 2 - padding_before, stride


def cell_centres(model: keras.Model, layer: keras.layers.Layer | str) -> tuple[np.ndarray, np.ndarray]:
    """Where in the input each cell of `layer`'s feature maps (a layer of `model`, or its name) is centred: (row
    centres, column centres) in pixels.

    Every convolution or pooling window moves the centre of what a cell sees and spaces the cells further apart.
    Stretching a small map evenly over the picture, as image resizing does, gets this wrong whenever windows are
    unpadded: `numvision_plus`'s 4x4 map is centred on pixels 9, 13, 17 and 21, not spread from 3 to 24.
    """
    model = checked_model(model, "cell_centres")
    layer = _layer_of(model, layer, "cell_centres places the cells of a layer of the model")
    centres = [np.arange(size, dtype=np.float64) for size in model.inputs[0].shape[1:3]]
    layer_index = model.layers.index(layer)
    for current in model.layers[:layer_index + 1]:
        if isinstance(current, keras.layers.InputLayer):  # a functional model's first layer; a Sequential has none
            continue
        if isinstance(current, WINDOW_LAYERS):
            for axis in (0, 1):
                start, stride = _window_geometry(current, len(centres[axis]), axis)
                output_size = current.output.shape[1 + axis]
                positions = start + stride * np.arange(output_size)
                centres[axis] = np.interp(positions, np.arange(len(centres[axis])), centres[axis])
        elif tuple(current.output.shape[1:3]) != tuple(current.input.shape[1:3]):
            raise ModelStructureError(
                f"layer {current.name!r} ({type(current).__name__}) changes the picture's size in a way "
                "explanations cannot place back on the input")
    return centres[0], centres[1]


def _spreading_matrix(centres: np.ndarray, size: int = IMAGE_SIZE) -> np.ndarray:
    """(size, cells): how much of each cell's value every pixel gets along one axis.

    Between two cell centres a pixel is linearly interpolated; beyond the outermost centres the value fades out
    over one cell spacing, because no cell is centred there (repeating the edge cell's value instead would paint
    the border of the picture with whatever the outermost cells found).
    """
    pixels = np.arange(size, dtype=np.float64)[:, None]
    if len(centres) == 1:
        return np.ones((size, 1), dtype=np.float32)
    spacing = float(np.diff(centres).mean())
    return np.maximum(0.0, 1.0 - np.abs(pixels - centres[None, :]) / spacing).astype(np.float32)


class GradCam:
    """Grad-CAM (Selvaraju et al., 2017): which parts of the picture raise a class's score, seen by the last
    convolution that still has a picture.

    Each of that layer's maps is weighted by how much the class score grows with it (its gradient, averaged over
    the map), the weighted maps are summed, and only the positive part is kept: where features *for* the class
    were found. The coarse map is then spread back over the 28x28 input from the cells' true centres, and scaled
    to 0-1 (see `__call__`). Build it once per model (it compiles a graph); call it for any number of pictures and
    any classes. `layer` (the layer itself or its name) looks at another layer than `gradcam_layer`'s.
    """

    def __init__(self, model: keras.Model, layer: keras.layers.Layer | str | None = None):
        self.model = model = checked_model(model, "Grad-CAM")
        self.layer = _layer_to_look_at(model, layer)
        scores = logits_function(model, [self.layer])
        rows, columns = cell_centres(model, self.layer)
        to_rows = tf.constant(_spreading_matrix(rows))
        to_columns = tf.constant(_spreading_matrix(columns))

        def evidence(images, classes):
            with tf.GradientTape() as tape:
                tape.watch(images)  # records every operation, even in a model whose weights are frozen
                (features,), logits = scores(images)
                classes = tf.where(classes == PREDICTED, tf.argmax(logits, axis=1, output_type=tf.int32), classes)
                chosen = tf.gather(logits, classes, batch_dims=1)
            gradients = tape.gradient(chosen, features)
            weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
            coarse = tf.nn.relu(tf.reduce_sum(weights * features, axis=-1))
            return tf.einsum("ph,nhw,qw->npq", to_rows, coarse, to_columns), logits

        # One trace for every batch size: the pad calls it with one picture per stroke.
        self._evidence = tf.function(evidence, input_signature=[
            tf.TensorSpec((None, IMAGE_SIZE, IMAGE_SIZE, 1), tf.float32), tf.TensorSpec((None,), tf.int32)],
            reduce_retracing=True)

    def __call__(self, images: np.ndarray, classes=PREDICTED) -> np.ndarray:
        """Heat maps (N, 28, 28) in [0, 1]: for one class per picture, one class for all pictures, or one picture
        and several classes; `PREDICTED`: each picture's own answer.

        Each picture's map is scaled to its own hottest pixel (1 there), so that it shows where the evidence lies
        however strong it is. One picture's maps for several classes share one scale instead (1 at the hottest
        pixel of them all), because they are compared: evidence for one class far weaker than for another must look
        far weaker, not equally red.
        """
        return self.heat_and_scores(images, classes)[0]

    def heat_and_scores(self, images: np.ndarray, classes=PREDICTED) -> tuple[np.ndarray, np.ndarray]:
        """The heat maps and the class scores (logits, (N, 10)) of the same pass."""
        batch, classes = _pictures_and_classes(images, classes)
        evidence, logits = self._evidence(tf.constant(batch), tf.constant(classes))
        evidence = evidence.numpy()
        peaks = evidence.max(axis=(1, 2), keepdims=True)
        if len(batch) > 1 and (batch == batch[0]).all():  # one picture, however it was given, for several classes
            peaks = np.full_like(peaks, peaks.max())
        # A map without any positive evidence stays 0 everywhere.
        return np.divide(evidence, peaks, out=np.zeros_like(evidence), where=peaks > 0), logits.numpy()


def make_baseline(images: np.ndarray, kind: str = "blurred") -> np.ndarray:
    """The picture integrated gradients starts from: the same digit without what we ask about.

    - "blurred" (the default): the digit blurred into a soft cloud. It keeps where the ink is and how much,
      and removes only the shape of the strokes, so the attributions answer "which details of the strokes
      made this a 7?".
    - "grey": every pixel 0.5, a picture with no information at all.
    - "black": all background. Natural for photographs, but on MNIST black *is* the background: every
      background pixel equals the baseline there, so it can never be credited, and integrated gradients
      cannot say that the empty gap of a 4 (which a 9 would close) matters.
    """
    return _baseline(model_input(images), kind)


def _baseline(batch: np.ndarray, kind: str) -> np.ndarray:
    """`make_baseline` for a batch (N, 28, 28, 1) already read."""
    if kind == "blurred":
        return ndimage.gaussian_filter(batch, sigma=(0, BLUR_SIGMA, BLUR_SIGMA, 0), mode="constant")
    if kind == "grey":
        return np.full_like(batch, 0.5)
    if kind == "black":
        return np.zeros_like(batch)
    raise ConfigError(f"baseline must be one of {', '.join(BASELINES)}, not {kind!r}")


class IntegratedGradients:
    """Integrated gradients (Sundararajan et al., 2017): each pixel's share of a class score.

    Walk in a straight line from a baseline picture to the real one, add up the class score's gradient along
    the way, and multiply by how much each pixel differs from the baseline. The attributions add up to the
    score's change from the baseline to the picture; positive ones pushed the score up, negative ones down.
    Build it once per model; `steps` points of the path are evaluated as one batch per picture.
    """

    def __init__(self, model: keras.Model, steps: int = INTEGRATION_STEPS):
        # 0 steps averaged no gradients into NaN attributions; a negative or fractional count crashed inside NumPy.
        if not (is_whole_number(steps) and steps >= 1):
            raise ConfigError(f"integrated gradients need a whole number of steps, 1 or more, not {steps!r} "
                              f"(default {INTEGRATION_STEPS})")
        self.model = model = checked_model(model, "IntegratedGradients")
        self.steps = steps
        self._path_gradients = input_gradient_function(
            model, lambda logits, classes: tf.gather(logits, classes, batch_dims=1))

    def __call__(self, images: np.ndarray, classes, baseline: str = "blurred") -> np.ndarray:
        """Signed attributions (N, 28, 28): for one class per picture, one class for all pictures, or one
        picture and several classes; `PREDICTED`: each picture's own answer."""
        return self.attributions_and_gap(images, classes, baseline)[0]

    def attributions_and_gap(self, images, classes, baseline: str = "blurred") -> tuple[np.ndarray, np.ndarray]:
        """The attributions and, per picture, the score difference they should add up to (picture - baseline)."""
        batch, classes = _pictures_and_classes(images, classes)
        starts = _baseline(batch, baseline)
        if (classes == PREDICTED).any():
            answers = keras.ops.convert_to_numpy(self.model(batch, training=False)).argmax(axis=1)
            classes = np.where(classes == PREDICTED, answers, classes).astype(np.int32)
        # Midpoints of `steps` equal pieces of the path: the midpoint rule, exact for a straight-line score.
        alphas = ((np.arange(self.steps) + 0.5) / self.steps).astype(np.float32)[:, None, None, None]
        attributions, gaps = [], []
        for image, start, digit in zip(batch, starts, classes):
            path = start + alphas * (image - start)
            ends = np.stack([start, image])
            gradients, _ = self._path_gradients(tf.constant(path), tf.constant(np.full(self.steps, digit)))
            _, end_scores = self._path_gradients(tf.constant(ends), tf.constant(np.full(2, digit)))
            attributions.append((image - start)[..., 0] * gradients.numpy().mean(axis=0)[..., 0])
            gaps.append(float(end_scores[1] - end_scores[0]))
        return np.stack(attributions), np.array(gaps)


def _check_distance(distance) -> None:
    # NaN is near nothing and would mark no pixel at all; text fails inside NumPy.
    if not (is_number(distance) and distance >= 0):
        raise ConfigError(f"the distance from the ink must be a number of pixels, 0 or more, not {distance!r} "
                          f"(default {NEAR_INK_DISTANCE:g})")


def _near_ink(batch: np.ndarray, distance: float) -> np.ndarray:
    """`near_ink` for a batch (N, 28, 28, 1) already read and a distance already checked."""
    ink = batch[..., 0] >= INK_LEVEL
    # Without any ink SciPy measures from a point just outside the picture: nothing is near ink there.
    near = [ndimage.distance_transform_edt(~mask) <= distance if mask.any() else np.zeros_like(mask) for mask in ink]
    return np.array(near, dtype=bool).reshape(ink.shape)


def near_ink(images: np.ndarray, distance: float = NEAR_INK_DISTANCE) -> np.ndarray:
    """(N, 28, 28) bool: the pixels within `distance` pixels of ink (brightness ≥ `INK_LEVEL`), ink included."""
    _check_distance(distance)
    return _near_ink(model_input(images), distance)


def share_near_ink(heat: np.ndarray, images: np.ndarray, distance: float = NEAR_INK_DISTANCE) -> float:
    """The share of the positive heat that lies within `distance` pixels of the ink, pooled over all pictures
    (each picture with positive heat counts with the same weight). One heat map (N, 28, 28) for each picture."""
    _check_distance(distance)
    pictures = model_input(images)
    positive = np.maximum(checked_heat_maps(heat), 0)
    _check_count(len(positive), "heat maps", len(pictures))
    if not len(pictures):
        raise ImageError("no pictures: the share of heat near the ink needs at least one picture and its heat map")
    totals = positive.sum(axis=(1, 2), keepdims=True)
    shares = np.divide(positive, totals, out=np.zeros_like(positive), where=totals > 0)
    return float(shares[_near_ink(pictures, distance)].sum() / max((totals > 0).sum(), 1))


def _occluded(batch: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Pictures (N, 28, 28, 1) as the network takes them (or one, (1, 28, 28, 1), for every mask) with the pixels
    of `masks` (N, 28, 28) blanked to background."""
    return np.where(masks[..., np.newaxis], np.float32(0), batch)


def _check_patch(patch) -> None:
    # A square of 0 pixels (or fewer) covers nothing, and one larger than the picture has no place on it.
    if not (is_whole_number(patch) and 1 <= patch <= IMAGE_SIZE):
        raise ConfigError(f"the occlusion patch must be a whole number of pixels from 1 to {IMAGE_SIZE}, "
                          f"not {patch!r}")


def _squares(centres: np.ndarray, patch: int) -> np.ndarray:
    """(K, 28, 28) bool: `square` for each of the centres (K, 2), all at once."""
    starts = np.asarray(centres).astype(int) - patch // 2  # (K, 2): each square's top row and left column
    pixels = np.arange(IMAGE_SIZE)
    inside = (pixels >= starts[..., np.newaxis]) & (pixels < starts[..., np.newaxis] + patch)  # (K, 2, 28)
    return inside[:, 0, :, np.newaxis] & inside[:, 1, np.newaxis, :]


def square(centre, patch: int = OCCLUSION_PATCH) -> np.ndarray:
    """(28, 28) bool: a `patch` x `patch` square centred at (row, column), cut off at the picture's edges."""
    _check_patch(patch)
    try:
        row, column = centre
    except (TypeError, ValueError):  # a lone number, or not two of them
        row = column = None
    if not all(is_number(value) and 0 <= value < IMAGE_SIZE for value in (row, column)):
        raise ConfigError(f"the square's centre is (row, column), two pixel positions from 0 to {IMAGE_SIZE - 1}, "
                          f"not {centre!r}")
    return _squares(np.array([[row, column]]), patch)[0]


def hottest_region(heat: np.ndarray, area: int) -> np.ndarray:
    """(N, 28, 28) bool: each heat map's `area` hottest pixels, the region the heat map marks."""
    # A negative area would mark all pixels but the coldest few; a fraction fails inside NumPy.
    if not (is_whole_number(area) and 1 <= area <= IMAGE_SIZE * IMAGE_SIZE):
        raise ConfigError(f"the region's area must be a whole number of pixels from 1 to {IMAGE_SIZE * IMAGE_SIZE}, "
                          f"not {area!r}")
    heat = checked_heat_maps(heat)
    flat = heat.reshape(len(heat), -1)
    hottest = np.argsort(-flat, axis=1, kind="stable")[:, :area]
    masks = np.zeros(flat.shape, dtype=bool)
    np.put_along_axis(masks, hottest, True, axis=1)
    return masks.reshape(heat.shape)


def same_region_elsewhere(masks: np.ndarray, images: np.ndarray, seed: int = 0) -> np.ndarray:
    """The same regions (same shape, same size) moved so that their centres land on a random ink pixel of each
    picture: the fair comparison for a region an explanation marks, which is on the digit too. Pixels pushed
    past the picture's edge are kept at the edge; an empty region stays empty. A picture without ink has nowhere
    to move a region to: that is an ImageError."""
    check_seed(seed)
    pictures = model_input(images)[..., 0]
    masks = _checked_masks(masks, len(pictures))
    rng = np.random.default_rng(seed)
    moved = np.zeros_like(masks)
    for index, (mask, image) in enumerate(zip(masks, pictures)):
        rows, columns = np.nonzero(mask)
        if not len(rows):
            continue  # an empty region has no centre, and is the same empty region anywhere
        ink_rows, ink_columns = np.nonzero(image >= INK_LEVEL)
        if not len(ink_rows):
            raise ImageError(f"picture {index} has no ink (no pixel as bright as {INK_LEVEL}), so there is no "
                             "place on the digit to move its region to: leave blank pictures out")
        target = rng.integers(len(ink_rows))
        shift_rows = int(round(ink_rows[target] - rows.mean()))
        shift_columns = int(round(ink_columns[target] - columns.mean()))
        last = IMAGE_SIZE - 1
        moved[index, np.clip(rows + shift_rows, 0, last), np.clip(columns + shift_columns, 0, last)] = True
    return moved


def probability_lost(model: keras.Model, images: np.ndarray, masks: np.ndarray, classes) -> np.ndarray:
    """(N,): how much of each class's probability is lost when the pixels of `masks` (one for each picture) are
    blanked; classes as `GradCam` takes them (`PREDICTED`: each picture's own answer)."""
    model = checked_model(model, "probability_lost")
    batch, classes = _pictures_and_classes(images, classes)
    covered = _occluded(batch, _checked_masks(masks, len(batch)))
    probabilities = predict_probabilities(model, np.concatenate([batch, covered]))
    rows = np.arange(len(batch))
    classes = np.where(classes == PREDICTED, probabilities[rows].argmax(axis=1), classes)
    return probabilities[rows, classes] - probabilities[len(batch) + rows, classes]


@dataclass(frozen=True)
class ExplanationChecks:
    """`explanation_checks`' figures: shares from 0 to 1, except the layer's name and the count."""

    gradcam_layer: str  # the layer Grad-CAM looked at
    near_ink_area: float  # the share of the pictures near the ink: what heat spread at random would get
    gradcam_near_ink: float  # the share of Grad-CAM's positive heat near the ink
    integrated_gradients_near_ink: float  # the same for integrated gradients (blurred baseline)
    integrated_gradients_images: int  # how many pictures (the first ones) integrated gradients explained
    lost_covering_gradcam_region: float  # the answer's mean probability lost when Grad-CAM's region is covered
    lost_covering_same_region_elsewhere: float  # the same when the same shape is covered elsewhere on the digit


def explanation_checks(model: keras.Model, images: np.ndarray, area: int = COVERED_AREA,
                       layer: keras.layers.Layer | str | None = None) -> ExplanationChecks:
    """Do the explanations of each picture's own answer point at what matters? Notebook 07's two checks, which
    benchmarks/robustness.py records for every shipped model:

    1. Is the heat on the digit? The share of Grad-CAM's and integrated gradients' positive heat within
       `NEAR_INK_DISTANCE` pixels of the ink (`share_near_ink`), against the share of the pictures that lies
       there (`near_ink`). Integrated gradients explains the first `INTEGRATED_GRADIENTS_CHECKED` pictures only.
    2. Does the answer depend on what Grad-CAM marks? The probability the answer loses when the `area` hottest
       pixels are covered (`hottest_region`), against covering the same shape moved onto a random part of the same
       digit (`same_region_elsewhere`), on average (`probability_lost`).

    `layer`: the layer Grad-CAM looks at, as `GradCam` takes it. Give digits the network has not learnt from.
    """
    gradcam = GradCam(model, layer)
    pictures = model_input(images)
    if not len(pictures):  # integrated gradients would fail on stacking no attributions
        raise ImageError("no pictures: the explanation checks need digits to explain, such as data.x_test[:500]")
    heat, scores = gradcam.heat_and_scores(pictures)
    answers = scores.argmax(axis=1)
    marked = hottest_region(heat, area)  # checks `area` before the slow integrated gradients
    few = slice(0, INTEGRATED_GRADIENTS_CHECKED)
    attributions = IntegratedGradients(gradcam.model)(pictures[few], answers[few])
    elsewhere = same_region_elsewhere(marked, pictures)
    return ExplanationChecks(
        gradcam_layer=gradcam.layer.name,
        near_ink_area=float(near_ink(pictures).mean()),
        gradcam_near_ink=share_near_ink(heat, pictures),
        integrated_gradients_near_ink=share_near_ink(attributions, pictures[few]),
        integrated_gradients_images=len(attributions),
        lost_covering_gradcam_region=float(probability_lost(gradcam.model, pictures, marked, answers).mean()),
        lost_covering_same_region_elsewhere=float(probability_lost(gradcam.model, pictures, elsewhere, answers).mean()),
    )


@dataclass(frozen=True)
class OcclusionMap:
    """What happens to the answer when a blank square covers each part of a picture."""

    image: np.ndarray  # (28, 28) the picture
    digit: int  # the answer for the whole picture
    probability: float  # its probability
    centres: np.ndarray  # (rows, columns, 2) the square's centre at each position
    answers: np.ndarray  # (rows, columns) the answer with the square there
    probabilities: np.ndarray  # (rows, columns) the probability of `digit` with the square there
    patch: int

    @property
    def drop(self) -> np.ndarray:
        """(28, 28): how much covering each pixel costs `digit`'s probability, averaged over the squares that
        cover it."""
        masks = _squares(self.centres.reshape(-1, 2), self.patch)
        losses = (self.probability - self.probabilities.reshape(-1, 1, 1)) * masks
        return losses.sum(axis=0) / np.maximum(masks.sum(axis=0), 1)

    def other_answers(self) -> dict[int, int]:
        """Every other digit the network switched to, with how many positions of the square made it do so,
        most frequent first: the digits this drawing is hardest to tell apart from."""
        digits, counts = np.unique(self.answers[self.answers != self.digit], return_counts=True)
        order = np.argsort(-counts, kind="stable")
        return {int(digits[i]): int(counts[i]) for i in order}


def occlusion_centres(patch: int = OCCLUSION_PATCH, stride: int = OCCLUSION_STRIDE) -> np.ndarray:
    """(rows, columns, 2): the square's centres, `stride` apart, so that the squares cover the picture edge to edge
    (the last step is shorter where `stride` does not fit the picture evenly)."""
    # A stride of 0 never moves the square.
    if not (is_whole_number(stride) and stride >= 1):
        raise ConfigError(f"the occlusion stride must be a whole number of pixels, 1 or more, not {stride!r}")
    _check_patch(patch)
    # From the first centre whose square starts at the top edge to the last whose square ends at the bottom one,
    # which the steps of `stride` may pass by: a pixel never covered would show no drop, as if it did not matter.
    last = IMAGE_SIZE - patch + patch // 2
    positions = np.unique(np.append(np.arange(patch // 2, last + 1, stride), last))
    rows, columns = np.meshgrid(positions, positions, indexing="ij")
    return np.stack([rows, columns], axis=-1)


def occlusion_map(model: keras.Model, image: np.ndarray, patch: int = OCCLUSION_PATCH,
                  stride: int = OCCLUSION_STRIDE) -> OcclusionMap:
    """Slide a blank square over one picture and record the answer at every position (one batch)."""
    model = checked_model(model, "occlusion_map")
    image = one_model_input(image, "occlusion_map")
    centres = occlusion_centres(patch, stride)
    covered = _occluded(image, _squares(centres.reshape(-1, 2), patch))
    probabilities = predict_probabilities(model, np.concatenate([image, covered]))
    digit = int(probabilities[0].argmax())
    grid = centres.shape[:2]
    return OcclusionMap(image[0, ..., 0], digit, float(probabilities[0, digit]), centres,
                        probabilities[1:].argmax(axis=1).reshape(grid), probabilities[1:, digit].reshape(grid), patch)

"""tf.data input pipelines and the training-time augmentations."""
from __future__ import annotations

import numpy as np

from ._tensorflow import keras, tf
from .data import IMAGE_SIZE, check_batch_size, check_seed, checked_labels
from .errors import ConfigError
from .values import switch_problem

AUGMENTATIONS = ("none", "geometric", "drawing")


def _geometric_augmenter(seed: int) -> keras.Sequential:
    """Small rotations, shifts and zooms: the ways two people's digits differ in position and size."""
    return keras.Sequential(
        [
            keras.layers.RandomRotation(10 / 360, fill_mode="constant", seed=seed),
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed + 1),
            keras.layers.RandomZoom((-0.15, 0.1), fill_mode="constant", seed=seed + 2),
        ],
        name="geometric_augmentation",
    )


def random_handwriting_warp(images: tf.Tensor, seed: int) -> tf.Tensor:
    """Slant (shear), rotate, squeeze or stretch height and width independently, and shift each image.

    The ways other hands, and mice, differ from MNIST's writers. All of it is one affine transform per
    image, applied with a single bilinear resampling, so strokes stay as sharp as MNIST's (a chain of
    Keras layers would blur them once per layer). Position and size change only a little: preprocessing
    crops and centres every drawing the MNIST way anyway.
    """
    count = tf.shape(images)[0]
    size = tf.cast(tf.shape(images)[1], tf.float32)

    def uniform(low, high, offset):
        return tf.random.uniform([count], low, high, seed=seed + offset)

    angle = uniform(-15.0, 15.0, 0) * (np.pi / 180)
    shear = uniform(-0.3, 0.3, 1)
    scale_x, scale_y = uniform(0.8, 1.25, 2), uniform(0.8, 1.25, 3)
    shift_x, shift_y = uniform(-2.0, 2.0, 4), uniform(-2.0, 2.0, 5)
    cos, sin = tf.cos(angle), tf.sin(angle)
    # Output pixel → input pixel: rotation · shear · scale, about the image centre.
    a00, a01 = cos * scale_x, (cos * shear - sin) * scale_y
    a10, a11 = sin * scale_x, (sin * shear + cos) * scale_y
    centre = (size - 1) / 2
    a02 = centre - a00 * centre - a01 * centre + shift_x
    a12 = centre - a10 * centre - a11 * centre + shift_y
    zeros = tf.zeros([count])
    transforms = tf.stack([a00, a01, a02, a10, a11, a12, zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=tf.shape(images)[1:3],
        fill_value=0.0, interpolation="BILINEAR", fill_mode="CONSTANT",
    )


def random_stroke_thickness(images: tf.Tensor, seed: int) -> tf.Tensor:
    """Thicken (dilate), thin (erode) or keep each image at random, so thin and thick pens both look familiar."""
    dilated = tf.nn.max_pool2d(images, ksize=2, strides=1, padding="SAME")
    eroded = -tf.nn.max_pool2d(-images, ksize=2, strides=1, padding="SAME")
    choice = tf.random.uniform([tf.shape(images)[0], 1, 1, 1], seed=seed)
    # Thin only digits whose strokes are thick enough to keep half their ink; thin ones would break apart.
    ink = tf.reduce_sum(images, axis=[1, 2, 3], keepdims=True)
    keeps_shape = tf.reduce_sum(eroded, axis=[1, 2, 3], keepdims=True) >= 0.5 * ink
    thinned = tf.where(keeps_shape, eroded, images)
    return tf.where(choice < 0.25, dilated, tf.where(choice < 0.45, thinned, images))


def _segment_strokes(starts: tf.Tensor, ends: tf.Tensor, half_widths: tf.Tensor, size: int) -> tf.Tensor:
    """Anti-aliased straight strokes, one per image.

    (count, 2) start and end points as (x, y) pixels, (count,) half widths → (count, size, size, 1).
    """
    coordinates = tf.range(size, dtype=tf.float32)
    grid_x, grid_y = tf.meshgrid(coordinates, coordinates)  # each (size, size), pixel centres
    pixels = tf.stack([grid_x, grid_y], axis=-1)[tf.newaxis]  # (1, size, size, 2)
    start, direction = starts[:, tf.newaxis, tf.newaxis], (ends - starts)[:, tf.newaxis, tf.newaxis]
    length_squared = tf.maximum(tf.reduce_sum(direction**2, axis=-1), 1e-6)
    along = tf.reduce_sum((pixels - start) * direction, axis=-1) / length_squared
    nearest = start + tf.clip_by_value(along, 0.0, 1.0)[..., tf.newaxis] * direction
    distance = tf.norm(pixels - nearest, axis=-1)
    return tf.clip_by_value(half_widths[:, tf.newaxis, tf.newaxis] + 0.5 - distance, 0.0, 1.0)[..., tf.newaxis]


def random_european_ones(images: tf.Tensor, labels: tf.Tensor, seed: int, probability: float = 0.3) -> tf.Tensor:
    """Give some 1s the flag at the top, and some of those a base, the way many European writers draw them.

    MNIST's writers were American: their 1s are almost all bare strokes, so a model trained on MNIST
    alone reads a flagged 1 as a 7. The flag starts at the top of the stroke and falls to the left,
    15-32% of the digit's height long; the base is a short horizontal line under the stroke.
    """
    count, size = tf.shape(images)[0], images.shape[1]

    def uniform(low, high, offset):
        return tf.random.uniform([count], low, high, seed=seed + offset)

    rows = tf.reduce_max(images[..., 0], axis=2)  # (count, size): the brightest pixel of each row
    inked = tf.cast(rows > 0.3, tf.float32)
    top = tf.cast(tf.argmax(inked, axis=1), tf.float32)
    bottom = tf.cast(size - 1 - tf.argmax(tf.reverse(inked, axis=[1]), axis=1), tf.float32)
    height = tf.maximum(bottom - top, 1.0)

    def ink_centre_x(row):  # the x of the stroke's centre in one row of each image
        weights = tf.gather(images[..., 0], tf.cast(row, tf.int32), axis=1, batch_dims=1)
        return tf.reduce_sum(weights * tf.range(size, dtype=tf.float32), axis=1) / tf.maximum(
            tf.reduce_sum(weights, axis=1), 1e-6)

    top_x, bottom_x = ink_centre_x(top), ink_centre_x(bottom)
    half_width = uniform(0.6, 1.4, 0)
    # Angles with y pointing down, so 90 degrees is straight down. The flag turns 30-60 degrees from the
    # stroke towards the left, so a slanted 1 gets a slanted flag, never one along its own stroke; but it
    # always falls at least 25 degrees below the horizontal: a level bar on a slanted stroke is a 7.
    stroke_angle = tf.atan2(bottom - top, bottom_x - top_x)
    angle = tf.minimum(stroke_angle + uniform(30.0, 60.0, 1) * (np.pi / 180), (180.0 - 25.0) * (np.pi / 180))
    length = height * uniform(0.15, 0.32, 2)
    flag_start = tf.stack([top_x, top], axis=1)
    flag_end = flag_start + tf.stack([length * tf.cos(angle), length * tf.sin(angle)], axis=1)
    base_half_length = height * uniform(0.12, 0.25, 3)
    base_start = tf.stack([bottom_x - base_half_length, bottom], axis=1)
    base_end = tf.stack([bottom_x + base_half_length, bottom], axis=1)
    flag = _segment_strokes(flag_start, flag_end, half_width, size)
    base = _segment_strokes(base_start, base_end, half_width, size)

    is_one = tf.reshape(tf.equal(labels, 1), [-1, 1, 1, 1])
    gets_flag = is_one & (tf.reshape(uniform(0.0, 1.0, 4), [-1, 1, 1, 1]) < probability)
    gets_base = gets_flag & (tf.reshape(uniform(0.0, 1.0, 5), [-1, 1, 1, 1]) < 0.35)
    with_flag = tf.where(gets_flag, tf.maximum(images, flag), images)
    return tf.where(gets_base, tf.maximum(with_flag, base), with_flag)


def make_augmenter(augmentation: str, seed: int = 42):
    """A function (images, labels) → augmented images, or None for no augmentation."""
    if not isinstance(augmentation, str) or augmentation not in AUGMENTATIONS:  # an array compares item by item
        raise ConfigError(f"augmentation must be one of {', '.join(AUGMENTATIONS)}, not {augmentation!r}")
    check_seed(seed)
    seed = int(seed)  # Keras refuses NumPy's integers, which check_seed lets through
    if augmentation == "none":
        return None
    if augmentation == "geometric":
        geometric = _geometric_augmenter(seed)
        return lambda images, labels: geometric(images, training=True)

    def drawing(images, labels):
        # Each step gets op seeds of its own: inside tf.data, two random ops with the same seed draw the
        # same numbers, and every thickened digit would also be rotated the same way.
        written = random_european_ones(images, labels, seed + 100)
        return random_handwriting_warp(random_stroke_thickness(written, seed + 200), seed)

    return drawing


def make_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int = 128,
    shuffle: bool = False,
    augmentation: str = "none",
    seed: int = 42,
) -> tf.data.Dataset:
    """uint8 images (N, 28, 28) and labels → batched, prefetched float32 (N, 28, 28, 1) in [0, 1].

    Only the indices go through tf.data one by one; each batch is gathered from the uint8 arrays in
    one operation and converted to floats there. That is several times cheaper than passing 60,000
    separate images through the pipeline, and the arrays stay four times smaller than floats.
    """
    images = np.asarray(images)
    # Checked here: floats would be divided by 255 a second time, and a mismatch fails inside tf.data, or not at all.
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ConfigError(f"make_dataset takes MNIST's uint8 images (N, 28, 28), not {images.dtype} images of shape "
                          f"{images.shape}; data.to_mnist_pixels converts model-ready floats")
    labels = checked_labels(labels, len(images), "images to make a dataset of")
    check_batch_size(batch_size)
    if problem := switch_problem("shuffle", shuffle, "a new order of the images every pass"):
        # make_dataset(x, y, 64, "drawing") shuffled, without the augmentation asked for.
        slip = (f": augmentation is the argument after it, augmentation={shuffle!r}"
                if isinstance(shuffle, str) and shuffle in AUGMENTATIONS else "")
        raise ConfigError(problem + slip)
    check_seed(seed)
    all_images = tf.constant(images)
    all_labels = tf.constant(labels.astype(np.int32))

    def gather_batch(indices):
        batch = tf.cast(tf.gather(all_images, indices), tf.float32)[..., tf.newaxis] / 255.0
        return batch, tf.gather(all_labels, indices)

    indices = tf.data.Dataset.range(len(labels))
    if shuffle:
        indices = indices.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    # A batch larger than the images is all of them; TensorFlow cannot take a batch size beyond its 64-bit integers.
    dataset = indices.batch(min(int(batch_size), len(labels))).map(gather_batch, num_parallel_calls=tf.data.AUTOTUNE)
    augmenter = make_augmenter(augmentation, seed)
    if augmenter is not None:
        # One batch at a time: the augmenter's random ops are stateful, so batches augmented in parallel would race
        # for their random numbers, and the same seed would give different images, and models, run after run.
        dataset = dataset.map(lambda x, y: (augmenter(x, y), y))
    options = tf.data.Options()
    # No autotuning thread: deleting an iterator waits for that thread, and Keras makes new iterators every
    # epoch (the training-speed benchmark in docs/benchmarks.md measures the cost).
    # AUTOTUNE parallelism then stays at the number of cores (at most 16).
    options.autotune.enabled = False
    return dataset.prefetch(tf.data.AUTOTUNE).with_options(options)

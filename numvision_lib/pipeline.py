"""tf.data input pipelines and the training-time augmentations."""
from __future__ import annotations

import numpy as np

from ._tensorflow import keras, tf

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


def make_augmenter(augmentation: str, seed: int = 42):
    """A function batch → augmented batch, or None for no augmentation."""
    if augmentation not in AUGMENTATIONS:
        from .errors import ConfigError

        raise ConfigError(f"augmentation must be one of {', '.join(AUGMENTATIONS)}, not {augmentation!r}")
    if augmentation == "none":
        return None
    if augmentation == "geometric":
        geometric = _geometric_augmenter(seed)
        return lambda images: geometric(images, training=True)
    return lambda images: random_handwriting_warp(random_stroke_thickness(images, seed), seed)


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
    all_images = tf.constant(images)
    all_labels = tf.constant(labels.astype(np.int32))

    def gather_batch(indices):
        batch = tf.cast(tf.gather(all_images, indices), tf.float32)[..., tf.newaxis] / 255.0
        return batch, tf.gather(all_labels, indices)

    indices = tf.data.Dataset.range(len(labels))
    if shuffle:
        indices = indices.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    dataset = indices.batch(batch_size).map(gather_batch, num_parallel_calls=tf.data.AUTOTUNE)
    augmenter = make_augmenter(augmentation, seed)
    if augmenter is not None:
        dataset = dataset.map(lambda x, y: (augmenter(x), y), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)

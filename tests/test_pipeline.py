"""The training pipeline's own promises: a seed repeats its augmented images, and its switches are switches."""
import re

import numpy as np
import pytest

from numvision_lib.errors import ConfigError
from numvision_lib.pipeline import make_dataset

SHUFFLE = re.escape("shuffle is True (a new order of the images every pass) or False, not ")


@pytest.mark.parametrize("augmentation", ["geometric", "drawing"])
def test_the_same_seed_gives_the_same_augmented_images(mnist, augmentation):
    """Batches augmented in parallel raced for their random numbers: the same seed gave other images, and other
    models, run after run, and an augmentation's effect could not be told from that noise."""
    images, labels = mnist.x_train[:384], mnist.y_train[:384]

    def first_epoch():
        dataset = make_dataset(images, labels, 64, True, augmentation, seed=3)
        return np.concatenate([batch.numpy() for batch, _ in dataset])

    first = first_epoch()
    assert first.shape == (384, 28, 28, 1), "six batches, each augmented"
    for _ in range(2):
        np.testing.assert_array_equal(first_epoch(), first)
    plain = np.concatenate([batch.numpy() for batch, _ in make_dataset(images, labels, 64, True, seed=3)])
    assert not np.array_equal(first, plain), "the images were augmented"


@pytest.mark.parametrize("shuffle, message", [
    ("drawing", SHUFFLE + re.escape("'drawing': augmentation is the argument after it, augmentation='drawing'")),
    ("no", SHUFFLE + "'no'"),
    (1, SHUFFLE + "1"),
    (np.array([0, 1]), SHUFFLE + re.escape("array([0, 1])")),
])
def test_shuffle_is_true_or_false(shuffle, message):
    """make_dataset(x, y, 64, "drawing") shuffled the images and left out the augmentation asked for, "no" shuffled
    them too, and an array failed with NumPy's "truth value ... is ambiguous"."""
    images, labels = np.zeros((4, 28, 28), np.uint8), np.arange(4)
    with pytest.raises(ConfigError, match=f"^{message}$"):
        make_dataset(images, labels, 4, shuffle)
    for switch in (True, False):
        assert sorted(make_dataset(images, labels, 4, switch).get_single_element()[1].numpy()) == [0, 1, 2, 3]


def test_an_augmentation_that_is_no_name_is_refused_by_name():
    """An array was compared name by name, and failed with NumPy's "truth value ... is ambiguous"."""
    images, labels = np.zeros((4, 28, 28), np.uint8), np.arange(4)
    with pytest.raises(ConfigError, match=re.escape("augmentation must be one of none, geometric, drawing, not "
                                                    "array(['geometric', 'drawing'], dtype='<U9')")):
        make_dataset(images, labels, 4, True, np.array(["geometric", "drawing"]))

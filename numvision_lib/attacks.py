"""Fooling the network: the fast gradient sign method (FGSM), accuracy against the size of the change, the smallest
change that flips a drawing's answer, and one round of adversarial training.

FGSM (Goodfellow et al., 2015) moves every pixel by the same small amount ε, up or down, whichever way raises the
network's loss for the right answer: one gradient, one step. The attacked picture stays in [0, 1] and within ε of
the original in every pixel. Like the explanations, it needs the float Keras model and its class scores before
the softmax (`model.logits_function`): a saturated softmax has no gradient to follow. Every function that takes a
model takes a `Predictor` too (`model.checked_model`). ε is in the network's units: pixels run from 0 to 1.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from ._tensorflow import keras, tf
from .data import (IMAGE_SIZE, MnistData, answers, check_batch_size, checked_labels, model_input, one_model_input,
                   stratified_subset, to_model_input)
from .errors import ConfigError
from .model import (batch_norm_layers, calibrate_batch_norm, checked_model, input_gradient_function,
                    predict_probabilities, shown_name)
from .pipeline import make_dataset
from .training import TrainConfig, check_train_config
from .values import is_number, is_whole_number

# The ε grid of the accuracy curve, in the units of the pixels (0 = black, 1 = full ink).
EPSILONS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
# Published FGSM accuracies of small MNIST CNNs without adversarial training (the LeNet of PyTorch's FGSM
# tutorial and similar), ε → (low, high), to compare the shipped models with.
PUBLISHED_ACCURACY = {0.1: (0.85, 0.91), 0.2: (0.43, 0.50), 0.3: (0.09, 0.16)}
# The ε that adversarial training trains against by default, and the one the lesson compares before and after.
TRAINING_EPSILON = 0.1
# The ε searched for the smallest change that flips an answer: steps of 0.005 up to 0.5 (half the pixel range).
SEARCH_EPSILONS = np.round(np.arange(0.0, 0.5 + 1e-9, 0.005), 3)


class GradientSigns:
    """For one model: the sign of the loss's gradient with respect to every pixel of every picture.

    Build it once per model (it compiles a graph); FGSM for any ε is then one addition (`perturb`). The attacks
    below share one per model, for as long as the model lives (`_shared_gradient_signs`).
    """

    def __init__(self, model: keras.Model, batch_size: int = 500):
        check_batch_size(batch_size)
        # Not kept: the model's shared GradientSigns would keep the model alive (`_shared_gradient_signs`).
        model = checked_model(model, "GradientSigns")
        self.batch_size = batch_size
        def loss(logits, labels):
            return keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)

        self._gradients = input_gradient_function(model, loss)

    def __call__(self, images, labels) -> np.ndarray:
        """(N, 28, 28, 1) in {-1, 0, 1}: which way each pixel of `images` (one picture or a batch, read as
        `data.model_input` reads them) must move to make its label, one digit per picture, less likely."""
        batch = model_input(images)
        labels = _checked_labels_of(labels, batch).astype(np.int32)
        return np.concatenate([np.sign(self._gradients(tf.constant(batch[start:start + self.batch_size]),
                                                       tf.constant(labels[start:start + self.batch_size]))[0].numpy())
                               for start in range(0, len(batch), self.batch_size)])


# One GradientSigns per model: building one compiles a graph, which notebook 08's ε slider, attacking at every step of
# a drag, did at each step, and memory grew with each. Weak keys, as a GradientSigns holds the model's layers but not
# the model itself: a model no longer used is dropped from here too.
_GRADIENT_SIGNS: weakref.WeakKeyDictionary[keras.Model, GradientSigns] = weakref.WeakKeyDictionary()


def _shared_gradient_signs(model: keras.Model) -> GradientSigns:
    """The `GradientSigns` of `model` (a Keras model, as `checked_model` gives it), built on its first use."""
    if model not in _GRADIENT_SIGNS:
        _GRADIENT_SIGNS[model] = GradientSigns(model)
    return _GRADIENT_SIGNS[model]


def checked_epsilon(epsilon) -> float:
    """`epsilon`, from 0 to 1 in the network's units, as a float; or a ConfigError that names it as given."""
    # Not NaN nor infinity (`is_number`): both give NaN pictures, which count as fooling the network, an infinite ε
    # where a pixel's gradient is 0. Not True nor "0.1" either, which float() would take. Nor more than 1, the whole
    # range: an ε in grey levels (8, as papers on 0-255 pictures write it) pushes every pixel to black or white.
    if not (is_number(epsilon) and 0 <= epsilon <= 1):
        raise ConfigError(_not_an_epsilon_message(epsilon))
    return float(epsilon)


def _not_an_epsilon_message(epsilon) -> str:
    message = (f"epsilon must be a number from 0 to 1: how far every pixel may move, in the network's units, where "
               f"pixels run from 0 to 1 (0.1 is a tenth of that range); not {epsilon!r}")
    if is_number(epsilon) and epsilon > 1:
        message += f". For grey levels 0-255, divide by 255: {epsilon:g} levels is ε = {epsilon / 255:.3g}"
    return message


def checked_epsilons(epsilons) -> list[float]:
    """`epsilons`, a list of ε or one ε alone, as a list of floats; a ConfigError for an empty list."""
    # A lone ε (or text, which would be read a character at a time) is a list of one, checked as such.
    if isinstance(epsilons, str) or not np.iterable(epsilons):
        epsilons = [epsilons]
    checked = [checked_epsilon(epsilon) for epsilon in epsilons]
    if not checked:
        raise ConfigError(f"give at least one ε to attack with, e.g. {TRAINING_EPSILON}, or attacks.SEARCH_EPSILONS "
                          "to search for the smallest that changes the answer")
    return checked


def _checked_labels_of(labels, batch: np.ndarray) -> np.ndarray:
    """`labels`, the right digit of each picture of `batch`, checked by `data.checked_labels`; one picture's label
    may come alone, as 7 for [7]."""
    return checked_labels(np.atleast_1d(labels), len(batch),
                          "pictures to attack: an attack needs at least one picture and its label")


def perturb(images, signs: np.ndarray, epsilon: float) -> np.ndarray:
    """Move every pixel of `images` (one picture or a batch, read as `data.model_input` reads them) by `epsilon` (0 to
    1) in the direction of `signs` (-1, 0 or 1, one per pixel, as `GradientSigns` gives them), staying within the
    network's range [0, 1]; returns (N, 28, 28, 1)."""
    pictures = model_input(images)
    return np.clip(pictures + np.float32(checked_epsilon(epsilon)) * _checked_signs(signs, pictures), 0.0, 1.0)


def _checked_signs(signs, pictures: np.ndarray) -> np.ndarray:
    """`signs`, one per pixel of `pictures`, in their shape: NumPy would spread a batch of signs over one picture,
    making more attacked pictures than were given."""
    signs = np.asarray(signs)
    if signs.size != pictures.size or signs.shape[-2:] not in ((IMAGE_SIZE, IMAGE_SIZE), (IMAGE_SIZE, 1)):
        raise ConfigError(f"give one sign per pixel of the pictures, shape {pictures.shape} as GradientSigns gives "
                          f"them, not {signs.shape}")
    # Only a direction: noise of any other size would move pixels further than ε (up to 3 ε for normal noise).
    if signs.dtype.kind not in "iuf" or not np.isin(signs, (-1, 0, 1)).all():
        raise ConfigError(_not_signs_message(signs))
    return signs.reshape(pictures.shape)


def _not_signs_message(signs: np.ndarray) -> str:
    others = signs[~np.isin(signs, (-1, 0, 1))] if signs.dtype.kind in "iuf" else signs.ravel()
    return (f"the signs must be numbers (-1, 0 or 1, as GradientSigns gives them): the direction each pixel moves "
            f"in, by ε exactly; not {signs.dtype} values such as {others[:3].tolist()}. For random noise of the "
            f"same size, give np.sign(noise)")


def iterative_fgsm(model: keras.Model, images, labels, epsilon: float, steps: int = 10) -> np.ndarray:
    """A stronger attack: `steps` FGSM steps of ε/4, each followed by pulling every pixel back to within ε of the
    original (projected gradient descent, Madry et al., 2018, from the picture itself).

    It follows the loss around bends that one straight step misses, so a defence that only hides its gradient
    from FGSM shows up here. `images`: MNIST's uint8 pictures or floats in [0, 1]. Returns (N, 28, 28, 1), in
    [0, 1] and within ε of the original.
    """
    model = checked_model(model, "iterative_fgsm")
    # Checked here as given: `perturb` sees only each step's quarter of it.
    epsilon = checked_epsilon(epsilon)
    if not (is_whole_number(steps) and steps >= 1):
        raise ConfigError(f"steps is a whole number of FGSM steps, at least 1, not {steps!r}")
    original = model_input(images)
    labels = _checked_labels_of(labels, original)
    gradient_signs = _shared_gradient_signs(model)
    attacked = original
    for _ in range(steps):
        attacked = perturb(attacked, gradient_signs(attacked, labels), epsilon / 4)
        attacked = np.clip(attacked, original - np.float32(epsilon), original + np.float32(epsilon))
    return attacked


@dataclass(frozen=True)
class RobustnessCurve:
    """Accuracy on attacked pictures for each ε."""

    name: str  # for figures: given, or a Predictor's or run's file name, or the network's
    epsilons: tuple[float, ...]
    accuracies: tuple[float, ...]
    images: int

    def accuracy_at(self, epsilon: float) -> float:
        """The accuracy measured at `epsilon`, one of this curve's `epsilons`."""
        for measured, accuracy in zip(self.epsilons, self.accuracies):
            if is_number(epsilon) and np.isclose(measured, epsilon):
                return accuracy
        raise ConfigError(f"ε = {epsilon!r} was not measured for this curve: choose one of "
                          f"{', '.join(str(measured) for measured in self.epsilons)}, or measure it with "
                          "accuracy_under_attack(..., epsilons=[...])")

    def table(self) -> str:
        """One line per ε, for a notebook."""
        return "\n".join(f"ε = {epsilon:<5} accuracy {accuracy:6.1%}"
                         for epsilon, accuracy in zip(self.epsilons, self.accuracies))


def accuracy_under_attack(model: keras.Model, images, labels, epsilons=EPSILONS,
                          name: str | None = None) -> RobustnessCurve:
    """Accuracy on FGSM pictures at every ε of `epsilons`, a list or one ε (uint8 MNIST images or floats in [0, 1]).

    The gradient is taken once per picture: FGSM at any ε moves along the same signs. The curve is called `name`,
    by default after the file of a `Predictor` or of a run (`train`'s, `fine_tune`'s), or a Keras model's own name.
    """
    network = checked_model(model, "accuracy_under_attack")
    # Named before the gradients, as everything is checked before them: nothing after them may fail and lose them.
    name = name or shown_name(model, network)
    epsilons = checked_epsilons(epsilons)
    batch = model_input(images)
    labels = _checked_labels_of(labels, batch)
    signs = _shared_gradient_signs(network)(batch, labels)

    def accuracy(epsilon: float) -> float:
        return float((answers(predict_probabilities(network, perturb(batch, signs, epsilon))) == labels).mean())

    return RobustnessCurve(name, tuple(epsilons), tuple(map(accuracy, epsilons)), len(labels))


@dataclass(frozen=True)
class AdversarialExample:
    """One picture, its attacked copy and both answers."""

    original: np.ndarray  # (28, 28)
    adversarial: np.ndarray  # (28, 28)
    epsilon: float
    digit_before: int  # the answer for the original: the one the attack works against
    digit_after: int
    confidence_after: float  # the probability of `digit_after`

    @property
    def perturbation(self) -> np.ndarray:
        """What the attack added (28, 28): ±ε, less where [0, 1] cut it off."""
        return self.adversarial - self.original

    @property
    def fooled(self) -> bool:
        return self.digit_after != self.digit_before


def attack_examples(model: keras.Model, image, epsilons) -> list[AdversarialExample]:
    """The picture (28x28: MNIST's uint8 levels or floats in [0, 1]) attacked at each ε of `epsilons`, a list or one
    ε, against the model's own answer for it (one gradient, one batch)."""
    model = checked_model(model, "an attack")
    epsilons = checked_epsilons(epsilons)
    original = one_model_input(image, "an attack",
                               for_a_batch="accuracy_under_attack and iterative_fgsm attack a batch")
    digit = int(predict_probabilities(model, original)[0].argmax())
    signs = _shared_gradient_signs(model)(original, [digit])
    attacked = np.concatenate([perturb(original, signs, epsilon) for epsilon in epsilons])
    probabilities = predict_probabilities(model, attacked)
    return [AdversarialExample(original[0, ..., 0], picture[..., 0], epsilon, digit, int(row.argmax()),
                               float(row.max()))
            for epsilon, picture, row in zip(epsilons, attacked, probabilities)]


def attack(model: keras.Model, image, epsilon: float) -> AdversarialExample:
    """FGSM on one picture (28x28: MNIST's uint8 levels or floats in [0, 1]) against the model's own answer for it."""
    return attack_examples(model, image, [epsilon])[0]


def smallest_fooling_epsilon(model: keras.Model, image, epsilons=SEARCH_EPSILONS) -> AdversarialExample | None:
    """The attacked picture at the smallest ε of `epsilons` that changes the answer, or None when none does.

    A fine grid, not a bisection: along FGSM's direction the answer can flip and flip back as ε grows.
    """
    for example in attack_examples(model, image, sorted(checked_epsilons(epsilons))):
        if example.fooled:
            return example
    return None


def adversarial_training_round(model: keras.Model, data: MnistData, epsilon: float = TRAINING_EPSILON,
                               config: TrainConfig | None = None) -> keras.Model:
    """A copy of `model` trained further on its own FGSM pictures: one round of adversarial training.

    Every batch of training images is attacked with FGSM against the model as it is at that step, and the
    model then learns from the clean and the attacked pictures together, so it keeps its accuracy on clean
    digits while it learns to ignore small changes. `config` (default `TrainConfig.quick()`: one epoch on 3,000
    images) sets the epochs, images, batch size, learning rate and seed; the original model is not changed.
    A model with batch normalisation gets its statistics from the clean training images afterwards.
    """
    model = checked_model(model, "adversarial training")
    if not isinstance(data, MnistData):
        raise ConfigError(f"adversarial training needs MNIST's training images: give it what data.load_mnist() or "
                          f"data.load_test_data() returns, not {type(data).__name__}")
    epsilon = checked_epsilon(epsilon)  # before the copy and the first batch
    config = TrainConfig.quick() if config is None else config
    check_train_config(config)
    images, labels = data.x_train, data.y_train
    if config.max_train_samples is not None:
        images, labels = stratified_subset(images, labels, config.max_train_samples, config.seed)
    trained = keras.models.clone_model(model)
    trained.set_weights(model.get_weights())
    trained.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="sparse_categorical_crossentropy")
    gradient_signs = GradientSigns(trained)
    for epoch in range(config.epochs):
        for batch, batch_labels in make_dataset(images, labels, config.batch_size, shuffle=True,
                                                seed=config.seed + epoch):
            attacked = perturb(batch, gradient_signs(batch.numpy(), batch_labels.numpy()), epsilon)
            trained.train_on_batch(np.concatenate([batch.numpy(), attacked]),
                                   np.concatenate([batch_labels.numpy(), batch_labels.numpy()]))
    if batch_norm_layers(trained):
        calibrate_batch_norm(trained, to_model_input(images))
    return trained

"""Self-checking exercises, in the style of Kaggle Learn's learntools: `q1.check()`, `q1.hint()`, `q1.solution()`.

A notebook's exercise section starts with `setup_exercises(1, globals())`, which puts one `Question` per checked
exercise into the notebook (`q1`, `q3`, ...). The student answers by setting a variable in a cell that ships as
`rarest_digit = None` (or `= ...` for code), and `q1.check()` reads it from the notebook and prints one of:

- "Correct: ..." with what the answer means;
- "Not quite: ..." with a message for the typical wrong answers (what that answer really is, where to look);
- "Not attempted yet: ..." while the variable still holds None or ... or is not set.

Solutions appear only when `solution()` is called. Everything is printed as plain text, the same on every run, so
nbval can store and compare it. Exercises without one right answer stay open questions in the markdown and have
no `Question`. The truths are computed from the data and the library (not typed in), so they cannot drift.

Each exercise's texts (title, hints, solution) are in `exercises.json`, by notebook; its answers are judged by the
function `_judge_<name>` here that the entry names.
"""
from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .data import MNIST_TRAINING_IMAGES, TRAINING_IMAGES_PER_EPOCH
from .errors import ConfigError
from .prediction import a_digit
from .values import is_number, is_whole_number

CORRECT, WRONG, NOT_ATTEMPTED = "Correct", "Not quite", "Not attempted yet"
# What a notebook ships in an answer cell: nothing has been tried while the variable still holds one of these.
PLACEHOLDERS = (None, Ellipsis)


@dataclass(frozen=True)
class Feedback:
    """The outcome of a check: its status (CORRECT, WRONG, NOT_ATTEMPTED) and the message for the student."""

    status: str
    message: str

    def __str__(self) -> str:
        return f"{self.status}: {self.message}"


def correct(message: str) -> Feedback:
    return Feedback(CORRECT, message)


def wrong(message: str) -> Feedback:
    return Feedback(WRONG, message)


@dataclass(frozen=True)
class Exercise:
    """One checked exercise: the variable the student sets, how an answer is judged, hints and the solution.

    `judge(answer, namespace)` returns a Feedback for an attempted answer; `namespace` is the notebook's globals,
    for exercises that build on what the notebook computed (such as its measured training speed).
    """

    number: int
    title: str
    variable: str
    expects: str
    judge: Callable[[Any, dict], Feedback]
    hints: tuple[str, ...]
    solution: str


@dataclass
class Question:
    """An exercise bound to a notebook's namespace; what `q1` is in the notebook."""

    exercise: Exercise
    namespace: dict = field(repr=False)

    def feedback(self) -> Feedback:
        name = self.exercise.variable
        if name not in self.namespace:
            return Feedback(NOT_ATTEMPTED, f"`{name}` is not set: run the cell that sets it, with your answer.")
        answer = self.namespace[name]
        if any(answer is placeholder for placeholder in PLACEHOLDERS):
            return Feedback(NOT_ATTEMPTED, f"replace the {'None' if answer is None else '...'} in `{name} = "
                                           f"{'None' if answer is None else '...'}` with {self.exercise.expects}, "
                                           "then run the cell again.")
        # Only the question knows the variable's name, to show the line to write.
        if getattr(self.exercise.judge, "takes_a_number", False) and (quoted := _quoted_number(answer)):
            return wrong(f"write it as a number, without quotes: `{name} = {quoted}`.")
        return self.exercise.judge(answer, self.namespace)

    def check(self, *given, **given_by_name) -> None:
        # Taken, not refused by Python: the answer cell sets the variable just above `q1.check()`, and
        # `q1.check(5)` is the easy slip of handing the answer over instead.
        if given or given_by_name:
            number, name = self.exercise.number, self.exercise.variable
            answer = (*given, *given_by_name.values())[0]
            # Only an answer written out as Python makes a line to copy: "predictions = an array of shape (2000,)"
            # would be none.
            text = _python_text(answer)
            line = f"`{name} = {text}`" if text is not None else f"`{name} = ...`, with what you gave,"
            raise ConfigError(f"q{number}.check() takes nothing in the brackets: it reads your answer from `{name}`. "
                              f"Write {line} in the answer cell instead, then run q{number}.check() with empty "
                              "brackets.")
        print(self.feedback())

    def hint(self, number: int = 1) -> None:
        hints = self.exercise.hints
        if not (is_whole_number(number) and 1 <= number <= len(hints)):
            raise ConfigError(f"exercise {self.exercise.number} has hints 1 to {len(hints)}, not {number!r}")
        more = f" (q{self.exercise.number}.hint({number + 1}) gives another)" if number < len(hints) else ""
        print(f"Hint: {hints[number - 1]}{more}")

    def solution(self, *given, **given_by_name) -> None:
        if given or given_by_name:
            number = self.exercise.number
            raise ConfigError(f"q{number}.solution() takes nothing in the brackets: run q{number}.solution() to see "
                              f"the answer to exercise {number}.")
        print(f"Solution: {self.exercise.solution}")

    def __repr__(self) -> str:
        return f"<exercise {self.exercise.number}: {self.exercise.title}; q{self.exercise.number}.check()>"


def _takes_a_number(judge: Callable[[Any, dict], Feedback]) -> Callable[[Any, dict], Feedback]:
    """Marks the judge of an exercise answered by a number (read with `_number`): a number in quotes ("5") is the right
    kind of answer, quoted as the multiple-choice cells beside it want their letters, and `Question.feedback` says
    so."""
    judge.takes_a_number = True
    return judge


def _quoted_number(answer) -> str | None:
    """The number in `answer` (`_only_item`), a text that reads as one, as written; None for anything else."""
    answer = _only_item(answer)
    if not isinstance(answer, str):
        return None
    try:
        return answer.strip() if is_number(float(answer)) else None
    except ValueError:
        return None


def _only_item(answer):
    """The one item of a list, tuple or array that holds one, which counts as that item: `np.where(counts ==
    counts.min())[0]` is a natural way to find the rarest digit; anything else as it is."""
    if isinstance(answer, (list, tuple)) and len(answer) == 1:
        answer = answer[0]
    if isinstance(answer, np.ndarray) and answer.size == 1:
        answer = answer.item()
    return answer


def _number(answer) -> float | None:
    """A numeric answer as a float; None for anything else, so that each judge says which kind of answer it expects
    instead of failing on it: a list of several, True/False (a bool is an int to Python, but no student means 1 by
    True), NaN, infinity, or an int too large for a float. A list, tuple or array of one number counts as that number
    (`_only_item`). (A number in quotes is told so before, see `_takes_a_number`.)"""
    answer = _only_item(answer)
    return float(answer) if is_number(answer) else None


# What a message quotes as Python writes it; anything else would show its insides, or only its address.
_WRITTEN_OUT = (type(None), bool, int, float, complex, str, bytes)


def _plain(answer):
    """A 0-d NumPy answer as the Python number it holds: np.float64(0.5) as 0.5, and a float32 to its own digits
    (np.float32(0.111) as 0.111, not 0.11099999397993088); anything else as it is."""
    if not (isinstance(answer, (np.generic, np.ndarray)) and answer.ndim == 0):
        return answer
    if answer.dtype.kind == "f" and answer.dtype.itemsize < 8:
        return float(str(answer))
    return answer.item()


def _python_text(answer) -> str | None:
    """An answer as Python writes it, where it is written out and short enough to copy into a cell: a number, a text,
    or a short list of them; None for anything else (an array, a dict, a list of 2,000 digits)."""
    answer = _plain(answer)
    sequence = isinstance(answer, (list, tuple))
    if not (isinstance(answer, _WRITTEN_OUT) or (sequence and all(isinstance(item, _WRITTEN_OUT) for item in answer))):
        return None
    try:
        text = repr(answer)
    except ValueError:  # Python writes out no int of more than 4,300 digits
        return None
    return text if len(text) <= 60 else None


def _shown(answer) -> str:
    """An answer as a message quotes it, in a student's terms: a number or a text as Python writes it (a NumPy
    number as the number, `_plain`), and anything else by what it is: "an array of shape (5,)", "an array holding 3",
    "a list of 2,000 items", "a dict", rather than a repr that fills the message or speaks of the objects inside."""
    answer = _plain(answer)
    if isinstance(answer, np.number):  # a longdouble, which no Python number holds
        return str(answer)
    if isinstance(answer, np.ndarray):
        return f"an array holding {_shown(answer.item())}" if answer.size == 1 else f"an array of shape {answer.shape}"
    if (text := _python_text(answer)) is not None:
        return text
    if isinstance(answer, _WRITTEN_OUT):  # a long text or number: its start
        try:
            return f"{repr(answer)[:56]} ..."
        except ValueError:
            return "a whole number of thousands of digits"
    kind = type(answer).__name__
    if isinstance(answer, (list, tuple)):
        return f"a {kind} of {len(answer):,} items"
    return f"{'an' if kind[0] in 'aeiouAEIOU' else 'a'} {kind}"


def _close(value: float, truth: float, tolerance: float) -> bool:
    return math.isclose(value, truth, rel_tol=tolerance)


# Rounded or cut to fewer decimals than these, an answer is too coarse for a judge to tell it from its neighbours.
ROUNDED_DECIMALS = range(4)
# A value cut or rounded up is at most this share of the truth away from it: 6 for 5.16 minutes is (16%), 2 for 1.02
# is not (96%), though both are within a step.
MAX_ROUNDED_UP = 0.2


def _decimals(value: float) -> int | None:
    """How many decimals `value` is written with, if fewer than four (3 for 0.008, 0 for 6.0); None for more. To
    the seven digits a float32 holds: np.float32(0.008) is 0.00800000038 as a float."""
    return next((decimals for decimals in ROUNDED_DECIMALS
                 if math.isclose(value * 10 ** decimals, round(value * 10 ** decimals), rel_tol=1e-6)),
                None)


def _rounded(value: float, truth: float) -> bool:
    """Whether `value` is `truth` given to fewer decimals, as copied from a printout or estimated: right, but too
    coarse to check, so the student is asked for more decimals rather than told of a mistake they did not make.

    Judged by how far it is from the truth, not by listing roundings, since there is more than one rule: Python's
    round() on a NumPy float rounds 0.0075 to 0.008, on a Python float to 0.007. Given to d decimals, it is the
    truth rounded when at most half a step (10**-d) away; cut (0.993 for 0.9937) or rounded up (6 minutes for 5.16)
    when less than a step away, as long as a step is no larger than the truth (0.1 is no rounding of 0.0075, but
    0.01 is) and the value is within MAX_ROUNDED_UP of it. 0 does not count: it means nothing, not a rounded
    something."""
    decimals = _decimals(value)
    if value == 0 or decimals is None:
        return False
    step, off = 10.0 ** -decimals, abs(value - truth)
    return off <= step / 2 * (1 + 1e-6) or (off < step <= abs(truth) and off <= MAX_ROUNDED_UP * abs(truth))


# A share or accuracy counts as the same when it agrees to the four decimals a 10,000-image test set gives.
SHARE_TOLERANCE = 5e-5


def _same_share(value: float, share: float, tolerance: float = SHARE_TOLERANCE) -> bool:
    return math.isclose(value, share, abs_tol=tolerance)


def _as_percentage(value: float, share: float) -> bool:
    """The typical slip of giving 1.23 (per cent) for the share 0.0123, also rounded (99.4 or 99 for 0.9937) where
    it is above 1, which no share is."""
    percentage = share * 100
    return (math.isclose(value, percentage, abs_tol=SHARE_TOLERANCE * 100)
            or (value > 1 and _rounded(value, percentage)))


def _judge_choice(right: str, feedback_by_letter: dict[str, str], answer, namespace) -> Feedback:
    """A multiple-choice question: the letters and a message for each are in exercises.json ("choices")."""
    letter = answer.strip().lower() if isinstance(answer, str) else None
    if letter not in feedback_by_letter:
        letters = ", ".join(repr(key) for key in feedback_by_letter)
        return wrong(f"answer with one of the letters {letters}, not {_shown(answer)}.")
    message = feedback_by_letter[letter]
    return correct(message) if letter == right else wrong(message)


# --- Notebook 01: exploring MNIST ------------------------------------------------------------------------------
@functools.cache
def _mnist():
    from .data import load_mnist

    return load_mnist()


@_takes_a_number
def _judge_rarest_digit(answer, namespace) -> Feedback:
    counts = np.bincount(_mnist().y_train, minlength=10)
    rarest, commonest = int(counts.argmin()), int(counts.argmax())
    value = _number(answer)
    if value is None or not (value.is_integer() and 0 <= value <= 9):
        return wrong(f"the answer is one digit, a whole number from 0 to 9, not {_shown(answer)}.")
    answer = int(value)
    if answer == rarest:
        return correct(f"{rarest} has the fewest training images ({counts[rarest]:,}, "
                       f"{counts[rarest] / counts.sum():.1%}). Keep your guess about its accuracy for notebook 04.")
    if answer == commonest:
        return wrong(f"{answer} is the most common digit ({counts[answer]:,} images): look for the smallest count.")
    return wrong(f"{answer} has {counts[answer]:,} training images; one digit has fewer. Compare the train column "
                 "of the table in section 3.")


def _nearest_mean_truth():
    data = _mnist()
    means = np.stack([data.x_train[data.y_train == d].mean(axis=0) for d in range(10)]).astype(np.float32)
    x = data.x_test[:2000].astype(np.float32)
    distances = ((x[:, None] - means[None]) ** 2).sum(axis=(2, 3))
    return distances, data.y_test[:2000]


def _judge_nearest_mean(answer, namespace) -> Feedback:
    distances, labels = _nearest_mean_truth()
    try:
        predictions = np.asarray(answer)
    except ValueError:  # rows of different lengths
        predictions = None
    # Strings, None, True/False or NaN are no digits: say what the array should hold before judging its shape.
    if (predictions is None or predictions.dtype.kind not in "iuf"
            or (predictions.dtype.kind == "f" and not np.isfinite(predictions).all())):
        return wrong("`predictions` should hold whole numbers 0-9, one per test image.")
    if predictions.shape != labels.shape and predictions.size == labels.size:
        return wrong(f"`predictions` holds one digit per test image, but in shape {predictions.shape}: it should be "
                     f"{labels.shape}. Flatten it (`.ravel()`), or leave out keepdims.")
    if predictions.shape != labels.shape:
        hint = " (the minimum distance itself, not which digit it belongs to?)" if predictions.shape == () else ""
        return wrong(f"`predictions` should hold one digit per test image, shape {labels.shape}, not "
                     f"{predictions.shape}{hint}. Which axis of `distances` (shape {distances.shape}) runs over "
                     "the ten digits?")
    if np.array_equal(predictions, distances.argmax(axis=1)):
        return wrong("these are the digits whose mean is *farthest* from each image: the closest has the smallest "
                     "distance.")
    if not np.issubdtype(predictions.dtype, np.integer) and not np.array_equal(predictions, predictions.round()):
        return wrong("`predictions` should hold digits (whole numbers 0-9), not distances.")
    agree = int((predictions == distances.argmin(axis=1)).sum())
    if agree < len(labels):
        return wrong(f"{len(labels) - agree:,} of the {len(labels):,} predictions are not the digit with the "
                     "smallest distance.")
    accuracy = float((predictions == labels).mean())
    return correct(f"accuracy {accuracy:.1%} on {len(labels):,} test images: far above chance (10%), far below the "
                   "CNN of notebook 03 (about 99%). Now think about why the nearest average is not good enough.")


@_takes_a_number
def _judge_twice_scaled(answer, namespace) -> Feedback:
    truth = 1 / 255
    value = _number(answer)
    if value is None:
        return wrong(f"the answer is the largest value, a number, not {_shown(answer)}.")
    # The solution's "about 0.0039" (or 0.004) is right: the typical wrong answers are 250 times or more away.
    if _close(value, truth, 0.03):
        return correct(f"{truth:.5f}, that is 1/255: the brightest ink is now almost black. A network "
                       "trained on 0-1 pictures sees an empty page.")
    if _close(value, 1.0, 1e-3):
        return wrong("1.0 is the maximum after scaling once. `model_input` is already 0-1, and `model_input / 255` "
                     "scales it a second time.")
    if _close(value, 255.0, 1e-3):
        return wrong("255 is the brightest value of the original uint8 pictures, before any scaling.")
    if value == 0:
        return wrong("0 is the minimum (the background); the question asks for the largest value.")
    return wrong(f"{_shown(answer)} is not what comes out: print((model_input / 255).max()).")


# --- Notebook 02: hardware ---------------------------------------------------------------------------------------
# The training images of a full run: notebook 03 keeps some of MNIST's for validation, as every run does.
FULL_RUN_IMAGES = TRAINING_IMAGES_PER_EPOCH
KEPT_FOR_VALIDATION = (f"that counts all {MNIST_TRAINING_IMAGES:,} images, but "
                       f"{MNIST_TRAINING_IMAGES - FULL_RUN_IMAGES:,} are kept for validation and not trained on.")


@_takes_a_number
def _judge_ten_epochs(answer, namespace) -> Feedback:
    from .hardware import TrainingSpeed  # the notebook has loaded TensorFlow to measure `speed`

    speed = namespace.get("speed")
    if not isinstance(speed, TrainingSpeed):
        return wrong("run the speed check in section 5 first: this exercise uses the `speed` it measured.")
    value = _number(answer)
    if value is None:
        return wrong(f"the answer is a number of minutes, not {_shown(answer)}.")
    from .training import TrainConfig, steps_per_epoch

    epochs = TrainConfig().epochs
    epoch_minutes = speed.seconds_per_epoch() / 60
    truth = epochs * epoch_minutes
    steps = steps_per_epoch(FULL_RUN_IMAGES, speed.batch_size)
    # Worked out from the epoch's seconds as the speed check prints them, an answer is as far off as their rounding;
    # worked out as epochs x steps x the printed time of a step, as far off as half a printed millisecond per step
    # (a GPU's "3 ms" may be 2.5 or 3.5), with the 422 steps Keras counts or 54,000 / 128 of them. Under 4.5 ms a
    # step, that rounding hides the 60,000-image slip.
    half_a_printed_ms = epochs * steps * speed.step_seconds_rounding() / 60
    if (_close(value, truth, 0.05) or abs(value - truth) <= epochs * speed.epoch_seconds_rounding() / 60
            or any(abs(value - route) <= half_a_printed_ms
                   for route in (truth, epochs * steps * speed.seconds_per_step / 60))):
        return correct(f"about {truth:.2f} minutes for the training steps of {epochs} epochs (plus a little "
                       "for validation after each). Compare with another machine's speed.")
    # Before the slips: rounded to whole minutes, the right answer may equal one of them (3.52 and 3.91 are both 4).
    # The advice names the unrounded figure: an answer worked out from a coarser one may have no more decimals.
    if _rounded(value, truth):
        return wrong("close, but rounded too far to check: work it out from `speed.seconds_per_epoch()` and give "
                     "the minutes to two decimals.")
    if _close(value, epoch_minutes, 0.05):
        return wrong(f"that is one epoch. A full run has up to {epochs}.")
    if _close(value, truth * 60, 0.05):
        return wrong("that is in seconds; the question asks for minutes.")
    if _close(value, truth * MNIST_TRAINING_IMAGES / FULL_RUN_IMAGES, 0.05):
        return wrong(KEPT_FOR_VALIDATION)
    return wrong(f"{_shown(answer)} minutes does not follow from {speed.images_per_second:,.0f} images per second. "
                 f"How many seconds does one epoch of {FULL_RUN_IMAGES:,} images take?")


def _strategy_examples() -> dict[str, str]:
    from .hardware import choose_strategy

    cpu, gpus = ["/device:CPU:0"], [f"/device:GPU:{index}" for index in range(4)]
    cluster = ('{"cluster": {"worker": ["pc1:2222", "pc2:2222"]}, "task": {"type": "worker", "index": 0}}')
    return {
        "laptop with one GPU": choose_strategy(gpus[:1], cpu).name,
        "server with four GPUs": choose_strategy(gpus, cpu).name,
        "two computers in TF_CONFIG": choose_strategy([], cpu, cluster).name,
    }


def _judge_strategies(answer, namespace) -> Feedback:
    truth = _strategy_examples()
    if not isinstance(answer, dict) or set(answer) != set(truth):
        return wrong(f"keep the dictionary's three keys ({', '.join(truth)}) and fill in a strategy for each.")
    unanswered = [machine for machine, name in answer.items() if name is None]
    if unanswered:
        return Feedback(NOT_ATTEMPTED, f"fill in a strategy for: {', '.join(unanswered)}.")
    problems = []
    for machine, name in answer.items():
        # Compared as strings only: a list or an array would compare element by element, or not at all.
        if not isinstance(name, str):
            problems.append(f"{machine}: not {_shown(name)} (choose from 'default', 'MirroredStrategy', "
                            "'MultiWorkerMirroredStrategy')")
            continue
        # Capitals, spaces and the class's full name `tf.distribute.MirroredStrategy` name the same strategy.
        strategy = name.strip().lower().removeprefix("tf.distribute.")
        if strategy == truth[machine].lower():
            continue
        if machine == "laptop with one GPU" and strategy == "mirroredstrategy":
            problems.append("one GPU has nothing to mirror: MirroredStrategy copies the model onto several devices "
                            "of one computer")
        elif machine == "server with four GPUs" and strategy == "multiworkermirroredstrategy":
            problems.append("four GPUs in one computer need no network between processes: one process can "
                            "train on all of them")
        elif machine == "two computers in TF_CONFIG" and strategy == "mirroredstrategy":
            problems.append("MirroredStrategy sees only the devices of its own computer; two computers are two "
                            "processes that must talk over the network")
        else:
            problems.append(f"{machine}: not {name!r} (choose from 'default', 'MirroredStrategy', "
                            "'MultiWorkerMirroredStrategy')")
    if problems:
        return wrong("; ".join(problems) + ".")
    return correct("the library chooses exactly these (see hardware.choose_strategy).")


@_takes_a_number
def _judge_images_per_gpu(answer, namespace) -> Feedback:
    from .training import TrainConfig

    batch = TrainConfig().batch_size
    value = _number(answer)
    if value is None:
        return wrong(f"the answer is a number of images, not {_shown(answer)}.")
    if value == batch // 4:
        return correct(f"{batch} images per step for all replicas together, {batch // 4} on each GPU. The run takes "
                       "the same steps as on one device, each computed four times faster in the best case.")
    if value == batch:
        return wrong(f"batch_size ({batch}) counts the images of one step on all replicas together; each GPU gets "
                     "a share.")
    if value == batch * 4:
        return wrong("that is four times the batch: each GPU would get the full batch_size, but the library keeps "
                     "batch_size as the total, so that a run takes the same steps on any number of devices.")
    return wrong(f"{_shown(answer)} is not how {batch} images split over 4 GPUs.")


# --- Notebook 03: training ---------------------------------------------------------------------------------------
@_takes_a_number
def _judge_resume_epoch(answer, namespace) -> Feedback:
    from .training import TrainConfig

    interrupted = 3  # as the exercise says: interrupted during the third epoch
    epochs = TrainConfig().epochs
    value = _number(answer)
    if value is None or not (value.is_integer() and 1 <= value <= epochs):
        return wrong(f"the answer is the N of 'Epoch N/{epochs}', a whole number from 1 to {epochs}, not "
                     f"{_shown(answer)}.")
    if value == interrupted:
        return correct("epochs 1 and 2 finished and were kept by BackupAndRestore; the third starts again from its "
                       "beginning, and the cell at the end of section 5 says the run resumed after epoch 2.")
    if value == 1:
        return wrong("it does not start from scratch: with the same configuration, BackupAndRestore brings back "
                     "the state after the last finished epoch.")
    if value == interrupted + 1:
        return wrong("the epoch you interrupted had not finished, so nothing of it was kept.")
    if value == interrupted - 1:
        return wrong("epoch 2 had finished before the interruption, so it is not trained again.")
    return wrong("BackupAndRestore saves only at the end of an epoch, and a run resumed with the same configuration "
                 "goes on after the last epoch that finished: which epochs had finished when you interrupted it?")


@_takes_a_number
def _judge_steps_per_epoch(answer, namespace) -> Feedback:
    from .training import QUICK_SETTINGS, TrainConfig, steps_per_epoch

    batch = TrainConfig().batch_size
    quick_images = QUICK_SETTINGS["max_train_samples"]
    steps = steps_per_epoch(FULL_RUN_IMAGES, batch)
    value = _number(answer)
    if value is None:
        return wrong(f"the answer is a number of steps, not {_shown(answer)}.")
    if value == steps:
        return correct(f"{FULL_RUN_IMAGES:,} images in batches of {batch}: {steps - 1} full batches and a last one "
                       f"of {FULL_RUN_IMAGES - (steps - 1) * batch} images. That is the {steps}/{steps} Keras prints.")
    if value == FULL_RUN_IMAGES // batch or math.isclose(value, FULL_RUN_IMAGES / batch, rel_tol=1e-3):
        return wrong("that leaves out the last, smaller batch: it is a step too, so round up.")
    if (value in (MNIST_TRAINING_IMAGES // batch, steps_per_epoch(MNIST_TRAINING_IMAGES, batch))
            or math.isclose(value, MNIST_TRAINING_IMAGES / batch, rel_tol=1e-3)):
        return wrong(KEPT_FOR_VALIDATION)
    # What the training cell prints in quick mode, which the notebook's tests and classes often run in.
    if value in (steps_per_epoch(quick_images, batch), quick_images // batch):
        return wrong(f"that is a quick run's {quick_images:,} training images; the question is about a full run, "
                     f"which trains on {FULL_RUN_IMAGES:,}.")
    return wrong(f"{_shown(answer)} is not how many batches of {batch} the training images make.")


# --- Notebook 04: evaluation -------------------------------------------------------------------------------------
@_takes_a_number
def _judge_shipped_accuracy(answer, namespace) -> Feedback:
    from .model_card import TEST_ACCURACY, ModelCard, reference_model_path

    truth = float(ModelCard.for_model(reference_model_path()).metrics[TEST_ACCURACY])
    yours = getattr(namespace.get("report"), "accuracy", None)
    value = _number(answer)
    if value is None:
        return wrong(f"the answer is an accuracy (a fraction such as 0.9812), not {_shown(answer)}.")
    if _same_share(value, truth):
        return correct(f"the shipped model reads {truth:.2%} of the test images, as its model card says. Compare "
                       "its top confusions with your model's: are they the same pairs?")
    if _as_percentage(value, truth):
        return wrong("that is a percentage; `report.accuracy` is a fraction between 0 and 1.")
    if yours is not None and _same_share(value, yours):
        return wrong("that is the accuracy of *your* model (`report`); evaluate the shipped one into "
                     "`shipped_report` and use its accuracy.")
    # The question asks for the fraction `report.accuracy` is: four decimals, as its printed percentage has.
    if _rounded(value, truth):
        return wrong("close: give it to four decimals, as `shipped_report.accuracy` has them (the cell prints it as "
                     "a percentage with two).")
    return wrong(f"{_shown(answer)} is not the shipped model's test accuracy: evaluate it on all 10,000 test images.")


# The confidence below which exercise 04-3 asks a person to check (the exercise's text says 0.9 too).
UNSURE_BELOW = 0.9


@_takes_a_number
def _judge_share_to_check(answer, namespace) -> Feedback:
    report = namespace.get("report")
    if report is None or not hasattr(report, "confidences"):
        return wrong("run section 3 first: this exercise uses its `report`.")
    unsure = report.confidences < UNSURE_BELOW
    truth = float(unsure.mean())
    value = _number(answer)
    if value is None:
        return wrong(f"the answer is a share (a number between 0 and 1), not {_shown(answer)}.")
    if _same_share(value, truth):
        left = int((~report.correct & ~unsure).sum())
        return correct(f"a person checks {truth:.2%} of the images ({int(unsure.sum()):,}); {left} mistakes remain "
                       f"among the {int((~unsure).sum()):,} the model answers alone, from "
                       f"{int((~report.correct).sum())} without a person.")
    if math.isclose(value, unsure.sum(), abs_tol=0.5):
        return wrong("that is how many images; the question asks for their share of all test images.")
    if _as_percentage(value, truth):
        return wrong("that is a percentage; give the share as a fraction between 0 and 1 (`unsure.mean()`).")
    if _same_share(value, 1 - truth):
        return wrong("that is the share the model is sure of; a person checks the others.")
    if _rounded(value, truth):
        return wrong("close: give it to four decimals, as `unsure.mean()` gives it for the 10,000 test images.")
    return wrong(f"{_shown(answer)} is not the share of test images with a confidence below {UNSURE_BELOW}.")


# --- Notebook 05: drawing --------------------------------------------------------------------------------------
@_takes_a_number
def _judge_first_seven(answer, namespace) -> Feedback:
    from .drawn_digits import drawn_digit_set

    labels = [sample.label for sample in drawn_digit_set("slanted", samples_per_digit=10)]
    truth = labels.index(7)
    value = _number(answer)
    if value is None or not (value.is_integer() and 0 <= value < len(labels)):
        return wrong(f"the answer is an index, a whole number from 0 to {len(labels) - 1}, not {_shown(answer)}.")
    answer = int(value)
    if answer == truth:
        return correct(f"the drawings of each digit come together, ten each: 0-9 are the 0s, ..., {truth}-"
                       f"{truth + 9} the 7s.")
    if labels[answer] == 7:  # most often 71: the first 7 counted from 1
        return wrong(f"index {answer} is a 7, but not the first: Python counts from 0, so the first drawing of a "
                     "digit has k = 0 in 10*d + k.")
    return wrong(f"index {answer} is a drawing of {a_digit(labels[answer])}: the ten drawings of each digit come together, "
                 "the 0s first.")


# --- Notebook 06: real handwriting -------------------------------------------------------------------------------
@_takes_a_number
def _judge_sure_and_wrong(answer, namespace) -> Feedback:
    from .evaluation import confident_mistakes
    from .prediction import MIN_CONFIDENCE

    reports = namespace.get("reports")
    pad = reports.get("the pad's model") if isinstance(reports, dict) else None
    if pad is None:
        return wrong("run section 4 first: this exercise uses its `reports`.")
    if not np.all(pad.labels == 7):
        return wrong("`reports` now holds another style: run section 4's cell with the crossed 7s again, then this "
                     "one.")
    figures = confident_mistakes(~pad.correct, pad.confidences)
    truth = figures["share_of_samples"]
    # Shares of these ~100 drawings are a drawing (about 0.01) apart: a value nearer this one than the next is it,
    # however far it was rounded (10 of 97 is 0.10309..., printed as 10.3%, and 0.103 or 0.1 are both right).
    half_a_drawing = 0.5 / len(pad.labels)
    value = _number(answer)
    if value is None:
        return wrong(f"the answer is a share (a number between 0 and 1), not {_shown(answer)}.")
    if _same_share(value, truth, half_a_drawing):
        return correct(f"{truth:.1%} of these 7s ({figures['count']} of {len(pad.labels)}) are read wrongly with "
                       f"{MIN_CONFIDENCE:.0%} confidence or more: the pad shows them as sure answers, without the '?' "
                       f"of a 'probably'. They are {figures['share_of_mistakes']:.0%} of its {len(pad.mistakes)} mistakes "
                       "here: confidence is no guard against a style the model never saw in training.")
    # Only the exact count is one: with about 100 drawings a rounded percentage is near it too (10 of 97 is 10.3%),
    # and with few such 7s a percentage is near a count (1 of 200 is 0.5%).
    if value == figures["count"]:
        return wrong("that is how many drawings; the question asks for their share of all these 7s.")
    if _as_percentage(value, truth):
        return wrong("that is a percentage; give the share as a fraction between 0 and 1.")
    if _same_share(value, 1 - pad.accuracy, half_a_drawing):
        return wrong(f"that is every mistake; count only those made with a confidence of {MIN_CONFIDENCE} or more.")
    if pad.mistakes and _same_share(value, figures["share_of_mistakes"], 0.5 / len(pad.mistakes)):
        return wrong("that is their share of the mistakes; the question asks for their share of all these 7s.")
    mnist_only = reports.get("MNIST only")
    if mnist_only is not None and _same_share(
            value, confident_mistakes(~mnist_only.correct, mnist_only.confidences)["share_of_samples"],
            half_a_drawing):
        return wrong("that is the MNIST-only model's share; the question is about the pad's model.")
    return wrong(f"{_shown(answer)} is not the share of these 7s that the pad's model reads wrongly with "
                 f"{MIN_CONFIDENCE} confidence or more.")


# --- Notebook 07: inside the network ------------------------------------------------------------------------------
@_takes_a_number
def _judge_weights_per_filter(answer, namespace) -> Feedback:
    from .explain import ConvLayerView  # here: the notebook has loaded TensorFlow by now, the module need not

    layers = namespace.get("layers")
    # A student may have reused the name (`layers = model.layers`, Keras' `layers` module).
    if not (isinstance(layers, (list, tuple)) and len(layers) >= 4
            and all(isinstance(layer, ConvLayerView) for layer in layers)):
        return wrong("run section 2 with the pad's model first: this exercise reads its fourth convolution from "
                     f"`layers`, the list that feature_maps gives (it now holds {_shown(layers)}).")
    layer = layers[3]
    height, width, filters = layer.filters.shape
    truth = height * width * layer.input_maps
    value = _number(answer)
    if value is None:
        return wrong(f"the answer is a number of weights, not {_shown(answer)}.")
    if value == truth:
        return correct(f"{height}x{width} weights on each of the {layer.input_maps} maps it reads: {truth}. The layer's "
                       f"{filters} filters together have {truth * filters:,}.")
    if value == height * width:
        return wrong(f"that is one {height}x{width} grid; a filter of {layer.name} has one on every map it reads "
                     f"({layer.input_maps}).")
    if value == height * width * filters:
        return wrong(f"that is {height}x{width}x{filters}: {filters} is how many filters {layer.name} has, the maps it "
                     "makes, which the next convolution reads (did you read the next row?). Count the maps each "
                     f"filter of {layer.name} reads.")
    if value == truth * filters:
        return wrong("that is every filter of the layer together; the question asks for one filter.")
    if value == truth + 1:
        return wrong("batch normalisation follows, so the convolution has no bias: leave it out.")
    return wrong(f"{_shown(answer)} is not how many weights one filter of {layer.name} has.")


def _exercise(entry: dict) -> Exercise:
    """One entry of exercises.json: judged by `_judge_<its "judge">`, or by its "choices" for multiple choice."""
    entry = dict(entry)
    if "choices" in entry:
        choices = entry.pop("choices")
        judge = functools.partial(_judge_choice, entry.pop("answer"), choices)
        entry["expects"] = " or ".join([", ".join(repr(letter) for letter in list(choices)[:-1]),
                                        repr(list(choices)[-1])])
    else:
        judge = globals()[f"_judge_{entry.pop('judge')}"]
    return Exercise(**{**entry, "hints": tuple(entry["hints"]), "judge": judge})


def _load_exercises() -> dict[int, tuple[Exercise, ...]]:
    """exercises.json: each notebook's checked exercises (their texts, and the messages of multiple choices)."""
    text = Path(__file__).with_name("exercises.json").read_text(encoding="utf-8")
    return {int(notebook): tuple(_exercise(entry) for entry in entries)
            for notebook, entries in json.loads(text).items()}


# Each notebook's checked exercises, by the notebook's number; open questions have none.
EXERCISES = _load_exercises()


def setup_exercises(notebook: int, namespace: dict) -> None:
    """Put `q<N>` for each checked exercise of `notebook` into `namespace` (a notebook's `globals()`), and say so."""
    if not is_whole_number(notebook):
        raise ConfigError(f"notebook is the notebook's number, such as 1, not {notebook!r}")
    if not isinstance(namespace, dict):
        raise ConfigError(f"namespace is the notebook's globals() (with the parentheses), not {namespace!r}")
    if notebook not in EXERCISES:
        raise ConfigError(f"notebook {notebook} has no checked exercises; these do: {sorted(EXERCISES)}")
    questions = {f"q{exercise.number}": Question(exercise, namespace) for exercise in EXERCISES[notebook]}
    namespace.update(questions)
    names = ", ".join(f"{name}.check()" for name in questions)
    print(f"Exercises with a check: {names}. Each also has .hint() and .solution().")

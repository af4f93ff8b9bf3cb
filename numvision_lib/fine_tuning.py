"""Fine-tuning on the class: a short training run from the pad's model on some students' drawings, measured on
classmates it never saw.

The recipe keeps what the model knows while it learns the class's handwriting:

- each fine-tuning drawing goes in as the pad prepared it and `augmented_copies` times drawn again from its
  strokes with another pen, size, place, slant, rotation and stretch (`handwriting.Augmentation`), so that 50
  drawings of a student teach their shapes rather than those 50 pictures;
- every epoch mixes `mnist_per_drawing` MNIST training images per class image (fresh ones each epoch) into the
  same shuffled batches: without this replay the model drifts away from MNIST's digits;
- an epoch holds at most `images_per_epoch` images, class and replay together: a class larger than that takes a
  fresh random share of its images each epoch, so that fine-tuning takes about as long for a class of 30 as for one
  of 12;
- batch normalisation stays frozen (its statistics are those of the plain digits the pad model was calibrated
  on), the optimiser is Adam with a small learning rate, and there are few epochs.

The settings were chosen on simulated classes of the UNIPEN *validation* writers (`benchmarks/class_finetune.py
--part validation`) and are measured on its benchmark writers by the same script (docs/benchmarks.md). Students are
split, never drawings: no held-out student has a single drawing among the fine-tuning ones. The result goes to
`my_models/class_<base model>.keras` with its card, never over a shipped model; `Predictor.load(path)` gives it
to a drawing pad.
"""
from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure
from scipy.stats import binomtest

from . import plots
from ._tensorflow import keras
from .class_collection import DEMO_SOURCE, DrawingRecord, checked_records, model_inputs
from .class_report import anonymous_labels, ranked, writer_accuracies
from .data import (MAX_EPOCHS, MAX_SEED, MnistData, answers, check_seed, load_mnist, seed_problem,
                   to_mnist_pixels)
from .errors import ConfigError
from .evaluation import Score, score_groups
from .handwriting import render_model_inputs
from .hardware import set_seeds
from .model import (accuracy, batch_norm_layers, check_run_outputs, checked_model, checked_output_path, conv_layers,
                    load_model, predict_probabilities, save_run_outputs)
from .model_card import (BENCHMARK_WRITERS_SEEN, EARLIER_FINE_TUNING, FINE_TUNE_STUDENTS, MODEL_FILE_EXAMPLE,
                         TEST_ACCURACY, ModelCard, class_model_path, library_versions, pad_model_path)
from .paths import checked_path, in_models_dir, project_relative
from .pipeline import make_dataset
from .tables import format_table
from .training import MAX_HANDWRITING_COPIES, STEPS_PER_EXECUTION, check_mnist_data
from .values import (counted, is_number, is_whole_number, store_plain_numbers, type_problems,
                     unknown_settings_problem)

# MNIST replay images per class image, at most: beyond it the class is under 1% of every epoch, too little for
# fine-tuning to learn its handwriting from (the default replays 6).
MAX_MNIST_PER_DRAWING = 100.0
# The split that the card of a model trained on UNIPEN records, where the benchmark writers are "never used", once
# the model has learned from them: fine-tuned on the demonstration class, which is made of them.
SPLIT_AFTER_BENCHMARK_WRITERS = ("by writer (handwriting.digit_split) in training; the benchmark writers were learned "
                                 "from since, in fine-tuning on the demonstration class (class_collection."
                                 "demo_collection), which is made of them")


@dataclass(frozen=True)
class FineTuneSettings:
    """How the pad's model is fine-tuned on a class's drawings (see the module's explanation)."""

    epochs: int = 3
    learning_rate: float = 5e-5
    augmented_copies: int = 4  # redrawn versions of each drawing, besides the drawing itself
    # MNIST replay images per class image (a drawing or a redrawn copy), not per drawing, each epoch: by default a
    # drawing and its 4 copies bring 30. The name stays: calls and saved settings use it.
    mnist_per_drawing: float = 6.0
    # Class and replay images of one epoch at most: 12 students' 50 drawings, each with 4 copies and 6 replays.
    images_per_epoch: int = 21_000
    # The network's first convolutions, counted from the picture, left as they are (numvision_plus's first block is
    # 3). They find the edges of strokes, which every handwriting shares, on the largest maps, so training them is
    # much of each step. Not the default: a model that learned from MNIST alone then learned less from a class
    # (docs/benchmarks.md has both measurements).
    frozen_convolutions: int = 0
    batch_size: int = 64
    seed: int = 42

    def __new__(cls, *args, **settings):
        if problem := unknown_settings_problem(cls, settings):  # before the dataclass's TypeError
            raise ConfigError(problem)
        return super().__new__(cls)

    def __post_init__(self) -> None:
        problems = type_problems(self)  # first: the ranges below compare
        if problems:
            raise ConfigError("invalid FineTuneSettings: " + "; ".join(problems))
        store_plain_numbers(self)
        problems = [f"{name} must be at least {low}" for name, low in
                    (("epochs", 1), ("augmented_copies", 0), ("mnist_per_drawing", 0), ("batch_size", 1),
                     ("frozen_convolutions", 0))
                    if getattr(self, name) < low]
        # As training's copies of real handwriting: a typo's extra zero is hours of redrawing, or memory that is not
        # there, for copies an epoch mostly never shows (it holds at most images_per_epoch).
        if self.augmented_copies > MAX_HANDWRITING_COPIES:
            problems.append(f"augmented_copies must be at most {MAX_HANDWRITING_COPIES}")
        # An epoch has room for one class image and its replay, or it overruns its budget to show the class at all.
        if self.mnist_per_drawing > MAX_MNIST_PER_DRAWING:
            problems.append(f"mnist_per_drawing must be at most {MAX_MNIST_PER_DRAWING:g}")
        elif self.images_per_epoch < 1 + self.mnist_per_drawing:
            problems.append(f"images_per_epoch must be at least {math.ceil(1 + self.mnist_per_drawing)}, room for one "
                            f"class image and its {self.mnist_per_drawing:g} MNIST replay images")
        if not 0 < self.learning_rate < 1:
            problems.append("learning_rate must be between 0 and 1")
        if self.epochs > MAX_EPOCHS:
            problems.append(f"epochs must be at most {MAX_EPOCHS:,}")
        if problem := seed_problem(self.seed):
            problems.append(problem)
        if problems:
            raise ConfigError("invalid FineTuneSettings: " + "; ".join(problems))

    @classmethod
    def quick(cls, **overrides) -> "FineTuneSettings":
        """One epoch, one redrawn copy and as many MNIST images as class images, for tests and quick mode."""
        return cls(**{"epochs": 1, "augmented_copies": 1, "mnist_per_drawing": 1.0, **overrides})

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class StudentSplit:
    """Students whose drawings fine-tune the model, and students kept aside to measure it."""

    fine_tune: tuple[str, ...]
    held_out: tuple[str, ...]


def split_students(students: Sequence[str], held_out: int, seed: int = 0) -> StudentSplit:
    """Put `held_out` students, drawn at random, aside for measuring; the rest fine-tune. The same `seed` gives the
    same split."""
    # A string would be split into its letters, and ids of mixed types could not be sorted.
    if isinstance(students, str) or not isinstance(students, Iterable):
        raise ConfigError(f"give the students as a list of their ids (e.g. contents.students), not {students!r}")
    ids = list(students)
    not_ids = [student for student in ids if not isinstance(student, str)]
    if not_ids:
        raise ConfigError(f"student ids are strings, as a class collection stores them (contents.students), not "
                          f"{not_ids[0]!r}")
    check_seed(seed)  # None would give another split each run
    students = sorted(set(ids))
    if not is_whole_number(held_out):  # before the range, which would blame a count that is fine ("8" of 20)
        raise ConfigError(_not_a_count(held_out, len(students)))
    if not 1 <= held_out < len(students):
        raise ConfigError(f"cannot hold out {held_out} of {len(students)} students: at least one must fine-tune "
                          "and one be held out")
    order = np.random.default_rng(seed).permutation(len(students))
    chosen = {students[index] for index in order[:held_out]}
    return StudentSplit(tuple(s for s in students if s not in chosen), tuple(s for s in students if s in chosen))


def _not_a_count(held_out, students: int) -> str:
    largest = f" from 1 to {students - 1}" if students > 1 else ""
    hint = ""
    # 0.4 for "40%": the likely answer of a class asked to hold out more students.
    if is_number(held_out) and 0 < held_out < 1:
        hint = f" (a count, not a share: {held_out:g} of {students} students is {round(held_out * students)})"
    # 8.0 from len(students) * 0.4 or len(students) / 2: a whole number to the student, but a float. Only for a count
    # that would then be taken: "write 20" of 20 students would be refused next.
    elif is_number(held_out) and float(held_out).is_integer() and 1 <= held_out < students:
        hint = f" (a float: write {int(held_out)}, or compute it with // instead of /)"
    return f"held_out is how many students to hold out: a whole number{largest}, not {held_out!r}{hint}"


def training_images(records: Sequence[DrawingRecord], settings: FineTuneSettings) -> tuple[np.ndarray, np.ndarray]:
    """The class's part of every epoch: each drawing as the pad prepared it, then its redrawn copies; uint8
    (N, 28, 28) like MNIST, and the labels."""
    parts = [model_inputs(records)]
    labels = [np.array([record.label for record in records], dtype=np.int64)]
    if settings.augmented_copies:
        redrawn = render_model_inputs([record.pen_sample() for record in records], augment=True,
                                      copies=settings.augmented_copies, seed=settings.seed)
        parts.append(redrawn.model_inputs)
        labels.append(redrawn.labels)
    return to_mnist_pixels(np.concatenate(parts)), np.concatenate(labels)


def epoch_selections(class_count: int, mnist_count: int, settings: FineTuneSettings,
                     rng: np.random.Generator) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """For each epoch, the class images it shows (indices: all of them, or a fresh random share when they and their
    replay would exceed `settings.images_per_epoch`) and its MNIST replay (fresh training-image indices,
    `mnist_per_drawing` per class image shown)."""
    # Counts of images: 2.5 would give fractional indices, a negative count NumPy's own error.
    for name, count, least in (("class_count", class_count, 1), ("mnist_count", mnist_count, 0)):
        if not (is_whole_number(count) and count >= least):
            raise ConfigError(f"{name} is a number of images: a whole number, {least} or more, not {count!r}")
    shown = min(class_count, max(1, int(settings.images_per_epoch / (1 + settings.mnist_per_drawing))))
    replay_size = min(int(round(shown * settings.mnist_per_drawing)), mnist_count)
    for _ in range(settings.epochs):
        class_indices = (np.arange(class_count) if shown == class_count
                         else rng.choice(class_count, shown, replace=False))
        yield class_indices, rng.choice(mnist_count, replay_size, replace=False)


@dataclass(frozen=True, eq=False)
class FineTuneRun:
    """The outcome of `fine_tune`: the model, where it was saved, and what it cost."""

    model: keras.Model
    model_path: Path
    card_path: Path
    base_path: Path
    settings: FineTuneSettings
    students: int
    drawings: int
    prepare_seconds: float  # drawing the redrawn copies
    train_seconds: float
    mnist_test_accuracy: float
    replaced: bool = False  # whether `model_path` held a model before, which this run's model replaced
    # The stored ids of the students whose drawings fine-tuned the model: in this run, and in the fine-tunings that
    # made the model it started from (from that model's card). None of them is held out (`before_and_after`). Out of
    # the repr: each student knows their own id (the panel shows it).
    fine_tune_students: frozenset[str] = dataclasses.field(default=frozenset(), repr=False)
    earlier_fine_tune_students: frozenset[str] = dataclasses.field(default=frozenset(), repr=False)

    @property
    def learned_from(self) -> frozenset[str]:
        """Every student whose drawings the model learned from, in this run or an earlier fine-tuning."""
        return self.fine_tune_students | self.earlier_fine_tune_students

    def summary(self) -> str:
        """What was fine-tuned and where it was saved, and whether that replaced an earlier model."""
        replaced = " (it replaced the model saved there before)" if self.replaced else ""
        return (f"fine-tuned on {counted(self.drawings, 'drawing')} by {counted(self.students, 'student')}, saved as "
                f"{project_relative(self.model_path)}{replaced}")


def fine_tune(records: Iterable[DrawingRecord], base_path: str | os.PathLike | None = None,
              mnist: MnistData | None = None, settings: FineTuneSettings = FineTuneSettings(),
              output: str | os.PathLike | None = None, verbose: int = 0) -> FineTuneRun:
    """Fine-tune the model at `base_path` (default: the pad's) on `records`, with MNIST replay; save it at
    `output` (default: my_models/class_<base>.keras) with a card holding its MNIST test accuracy (only when `mnist`
    holds all of MNIST's test images: a card's test figures are those; the run's `mnist_test_accuracy` is measured on
    whatever test images it has)."""
    check_mnist_data(mnist, "mnist")
    if not isinstance(settings, FineTuneSettings):
        raise ConfigError(f"settings is a FineTuneSettings, such as FineTuneSettings.quick() (a dict of settings "
                          f"becomes one as FineTuneSettings(**settings)), not {type(settings).__name__}")
    records = checked_records(records, "fine_tune")
    base_path = checked_path(base_path, MODEL_FILE_EXAMPLE) if base_path is not None else pad_model_path()
    output = checked_output_path(output if output is not None else class_model_path(base_path.stem))
    if output.resolve() == base_path.resolve():
        raise ConfigError(f"{output.name}: the fine-tuned model must not replace the model it starts from")
    if in_models_dir(output):
        raise ConfigError(f"{project_relative(output)}: a fine-tuned model is saved in my_models/ (the default), "
                          "never among the shipped models")
    history_path, card_path, _ = check_run_outputs(output, "the fine-tuned model")
    set_seeds(settings.seed)
    rng = np.random.default_rng(settings.seed)
    # The model before its card, which a missing file or the digit check would otherwise be blamed on.
    model = checked_model(load_model(base_path), "fine_tune's base model")
    base_card = ModelCard.for_model(base_path)  # before MNIST and the training: a model without a card fails fast
    mnist = mnist if mnist is not None else load_mnist()
    # A fine-tuned model keeps the layers its own fine-tuning froze (Keras saves `trainable`): these settings decide.
    # Layer by layer: `model.trainable = True` changes nothing on a model that is itself trainable (Keras skips
    # assigning an attribute the value it holds, and with it passing the value on to the layers).
    for layer in model.layers:
        layer.trainable = True
    for layer in batch_norm_layers(model):
        layer.trainable = False  # inference mode too: its statistics stay those of plain digits
    convolutions = conv_layers(model)
    if settings.frozen_convolutions > len(convolutions):  # checked before the redrawing: it fails fast
        raise ConfigError(f"cannot leave {settings.frozen_convolutions} convolutions as they are: "
                          f"{model.name} has {len(convolutions)}")
    for layer in convolutions[:settings.frozen_convolutions]:
        layer.trainable = False

    started = time.perf_counter()
    class_images, class_labels = training_images(records, settings)
    prepare_seconds = time.perf_counter() - started

    model.compile(optimizer=keras.optimizers.Adam(settings.learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], steps_per_execution=STEPS_PER_EXECUTION)
    history: dict[str, list[float]] = {"epoch": [], "loss": [], "accuracy": []}
    started = time.perf_counter()
    for epoch, (shown, replay) in enumerate(epoch_selections(len(class_labels), len(mnist.y_train), settings, rng)):
        images = np.concatenate([class_images[shown], mnist.x_train[replay]])
        labels = np.concatenate([class_labels[shown], mnist.y_train[replay]])
        epoch_seed = (settings.seed + epoch) % (MAX_SEED + 1)  # the largest seed, too, has a next one
        logs = model.fit(make_dataset(images, labels, settings.batch_size, True, seed=epoch_seed),
                         epochs=1, verbose=verbose, shuffle=False).history  # the dataset shuffles itself
        history["epoch"].append(epoch)  # from 0, as Keras and `train` count them
        history["loss"].append(logs["loss"][0])
        history["accuracy"].append(logs["accuracy"][0])
    train_seconds = time.perf_counter() - started

    mnist_accuracy = accuracy(model, mnist.x_test, mnist.y_test)
    replaced = output.is_file()  # an earlier run's, or a full run's model replaced by a quick one: said, not silent
    students = frozenset(record.student for record in records)
    card = ModelCard(
        name=output.stem, model_file=output.name, architecture=base_card.architecture,
        parameters=int(model.count_params()),
        data={"source": f"fine-tuned from {base_path.stem} on a class's drawings, with MNIST replay",
              "base_model": base_path.stem, "class_drawings": len(records), "students": len(students),
              FINE_TUNE_STUDENTS: sorted(students), "class_sources": sorted({record.source for record in records}),
              "train_images_per_epoch": int(len(labels)), "validation_images": 0,
              "test_images": int(len(mnist.y_test)), **_what_it_learned_before(base_card, records)},
        config=settings.to_dict(), precision_used="float32", epochs_run=settings.epochs,
        train_seconds=round(prepare_seconds + train_seconds, 1), best_epoch=settings.epochs,
        history_file=history_path.name, versions=library_versions(),
        metrics={TEST_ACCURACY: mnist_accuracy} if mnist.whole_test_set else {},
    )
    save_run_outputs(model, card, history, output)
    return FineTuneRun(model, output, card_path, base_path, settings, len(students), len(records), prepare_seconds,
                       train_seconds, mnist_accuracy, replaced, students, base_card.fine_tune_students)


def _what_it_learned_before(base_card: ModelCard, records: Sequence[DrawingRecord]) -> dict:
    """The card's entries of what the model learned before this fine-tuning, from the base model's card: its earlier
    fine-tunings, the UNIPEN writers it trained on (which writers a benchmark must then keep out of its classes), and
    whether it learned from UNIPEN's benchmark writers, before or now (the demonstration class is made of them)."""
    entries = {}
    if earlier := base_card.fine_tunings:
        entries[EARLIER_FINE_TUNING] = earlier
    saw_benchmark_writers = base_card.saw_benchmark_writers or any(record.source == DEMO_SOURCE for record in records)
    if base_card.saw_real_handwriting:
        entries["real_handwriting"] = base_card.data["real_handwriting"]
        if saw_benchmark_writers:  # its "the benchmark writers are never used" no longer holds
            entries["real_handwriting"] = {**entries["real_handwriting"], "split": SPLIT_AFTER_BENCHMARK_WRITERS}
    if saw_benchmark_writers:
        entries[BENCHMARK_WRITERS_SEEN] = True
    return entries


# McNemar's exact test, two-sided: if fine-tuning made no difference, each held-out drawing it changed is as likely
# to have been fixed as broken; a split as uneven as the one found, or more so, has to be rarer than this. No net
# change of 5 drawings or fewer passes, even when every change goes one way.
SIGNIFICANCE_LEVEL = 0.05


def error_reduction(before: float, after: float) -> float | None:
    """The share of the mistakes `before` (a count or an error) that are gone `after`, negative if mistakes were
    added; None when there were none before: no share of nothing (and, unlike NaN, JSON can hold it)."""
    return 1 - after / before if before else None


@dataclass(frozen=True)
class BeforeAfter:
    """Each held-out student's score with the model before and after fine-tuning, and how many held-out drawings
    changed: `fixed` read wrong before and right after, `broken` read right before and wrong after."""

    before: dict[str, Score]
    after: dict[str, Score]
    fixed: int
    broken: int

    def __post_init__(self) -> None:
        # The table reads every student on both sides (a KeyError otherwise), and the errors divide by the drawings
        # (NaN without any).
        drawings = _drawings_per_student(self.before)
        if not drawings or min(drawings.values()) < 1 or drawings != _drawings_per_student(self.after):
            raise ConfigError(f"before and after must score the same held-out students, each on the same drawings (at "
                              f"least one): before_and_after(records, model_before, model_after) scores them so; "
                              f"found {_students_and_drawings(self.before)} before and "
                              f"{_students_and_drawings(self.after)} after")
        # The advice's test of luck reads them: counts that do not add up would decide it wrongly.
        before, after = self.mistakes()
        if not (is_whole_number(self.fixed) and is_whole_number(self.broken) and 0 <= self.fixed <= before
                and 0 <= self.broken <= after and self.fixed - self.broken == before - after):
            raise ConfigError(f"fixed and broken count the held-out drawings read right only after fine-tuning and "
                              f"only before it, as before_and_after(records, model_before, model_after) counts them: "
                              f"with {before} → {after} mistakes, fixed - broken is {before - after}, fixed at most "
                              f"{before} and broken at most {after}; found fixed={self.fixed!r}, broken={self.broken!r}")

    def __repr__(self) -> str:
        # Not the generated one: it pairs each held-out student's id with their scores, and each student knows their
        # own id (the panel shows it).
        before, after = self.mistakes()
        return (f"BeforeAfter({counted(len(self.before), 'held-out student')}: {before} → {after} mistakes, "
                f"{self.fixed} fixed and {self.broken} broken)")

    def mistakes(self) -> tuple[int, int]:
        """The mistakes on all held-out drawings together, before and after fine-tuning."""
        return _mistakes(self.before), _mistakes(self.after)

    def errors(self) -> tuple[float, float]:
        """The error on all held-out drawings together, before and after fine-tuning."""
        return _pooled_error(self.before), _pooled_error(self.after)

    @property
    def relative_reduction(self) -> float | None:
        """The share of the mistakes that fine-tuning removed (`error_reduction`); None when there were no mistakes
        before, nothing to reduce (which `advice` says in words)."""
        return error_reduction(*self.errors())

    @property
    def can_be_luck(self) -> bool:
        """Whether the change could well be luck: the drawings fixed and broken are too few, or too evenly split,
        to show that fine-tuning changed anything (McNemar's exact test, two-sided, at `SIGNIFICANCE_LEVEL`)."""
        changed = self.fixed + self.broken
        return changed == 0 or binomtest(self.fixed, changed).pvalue >= SIGNIFICANCE_LEVEL

    def advice(self) -> str:
        """Whether the pad should use the fine-tuned model, decided on the held-out students' drawings only (the
        fine-tuning students' own drawings would flatter it); a change that can be luck is said to be one."""
        before, after = self.mistakes()
        error_before, error_after = self.errors()
        measured = (f"{before} → {after} mistakes on {counted(len(self.before), 'held-out student')} "
                    f"({error_before:.1%} → {error_after:.1%} error)")
        luck = self.can_be_luck
        if after == before:
            verdict = f"Fine-tuning gained nothing overall: {measured}. Keep the pad's model."
        elif after < before:
            verdict = (f"Fewer mistakes after fine-tuning: {measured}. The pad may use either model." if luck
                       else f"Fine-tuning helped: {measured}. The pad can use the fine-tuned model.")
        else:
            verdict = (f"More mistakes after fine-tuning: {measured}. Keep the pad's model." if luck
                       else f"Fine-tuning made things worse: {measured}. Keep the pad's model.")
        if before == 0:
            verdict += " No mistakes before fine-tuning: there was nothing to reduce."
        if luck and after != before:
            effect = "helped" if after < before else "made things worse"
            verdict += (f" {counted(self.fixed, 'drawing')} fixed (wrong before, right after) and {self.broken} "
                        f"broken: too few to tell from luck, so this does not show that fine-tuning {effect}. Hold "
                        "out more students, or collect more drawings, to be sure.")
        return verdict

    def table(self) -> str:
        """Anonymous: held-out students by rank, the worst read before fine-tuning first."""
        rows = [[label, str(self.before[s].samples), f"{self.before[s].error:.1%}", f"{self.after[s].error:.1%}"]
                for label, s in zip(anonymous_labels(len(self.before)), ranked(self.before))]
        rows.append(["all", str(sum(score.samples for score in self.before.values())),
                     *(f"{error:.1%}" for error in self.errors())])
        return format_table(["held-out student", "drawings", "error before", "error after"], rows,
                            [False, True, True, True])

    def figure(self) -> Figure:
        """Each held-out student's accuracy before and after, in the order of `table`."""
        return plots.plot_accuracy_by_writer({"before": writer_accuracies(self.before),
                                              "after fine-tuning": writer_accuracies(self.after)}, who="student")


def _not_held_out(taught: int, students: int) -> str:
    # Counts, not ids: an error message may be on the class's screen.
    return (f"before_and_after measures on held-out students, and {taught} of the {counted(students, 'student')} "
            f"in these drawings fine-tuned the model: it learned from their drawings, which would flatter it. Give "
            f"only the held-out students' drawings, such as contents.of_students(split.held_out).records")


def _drawings_per_student(scores: dict[str, Score]) -> dict[str, int]:
    return {student: score.samples for student, score in scores.items()}


def _students_and_drawings(scores: dict[str, Score]) -> str:
    # Counts, not ids: an error message may be on the class's screen.
    return f"{counted(len(scores), 'student')} ({counted(sum(_drawings_per_student(scores).values()), 'drawing')})"


def _mistakes(scores: dict[str, Score]) -> int:
    return sum(score.mistakes for score in scores.values())


def _pooled_error(scores: dict[str, Score]) -> float:
    return _mistakes(scores) / sum(score.samples for score in scores.values())  # never 0: BeforeAfter refuses it


def before_and_after(records: Iterable[DrawingRecord], before: keras.Model, after: keras.Model) -> BeforeAfter:
    """Score the held-out students' drawings with both digit models (Keras models, or `Predictor`s or `fine_tune`'s
    result: their models, as `checked_model` takes them), and count the drawings that changed. Given `fine_tune`'s
    result, drawings of a student it learned from are refused: they are not held out."""
    models = (checked_model(before, "before_and_after's model before fine-tuning"),
              checked_model(after, "before_and_after's fine-tuned model"))
    records = checked_records(records, "before_and_after")
    students = [record.student for record in records]
    for given in (before, after):
        if isinstance(given, FineTuneRun) and (taught := set(students) & given.learned_from):
            raise ConfigError(_not_held_out(len(taught), len(set(students))))
    before, after = models
    inputs = model_inputs(records)[..., np.newaxis]
    labels = np.array([record.label for record in records], dtype=np.int64)
    right_before, right_after = (answers(predict_probabilities(model, inputs)) == labels for model in (before, after))
    return BeforeAfter(score_groups(students, right_before), score_groups(students, right_after),
                       fixed=int(np.sum(right_after & ~right_before)), broken=int(np.sum(right_before & ~right_after)))

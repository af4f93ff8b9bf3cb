"""Does the pad say "that's not a digit" when it should, and do its percentages mean what they say?

    python benchmarks/not_a_digit.py                      # the pad's model and digit check, every benchmark writer
    python benchmarks/not_a_digit.py --per-kind 20 --output /tmp/nad.json   # smoke run

Everything is measured the way the pad answers (`Predictor.predict` on the drawing: preprocessing, the size and
shape rules and the digit check), on people that no training or threshold ever saw: UNIPEN's benchmark writers
(`handwriting.digit_split` / `letter_split`), each digit drawn in every named rendering, their letters (letters
that are also digit shapes, such as O, I, l, S, Z, b, g, q, reported apart), and drawings generated with a seed of
their own: shapes, scribbles, several digits side by side (of benchmark writers), scattered dots, lone marks and
dots, patches scribbled over, blank pads, and shapes of families that the check never trained on and that no
choice between checks looked at. Reported: the share of real digits refused, the share of each kind
of non-digit accepted, the AUROC of the check's score for digits against letters, and the calibration error (ECE)
of the digit probabilities before and after the model's temperature, on the MNIST test set and on the real
digits.

Data: UNIPEN train_r01_v07, International Unipen Foundation (1999), Creative Commons Attribution 4.0,
https://doi.org/10.5281/zenodo.1195803.
"""
from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable, Collection
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import (check_output, digit_check_file, machine_info, positive_count, run_main, smoke_options,  # noqa: E402
                     unipen_data, write_report)

from numvision_lib.calibration import apply_temperature, expected_calibration_error  # noqa: E402
from numvision_lib.data import load_mnist  # noqa: E402
from numvision_lib.drawn_digits import resample_polyline  # noqa: E402
from numvision_lib.errors import ImageError  # noqa: E402
from numvision_lib.evaluation import confident_mistakes  # noqa: E402
from numvision_lib.handwriting import (MEASUREMENT_SEED, RENDERINGS, letter_split, part_digits,  # noqa: E402
                                       pen_drawing)
from numvision_lib.model_card import pad_model_path  # noqa: E402
from numvision_lib.not_a_digit import (DIGIT_CHECK_PATH, GENERATED_KINDS, SHAPES, UNSEEN_SHAPES,  # noqa: E402
                                       generated_non_digits, letters_by_kind)
from numvision_lib.predict import Predictor  # noqa: E402
from numvision_lib.prediction import MIN_CONFIDENCE, NOT_A_DIGIT  # noqa: E402
from numvision_lib.preprocess import DEFAULT_CANVAS_SIZE  # noqa: E402

# The generated drawings of the benchmark have a seed that neither training nor validation used.
BENCHMARK_SEED = 4242
# Shape families that no check trained on or was chosen by (`not_a_digit.UNSEEN_SHAPES["benchmark"]`).
UNSEEN_SHAPES_GROUP = "shapes never trained on"
SHAPE_FAMILIES = {"shapes": SHAPES, UNSEEN_SHAPES_GROUP: UNSEEN_SHAPES["benchmark"]}
# Pixels between the points of a pen stroke, as a mouse's events come.
MOUSE_SPACING = 3.0


def pad_answer(predictor: Predictor, drawing) -> tuple[str, float | None, np.ndarray | None]:
    """(verdict, digit score, calibrated probabilities) of the pad for one drawing; a blank one is refused."""
    try:
        prediction = predictor.predict(*drawing.pad_input())
    except ImageError:
        return NOT_A_DIGIT, None, None
    score = None
    if predictor.digit_check is not None:
        score = float(predictor.digit_scores(prediction.model_input[None])[0])
    return prediction.verdict, score, prediction.probabilities


def _marks(count: int, seed: int) -> list[tuple[list, int, float]]:
    """Lone dots and short ticks on an empty canvas, as a student's stray click leaves them."""
    rng = np.random.default_rng([seed, 7])
    marks = []
    for _ in range(count):
        start = rng.uniform(40, DEFAULT_CANVAS_SIZE - 40, 2)
        end = start + rng.normal(0, 6, 2) * (rng.random() < 0.7)
        marks.append(([[tuple(start), tuple(end)]], DEFAULT_CANVAS_SIZE, float(rng.uniform(8, 24))))
    return marks


def _scribbled_patches(count: int, seed: int) -> list[tuple[list, int, float]]:
    """Patches coloured in with the pen: back and forth sideways, up and down, or round and round, with a wobbly
    hand, as points `MOUSE_SPACING` pixels apart."""
    rng = np.random.default_rng([seed, 11])
    patches = []
    for index in range(count):
        width, height = rng.uniform(30, 160, 2)
        turns = int(rng.integers(6, 30))
        if index % 3 == 2:
            angles = np.linspace(0, 2 * np.pi * turns / 3, 40 * turns)
            radii = rng.uniform(0.3, 1.0, len(angles)) ** 0.3
            x, y = width / 2 * radii * np.cos(angles), height / 2 * radii * np.sin(angles)
        else:
            across, along = np.tile([-0.5, 0.5], turns), np.linspace(-0.5, 0.5, 2 * turns)
            x, y = (across * width, along * height) if index % 3 == 0 else (along * width, across * height)
        points = np.stack([x, y], axis=1) + rng.uniform(90, DEFAULT_CANVAS_SIZE - 90, 2) + rng.normal(0, 2, (len(x), 2))
        patches.append(([[tuple(point) for point in resample_polyline(points, MOUSE_SPACING)]], DEFAULT_CANVAS_SIZE,
                        float(rng.choice([12, 20, 28]))))
    return patches


class _Strokes:
    """A ready-made pad input with the `pad_input()` of a drawing."""

    def __init__(self, strokes, canvas_size, brush):
        self._input = (strokes, canvas_size, brush)

    def pad_input(self):
        return self._input


def benchmark_samples(per_kind: int | None, data_dir=None) -> tuple[list, list, list]:
    """The benchmark writers' digits, letters and lookalike letters (at most `per_kind` of each kind)."""
    digits = part_digits("benchmark", data_dir, None if per_kind is None else max(1, per_kind // 10))
    letters, lookalikes = letters_by_kind(letter_split(data_dir)["benchmark"])
    if per_kind is not None:
        letters, lookalikes = letters[:per_kind], lookalikes[:per_kind]
    return digits, letters, lookalikes


def _every_other_changed(shapes: list) -> list:
    # Drawn only neatly, a shape family is the same drawing over and over (all 35 lightning bolts of the shapes row
    # once scored exactly alike): every other one gets random changes, as the check's training draws them.
    return [pen_drawing(sample, augment=True, seed=BENCHMARK_SEED) if index % 2 == 0
            else pen_drawing(sample, "pen_20", seed=BENCHMARK_SEED) for index, sample in enumerate(shapes)]


def benchmark_groups(digits: list, letters: list, lookalikes: list, per_kind: int | None,
                     names: Collection[str] | None = None) -> dict[str, list]:
    """Every group of drawings the benchmark measures, by name: the digits in each rendering, the letters, and the
    generated non-digits. `names` draws only those groups (each seeded on its own, so exactly as in the full set)."""
    generated_count = per_kind or 600
    drawers: dict[str, Callable[[], list]] = {}
    for rendering in RENDERINGS:
        drawers[f"digits, {rendering}"] = functools.partial(_drawn, digits, rendering, MEASUREMENT_SEED)
    drawers["letters"] = functools.partial(_drawn, letters, "pen_20", MEASUREMENT_SEED)
    drawers["lookalike letters"] = functools.partial(_drawn, lookalikes, "pen_20", MEASUREMENT_SEED)
    for kind in GENERATED_KINDS:
        drawers[kind.replace("_", " ")] = functools.partial(_generated_group, kind, generated_count, digits)
    drawers[UNSEEN_SHAPES_GROUP] = lambda: _every_other_changed(generated_non_digits(
        "shapes", generated_count, BENCHMARK_SEED, shapes=SHAPE_FAMILIES[UNSEEN_SHAPES_GROUP]))
    drawers["dots and marks"] = lambda: [_Strokes(*mark) for mark in _marks(generated_count, BENCHMARK_SEED)]
    drawers["scribbled patches"] = lambda: [_Strokes(*patch)
                                            for patch in _scribbled_patches(generated_count, BENCHMARK_SEED)]
    drawers["blank pad"] = lambda: [_Strokes([], DEFAULT_CANVAS_SIZE, 20.0)]
    return {name: draw() for name, draw in drawers.items() if names is None or name in names}


def _drawn(samples: list, rendering: str, seed: int) -> list:
    return [pen_drawing(sample, rendering, seed=seed) for sample in samples]


def _generated_group(kind: str, count: int, digits: list) -> list:
    samples = generated_non_digits(kind, count, BENCHMARK_SEED, digits)
    return _every_other_changed(samples) if kind == "shapes" else _drawn(samples, "pen_20", BENCHMARK_SEED)


def accepted_by(groups: list[str], refused: np.ndarray, sort: bool = False) -> dict[str, float]:
    """The share of each group's drawings accepted as digits, groups in order of first appearance (or sorted)."""
    names = sorted(set(groups)) if sort else list(dict.fromkeys(groups))
    groups_array = np.array(groups)
    return {name: float(np.mean(~refused[groups_array == name])) for name in names}


def measure(predictor: Predictor, per_kind: int | None, data_dir=None) -> dict:
    digits, letters, lookalikes = benchmark_samples(per_kind, data_dir)
    groups = benchmark_groups(digits, letters, lookalikes, per_kind)
    answers = {name: [pad_answer(predictor, drawing) for drawing in drawings] for name, drawings in groups.items()}
    result: dict = {"groups": {}}
    for name, group in answers.items():
        refused = np.array([verdict == NOT_A_DIGIT for verdict, _, _ in group])
        entry = {"samples": len(group), "refused": float(refused.mean()), "accepted": float(1 - refused.mean())}
        if name in ("letters", "lookalike letters"):
            samples = letters if name == "letters" else lookalikes
            entry["accepted_by_letter"] = accepted_by([sample.label for sample in samples], refused, sort=True)
        if name in SHAPE_FAMILIES:
            families = list(SHAPE_FAMILIES[name])  # generated_non_digits takes turns through the families
            entry["accepted_by_family"] = accepted_by([families[index % len(families)]
                                                       for index in range(len(refused))], refused)
        result["groups"][name] = entry
    digit_groups = [name for name in answers if name.startswith("digits")]
    refused_digits = np.concatenate([[v == NOT_A_DIGIT for v, _, _ in answers[name]] for name in digit_groups])
    result["digits_refused"] = float(refused_digits.mean())
    labels = np.concatenate([[sample.label for sample in digits] for _ in digit_groups]).astype(int)
    probabilities = np.stack([p for name in digit_groups for _, _, p in answers[name]])
    accepted_digit = ~refused_digits
    wrong = probabilities.argmax(axis=1) != labels
    result["confident_mistakes_on_digits"] = confident_mistakes(wrong & accepted_digit,
                                                                probabilities.max(axis=1))["share_of_samples"]
    if predictor.digit_check is not None:
        from sklearn.metrics import roc_auc_score

        digit_scores = [s for name in digit_groups for _, s, _ in answers[name]]
        letter_scores = [s for _, s, _ in answers["letters"]]
        result["auroc_digits_vs_letters"] = float(roc_auc_score(
            [1] * len(digit_scores) + [0] * len(letter_scores), digit_scores + letter_scores))
    result["real_digit_probabilities"] = (probabilities, labels)
    return result


def calibration_figures(predictor: Predictor, real_probabilities: np.ndarray, real_labels: np.ndarray,
                        mnist_limit: int | None) -> dict:
    mnist = load_mnist()
    images, labels = mnist.x_test[:mnist_limit], mnist.y_test[:mnist_limit]
    calibrated = predictor.probabilities(images.astype(np.float32) / 255)
    raw = apply_temperature(calibrated, 1 / predictor.temperature)
    raw_real = apply_temperature(real_probabilities, 1 / predictor.temperature)
    return {
        "temperature": predictor.temperature,
        "mnist_test": {"ece_before": expected_calibration_error(raw, labels),
                       "ece_after": expected_calibration_error(calibrated, labels), "samples": int(len(labels))},
        "real_handwriting": {"ece_before": expected_calibration_error(raw_real, real_labels),
                             "ece_after": expected_calibration_error(real_probabilities, real_labels),
                             "samples": int(len(real_labels))},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="digit model (default: the pad's)")
    parser.add_argument("--check", type=digit_check_file, default=DIGIT_CHECK_PATH,
                        help="digit check (default: the shipped one)")
    parser.add_argument("--per-kind", type=positive_count, help="at most this many drawings of each kind (a smoke run)")
    parser.add_argument("--output", type=Path, help="JSON report (default: results/benchmarks/not_a_digit.json)")
    args = parser.parse_args(argv)
    smoke = smoke_options(parser, args)
    check_output(parser, args.output)

    model_path = args.model or pad_model_path()
    predictor = Predictor.load(model_path, args.check)
    if predictor.digit_check is None:
        sys.exit(f"{args.check}: no digit check. Train it with `python -m numvision_lib train-digit-check`.")
    result = measure(predictor, args.per_kind)
    real_probabilities, real_labels = result.pop("real_digit_probabilities")
    calibration = calibration_figures(predictor, real_probabilities, real_labels, args.per_kind and 10 * args.per_kind)

    print(f"Not a digit? {model_path.name} with the digit check (threshold {predictor.digit_check.threshold:.4f}), "
          "answering as the pad does, on UNIPEN's benchmark writers and generated drawings\n")
    print(f"{'drawings':24s}{'samples':>9s}{'refused':>10s}{'accepted':>10s}")
    for name, entry in result["groups"].items():
        print(f"{name:24s}{entry['samples']:>9,d}{entry['refused']:>10.1%}{entry['accepted']:>10.1%}")
    print(f"\nreal digits refused: {result['digits_refused']:.2%} (target at most 1%)")
    print(f"AUROC of the check's score, digits against letters: {result['auroc_digits_vs_letters']:.4f}")
    print(f"confident mistakes (accepted, wrong, >= {MIN_CONFIDENCE:.0%}) on real digits: "
          f"{result['confident_mistakes_on_digits']:.2%}")
    letters = result["groups"]["letters"]["accepted_by_letter"]
    print("letters accepted most often: " + ", ".join(
        f"{letter} {share:.0%}" for letter, share in sorted(letters.items(), key=lambda item: -item[1])[:10]))
    for name in SHAPE_FAMILIES:
        families = result["groups"][name]["accepted_by_family"]
        print(f"{name}, accepted: " + ", ".join(f"{family} {share:.0%}" for family, share in families.items()))
    print(f"\ncalibration (temperature {calibration['temperature']}): expected calibration error")
    for name in ("mnist_test", "real_handwriting"):
        figures = calibration[name]
        print(f"  {name:18s} {figures['ece_before']:.2%} before, {figures['ece_after']:.2%} after "
              f"({figures['samples']:,} digits)")
    write_report("not_a_digit", {
        "machine": machine_info(), "model": model_path.name, "check": args.check.name,
        "threshold": predictor.digit_check.threshold, "per_kind": args.per_kind, "data": unipen_data("benchmark"),
        **result, "calibration": calibration,
    }, args.output, smoke_run=smoke)


if __name__ == "__main__":
    sys.exit(run_main(main))

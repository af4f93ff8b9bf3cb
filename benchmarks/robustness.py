"""Inside and against the shipped models: accuracy under FGSM attack, one round of adversarial training, and
whether the explanations point at the ink.

    python benchmarks/robustness.py                      # all 10,000 test images; the round of notebook 08
    python benchmarks/robustness.py --images 200 --train-images 200 --explain-images 20 \
        --models models/numvision_cnn.keras --output /tmp/r.json      # smoke run

1. Accuracy on FGSM pictures at every ε of `attacks.EPSILONS`, for every shipped model (or `--models`), on the
   first `--images` MNIST test images, beside the published figures for small MNIST CNNs.
2. One round of adversarial training of the pad's model (or the first of `--models`, or of a `--models-dir` whose
   cards the pad cannot choose among; `attacks.adversarial_training_round`, one epoch on `--train-images` training
   images, ε = 0.1), and its accuracy under attack before and after, also against the stronger ten-step attack
   (`attacks.iterative_fgsm`) on the first 1,000 of those test images.
3. For every shipped model, on the first `--explain-images` test digits, notebook 07's `explain.explanation_checks`:
   the share of Grad-CAM's and integrated gradients' positive heat within 3 pixels of the ink (and the share of the
   picture that is), and the probability lost by covering the 36 pixels Grad-CAM marks against the same shape moved
   elsewhere on the digit.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import (add_model_arguments, check_output, machine_info, model_paths, positive_count,  # noqa: E402
                     run_main, smoke_options, write_report)

from numvision_lib import attacks, explain  # noqa: E402
from numvision_lib.data import MNIST_TRAINING_IMAGES, load_mnist, to_model_input  # noqa: E402
from numvision_lib.errors import ConfigError, ModelFileError  # noqa: E402
from numvision_lib.model import accuracy, load_model  # noqa: E402
from numvision_lib.model_card import pad_model_path  # noqa: E402
from numvision_lib.paths import MODELS_DIR  # noqa: E402
from numvision_lib.training import TrainConfig  # noqa: E402

STRONGER_ATTACK_IMAGES = 1_000  # ten gradients each


def accuracy_against_ten_steps(model, images: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy on pictures attacked with ten FGSM steps within ε = 0.1 (`attacks.iterative_fgsm`)."""
    attacked = attacks.iterative_fgsm(model, images, labels, attacks.TRAINING_EPSILON)
    return accuracy(model, attacked, labels)


def _too_few_to_train(count: int, problem: ConfigError) -> str:
    return f"--train-images {count}: {problem} (--train-images is the adversarial round's max_train_samples)"


def print_curves(curves: dict[str, attacks.RobustnessCurve]) -> None:
    names = list(curves)
    print(f"{'ε':>6s}" + "".join(f"{name[:28]:>30s}" for name in names) + f"{'published, small CNNs':>24s}")
    for index, epsilon in enumerate(attacks.EPSILONS):
        published = attacks.PUBLISHED_ACCURACY.get(epsilon)
        row = "".join(f"{curves[name].accuracies[index]:>30.2%}" for name in names)
        print(f"{epsilon:>6.2f}{row}{f'{published[0]:.0%}-{published[1]:.0%}' if published else '':>24s}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=positive_count, default=10_000, help="test images attacked (default: all)")
    parser.add_argument("--train-images", type=positive_count, default=TrainConfig.quick().max_train_samples,
                        help="training images of the adversarial round (default: quick mode's)")
    parser.add_argument("--explain-images", type=positive_count, default=500,
                        help="test digits for the explanation checks")
    add_model_arguments(parser, "the first gets the adversarial round")
    parser.add_argument("--output", type=Path, help="JSON report (default: results/benchmarks/robustness.json)")
    args = parser.parse_args(argv)
    smoke = smoke_options(parser, args)
    check_output(parser, args.output)
    try:
        # Before the attack curves, which take most of the run. MNIST has fewer training images than a count may
        # ask for: the round, its printout and its report say how many it used.
        config = TrainConfig.quick(max_train_samples=min(args.train_images, MNIST_TRAINING_IMAGES))
    except ConfigError as problem:
        parser.error(_too_few_to_train(args.train_images, problem))
    paths = model_paths(args)
    if not args.models:  # --models gives its own order; else the pad's model first, for the adversarial round
        try:
            pad_path = pad_model_path(args.models_dir)
        except ModelFileError:  # a folder of one's own, whose cards the pad could not choose among: as listed
            if Path(args.models_dir).resolve() == MODELS_DIR.resolve():
                raise  # the shipped models: the round and its report are the pad's model's, or nothing
            pad_path = None
        paths = sorted(paths, key=lambda path: path != pad_path)

    data = load_mnist()
    images, labels = data.x_test[:args.images], data.y_test[:args.images]
    models = {path.stem: load_model(path) for path in paths}
    curves = {name: attacks.accuracy_under_attack(model, images, labels, name=name) for name, model in models.items()}
    print(f"Accuracy under FGSM attack, {len(labels):,} MNIST test images\n")
    print_curves(curves)

    trained_name = next(iter(models))  # the first model gets the adversarial round
    started = time.perf_counter()
    hardened = attacks.adversarial_training_round(models[trained_name], data, attacks.TRAINING_EPSILON, config)
    round_seconds = time.perf_counter() - started
    after = attacks.accuracy_under_attack(hardened, images, labels, name=f"{trained_name} after")
    print(f"\nOne round of adversarial training of {trained_name} (ε = {attacks.TRAINING_EPSILON}, "
          f"{config.epochs} epoch on {config.max_train_samples:,} training images) took {round_seconds:.1f} s\n")
    print_curves({f"{trained_name} before": curves[trained_name], after.name: after})
    few_images, few_labels = to_model_input(images[:STRONGER_ATTACK_IMAGES]), labels[:STRONGER_ATTACK_IMAGES]
    stronger = {name: accuracy_against_ten_steps(model, few_images, few_labels)
                for name, model in ((f"{trained_name} before", models[trained_name]), (after.name, hardened))}
    print(f"\nA ten-step attack within ε = {attacks.TRAINING_EPSILON} (iterative FGSM), {len(few_labels):,} test "
          "images: " + ", ".join(f"{name} {accuracy:.1%}" for name, accuracy in stronger.items()))

    explain_images = to_model_input(data.x_test[:args.explain_images])[..., 0]
    checks = {name: explain.explanation_checks(model, explain_images) for name, model in models.items()}
    # MNIST has fewer test digits than a count may ask for: the figures say how many were explained.
    print(f"\nExplanations on {len(explain_images):,} test digits (integrated gradients on the first "
          f"{min(len(explain_images), explain.INTEGRATED_GRADIENTS_CHECKED)}), share of positive heat within "
          f"{explain.NEAR_INK_DISTANCE:g} pixels of the ink:")
    for name, check in checks.items():
        print(f"  {name} (Grad-CAM on {check.gradcam_layer}): Grad-CAM {check.gradcam_near_ink:.1%}, "
              f"integrated gradients {check.integrated_gradients_near_ink:.1%}; that area is "
              f"{check.near_ink_area:.1%} of the picture. Covering Grad-CAM's {explain.COVERED_AREA} hottest "
              f"pixels costs {check.lost_covering_gradcam_region:.1%} of the answer's probability, the same shape "
              f"elsewhere on the digit {check.lost_covering_same_region_elsewhere:.1%}")

    report = {
        "machine": machine_info(),
        "test_images": int(len(labels)),
        "epsilons": list(attacks.EPSILONS),
        "published_accuracy": {str(epsilon): list(span) for epsilon, span in attacks.PUBLISHED_ACCURACY.items()},
        "accuracy_under_attack": {name: list(curve.accuracies) for name, curve in curves.items()},
        "adversarial_training": {"model": trained_name, "epsilon": attacks.TRAINING_EPSILON, "config": config.to_dict(),
                                 "seconds": round(round_seconds, 1), "before": list(curves[trained_name].accuracies),
                                 "after": list(after.accuracies),
                                 "ten_step_attack_images": len(few_labels), "ten_step_attack_accuracy": stronger},
        "explanations": {"images": len(explain_images), "near_ink_distance": explain.NEAR_INK_DISTANCE,
                         "covered_area": explain.COVERED_AREA,
                         "models": {name: dataclasses.asdict(check) for name, check in checks.items()}},
    }
    write_report("robustness", report, args.output, smoke_run=smoke)


if __name__ == "__main__":
    sys.exit(run_main(main))

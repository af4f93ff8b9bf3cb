"""Accuracy of the shipped models on synthetic drawn digits, per variant.

    python benchmarks/drawn_accuracy.py                    # every shipped model, 30 samples per digit and variant
    python benchmarks/drawn_accuracy.py --samples-per-digit 3 --output /tmp/drawn.json   # smoke run
    python benchmarks/drawn_accuracy.py --record           # also write metrics.drawn_accuracy into the model cards

"pad" reads each drawing as the drawing pad does (its strokes, or ink on paper as an upload, prepared MNIST's
way); "naive resize" shrinks the whole canvas to 28x28 without cropping or centring, to show what MNIST's
preprocessing is worth. drawn_accuracy is the mean over variants of the "pad" reading.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import (add_model_arguments, check_output, machine_info, model_paths, positive_count,  # noqa: E402
                     run_main, seed_argument, smoke_options, write_report)

from numvision_lib.drawn_digits import VARIANTS, drawn_digit_sets, score_drawn_digits  # noqa: E402
from numvision_lib.model_card import DRAWN_ACCURACY, record_metrics  # noqa: E402
from numvision_lib.predict import Predictor  # noqa: E402
from numvision_lib.preprocess import resize_without_centring  # noqa: E402

PREPARATIONS = {"pad": None, "naive_resize": resize_without_centring}


def evaluate_model(model_path: Path, sets: dict) -> dict:
    predictor = Predictor.load(model_path)
    result = {}
    for preparation, prepare in PREPARATIONS.items():
        scores = {variant: score_drawn_digits(predictor, samples, variant, prepare) for variant, samples in sets.items()}
        result[preparation] = {
            "mean_accuracy": float(np.mean([score.accuracy for score in scores.values()])),
            "variants": {variant: {"accuracy": score.accuracy, "samples": score.samples,
                                   "mistakes": dict(list(score.mistakes.items())[:8])}
                         for variant, score in scores.items()},
        }
    return result


def record_in_card(model_path: Path, result: dict, samples: int, seed: int) -> None:
    as_the_pad_reads = result["pad"]
    record_metrics(model_path, {
        DRAWN_ACCURACY: round(as_the_pad_reads["mean_accuracy"], 4),
        "drawn_accuracy_by_variant": {
            variant: round(values["accuracy"], 4) for variant, values in as_the_pad_reads["variants"].items()},
        "drawn_samples": samples,
        "drawn_seed": seed,
    })


def print_table(results: dict, variants: list[str]) -> None:
    columns = [(model, preparation) for model in results for preparation in PREPARATIONS]
    print(f"{'variant':18s}" + "".join(f"{model[:20]:>22s}" for model, _ in columns))
    print(f"{'':18s}" + "".join(f"{preparation:>22s}" for _, preparation in columns))
    for variant in variants:
        cells = [results[model][prep]["variants"][variant]["accuracy"] for model, prep in columns]
        print(f"{variant:18s}" + "".join(f"{cell:>22.2%}" for cell in cells))
    print(f"{'mean':18s}" + "".join(f"{results[m][p]['mean_accuracy']:>22.2%}" for m, p in columns))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_arguments(parser)
    parser.add_argument("--samples-per-digit", type=positive_count, default=30)
    parser.add_argument("--seed", type=seed_argument, default=42)
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--record", action="store_true",
                        help="write metrics.drawn_accuracy into each shipped model's card")
    parser.add_argument("--output", type=Path, help="JSON report (default: results/benchmarks/drawn_accuracy.json)")
    args = parser.parse_args(argv)

    smoke = smoke_options(parser, args)
    check_output(parser, args.output)
    models = {path.stem: path for path in model_paths(args)}

    sets = drawn_digit_sets(args.samples_per_digit, args.seed, args.variants)
    samples = sum(len(samples) for samples in sets.values())
    results = {name: evaluate_model(path, sets) for name, path in models.items()}
    print(f"Drawn-digit accuracy, {args.samples_per_digit} samples per digit and variant ({samples} in all)\n")
    print_table(results, args.variants)
    for name, result in results.items():
        for variant, values in result["pad"]["variants"].items():
            if values["mistakes"]:
                print(f"{name} {variant}: {values['mistakes']}")
    write_report("drawn_accuracy", {
        "machine": machine_info(), "seed": args.seed, "samples_per_digit": args.samples_per_digit,
        "variants": {variant: VARIANTS[variant].description for variant in args.variants}, "models": results,
    }, args.output, smoke_run=smoke)
    if args.record:
        for name, path in models.items():
            record_in_card(path, results[name], samples, args.seed)
            print(f"recorded {DRAWN_ACCURACY} in the card of {path.name}")


if __name__ == "__main__":
    sys.exit(run_main(main))

"""Accuracy of one training recipe over several seeds: mean and spread, not one lucky run.

    python benchmarks/seed_spread.py --seeds 1 2 --include models/numvision_plus.keras -- \
        --architecture numvision_plus --epochs 30 --augmentation drawing --schedule cosine --patience 30

Every seed is trained and evaluated with the project's own commands (`python -m numvision_lib train` and
`evaluate`), into a scratch folder that is not shipped; checkpoints are picked on validation data only.
`--include` adds models that were already trained with the same recipe (the shipped one) by evaluating them.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import check_output, machine_info, run_main, write_report  # noqa: E402

from numvision_lib.model_card import TEST_ACCURACY, VAL_ACCURACY, ModelCard  # noqa: E402


# The other scripts' reports under results/benchmarks/, which a --name must not replace.
OTHER_REPORTS = tuple(sorted(path.stem for path in Path(__file__).resolve().parent.glob("[a-z]*.py")
                             if path.stem != "seed_spread"))


def report_name(text: str) -> str:
    """An argparse type: a file name under results/benchmarks/, which letters, digits, _ and - keep inside it."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        raise argparse.ArgumentTypeError(f"{text!r}: use only letters, digits, _ and -, for example seed_spread_plus")
    return text


def _name_taken(name: str, owner: str) -> str:
    return (f"--name {name}: results/benchmarks/{name}.json is a report of benchmarks/{owner}.py; choose another "
            "name, or give --output")


def run_command(*arguments: str) -> None:
    subprocess.run([sys.executable, "-m", "numvision_lib", *arguments], check=True)


def evaluate_into(model: Path, results_dir: Path) -> dict:
    run_command("evaluate", "--model", str(model), "--results-dir", str(results_dir))
    card = ModelCard.for_model(model)
    metrics = json.loads((results_dir / "metrics.json").read_text())
    return {
        "seed": card.config["seed"],
        "test_accuracy": metrics[TEST_ACCURACY],
        "best_val_accuracy": card.metrics[VAL_ACCURACY],
        # None for a model without batch normalisation: `train` has nothing to calibrate in it
        "calibrated_val_accuracy": card.batch_norm_calibration.get("val_accuracy_after"),
        "best_epoch": card.best_epoch,
        "epochs_run": card.epochs_run,
        "precision_used": card.precision_used,
        "train_seconds": card.train_seconds,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="*", default=[], help="seeds to train now")
    parser.add_argument("--include", type=Path, nargs="*", default=[], help="already trained models to add")
    parser.add_argument("--workdir", type=Path, help="scratch folder (default: a temporary one)")
    parser.add_argument("--name", type=report_name, default="seed_spread", help="report name under results/benchmarks/")
    parser.add_argument("--output", type=Path, help="JSON report path (default: results/benchmarks/<name>.json)")
    parser.add_argument("train_arguments", nargs=argparse.REMAINDER, help="-- then the `train` options")
    args = parser.parse_args(argv)
    if not args.seeds and not args.include:
        parser.error("nothing to measure: give --seeds to train, --include to add trained models, or both")
    owner = next((stem for stem in OTHER_REPORTS if args.name == stem or args.name.startswith(f"{stem}_")), None)
    if owner and args.output is None:
        parser.error(_name_taken(args.name, owner))
    check_output(parser, args.output)
    train_arguments = [a for a in args.train_arguments if a != "--"]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="numvision-seeds-"))

    runs = [evaluate_into(model, workdir / f"included-{model.stem}") for model in args.include]
    for seed in args.seeds:
        model = workdir / f"seed{seed}.keras"
        run_command("train", *train_arguments, "--seed", str(seed), "--output", str(model))
        runs.append(evaluate_into(model, workdir / f"seed{seed}"))

    accuracies = [run["test_accuracy"] for run in runs]
    summary = {
        "mean_test_accuracy": round(statistics.mean(accuracies), 5),
        "stdev_test_accuracy": round(statistics.stdev(accuracies), 5) if len(accuracies) > 1 else 0.0,
        "min_test_accuracy": min(accuracies),
        "max_test_accuracy": max(accuracies),
    }
    print(f"{'seed':>6s} {'test acc':>9s} {'best val':>9s} {'at epoch':>9s} {'calibrated val':>15s} "
          f"{'minutes':>8s} {'precision':>15s}")
    for run in runs:
        calibrated = "-" if run["calibrated_val_accuracy"] is None else f"{run['calibrated_val_accuracy']:.4%}"
        print(f"{run['seed']:6d} {run['test_accuracy']:9.4%} {run['best_val_accuracy']:9.4%} "
              f"{run['best_epoch']:3d} of {run['epochs_run']:<2d} {calibrated:>15s} {run['train_seconds'] / 60:8.1f} "
              f"{run['precision_used']:>15s}")
    print(f"mean {summary['mean_test_accuracy']:.4%}, spread (stdev) {summary['stdev_test_accuracy']:.4%}, "
          f"range {summary['min_test_accuracy']:.4%}–{summary['max_test_accuracy']:.4%}")
    report = {"machine": machine_info(), "train_arguments": train_arguments, "runs": runs, **summary}
    write_report(args.name, report, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))

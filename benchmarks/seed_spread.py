"""Accuracy of one training recipe over several seeds: mean and spread, not one lucky run.

    python benchmarks/seed_spread.py --seeds 1 2 --include models/numvision_plus.keras --name numvision_plus_seeds \\
        -- --architecture numvision_plus --epochs 25 --augmentation drawing --schedule cosine --patience 25 \\
        --precision mixed_bfloat16   # the README's recipe of numvision_plus, whose shipped model is seed 42

Every seed is trained and evaluated with the project's own commands (`python -m numvision_lib train` and
`evaluate`), into a scratch folder that is not shipped; checkpoints are picked on validation data only.
`--include` adds models that were already trained with the same recipe (the shipped one): their cards must say so,
with a seed of their own, and they are measured on the same test images without writing into their cards. Each
seed counts once.
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
from _report import BENCHMARKS_DIR, check_output, machine_info, run_main, seed_argument, write_report  # noqa: E402

from numvision_lib.__main__ import build_parser, train_settings  # noqa: E402
from numvision_lib.data import load_mnist  # noqa: E402
from numvision_lib.errors import ConfigError  # noqa: E402
from numvision_lib.evaluation import evaluate  # noqa: E402
from numvision_lib.model import load_model  # noqa: E402
from numvision_lib.model_card import TEST_ACCURACY, VAL_ACCURACY, ModelCard  # noqa: E402
from numvision_lib.paths import model_not_found_message, project_relative  # noqa: E402
from numvision_lib.training import TrainConfig  # noqa: E402


# The other scripts' reports under results/benchmarks/, which a --name must not replace.
OTHER_REPORTS = tuple(sorted(path.stem for path in Path(__file__).resolve().parent.glob("[a-z]*.py")
                             if path.stem != "seed_spread"))


def report_name(text: str) -> str:
    """An argparse type: a file name under results/benchmarks/, which letters, digits, _ and - keep inside it."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        raise argparse.ArgumentTypeError(f"{text!r}: use only letters, digits, _ and -, for example seed_spread_plus")
    return text


def trained_model(text: str) -> Path:
    """argparse type of an --include: a model file that is there, refused before any seed is trained."""
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(model_not_found_message(path))
    return path


def _name_taken(name: str, owner: str) -> str:
    return (f"--name {name}: results/benchmarks/{name}.json is a report of benchmarks/{owner}.py; choose another "
            "name, or give --output")


def _name_of_another_report(path: Path) -> str:
    return (f"--name {path.stem}: {project_relative(path)} is another report, not one of seed_spread's; choose another "
            "name, or give --output")


def _given_twice(option: str, value) -> str:
    return f"{option}: {value} is given twice; each run counts once in the spread, so give it once"


def _no_train_recipe(model: Path, error: ConfigError) -> str:
    return (f"--include {model}: its card records no run of `python -m numvision_lib train` ({error}); include only "
            "models that command trained")


def _another_recipe(model: Path, differences: list[str]) -> str:
    return (f"--include {model} was trained with another recipe than the `train` options after -- "
            f"({'; '.join(differences)}): include only models of the recipe measured, or give its options after --")


def _seed_counted_twice(model: Path, seed: int, other: str) -> str:
    return (f"--include {model} was trained with seed {seed}, and so is {other}: the spread would count that seed "
            "twice; leave one out")


def holds_another_report(path: Path) -> bool:
    """Whether `path` is there and is not a report of this script, which records its `train_arguments` (such as
    tools/measure_notebooks.py's notebook_resources.json)."""
    if not path.exists():
        return False
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return True
    return not (isinstance(report, dict) and "train_arguments" in report)


def first_repeated(values, key=lambda value: value):
    """The first of `values` whose `key` an earlier one has; None if none has."""
    seen = set()
    for value in values:
        if key(value) in seen:
            return value
        seen.add(key(value))
    return None


def train_recipe(parser: argparse.ArgumentParser, train_arguments: list[str]) -> tuple[TrainConfig, argparse.Namespace]:
    """The `train` options after -- as `python -m numvision_lib train` reads them: their TrainConfig, and all the
    options (--data-dir among them)."""
    options = build_parser().parse_args(["train", *train_arguments])
    try:
        return TrainConfig.create(options.quick, **train_settings(options)), options
    except ConfigError as error:
        parser.error(f"the `train` options after --: {error}")


def recipe_problem(model: Path, recipe: TrainConfig) -> tuple[int | None, str | None]:
    """The seed that trained `model`, by its card, and what keeps it out of a spread of `recipe`'s seeds (None if
    nothing does): another setting than the seed, or a card of no `train` run."""
    try:
        # A setting added to `train` after the card was written takes its default: what that run did.
        trained = TrainConfig(**ModelCard.for_model(model).config)
    except ConfigError as error:
        return None, _no_train_recipe(model, error)
    differences = [f"{name} {getattr(trained, name)!r} in its card, {getattr(recipe, name)!r} here"
                   for name in trained.to_dict() if name != "seed" and getattr(trained, name) != getattr(recipe, name)]
    return trained.seed, _another_recipe(model, differences) if differences else None


def run_command(*arguments: str) -> None:
    completed = subprocess.run([sys.executable, "-m", "numvision_lib", *arguments])
    if completed.returncode:
        # The command has said why in one line, as `python -m numvision_lib` answers: a traceback would bury it.
        raise SystemExit(completed.returncode)


def measured_run(model: Path, test_accuracy: float) -> dict:
    card = ModelCard.for_model(model)
    return {
        "seed": card.config["seed"],
        "test_accuracy": test_accuracy,
        "best_val_accuracy": card.metrics[VAL_ACCURACY],
        # None for a model without batch normalisation: `train` has nothing to calibrate in it
        "calibrated_val_accuracy": card.batch_norm_calibration.get("val_accuracy_after"),
        "best_epoch": card.best_epoch,
        "epochs_run": card.epochs_run,
        "precision_used": card.precision_used,
        "train_seconds": card.train_seconds,
    }


def evaluate_into(model: Path, results_dir: Path, data_dir: str | None) -> dict:
    run_command("evaluate", "--model", str(model), "--results-dir", str(results_dir),
                *(("--data-dir", data_dir) if data_dir else ()))
    metrics = json.loads((results_dir / "metrics.json").read_text())
    return measured_run(model, metrics[TEST_ACCURACY])


def evaluate_included(model: Path, data) -> dict:
    # Not `evaluate_model_file`, which records the figures in the model's card: a benchmark writes into a card only
    # when told to (the others' --record), and this card already holds its run's own.
    return measured_run(model, evaluate(load_model(model), data.x_test, data.y_test).metrics()[TEST_ACCURACY])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=seed_argument, nargs="*", default=[], help="seeds to train now")
    parser.add_argument("--include", type=trained_model, nargs="*", default=[],
                        help="already trained models of the same recipe (by their cards) to add")
    parser.add_argument("--workdir", type=Path, help="scratch folder (default: a temporary one)")
    parser.add_argument("--name", type=report_name, default="seed_spread", help="report name under results/benchmarks/")
    parser.add_argument("--output", type=Path, help="JSON report path (default: results/benchmarks/<name>.json)")
    parser.add_argument("train_arguments", nargs=argparse.REMAINDER, help="-- then the `train` options")
    args = parser.parse_args(argv)
    if not args.seeds and not args.include:
        parser.error("nothing to measure: give --seeds to train, --include to add trained models, or both")
    if (seed := first_repeated(args.seeds)) is not None:
        parser.error(_given_twice("--seeds", seed))
    if (model := first_repeated(args.include, key=Path.resolve)) is not None:
        parser.error(_given_twice("--include", model))
    owner = next((stem for stem in OTHER_REPORTS if args.name == stem or args.name.startswith(f"{stem}_")), None)
    if owner and args.output is None:
        parser.error(_name_taken(args.name, owner))
    if args.output is None and holds_another_report(BENCHMARKS_DIR / f"{args.name}.json"):
        parser.error(_name_of_another_report(BENCHMARKS_DIR / f"{args.name}.json"))
    check_output(parser, args.output)
    train_arguments = [a for a in args.train_arguments if a != "--"]
    recipe, train_options = train_recipe(parser, train_arguments)
    # Before any model is measured or trained: a spread over other recipes, or over one seed twice, says nothing.
    seeds_from = {seed: f"the model --seeds {seed} trains" for seed in args.seeds}
    for model in args.include:
        seed, problem = recipe_problem(model, recipe)
        if problem:
            parser.error(problem)
        if seed in seeds_from:
            parser.error(_seed_counted_twice(model, seed, seeds_from[seed]))
        seeds_from[seed] = f"--include {model}"
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="numvision-seeds-"))

    data = load_mnist(train_options.data_dir) if args.include else None
    runs = [evaluate_included(model, data) for model in args.include]
    for seed in args.seeds:
        model = workdir / f"seed{seed}.keras"
        run_command("train", *train_arguments, "--seed", str(seed), "--output", str(model))
        runs.append(evaluate_into(model, workdir / f"seed{seed}", train_options.data_dir))

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

"""Accuracy of one training recipe over several seeds: mean and spread, not one lucky run.

    python benchmarks/seed_spread.py --seeds 1 2 --include models/numvision_plus.keras --name numvision_plus_seeds \\
        -- --architecture numvision_plus --epochs 25 --augmentation drawing --schedule cosine --patience 25 \\
        --precision mixed_bfloat16   # the README's recipe of numvision_plus, whose shipped model is seed 42

Every seed is trained and evaluated with the project's own commands (`python -m numvision_lib train` and
`evaluate`), into a scratch folder that is not shipped; checkpoints are picked on validation data only.
`--include` adds models that were already trained with the same recipe (the shipped one): their cards must say so,
with a seed of their own, and they are measured on the same test images without writing into their cards. Each
seed counts once. A report under results/benchmarks/ is replaced only by a spread of the recipe it records.
"""
from __future__ import annotations

import argparse
import json
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import BENCHMARKS_DIR, check_output, machine_info, run_main, seed_argument, write_report  # noqa: E402

from numvision_lib.__main__ import build_parser, said_as_options, train_config  # noqa: E402
from numvision_lib.data import load_mnist  # noqa: E402
from numvision_lib.errors import ConfigError, NumVisionError  # noqa: E402
from numvision_lib.evaluation import evaluate  # noqa: E402
from numvision_lib.model import load_model  # noqa: E402
from numvision_lib.model_card import TEST_ACCURACY, VAL_ACCURACY, ModelCard  # noqa: E402
from numvision_lib.paths import missing_model_problem, project_relative  # noqa: E402
from numvision_lib.training import TrainConfig  # noqa: E402


# The other scripts' reports under results/benchmarks/, which a --name must not replace.
OTHER_REPORTS = tuple(sorted(path.stem for path in Path(__file__).resolve().parent.glob("[a-z]*.py")
                             if path.stem != "seed_spread"))
# The `train` options that this script gives each seed, by their dest, and what to give this script instead.
SET_FOR_EACH_SEED = {"output": "give the report's --output before --", "seed": "give the seeds with --seeds"}


def report_name(text: str) -> str:
    """An argparse type: a file name under results/benchmarks/, which letters, digits, _ and - keep inside it."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        raise argparse.ArgumentTypeError(f"{text!r}: use only letters, digits, _ and -, for example seed_spread_plus")
    return text


def trained_model(text: str) -> Path:
    """argparse type of an --include: a model file that is there, refused before any seed is trained."""
    path = Path(text)
    if problem := missing_model_problem(path):
        raise argparse.ArgumentTypeError(problem)
    return path


def _name_taken(name: str, owner: str) -> str:
    return (f"--name {name}: results/benchmarks/{name}.json is a report of benchmarks/{owner}.py; choose another "
            "name, or give --output")


def _name_of_another_report(path: Path) -> str:
    return (f"--name {path.stem}: {project_relative(path)} is another report, not one of seed_spread's; choose another "
            "name, or give --output")


def _name_of_another_recipe(path: Path, recorded: list[str], train_arguments: list[str]) -> str:
    return (f"--name {path.stem}: {project_relative(path)} is the spread of another recipe (the `train` options "
            f"{_typed(recorded)}; here {_typed(train_arguments)}), and only a run of its recipe may replace it; "
            "choose another name, or give --output")


def _typed(arguments: list[str]) -> str:
    return shlex.join(arguments) if arguments else "none"


def _set_for_each_seed(dests: list[str]) -> str:
    return (f"{' and '.join(f'--{dest}' for dest in dests)} {'is' if len(dests) == 1 else 'are'} set by this script, "
            f"for each seed: {'; '.join(SET_FOR_EACH_SEED[dest] for dest in dests)}")


def _not_a_train_option(problem: str) -> str:
    return f"{problem}; `python -m numvision_lib train --help` lists them"


def _bad_train_options(problem: str) -> str:
    return f"the `train` options after --: {problem}"


def _seed_failed(failed: subprocess.CalledProcessError, seed: int, finished: list[Path], workdir: Path) -> str:
    if failed.returncode < 0:
        try:
            ended = f"was killed by signal {signal.Signals(-failed.returncode).name}"
        except ValueError:  # a number that names no signal of this system's
            ended = f"was killed by signal {-failed.returncode}"
    else:
        ended = f"failed with status {failed.returncode}"
    # Where they are, not "rerun with --workdir": a rerun trains the finished seeds again (`train` resumes only an
    # interrupted run).
    kept = (f"the seeds finished before it are in {workdir} ({', '.join(path.name for path in finished)})" if finished
            else f"no seed had finished before it (scratch folder: {workdir})")
    return f"error: `{shlex.join(failed.cmd)}` (seed {seed}) {ended}; {kept}"


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


def replaced_report_problem(path: Path, recipe: TrainConfig, train_arguments: list[str]) -> str | None:
    """What keeps a run of `recipe` (`train_arguments`) from replacing `path`, the report its --name writes (None if
    nothing does): a report of another script (such as tools/measure_notebooks.py's notebook_resources.json), or
    this script's spread of another recipe, such as the README's figure replaced by a one-epoch run."""
    if not path.exists():
        return None
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        report = None
    if not (isinstance(report, dict) and "train_arguments" in report):
        return _name_of_another_report(path)
    try:
        same = parsed_recipe(report["train_arguments"])[0] == recipe
    except TrainOptionsRefused:  # options that `train` no longer takes: not this run's recipe
        same = False
    return None if same else _name_of_another_recipe(path, report["train_arguments"], train_arguments)


def first_repeated(values, key=lambda value: value):
    """The first of `values` whose `key` an earlier one has; None if none has."""
    seen = set()
    for value in values:
        if key(value) in seen:
            return value
        seen.add(key(value))
    return None


class TrainOptionsRefused(Exception):
    """A usage error of the `train` options after --, said by this script (`train_recipe`)."""


class _TrainOptionsParser(argparse.ArgumentParser):
    """`python -m numvision_lib`'s parser, reading the `train` options after --: a problem is raised, for this script
    to say as its own, not printed with `train`'s usage; and an option is typed in full, since a prefix taken for
    another (--epoch) would start runs of hours."""

    def __init__(self, **settings):
        super().__init__(**settings, allow_abbrev=False)

    def error(self, message: str):
        raise TrainOptionsRefused(_not_a_train_option(message))


def parsed_recipe(train_arguments: list[str]) -> tuple[TrainConfig, argparse.Namespace]:
    """`train_arguments` as `python -m numvision_lib train` reads and checks them before any data: their
    TrainConfig, and all the options (--data-dir among them). A `TrainOptionsRefused` otherwise, also for an
    --output or a --seed, which this script gives each seed."""
    options = build_parser(parser_class=_TrainOptionsParser).parse_args(["train", *train_arguments])
    if given := [dest for dest in SET_FOR_EACH_SEED if getattr(options, dest) is not None]:
        raise TrainOptionsRefused(_set_for_each_seed(given))
    try:
        return train_config(options), options
    except NumVisionError as error:
        raise TrainOptionsRefused(said_as_options(error, options.command_parser)) from None


def train_recipe(parser: argparse.ArgumentParser, train_arguments: list[str]) -> tuple[TrainConfig, argparse.Namespace]:
    """`parsed_recipe` of the `train` options after --, whose problem is a usage error of `parser`."""
    try:
        return parsed_recipe(train_arguments)
    except TrainOptionsRefused as refused:
        parser.error(_bad_train_options(str(refused)))


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
    """`python -m numvision_lib` with `arguments`; a `CalledProcessError` that names the command as typed if it
    fails."""
    completed = subprocess.run([sys.executable, "-m", "numvision_lib", *arguments])
    if completed.returncode:
        raise subprocess.CalledProcessError(completed.returncode, ["python", "-m", "numvision_lib", *arguments])


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
    check_output(parser, args.output)
    train_arguments = [a for a in args.train_arguments if a != "--"]
    recipe, train_options = train_recipe(parser, train_arguments)
    if args.output is None and (problem := replaced_report_problem(BENCHMARKS_DIR / f"{args.name}.json", recipe,
                                                                    train_arguments)):
        parser.error(problem)
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
    finished = []
    for seed in args.seeds:
        model = workdir / f"seed{seed}.keras"
        try:
            run_command("train", *train_arguments, "--seed", str(seed), "--output", str(model))
            runs.append(evaluate_into(model, workdir / f"seed{seed}", train_options.data_dir))
        except subprocess.CalledProcessError as failed:
            # After the command's own one-line error, if it had time to say one (a killed one did not).
            print(_seed_failed(failed, seed, finished, workdir), file=sys.stderr)
            raise SystemExit(1) from None
        finished.append(model)

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

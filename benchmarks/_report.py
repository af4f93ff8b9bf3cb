"""What the benchmark scripts share: a description of the machine, writing the JSON report, the checks of their
arguments (counts, the output, smoke runs), and the arguments of the scripts that measure shipped models on real
handwriting."""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from numvision_lib.data import seed_problem
from numvision_lib.errors import ConfigError, ModelFileError, NumVisionError
from numvision_lib.handwriting import UNIPEN_CREDIT, UNIPEN_DOI
from numvision_lib.machine import cpu_flags, cpu_info
from numvision_lib.model_card import readable_model_cards
from numvision_lib.paths import MODELS_DIR, RESULTS_DIR, missing_model_problem, write_text_atomic

BENCHMARKS_DIR = RESULTS_DIR / "benchmarks"
# The vector units that decide how fast a small network runs, which the CPU's name does not tell: two machines
# both called "AMD EPYC" gave the pad's predictions 0.9 and about 6 ms a drawing.
VECTOR_EXTENSIONS = ("avx2", "fma", "avx_vnni", "avx512f", "avx512_vnni", "avx512_bf16", "amx_int8", "amx_bf16")


def whole_number_argument(low: int):
    """An argparse type: a whole number of at least `low`, refused by the parser before any work is done (a count of
    nothing would otherwise be a traceback at the end of the run)."""
    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            number = None
        if number is None or number < low:
            raise argparse.ArgumentTypeError(f"{text!r} must be a whole number of at least {low}")
        return number
    return parse


def seed_argument(text: str) -> int:
    """An argparse type: a seed as the library takes it (`data.seed_problem`), refused before any work is done."""
    try:
        seed = int(text)
    except ValueError:
        seed = text
    if problem := seed_problem(seed):
        raise argparse.ArgumentTypeError(problem)
    return seed


# argparse types of the scripts' counts: `positive_count` for a number of things to measure, `count_or_zero` where 0
# means something of its own (such as "skip this part").
positive_count = whole_number_argument(1)
count_or_zero = whole_number_argument(0)
# Options that say where the figures go, never what is measured: any other option changed makes a smoke run.
WHERE_FIGURES_GO = ("output", "record")


def machine_info() -> dict:
    """CPU model and count, OS and library versions: figures mean little without the machine they come from."""
    import numpy
    import tensorflow as tf

    return {
        # Not Linux: platform.processor() is the best there is.
        "cpu": cpu_info("model name") or platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "vector_extensions": [name for name in VECTOR_EXTENSIONS if name in cpu_flags()],
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "numpy": numpy.__version__,
        "gpus": len(tf.config.list_physical_devices("GPU")),
        # Other processes on a shared machine slow every figure down: the 1-minute load says how busy it was.
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "measured_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def _same_choice(value, default) -> bool:
    # A list option names a set of things to measure: the same ones in another order are the full run too.
    if isinstance(value, list) and isinstance(default, list):
        return set(value) == set(default)
    return value == default


def _record_refused(options: Sequence[str]) -> str:
    return (f"--record writes into the shipped model cards, which keep only a full run's figures: leave out "
            f"{', '.join(options)}")


def smoke_options(parser: argparse.ArgumentParser, args: argparse.Namespace,
                  same_measurement: Sequence[str] = ()) -> list[str]:
    """The options of `args` (as --flag) that differ from the parser's defaults, the full run: fewer samples, other
    models, a subset, --quick. Such a smoke run must not replace the recorded figures (`write_report`'s `smoke_run`),
    and --record with it is a usage error. `same_measurement`: the dests of options that choose which full run
    (a report of its own), besides `WHERE_FIGURES_GO`. Call it before the script fills in values of its own in
    `args`, which would count as options changed; it may first resolve a path given (one file named two ways is one
    choice) and set the parser's defaults to its full run's."""
    ignored = {*WHERE_FIGURES_GO, *same_measurement}
    changed = [f"--{dest.replace('_', '-')}" for dest, value in vars(args).items()
               if dest not in ignored and not _same_choice(value, parser.get_default(dest))]
    if changed and getattr(args, "record", False):
        parser.error(_record_refused(changed))
    return changed


def with_quick_sizes(parser: argparse.ArgumentParser, args: argparse.Namespace, argv: list[str] | None,
                     **sizes) -> argparse.Namespace:
    """`args`, parsed again from `argv` with `sizes` as the defaults when --quick was given: a smoke run's sizes are
    defaults, and counts given with --quick are kept."""
    if not args.quick:
        return args
    parser.set_defaults(**sizes)
    return parser.parse_args(argv)


def _cannot_write_output(output: Path, problem: str) -> str:
    return f"--output {output}: {problem}; give a file in a folder you can write to"


def _not_a_report_name(output: Path) -> str:
    return (f"--output {output}: the report is written as JSON, over whatever the file holds: give a name ending in "
            ".json")


def _model_card_output(output: Path) -> str:
    return (f"--output {output}: that is the card of the model {output.with_suffix('.keras').name} beside it, which "
            "the report would replace: give another name")


def digit_check_file(text: str) -> Path:
    """argparse type of a digit check given by name: a misspelt one is a usage error, not a run without it."""
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text}: no such file. Give a digit check made by `python -m numvision_lib "
                                         "train-digit-check`, or leave the option out for the shipped one")
    return path


def check_output(parser: argparse.ArgumentParser, output: str | os.PathLike | None) -> None:
    """Refuse an `output` that cannot be written before the run starts, not after hours of measuring."""
    if output is None:
        return
    output = Path(output)
    folder = output.parent
    if output.is_dir():
        parser.error(_cannot_write_output(output, "that is a folder"))
    # Elsewhere --output is the model a command writes (`train`) or one beside the report's (class_finetune's
    # --model): a slip that would replace a student's model, or its card, with the report.
    if output.suffix.lower() != ".json":
        parser.error(_not_a_report_name(output))
    if output.with_suffix(".keras").is_file():
        parser.error(_model_card_output(output))
    if not folder.is_dir():
        parser.error(_cannot_write_output(output, f"{folder} is a file, not a folder" if folder.exists()
                                          else f"the folder {folder} does not exist"))
    if not os.access(folder, os.W_OK | os.X_OK):
        parser.error(_cannot_write_output(output, f"the folder {folder} is not writable"))


def run_main(main: Callable[[], int | None]) -> int:
    """A script's `main` as its command line runs it: a library error is one line and exit status 1, as `python -m
    numvision_lib` answers, not a traceback."""
    try:
        return main() or 0
    except NumVisionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def write_report(name: str, report: dict, output: str | os.PathLike | None = None,
                 smoke_run: bool | Sequence[str] = False) -> Path | None:
    """Write `report` as JSON to results/benchmarks/<name>.json (or `output`), atomically, and say where.

    A smoke run (`smoke_options`, or a script's --quick) writes only to an `output` given: its figures never replace
    the recorded ones.
    """
    if smoke_run and not output:
        options = "" if smoke_run is True else f" ({', '.join(smoke_run)})"
        print(f"Smoke run{options}: {name}.json keeps the recorded figures (give --output to keep these).")
        return None
    path = Path(output) if output else BENCHMARKS_DIR / f"{name}.json"
    write_text_atomic(path, json.dumps(report, indent=2) + "\n")
    print(f"Wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return path


def unipen_data(part: str, **details) -> dict:
    """The "data" entry of a report on UNIPEN writers: the credit the licence asks for, the part, and `details`."""
    return {"source": UNIPEN_CREDIT, "doi": UNIPEN_DOI, "licence": "CC BY 4.0", "part": part, **details}


def add_model_arguments(parser: argparse.ArgumentParser, models_help: str = "") -> None:
    """--models and --models-dir, for a script that measures several models (default: every shipped one)."""
    help_text = ".keras files (default: every shipped model)" + (f"; {models_help}" if models_help else "")
    parser.add_argument("--models", nargs="*", type=Path, help=help_text)
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR, help="where the shipped models and cards are")


def add_handwriting_arguments(parser: argparse.ArgumentParser) -> None:
    """`add_model_arguments`, --data-dir and --max-per-digit, for a script that measures models on UNIPEN."""
    add_model_arguments(parser)
    parser.add_argument("--data-dir", type=Path, help="the UNIPEN folder (default: $NUMVISION_HANDWRITING_DIR or "
                                                     "shared/data/unipen beside the project)")
    parser.add_argument("--max-per-digit", type=positive_count,
                        help="at most this many samples of each digit (a smoke run)")


def _same_name(first: Path, second: Path) -> str:
    if first.resolve() == second.resolve():
        return f"--models: {first} is given twice: give each model once"
    return (f"--models: {first} and {second} are both called {first.stem}, and the report names each model by its "
            f"file's name, so one would be shown as the other: copy one under another name (such as "
            f"{second.with_stem(f'{second.stem}_2').name}) and give that")


def model_paths(args: argparse.Namespace) -> list[Path]:
    """The models `add_model_arguments` asked for: --models, else every model in --models-dir with a readable card
    beside it. The cards left out are named with the reason (a folder of one's own may hold a digit check, or a card
    whose model was deleted), and a folder without any model is a `ModelFileError`. --models are checked before any
    work, not when each is first loaded after the measurements of those before it: two with one name (the
    reports' key) are a `ConfigError`, a missing file or a folder a `ModelFileError`."""
    if args.models:
        named: dict[str, Path] = {}
        for path in args.models:
            if path.stem in named:
                raise ConfigError(_same_name(named[path.stem], path))
            if problem := missing_model_problem(path):
                raise ModelFileError(problem)
            named[path.stem] = path
        return args.models
    cards, problems = readable_model_cards(args.models_dir)
    for problem in problems:
        print(f"Left out: {problem}")
    if not cards:
        raise ModelFileError(f"--models-dir {args.models_dir}: no model with a readable card to measure. Give a folder "
                             "of models trained with `python -m numvision_lib train`, each with its card, or the "
                             "models themselves with --models")
    return [args.models_dir / card.model_file for card in cards]

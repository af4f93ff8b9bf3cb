"""The command line: `python -m numvision_lib train | evaluate | predict IMAGE… | export-litert | …` (also installed as
`numvision`)."""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ConfigError, DataError, NumVisionError
from .handwriting import TRAINED_STYLES
from .model_card import DIGIT_CHECK_PATH
from .paths import MY_MODELS_DIR, RESULTS_DIR, project_relative

if TYPE_CHECKING:  # the training module loads TensorFlow, which help and usage errors do not wait for
    from .training import TrainConfig

# Command-line options of `train` that are not TrainConfig settings.
TRAIN_RUN_OPTIONS = ("quick", "restart", "data_dir", "handwriting_dir", "output", "handler", "command",
                     "command_parser")
# Where the quick runs of `train` and `train-digit-check` write without --output: runs to check that all works,
# never over a shipped model or the pad's check, nor over my_models/my_<architecture>.keras, notebook 03's model.
QUICK_RUNS_DIR = MY_MODELS_DIR / "quick_runs"
QUICK_DIGIT_CHECK_PATH = QUICK_RUNS_DIR / DIGIT_CHECK_PATH.name


def train_settings(args: argparse.Namespace) -> dict:
    """The TrainConfig settings that `train`'s options give: those typed, by their Python names."""
    return {name: value for name, value in vars(args).items() if name not in TRAIN_RUN_OPTIONS and value is not None}


def train_config(args: argparse.Namespace) -> TrainConfig:
    """The TrainConfig of `train`'s options `args`, checked as `train` checks them before it reads any data: a
    `ConfigError` (or a `DataError` for a UNIPEN folder that is not there) otherwise."""
    from .training import TrainConfig, check_handwriting_dir, real_handwriting_problems

    settings = train_settings(args)
    # By what was typed: TrainConfig cannot tell --handwriting-copies 3, its default, from no option at all.
    if problems := real_handwriting_problems(settings.get("real_handwriting", TrainConfig.real_handwriting), settings):
        raise ConfigError("; ".join(problems))
    config = TrainConfig.create(args.quick, **settings)
    check_handwriting_dir(config, args.handwriting_dir)
    return config


def _train(args: argparse.Namespace) -> int:
    from .callbacks import RunTimeEstimate
    from .data import load_mnist
    from .hardware import precision_warning
    from .model import check_run_outputs, checked_output_path
    from .model_card import REAL_HANDWRITING_VAL_ACCURACY, ModelCard, shipped_model_path
    from .training import train

    # Every option is checked before MNIST is read (or downloaded): a wrong one would otherwise wait for it.
    config = train_config(args)
    # The command line makes the shipped models: unlike `train`, it writes into models/ unless told otherwise. A quick
    # run only checks that all works.
    output = args.output
    if output is None and args.quick:
        output = shipped_model_path(config.architecture, QUICK_RUNS_DIR)
        print(f"A quick run: the model goes to {project_relative(output)}, not over the shipped one (--output "
              "chooses the file).")
    elif output is None:
        output = shipped_model_path(config.architecture)
    output = checked_output_path(output)
    check_run_outputs(output, "the trained model")  # before MNIST, which may be a download
    if warning := precision_warning(config.precision):
        print(f"Warning: {warning}.")
    data = load_mnist(args.data_dir)
    print(f"Training {config.architecture} on {data.source}: up to {config.epochs} epoch(s), batch {config.batch_size}")
    run = train(config, data, output=output, handwriting_dir=args.handwriting_dir,
                callbacks=[RunTimeEstimate(config.epochs)], restart=args.restart)
    print(
        f"Best epoch {run.best_epoch} of {run.epochs_run}: validation accuracy {run.best_val_accuracy:.4f} "
        f"({run.train_seconds:.0f} s). Model: {run.model_path}; card: {run.card_path.name}"
    )
    card = ModelCard.load(run.card_path)
    if "distribution" in card.data:
        spread = card.data["distribution"]
        print(f"Spread over {spread['replicas']} replicas with {spread['strategy']}.")
    if REAL_HANDWRITING_VAL_ACCURACY in card.metrics:
        print(f"Real handwriting of the validation writers: accuracy {card.metrics[REAL_HANDWRITING_VAL_ACCURACY]:.4f}.")
    if run.batch_norm_calibration:
        calibration = run.batch_norm_calibration
        print(f"Batch normalisation calibrated on {calibration['images']:,} plain training images: validation "
              f"accuracy {calibration['val_accuracy_before']:.4f} before, {calibration['val_accuracy_after']:.4f} after.")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from .data import load_mnist
    from .evaluation import evaluate_model_file
    from .model_card import reference_model_path

    data = load_mnist(args.data_dir)
    model = args.model or reference_model_path()
    report, results_dir, card_left_because = evaluate_model_file(model, data, args.results_dir)
    print(f"Test accuracy {report.accuracy:.4f}, loss {report.loss:.4f}, {len(report.mistakes)} mistakes.")
    print(f"Results written to {results_dir}/")
    if card_left_because:
        print(card_left_because)
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from .data import load_mnist
    from .evaluation import calibrate_model_file
    from .model_card import pad_model_path

    model_path = args.model or pad_model_path()
    calibration = calibrate_model_file(model_path, load_mnist(args.data_dir), args.handwriting_dir)
    print(f"{model_path.name}: temperature {calibration['temperature']} (fitted on {calibration['fitted_on']}); "
          f"validation calibration error {calibration['validation_ece_before']:.4f} before, "
          f"{calibration['validation_ece_after']:.4f} after. Recorded in its card.")
    return 0


def _kind_weight(text: str) -> tuple[str, float]:
    kind, _, factor = text.partition("=")
    try:
        return kind.strip(), float(factor)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write KIND=FACTOR, for example scribbles=3") from None


def _train_digit_check(args: argparse.Namespace) -> int:
    from .data import load_mnist
    from .not_a_digit import checked_continue_from, checked_run_settings, train_digit_check

    # Before MNIST is read (or downloaded): a wrong setting would otherwise be found at the end of the run.
    kinds = [kind for kind, _ in args.kind_weights]
    if repeated := sorted({kind for kind in kinds if kinds.count(kind) > 1}):
        raise ConfigError(f"--weigh gives each kind one factor; {', '.join(repeated)} is given more than once")
    default_output = QUICK_DIGIT_CHECK_PATH if args.quick else DIGIT_CHECK_PATH
    output, kind_weights = checked_run_settings(args.output or default_output, args.learning_rate,
                                               dict(args.kind_weights), args.epochs, args.seed)
    if args.continue_from is not None:
        checked_continue_from(args.continue_from)  # loaded again by the run, a second against its minutes
    if args.quick and args.output is None:
        print(f"A quick run: the check goes to {project_relative(output)}, not over the pad's (--output chooses the "
              "file).")
    card = train_digit_check(load_mnist(args.data_dir), output, epochs=args.epochs,
                             seed=args.seed, quick=args.quick, data_dir=args.handwriting_dir,
                             handwriting_styles=args.handwriting_styles, continue_from=args.continue_from,
                             learning_rate=args.learning_rate, kind_weights=kind_weights)
    accepted = ", ".join(f"{kind} {share:.1%}" for kind, share in card["validation"].items())
    print(f"Digit check: threshold {card['threshold']:.4f}; accepted as digits on the validation writers: {accepted}")
    return 0


def _export_litert(args: argparse.Namespace) -> int:
    from .predict import export_litert

    for path in export_litert(args.model, args.digit_check_path):
        print(f"Wrote {project_relative(path)} ({path.stat().st_size / 1024:.0f} KB), recorded in "
              f"{path.with_suffix('.json').name}")
    # Only the default check may be absent (a mistyped one is refused).
    if args.digit_check_path is not None and not args.digit_check_path.is_file():
        print(f"No digit check at {project_relative(args.digit_check_path)}: only the model was exported.")
    return 0


def _predict(args: argparse.Namespace) -> int:
    from .predict import Predictor
    from .prediction import DIGIT, percentage

    predictor = Predictor.load(args.model, args.digit_check_path)
    failures = 0
    for image_path in args.images:
        try:
            prediction = predictor.predict(image_path)
        except NumVisionError as error:
            failures += 1
            # Named here where the message does not name it already: what goes wrong after the file is opened (a
            # blank picture) does not.
            named = "" if str(error).startswith(image_path) else f"{image_path}: "
            print(f"{named}error: {error}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps({"file": image_path, **prediction.to_dict()}))
        else:
            alternatives = ", ".join(f"{digit} {percentage(p)}" for digit, p in prediction.top3[1:])
            # The advice is the only word on why a legible digit is "not a digit" (small in its photo, say).
            flag = "" if prediction.verdict == DIGIT else f"  ({prediction.verdict}) {prediction.advice}".rstrip()
            print(f"{image_path}: {prediction.digit} ({percentage(prediction.confidence)}; then {alternatives}){flag}")
    return 1 if failures else 0


def _add_train_options(parser: argparse.ArgumentParser) -> None:
    """One option per TrainConfig setting, with the setting's own explanation, choices and default; and --quick."""
    import dataclasses
    import typing

    from .training import QUICK_SETTINGS, TrainConfig

    types = typing.get_type_hints(TrainConfig)
    for setting in dataclasses.fields(TrainConfig):
        flags = [f"--{setting.name.replace('_', '-')}"]
        if "flag" in setting.metadata:
            flags.insert(0, setting.metadata["flag"])
        help_text = f"{setting.metadata['help']} (default: {setting.default})"
        if types[setting.name] is bool:
            parser.add_argument(*flags, dest=setting.name, action="store_true", default=None, help=help_text)
            continue
        value_type = next(t for t in typing.get_args(types[setting.name]) or (types[setting.name],) if t is not type(None))
        parser.add_argument(*flags, dest=setting.name, type=value_type, choices=setting.metadata.get("choices"),
                            help=help_text)
    parser.add_argument("--quick", action="store_true", help="a short run to check that all works: "
                        + ", ".join(f"{name} {value:,}" for name, value in QUICK_SETTINGS.items())
                        + f"; written to {project_relative(QUICK_RUNS_DIR)}/<architecture>.keras unless --output "
                        "is given")


def build_parser(with_train_options: bool = True,
                 parser_class: type[argparse.ArgumentParser] = argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The command line's parser. `train`'s options come from `TrainConfig`, whose module loads TensorFlow: without
    `with_train_options`, `train` takes only the options that need no TensorFlow. `parser_class` makes it and each
    command's parser: a script that reads `train`'s options may say their problems as its own."""
    parser = parser_class(prog="python -m numvision_lib", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model on MNIST and save it with its model card")
    if with_train_options:
        _add_train_options(train)
    train.add_argument("--data-dir", help="folder of the four MNIST IDX files (default: $NUMVISION_DATA_DIR or Keras download)")
    train.add_argument("--handwriting-dir", help="folder of the UNIPEN files, for --real-handwriting unipen "
                       "(default: $NUMVISION_HANDWRITING_DIR or shared/data/unipen beside the project)")
    train.add_argument("--output", type=Path, help="model file to write (default: models/<architecture>.keras; with "
                       f"--quick, {project_relative(QUICK_RUNS_DIR)}/<architecture>.keras)")
    train.add_argument("--restart", action="store_true",
                       help="discard an interrupted run of this model and start afresh (one with other settings "
                       "is otherwise refused, to keep its finished epochs)")
    train.set_defaults(handler=_train)

    evaluate = commands.add_parser("evaluate", help="evaluate a model on the MNIST test set and write its results")
    evaluate.add_argument("--model", type=Path, help="model file (default: the shipped reference, models/numvision_cnn.keras)")
    evaluate.add_argument("--data-dir", help="folder of the four MNIST IDX files")
    evaluate.add_argument(
        "--results-dir", type=Path, help=f"where to write the figures and reports (default: {RESULTS_DIR.name}/<model "
        "name>/ for a shipped model, in models/; <model name>_results/ beside any other)"
    )
    evaluate.set_defaults(handler=_evaluate)

    calibrate = commands.add_parser(
        "calibrate", help="fit a model's temperature on validation data so its percentages mean what they say")
    calibrate.add_argument("--model", type=Path, help="model file (default: the drawing pad's model)")
    calibrate.add_argument("--data-dir", help="folder of the four MNIST IDX files")
    calibrate.add_argument("--handwriting-dir", help="folder of the UNIPEN files")
    calibrate.set_defaults(handler=_calibrate)

    check = commands.add_parser("train-digit-check", help="train the pad's check that tells a digit from a non-digit")
    # Their ranges are `not_a_digit.checked_run_settings`'s, checked before any data is read.
    check.add_argument("--epochs", type=int, help="passes over the training drawings (default: 4; with --quick, 1)")
    check.add_argument("--seed", type=int, default=42,
                       help="one number that fixes every random choice (default: %(default)s)")
    check.add_argument("--quick", action="store_true", help="a few hundred drawings of each kind and one epoch (unless "
                       f"--epochs is given); written to {project_relative(QUICK_DIGIT_CHECK_PATH)} unless --output is "
                       "given")
    check.add_argument("--handwriting-styles", action="store_true",
                       help=f"train on digits drawn in styles few UNIPEN writers use too ({TRAINED_STYLES})")
    check.add_argument("--continue-from", type=Path, metavar="CHECK",
                       help="train on from this saved check instead of a new network (with a small --learning-rate)")
    check.add_argument("--learning-rate", type=float, default=1e-3,
                       help="how far each step moves the network (default: %(default)s; 1e-4 to train on "
                       "with --continue-from)")
    check.add_argument("--weigh", dest="kind_weights", type=_kind_weight, action="append", default=[],
                       metavar="KIND=FACTOR",
                       help="make the training drawings of one kind (letter, shapes, scribbles, dots, ...) count "
                       "FACTOR times as much; repeatable")
    check.add_argument("--data-dir", help="folder of the four MNIST IDX files")
    check.add_argument("--handwriting-dir", help="folder of the UNIPEN files")
    check.add_argument("--output", type=Path, help=f"model file (default: {project_relative(DIGIT_CHECK_PATH)}; with "
                       f"--quick, {project_relative(QUICK_DIGIT_CHECK_PATH)})")
    check.set_defaults(handler=_train_digit_check)

    export = commands.add_parser(
        "export-litert", help="write the drawing pad's LiteRT files (8-bit), so the pad runs without TensorFlow")
    export.add_argument("--model", type=Path, help="model file (default: the drawing pad's model)")
    export_check = export.add_mutually_exclusive_group()
    export_check.add_argument("--digit-check", dest="digit_check_path", type=Path, default=DIGIT_CHECK_PATH,
                              help="the digit check to export with it; the default is skipped, with a word, while no "
                              f"check has been trained there (default: {project_relative(DIGIT_CHECK_PATH)})")
    _add_no_digit_check(export_check, "export the model alone")
    export.set_defaults(handler=_export_litert)

    predict = commands.add_parser("predict", help="predict the digit in one or more image files")
    predict.add_argument("images", nargs="+", help="image files (PNG, JPEG, ...): a photo, scan or drawing of one digit")
    predict.add_argument("--model", type=Path, help="model file (default: the drawing pad's model)")
    predict.add_argument("--json", action="store_true", help="one JSON object per line instead of text")
    predict.set_defaults(handler=_predict, digit_check_path=DIGIT_CHECK_PATH)
    _add_no_digit_check(predict, "read every picture as a digit, without asking the pad's digit check first")
    # For the messages of the library, which speak of settings by their Python names (`_named_as_options`).
    for command in commands.choices.values():
        command.set_defaults(command_parser=command)
    return parser


def _add_no_digit_check(parser, what: str) -> None:
    parser.add_argument("--no-digit-check", dest="digit_check_path", action="store_const", const=None,
                        help=f"no digit check: {what}")


# A Python name in the library's messages, alone or with a value (real_handwriting='unipen', digit_check_path=None);
# not a part of a path, a file name or a longer name.
_PYTHON_NAME = re.compile(r"(?<![\w./-])(?P<name>[a-z][a-z0-9_]*)(?:=(?P<value>'[^']*'|\w+))?(?![\w/=]|\.\w)")


def _named_as_options(message: str, parser: argparse.ArgumentParser) -> str:
    """`message` with the settings it names as the library's callers do (TrainConfig's fields, functions'
    parameters) named as the options of `parser`, the command that met it: the parser knows which option sets which
    setting (its `dest`). A name without an underscore, alone, is left as it is (it reads as a word: "epochs",
    "output"), and so is a setting whose option the message already names."""
    settings = {}
    for action in parser._actions:  # argparse keeps no public list of them
        if action.option_strings:
            settings.setdefault(action.dest, []).append(action)
    settings = {name: actions for name, actions in settings.items()
                if not any(option in message for action in actions for option in action.option_strings)}

    def as_option(found: re.Match) -> str:
        actions, value = settings.get(found["name"], []), found["value"]
        if value is None:
            return actions[0].option_strings[0] if actions and "_" in found["name"] else found[0]
        for action in actions:  # the switch that sets this value: --no-digit-check for digit_check_path=None
            if action.nargs == 0 and repr(action.const) == value:
                return action.option_strings[0]
        for action in actions:  # the option that takes it: --real-handwriting unipen
            if action.nargs != 0:
                return " ".join([action.option_strings[0], value.strip("'")])
        return found[0]

    return _PYTHON_NAME.sub(as_option, message)


def said_as_options(error: NumVisionError, parser: argparse.ArgumentParser) -> str:
    """`error`'s message for the user of `parser`, the command that met it: the settings it names as options."""
    # A DataError's folders go by parameter names that the options do not follow (UNIPEN's folder is data_dir to
    # the library, --handwriting-dir here): said as the library says them, which name both (`data.given_as`).
    return str(error) if isinstance(error, DataError) else _named_as_options(str(error), parser)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Help, a mistyped command and every other command answer without waiting for TensorFlow to load.
    args = build_parser(with_train_options=argv[:1] == ["train"]).parse_args(argv)
    try:
        return args.handler(args)
    except NumVisionError as error:
        print(f"error: {said_as_options(error, args.command_parser)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        resume = ": run the same command again to resume from the last finished epoch" if args.command == "train" else ""
        print(f"interrupted{resume}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""The command line: `python -m numvision_lib train | evaluate | predict IMAGE…` (also installed as `numvision`)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import NumVisionError
from .paths import MODELS_DIR, RESULTS_DIR


def _train(args: argparse.Namespace) -> int:
    from .data import load_mnist
    from .training import TrainConfig, train

    settings = {
        "architecture": args.architecture,
        "augmentation": args.augmentation,
        "schedule": args.schedule,
        "precision": args.precision,
        "seed": args.seed,
        "deterministic": args.deterministic,
    }
    optional = ("epochs", "batch_size", "learning_rate", "early_stopping_patience")
    settings.update({k: v for k, v in vars(args).items() if k in optional and v is not None})
    config = TrainConfig.quick(**settings) if args.quick else TrainConfig(**settings)
    output = args.output or MODELS_DIR / f"{config.architecture}.keras"
    data = load_mnist(args.data_dir)
    print(f"Training {config.architecture} on {data.source}: up to {config.epochs} epoch(s), batch {config.batch_size}")
    run = train(config, data, output=output)
    print(
        f"Best epoch {run.best_epoch} of {run.epochs_run}: validation accuracy {run.best_val_accuracy:.4f} "
        f"({run.train_seconds:.0f} s). Model: {run.model_path}; card: {run.card_path.name}"
    )
    if run.batch_norm_calibration:
        calibration = run.batch_norm_calibration
        print(f"Batch normalisation calibrated on {calibration['images']:,} plain training images: validation "
              f"accuracy {calibration['val_accuracy_before']:.4f} before, {calibration['val_accuracy_after']:.4f} after.")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from .data import load_mnist
    from .evaluation import evaluate_model_file

    data = load_mnist(args.data_dir)
    report, results_dir = evaluate_model_file(args.model, data, args.results_dir)
    print(f"Test accuracy {report.accuracy:.4f}, loss {report.loss:.4f}, {len(report.mistakes)} mistakes.")
    print(f"Results written to {results_dir}/")
    return 0


def _predict(args: argparse.Namespace) -> int:
    from .predict import Predictor

    predictor = Predictor.load(args.model)
    failures = 0
    for image_path in args.images:
        try:
            prediction = predictor.predict(image_path)
        except NumVisionError as error:
            failures += 1
            print(f"error: {error}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps({"file": image_path, **prediction.to_dict()}))
        else:
            alternatives = ", ".join(f"{digit} {p:.1%}" for digit, p in prediction.top3[1:])
            flag = "  (uncertain)" if prediction.uncertain else ""
            print(f"{image_path}: {prediction.digit} ({prediction.confidence:.1%}; then {alternatives}){flag}")
    return 1 if failures else 0


def build_parser() -> argparse.ArgumentParser:
    from .model import ARCHITECTURES
    from .pipeline import AUGMENTATIONS
    from .training import PRECISIONS, SCHEDULES

    parser = argparse.ArgumentParser(prog="python -m numvision_lib", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model on MNIST and save it with its model card")
    train.add_argument("--architecture", choices=sorted(ARCHITECTURES), default="numvision_cnn")
    train.add_argument("--epochs", type=int, help="maximum number of epochs (default 10; early stopping may end sooner)")
    train.add_argument("--batch-size", type=int, help="images per training step (default 128)")
    train.add_argument("--learning-rate", type=float, help="Adam learning rate (default 0.001)")
    train.add_argument("--augmentation", choices=AUGMENTATIONS, default="none",
                       help="none (default); geometric: rotate, shift and zoom; drawing: slant, squeeze or stretch, "
                            "thinner and thicker pens, and 1s with a European flag")
    train.add_argument("--schedule", choices=SCHEDULES, default="plateau",
                       help="learning-rate schedule: reduce on plateau (default) or cosine decay over all epochs")
    train.add_argument("--patience", dest="early_stopping_patience", type=int,
                       help="epochs without validation-loss improvement before stopping (default 3)")
    train.add_argument("--precision", choices=PRECISIONS, default="auto",
                       help="auto: mixed precision where this machine's GPU or CPU gains from it")
    train.add_argument("--seed", type=int, default=42)
    train.add_argument("--deterministic", action="store_true", help="deterministic TensorFlow ops (slower)")
    train.add_argument("--quick", action="store_true", help="one epoch on 3,000 images, to check that all works")
    train.add_argument("--data-dir", help="folder of the four MNIST IDX files (default: $NUMVISION_DATA_DIR or Keras download)")
    train.add_argument("--output", type=Path, help="model file to write (default: models/<architecture>.keras)")
    train.set_defaults(handler=_train)

    evaluate = commands.add_parser("evaluate", help="evaluate a model on the MNIST test set and write its results")
    evaluate.add_argument("--model", type=Path, default=MODELS_DIR / "numvision_cnn.keras")
    evaluate.add_argument("--data-dir", help="folder of the four MNIST IDX files")
    evaluate.add_argument(
        "--results-dir", type=Path, help=f"where to write the figures and reports (default: {RESULTS_DIR.name}/<model name>/)"
    )
    evaluate.set_defaults(handler=_evaluate)

    predict = commands.add_parser("predict", help="predict the digit in one or more image files")
    predict.add_argument("images", nargs="+", help="image files (PNG, JPEG, ...): a photo, scan or drawing of one digit")
    predict.add_argument("--model", type=Path, help="model file (default: the best shipped model)")
    predict.add_argument("--json", action="store_true", help="one JSON object per line instead of text")
    predict.set_defaults(handler=_predict)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except NumVisionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: run the same command again to resume from the last finished epoch", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""Accuracy of the shipped models on real people's handwriting: the UNIPEN benchmark writers.

    python benchmarks/real_handwriting.py                   # every shipped model, every benchmark writer and rendering
    python benchmarks/real_handwriting.py --max-per-digit 2 --renderings pen_20 --scans scan_16_grey \
        --output /tmp/real.json                             # smoke run
    python benchmarks/real_handwriting.py --record          # also write the figures into the model cards

The digits of the benchmark writers (`numvision_lib.handwriting.digit_split()["benchmark"]`: people whose
handwriting no training part holds) are drawn with every named rendering (`handwriting.RENDERINGS`: three
pens, dark ink on paper, small in a corner) and prepared exactly as the drawing pad prepares strokes (a
dark-on-paper drawing as an upload is). Reported for each model: accuracy overall and per rendering,
digit and institution, the mean of the writers' accuracies (each person once), the five worst writers, the ten
most common confusions, confident mistakes (wrong with a probability of at least 0.9, which the pad shows
without a warning), and the digits misread in every rendering (listed in the JSON report, by their index in the
benchmark's digits: `part_digits("benchmark")`).

A table of its own reads the same digits kept as small scans (`handwriting.SCANS`: cut out and shrunk to fill
16x16 pixels in grey levels, or 32x32 in black and white, as older collections of scanned digits keep them),
handed to the model as uploads. They are not in the headline figure, which measures the pad's drawings.

`--record` writes three figures into each shipped model's card: the accuracy on the validation writers (every
rendering; the figure that ranks models for the pad), and the benchmark writers' accuracy and share of
confident mistakes (figures only: nothing is chosen on them).

Data: UNIPEN train_r01_v07, International Unipen Foundation (1999), distributed under the Creative Commons
Attribution 4.0 licence, https://doi.org/10.5281/zenodo.1195803. I. Guyon, L. Schomaker, R. Plamondon,
M. Liberman, S. Janet, "UNIPEN project of on-line data exchange and recognizer benchmarks", Proc. 12th ICPR,
Jerusalem, 1994, vol. 2, pp. 29-33.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import (add_handwriting_arguments, check_output, machine_info, model_paths, run_main,  # noqa: E402
                     seed_argument, smoke_options, unipen_data, write_report)

from numvision_lib.handwriting import (MEASUREMENT_SEED, RENDERINGS, SCANS, part_digits,  # noqa: E402
                                       render_every_way, render_model_inputs, validation_digits)
from numvision_lib.model import accuracy, load_model  # noqa: E402
from numvision_lib.model_card import (REAL_HANDWRITING_ACCURACY, REAL_HANDWRITING_CONFIDENT_MISTAKES,  # noqa: E402
                                      REAL_HANDWRITING_VAL_ACCURACY, record_metrics)
from numvision_lib.predict import Predictor  # noqa: E402
from numvision_lib.evaluation import WORST_WRITERS, evaluate_on_real_handwriting  # noqa: E402
from numvision_lib.prediction import MIN_CONFIDENCE  # noqa: E402

TOP_CONFUSIONS = 10


def _table(title: str, rows: list[str], models: list[str], cell) -> None:
    print(f"\n{title}")
    print(f"{'':24s}" + "".join(f"{model[:22]:>24s}" for model in models))
    for row in rows:
        print(f"{row[:24]:24s}" + "".join(f"{cell(model, row):>24s}" for model in models))


def print_tables(results: dict) -> None:
    """Models side by side: accuracy by rendering, digit, institution and worst writers; confident mistakes;
    confusions."""
    models = list(results)
    first = results[models[0]]

    def accuracy_in(section: str):
        def cell(model: str, row: str) -> str:
            values = results[model][section].get(row)
            return f"{values['accuracy']:.2%} of {values['samples']:,}" if values else "-"
        return cell

    def confident(model: str, row: str) -> str:
        result = results[model]
        values = result["confident_mistakes"] if row == "all" else result["by_rendering"][row]["confident_mistakes"]
        return f"{values['share_of_mistakes']:.1%} ({values['count']})"

    print("accuracy overall: " + ", ".join(f"{model} {results[model]['accuracy']:.2%}" for model in models))
    print("mean of the writers' accuracies (each person once): "
          + ", ".join(f"{model} {results[model]['mean_of_writers']:.2%}" for model in models))
    for section in ("by_rendering", "by_digit", "by_institution"):
        _table(f"accuracy {section.replace('_', ' ')}", list(first[section]), models, accuracy_in(section))
    _table(f"confident mistakes (wrong with probability >= {MIN_CONFIDENCE}): share of the mistakes (count)",
           [*first["by_rendering"], "all"], models, confident)
    renderings = len(first["by_rendering"])
    _table(f"digits misread in how many of the {renderings} renderings (the last row: their handwriting, not the "
           "pen or the placing, is what the model misses)", [str(times) for times in range(1, renderings + 1)],
           models, lambda model, row: str(results[model]["misread"]["digits_by_renderings_misread"][row]))
    print("share of the drawing mistakes made on digits misread in every rendering: " + ", ".join(
        f"{model} {results[model]['misread']['share_of_mistakes_on_digits_misread_every_way']:.0%}"
        for model in models))
    worst = list(dict.fromkeys(writer for model in models for writer in results[model]["worst_writers"]))
    _table(f"the {WORST_WRITERS} worst writers of each model (all renderings)", worst, models,
           accuracy_in("by_writer"))
    confusions = list(dict.fromkeys(
        pair for model in models for pair in list(results[model]["confusions"])[:TOP_CONFUSIONS]))
    _table(f"the {TOP_CONFUSIONS} most common confusions of each model (true->predicted), count", confusions, models,
           lambda model, row: str(results[model]["confusions"].get(row, 0)))


def print_scan_table(scans: dict) -> None:
    models = list(scans)
    if not models or not scans[models[0]]:
        return

    def cell(model: str, row: str) -> str:
        values = scans[model][row]
        return f"{values['accuracy']:.2%} ({values['confident_mistakes']['count']})"

    _table("the same digits as small scans, read as uploads: accuracy (confident mistakes)", list(scans[models[0]]),
           models, cell)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_handwriting_arguments(parser)
    parser.add_argument("--renderings", nargs="*", choices=list(RENDERINGS), default=list(RENDERINGS))
    parser.add_argument("--scans", nargs="*", choices=list(SCANS), default=list(SCANS),
                        help="the small scans of the scan table (none: leave it out)")
    parser.add_argument("--seed", type=seed_argument, default=MEASUREMENT_SEED)
    parser.add_argument("--record", action="store_true",
                        help="write the validation and benchmark figures into each shipped model's card")
    parser.add_argument("--output", type=Path, help="JSON report (default: results/benchmarks/real_handwriting.json)")
    args = parser.parse_args(argv)

    # Where the UNIPEN files lie is not what is measured.
    smoke = smoke_options(parser, args, same_measurement=("data_dir",))
    check_output(parser, args.output)
    paths = model_paths(args)
    models = {path.stem: path for path in paths}
    samples = part_digits("benchmark", args.data_dir, args.max_per_digit)
    rendered, render_seconds = {}, {}
    for name in args.renderings:
        start = time.perf_counter()
        rendered[name] = render_model_inputs(samples, name, seed=args.seed)
        render_seconds[name] = time.perf_counter() - start
    scans = render_every_way(samples, args.scans, seed=args.seed)
    results, scan_results = {}, {}
    for name, path in models.items():
        predictor = Predictor.load(path)
        results[name] = evaluate_on_real_handwriting(predictor, rendered)
        scan_results[name] = evaluate_on_real_handwriting(predictor, scans)["by_rendering"] if scans else {}
    people = sorted({sample.person for sample in samples})
    print(f"Real handwriting (UNIPEN benchmark writers): {len(samples):,} digits by {len(people)} people, "
          f"{len(args.renderings)} rendering(s)\n")
    print_tables(results)
    print_scan_table(scan_results)
    write_report("real_handwriting", {
        "machine": machine_info(),
        "data": unipen_data("benchmark", people=people, samples=len(samples), max_per_digit=args.max_per_digit),
        "seed": args.seed,
        "renderings": {name: RENDERINGS[name].description for name in args.renderings},
        "render_ms_per_sample": {name: round(1000 * seconds / max(len(samples), 1), 2)
                                 for name, seconds in render_seconds.items()},
        "models": results,
        "scans": {"renderings": {name: SCANS[name].description for name in args.scans}, "models": scan_results},
    }, args.output, smoke_run=smoke)
    if args.record:
        validation = validation_digits(args.data_dir)
        for name, model_path in models.items():
            figures = {
                REAL_HANDWRITING_VAL_ACCURACY: accuracy(load_model(model_path), validation.model_inputs,
                                                        validation.labels),
                REAL_HANDWRITING_ACCURACY: round(results[name]["accuracy"], 6),
                REAL_HANDWRITING_CONFIDENT_MISTAKES: round(results[name]["confident_mistakes"]["share_of_samples"], 6),
            }
            record_metrics(model_path, figures)
            print(f"recorded {figures} in the card of {model_path.name}")


if __name__ == "__main__":
    sys.exit(run_main(main))

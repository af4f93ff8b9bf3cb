"""How the shipped models read handwriting styles that few of UNIPEN's training writers use.

    python benchmarks/writing_styles.py                                 # every shipped model, every style
    python benchmarks/writing_styles.py --max-per-digit 3 --output /tmp/styles.json   # smoke run
    python benchmarks/writing_styles.py --models models/numvision_plus_real.keras \
        --digit-check my_check.keras --output /tmp/styles.json   # a digit check of your own

Real people who write a 1 with a long up-stroke, a 0 with a slash through it, or a 9 with a small loop on a
long tail have their digits misread by a model that learned from writers who do not. Each style of
`handwriting.WRITING_STYLES` is one change made to every validation writer's digit of its kind (a flag added
to each 1, a slash through each 0, ...), drawn with every named rendering. Beside each style, the same
digits as written: the difference is what the style costs. Reported per model: the share read correctly,
the most common wrong answer, and confident mistakes (wrong with a probability of at least 0.9); and for the
pad's digit check, the share it refuses as "not a digit".

The validation writers, not the benchmark writers: a training recipe may be chosen on these figures, and
nothing is ever chosen on the benchmark writers.

Data: UNIPEN train_r01_v07, International Unipen Foundation (1999), distributed under the Creative Commons
Attribution 4.0 licence, https://doi.org/10.5281/zenodo.1195803.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import (add_handwriting_arguments, check_output, digit_check_file, machine_info, model_paths,  # noqa: E402
                     run_main, smoke_options, unipen_data, write_report)

from numvision_lib.evaluation import confident_mistakes  # noqa: E402
from numvision_lib.handwriting import (MEASUREMENT_SEED, RENDERINGS, WRITING_STYLES, concatenate,  # noqa: E402
                                       part_digits, render_every_way, validation_digits)
from numvision_lib.model_card import DIGIT_CHECK_PATH  # noqa: E402
from numvision_lib.not_a_digit import DigitCheck  # noqa: E402
from numvision_lib.predict import Predictor  # noqa: E402
from numvision_lib.prediction import MIN_CONFIDENCE  # noqa: E402

AS_WRITTEN = "as written"


def drawn_every_way(samples, restyle=None):
    return concatenate(render_every_way(samples, restyle=restyle).values())


def style_rows(data_dir: Path | None, max_per_digit: int | None) -> dict[str, tuple[int, object]]:
    """(digit, drawings) for every style, and for each styled digit as its writers wrote it."""
    samples = part_digits("validation", data_dir, max_per_digit)
    # The same drawings as the validation writers' every-way set, which is drawn once a process: where it was drawn
    # already (the tests measure the shipped models on it first) nothing is drawn again, while a run of this script
    # alone draws its four unstyled digits too, a few seconds more.
    as_written = validation_digits(data_dir, max_per_digit)
    rows = {}
    for name, (digit, restyle) in WRITING_STYLES.items():
        plain = f"{digit}, {AS_WRITTEN}"
        if plain not in rows:
            rows[plain] = (digit, as_written.of_digit(digit))
        rows[name] = (digit, drawn_every_way([sample for sample in samples if sample.digit == digit], restyle))
    return rows


def score(probabilities: np.ndarray, digit: int) -> dict:
    answers = probabilities.argmax(axis=1)
    wrong = answers != digit
    most_common = Counter(answers[wrong].tolist()).most_common(1)
    return {
        "samples": int(len(answers)),
        "accuracy": round(float(np.mean(~wrong)), 6),
        "most_common_mistake": None if not most_common else {"read_as": most_common[0][0],
                                                             "share": round(most_common[0][1] / len(answers), 6)},
        "confident_mistakes": round(confident_mistakes(wrong, probabilities.max(axis=1))["share_of_samples"], 6),
    }


def print_table(results: dict, refused: dict) -> None:
    models = list(results)
    check_title = f"{'refused by the check':>22s}"
    print(f"{'style':26s}" + "".join(f"{model[:30]:>34s}" for model in models) + check_title)
    for row in results[models[0]]:
        cells = []
        for model in models:
            values = results[model][row]
            mistake = values["most_common_mistake"]
            mistake = f", {mistake['share']:.0%} as {mistake['read_as']}" if mistake else ""
            cells.append(f"{values['accuracy']:.1%}{mistake}, conf. {values['confident_mistakes']:.1%}")
        check_cell = f"{refused[row]:>22.1%}"
        print(f"{row[:26]:26s}" + "".join(f"{cell:>34s}" for cell in cells) + check_cell)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_handwriting_arguments(parser)
    parser.add_argument("--digit-check", type=digit_check_file, default=DIGIT_CHECK_PATH,
                        help="the digit check to measure (default: the shipped one), e.g. one trained with "
                             "`train-digit-check --handwriting-styles`")
    parser.add_argument("--output", type=Path, help="JSON report (default: results/benchmarks/writing_styles.json)")
    args = parser.parse_args(argv)
    # Where the UNIPEN files lie is not what is measured.
    smoke = smoke_options(parser, args, same_measurement=("data_dir",))
    check_output(parser, args.output)

    paths = model_paths(args)
    check = DigitCheck.load(args.digit_check)  # before the long part: a damaged check ends the run at once
    rows = style_rows(args.data_dir, args.max_per_digit)
    results = {}
    for path in paths:
        predictor = Predictor.load(path, digit_check_path=None)
        results[path.stem] = {name: score(predictor.probabilities(drawings.model_inputs), digit)
                              for name, (digit, drawings) in rows.items()}
    refused = {name: round(float(np.mean(check.refuses(drawings.model_inputs))), 6)
               for name, (_, drawings) in rows.items()}
    people = len({writer for _, drawings in rows.values() for writer in drawings.writer_ids})
    print(f"Writing styles drawn from UNIPEN's validation writers ({people} writer ids), "
          f"{len(RENDERINGS)} renderings each; accuracy, most common mistake, confident mistakes "
          f"(probability >= {MIN_CONFIDENCE})\n")
    print_table(results, refused)
    write_report("writing_styles", {
        "machine": machine_info(),
        "data": unipen_data("validation", max_per_digit=args.max_per_digit),
        "seed": MEASUREMENT_SEED,
        "renderings": list(RENDERINGS),
        "styles": {name: digit for name, (digit, _) in rows.items()},
        "models": results,
        "digit_check_refused": refused,
    }, args.output, smoke_run=smoke)


if __name__ == "__main__":
    sys.exit(run_main(main))

"""Accuracy of the shipped models on real people's handwriting: the UNIPEN benchmark writers.

    python benchmarks/real_handwriting.py                   # every shipped model, every benchmark writer and rendering
    python benchmarks/real_handwriting.py --max-per-digit 2 --renderings pen_20 --output /tmp/real.json   # smoke run

The digits of the benchmark writers (`numvision_lib.handwriting.digit_split()["benchmark"]`: people whose
handwriting no training part holds) are drawn with every named rendering (`handwriting.RENDERINGS`: three
pens, dark ink on paper, small in a corner) and prepared exactly as the drawing pad prepares strokes (a
dark-on-paper drawing as an upload is). Reported for each model: accuracy overall and per rendering,
digit and institution, the five worst writers, the ten most common confusions, and confident mistakes
(wrong with a probability of at least 0.9, which the pad shows without a warning).

Data: UNIPEN train_r01_v07, International Unipen Foundation (1999), distributed under the Creative Commons
Attribution 4.0 licence, https://doi.org/10.5281/zenodo.1195803. I. Guyon, L. Schomaker, R. Plamondon,
M. Liberman, S. Janet, "UNIPEN project of on-line data exchange and recognizer benchmarks", Proc. 12th ICPR,
Jerusalem, 1994, vol. 2, pp. 29-33.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine_info, write_report  # noqa: E402
from drawn_accuracy import shipped_model_cards  # noqa: E402

from numvision_lib.handwriting import (RENDERINGS, UNIPEN_CREDIT, UNIPEN_DOI, RenderedDigits,  # noqa: E402
                                       digit_split, person_of, render_model_inputs)
from numvision_lib.paths import MODELS_DIR  # noqa: E402
from numvision_lib.predict import MIN_CONFIDENCE, Predictor  # noqa: E402

WORST_WRITERS = 5
TOP_CONFUSIONS = 10


def benchmark_samples(data_dir: Path | None, max_per_digit: int | None) -> list:
    samples = digit_split(data_dir)["benchmark"]
    if max_per_digit is None:
        return list(samples)
    # Ordered by fingerprint, not file order: a small run then holds many writers, not the first one's digits.
    taken: Counter = Counter()
    chosen = []
    for sample in sorted(samples, key=lambda sample: (sample.key, sample.writer_id)):
        if taken[sample.label] < max_per_digit:
            taken[sample.label] += 1
            chosen.append(sample)
    return chosen


def _accuracy_by(keys: np.ndarray, correct: np.ndarray) -> dict[str, dict]:
    groups: dict[str, list[bool]] = defaultdict(list)
    for key, right in zip(keys, correct):
        groups[str(key)].append(bool(right))
    return {key: {"accuracy": float(np.mean(values)), "samples": len(values)} for key, values in sorted(groups.items())}


def _confident_mistakes(wrong: np.ndarray, confidence: np.ndarray) -> dict:
    confident = int(np.count_nonzero(wrong & (confidence >= MIN_CONFIDENCE)))
    mistakes = int(np.count_nonzero(wrong))
    return {"count": confident, "share_of_mistakes": confident / mistakes if mistakes else 0.0,
            "share_of_samples": confident / len(wrong) if len(wrong) else 0.0}


def score(probabilities: dict[str, np.ndarray], rendered: dict[str, RenderedDigits]) -> dict:
    """Every figure for one model, from its probabilities on each rendering."""
    names = list(rendered)
    predicted = np.concatenate([probabilities[name].argmax(axis=1) for name in names])
    confidence = np.concatenate([probabilities[name].max(axis=1) for name in names])
    labels = np.concatenate([rendered[name].labels for name in names])
    people = np.array([person_of(writer) for name in names for writer in rendered[name].writer_ids], dtype=str)
    institutions = np.concatenate([rendered[name].institutions for name in names])
    renderings = np.repeat(names, [len(rendered[name]) for name in names])
    correct = predicted == labels
    by_rendering = _accuracy_by(renderings, correct)
    for name in names:
        chosen = renderings == name
        by_rendering[name]["confident_mistakes"] = _confident_mistakes(~correct[chosen], confidence[chosen])
    by_writer = _accuracy_by(people, correct)
    worst = sorted(by_writer, key=lambda writer: (by_writer[writer]["accuracy"], -by_writer[writer]["samples"], writer))
    confusions = Counter(f"{true}->{guess}" for true, guess in zip(labels[~correct], predicted[~correct]))
    return {
        "accuracy": float(correct.mean()),
        "samples": int(len(correct)),
        "by_rendering": {name: by_rendering[name] for name in names},
        "by_digit": _accuracy_by(labels, correct),
        "by_institution": _accuracy_by(institutions, correct),
        "by_writer": by_writer,
        "worst_writers": worst[:WORST_WRITERS],
        "confusions": dict(confusions.most_common()),  # true->predicted: count, most common first
        "confident_mistakes": _confident_mistakes(~correct, confidence),
    }


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
    for section in ("by_rendering", "by_digit", "by_institution"):
        _table(f"accuracy {section.replace('_', ' ')}", list(first[section]), models, accuracy_in(section))
    _table(f"confident mistakes (wrong with probability >= {MIN_CONFIDENCE}): share of the mistakes (count)",
           [*first["by_rendering"], "all"], models, confident)
    worst = list(dict.fromkeys(writer for model in models for writer in results[model]["worst_writers"]))
    _table(f"the {WORST_WRITERS} worst writers of each model (all renderings)", worst, models,
           accuracy_in("by_writer"))
    confusions = list(dict.fromkeys(
        pair for model in models for pair in list(results[model]["confusions"])[:TOP_CONFUSIONS]))
    _table(f"the {TOP_CONFUSIONS} most common confusions of each model (true->predicted), count", confusions, models,
           lambda model, row: str(results[model]["confusions"].get(row, 0)))


def evaluate_model(model_path: Path, rendered: dict[str, RenderedDigits]) -> dict:
    predictor = Predictor.load(model_path)
    probabilities = {name: predictor.probabilities(digits.model_inputs) for name, digits in rendered.items()}
    return score(probabilities, rendered)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="*", type=Path, help=".keras files (default: every shipped model)")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR, help="where the shipped models and cards are")
    parser.add_argument("--data-dir", type=Path, help="the UNIPEN folder (default: $NUMVISION_HANDWRITING_DIR or "
                                                     "shared/data/unipen beside the project)")
    parser.add_argument("--max-per-digit", type=int, help="at most this many samples of each digit (a smoke run)")
    parser.add_argument("--renderings", nargs="*", choices=list(RENDERINGS), default=list(RENDERINGS))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", type=Path, help="JSON report (default: results/benchmarks/real_handwriting.json)")
    args = parser.parse_args(argv)

    if args.models:
        models = {path.stem: path for path in args.models}
    else:
        models = {card.stem: args.models_dir / json.loads(card.read_text())["model_file"]
                  for card in shipped_model_cards(args.models_dir)}
    samples = benchmark_samples(args.data_dir, args.max_per_digit)
    rendered, render_seconds = {}, {}
    for name in args.renderings:
        start = time.perf_counter()
        rendered[name] = render_model_inputs(samples, name, seed=args.seed)
        render_seconds[name] = time.perf_counter() - start
    results = {name: evaluate_model(path, rendered) for name, path in models.items()}
    people = sorted({sample.person for sample in samples})
    print(f"Real handwriting (UNIPEN benchmark writers): {len(samples):,} digits by {len(people)} people, "
          f"{len(args.renderings)} rendering(s)\n")
    print_tables(results)
    path = write_report("real_handwriting", {
        "machine": machine_info(),
        "data": {"source": UNIPEN_CREDIT, "doi": UNIPEN_DOI, "licence": "CC BY 4.0", "part": "benchmark",
                 "people": people, "samples": len(samples), "max_per_digit": args.max_per_digit},
        "seed": args.seed,
        "renderings": {name: RENDERINGS[name].description for name in args.renderings},
        "render_ms_per_sample": {name: round(1000 * seconds / max(len(samples), 1), 2)
                                 for name, seconds in render_seconds.items()},
        "models": results,
    }, args.output)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()

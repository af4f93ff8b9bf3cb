"""Time to predict one drawing, preprocessing included, along the different inference paths.

    python benchmarks/latency.py            # 500 timed predictions per path (model.predict: 50)
    python benchmarks/latency.py --quick    # smoke run: 20 per path

Paths: `model.predict` (what tutorials use), a direct call `model(x, training=False)`, a graph
`tf.function` (what `Predictor.probabilities` uses), an XLA-compiled `tf.function` for the pad's fixed batch,
`Predictor.predict` itself (what the drawing pad uses; its row is named after the path the Predictor
chose: "Predictor.predict (LiteRT interpreter, 8-bit)", or the XLA fallback without LiteRT), the pad's
whole update (prediction plus the panel's HTML), and the bare LiteRT interpreter `Predictor` builds, with
float32 and with 8-bit weights, when `ai_edge_litert` is installed. Each input is a synthetic drawn digit
given as strokes, exactly what the pad hands over after a stroke, and every path that runs the network reads it as
the predictors do: three copies through the network, averaged (`prediction.read`).

The explain view (`explain_view.ExplainPanel`, notebook 07) gets three rows beside the plain pad: its own
update (Grad-CAM of the drawing for its answer, plus the overlay's HTML), the pad's whole update with the view
switched on, and with the view attached but switched off (which must cost nothing).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import (check_output, machine_info, positive_count, run_main, smoke_options, with_quick_sizes,  # noqa: E402
                     write_report)

from numvision_lib.drawing import DrawingPad  # noqa: E402
from numvision_lib.drawn_digits import drawn_digit_set  # noqa: E402
from numvision_lib.explain_view import ExplainPanel  # noqa: E402
from numvision_lib._tensorflow import tf  # noqa: E402
from numvision_lib.model_card import pad_model_path  # noqa: E402
from numvision_lib.predict import Predictor, compile_for_pad, litert_for_pad  # noqa: E402
from numvision_lib.prediction import READINGS, read  # noqa: E402
from numvision_lib.preprocess import preprocess  # noqa: E402

PAD_TARGET_P95_MS = 2.0
EXPLAIN_TARGET_P95_MS = 30.0
PAD_UPDATE_ROW = "drawing pad update (predict + panel)"
EXPLAIN_ROW = "explain view update (Grad-CAM + overlay)"
PAD_WITH_EXPLAIN_ROW = "drawing pad update, explain view on"
PAD_EXPLAIN_OFF_ROW = "drawing pad update, explain view off"


def time_paths(paths: dict[str, tuple[Callable, int]], drawings: list, repeats: int, warm_up: int = 10,
               rounds: int = 10) -> dict:
    """Time the paths in turns of a few calls each, so bursts of load from other processes hit them all alike.

    A path's count says how many calls it gets in all.
    """
    for run, _ in paths.values():
        for drawing in drawings[:warm_up]:
            run(drawing)
    times: dict[str, list[float]] = {name: [] for name in paths}
    rounds = min(rounds, repeats)
    for round_index in range(rounds):
        for name, (run, count) in paths.items():
            for call in range(round_index * count // rounds, (round_index + 1) * count // rounds):
                drawing = drawings[call % len(drawings)]
                start = time.perf_counter()
                run(drawing)
                times[name].append(time.perf_counter() - start)
    results = {}
    for name, samples in times.items():
        milliseconds = np.array(samples) * 1e3
        results[name] = {"median_ms": float(np.median(milliseconds)), "p95_ms": float(np.percentile(milliseconds, 95)),
                         "mean_ms": float(milliseconds.mean()), "repeats": len(samples)}
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help=".keras file (default: the best shipped model)")
    parser.add_argument("--repeats", type=positive_count, default=500)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 20 repeats (model.predict 5) where --repeats is not given")
    parser.add_argument("--output", type=Path, help="JSON report (default: results/benchmarks/latency.json)")
    args = parser.parse_args(argv)
    smoke = smoke_options(parser, args)
    check_output(parser, args.output)
    repeats = with_quick_sizes(parser, args, argv, repeats=20).repeats

    model_path = args.model or pad_model_path()
    start = time.perf_counter()
    predictor = Predictor.load(model_path)
    load_seconds = time.perf_counter() - start
    model = predictor.model
    predictor_row = f"Predictor.predict ({predictor.pad_path})"
    xla = compile_for_pad(model, READINGS, fallback=predictor.graph_function)
    pad = DrawingPad(predictor)
    pad_with_explain, pad_explain_off = DrawingPad(predictor), DrawingPad(predictor)
    explain_view = ExplainPanel.attach(pad_with_explain)
    explain_view.toggle.value = True
    ExplainPanel.attach(pad_explain_off)
    samples = drawn_digit_set("standard", samples_per_digit=5)
    drawings = [[list(stroke) for stroke in sample.strokes] for sample in samples]
    predictions = {id(strokes): predictor.predict(strokes) for strokes in drawings}  # the explain view's input

    def read_drawing(network, strokes) -> np.ndarray:
        return read(network, preprocess(strokes)[None])

    def pad_update(strokes, pad=pad) -> None:
        pad.strokes = strokes
        pad.update_prediction()

    # model.predict and eager calls leave TensorFlow's thread pools busy after they return, which would slow
    # the fast paths timed next to them; so the slow reference paths get their own turns first.
    slow_paths: dict[str, tuple[Callable, int]] = {
        "model.predict": (lambda s: read_drawing(lambda batch: model.predict(batch, verbose=0), s),
                          max(5, repeats // 10)),
        "direct call model(x)": (lambda s: read_drawing(lambda batch: model(batch, training=False).numpy(), s),
                                 repeats),
    }
    fast_paths: dict[str, tuple[Callable, int]] = {
        "preprocessing only": (preprocess, repeats),
        "tf.function, graph": (lambda s: predictor.probabilities(preprocess(s)[None]), repeats),
        "tf.function, XLA": (lambda s: read_drawing(lambda batch: xla(tf.constant(batch)).numpy(), s), repeats),
        predictor_row: (predictor.predict, repeats),
        PAD_UPDATE_ROW: (pad_update, repeats),
        PAD_EXPLAIN_OFF_ROW: (lambda s: pad_update(s, pad_explain_off), repeats),
        EXPLAIN_ROW: (lambda s: explain_view.show(predictions[id(s)]), repeats),
        PAD_WITH_EXPLAIN_ROW: (lambda s: pad_update(s, pad_with_explain), repeats),
    }
    interpreters = {weights: litert_for_pad(model, READINGS, eight_bit=weights == "8-bit")[0]
                    for weights in ("float32", "8-bit")}
    for weights, interpreter in interpreters.items():
        if interpreter is not None:
            fast_paths[f"bare LiteRT interpreter, {weights}"] = (
                lambda s, run=interpreter: read_drawing(run, s), repeats)

    results = time_paths(slow_paths, drawings, repeats) | time_paths(fast_paths, drawings, repeats)
    machine = machine_info()
    extensions = ", ".join(machine["vector_extensions"]) or "no listed vector extensions"
    print(f"Latency of one drawn digit, preprocessing included; model {model_path.name}; "
          f"{machine['cpu_count']} CPUs with {extensions}, load average {machine['load_average_1min']}\n")
    width = max(map(len, results)) + 2
    print(f"{'path':{width}s}{'median ms':>11s}{'p95 ms':>9s}{'repeats':>9s}")
    for name, figures in results.items():
        print(f"{name:{width}s}{figures['median_ms']:>11.3f}{figures['p95_ms']:>9.3f}{figures['repeats']:>9d}")
    print(f"\nPredictor.load took {load_seconds:.2f} s; Predictor.predict uses: {predictor.pad_path}"
          + (f" ({predictor.pad_fallback_reason})" if predictor.pad_fallback_reason else ""))
    for name, target in ((predictor_row, PAD_TARGET_P95_MS), (PAD_UPDATE_ROW, PAD_TARGET_P95_MS),
                         (PAD_EXPLAIN_OFF_ROW, PAD_TARGET_P95_MS), (EXPLAIN_ROW, EXPLAIN_TARGET_P95_MS),
                         (PAD_WITH_EXPLAIN_ROW, EXPLAIN_TARGET_P95_MS)):
        p95 = results[name]["p95_ms"]
        verdict = "meets" if p95 <= target else "misses"
        print(f"{name}: p95 {p95:.2f} ms {verdict} the {target} ms target (the machine's other load counts too).")
    if None in interpreters.values():
        print("No TFLite/LiteRT interpreter available: those paths were skipped.")
    write_report("latency", {"machine": machine, "model": model_path.name, "paths": results,
                                    "predictor_path": predictor.pad_path, "predictor_row": predictor_row,
                                    "predictor_load_s": round(load_seconds, 3),
                                    "pad_target_p95_ms": PAD_TARGET_P95_MS,
                                    "explain_target_p95_ms": EXPLAIN_TARGET_P95_MS}, args.output, smoke_run=smoke)


if __name__ == "__main__":
    sys.exit(run_main(main))

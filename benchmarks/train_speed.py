"""Training speed of the project's pipeline against a plain Keras baseline, measured in one run.

    python benchmarks/train_speed.py            # 20,000 images, 5 rounds, plus a 3-epoch accuracy check
    python benchmarks/train_speed.py --quick    # smoke run: tiny sizes, no accuracy check

Variants (all the reference CNN, same data, same seed):
  baseline (Keras defaults)  model.fit on float NumPy arrays, default batch size (32), default compile
  baseline, batch 128        the same at the reference batch size
  pipeline float32           the project's tf.data pipeline and steps-per-execution, float32 maths
  pipeline float32 + XLA     the same, XLA-compiled (Keras leaves XLA off on CPUs)
  pipeline float32 + data autotune   the same with tf.data's autotuning thread, which the project turns off
  pipeline mixed_bfloat16    the pipeline with bfloat16 maths (faster with AMX, and on some AVX-512 BF16 CPUs)
The project's own `train` is the pipeline row of the precision hardware.recommended_precision() picks
(bfloat16 where its quick test found it at least 1.2x faster, else float32); the speed-ups in the report are
that row's, and the accuracy check trains it, the batch-128 baseline and bfloat16 on the full split.
Variants are timed in turns, round after round, so that a busy neighbour on a shared machine slows all of
them alike rather than one, and each reports its fastest round: on these machines whole seconds of stall
hit random rounds (docs/benchmarks.md, *Training speed*), and with three rounds a median can land on a
stalled one. The median is in the JSON report too. Each round is one epoch over the images
after a warm-up epoch that compiles the graphs.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import (check_output, count_or_zero, machine_info, positive_count, run_main, smoke_options,  # noqa: E402
                     with_quick_sizes, write_report)

from numvision_lib._tensorflow import keras, tf  # noqa: E402
from numvision_lib.data import (TRAINING_IMAGES_PER_EPOCH, VALIDATION_FRACTION, load_mnist,  # noqa: E402
                                 stratified_split, to_model_input)
from numvision_lib.evaluation import evaluate  # noqa: E402
from numvision_lib.model import build_numvision_cnn, training_flops_per_image  # noqa: E402
from numvision_lib.pipeline import make_dataset  # noqa: E402
from numvision_lib.training import TrainConfig, compile_model, steps_per_epoch  # noqa: E402

# A large float32 matrix product on the project's 2-core machines, measured once (not in each run): a rough ceiling
# to read the GFLOP/s against, not a ratio of this run.
MATMUL_PEAK_GFLOPS_HINT = 380


def baseline_fitter(x, y, batch_size):
    model = build_numvision_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    images = to_model_input(x)
    return model, lambda: model.fit(images, y, batch_size=batch_size, epochs=1, verbose=0)


def pipeline_fitter(x, y, precision, jit_compile=False, data_autotune=False):
    config = TrainConfig(precision=precision)
    model = compile_model(config, steps_per_epoch(len(y), config.batch_size), precision)
    if jit_compile:
        model.compile(optimizer=model.optimizer, loss=model.loss, metrics=["accuracy"],
                      steps_per_execution=model.steps_per_execution, jit_compile=True)
    dataset = make_dataset(x, y, config.batch_size, shuffle=True, seed=config.seed)
    if data_autotune:
        options = tf.data.Options()
        options.autotune.enabled = True
        dataset = dataset.with_options(options)
    return model, lambda: model.fit(dataset, epochs=1, verbose=0, shuffle=False)


def pipeline_name(precision: str) -> str:
    return f"pipeline {precision}"


def variants(project_precision):
    candidates = {
        "baseline (Keras defaults)": lambda x, y: baseline_fitter(x, y, None),
        "baseline, batch 128": lambda x, y: baseline_fitter(x, y, 128),
        "pipeline float32": lambda x, y: pipeline_fitter(x, y, "float32"),
        "pipeline float32 + XLA": lambda x, y: pipeline_fitter(x, y, "float32", jit_compile=True),
        "pipeline float32 + data autotune": lambda x, y: pipeline_fitter(x, y, "float32", data_autotune=True),
        "pipeline mixed_bfloat16": lambda x, y: pipeline_fitter(x, y, "mixed_bfloat16"),
    }
    # mixed_float16 on a GPU is the one choice not among the candidates already.
    candidates.setdefault(pipeline_name(project_precision), lambda x, y: pipeline_fitter(x, y, project_precision))
    return candidates


def measure_speed(x, y, rounds, project_precision):
    fitters = {}
    for name, make in variants(project_precision).items():
        keras.utils.set_random_seed(42)
        model, fit_one_epoch = make(x, y)
        fit_one_epoch()  # warm-up: graph tracing and compilation
        fitters[name] = (model, fit_one_epoch)
    seconds = {name: [] for name in fitters}
    for _ in range(rounds):
        for name, (_, fit_one_epoch) in fitters.items():
            started = time.perf_counter()
            fit_one_epoch()
            seconds[name].append(time.perf_counter() - started)
    flops = training_flops_per_image(build_numvision_cnn())
    rows = {}
    for name, times in seconds.items():
        images_per_second = len(y) / min(times)
        rows[name] = {
            "images_per_second": round(images_per_second, 1),
            "median_images_per_second": round(len(y) / statistics.median(times), 1),
            "seconds_per_epoch_54k": round(TRAINING_IMAGES_PER_EPOCH / images_per_second, 2),
            "gflops_per_second": round(images_per_second * flops / 1e9, 1),
            "rounds_seconds": [round(t, 3) for t in times],
        }
    return rows, flops


def measure_accuracy(data, epochs, project_precision):
    """Train the batch-128 baseline, the project's pipeline and bfloat16 for `epochs` on the full split;
    the test accuracy of each."""
    x_train, y_train, _, _ = stratified_split(data.x_train, data.y_train, VALIDATION_FRACTION, 42)
    accuracies = {}
    for name in dict.fromkeys(["baseline, batch 128", pipeline_name(project_precision), "pipeline mixed_bfloat16"]):
        keras.utils.set_random_seed(42)
        model, fit_one_epoch = variants(project_precision)[name](x_train, y_train)
        for _ in range(epochs):
            fit_one_epoch()
        if model.dtype_policy.name != "float32":  # evaluate exactly as shipped: float32 weights, float32 maths
            float_model = build_numvision_cnn()
            float_model.set_weights(model.get_weights())
            model = float_model
        accuracies[name] = round(evaluate(model, data.x_test, data.y_test).accuracy, 4)
    return accuracies


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=positive_count, default=20_000, help="training images per timed epoch")
    parser.add_argument("--rounds", type=positive_count, default=5, help="timed epochs per variant, taken in turns")
    parser.add_argument("--accuracy-epochs", type=count_or_zero, default=3,
                        help="epochs of the accuracy check (0: skip)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 1,024 images, 1 round, no accuracy check, where not given otherwise")
    parser.add_argument("--output", help="JSON report path (default: results/benchmarks/train_speed.json)")
    args = parser.parse_args(argv)
    smoke = smoke_options(parser, args)
    check_output(parser, args.output)
    args = with_quick_sizes(parser, args, argv, images=1024, rounds=1, accuracy_epochs=0)

    from numvision_lib.hardware import cpu_has_bfloat16_instructions, measured_bfloat16_speedup, recommended_precision

    project_precision, reason = recommended_precision()
    # The quick test `hardware` ran to choose (cached, so this costs nothing), to compare with the full epochs.
    quick_test_speedup = round(measured_bfloat16_speedup(), 2) if cpu_has_bfloat16_instructions() else None
    data = load_mnist()
    # MNIST has fewer training images than a count may ask for: the figures say how many were timed.
    images = len(data.y_train[: args.images])
    rows, flops = measure_speed(data.x_train[:images], data.y_train[:images], args.rounds, project_precision)
    baseline = rows["baseline (Keras defaults)"]["images_per_second"]
    same_batch = rows["baseline, batch 128"]["images_per_second"]
    print(f"Reference CNN, {flops / 1e6:.1f} MFLOP per training image; {images:,} images x {args.rounds} rounds")
    print(f"{'variant':34s} {'images/s':>9s} {'s/epoch(54k)':>13s} {'GFLOP/s':>8s} {'vs default':>10s} {'vs b128':>8s}")
    for name, row in rows.items():
        print(f"{name:34s} {row['images_per_second']:9.0f} {row['seconds_per_epoch_54k']:13.1f} "
              f"{row['gflops_per_second']:8.1f} {row['images_per_second'] / baseline:9.2f}x "
              f"{row['images_per_second'] / same_batch:7.2f}x")
    project_name = pipeline_name(project_precision)
    print(f"The project's `train` is '{project_name}': hardware.recommended_precision() chose {project_precision} "
          f"({reason})")
    print(f"Peak for comparison: about {MATMUL_PEAK_GFLOPS_HINT} GFLOP/s on a large float32 matrix product (2 cores; "
          "measured once, not in this run)")
    report = {
        "machine": machine_info(),
        "images": images,
        "rounds": args.rounds,
        "mflop_per_training_image": round(flops / 1e6, 2),
        "variants": rows,
        "project_precision": project_precision,
        "project_precision_reason": reason,
        "bfloat16_quick_test_speedup": quick_test_speedup,
        "speedup_vs_keras_defaults": round(rows[project_name]["images_per_second"] / baseline, 2),
        "speedup_vs_batch_128_baseline": round(rows[project_name]["images_per_second"] / same_batch, 2),
    }
    if args.accuracy_epochs:
        report["test_accuracy_after_epochs"] = args.accuracy_epochs
        report["test_accuracy"] = measure_accuracy(data, args.accuracy_epochs, project_precision)
        for name, accuracy in report["test_accuracy"].items():
            print(f"Test accuracy after {args.accuracy_epochs} epochs on 54,000 images, {name}: {accuracy:.2%}")
    write_report("train_speed", report, args.output, smoke_run=smoke)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))

"""Memory and start-up of notebook 05's kernel: the light drawing pad (LiteRT files) beside the TensorFlow one.

    python benchmarks/light_kernel.py            # 3 fresh kernels per path, each running the whole notebook
    python benchmarks/light_kernel.py --quick    # 1 kernel per path, up to the first answer only

Each round starts a fresh Jupyter kernel (as JupyterLab does: the notebook's folder as working directory) and
runs notebook 05's code cells in order, timing each, and reads the kernel's memory from /proc: resident set size
(VmRSS) and its peak (VmHWM). The light path is the notebook as it is (`pad_predictor()`: the LiteRT files, no
TensorFlow); the TensorFlow path runs the same cells with the first one replaced by `BASELINE_FIRST_CELL`, the
Keras `Predictor` the pad used before. The two paths take turns, so load from other processes hits both alike.

Reported per path (medians over the rounds): the kernel's start, the predictor cell, the pad cell, "pad ready"
(from running the predictor cell to the pad on screen: both cells), the first answer to a drawn 7, the memory
after the pad, and the peak over the whole notebook. The targets (issue 17): at most 300 MB resident and the pad
ready within 3 s. Figures go to results/benchmarks/light_kernel.json; the printed table is for docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import (check_output, machine_info, positive_count, run_main, smoke_options, with_quick_sizes,  # noqa: E402
                     write_report)

from numvision_lib.machine import resident_memory  # noqa: E402
from numvision_lib.paths import PROJECT_ROOT  # noqa: E402

NOTEBOOK = PROJECT_ROOT / "notebooks" / "05_draw_a_digit.ipynb"
LIGHT_MARKER = "pad_predictor()"  # the notebook's first code cell must load the pad's light predictor
BASELINE_FIRST_CELL = """from numvision_lib.drawing import DrawingPad, ImageUploadPanel
from numvision_lib.predict import Predictor

predictor = Predictor.load()
print("model:", predictor.name)"""
FIRST_ANSWER = "from numvision_lib.drawn_digits import template_strokes\nprint(pad.draw(template_strokes(7)).digit)"
TENSORFLOW_LOADED = "import sys\nprint(any(name.split('.')[0] in ('tensorflow', 'keras') for name in sys.modules))"
TARGET_RSS_MB = 300
TARGET_READY_S = 3.0
CELL_TIMEOUT_S = 600


def memory_mb(pid: int) -> dict[str, float]:
    """The process's resident set now and at its peak so far, in MB (10^6 bytes: issue 17's targets are in MB)."""
    memory = resident_memory(pid)
    return {"rss_mb": round(memory.now_bytes / 1e6, 1), "peak_rss_mb": round(memory.peak_bytes / 1e6, 1)}


def run_cell(client, code: str) -> tuple[float, str]:
    """Run `code` in the kernel; (seconds until its reply, what it printed). An error stops the benchmark."""
    printed = []

    def keep(message):
        if message["header"]["msg_type"] == "stream":
            printed.append(message["content"]["text"])
        elif message["header"]["msg_type"] == "error":
            printed.append("\n".join(message["content"]["traceback"]))

    started = time.perf_counter()
    reply = client.execute_interactive(code, timeout=CELL_TIMEOUT_S, output_hook=keep)
    seconds = time.perf_counter() - started
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"the cell failed:\n{code}\n{''.join(printed)[-3000:]}")
    return seconds, "".join(printed)


def code_cells(baseline: bool) -> list[str]:
    cells = [cell.source for cell in nbformat.read(NOTEBOOK, as_version=4).cells if cell.cell_type == "code"]
    if LIGHT_MARKER not in cells[0]:
        raise RuntimeError(f"{NOTEBOOK.name}'s first code cell no longer calls {LIGHT_MARKER}: update this benchmark")
    return [BASELINE_FIRST_CELL, *cells[1:]] if baseline else cells


def one_kernel(baseline: bool, whole_notebook: bool) -> dict:
    """A fresh kernel runs the notebook's cells; timings and memory as in the module docstring."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT),
                                                                              os.environ.get("PYTHONPATH")]))}
    manager = KernelManager(kernel_name="python3")
    started = time.perf_counter()
    manager.start_kernel(cwd=str(NOTEBOOK.parent), env=environment)
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        result = {"kernel_start_s": time.perf_counter() - started, "idle": memory_mb(manager.provisioner.pid)}
        cells = code_cells(baseline)
        result["predictor_cell_s"], _ = run_cell(client, cells[0])
        result["pad_cell_s"], _ = run_cell(client, cells[1])
        result["pad_ready_s"] = result["predictor_cell_s"] + result["pad_cell_s"]
        result["after_pad"] = memory_mb(manager.provisioner.pid)
        result["first_answer_s"], answer = run_cell(client, FIRST_ANSWER)
        result["first_answer_digit"] = int(answer.strip())
        if whole_notebook:
            result["rest_of_notebook_s"] = sum(run_cell(client, cell)[0] for cell in cells[2:])
            result["whole_notebook"] = memory_mb(manager.provisioner.pid)
        result["tensorflow_imported"] = run_cell(client, TENSORFLOW_LOADED)[1].strip() == "True"
        return result
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def summarise(runs: list[dict]) -> dict:
    def median(get):
        return round(statistics.median(get(run) for run in runs), 3)

    summary = {name: median(lambda run, name=name: run[name])
               for name in ("kernel_start_s", "predictor_cell_s", "pad_cell_s", "pad_ready_s", "first_answer_s")}
    summary["idle_rss_mb"] = median(lambda run: run["idle"]["rss_mb"])
    summary["after_pad_rss_mb"] = median(lambda run: run["after_pad"]["rss_mb"])
    summary["after_pad_peak_rss_mb"] = median(lambda run: run["after_pad"]["peak_rss_mb"])
    if "whole_notebook" in runs[0]:
        summary["whole_notebook_peak_rss_mb"] = median(lambda run: run["whole_notebook"]["peak_rss_mb"])
        summary["rest_of_notebook_s"] = median(lambda run: run["rest_of_notebook_s"])
    summary["worst_pad_ready_s"] = round(max(run["pad_ready_s"] for run in runs), 3)
    summary["tensorflow_imported"] = any(run["tensorflow_imported"] for run in runs)
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=positive_count, default=3, help="fresh kernels per path (default 3)")
    parser.add_argument("--quick", action="store_true",
                        help="up to the first answer only, one kernel per path where --rounds is not given")
    parser.add_argument("--output", help="JSON file (default: results/benchmarks/light_kernel.json)")
    args = parser.parse_args(argv)
    smoke = smoke_options(parser, args)
    check_output(parser, args.output)
    rounds, whole_notebook = with_quick_sizes(parser, args, argv, rounds=1).rounds, not args.quick

    paths = {"light (LiteRT files)": False, "TensorFlow (Keras Predictor)": True}
    runs: dict[str, list[dict]] = {name: [] for name in paths}
    for round_index in range(rounds):
        # Alternate which path goes first, so neither always meets a warmer (or busier) machine.
        order = list(paths) if round_index % 2 == 0 else list(reversed(paths))
        for name in order:
            runs[name].append(one_kernel(paths[name], whole_notebook))
            print(f"round {round_index + 1}/{rounds}, {name}: pad ready in {runs[name][-1]['pad_ready_s']:.2f} s, "
                  f"{runs[name][-1]['after_pad']['rss_mb']:.0f} MB", flush=True)

    summaries = {name: summarise(path_runs) for name, path_runs in runs.items()}
    rows = [("kernel start (s)", "kernel_start_s"), ("predictor cell (s)", "predictor_cell_s"),
            ("pad cell (s)", "pad_cell_s"), ("pad ready: both cells (s)", "pad_ready_s"),
            ("pad ready, slowest round (s)", "worst_pad_ready_s"), ("first answer (s)", "first_answer_s"),
            ("idle kernel (MB)", "idle_rss_mb"), ("resident after the pad (MB)", "after_pad_rss_mb"),
            ("peak up to the pad (MB)", "after_pad_peak_rss_mb"),
            ("peak over the whole notebook (MB)", "whole_notebook_peak_rss_mb"),
            ("rest of the notebook (s)", "rest_of_notebook_s"), ("TensorFlow imported", "tensorflow_imported")]
    names = list(summaries)
    print(f"\nNotebook 05's kernel, medians of {rounds} fresh kernel(s) per path\n")
    print(f"| | {' | '.join(names)} |\n| --- |{' --- |' * len(names)}")
    for label, key in rows:
        if all(key in summary for summary in summaries.values()):
            print(f"| {label} | {' | '.join(str(summaries[name][key]) for name in names)} |")
    light = summaries[names[0]]
    peak = light.get("whole_notebook_peak_rss_mb", light["after_pad_peak_rss_mb"])
    print(f"\nTargets: at most {TARGET_RSS_MB} MB resident (light: {peak:.0f} MB at its peak) and the pad ready within "
          f"{TARGET_READY_S:.0f} s (light: {light['pad_ready_s']:.2f} s, slowest {light['worst_pad_ready_s']:.2f} s).")
    report = {"machine": machine_info(), "rounds": rounds, "whole_notebook": whole_notebook,
              "targets": {"rss_mb": TARGET_RSS_MB, "pad_ready_s": TARGET_READY_S},
              "summary": summaries, "runs": runs, "baseline_first_cell": BASELINE_FIRST_CELL}
    write_report("light_kernel", report, args.output, smoke_run=smoke)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))

"""Execute notebooks top to bottom, each in a fresh kernel, and store clean outputs in them.

    python tools/run_notebooks.py notebooks/01_data_exploration.ipynb ...   # full run (NUMVISION_QUICK removed)
    python tools/run_notebooks.py --quick --output-dir /tmp/out notebooks/0*.ipynb   # quick, write copies

The kernel runs with the notebook's folder as working directory, exactly like JupyterLab. After a notebook has
run without error its outputs are cleaned before it is written back:

- stderr lines that are TensorFlow / absl start-up log noise are removed (and the stream if nothing else is left);
- the per-epoch timings Keras prints ("- 14s - 33ms/step") are removed: stored outputs carry no timings;
- any absolute path of this project is made relative and reported (the source should print none: fix it there);
- execution counts are renumbered 1, 2, 3 ... in cell order (nbval refuses outputs without a count);
- nbclient's timing metadata is not recorded.

A cell error stops the run for that notebook and nothing is written, so a broken notebook never gets stored
outputs that look fine.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from numvision_lib.paths import write_text_atomic

# Whatever stops one notebook (an error in a cell, a cell past --timeout, a kernel killed for memory) stops only it.
NOTEBOOK_FAILURES = (CellExecutionError, CellTimeoutError, DeadKernelError)

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# TensorFlow's C++ logging (absl) and CUDA/oneDNN start-up messages.
TF_LOG_LINE = re.compile(
    r"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]"  # I0000 00:00:1795319848.326633 8847 port.cc:153] ...
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] tensorflow/"  # older TF log format
    r"|To enable the following instructions: .*rebuild TensorFlow"
    r").*$"
)
KERAS_TIMING = re.compile(r" - \d+(?:\.\d+)?(?:s|ms)(?: - \d+(?:\.\d+)?(?:s|ms|us)/step)?(?= - |$)", re.MULTILINE)


def clean_stderr(text: str) -> str:
    kept = [line for line in text.splitlines(keepends=True) if not TF_LOG_LINE.match(line.rstrip("\n"))]
    return "".join(kept)


def strip_keras_timings(text: str) -> str:
    return KERAS_TIMING.sub("", text)


def relativise_paths(text: str) -> tuple[str, int]:
    root = str(PROJECT_ROOT)
    count = text.count(root)
    return text.replace(root + os.sep, "").replace(root, "."), count


def clean_notebook(nb) -> list[str]:
    """Clean outputs in place; returns warnings about things that should be fixed in the source."""
    warnings = []
    count = 0
    for index, cell in enumerate(nb.cells):
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.outputs:
            if output.output_type == "stream":
                text = output.text
                if output.name == "stderr":
                    text = clean_stderr(text)
                text = strip_keras_timings(text)
                text, paths = relativise_paths(text)
                if paths:
                    warnings.append(f"cell {index}: {paths} absolute path(s) in {output.name}; print project-relative paths")
                if not text:
                    continue
                output.text = text
            elif output.output_type in ("display_data", "execute_result"):
                for mime, value in output.get("data", {}).items():
                    if isinstance(value, str) and mime.startswith("text/"):
                        value, paths = relativise_paths(value)
                        if paths:
                            warnings.append(f"cell {index}: {paths} absolute path(s) in {mime}")
                        output.data[mime] = value
            outputs.append(output)
        cell.outputs = outputs
        if cell.get("execution_count") is not None or outputs:
            count += 1
            cell.execution_count = count
            for output in outputs:
                if output.output_type == "execute_result":
                    output.execution_count = count
    return warnings


def run_notebook(path: Path, output: Path, timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - started
    for warning in clean_notebook(nb):
        print(f"  warning: {path.name}: {warning}", file=sys.stderr)
    nbformat.validate(nb)
    # Through a temporary file: an interrupted write never leaves a committed notebook half written.
    text = nbformat.writes(nb)
    write_text_atomic(output, text if text.endswith("\n") else text + "\n")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run, in this order (default: all in notebooks/)")
    parser.add_argument("--quick", action="store_true", help="set NUMVISION_QUICK=1 (default: a full run, variable removed)")
    parser.add_argument("--output-dir", type=Path, help="write executed copies here instead of overwriting the notebooks")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell (default 1800)")
    args = parser.parse_args(argv)

    if args.quick and not args.output_dir:
        parser.error("--quick needs --output-dir: the committed notebooks must carry the outputs of a full run")
    # A mistyped path would otherwise stop the run at its turn, after the notebooks before it.
    if missing := [str(path) for path in args.notebooks if not path.is_file()]:
        parser.error(f"no such notebook: {', '.join(missing)}")
    notebooks = args.notebooks or sorted((PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.quick:
        os.environ["NUMVISION_QUICK"] = "1"
    else:
        os.environ.pop("NUMVISION_QUICK", None)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # The kernelspec runs "python": make that the interpreter running this script (the project's venv).
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    if args.output_dir:
        args.output_dir.mkdir(parents=True, exist_ok=True)

    failures = 0
    for path in notebooks:
        path = path.resolve()
        output = (args.output_dir / path.name) if args.output_dir else path
        print(f"{path.name}: running ({'quick' if args.quick else 'full'} mode) ...", flush=True)
        try:
            elapsed = run_notebook(path, output, args.timeout)
        except NOTEBOOK_FAILURES as error:
            failures += 1
            print(f"{path.name}: FAILED, nothing written\n{error}", file=sys.stderr)
            continue
        print(f"{path.name}: done in {elapsed:.0f} s -> {output.relative_to(PROJECT_ROOT) if output.is_relative_to(PROJECT_ROOT) else output}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""Execute notebooks top to bottom, each in a fresh kernel, and store clean outputs in them.

    python tools/run_notebooks.py notebooks/01_data_exploration.ipynb ...   # full run (NUMVISION_QUICK removed)
    python tools/run_notebooks.py --quick --output-dir /tmp/out notebooks/0*.ipynb   # quick, write copies

The kernel runs with the notebook's folder as working directory, exactly like JupyterLab. Each run gets an empty
scratch my_models/ and class folder (through NUMVISION_MY_MODELS_DIR and NUMVISION_CLASS_DIR, as conftest.py
gives the tests), shared by its notebooks in order: notebook 04 evaluates the model 03 just trained, notebook 09
builds its demonstration class, and no model or drawing of a student or teacher is replaced or stored in a lesson.
Every argument is checked before the first notebook runs. After a notebook has run without error its outputs are
cleaned before it is written back:

- stderr lines that are TensorFlow / absl start-up log noise are removed (and the stream if nothing else is left);
- the per-epoch timings Keras prints ("- 14s - 33ms/step") are removed: stored outputs carry no timings;
- any absolute path of this project is made relative and reported (the source should print none: fix it there);
- the scratch folders are shown as the project's my_models/ and class_drawings/, as a student sees them;
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
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from numvision_lib.paths import (CLASS_DIR_VARIABLE, DEFAULT_CLASS_DIR, MY_MODELS_DIR_VARIABLE, project_relative,
                                 write_text_atomic)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from _report import positive_count  # noqa: E402

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
# Only on Keras' own progress line, which starts with its step count ("422/422 - 14s - 33ms/step - accuracy: ..."):
# elsewhere " - 9s" is text, such as "Most often confused: 4s - 9s".
KERAS_TIMING = re.compile(r"^( *\d+/\d+) - \d+(?:\.\d+)?(?:s|ms)(?: - \d+(?:\.\d+)?(?:s|ms|us)/step)?(?= - |$)",
                          re.MULTILINE)


def clean_stderr(text: str) -> str:
    kept = [line for line in text.splitlines(keepends=True) if not TF_LOG_LINE.match(line.rstrip("\n"))]
    return "".join(kept)


def strip_keras_timings(text: str) -> str:
    return KERAS_TIMING.sub(r"\1", text)


def _whole_path(path: Path) -> str:
    """A pattern of `path` that a longer name merely starting with it does not match: /work/main2/x and
    /work/main-data are not in /work/main."""
    return re.escape(str(path)) + r"(?![\w-]|\.\w)"


PROJECT_PATH = re.compile(_whole_path(PROJECT_ROOT) + f"({re.escape(os.sep)})?")


def use_scratch_folders(scratch: Path) -> dict[Path, Path]:
    """Point the kernels started from now on at an empty my_models/ and class folder in `scratch`, through the
    variables numvision_lib reads when imported. They are named like the project's folders, so that the lessons show
    the names a student sees (and the class its usual name). Returns each scratch folder with the folder it stands
    for, for `relativise_paths`."""
    stand_ins = {}
    for variable, folder in ((MY_MODELS_DIR_VARIABLE, PROJECT_ROOT / "my_models"),
                             (CLASS_DIR_VARIABLE, DEFAULT_CLASS_DIR)):
        stand_in = scratch / folder.name
        stand_in.mkdir()
        os.environ[variable] = str(stand_in)
        stand_ins[stand_in] = folder
    return stand_ins


def relativise_paths(text: str, stand_ins: dict[Path, Path] | None = None) -> tuple[str, int]:
    """`text` with this project's absolute paths made relative, and how many there were; the scratch folders of a run
    (`use_scratch_folders`) become the project's folders they stand for, however they were printed."""
    for stand_in, folder in (stand_ins or {}).items():
        text = re.sub(_whole_path(stand_in), lambda _: str(folder), text)
        # As the lessons show them (project_relative): the folder, and a file in it as "…/my_models/<name>".
        text = text.replace(project_relative(stand_in), project_relative(folder))
        text = text.replace(project_relative(stand_in / "-")[:-1], project_relative(folder / "-")[:-1])
    return PROJECT_PATH.subn(lambda found: "" if found.group(1) else ".", text)


def clean_notebook(nb, stand_ins: dict[Path, Path] | None = None) -> list[str]:
    """Clean outputs in place; returns warnings about things that should be fixed in the source. `stand_ins`: the
    scratch folders the notebook ran with (`use_scratch_folders`)."""
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
                text, paths = relativise_paths(text, stand_ins)
                if paths:
                    warnings.append(f"cell {index}: {paths} absolute path(s) in {output.name}; print project-relative paths")
                if not text:
                    continue
                output.text = text
            elif output.output_type in ("display_data", "execute_result"):
                for mime, value in output.get("data", {}).items():
                    if isinstance(value, str) and mime.startswith("text/"):
                        value, paths = relativise_paths(value, stand_ins)
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


def notebook_problems(paths: list[Path]) -> list[str]:
    """What is wrong with each of `paths` as a notebook to run: found before the first one runs, since a path that is
    missing, a folder or another file (notebooks/conftest.py, from a glob) would otherwise stop the run at its turn."""
    problems = []
    for path in paths:
        if path.is_dir():
            problems.append(f"{path} is a folder: give the notebooks in it, such as {path / '[0-9][0-9]_*.ipynb'}")
        elif not path.is_file():
            problems.append(f"no such notebook: {path}")
        else:
            try:
                nbformat.read(path, as_version=4)
            # A JSON list is an AttributeError in nbformat; a JSON object of no notebook format a ValidationError.
            except (OSError, ValueError, AttributeError, nbformat.ValidationError) as error:
                reason = error.strerror if isinstance(error, OSError) else str(error).strip().split("\n")[0][:100]
                problems.append(f"{path} cannot be read as a notebook ({reason}): give .ipynb files only")
    return problems


def run_notebook(path: Path, output: Path, timeout: int, stand_ins: dict[Path, Path] | None = None) -> float:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - started
    for warning in clean_notebook(nb, stand_ins):
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
    # nbclient takes 0 or less as "no limit at all", which nobody typing it means.
    parser.add_argument("--timeout", type=positive_count, default=1800, help="seconds allowed per cell (default 1800)")
    args = parser.parse_args(argv)

    if args.quick and not args.output_dir:
        parser.error("--quick needs --output-dir: the committed notebooks must carry the outputs of a full run")
    if problems := notebook_problems(args.notebooks):
        parser.error("; ".join(problems))
    notebooks = args.notebooks or sorted((PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.output_dir and args.output_dir.exists() and not args.output_dir.is_dir():
        parser.error(f"--output-dir {args.output_dir} is a file: give a folder (it is made if missing)")
    if args.quick and any(args.output_dir.resolve() == path.resolve().parent for path in notebooks):
        parser.error(f"--output-dir {args.output_dir} is the notebooks' own folder: --quick would write its outputs "
                     "over theirs, which are those of a full run; give another folder, such as /tmp/out")
    if args.output_dir:
        try:
            args.output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            parser.error(f"--output-dir {args.output_dir}: cannot make it ({error.strerror or error}); give a folder "
                         "you can write to")
    if args.quick:
        os.environ["NUMVISION_QUICK"] = "1"
    else:
        os.environ.pop("NUMVISION_QUICK", None)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # The kernelspec runs "python": make that the interpreter running this script (the project's venv).
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")

    failures = 0
    with tempfile.TemporaryDirectory(prefix="numvision-run-") as scratch:
        stand_ins = use_scratch_folders(Path(scratch))
        for path in notebooks:
            path = path.resolve()
            output = (args.output_dir / path.name) if args.output_dir else path
            print(f"{path.name}: running ({'quick' if args.quick else 'full'} mode) ...", flush=True)
            try:
                elapsed = run_notebook(path, output, args.timeout, stand_ins)
            except NOTEBOOK_FAILURES as error:
                failures += 1
                print(f"{path.name}: FAILED, nothing written\n{error}", file=sys.stderr)
                continue
            print(f"{path.name}: done in {elapsed:.0f} s -> {output.relative_to(PROJECT_ROOT) if output.is_relative_to(PROJECT_ROOT) else output}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

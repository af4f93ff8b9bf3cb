"""Static checks of every notebook in notebooks/: names, structure, short cells and clean stored outputs.

These need no kernel and run in a second, except the last few, which run tools/run_notebooks.py on tiny notebooks
of their own; nbval (`pytest --nbval-lax notebooks/`) executes the notebooks.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest

from project_scripts import load_script

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
NAME = re.compile(r"^(\d\d)_[a-z0-9]+(?:_[a-z0-9]+)*\.ipynb$")
MAX_CODE_LINES = 15

MACHINE_PATH = re.compile(
    r"/home/|/root/|/work/|/tmp/|/Users/|/var/folders/|[A-Za-z]:\\\\?Users|file://"
    # any other absolute POSIX path of two or more parts, e.g. /usr/lib/x or /opt/data/ (not 3/5 or ms/step)
    r"|(?<![\w.~:/\]\)>-])/(?:[A-Za-z0-9_.-]+/)+[A-Za-z0-9_.-]*"
)
TF_LOG_NOISE = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d+\.\d+|absl::InitializeLog|oneDNN custom operations|cuda drivers",
                          re.MULTILINE)
KERAS_TIMING = re.compile(r"\d+(?:\.\d+)?(?:ms|us|s)/step|/\d+ - \d+(?:\.\d+)?m?s - ")

ids = [path.name for path in NOTEBOOKS]


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _output_texts(cell):
    """Every text in a code cell's stored outputs (streams, text/* data, error values), not images."""
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            yield output.name, output.text
        elif output.output_type in ("display_data", "execute_result"):
            for mime, value in output.get("data", {}).items():
                if mime.startswith("text/") or mime.endswith("json"):
                    yield mime, value if isinstance(value, str) else str(value)
        elif output.output_type == "error":
            yield "error", output.get("evalue", "")


def _code_lines(source: str) -> list[str]:
    return [line for line in source.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_there_are_notebooks_with_consecutive_numbered_names():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR.name}/"
    bad = [path.name for path in NOTEBOOKS if not NAME.match(path.name)]
    assert not bad, f"notebook names must be NN_snake_case.ipynb: {bad}"
    numbers = [int(NAME.match(path.name).group(1)) for path in NOTEBOOKS]
    assert numbers == list(range(1, len(numbers) + 1)), f"numbers must run 01, 02, ... without gaps or repeats: {ids}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_is_valid_and_opens_and_closes_as_a_lesson(path):
    nb = _read(path)
    nbformat.validate(nb)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and re.search(r"what you will learn", first.source, re.IGNORECASE), (
        f"{path.name}: the first cell must be markdown with a 'What you will learn' section"
    )
    headings = [index for index, cell in enumerate(nb.cells)
                if cell.cell_type == "markdown" and re.search(r"^#+\s*exercises", cell.source, re.IGNORECASE | re.MULTILINE)]
    assert headings, f"{path.name}: the notebook must end with an '## Exercises' section"
    # After it: the exercises' markdown, and code cells that only set up and check answers (numvision_lib.exercises).
    for index, cell in enumerate(nb.cells[headings[-1] + 1:], headings[-1] + 1):
        if cell.cell_type == "markdown":
            assert not re.search(r"^##\s", cell.source, re.MULTILINE), f"{path.name}: cell {index}: a new section after Exercises"
        else:
            assert re.search(r"^q\d+\.check\(\)|setup_exercises\(", cell.source, re.MULTILINE), (
                f"{path.name}: cell {index}: code after the Exercises heading must set up or check an exercise")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_code_cells_are_short(path):
    too_long = [
        (index, len(_code_lines(cell.source)))
        for index, cell in enumerate(_read(path).cells)
        if cell.cell_type == "code" and len(_code_lines(cell.source)) > MAX_CODE_LINES
    ]
    assert not too_long, f"{path.name}: code cells over {MAX_CODE_LINES} non-comment lines (cell, lines): {too_long}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_stored_outputs_have_execution_counts_in_order_and_no_errors(path):
    counts = []
    for index, cell in enumerate(_read(path).cells):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"{path.name}: cell {index} stores an error output ({errors[0].get('ename')})"
        if cell.outputs:
            assert cell.execution_count is not None, f"{path.name}: cell {index} has outputs but no execution count"
        if cell.execution_count is not None:
            counts.append(cell.execution_count)
    assert counts == sorted(counts) and len(set(counts)) == len(counts), (
        f"{path.name}: execution counts must increase from top to bottom (run all cells in a fresh kernel): {counts}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_no_machine_paths_in_outputs_or_sources(path):
    problems = []
    for index, cell in enumerate(_read(path).cells):
        for kind, text in _output_texts(cell):
            match = MACHINE_PATH.search(text)
            if match:
                problems.append(f"cell {index} {kind}: ...{text[max(0, match.start() - 30):match.end() + 30]!r}...")
        match = re.search(r"/home/|/root/|/work/|/tmp/|/Users/|[A-Za-z]:\\\\?Users", cell.source)
        if match:
            problems.append(f"cell {index} source: {cell.source[max(0, match.start() - 30):match.end() + 30]!r}")
    assert not problems, f"{path.name}: machine-specific paths:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_no_tensorflow_log_noise_or_keras_timings_in_outputs(path):
    problems = []
    for index, cell in enumerate(_read(path).cells):
        for kind, text in _output_texts(cell):
            for pattern, what in ((TF_LOG_NOISE, "TensorFlow log line"), (KERAS_TIMING, "Keras step timing")):
                match = pattern.search(text)
                if match:
                    problems.append(f"cell {index} {kind}: {what}: {text[match.start():match.start() + 80]!r}")
    assert not problems, f"{path.name}: clean the outputs with tools/run_notebooks.py:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_checked_cells_have_a_reference_output_without_stderr(path):
    for index, cell in enumerate(_read(path).cells):
        if cell.cell_type != "code" or "NBVAL_CHECK_OUTPUT" not in cell.source:
            continue
        assert cell.execution_count is not None and cell.outputs, (
            f"{path.name}: cell {index} is checked by nbval but stores no output to compare with"
        )
        assert not [o for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"], (
            f"{path.name}: checked cell {index} stores stderr output, which varies between runs"
        )


# --- the cleaning done by tools/run_notebooks.py -------------------------------------------------------------
def _runner():
    return load_script("tools/run_notebooks.py")


def test_runner_removes_tensorflow_noise_and_keras_timings():
    runner = _runner()
    stderr = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1795320116.072031   11824 port.cc:153] oneDNN custom operations are on.\n"
        "UserWarning: a real warning stays\n"
    )
    assert runner.clean_stderr(stderr) == "UserWarning: a real warning stays\n"
    line = "422/422 - 14s - 33ms/step - accuracy: 0.9487 - loss: 0.1663 - val_accuracy: 0.9850\n"
    assert runner.strip_keras_timings(line) == "422/422 - accuracy: 0.9487 - loss: 0.1663 - val_accuracy: 0.9850\n"
    assert runner.strip_keras_timings("Epoch 3/10\n") == "Epoch 3/10\n"
    text, count = runner.relativise_paths(f"saved to {runner.PROJECT_ROOT}/my_models/m.keras")
    assert (text, count) == ("saved to my_models/m.keras", 1)


def test_runner_renumbers_execution_counts_and_drops_empty_noise():
    runner = _runner()
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import tensorflow", execution_count=3, outputs=[
            nbformat.v4.new_output("stream", name="stderr", text="I0000 00:00:1.5  1 port.cc:1] oneDNN\n")]),
        nbformat.v4.new_markdown_cell("text"),
        nbformat.v4.new_code_cell("1 + 1", execution_count=7, outputs=[
            nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=7)]),
    ])
    assert runner.clean_notebook(nb) == []
    assert nb.cells[0].outputs == [] and nb.cells[0].execution_count == 1
    assert nb.cells[2].execution_count == 2 and nb.cells[2].outputs[0].execution_count == 2


def test_runner_leaves_text_that_only_looks_like_keras_timings_or_the_projects_path():
    runner = _runner()
    for text in ("Most often confused: 4s - 9s\n", "pairs: 3 - 5s - 8s\n", "flagged 1s read as 7s - 12s in all\n"):
        assert runner.strip_keras_timings(text) == text
    root = runner.PROJECT_ROOT
    text, count = runner.relativise_paths(f"{root}; {root}/x; {root}2/x; {root}-data/mnist; {root}line; {root}.bak")
    assert (text, count) == (f".; x; {root}2/x; {root}-data/mnist; {root}line; {root}.bak", 2)


# --- running notebooks with tools/run_notebooks.py: tiny notebooks of the tests' own, each in a kernel ----------
@pytest.fixture
def run_tool(monkeypatch, capsys):
    """tools/run_notebooks.py's `main`, called as its command line calls it, with the variables it sets put back
    after the test; returns its status and what it printed on stderr."""
    for variable in ("NUMVISION_MY_MODELS_DIR", "NUMVISION_CLASS_DIR", "NUMVISION_QUICK", "PATH", "TF_CPP_MIN_LOG_LEVEL"):
        monkeypatch.setenv(variable, os.environ.get(variable, ""))

    def run(*arguments):
        try:
            status = _runner().main([str(argument) for argument in arguments])
        except SystemExit as refused:
            status = refused.code
        return status, capsys.readouterr().err
    return run


def _notebook(path: Path, *sources: str) -> Path:
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources]), path)
    return path


def _stored_text(path: Path) -> str:
    return "".join(text for cell in _read(path).cells for _, text in _output_texts(cell))


def test_a_run_trains_and_collects_in_scratch_folders_and_stores_the_projects_names(tmp_path, monkeypatch, run_tool):
    # The folders a teacher's shell names, standing for the project's my_models/ and class_drawings/.
    models, drawings = tmp_path / "teachers_models", tmp_path / "teachers_class"
    for variable, folder in (("NUMVISION_MY_MODELS_DIR", models), ("NUMVISION_CLASS_DIR", drawings)):
        folder.mkdir()
        monkeypatch.setenv(variable, str(folder))
    # As the lessons find them: my_models/ through numvision_lib.paths, the class folder through ClassCollection().
    training = _notebook(tmp_path / "03_train.ipynb", (
        "from numvision_lib.class_collection import ClassCollection\n"
        "from numvision_lib.paths import MY_MODELS_DIR, project_relative\n"
        "folder = ClassCollection().folder\n"
        "print(sorted(p.name for p in MY_MODELS_DIR.iterdir()), sorted(p.name for p in folder.iterdir()))\n"
        "(MY_MODELS_DIR / 'my_tiny.keras').write_text('trained')\n"
        "(folder / 'drawing.json').write_text('{}')\n"
        "print('saved as', project_relative(MY_MODELS_DIR / 'my_tiny.keras'), 'beside', project_relative(folder))"))
    evaluating = _notebook(tmp_path / "04_evaluate.ipynb", (
        "from numvision_lib.paths import MY_MODELS_DIR\n"
        "print('found', sorted(p.name for p in MY_MODELS_DIR.iterdir()))"))
    status, _ = run_tool("--quick", "--output-dir", tmp_path / "out", training, evaluating)
    assert status == 0
    assert list(models.iterdir()) == [] and list(drawings.iterdir()) == [], "the teacher's folders are untouched"
    assert _stored_text(tmp_path / "out" / "03_train.ipynb") == (
        "[] []\nsaved as my_models/my_tiny.keras beside class_drawings\n"), "empty scratch folders, shown by name"
    assert _stored_text(tmp_path / "out" / "04_evaluate.ipynb") == "found ['my_tiny.keras']\n", (
        "the notebooks of one run share its my_models/, as 04 evaluates what 03 trained")


@pytest.mark.parametrize("arguments, message", [
    (["{folder}", "--quick", "--output-dir", "{out}"], "{folder} is a folder: give the notebooks in it, such as "),
    (["{conftest}", "--quick", "--output-dir", "{out}"],
     "{conftest} cannot be read as a notebook (Notebook does not appear to be JSON"),
    (["{other}", "--quick", "--output-dir", "{out}"], "{other} cannot be read as a notebook ('list' object"),
    (["--output-dir", "{file}"], "--output-dir {file} is a file: give a folder (it is made if missing)"),
    (["--quick", "--output-dir", "{folder}"], "--output-dir {folder} is the notebooks' own folder: --quick would"),
    (["--quick", "--output-dir", "{out}", "--timeout", "0"], "argument --timeout: '0' must be a whole number of at least 1"),
    (["--quick", "--output-dir", "{out}", "--timeout", "-5"], "argument --timeout: '-5' must be a whole number of at least 1"),
], ids=["folder", "conftest.py", "a JSON list", "output file", "quick into its folder", "timeout 0", "timeout -5"])
def test_arguments_that_cannot_work_are_refused_before_the_first_notebook_runs(tmp_path, run_tool, arguments, message):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    first = _notebook(folder / "01_first.ipynb", "open('ran', 'w').close()")
    places = {"folder": folder, "out": tmp_path / "out", "file": tmp_path / "a file", "other": folder / "other.ipynb",
              "conftest": folder / "conftest.py"}
    places["file"].write_text("not a folder")
    places["other"].write_text("[]")
    places["conftest"].write_text('"""nbval settings"""\n')
    status, err = run_tool(first, *(argument.format(**places) for argument in arguments))
    assert status == 2 and message.format(**places) in err
    assert not (folder / "ran").exists() and not places["out"].exists(), "nothing ran, nothing was written"
    assert nbformat.read(first, as_version=4).cells[0].outputs == []

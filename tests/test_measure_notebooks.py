"""tools/measure_notebooks.py measures real kernels, and the teacher's guide shows exactly what it measured."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from project_scripts import load_script

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _measure_module():
    return load_script("tools/measure_notebooks.py")


def _notebook(path: Path, *sources: str) -> Path:
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources]), path)
    return path


def test_a_fresh_kernels_peak_memory_and_cpu_time_are_measured(tmp_path):
    allocating = _notebook(
        tmp_path / "allocating.ipynb",
        "import numpy as np",
        "block = np.ones(300 * 2**20 // 8)  # 300 MiB, every page written\ndel block",
        "total = sum(i * i for i in range(3_000_000))  # a few tenths of a second of CPU",
    )
    failing = _notebook(tmp_path / "failing.ipynb", "1 / 0")
    results = tmp_path / "resources.json"
    run = subprocess.run([sys.executable, str(PROJECT_ROOT / "tools" / "measure_notebooks.py"), "--modes", "quick",
                          "--results", str(results), str(allocating), str(failing)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, "a notebook that fails makes the run fail"
    entries = json.loads(results.read_text())["notebooks"]
    measured = entries["allocating"]["quick"]
    assert measured["error"] is None and measured["cells"] == 3
    assert 300 < measured["peak_rss_mib"] < 1000, "the freed block still counts: the peak is what a server must hold"
    assert 0.2 < measured["cpu_seconds"] < measured["wall_seconds"] + 5
    assert measured["load_before"] >= 0 and measured["machine"]["cores"] >= 1
    assert entries["failing"]["quick"]["error"] == "ZeroDivisionError: division by zero", "no terminal colour codes"
    assert "peak 3" in run.stdout and "FAILED" in run.stdout


def test_the_guide_shows_the_table_the_measurements_give():
    measure = _measure_module()
    guide = measure.GUIDE.read_text(encoding="utf-8")
    table = guide.split(measure.TABLE_START, 1)[1].split(measure.TABLE_END, 1)[0].strip()
    assert table == measure.render_table(measure.read_results(), measure.all_notebooks()), (
        "run `python tools/measure_notebooks.py --update-guide` (never edit the table by hand)")


def test_unmeasured_notebooks_are_named_in_the_table():
    measure = _measure_module()
    table = measure.render_table({"notebooks": {}}, ["01_a", "02_b"])
    assert "| `01_a` | not measured yet | – | not measured yet | – |" in table
    assert "Still to be measured: `01_a`, `02_b`." in table


def test_a_missing_notebook_is_refused_before_any_runs(tmp_path, capsys):
    measure = _measure_module()
    present = _notebook(tmp_path / "present.ipynb", "1 + 1")
    results = tmp_path / "resources.json"
    with pytest.raises(SystemExit) as refused:
        measure.main([str(present), str(tmp_path / "mistyped.ipynb"), "--modes", "quick", "--results", str(results)])
    assert refused.value.code == 2
    assert f"no such notebook: {tmp_path / 'mistyped.ipynb'}" in capsys.readouterr().err
    assert not results.exists()


def _entry(error: str | None = None, measured: str = "2026-01-01T00:00:00+00:00") -> dict:
    """A measurement as `measure_notebook` returns it."""
    return {"peak_rss_mib": 1.0, "cpu_seconds": 1.0, "wall_seconds": 1.0, "cells": 1, "load_before": 0.0,
            "load_after": 0.0, "error": error, "measured": measured,
            "machine": {"cpu": "cpu", "cores": 1, "memory_gib": 1.0, "python": "3.11"}}


@pytest.fixture
def environment_put_back(monkeypatch):
    for variable in ("NUMVISION_MY_MODELS_DIR", "NUMVISION_CLASS_DIR", "NUMVISION_QUICK", "PATH", "TF_CPP_MIN_LOG_LEVEL"):
        monkeypatch.setenv(variable, os.environ.get(variable, ""))  # main sets them; restored after the test


def test_modes_takes_one_mode_so_the_notebooks_after_it_are_measured(tmp_path, monkeypatch, capsys,
                                                                      environment_put_back):
    measure = _measure_module()
    notebook = _notebook(tmp_path / "present.ipynb", "1 + 1")
    measured = []

    def recorded(path, timeout):
        measured.append((path.name, os.environ.get("NUMVISION_QUICK")))
        return _entry()

    monkeypatch.setattr(measure, "measure_notebook", recorded)
    results = tmp_path / "resources.json"
    assert measure.main(["--modes", "quick", str(notebook), "--results", str(results)]) == 0
    assert measured == [("present.ipynb", "1")]
    assert set(json.loads(results.read_text())["notebooks"]["present"]) == {"quick"}
    measured.clear()
    assert measure.main(["--modes", "full", "--modes", "quick", str(notebook), "--results", str(results)]) == 0
    assert measured == [("present.ipynb", "1"), ("present.ipynb", None)], "quick, then full, as without --modes"
    capsys.readouterr()


def test_the_guide_is_rewritten_only_from_the_results_it_shows(tmp_path, monkeypatch, capsys):
    measure = _measure_module()
    rewritten = []
    monkeypatch.setattr(measure, "update_guide", rewritten.append)  # the real guide is never at stake here
    scratch = tmp_path / "scratch.json"
    with pytest.raises(SystemExit) as refused:
        measure.main(["--results", str(scratch), "--update-guide"])
    assert refused.value.code == 2
    assert f"not --results {scratch}: leave out --results" in capsys.readouterr().err
    assert rewritten == [] and not scratch.exists()


@pytest.mark.parametrize("content, message", [
    (None, "not a readable results file ([Errno 21] Is a directory"),
    ('{"notebooks": {"01_a"', "not a readable results file (Expecting"),
    ("[]", 'not a results file (expected a JSON object with "notebooks")'),
    ('{"01_a": {}}', 'not a results file (expected a JSON object with "notebooks")'),
    ('{"notebooks": {"01_a": {"quick": {"error": null}}, "02_b": []}}',
     "incomplete measurements (01_a/quick, 02_b/?): measure those notebooks again into a new file"),
])
def test_a_results_path_that_is_no_results_file_is_refused_before_any_runs(tmp_path, capsys, content, message):
    measure = _measure_module()
    notebook = _notebook(tmp_path / "present.ipynb", "1 + 1")
    results = tmp_path / "resources.json"
    results.mkdir() if content is None else results.write_text(content)
    with pytest.raises(SystemExit) as refused:
        measure.main([str(notebook), "--modes", "quick", "--results", str(results)])
    assert refused.value.code == 2
    assert f"--results {results}: {message}" in capsys.readouterr().err


def test_a_results_file_that_cannot_be_written_is_refused_before_any_runs(tmp_path, capsys):
    measure = _measure_module()
    notebook = _notebook(tmp_path / "present.ipynb", "1 + 1")
    blocker = tmp_path / "a file"
    blocker.write_text("where the results' folder would be")
    for results in (blocker / "resources.json", tmp_path):  # under a file; a folder
        with pytest.raises(SystemExit) as refused:
            measure.main([str(notebook), "--modes", "quick", "--results", str(results)])
        assert refused.value.code == 2
        assert f"--results {results}: " in capsys.readouterr().err


def test_the_notebooks_of_a_mode_share_an_empty_scratch_my_models_and_class_folder(tmp_path, monkeypatch, capsys,
                                                                                  environment_put_back):
    measure = _measure_module()
    # The folders a teacher's shell names: notebook 09 would measure the real class, whose figures the guide shows.
    teachers = [tmp_path / "teachers_models", tmp_path / "teachers_class"]
    for variable, folder in zip(("NUMVISION_MY_MODELS_DIR", "NUMVISION_CLASS_DIR"), teachers):
        folder.mkdir()
        monkeypatch.setenv(variable, str(folder))
    seen = []

    def recorded(path, timeout):
        models, drawings = Path(os.environ["NUMVISION_MY_MODELS_DIR"]), Path(os.environ["NUMVISION_CLASS_DIR"])
        seen.append((models, drawings, sorted(os.listdir(models)), sorted(os.listdir(drawings))))
        (models / f"my_{path.stem}.keras").write_text("trained")
        return _entry()

    monkeypatch.setattr(measure, "measure_notebook", recorded)
    notebooks = [_notebook(tmp_path / "03_a.ipynb", "1"), _notebook(tmp_path / "04_b.ipynb", "2")]
    assert measure.main([*map(str, notebooks), "--modes", "quick", "--results", str(tmp_path / "resources.json")]) == 0
    (models, drawings, *_), second = seen
    assert seen[0][2:] == ([], []) and second == (models, drawings, ["my_03_a.keras"], []), (
        "04 finds the model 03 saved, in the scratch folders of its mode")
    assert not set(teachers) & {models, drawings} and all(list(folder.iterdir()) == [] for folder in teachers)
    capsys.readouterr()


def test_only_the_lessons_are_measured_into_the_guides_results(tmp_path, monkeypatch, capsys, environment_put_back):
    measure = _measure_module()
    monkeypatch.setattr(measure, "RESULTS", tmp_path / "guide_resources.json")  # the default --results
    monkeypatch.setattr(measure, "measure_notebook", lambda path, timeout: _entry())
    copy = _notebook(tmp_path / "01_data_exploration.ipynb", "1 + 1")
    with pytest.raises(SystemExit) as refused:
        measure.main([str(copy), "--modes", "quick"])
    assert refused.value.code == 2
    assert re.search(f"{re.escape(str(copy))}: only the lessons in notebooks/ are measured into .*guide_resources.json, "
                     "which the teachers' guide shows; give another file with --results", capsys.readouterr().err)
    assert not measure.RESULTS.exists()
    assert measure.main([str(copy), "--modes", "quick", "--results", str(tmp_path / "scratch.json")]) == 0, (
        "into another file it is measured")
    capsys.readouterr()


def test_a_failed_run_keeps_the_measurement_that_succeeded(tmp_path, monkeypatch, capsys, environment_put_back):
    measure = _measure_module()
    results = tmp_path / "resources.json"
    results.write_text(json.dumps({"notebooks": {"present": {"quick": _entry(measured="2026-01-02T00:00:00+00:00")}}}))
    monkeypatch.setattr(measure, "measure_notebook", lambda path, timeout: _entry("ZeroDivisionError: division by zero"))
    notebook = _notebook(tmp_path / "present.ipynb", "1 / 0")
    assert measure.main([str(notebook), "--modes", "quick", "--results", str(results)]) == 1
    assert json.loads(results.read_text())["notebooks"]["present"]["quick"]["error"] is None
    assert "FAILED: ZeroDivisionError: division by zero\n  not recorded: the measurement of 2026-01-02 stays" in (
        capsys.readouterr().out)


@pytest.mark.parametrize("argument, message", [
    ("{folder}", "{folder} is a folder: give the notebooks in it"),
    ("{conftest}", "{conftest} cannot be read as a notebook (Notebook does not appear to be JSON"),
    ("--timeout=0", "argument --timeout: '0' must be a whole number of at least 1"),
], ids=["folder", "conftest.py", "timeout 0"])
def test_arguments_that_cannot_work_are_refused_before_any_runs(tmp_path, capsys, argument, message):
    measure = _measure_module()
    present = _notebook(tmp_path / "present.ipynb", "1 + 1")
    places = {"folder": tmp_path / "notebooks", "conftest": tmp_path / "conftest.py"}
    places["folder"].mkdir()
    places["conftest"].write_text('"""nbval settings"""\n')
    results = tmp_path / "resources.json"
    with pytest.raises(SystemExit) as refused:
        measure.main([str(present), argument.format(**places), "--results", str(results)])
    assert refused.value.code == 2 and message.format(**places) in capsys.readouterr().err
    assert not results.exists()

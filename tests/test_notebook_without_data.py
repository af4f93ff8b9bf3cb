"""Notebook 04 without MNIST: the model-only cells work, then one clear message says what is missing."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "04_evaluation.ipynb"


def test_evaluation_notebook_without_data_stops_with_a_clear_message(tmp_path, monkeypatch, shipped_model_path):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    monkeypatch.setenv("NUMVISION_DATA_DIR", str(tmp_path / "no-mnist-here"))
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    with pytest.raises(CellExecutionError) as caught:
        client.execute()
    assert caught.value.ename == "MissingTestData"
    assert "NUMVISION_DATA_DIR" in caught.value.evalue and "needs only the model" in caught.value.evalue

    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    failing = next(i for i, cell in enumerate(code_cells) if any(o.output_type == "error" for o in cell.outputs))
    assert "load_test_data()" in code_cells[failing].source, "the first cell to fail is the one that loads the data"
    before = code_cells[:failing]
    assert before and all(cell.execution_count is not None for cell in before), "the model-only cells all ran"
    printed = "".join(o.get("text", "") for cell in before for o in cell.outputs if o.output_type == "stream")
    assert "Model: " in printed and "parameters" in printed
    error = code_cells[failing].outputs[-1]
    assert len(error.traceback) == 1, "students see one message, not a traceback"

"""The training history's CSV file: what is written reads back exactly, whatever the epochs and the metrics' names."""
import numpy as np
import pytest

from numvision_lib.history import read_history_csv, write_history_csv
from numvision_lib.paths import MODELS_DIR, RESULTS_DIR


def test_epochs_and_values_read_back_exactly(tmp_path):
    history = {"epoch": [1234567, 1234568], "loss": [0.1 + 0.2, 1 / 3],
               "val_accuracy": [float(np.float32(0.9217)), 1e-300], "learning_rate": [np.float32(1e-3), 0.0]}
    log = write_history_csv(history, tmp_path / "history.csv")
    assert log.read_text().splitlines()[1].startswith("1234567,0.30000000000000004,")
    assert read_history_csv(log) == {**history, "learning_rate": [float(np.float32(1e-3)), 0.0]}


def test_metric_names_with_commas_and_quotes_read_back(tmp_path):
    history = {"epoch": [0, 1], 'top-k accuracy, k="3"': [0.5, 0.75], "loss": [2.0, 1.5]}
    log = write_history_csv(history, tmp_path / "history.csv")
    assert log.read_text() == 'epoch,"top-k accuracy, k=""3""",loss\n0,0.5,2.0\n1,0.75,1.5\n'
    assert read_history_csv(log) == history


@pytest.mark.parametrize("shipped", sorted(MODELS_DIR.glob("*.history.csv")) + sorted(RESULTS_DIR.glob("*/history.csv")),
                         ids=lambda path: path.relative_to(path.parents[1]).as_posix())
def test_a_shipped_history_is_written_again_byte_for_byte(tmp_path, shipped):
    """evaluate copies a model's history into results/: the files in git stay as they are."""
    copy = write_history_csv(read_history_csv(shipped), tmp_path / "history.csv")
    assert copy.read_bytes() == shipped.read_bytes()

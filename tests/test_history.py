"""The training history's CSV file: what is written reads back exactly, whatever the epochs and the metrics' names."""
import re

import numpy as np
import pytest

from numvision_lib.errors import ConfigError, DataError
from numvision_lib.history import checked_history, read_history_csv, write_history_csv
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


def test_a_history_is_written_as_plot_history_takes_it(tmp_path):
    """What model.fit returns, or a history read with pandas: write_history_csv called `.values()` on a History."""
    import pandas

    from numvision_lib._tensorflow import keras

    fitted = keras.callbacks.History()
    fitted.history = {"loss": [0.5, 0.3], "accuracy": [0.8, 0.9]}
    expected = {"epoch": [0, 1], **fitted.history}
    assert read_history_csv(write_history_csv(fitted, tmp_path / "fitted.csv")) == expected
    assert read_history_csv(write_history_csv(pandas.DataFrame(expected), tmp_path / "table.csv")) == expected
    for history, message in [([0.5, 0.3], "a training history is what model.fit returns, or its .history dict of "
                                          "lists; not a list (a pandas DataFrame of those columns works too)"),
                             ({"loss": 0.5}, "a history has one value per epoch in every column, a list of them; "
                                             "'loss' holds 0.5"),
                             ({"loss": [0.5, 0.3], "accuracy": [0.8]}, "one value per epoch in every column; these "
                                                                       "have {'loss': 2, 'accuracy': 1}")]:
        with pytest.raises(ConfigError, match=re.escape(message)):
            write_history_csv(history, tmp_path / "refused.csv")
    assert not (tmp_path / "refused.csv").exists()


def test_a_history_saved_by_a_spreadsheet_with_semicolons_says_what_it_found_and_what_to_do(tmp_path):
    log = tmp_path / "my_numvision_cnn.history.csv"
    log.write_text("epoch;accuracy;loss\n0;0,91;0,26\n", encoding="utf-8-sig")
    with pytest.raises(DataError, match=re.escape("my_numvision_cnn.history.csv: not a training history: its first "
                                                  "line, 'epoch;accuracy;loss', has no 'epoch' column. Saved again by "
                                                  "a spreadsheet, with ';' between the fields? Save it as "
                                                  "comma-separated CSV")):
        read_history_csv(log)


def test_a_damaged_row_is_to_be_corrected_never_the_whole_history_deleted(tmp_path):
    """Deleting a run's history while its backup resumes published a card that contradicted itself."""
    log = tmp_path / "history.csv"
    log.write_text("epoch,val_accuracy\n0,0.9\n1,\n")
    with pytest.raises(DataError, match=r"line 3 is not a row of numbers .*\. Correct that line, or delete it\.$"):
        read_history_csv(log)


def test_a_log_whose_last_line_has_no_line_break_may_be_cut_inside_a_number(tmp_path):
    """Every row is written with its line break: a row cut inside its last number (0.31 as 0.) was read as a smaller
    number, and chose another best epoch."""
    log = tmp_path / "history.csv"
    whole = "epoch,val_accuracy,val_loss\n0,0.97,0.20\n1,0.97,0.31\n"
    log.write_text(whole[:-3])
    with pytest.raises(DataError, match=r"history\.csv: line 3, the last, ends without a line break, as a row cut off "
                                        r"by a full disk does, so its last number may be cut short\. If the line is "
                                        r"whole, end it with a line break; else delete it\.$"):
        read_history_csv(log)
    log.write_text(whole)
    assert read_history_csv(log)["val_loss"] == [0.20, 0.31]


def test_the_name_of_a_history_file_is_to_be_read_first():
    """A history's file name said only that a str is no history, not how to read one."""
    from pathlib import Path

    for path in ("models/numvision_cnn.history.csv", Path("models/numvision_cnn.history.csv")):
        with pytest.raises(ConfigError, match=r"^'models/numvision_cnn\.history\.csv' is the name of a file: read the "
                                              r"history from it first, with history\.read_history_csv\(path\)$"):
            checked_history(path)


@pytest.mark.parametrize("history, shown", [
    ({"loss": "0.5"}, "'loss' holds '0.5'"),
    ({"loss": ["0.9", "0.25", "0.5"]}, "'loss' holds \\['0.9', '0.25', '0.5'\\]: text read from the CSV file"),
    ({"epoch": [0, 1], "loss": [0.5, True]}, "'loss' holds \\[0.5, True\\]"),
])
def test_a_history_of_text_is_refused_not_drawn_as_categories(history, shown):
    # Text numbers were drawn as evenly spaced categories: a loss that seemed to climb from 0.9 to 0.25 to 0.5.
    with pytest.raises(ConfigError, match=shown):
        checked_history(history)


def test_a_history_may_hold_nan_and_numpy_numbers():
    history = checked_history({"loss": [np.float32(0.5), float("nan")], "epoch": [np.int64(0), 1]})
    assert history["epoch"] == [0, 1] and np.isnan(history["loss"][1])

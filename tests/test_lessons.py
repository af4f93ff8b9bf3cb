import dataclasses
import json
import os
import re
import subprocess
import sys

import keras
import numpy as np
import pytest

from numvision_lib import lessons
from numvision_lib.errors import DataError, ModelFileError
from numvision_lib.model import build_numvision_cnn
from numvision_lib.paths import PROJECT_ROOT
from numvision_lib.training import TrainConfig


def test_project_relative_never_shows_the_machine_path(tmp_path):
    assert lessons.project_relative(PROJECT_ROOT / "my_models" / "m.keras") == "my_models/m.keras"
    assert lessons.project_relative("models/x.keras") == "models/x.keras"
    outside = lessons.project_relative(tmp_path / "deep" / "m.keras")
    assert outside == "…/deep/m.keras" and str(tmp_path) not in outside


def test_notebook_models_never_go_to_the_shipped_folder():
    path = lessons.my_model_path("numvision_cnn")
    assert path == lessons.MY_MODELS_DIR / "my_numvision_cnn.keras"
    assert path.parent != lessons.SHIPPED_REFERENCE_MODEL.parent


def test_my_models_folder_is_in_the_project_unless_redirected():
    # A fresh interpreter: the test session itself redirects the folder (notebooks/conftest.py).
    script = "from numvision_lib import lessons; print(lessons.MY_MODELS_DIR)"
    environment = {k: v for k, v in os.environ.items() if k != "NUMVISION_MY_MODELS_DIR"}
    default = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True)
    assert default.stdout.strip() == str(PROJECT_ROOT / "my_models")
    redirected = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                env={**environment, "NUMVISION_MY_MODELS_DIR": "/scratch/models"})
    assert redirected.stdout.strip() == "/scratch/models"


def test_array_summary_and_class_counts():
    images = np.zeros((20, 28, 28), np.uint8)
    images[0, 0, 0] = 255
    labels = np.arange(20, dtype=np.uint8) % 10
    text = lessons.array_summary(x=images, y=labels, f=images / 255.0)
    assert re.search(r"x\s+\(20, 28, 28\)\s+uint8\s+0\s+255", text)
    assert re.search(r"y\s+\(20,\)\s+uint8\s+0\s+9", text)
    assert re.search(r"f\s+\(20, 28, 28\)\s+float64\s+0\s+1", text)
    table = lessons.class_count_table(labels, labels[:10])
    assert re.search(r"^3\s+2\s+10.0%\s+1\s+10.0%$", table, re.MULTILINE)
    assert re.search(r"^all\s+20\s+100.0%\s+10\s+100.0%$", table, re.MULTILINE)


def _evaluate_formula(formula: str) -> int:
    arithmetic = formula.split("(")[0].replace("×", "*").replace(",", "")
    return eval(arithmetic, {"__builtins__": {}})  # digits, *, + only


def test_parameter_table_explains_every_reference_parameter():
    table = lessons.parameter_table(build_numvision_cnn())
    assert table.total == table.trainable == 458_570
    assert sum(row.parameters for row in table.rows) == 458_570
    by_name = {row.name: row for row in table.rows}
    assert by_name["conv1"].formula.startswith("3×3×1×32 + 32") and by_name["conv1"].parameters == 320
    assert by_name["dense"].parameters == 3136 * 128 + 128 and by_name["flatten"].output_shape == "3136"
    for row in table.rows:
        if row.parameters:
            assert _evaluate_formula(row.formula) == row.parameters, row
        else:
            assert row.formula == "no weights"
    assert "458,570" in str(table).splitlines()[-1]


def test_parameter_table_knows_batch_normalisation():
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, use_bias=False)(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    table = lessons.parameter_table(keras.Model(inputs, x))
    bn = next(row for row in table.rows if row.name == "bn")
    assert bn.parameters == 16 and bn.formula.startswith("4×4")
    assert table.total == 36 + 16 and table.trainable == 36 + 8
    assert table.rows[0].formula.startswith("3×3×1×4  (kernel)")


def test_flop_count_of_the_reference_cnn():
    model = build_numvision_cnn()
    forward = 2 * (28 * 28 * 32 * 9 + 14 * 14 * 64 * 9 * 32 + 7 * 7 * 64 * 9 * 64 + 3136 * 128 + 128 * 10)
    assert lessons.forward_flops_per_image(model) == forward
    assert lessons.training_flops_per_image(model) == pytest.approx(36e6, rel=0.02)


def test_training_speed_measures_real_steps():
    inputs = keras.Input((28, 28, 1))
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inputs)))
    speed = lessons.measure_training_speed(model, batch_size=16, steps=3, warmup_steps=1)
    assert speed.seconds_per_step > 0 and speed.images_per_second == pytest.approx(16 / speed.seconds_per_step)
    assert speed.flops_per_image == 3 * 2 * 784 * 10
    assert speed.seconds_per_epoch(1600) == pytest.approx(100 * speed.seconds_per_step)
    assert "images per second" in str(speed) and "GFLOP/s" in str(speed)
    with pytest.raises(ValueError):
        lessons.measure_training_speed(model, steps=0)


def test_config_table_and_run_length():
    table = lessons.config_table(TrainConfig(), skip=("epochs", "max_train_samples"))
    settings = [line.split()[0] for line in table.splitlines()[2:]]
    assert "epochs" not in settings and "max_train_samples" not in settings
    assert len(settings) == len(dataclasses.fields(TrainConfig)) - 2
    assert re.search(r"^learning_rate\s+0.001\s+", table, re.MULTILINE)
    assert all(field in lessons.CONFIG_EXPLANATIONS for field in TrainConfig().to_dict())
    assert lessons.describe_run_length(TrainConfig(), 60_000) == "Full run: up to 10 epochs on all 54,000 training images."
    assert lessons.describe_run_length(TrainConfig.quick(), 60_000).startswith("QUICK run: up to 1 epoch on 3,000 of")


def test_model_choice_prefers_the_newest_notebook_model(tmp_path):
    mine, shipped = tmp_path / "my_models", tmp_path / "models" / "numvision_cnn.keras"
    shipped.parent.mkdir()
    shipped.write_bytes(b"shipped")
    choice = lessons.choose_model_to_evaluate(mine, shipped)
    assert choice.path == shipped and not choice.trained_in_notebook and "No model trained" in choice.reason
    mine.mkdir()
    older, newer = mine / "my_numvision_cnn.keras", mine / "my_other.keras"
    older.write_bytes(b"1")
    newer.write_bytes(b"2")
    os.utime(older, (1, 1))
    choice = lessons.choose_model_to_evaluate(mine, shipped)
    assert choice.path == newer and choice.trained_in_notebook
    assert str(tmp_path) not in str(choice)


def test_no_model_at_all_says_what_to_do(tmp_path):
    with pytest.raises(ModelFileError, match="Run notebook 03 first"):
        lessons.choose_model_to_evaluate(tmp_path / "my_models", tmp_path / "missing.keras")


def test_model_card_summary(tmp_path):
    model_path = tmp_path / "m.keras"
    assert "No model card (m.json)" in lessons.model_card_summary(model_path)
    card = {"architecture": "numvision_cnn", "parameters": 458570, "epochs_run": 3, "best_epoch": 2,
            "config": {"epochs": 10}, "data": {"train_images": 54000, "validation_images": 6000},
            "metrics": {"val_accuracy": 0.99, "test_accuracy": 0.9937}, "train_seconds": 153.2}
    (tmp_path / "m.json").write_text(json.dumps(card))
    summary = lessons.model_card_summary(model_path)
    assert "458,570 parameters" in summary and "Test accuracy (recorded): 99.37%" in summary
    assert "Epochs run: 3 of at most 10; best epoch: 2" in summary
    assert "153" not in summary and str(tmp_path) not in summary, "no timings, no paths"
    assert "calibrated" not in summary, "the reference CNN has no batch normalisation"
    card["batch_norm_calibration"] = {"images": 10000, "val_accuracy_before": 0.9953, "val_accuracy_after": 0.9958}
    (tmp_path / "m.json").write_text(json.dumps(card))
    assert ("Validation accuracy: 99.00%\nBatch normalisation calibrated on 10,000 plain training images: "
            "validation accuracy 99.53% before, 99.58% after\n") in lessons.model_card_summary(model_path)


def test_missing_data_stops_with_one_clear_message(tmp_path):
    with pytest.raises(lessons.MissingTestData) as caught:
        lessons.load_test_data(tmp_path / "nowhere")
    assert isinstance(caught.value, DataError)
    assert "NUMVISION_DATA_DIR" in str(caught.value) and "MNIST folder not found" in str(caught.value)
    rendered = caught.value._render_traceback_()
    assert len(rendered) == 1 and rendered[0].startswith("MissingTestData: ")


@pytest.mark.parametrize("architecture", sorted(__import__("numvision_lib.model", fromlist=["x"]).ARCHITECTURES))
def test_parameter_table_adds_up_for_every_architecture(architecture):
    from numvision_lib.model import build_model

    model = build_model(architecture)
    table = lessons.parameter_table(model)
    assert sum(row.parameters for row in table.rows) == table.total == model.count_params()
    for row in table.rows:
        if row.parameters and row.kind in ("Conv2D", "Dense", "BatchNormalization"):
            assert _evaluate_formula(row.formula) == row.parameters, row
    assert lessons.forward_flops_per_image(model) > 0

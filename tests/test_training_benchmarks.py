"""Smoke runs of the training benchmarks at tiny sizes: they run, print their table and write their report."""
import json

import pytest

from project_scripts import run_script


def test_train_speed_quick(tmp_path):
    output = run_script("benchmarks/train_speed.py", "--quick", "--images", 512, "--output", tmp_path / "speed.json")
    report = json.loads((tmp_path / "speed.json").read_text())
    assert (report["images"], report["rounds"]) == (512, 1)  # a count given with --quick is kept
    assert set(report["variants"]) >= {"baseline (Keras defaults)", "baseline, batch 128", "pipeline float32"}
    assert all(row["images_per_second"] > 0 for row in report["variants"].values())
    assert report["mflop_per_training_image"] == 36.28  # 12,094,976 FLOP forward, times three
    assert "vs default" in output
    project = report["variants"][f"pipeline {report['project_precision']}"]["images_per_second"]
    baseline = report["variants"]["baseline (Keras defaults)"]["images_per_second"]
    assert report["speedup_vs_keras_defaults"] == round(project / baseline, 2)


def test_seed_spread_trains_and_evaluates_each_seed(tmp_path):
    output = run_script("benchmarks/seed_spread.py", "--seeds", "1", "2", "--workdir", tmp_path,
                        "--output", tmp_path / "seeds.json", "--", "--quick")
    assert "mean" in output and "spread" in output
    report = json.loads((tmp_path / "seeds.json").read_text())
    assert [run["seed"] for run in report["runs"]] == [1, 2]
    assert all(run["precision_used"] in ("float32", "mixed_bfloat16") for run in report["runs"])
    assert all(1 <= run["best_epoch"] <= run["epochs_run"] for run in report["runs"])
    assert all(run["calibrated_val_accuracy"] is None for run in report["runs"]), "the reference CNN has no batch norm"
    assert report["min_test_accuracy"] <= report["mean_test_accuracy"] <= report["max_test_accuracy"]
    for seed in (1, 2):
        assert json.loads((tmp_path / f"seed{seed}" / "metrics.json").read_text())["test_accuracy"] > 0.8


@pytest.mark.parametrize("option, value, expected", [
    ("--rounds", "0", "'0' must be a whole number of at least 1"),
    ("--images", "-5", "'-5' must be a whole number of at least 1"),
    ("--accuracy-epochs", "-1", "'-1' must be a whole number of at least 0"),
])
def test_train_speed_refuses_a_count_before_training(tmp_path, capsys, option, value, expected):
    with pytest.raises(SystemExit) as refused:
        run_script("benchmarks/train_speed.py", option, value, "--output", tmp_path / "speed.json")
    assert refused.value.code == 2 and f"argument {option}: {expected}" in capsys.readouterr().err


def test_seed_spread_without_seeds_or_models_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as refused:
        run_script("benchmarks/seed_spread.py", "--output", tmp_path / "seeds.json")
    assert refused.value.code == 2 and "nothing to measure: give --seeds" in capsys.readouterr().err


@pytest.mark.parametrize("name, expected", [
    ("latency", "--name latency: results/benchmarks/latency.json is a report of benchmarks/latency.py"),
    ("class_finetune_plus", "is a report of benchmarks/class_finetune.py; choose another name, or give --output"),
    ("../../x", "argument --name: '../../x': use only letters, digits, _ and -"),
])
def test_seed_spread_keeps_to_a_report_of_its_own(tmp_path, capsys, name, expected):
    with pytest.raises(SystemExit) as refused:
        run_script("benchmarks/seed_spread.py", "--seeds", "1", "--workdir", tmp_path, "--name", name)
    assert refused.value.code == 2 and expected in capsys.readouterr().err

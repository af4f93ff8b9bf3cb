"""Smoke runs of the training benchmarks at tiny sizes: they run, print their table and write their report."""
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from numvision_lib.paths import PROJECT_ROOT

from project_scripts import load_script, run_script


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


class _RunStarted(Exception):
    """Raised where seed_spread.py would first evaluate or train a model: its checks are over."""


def _seed_spread_stopped_at_the_first_run():
    seed_spread = load_script("benchmarks/seed_spread.py")

    def started(*arguments):
        raise _RunStarted(arguments)

    seed_spread.run_command = started
    seed_spread.evaluate_included = started
    return seed_spread


@pytest.mark.parametrize("name, expected", [
    ("latency", "--name latency: results/benchmarks/latency.json is a report of benchmarks/latency.py"),
    ("class_finetune_plus", "is a report of benchmarks/class_finetune.py; choose another name, or give --output"),
    ("../../x", "argument --name: '../../x': use only letters, digits, _ and -"),
    # Written by tools/measure_notebooks.py, not by a benchmark.
    ("notebook_resources", "--name notebook_resources: results/benchmarks/notebook_resources.json is another report, "
                           "not one of seed_spread's; choose another name, or give --output"),
])
def test_seed_spread_keeps_to_a_report_of_its_own(tmp_path, capsys, name, expected):
    with pytest.raises(SystemExit) as refused:
        _seed_spread_stopped_at_the_first_run().main(["--seeds", "1", "--workdir", str(tmp_path), "--name", name])
    assert refused.value.code == 2 and expected in capsys.readouterr().err


RECORDED_SEEDS = PROJECT_ROOT / "results/benchmarks/numvision_plus_seeds.json"


def test_seed_spread_may_replace_a_report_of_its_own_recipe(tmp_path):
    recorded = json.loads(RECORDED_SEEDS.read_text())["train_arguments"]
    with pytest.raises(_RunStarted):
        _seed_spread_stopped_at_the_first_run().main(["--seeds", "1", "--workdir", str(tmp_path),
                                                      "--name", "numvision_plus_seeds", "--", *recorded])


@pytest.mark.parametrize("train_arguments", [[], ["--quick"]], ids=["the reference CNN's recipe", "--quick"])
def test_seed_spread_keeps_a_report_of_another_recipe(tmp_path, capsys, train_arguments):
    """Any recipe, a one-epoch quick run included, replaced the spread behind the README's figure."""
    recorded = shlex.join(json.loads(RECORDED_SEEDS.read_text())["train_arguments"])
    with pytest.raises(SystemExit) as refused:
        _seed_spread_stopped_at_the_first_run().main(["--seeds", "1", "--workdir", str(tmp_path),
                                                      "--name", "numvision_plus_seeds", "--", *train_arguments])
    assert refused.value.code == 2
    assert (f"--name numvision_plus_seeds: results/benchmarks/numvision_plus_seeds.json is the spread of another "
            f"recipe (the `train` options {recorded}; here {shlex.join(train_arguments) or 'none'}), and only a run of "
            "its recipe may replace it; choose another name, or give --output") in capsys.readouterr().err


@pytest.mark.parametrize("arguments, expected", [
    (["--seeds", "1", "2", "1"], "--seeds: 1 is given twice; each run counts once in the spread, so give it once"),
    (["--seeds", "-1"], "argument --seeds: the seed must be a whole number from 0 to 4294967295, not -1"),
    (["--include", "models/numvision_cnn.keras", "./models/numvision_cnn.keras"],
     "--include: models/numvision_cnn.keras is given twice"),
    (["--include", "models/numvision_cnn.keras", "models/numvision_kn.keras"],
     "argument --include: models/numvision_kn.keras: model file not found"),
    # It was "model file not found. Train the model again", of a folder that is there.
    (["--include", "models"], "argument --include: models is a folder: give the .keras model file in it"),
    (["--include", "models/numvision_cnn.keras", "--", "--architecture", "numvision_plus"],
     "--include models/numvision_cnn.keras was trained with another recipe than the `train` options after -- "
     "(architecture 'numvision_cnn' in its card, 'numvision_plus' here): include only models of the recipe measured"),
    (["--seeds", "42", "--include", "models/numvision_cnn.keras"],
     "--include models/numvision_cnn.keras was trained with seed 42, and so is the model --seeds 42 trains: the "
     "spread would count that seed twice"),
])
def test_seed_spread_refuses_other_recipes_and_a_seed_twice_before_any_run(tmp_path, capsys, arguments, expected):
    """A spread over several recipes, or over one seed counted twice, was reported as one recipe's."""
    with pytest.raises(SystemExit) as refused:
        _seed_spread_stopped_at_the_first_run().main(["--workdir", str(tmp_path), "--output",
                                                      str(tmp_path / "seeds.json"), *arguments])
    assert refused.value.code == 2 and expected in capsys.readouterr().err


@pytest.mark.parametrize("train_arguments, expected", [
    # The report's --output, taken as train's: the report went to results/benchmarks/, and each child got two.
    (["--quick", "--output", "my_report.json"],
     "--output is set by this script, for each seed: give the report's --output before --"),
    (["--seed", "7"], "--seed is set by this script, for each seed: give the seeds with --seeds"),
    # Refused by `train` itself, after MNIST was read and the included models measured.
    (["--handwriting-copies", "3"], "--handwriting-copies draws real handwriting: it needs --real-handwriting unipen"),
    (["--real-handwriting", "unipen", "--handwriting-dir", "/no_unipen_here"],
     "/no_unipen_here: UNIPEN folder not found"),
    # Said as `python -m numvision_lib train`'s error, below train's 25-line usage.
    (["--epochs", "abc"], "argument --epochs: invalid int value: 'abc'; `python -m numvision_lib train --help` lists"),
    # A prefix of --epochs, which argparse took for it: a real training started.
    (["--epoch", "5"], "unrecognized arguments: --epoch 5; `python -m numvision_lib train --help` lists them"),
], ids=lambda value: " ".join(value) if isinstance(value, list) else "")
def test_seed_spread_refuses_train_options_it_cannot_run_before_any_work(tmp_path, capsys, train_arguments,
                                                                         expected):
    with pytest.raises(SystemExit) as refused:
        _seed_spread_stopped_at_the_first_run().main(["--seeds", "1", "--workdir", str(tmp_path), "--output",
                                                      str(tmp_path / "seeds.json"), "--", *train_arguments])
    printed = capsys.readouterr().err
    assert refused.value.code == 2 and f"error: the `train` options after --: {expected}" in printed
    assert "numvision_lib train:" not in printed and "usage: python -m numvision_lib" not in printed


def test_seed_spread_documents_the_shipped_recipe(tmp_path):
    """The docstring's command, the README's recipe of numvision_plus, includes the shipped model: its card agrees."""
    seed_spread = _seed_spread_stopped_at_the_first_run()
    command = seed_spread.__doc__.split("python benchmarks/seed_spread.py", 1)[1].split("#", 1)[0]
    with pytest.raises(_RunStarted) as started:
        seed_spread.main(["--output", str(tmp_path / "seeds.json"), *command.replace("\\\n", " ").split()])
    assert started.value.args[0][0] == Path("models/numvision_plus.keras")


def test_seed_spread_measures_an_included_model_without_writing_its_card(tmp_path, shipped_model_path):
    """`python -m numvision_lib evaluate` records the test figures in the model's card; a benchmark writes into a
    card only when told to (the others' --record)."""
    model = Path(shutil.copy(shipped_model_path, tmp_path))
    values = json.loads(shipped_model_path.with_suffix(".json").read_text())
    card = model.with_suffix(".json")
    card.write_text(json.dumps({**values, "metrics": {**values["metrics"], "test_accuracy": 0.5}}))
    recorded = card.read_text()
    run_script("benchmarks/seed_spread.py", "--include", model, "--output", tmp_path / "seeds.json")
    assert card.read_text() == recorded
    (run,) = json.loads((tmp_path / "seeds.json").read_text())["runs"]
    assert run["seed"] == 42 and run["test_accuracy"] == pytest.approx(values["metrics"]["test_accuracy"], abs=5e-4)


def test_seed_spread_ends_with_the_error_of_a_failed_command(tmp_path, capfd):
    """The command says why in one line; a CalledProcessError traceback buried it."""
    with pytest.raises(SystemExit) as failed:
        run_script("benchmarks/seed_spread.py", "--seeds", "1", "--workdir", tmp_path, "--output",
                   tmp_path / "seeds.json", "--", "--quick", "--data-dir", tmp_path / "no_mnist")
    assert failed.value.code == 1
    printed = capfd.readouterr().err
    assert "error:" in printed and "no_mnist" in printed and "Traceback" not in printed
    assert printed.splitlines()[-1].endswith(
        f"(seed 1) failed with status 1; no seed had finished before it (scratch folder: {tmp_path})")
    assert not (tmp_path / "seeds.json").exists()


def test_seed_spread_says_which_seed_was_killed_and_where_the_finished_ones_are(tmp_path, capsys, monkeypatch):
    """A training killed by a signal (the OOM killer, a closed session) says nothing itself: the script ended with
    no word and status 247, after seeds of 17 minutes each, in a scratch folder nothing named."""
    seed_spread = load_script("benchmarks/seed_spread.py")
    start = subprocess.run

    def run(command):
        if command[3] == "train" and command[command.index("--seed") + 1] == "2":
            return start([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(seed_spread.subprocess, "run", run)
    monkeypatch.setattr(seed_spread, "evaluate_into", lambda model, results_dir, data_dir: {"seed": 1})
    with pytest.raises(SystemExit) as failed:
        seed_spread.main(["--seeds", "1", "2", "--workdir", str(tmp_path), "--output", str(tmp_path / "seeds.json"),
                          "--", "--quick"])
    command = shlex.join(["python", "-m", "numvision_lib", "train", "--quick", "--seed", "2", "--output",
                          str(tmp_path / "seed2.keras")])
    assert failed.value.code == 1
    assert capsys.readouterr().err == (f"error: `{command}` (seed 2) was killed by signal SIGKILL; the seeds finished "
                                       f"before it are in {tmp_path} (seed1.keras)\n")


def test_class_finetune_refuses_a_model_fine_tuned_on_the_benchmark_writers(tmp_path, capsys):
    """Notebook 09's model, fine-tuned on the demonstration class (the benchmark writers), was measured on the very
    writers it had learned from, without a word."""
    from numvision_lib.model_card import ModelCard, shipped_model_path, update_card

    class_finetune = load_script("benchmarks/class_finetune.py")

    def collection_started(*arguments):
        raise AssertionError("the class collection (most of a minute) started before the model was checked")

    class_finetune.writers_as_a_class = collection_started
    # A model of MNIST alone, which --part train_and_benchmark takes, fine-tuned on the demonstration class.
    base = shipped_model_path("numvision_plus")
    model = Path(shutil.copy(base, tmp_path / "class_numvision_plus.keras"))
    shutil.copy(ModelCard.path_for(base), ModelCard.path_for(model))
    update_card(model, {"data": {**ModelCard.for_model(model).data, "base_model": "numvision_plus",
                                 "class_drawings": 118, "students": 12, "benchmark_writers_seen": True}})
    for part in ("benchmark", "train_and_benchmark"):
        with pytest.raises(SystemExit) as refused:
            class_finetune.main(["--model", str(model), "--part", part, "--output", str(tmp_path / "report.json")])
        assert refused.value.code == 2 and (
            f"--part {part}: class_numvision_plus.keras was fine-tuned on the demonstration class, which is made "
            "of the UNIPEN benchmark writers, so they are no class it has never seen, and its figures would flatter "
            "it. Give --model a model that never learned from them: the pad's (the default), or one fine-tuned on "
            "your own class\n") in capsys.readouterr().err.replace("\n ", " ")
    # The validation writers it never saw: the check is passed, and the collection starts.
    with pytest.raises(AssertionError, match="the class collection"):
        class_finetune.main(["--model", str(model), "--part", "validation", "--fine-tune-students", "8",
                             "--output", str(tmp_path / "report.json")])

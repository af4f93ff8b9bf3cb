"""Smoke runs of the drawing benchmarks with tiny sizes: they run, print a table and write their JSON."""
from __future__ import annotations

import argparse
import importlib.util
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from numvision_lib import attacks
from numvision_lib.drawn_digits import drawn_digit_sets
from numvision_lib.errors import ConfigError, ModelFileError
from numvision_lib.handwriting import digit_split, normalise_strokes
from numvision_lib.model_card import ModelCard, pad_model_path
from numvision_lib.paths import PROJECT_ROOT

from project_scripts import load_script, run_script


def test_latency_quick(tmp_path, shipped_model_path):
    output = tmp_path / "latency.json"
    printed = run_script("benchmarks/latency.py", "--quick", "--repeats", 8, "--model", shipped_model_path,
                         "--output", output)
    report = json.loads(output.read_text())
    # --quick's counts are defaults: one given beside it is kept.
    assert report["paths"]["direct call model(x)"]["repeats"] == 8 and report["paths"]["model.predict"]["repeats"] == 5
    for path in ("model.predict", "direct call model(x)", "tf.function, graph", "tf.function, XLA",
                 report["predictor_row"], "drawing pad update (predict + panel)",
                 "explain view update (Grad-CAM + overlay)", "drawing pad update, explain view on",
                 "drawing pad update, explain view off"):
        assert path in printed and report["paths"][path]["median_ms"] > 0
    assert report["predictor_row"] == f"Predictor.predict ({report['predictor_path']})"
    if importlib.util.find_spec("ai_edge_litert"):
        assert report["predictor_path"] == "LiteRT interpreter, 8-bit"
        assert {"bare LiteRT interpreter, float32", "bare LiteRT interpreter, 8-bit"} <= set(report["paths"])
    assert report["machine"]["cpu_count"] >= 1
    extensions = report["machine"]["vector_extensions"]
    known = load_script("benchmarks/_report.py").VECTOR_EXTENSIONS
    assert extensions == [name for name in known if name in extensions]  # known names, in their order
    assert f"CPUs with {', '.join(extensions) or 'no listed vector extensions'}, load average" in printed


def test_drawn_accuracy_tiny(tmp_path, shipped_model_path):
    output = tmp_path / "drawn.json"
    printed = run_script("benchmarks/drawn_accuracy.py", "--samples-per-digit", "1", "--variants", "standard",
                         "thin_pen", "--models", str(shipped_model_path), "--output", str(output))
    report = json.loads(output.read_text())
    model = report["models"][shipped_model_path.stem]
    assert set(model["pad"]["variants"]) == {"standard", "thin_pen"}
    assert 0 <= model["naive_resize"]["mean_accuracy"] <= 1
    assert "thin_pen" in printed and "naive_resize" in printed


def test_drawn_accuracy_records_into_model_cards(tmp_path, shipped_model_path):
    """What --record writes; a run small enough for a test is a smoke run, which --record refuses (below)."""
    drawn_accuracy = load_script("benchmarks/drawn_accuracy.py")
    card = shipped_model_path.with_suffix(".json")
    model = Path(shutil.copy(shipped_model_path, tmp_path))
    shutil.copy(card, tmp_path)
    sets = drawn_digit_sets(1, 42, ["standard"])
    drawn_accuracy.record_in_card(model, drawn_accuracy.evaluate_model(model, sets), 10, 42)
    metrics = json.loads((tmp_path / card.name).read_text())["metrics"]
    assert 0 <= metrics["drawn_accuracy"] <= 1
    assert set(metrics["drawn_accuracy_by_variant"]) == {"standard"} and metrics["drawn_samples"] == 10


class _Parsed(Exception):
    """Stops a script right after it decided whether it is a smoke run, before any work."""


def _smoke_options_of(script: str, *arguments) -> list[str]:
    module = load_script(script)
    decide = module.smoke_options

    def decide_and_stop(*args, **kwargs):
        raise _Parsed(decide(*args, **kwargs))

    module.smoke_options = decide_and_stop
    with pytest.raises(_Parsed) as parsed:
        module.main([str(argument) for argument in arguments])
    return parsed.value.args[0]


@pytest.mark.parametrize("script, arguments", [
    # README.md's recipe records these into the cards with --record; the Makefile's `benchmarks` writes results/ only.
    ("benchmarks/real_handwriting.py", ["--record"]),
    ("benchmarks/drawn_accuracy.py", ["--record"]),
    ("benchmarks/writing_styles.py", []),
    ("benchmarks/not_a_digit.py", []),
    ("benchmarks/robustness.py", []),
    ("benchmarks/latency.py", []),
    ("benchmarks/class_finetune.py", []),
    ("benchmarks/class_finetune.py", ["--class-style", "1, flag 45%, 35 deg"]),
    ("benchmarks/class_finetune.py", ["--class-style", "7, crossbar, pen kept down"]),
    ("benchmarks/class_finetune.py", ["--model", "models/numvision_plus.keras", "--part", "train_and_benchmark",
                                      "--fine-tune-students", "20"]),
    # The same model by another path.
    ("benchmarks/class_finetune.py", ["--model", PROJECT_ROOT / "models" / "numvision_plus.keras",
                                      "--part", "train_and_benchmark", "--fine-tune-students", "20"]),
])
def test_the_documented_full_runs_record_their_figures(script, arguments):
    assert _smoke_options_of(script, *arguments) == []


@pytest.mark.parametrize("script, arguments, changed", [
    ("benchmarks/real_handwriting.py", ["--max-per-digit", "2", "--renderings", "pen_20"],
     ["--max-per-digit", "--renderings"]),
    ("benchmarks/writing_styles.py", ["--max-per-digit", "3"], ["--max-per-digit"]),
    ("benchmarks/not_a_digit.py", ["--per-kind", "20"], ["--per-kind"]),
    ("benchmarks/robustness.py", ["--images", "200", "--models", "models/numvision_cnn.keras"],
     ["--images", "--models"]),
    ("benchmarks/latency.py", ["--repeats", "5"], ["--repeats"]),
    ("benchmarks/latency.py", ["--quick"], ["--quick"]),
    ("benchmarks/drawn_accuracy.py", ["--variants", "standard"], ["--variants"]),
    # Another model than the pad's is not the pad's figures, whatever the part.
    ("benchmarks/class_finetune.py", ["--model", "models/numvision_plus.keras"], ["--model"]),
    ("benchmarks/class_finetune.py", ["--people", "5"], ["--people"]),
    # That part's recorded run is the Makefile's command: another model or a smaller class would replace its figures.
    ("benchmarks/class_finetune.py", ["--part", "train_and_benchmark", "--model", "models/numvision_cnn.keras",
                                      "--fine-tune-students", "20"], ["--model"]),
    ("benchmarks/class_finetune.py", ["--part", "train_and_benchmark", "--model", "models/numvision_plus.keras",
                                      "--fine-tune-students", "3"], ["--fine-tune-students"]),
])
def test_a_run_that_measures_less_is_a_smoke_run(script, arguments, changed):
    assert _smoke_options_of(script, *arguments) == changed


def test_smoke_options_compare_the_arguments_with_the_full_run():
    report = load_script("benchmarks/_report.py")
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=report.positive_count, default=30)
    parser.add_argument("--variants", nargs="+", default=["a", "b"])
    parser.add_argument("--part", default="benchmark")
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--output")
    full = parser.parse_args(["--variants", "b", "a", "--record", "--output", "x.json"])
    assert report.smoke_options(parser, full) == []
    smaller = parser.parse_args(["--count", "3", "--variants", "a", "--part", "validation"])
    assert report.smoke_options(parser, smaller, same_measurement=("part",)) == ["--count", "--variants"]


def test_a_smoke_run_keeps_the_recorded_figures(tmp_path, monkeypatch, capsys):
    report = load_script("benchmarks/_report.py")
    monkeypatch.setattr(report, "BENCHMARKS_DIR", tmp_path)
    assert report.write_report("drawn", {"accuracy": 0.5}, smoke_run=["--samples-per-digit"]) is None
    assert not (tmp_path / "drawn.json").exists()
    assert "Smoke run (--samples-per-digit): drawn.json keeps the recorded figures" in capsys.readouterr().out
    assert report.write_report("drawn", {"accuracy": 0.5}, tmp_path / "mine.json", smoke_run=["--quick"]).is_file()
    assert report.write_report("drawn", {"accuracy": 0.9}, smoke_run=[]) == tmp_path / "drawn.json"


def test_record_is_refused_for_a_smoke_run_before_any_work(tmp_path, shipped_model_path, capsys):
    shutil.copy(shipped_model_path, tmp_path)
    card = Path(shutil.copy(shipped_model_path.with_suffix(".json"), tmp_path))
    recorded = card.read_text()
    drawn_accuracy = load_script("benchmarks/drawn_accuracy.py")
    # --models-dir keeps the shipped cards out of reach, even if the refusal failed; it is a smoke option too.
    for option, value in (("--samples-per-digit", "1"), ("--variants", "standard"), ("--seed", "7")):
        with pytest.raises(SystemExit) as refused:
            drawn_accuracy.main(["--record", "--models-dir", str(tmp_path), option, value,
                                 "--output", str(tmp_path / "drawn.json")])
        assert refused.value.code == 2
        assert ("--record writes into the shipped model cards, which keep only a full run's figures: leave out "
                f"--models-dir, {option}") in capsys.readouterr().err
    assert card.read_text() == recorded and not (tmp_path / "drawn.json").exists()


@pytest.mark.parametrize("script, option, value", [
    ("benchmarks/drawn_accuracy.py", "--samples-per-digit", "0"),
    ("benchmarks/latency.py", "--repeats", "-1"),
    ("benchmarks/light_kernel.py", "--rounds", "0"),
    ("benchmarks/not_a_digit.py", "--per-kind", "-20"),
    ("benchmarks/real_handwriting.py", "--max-per-digit", "0"),
    ("benchmarks/writing_styles.py", "--max-per-digit", "two"),
    ("benchmarks/robustness.py", "--explain-images", "0"),
    ("benchmarks/class_finetune.py", "--draws", "0"),
    ("benchmarks/class_finetune.py", "--held-out-students", "0"),
    ("benchmarks/class_finetune.py", "--drawings-per-student", "-3"),
])
def test_a_count_of_nothing_is_a_usage_error_before_the_run(tmp_path, capsys, script, option, value):
    with pytest.raises(SystemExit) as refused:
        run_script(script, option, value, "--output", tmp_path / "report.json")
    assert refused.value.code == 2
    assert f"argument {option}: '{value}' must be a whole number of at least 1" in capsys.readouterr().err
    assert not (tmp_path / "report.json").exists()


@pytest.mark.parametrize("script, option", [("benchmarks/writing_styles.py", "--digit-check"),
                                             ("benchmarks/not_a_digit.py", "--check")])
def test_a_misspelt_digit_check_is_a_usage_error_before_the_run(tmp_path, capsys, script, option):
    misspelt = tmp_path / "my_chek.keras"
    with pytest.raises(SystemExit) as refused:
        run_script(script, option, misspelt, "--output", tmp_path / "report.json")
    assert refused.value.code == 2
    assert f"argument {option}: {misspelt}: no such file. Give a digit check made by" in capsys.readouterr().err
    assert not (tmp_path / "report.json").exists()


def test_an_output_that_cannot_be_written_is_refused_before_the_run(tmp_path, capsys):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    for output, problem in ((tmp_path / "missing" / "report.json", f"the folder {tmp_path / 'missing'} does not exist"),
                            (a_file / "report.json", f"{a_file} is a file, not a folder"),
                            (tmp_path, "that is a folder")):
        with pytest.raises(SystemExit) as refused:
            run_script("benchmarks/drawn_accuracy.py", "--samples-per-digit", "1", "--output", output)
        assert refused.value.code == 2
        assert f"--output {output}: {problem}; give a file in a folder you can write to" in capsys.readouterr().err


def test_an_output_that_would_replace_a_model_or_its_card_is_refused(tmp_path, shipped_model_path, capsys):
    """--output is the model itself elsewhere (`train --output`, class_finetune's --model beside it): a slip that
    replaced a student's model, or its card, with the report."""
    model = Path(shutil.copy(shipped_model_path, tmp_path))
    card = Path(shutil.copy(shipped_model_path.with_suffix(".json"), tmp_path))
    kept = model.read_bytes(), card.read_text()
    for output, problem in (
            (model, "the report is written as JSON, over whatever the file holds: give a name ending in .json"),
            (card, f"that is the card of the model {model.name} beside it, which the report would replace: give "
                   "another name")):
        with pytest.raises(SystemExit) as refused:
            run_script("benchmarks/drawn_accuracy.py", "--samples-per-digit", "1", "--output", output)
        assert refused.value.code == 2
        assert f"--output {output}: {problem}\n" in capsys.readouterr().err
    assert (model.read_bytes(), card.read_text()) == kept
    # A report written again, here or among the recorded ones, has no model beside it.
    report = load_script("benchmarks/_report.py")
    for output in (tmp_path / "drawn.json", report.BENCHMARKS_DIR / "drawn_accuracy.json"):
        report.check_output(argparse.ArgumentParser(), output)


class _WorkStarted(Exception):
    """Raised by a script's first piece of work: the checks of its arguments must all come before it."""


def _stopped_at_first_work(script: str, first_work: str):
    module = load_script(script)

    def work(*args, **kwargs):
        raise _WorkStarted(first_work)

    setattr(module, first_work, work)
    return module


# Each script that measures --models, and the first of its work: loading or drawing the digits.
MODEL_BENCHMARKS = [("benchmarks/drawn_accuracy.py", "drawn_digit_sets"),
                    ("benchmarks/real_handwriting.py", "part_digits"),
                    ("benchmarks/writing_styles.py", "style_rows"),
                    ("benchmarks/robustness.py", "load_mnist")]


@pytest.mark.parametrize("script, first_work", MODEL_BENCHMARKS)
def test_two_models_of_one_name_are_refused_before_any_work(tmp_path, shipped_model_path, script, first_work):
    """The reports name each model by its file's name: the shipped model beside `train --quick`'s
    my_models/quick_runs/numvision_cnn.keras was one column, the second model's figures under the shared name."""
    mine = tmp_path / "quick_runs" / shipped_model_path.name
    mine.parent.mkdir()
    shutil.copy(shipped_model_path, mine)
    script_main = _stopped_at_first_work(script, first_work).main
    with pytest.raises(ConfigError, match=(
            f"^--models: {re.escape(str(shipped_model_path))} and {re.escape(str(mine))} are both called "
            f"{shipped_model_path.stem}, and the report names each model by its file's name, so one would be shown as "
            rf"the other: copy one under another name \(such as {shipped_model_path.stem}_2.keras\) and give that$")):
        script_main(["--models", str(shipped_model_path), str(mine), "--output", str(tmp_path / "report.json")])


def test_a_folder_given_as_a_model_is_named_a_folder(tmp_path):
    """It was "model file not found. Train the model again", of a folder that is there."""
    report = load_script("benchmarks/_report.py")
    with pytest.raises(ModelFileError, match=r" is a folder: give the .keras model file in it$"):
        report.model_paths(argparse.Namespace(models=[tmp_path], models_dir=None))


def test_a_model_given_twice_is_refused(shipped_model_path):
    report = load_script("benchmarks/_report.py")
    twice = argparse.Namespace(models=[shipped_model_path, shipped_model_path], models_dir=None)
    with pytest.raises(ConfigError, match=f"^--models: {re.escape(str(shipped_model_path))} is given twice: give "
                                          "each model once$"):
        report.model_paths(twice)


@pytest.mark.parametrize("script, first_work", MODEL_BENCHMARKS)
def test_a_missing_model_is_found_before_any_work(tmp_path, shipped_model_path, script, first_work):
    """A mistyped second model was found only when loaded: after the drawings and the first model's measurements,
    whose figures were lost."""
    missing = tmp_path / "numvision_plus.keras"
    script_main = _stopped_at_first_work(script, first_work).main
    # The library's own words (`model.load_model`).
    with pytest.raises(ModelFileError, match=re.escape(f"{missing.name}: model file not found. Check the name")):
        script_main(["--models", str(shipped_model_path), str(missing), "--output", str(tmp_path / "report.json")])


@pytest.mark.parametrize("script, first_work", MODEL_BENCHMARKS[:2])
def test_a_seed_the_library_refuses_is_a_usage_error_before_the_run(tmp_path, capsys, script, first_work):
    with pytest.raises(SystemExit) as refused:
        _stopped_at_first_work(script, first_work).main(["--seed", "-1", "--output", str(tmp_path / "report.json")])
    assert refused.value.code == 2
    assert "argument --seed: the seed must be a whole number from 0 to 4294967295, not -1" in capsys.readouterr().err


def test_robustness_refuses_too_few_training_images_before_the_attacks(tmp_path, shipped_model_path, capsys):
    robustness = _stopped_at_first_work("benchmarks/robustness.py", "load_mnist")
    with pytest.raises(SystemExit) as refused:
        robustness.main(["--train-images", "50", "--models", str(shipped_model_path),
                         "--output", str(tmp_path / "robustness.json")])
    assert refused.value.code == 2
    assert ("--train-images 50: invalid TrainConfig: max_train_samples must be at least 100 (--train-images is the "
            "adversarial round's max_train_samples)") in capsys.readouterr().err


def test_robustness_reports_the_training_images_mnist_has(tmp_path, shipped_model_path, monkeypatch):
    """--train-images 100,000 trains on MNIST's 60,000: the printout and the report say 60,000."""
    trained_on = []

    def round_without_training(model, data, epsilon, config):
        trained_on.append(config.max_train_samples)
        return model

    monkeypatch.setattr(attacks, "adversarial_training_round", round_without_training)
    output = tmp_path / "robustness.json"
    printed = run_script("benchmarks/robustness.py", "--images", 20, "--train-images", 100_000, "--explain-images", 5,
                         "--models", shipped_model_path, "--output", output)
    assert trained_on == [60_000] and "epoch on 60,000 training images" in printed
    assert json.loads(output.read_text())["adversarial_training"]["config"]["max_train_samples"] == 60_000


class _Loaded(Exception):
    """Stops robustness.py at the first model it loads: the one the adversarial round trains."""


def test_robustness_measures_a_models_dir_the_pad_cannot_choose_in(tmp_path, shipped_model_path, capsys):
    """A folder holding a digit check, which every other benchmark measures minus the check, stopped robustness.py:
    it asked the pad's choice of model (which refuses such a folder) only to put that model first."""
    from numvision_lib.model_card import DIGIT_CHECK_PATH

    for model in (shipped_model_path, DIGIT_CHECK_PATH):
        shutil.copy(model, tmp_path)
        shutil.copy(model.with_suffix(".json"), tmp_path)
    robustness = load_script("benchmarks/robustness.py")

    def load_model(path):
        raise _Loaded(path)

    robustness.load_model = load_model
    with pytest.raises(_Loaded) as loaded:
        robustness.main(["--models-dir", str(tmp_path), "--output", str(tmp_path / "robustness.json")])
    assert loaded.value.args[0] == tmp_path / shipped_model_path.name
    assert "Left out: digit_check.keras is the pad's digit check" in capsys.readouterr().out
    with pytest.raises(_Loaded) as loaded:  # the shipped models: the pad's first
        robustness.main(["--output", str(tmp_path / "robustness.json")])
    assert loaded.value.args[0] == pad_model_path()
    # The shipped folder with a card the pad cannot read: the round would go to another model under the pad's name.
    robustness.MODELS_DIR = tmp_path
    with pytest.raises(ModelFileError, match="the pad's model is chosen among all the shipped models"):
        robustness.main(["--models-dir", str(tmp_path), "--output", str(tmp_path / "robustness.json")])


@pytest.mark.parametrize("arguments, rounds", [(["--quick"], 1), (["--quick", "--rounds", "2"], 2)])
def test_light_kernel_quick_keeps_the_rounds_given(tmp_path, arguments, rounds):
    """--quick's one round is a default: --rounds given beside it is kept (each round starts two kernels, stubbed
    here)."""
    light_kernel = load_script("benchmarks/light_kernel.py")
    kernels = []

    def one_kernel(baseline, whole_notebook):
        kernels.append(whole_notebook)
        memory = {"rss_mb": 100.0, "peak_rss_mb": 120.0}
        return {"kernel_start_s": 1.0, "predictor_cell_s": 0.2, "pad_cell_s": 0.1, "pad_ready_s": 0.3,
                "first_answer_s": 0.05, "idle": memory, "after_pad": memory, "tensorflow_imported": False}

    light_kernel.one_kernel = one_kernel
    output = tmp_path / "light_kernel.json"
    assert light_kernel.main([*arguments, "--output", str(output)]) == 0
    report = json.loads(output.read_text())
    assert report["rounds"] == rounds and kernels == [False] * 2 * rounds and report["whole_notebook"] is False


def test_a_models_dir_measures_the_models_it_can_and_names_the_cards_left_out(tmp_path, shipped_model_path, capsys):
    """A folder holding a digit check (`train-digit-check --output my_models/check.keras`) or a card whose model was
    deleted stopped every benchmark with a message about the pad's model: it was measured before, minus that card.
    Only the pad, which chooses among models/, stops on such a card."""
    from numvision_lib.model_card import DIGIT_CHECK_PATH

    report = load_script("benchmarks/_report.py")
    for model in (shipped_model_path, DIGIT_CHECK_PATH):
        shutil.copy(model, tmp_path)
        shutil.copy(model.with_suffix(".json"), tmp_path)
    gone = json.loads(shipped_model_path.with_suffix(".json").read_text())
    (tmp_path / "gone.json").write_text(json.dumps({**gone, "name": "gone", "model_file": "gone.keras"}))
    assert report.model_paths(argparse.Namespace(models=None, models_dir=tmp_path)) == [
        tmp_path / shipped_model_path.name]
    assert capsys.readouterr().out == (
        "Left out: digit_check.keras is the pad's digit check, which tells a digit from a non-digit, not a model that "
        "reads digits: give a digit model, such as one in models/. A check belongs in models/checks/, never among the "
        "models: move it and its card there.\n"
        "Left out: gone.json: its model file gone.keras is missing. Train the model again (git does not keep models "
        "outside models/).\n")
    with pytest.raises(ModelFileError, match=r"the pad's model is chosen among all the shipped models, and not every "
                                             r"one can be read. digit_check.keras is the pad's digit check, .* such as "
                                             r"one in models/\. .* move it and its card there\. gone.json: its model file gone.keras is missing\. "
                                             r"Train the model again"):
        pad_model_path(tmp_path)
    for card in tmp_path.glob("*.json"):
        card.unlink()
    with pytest.raises(ModelFileError, match=f"^--models-dir {re.escape(str(tmp_path))}: no model with a readable "
                                             "card to measure"):
        report.model_paths(argparse.Namespace(models=None, models_dir=tmp_path))


def test_a_library_error_ends_a_script_with_one_line(capsys):
    report = load_script("benchmarks/_report.py")

    def main():
        raise ModelFileError("none.keras: model file not found")

    assert report.run_main(main) == 1
    assert capsys.readouterr().err == "error: none.keras: model file not found\n"
    assert report.run_main(lambda: None) == 0


def test_class_finetune_tiny(tmp_path, shipped_model_path):
    output = tmp_path / "class_finetune.json"
    printed = run_script("benchmarks/class_finetune.py", "--people", "5", "--draws", "1", "--fine-tune-students", "3",
                         "--held-out-students", "2", "--drawings-per-student", "5", "--held-out-drawings", "10",
                         "--quick", "--model", str(shipped_model_path), "--output", str(output))
    report = json.loads(output.read_text())
    (draw,) = report["draws"]
    assert len(draw["fine_tune_students"]) == 3 and len(draw["held_out_students"]) == 2
    assert not set(draw["fine_tune_students"]) & set(draw["held_out_students"])
    assert (draw["fine_tune_drawings"], draw["held_out_drawings"]) == (15, 10)
    assert report["data"]["people_in_part"] == 20 and report["data"]["people_used"] == 5
    assert 0.9 < draw["mnist_test_accuracy_after"] <= 1 and draw["fine_tune_seconds"] > 0
    assert report["overall"]["held_out_error_before"] == draw["held_out_error_before"]
    assert "Only 20 UNIPEN writers are unseen" in printed and "error before" in printed
    # A student who wrote fewer digits gives all of them: the drawings asked for are at most, those drawn are counted.
    assert report["simulation"]["drawings_per_student"] == 5 and report["overall"]["fine_tune_drawings"] == 15
    assert "3 students x up to 5 drawings (15 drawn)" in printed


def _class_finetune_stopped_before_the_class_collection():
    class_finetune = load_script("benchmarks/class_finetune.py")

    def collection_started(*arguments):
        raise AssertionError("the class collection (most of a minute) started before the arguments were checked")

    class_finetune.writers_as_a_class = collection_started
    return class_finetune


@pytest.mark.parametrize("arguments, expected", [
    (["--seed", "-1"], "argument --seed: the seed must be a whole number from 0 to 4294967295, not -1"),
    (["--people", "1"], "argument --people: '1' must be a whole number of at least 2"),
    (["--people", "5", "--fine-tune-students", "5"],
     "--fine-tune-students 5 leaves no one to measure on in a class of 5 (--people 5): at least one student is held "
     "out. Give --fine-tune-students at most 4, or --people at least 6"),
    # The part's people, counted before the collection: issue 16's class size on the 20 benchmark writers.
    (["--fine-tune-students", "20"],
     "--fine-tune-students 20 leaves no one to measure on in a class of 20 (the UNIPEN benchmark writers): at least "
     "one student is held out. Give --fine-tune-students at most 19\n"),
    (["--part", "validation", "--fine-tune-students", "14", "--people", "30"],
     "--fine-tune-students 14 leaves no one to measure on in a class of 14 (the UNIPEN validation writers): at least "
     "one student is held out. Give --fine-tune-students at most 13\n"),
    # The pad's model saw the training writers: the part names the model it needs, not the pad's.
    (["--part", "train_and_benchmark"],
     "--part train_and_benchmark has no default model: it needs one that learned from MNIST alone, which never saw "
     "these writers. Give --model models/numvision_plus.keras (the Makefile's command adds --fine-tune-students 20)"),
])
def test_class_finetune_refuses_its_arguments_before_the_class_collection(tmp_path, capsys, arguments, expected):
    with pytest.raises(SystemExit) as refused:
        _class_finetune_stopped_before_the_class_collection().main([*arguments, "--output",
                                                                    str(tmp_path / "report.json")])
    assert refused.value.code == 2 and expected in capsys.readouterr().err


def test_class_finetune_checks_its_model_and_card_before_the_class_collection(tmp_path, shipped_model_path):
    class_finetune = _class_finetune_stopped_before_the_class_collection()
    output = str(tmp_path / "report.json")
    with pytest.raises(ModelFileError, match="missing.keras: model file not found"):
        class_finetune.main(["--model", str(tmp_path / "missing.keras"), "--output", output])
    without_card = shutil.copy(shipped_model_path, tmp_path)
    with pytest.raises(ModelFileError, match=f"^{shipped_model_path.stem}.json: model card not found beside the model"):
        class_finetune.main(["--model", str(without_card), "--output", output])


def test_a_class_without_mistakes_before_is_reported_in_words_not_nan(capsys):
    """Held-out students the model already read perfectly: no share of nothing, in the table or the JSON."""
    class_finetune = load_script("benchmarks/class_finetune.py")
    draw = {"fine_tune_drawings": 15, "held_out_drawings": 10, "held_out_error_before": 0.0,
            "held_out_error_after": 0.1, "mistakes_before": 0, "mistakes_after": 1, "relative_error_reduction": None,
            "mnist_test_accuracy_after": 0.99, "fine_tune_seconds": 1.0,
            "by_held_out_student": {"a": {"drawings": 10, "error_before": 0.0, "error_after": 0.1}}}
    overall = class_finetune.summarise([draw])
    assert overall["relative_error_reduction"] is None
    json.dumps(overall, allow_nan=False)
    class_finetune.print_tables([draw], overall, 0.99, "note")
    printed = capsys.readouterr().out
    assert "nan" not in printed.lower() and printed.count("no mistakes before") == 2
    assert "MISSED  relative error reduction" in printed
    assert overall["fine_tune_drawings"] == 15 and re.search(r"^ all +15 +10 ", printed, re.MULTILINE)


def test_a_class_of_training_and_benchmark_writers_is_for_models_that_never_saw_them(tmp_path, shipped_model_path,
                                                                                      capsys):
    assert not ModelCard.for_model(shipped_model_path).saw_real_handwriting
    output = tmp_path / "mnist_only.json"
    run_script("benchmarks/class_finetune.py", "--part", "train_and_benchmark", "--people", "4", "--draws", "1",
               "--fine-tune-students", "2", "--drawings-per-student", "3", "--held-out-drawings", "6", "--quick",
               "--model", str(shipped_model_path), "--output", str(output))
    report = json.loads(output.read_text())
    assert report["data"]["part"] == "train_and_benchmark" and report["data"]["people_in_part"] == 83
    (draw,) = report["draws"]
    validation_people = {sample.person for sample in digit_split()["validation"]}
    assert not validation_people & {*draw["fine_tune_students"], *draw["held_out_students"]}

    class_finetune = load_script("benchmarks/class_finetune.py")
    with pytest.raises(SystemExit) as refused:
        class_finetune.main(["--part", "train_and_benchmark", "--model", str(pad_model_path()),
                             "--output", str(tmp_path / "leak.json")])
    assert refused.value.code == 2 and not (tmp_path / "leak.json").exists()
    assert "was trained on the UNIPEN training writers" in capsys.readouterr().err


def test_a_class_style_redraws_that_digit_only():
    class_finetune = load_script("benchmarks/class_finetune.py")
    samples = digit_split()["benchmark"][:300]
    styled = class_finetune.in_class_styles(samples, ["1, flag 45%, 35 deg", "0, slashed /"])
    ones = [(before, after) for before, after in zip(samples, styled) if before.digit == 1]
    assert len(ones) >= 10
    for before, after in zip(samples, styled):
        if before.digit not in (0, 1):
            assert after is before
    paths = np.array([[sum(np.hypot(*np.diff(stroke, axis=0).T).sum()
                           for stroke in normalise_strokes(sample.strokes)) for sample in pair] for pair in ones])
    added = paths[:, 1] - paths[:, 0]
    # A flag 45% as long as the 1 is tall, or nothing for a 1 written with a flag already (a fifth of these writers').
    assert np.all((added > 0.3) | (np.abs(added) < 0.05)) and np.mean(added > 0.3) > 0.6
    zeros = [(before, after) for before, after in zip(samples, styled) if before.digit == 0]
    assert zeros and all(len(after.strokes) == len(before.strokes) + 1 for before, after in zeros)


def test_class_finetune_with_a_class_style_reports_it_apart(tmp_path, shipped_model_path):
    output = tmp_path / "styled.json"
    printed = run_script("benchmarks/class_finetune.py", "--people", "4", "--draws", "1", "--fine-tune-students", "2",
                         "--drawings-per-student", "5", "--held-out-drawings", "10", "--quick",
                         "--class-style", "1, flag 45%, 35 deg", "--model", str(shipped_model_path),
                         "--output", str(output))
    report = json.loads(output.read_text())
    assert report["data"]["class_styles"] == ["1, flag 45%, 35 deg"]
    assert "Every student writes in the class's style: 1, flag 45%, 35 deg." in printed


def test_each_class_style_has_its_own_report():
    class_finetune = load_script("benchmarks/class_finetune.py")
    assert class_finetune.report_name("benchmark", []) == "class_finetune"
    assert class_finetune.report_name("validation", []) == "class_finetune_validation"
    assert class_finetune.report_name("train_and_benchmark", []) == "class_finetune_train_and_benchmark"
    assert class_finetune.report_name("benchmark", ["1, flag 45%, 35 deg"]) == "class_finetune_styled_1"
    assert class_finetune.report_name("benchmark", ["7, crossbar, pen kept down"]) == "class_finetune_styled_7"
    two_styles = ["7, crossbar", "0, slashed /"]
    assert class_finetune.report_name("validation", two_styles) == "class_finetune_validation_styled_07"
    for name in ("class_finetune", "class_finetune_styled_1", "class_finetune_styled_7",
                 "class_finetune_train_and_benchmark"):
        assert (PROJECT_ROOT / "results" / "benchmarks" / f"{name}.json").is_file()

"""The drawing pad without TensorFlow: the exported LiteRT files, their freshness, and a kernel free of TensorFlow."""
from __future__ import annotations

import hashlib
import json
import platform
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from functools import partial

import numpy as np
import pytest

# Installed everywhere but on Intel Macs, which it has no wheels for (pyproject.toml): elsewhere a missing LiteRT
# fails these tests rather than skipping them.
if sys.platform == "darwin" and platform.machine() == "x86_64":
    pytest.skip("ai-edge-litert has no wheels for Intel Macs", allow_module_level=True)

from numvision_lib.calibration import apply_temperature  # noqa: E402
from numvision_lib.errors import ConfigError, ModelFileError  # noqa: E402
from numvision_lib.handwriting import validation_digits  # noqa: E402
from numvision_lib.litert import (EXPORT_COMMAND, LitePredictor, export_command, exported_flatbuffer,  # noqa: E402
                                  litert_path)
from numvision_lib.model_card import DIGIT_CHECK_PATH, pad_model_path, read_card, update_card  # noqa: E402
from numvision_lib import paths  # noqa: E402
from numvision_lib.paths import PROJECT_ROOT, project_relative  # noqa: E402
from numvision_lib.prediction import NOT_A_DIGIT, read  # noqa: E402

# The tolerance the pad's 8-bit interpreter is held to against the Keras model (as in tests/test_predict.py):
# at most two different digits in 2,000 images (both near ties), every probability within 0.1, and half of the
# images within 1e-3.
IMAGES_PER_DIFFERENCE = 2000
MAX_PROBABILITY_DIFFERENCE = 0.1
MEDIAN_PROBABILITY_DIFFERENCE = 1e-3
MNIST_IMAGES = 3000
HANDWRITING_PER_DIGIT = 40  # 400 validation digits in every rendering: 2,000 drawings
# Where the Keras model's two best digits are this close, its answer is a coin toss and 8-bit rounding may pick the
# other one (measured with each picture read once: numvision_plus 2 of the 2,000 real drawings and 1 of 10,000 MNIST
# images; the README gives the pad's model's agreement through the three readings). Elsewhere the digit must not
# change.
NEAR_TIE = 0.05
# What the light path needs, as litert.py, the README and notebook 05 say, and what it must not load.
LIGHT_PATH_PACKAGES = ("numpy", "scipy", "PIL", "ai_edge_litert")
HEAVY_PACKAGES = ("tensorflow", "keras", "tf_keras", "sklearn", "matplotlib", "pandas")


def assert_agree(light: np.ndarray, keras: np.ndarray, what: str) -> None:
    differing = np.flatnonzero(light.argmax(axis=1) != keras.argmax(axis=1))
    allowed = 2 * max(1, len(keras) // IMAGES_PER_DIFFERENCE)
    best_two = np.sort(keras[differing], axis=1)[:, -2:]
    margins = best_two[:, 1] - best_two[:, 0]
    assert np.all(margins < NEAR_TIE), f"{what}: a decided digit changed (margins {np.round(margins, 3)})"
    assert len(differing) <= allowed, f"{what}: {len(differing)} different digits"
    differences = np.abs(light - keras).max(axis=1)
    assert differences.max() < MAX_PROBABILITY_DIFFERENCE, f"{what}: largest difference {differences.max():.3f}"
    assert np.median(differences) < MEDIAN_PROBABILITY_DIFFERENCE, f"{what}: median {np.median(differences):.2e}"


def test_a_fresh_process_draws_and_uploads_without_tensorflow():
    """What notebook 05 and the app do, in a new interpreter: nothing on the way imports TensorFlow, Keras or another
    heavy library, and each package that the documents say it needs is loaded (they once said NumPy and Pillow
    alone, and SciPy was loaded too)."""
    script = textwrap.dedent("""
        import json, sys
        from numvision_lib.drawing import DrawingPad, ImageUploadPanel
        from numvision_lib.drawn_digits import drawn_digit_set, template_strokes
        pad = DrawingPad()
        drawn = pad.draw(template_strokes(7))
        upload = ImageUploadPanel(pad.predictor)
        uploaded = upload.show(drawn_digit_set("dark_on_light", samples_per_digit=1)[3].image())
        batch = pad.predictor.predict_batch([template_strokes(digit) for digit in range(10)])
        packages = sorted({name.split(".")[0] for name in sys.modules})
        print(json.dumps({"drawn": drawn.digit, "uploaded": uploaded.digit, "batch": [p.digit for p in batch],
                          "model": pad.predictor.name, "predictor": type(pad.predictor).__name__,
                          "packages": packages}))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == "", "LiteRT's start-up lines would land in the notebook"
    answer = json.loads(result.stdout)
    heavy = sorted(set(answer["packages"]) & set(HEAVY_PACKAGES))
    assert heavy == [], f"the light path imported {heavy}"
    unused = sorted(set(LIGHT_PATH_PACKAGES) - set(answer["packages"]))
    assert unused == [], f"the light path no longer needs {unused}: correct litert.py, the README and notebook 05"
    assert (answer["predictor"], answer["model"]) == ("LitePredictor", pad_model_path().stem)
    assert (answer["drawn"], answer["uploaded"], answer["batch"]) == (7, 3, list(range(10)))


@pytest.fixture(scope="module")
def both_paths():
    """The pad's model and digit check through Keras and through the exported files."""
    from numvision_lib.predict import Predictor

    return Predictor.load(), LitePredictor.load()


def test_the_shipped_export_is_of_the_pads_models(both_paths):
    keras_path, light = both_paths
    assert light.source == pad_model_path() and light.temperature == keras_path.temperature
    assert light.threshold == keras_path.threshold
    assert light.threshold is not None, "the shipped digit check was not loaded"


def test_a_shipped_check_that_went_missing_is_refused_not_dropped(tmp_path, monkeypatch):
    """A copy of the project without models/checks/digit_check.keras, its card and LiteRT copy still there, loaded both
    pads without the check, and nobody was told: a drawn A was "4, 99.7% sure". Only where no check was ever trained
    (no card either) does the pad answer without one."""
    import numvision_lib.prediction as prediction
    from numvision_lib.predict import Predictor

    default = tmp_path / "checks" / DIGIT_CHECK_PATH.name
    monkeypatch.setattr(prediction, "DIGIT_CHECK_PATH", default)
    default.parent.mkdir()
    loads = (partial(Predictor.load, digit_check_path=default), partial(LitePredictor.load, digit_check_path=default))
    for load in loads:
        assert load().threshold is None, "a project that never had a check answers without one"
    for shipped in (DIGIT_CHECK_PATH.with_suffix(".json"), litert_path(DIGIT_CHECK_PATH)):
        shutil.copy(shipped, default.parent)
    for load in loads:
        with pytest.raises(ModelFileError, match=(
                rf"^{re.escape(project_relative(default))} is missing, though its card digit_check.json is there: "
                rf"without it the pad would answer with no digit check .* Restore "
                rf"{re.escape(project_relative(default.parent))}/ from git, or "
                r"give none for no check \(digit_check_path=None\)$")):
            load()


def test_the_export_agrees_with_keras_on_mnist(both_paths, mnist):
    keras_path, light = both_paths
    images = mnist.x_test[:MNIST_IMAGES].astype(np.float32) / 255
    assert_agree(light.probabilities(images), keras_path.probabilities(images), "MNIST test images")


def test_the_export_agrees_with_keras_on_real_handwriting(both_paths):
    keras_path, light = both_paths
    images = validation_digits(per_digit=HANDWRITING_PER_DIGIT).model_inputs
    assert len(images) >= 2000
    assert_agree(light.probabilities(images), keras_path.probabilities(images), "UNIPEN validation writers")


def test_the_export_is_the_network_the_keras_predictor_runs_for_the_pad(both_paths, mnist):
    """The exported file is the same 8-bit conversion `Predictor` makes in memory, so both pads answer alike."""
    keras_path, light = both_paths
    images = mnist.x_test[:200, :, :, None].astype(np.float32) / 255
    in_memory = np.concatenate([read(keras_path.pad_network, image[None]) for image in images])
    np.testing.assert_allclose(light.probabilities(images), apply_temperature(in_memory, keras_path.temperature),
                               atol=1e-5)


def test_both_pads_answer_a_batch_as_they_answer_a_drawing(both_paths):
    """`Predictor`'s batches ran its float32 model and check: notebook 04's letter K was a 4 in a batch and a 5 on both
    pads, and a letter D "not a digit" in a batch and a confident 0 on the pads."""
    from numvision_lib.drawn_digits import template_strokes
    from numvision_lib.not_a_digit import example_letters

    keras_path, light = both_paths
    drawings = example_letters("AHKMRTWXYe") + [template_strokes(digit) for digit in range(10)]
    for from_keras, from_light, drawing in zip(keras_path.predict_batch(drawings), light.predict_batch(drawings),
                                               drawings):
        on_the_pad = light.predict(drawing)
        assert (from_keras.digit, from_keras.verdict) == (from_light.digit, from_light.verdict) == (
            on_the_pad.digit, on_the_pad.verdict)
        np.testing.assert_allclose(from_keras.probabilities, on_the_pad.probabilities, atol=1e-5)


def test_the_light_pad_answers_through_its_temperature():
    """The pad's own temperature (0.996) is too near 1 for a light predictor ignoring it to fail any other test."""
    flatbuffer = exported_flatbuffer(pad_model_path())
    plain, warm = LitePredictor(flatbuffer), LitePredictor(flatbuffer, temperature=2.0)
    plus = [[(140, 50), (140, 230)], [(60, 140), (220, 140)]]  # read as a digit, but not for sure
    inputs = np.stack([plain.predict(plus).model_input])
    for name, answer in {"predict": lambda p: p.predict(plus).probabilities[None],
                         "predict_batch": lambda p: p.predict_batch([plus])[0].probabilities[None],
                         "probabilities": lambda p: p.probabilities(inputs),
                         "probabilities_read_once": lambda p: p.probabilities_read_once(inputs)}.items():
        raw, softened = answer(plain), answer(warm)
        np.testing.assert_allclose(softened, apply_temperature(raw, 2.0), atol=1e-6, err_msg=name)
        assert np.abs(softened - raw).max() > 0.01, name


def test_the_exported_digit_check_agrees_with_keras(both_paths):
    keras_path, light = both_paths
    from numvision_lib.not_a_digit import check_examples

    images = check_examples("validation", per_kind=200).inputs
    light_scores, keras_scores = light.digit_scores(images), keras_path.digit_scores(images)
    assert np.abs(light_scores - keras_scores).max() < MAX_PROBABILITY_DIFFERENCE
    refused_differently = np.count_nonzero((light_scores < light.threshold) != (keras_scores < keras_path.threshold))
    assert refused_differently <= max(1, len(images) // IMAGES_PER_DIFFERENCE)


# ---------------------------------------------------------------- export, freshness and errors


@pytest.fixture
def exported(tmp_path, shipped_model_path):
    """The reference model and a (built, untrained) digit check copied to a scratch folder and exported there."""
    from numvision_lib.not_a_digit import build_digit_check
    from numvision_lib.model import save_model
    from numvision_lib.predict import export_litert

    model = tmp_path / shipped_model_path.name
    shutil.copy(shipped_model_path, model)
    shutil.copy(shipped_model_path.with_suffix(".json"), model.with_suffix(".json"))
    check = tmp_path / "checks" / "digit_check.keras"
    save_model(build_digit_check(), check)
    check.with_suffix(".json").write_text(json.dumps({"name": "digit_check", "threshold": 0.5}))
    written = export_litert(model, check)
    assert written == [litert_path(model), litert_path(check)]
    return model, check


def test_export_refuses_a_mistyped_check_before_writing_anything(tmp_path, shipped_model_path):
    """It was skipped without a word: the pad loaded later would answer without its check."""
    from numvision_lib.predict import export_litert

    model = tmp_path / shipped_model_path.name
    shutil.copy(shipped_model_path, model)
    shutil.copy(shipped_model_path.with_suffix(".json"), model.with_suffix(".json"))
    with pytest.raises(ModelFileError, match="chek.keras: digit check not found"):
        export_litert(model, tmp_path / "chek.keras")
    assert not litert_path(model).exists()


def test_export_writes_the_files_and_records_them_in_the_cards(exported):
    model, check = exported
    for path in (model, check):
        record = read_card(path)["litert"]
        assert record["file"] == litert_path(path).name and litert_path(path).stat().st_size > 1000
        assert record["weights"].startswith("8-bit") and record["versions"]["tensorflow"]
    assert read_card(check)["threshold"] == 0.5, "the check's card keeps what it had"
    light = LitePredictor.load(model, check)
    assert light.threshold == 0.5 and light.digit_scores(np.zeros((3, 28, 28))).shape == (3,)


def test_the_exported_check_scores_as_the_keras_check_and_its_threshold_decides(exported, mnist):
    from numvision_lib.predict import Predictor

    model, check = exported
    keras_path, light = Predictor.load(model, check), LitePredictor.load(model, check)
    images = mnist.x_test[:500].astype(np.float32) / 255
    assert np.abs(light.digit_scores(images) - keras_path.digit_scores(images)).max() < 0.02
    seven = [[(90, 60), (190, 60), (120, 230)]]
    # The threshold is read from the check's card at load time: 1 refuses every drawing, 0 none.
    update_card(check, {"threshold": 1.0})
    assert LitePredictor.load(model, check).predict(seven).verdict == NOT_A_DIGIT
    update_card(check, {"threshold": 0.0})
    assert LitePredictor.load(model, check).predict(seven).verdict != NOT_A_DIGIT


def test_a_missing_export_names_the_command(tmp_path, shipped_model_path):
    model = tmp_path / shipped_model_path.name
    shutil.copy(shipped_model_path, model)
    shutil.copy(shipped_model_path.with_suffix(".json"), model.with_suffix(".json"))
    with pytest.raises(ModelFileError, match=f"has not been exported.*`{EXPORT_COMMAND} --model .*{model.name}`"):
        LitePredictor.load(model, None)
    update_card(model, {"litert": {"file": litert_path(model).name}})  # an incomplete record is no export either
    with pytest.raises(ModelFileError, match="has not been exported"):
        LitePredictor.load(model, None)
    for file in (None, "", "../elsewhere.tflite"):  # nor is one whose file is not a name beside the model
        update_card(model, {"litert": {"file": file, "sha256": "0", "source_sha256": "0"}})
        with pytest.raises(ModelFileError, match="has not been exported"):
            LitePredictor.load(model, None)


@pytest.mark.parametrize("changed, message", [
    (0, "numvision_cnn.tflite is out of date: numvision_cnn.keras has changed since it was exported"),
    (1, r"digit_check.tflite is out of date: digit_check.keras has changed.*`.* --digit-check .*digit_check.keras`"),
], ids=["model", "digit check"])
def test_a_changed_keras_file_makes_its_export_stale(exported, changed, message):
    with exported[changed].open("ab") as file:
        file.write(b"retrained")
    with pytest.raises(ModelFileError, match=message):
        LitePredictor.load(*exported)


def test_a_deleted_or_replaced_export_is_an_error(exported):
    model, check = exported
    litert_path(check).write_bytes(b"not a flatbuffer")
    with pytest.raises(ModelFileError, match="digit_check.tflite is not the file that was exported"):
        LitePredictor.load(model, check)
    litert_path(model).unlink()
    with pytest.raises(ModelFileError, match=f"{litert_path(model).name} is missing"):
        LitePredictor.load(model, check)


def test_an_export_damaged_behind_a_card_edited_to_match_is_an_error(exported):
    model, check = exported
    damaged = litert_path(check).read_bytes()[:2000]
    litert_path(check).write_bytes(damaged)
    update_card(check, {"litert": {**read_card(check)["litert"], "sha256": hashlib.sha256(damaged).hexdigest()}})
    with pytest.raises(ModelFileError, match=r"^digit_check.tflite cannot be read by LiteRT .*Export again with `"):
        LitePredictor.load(model, check)


def test_the_keras_model_is_given_not_its_export(exported):
    with pytest.raises(ModelFileError, match="numvision_cnn.tflite: give the .keras model; its LiteRT copy is found"):
        LitePredictor.load(litert_path(exported[0]), None)


def test_a_missing_model_is_restored_from_git_only_among_the_shipped_ones(tmp_path, monkeypatch):
    """A model that was there (its card, written beside it, still is) is trained again, or restored from git where
    git keeps it; a name that never was a model is told to check the name."""
    (tmp_path / "my_model.json").write_text("{}")
    with pytest.raises(ModelFileError, match=r"my_model.keras: model file not found\. Train the model again \(git "
                                             r"does not keep models outside models/\)\.$"):
        exported_flatbuffer(tmp_path / "my_model.keras")
    with pytest.raises(ModelFileError, match=r"models/gone.keras: model file not found\. Check the name: models/ "
                                             r"holds "):
        exported_flatbuffer(PROJECT_ROOT / "models" / "gone.keras")
    shipped = tmp_path / "models"
    shipped.mkdir()
    (shipped / "gone.json").write_text("{}")
    monkeypatch.setattr(paths, "MODELS_DIR", shipped)
    with pytest.raises(ModelFileError, match=r"gone.keras: model file not found\. Train the model again, or restore "
                                             r"the file from git\.$"):
        exported_flatbuffer(shipped / "gone.keras")


def test_the_export_command_it_names_can_be_pasted(tmp_path):
    """A path outside the project was shown as …/folder/name, and one with a space was cut in two by the shell."""
    outside = tmp_path / "Year 7" / "my_numvision_plus.keras"
    command = export_command(outside, PROJECT_ROOT / "models" / "checks" / "digit_check.keras")
    assert command == (f"{EXPORT_COMMAND} --model '{outside}' --digit-check models/checks/digit_check.keras")
    assert shlex.split(command)[5] == str(outside)


def test_the_command_exports_the_model_alone_when_asked(tmp_path, shipped_model_path, capsys):
    """There was no way to say "no check" on the command line, which its own message asked for."""
    from numvision_lib.__main__ import main

    model = tmp_path / shipped_model_path.name
    shutil.copy(shipped_model_path, model)
    shutil.copy(shipped_model_path.with_suffix(".json"), model.with_suffix(".json"))
    checks_before = {path: path.stat().st_mtime_ns for path in DIGIT_CHECK_PATH.parent.iterdir()}
    assert main(["export-litert", "--model", str(model), "--digit-check", str(tmp_path / "no_check.keras")]) == 1
    assert ("no_check.keras: digit check not found. Give the path of its .keras file, such as "
            "models/checks/digit_check.keras, or none for no check (--no-digit-check)") in capsys.readouterr().err
    assert main(["export-litert", "--model", str(model), "--no-digit-check"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"Wrote …/{tmp_path.name}/{litert_path(model).name} ({litert_path(model).stat().st_size / 1024:.0f} KB), "
        f"recorded in {model.with_suffix('.json').name}"]
    assert {path: path.stat().st_mtime_ns for path in DIGIT_CHECK_PATH.parent.iterdir()} == checks_before


def test_the_command_exports_and_says_what_it_wrote(tmp_path, shipped_model_path):
    from numvision_lib.model_card import DIGIT_CHECK_PATH

    model, check = tmp_path / shipped_model_path.name, tmp_path / "checks" / DIGIT_CHECK_PATH.name
    check.parent.mkdir()
    for source, copy in ((shipped_model_path, model), (DIGIT_CHECK_PATH, check)):
        shutil.copy(source, copy)
        shutil.copy(source.with_suffix(".json"), copy.with_suffix(".json"))

    def export(check_path):
        return subprocess.run([sys.executable, "-m", "numvision_lib", "export-litert", "--model", str(model),
                               "--digit-check", str(check_path)], capture_output=True, text=True, timeout=300)

    mistyped = export(tmp_path / "no_check.keras")  # was exported without its check, and said so in passing
    assert mistyped.returncode == 1 and "no_check.keras: digit check not found" in mistyped.stderr
    assert not litert_path(model).exists()
    result = export(check)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{litert_path(model).name} (" in result.stdout and "recorded in numvision_cnn.json" in result.stdout
    assert f"{litert_path(check).name} (" in result.stdout
    assert LitePredictor.load(model, check).predict([[(140, 40), (140, 240)]]).digit == 1


def test_a_light_predictor_is_checked_when_it_is_made(exported):
    """A check without its threshold ran on every drawing and refused none; a temperature of 0 failed at each one."""
    model, check = (exported_flatbuffer(path) for path in exported)
    with pytest.raises(ConfigError, match="a temperature must be a positive number .* got 0"):
        LitePredictor(model, temperature=0)
    with pytest.raises(ConfigError, match=r"the digit check's threshold must be a number from 0 to 1, found None: a "
                                          r"digit check needs the threshold .* \(LitePredictor.load\(\) reads it\)"):
        LitePredictor(model, digit_check=check)


def test_the_wrong_kind_of_file_is_named_for_what_it_is(exported):
    """Each was called a damaged card, to be restored from git or trained again."""
    from numvision_lib.predict import export_litert

    model, check = exported
    for load in (partial(LitePredictor.load, check, None), partial(export_litert, check, None)):
        # In a checks folder, where it belongs: not told to move.
        with pytest.raises(ModelFileError, match=r"^digit_check.keras is the pad's digit check, .* not a model that "
                                                 r"reads digits: give a digit model, such as one in models/\.$"):
            load()
    with pytest.raises(ModelFileError, match="^numvision_cnn.keras is a model that reads digits, not the pad's digit "
                                             "check"):
        LitePredictor.load(model, model)
    # The check's own card without its threshold is damaged, not a digit model's.
    card = read_card(check)
    del card["threshold"]
    check.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(ModelFileError, match="^digit_check.json: the digit check's card has no 'threshold'"):
        LitePredictor.load(model, check)
    check.with_suffix(".json").write_text("{not json")  # how to mend it, as the Keras loader says
    with pytest.raises(ModelFileError, match=r"^digit_check.json: not a readable model card .*train the check again "
                                             r"with `python -m numvision_lib train-digit-check`"):
        LitePredictor.load(model, check)


def test_a_digit_check_path_that_was_given_must_exist(exported):
    """A mistyped path took the check away without a word: a handwritten A was "4, 99.8% sure"."""
    model, check = exported
    with pytest.raises(ModelFileError, match=r"digit_chek.keras: digit check not found. .* or none for no check "
                                             r"\(digit_check_path=None\)"):
        LitePredictor.load(model, check.with_name("digit_chek.keras"))
    with pytest.raises(ConfigError, match=r"give the path of a model file, .* \(for a model already loaded: "
                                          r"Predictor\(model\), from numvision_lib.predict\), not 123"):
        LitePredictor.load(123)

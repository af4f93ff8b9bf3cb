"""The command line end to end, as a user runs it: separate processes, real files, exit codes. Commands refused
before any work run in this process instead (`run_main`), where TensorFlow is loaded already."""
import json
import os
import shutil
import subprocess
import sys

import pytest
from PIL import Image, ImageDraw

from numvision_lib.hardware import precision_warning


def run_cli(*arguments, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "numvision_lib", *map(str, arguments)],
        capture_output=True, text=True, timeout=timeout, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


def run_main(capsys, *arguments):
    """`run_cli` in this process, where TensorFlow is loaded already: for commands refused before any work, which
    would otherwise spend most of their time loading it."""
    from numvision_lib.__main__ import main

    try:
        code = main([str(argument) for argument in arguments])
    except SystemExit as stop:  # argparse's usage errors and --help
        code = stop.code
    printed = capsys.readouterr()
    return subprocess.CompletedProcess(arguments, code, printed.out, printed.err)


@pytest.fixture(scope="module")
def cli_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    # --restart with nothing to discard: the option reaches `train`, not TrainConfig.
    result = run_cli("train", "--quick", "--epochs", "2", "--restart", "--output", folder / "cli.keras")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Best epoch" in result.stdout
    assert "Epoch 1 of 2 took " in result.stdout and "the remaining 1 take about " in result.stdout
    return folder / "cli.keras"


def test_train_writes_model_card_and_history(cli_model):
    card = json.loads(cli_model.with_suffix(".json").read_text())
    assert card["epochs_run"] == 2 and card["config"]["max_train_samples"] == 3000
    assert cli_model.with_suffix(".history.csv").is_file()


def test_evaluate_writes_the_results_folder(cli_model, tmp_path):
    result = run_cli("evaluate", "--model", cli_model, "--results-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert f"Test accuracy {metrics['test_accuracy']:.4f}" in result.stdout
    assert metrics["test_accuracy"] > 0.9 and metrics["test_images"] == 10_000
    for name in ("classification_report.txt", "confusion_matrix.png", "misclassifications.png",
                 "training_history.png", "history.csv"):
        assert (tmp_path / name).stat().st_size > 0, name


def test_predict_reads_image_files(cli_model, mnist, tmp_path):
    paths = []
    for index in range(3):
        # Photos of paper are dark ink on a light background: the inverse of MNIST.
        path = tmp_path / f"digit{index}.png"
        Image.fromarray(255 - mnist.x_test[index]).resize((112, 112)).save(path)
        paths.append(path)
    result = run_cli("predict", *paths, "--model", cli_model, "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["digit"] for a in answers] == mnist.y_test[:3].tolist()
    assert all(len(a["top3"]) == 3 for a in answers)


def test_predict_reports_a_bad_file_in_one_line_and_fails(cli_model, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    result = run_cli("predict", broken, "--model", cli_model)
    assert result.returncode == 1
    error_lines = [line for line in result.stderr.splitlines() if "error:" in line]
    assert error_lines == [f"error: {broken} is not a picture, or not in a format we can open. Upload a photo or scan "
                           "of one digit, saved as PNG or JPEG."]
    assert "Traceback" not in result.stderr


def test_predict_names_the_picture_it_cannot_read_and_says_why_one_is_not_a_digit(tmp_path):
    """A blank picture among several was "error: the picture is blank", without its name, and a mark in a photo
    "(not a digit)" without the advice that says why."""
    blank, mark = tmp_path / "blank.png", tmp_path / "mark.png"
    Image.new("L", (200, 200), 230).save(blank)
    photo = Image.new("L", (500, 500), 230)
    ImageDraw.Draw(photo).line([(240, 240), (255, 262)], fill=20, width=6)  # a mark small in its photo
    photo.save(mark)
    missing = tmp_path / "missing.png"
    result = run_cli("predict", mark, blank, missing, "--no-digit-check")
    assert result.returncode == 1
    blank_line, missing_line = result.stderr.splitlines()
    assert blank_line.startswith(f"{blank}: error: the picture is blank"), result.stderr[-3000:]
    # Named once: "missing.png: error: missing.png: file not found".
    assert missing_line == f"error: {missing}: file not found. Check the name and the folder."
    (marked,) = result.stdout.splitlines()
    assert marked.startswith(f"{mark}: ") and marked.endswith(
        "  (not a digit) Only a small mark in this photo: if it is a digit, crop the photo close to it.")


def test_predict_shows_an_unsure_answer_below_the_sure_figure(monkeypatch, capsys):
    """89.96% sure was "4 (90.0%; ...)  (probably a digit)": the sure answer's figure, as the pad once showed it."""
    import numpy as np

    from numvision_lib import predict
    from numvision_lib.__main__ import main
    from numvision_lib.prediction import PROBABLY, Prediction

    probabilities = np.full(10, (1 - 0.8996) / 9)
    probabilities[4] = 0.8996
    unsure = Prediction(digit=4, confidence=0.8996, top3=((4, 0.8996), (0, probabilities[0]), (1, probabilities[1])),
                        probabilities=probabilities, model_input=np.zeros((28, 28), np.float32), verdict=PROBABLY)

    class Answers:
        def predict(self, image):
            return unsure

    monkeypatch.setattr(predict.Predictor, "load", lambda *paths: Answers())
    assert main(["predict", "four.png"]) == 0
    assert capsys.readouterr().out == "four.png: 4 (89.9%; then 0 1.1%, 1 1.1%)  (probably a digit)\n"


def test_predict_names_a_file_once_as_it_was_typed(monkeypatch, capsys, tmp_path):
    """It was "./missing.png: error: missing.png: file not found": the file named twice, in two spellings."""
    from numvision_lib import predict
    from numvision_lib.__main__ import main
    from numvision_lib.preprocess import preprocess

    class Reader:
        def predict(self, image):
            return preprocess(image)  # opens the file as Predictor.predict does

    monkeypatch.setattr(predict.Predictor, "load", lambda *paths: Reader())
    monkeypatch.chdir(tmp_path)
    (tmp_path / "photos").mkdir()
    assert main(["predict", "./missing.png", "photos/"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "error: ./missing.png: file not found. Check the name and the folder.",
        "error: photos/ is a folder, not a picture. Choose a photo or scan inside it.",
    ]


def test_errors_and_help(tmp_path, capsys):
    missing = run_main(capsys, "evaluate", "--model", tmp_path / "none.keras")
    assert missing.returncode == 1 and "none.keras: model file not found" in missing.stderr
    bad_data = run_main(capsys, "train", "--quick", "--data-dir", tmp_path, "--output", tmp_path / "x.keras")
    assert bad_data.returncode == 1 and "train-images-idx3-ubyte.gz" in bad_data.stderr
    assert "Warning" not in bad_data.stdout, "auto precision needs no warning"
    emulated = run_main(capsys, "train", "--quick", "--precision", "mixed_float16", "--data-dir", tmp_path,
                        "--output", tmp_path / "x.keras")
    # The command goes on past the warning, to the data it then lacks.
    assert emulated.returncode == 1 and "train-images-idx3-ubyte.gz" in emulated.stderr
    warning = precision_warning("mixed_float16")  # on a machine with no GPU, float16 is emulated
    assert f"Warning: {warning}." in emulated.stdout if warning else "Warning" not in emulated.stdout
    # An unknown kind is refused before the data: here the missing MNIST would otherwise be the error.
    unknown_kind = run_main(capsys, "train-digit-check", "--weigh", "letters=3", "--data-dir", tmp_path,
                            "--output", tmp_path / "check.keras")
    assert unknown_kind.returncode == 1 and "each kind must be one of" in unknown_kind.stderr
    assert "train-images-idx3-ubyte.gz" not in unknown_kind.stderr
    for option, value, problem in (("--learning-rate", "0", "the learning rate must be a number between 0 and 1"),
                                   ("--output", tmp_path / "check.h5", "must end in .keras")):
        refused = run_main(capsys, "train-digit-check", "--data-dir", tmp_path, "--output",
                           tmp_path / "check.keras", option, value)
        assert refused.returncode == 1 and problem in refused.stderr, refused.stderr
        assert "train-images-idx3-ubyte.gz" not in refused.stderr
    help_texts = {command: run_main(capsys, command, "--help") for command in ("train", "evaluate", "predict")}
    assert all(text.returncode == 0 and "usage:" in text.stdout for text in help_texts.values())
    assert "--learning-rate" in help_texts["train"].stdout, "train lists every TrainConfig setting"
    assert run_cli("fly").returncode == 2  # and once in a process of its own, as a user types it


@pytest.mark.parametrize("option, value, exit_code, problem", [
    ("--epochs", "0", 1, "error: epochs must be a whole number from 1 to 1,000, not 0"),
    ("--epochs", "2.5", 2, "argument --epochs: invalid int value: '2.5'"),
    ("--epochs", "100000", 1, "error: epochs must be a whole number from 1 to 1,000, not 100000"),
    ("--seed", "-1", 1, "error: the seed must be a whole number from 0 to 4294967295, not -1"),
    ("--seed", str(2**32), 1, "error: the seed must be a whole number from 0 to 4294967295, not 4294967296"),
])
def test_train_digit_check_refuses_a_bad_option_before_any_work(tmp_path, capsys, option, value, exit_code,
                                                                 problem):
    """`--epochs 0` would train nothing and still write an untrained check over the pad's, by default. The ranges are
    the library's, in its words (they were stated twice, in two wordings)."""
    result = run_main(capsys, "train-digit-check", option, value, "--data-dir", tmp_path, "--output",
                      tmp_path / "check.keras")
    assert result.returncode == exit_code and problem in result.stderr, result.stderr
    assert "train-images-idx3-ubyte.gz" not in result.stderr, "refused before the data is even looked for"
    assert not (tmp_path / "check.keras").exists()


def test_train_refuses_to_replace_the_digit_check_before_the_data_is_looked_for(tmp_path, capsys):
    """The library refuses a run that would replace a model of the other kind; the command found it only after it
    had read (or downloaded) MNIST and printed "Training numvision_cnn on ..."."""
    from numvision_lib.model_card import DIGIT_CHECK_PATH

    check = tmp_path / DIGIT_CHECK_PATH.name
    shutil.copy(DIGIT_CHECK_PATH, check)
    shutil.copy(DIGIT_CHECK_PATH.with_suffix(".json"), check.with_suffix(".json"))
    result = run_main(capsys, "train", "--quick", "--data-dir", tmp_path / "no_mnist", "--output", check)
    assert result.returncode == 1
    assert "is a digit check, not a digit model: the trained model would replace it and its card" in result.stderr
    assert "Training" not in result.stdout and "MNIST" not in result.stderr
    assert check.read_bytes() == DIGIT_CHECK_PATH.read_bytes()


def test_help_and_usage_errors_answer_without_loading_tensorflow():
    """Loading TensorFlow takes seconds; asking for help or mistyping a command should not wait for it."""
    script = (
        "import sys\n"
        "from numvision_lib.__main__ import main\n"
        "for argv in (['--help'], ['evaluate', '--help'], ['fly'], [], ['train-digit-check', '--weigh', 'dots']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit as stop:\n"
        "        print(argv, stop.code)\n"
        "print('tensorflow loaded' if 'tensorflow' in sys.modules else 'tensorflow not loaded')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    outcomes = [line for line in result.stdout.splitlines() if line.startswith(("[", "tensorflow"))]
    assert outcomes == ["['--help'] 0", "['evaluate', '--help'] 0", "['fly'] 2", "[] 2",
                        "['train-digit-check', '--weigh', 'dots'] 2", "tensorflow not loaded"]
    assert "'dots': write KIND=FACTOR, for example scribbles=3" in result.stderr


class TrainCalled(Exception):
    """Stands in for a training run: what the command line would train, without its minutes."""


def test_train_without_output_writes_the_shipped_model_as_the_readme_says(monkeypatch, capsys):
    """The command line makes models/<architecture>.keras; `train` itself defaults to my_models/ instead. A quick
    run only checks that all works: it went over the shipped 10-epoch model that the notebooks read, and must not go
    over notebook 03's model, my_models/my_<architecture>.keras, either."""
    from numvision_lib import training
    from numvision_lib.__main__ import QUICK_RUNS_DIR, main
    from numvision_lib.model_card import my_model_path, shipped_model_path
    from numvision_lib.paths import project_relative

    def called(config, data, output=None, **options):
        raise TrainCalled(output)

    monkeypatch.setattr(training, "train", called)
    for options, architecture in [((), "numvision_cnn"), (("--architecture", "numvision_plus"), "numvision_plus")]:
        with pytest.raises(TrainCalled) as run:
            main(["train", "--epochs", "1", *options])
        assert run.value.args[0] == shipped_model_path(architecture)
        with pytest.raises(TrainCalled) as run:
            main(["train", "--quick", *options])
        quick_output = QUICK_RUNS_DIR / f"{architecture}.keras"
        assert run.value.args[0] == quick_output != my_model_path(architecture)
        assert (f"A quick run: the model goes to {project_relative(quick_output)}, not over the shipped one"
                in capsys.readouterr().out)
    with pytest.raises(TrainCalled) as run:
        main(["train", "--quick", "--output", "elsewhere.keras"])
    assert str(run.value.args[0]) == "elsewhere.keras"


def test_a_quick_digit_check_goes_to_my_models_not_over_the_pads(monkeypatch, capsys):
    from numvision_lib import not_a_digit
    from numvision_lib.__main__ import QUICK_DIGIT_CHECK_PATH, main
    from numvision_lib.model_card import DIGIT_CHECK_PATH
    from numvision_lib.paths import MY_MODELS_DIR, project_relative

    def called(mnist, output, **options):
        raise TrainCalled(output)

    monkeypatch.setattr(not_a_digit, "train_digit_check", called)
    assert QUICK_DIGIT_CHECK_PATH.is_relative_to(MY_MODELS_DIR) and QUICK_DIGIT_CHECK_PATH != DIGIT_CHECK_PATH
    for options, written in [(["--quick"], QUICK_DIGIT_CHECK_PATH), ([], DIGIT_CHECK_PATH)]:
        with pytest.raises(TrainCalled) as run:
            main(["train-digit-check", *options])
        assert run.value.args[0] == written
        printed = capsys.readouterr().out
        assert (f"A quick run: the check goes to {project_relative(QUICK_DIGIT_CHECK_PATH)}, not over the pad's"
                in printed) == (written == QUICK_DIGIT_CHECK_PATH)


def test_a_handwriting_folder_without_real_handwriting_is_refused_before_any_work(monkeypatch, tmp_path, capsys):
    """It was ignored, even a folder that does not exist: an MNIST-only model for a user who meant UNIPEN."""
    from numvision_lib import data
    from numvision_lib.__main__ import main

    def no_mnist(*args):
        raise AssertionError("MNIST was read before the options were checked")

    monkeypatch.setattr(data, "load_mnist", no_mnist)
    assert main(["train", "--quick", "--handwriting-dir", str(tmp_path)]) == 1
    assert ("error: --handwriting-dir, a UNIPEN folder, is read only by a run on real handwriting (--real-handwriting "
            "unipen): choose that too, or leave the folder out" in capsys.readouterr().err)
    assert main(["train", "--quick", "--real-handwriting", "unipen", "--handwriting-dir", str(tmp_path / "no")]) == 1
    assert f"error: {tmp_path / 'no'}: UNIPEN folder not found" in capsys.readouterr().err


@pytest.mark.parametrize("arguments, problem", [
    # Read MNIST (or downloaded it) and said "Training ..." first.
    (["train", "--quick", "--output", "x.h5"], "error: x.h5: the output model file must end in .keras"),
    (["train-digit-check", "--continue-from", "nothere.keras"], "error: nothere.keras: model file not found"),
    # The library's messages name settings as Python does; the command line's name its options.
    (["train", "--quick", "--patience", "-1"], "error: invalid TrainConfig: --patience must be at least 0"),
    (["train", "--quick", "--handwriting-styles"],
     "error: --handwriting-styles draws real handwriting: it needs --real-handwriting unipen"),
    # Trained on MNIST alone, its card recording five copies of real handwriting never drawn.
    (["train", "--quick", "--handwriting-copies", "5"], "--handwriting-copies draws real handwriting: it needs "
                                                        "--real-handwriting unipen"),
    # 3 is the default, which TrainConfig cannot tell from no option: it was accepted, and the run trained on MNIST.
    (["train", "--quick", "--handwriting-copies", "3"], "error: --handwriting-copies draws real handwriting: it needs "
                                                        "--real-handwriting unipen"),
    (["train", "--quick", "--min-learning-rate", "0.01"],
     "--min-learning-rate must be between 0 and --learning-rate"),
    (["train-digit-check", "--continue-from", "models/numvision_cnn.keras"],
     "error: --continue-from needs the digit check, with one score; numvision_cnn gives 10 outputs"),
], ids=lambda value: " ".join(value) if isinstance(value, list) else "")
def test_every_option_is_checked_before_mnist_is_read_and_named_as_an_option(monkeypatch, capsys, tmp_path,
                                                                            arguments, problem):
    from numvision_lib import data, not_a_digit, training
    from numvision_lib.__main__ import main
    from numvision_lib.paths import PROJECT_ROOT

    def no_mnist(*args):
        raise AssertionError("MNIST was read before the options were checked")

    monkeypatch.setattr(data, "load_mnist", no_mnist)
    monkeypatch.setattr(training, "train", no_mnist)
    monkeypatch.setattr(not_a_digit, "train_digit_check", no_mnist)
    monkeypatch.chdir(PROJECT_ROOT)
    assert main([*arguments, *(["--output", str(tmp_path / "x.keras")] if "--output" not in arguments else [])]) == 1
    assert problem in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_quick_digit_check_trains_the_epochs_it_is_given(monkeypatch):
    """`--quick --epochs 3` trained one epoch without a word, where `train --quick --epochs 3` trains three."""
    from numvision_lib import not_a_digit
    from numvision_lib.__main__ import main

    def called(mnist, output, **options):  # a run not refused must not train over the pad's check
        raise TrainCalled(options["epochs"], options["quick"])

    monkeypatch.setattr(not_a_digit, "train_digit_check", called)
    for options, given in [(["--epochs", "3"], (3, True)), ([], (None, True))]:
        with pytest.raises(TrainCalled) as run:
            main(["train-digit-check", "--quick", *options])
        assert run.value.args == given


def test_a_kind_weighed_twice_is_refused_and_the_checks_options_show_their_defaults(monkeypatch, capsys):
    """The last factor was kept without a word, and --help showed a bare --epochs EPOCHS, --seed SEED and
    --learning-rate LEARNING_RATE."""
    from numvision_lib import not_a_digit
    from numvision_lib.__main__ import main

    def called(mnist, output, **options):  # a run not refused must not train over the pad's check
        raise TrainCalled(output)

    monkeypatch.setattr(not_a_digit, "train_digit_check", called)
    assert main(["train-digit-check", "--weigh", "scribbles=3", "--weigh", "dots=2", "--weigh", "scribbles=0.5"]) == 1
    assert ("error: --weigh gives each kind one factor; scribbles is given more than once"
            in capsys.readouterr().err)
    with pytest.raises(SystemExit):
        main(["train-digit-check", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    for default in ("(default: 4; with --quick, 1)", "(default: 42)",
                    "(default: 0.001; 1e-4 to train on with --continue-from)"):
        assert default in shown


def test_a_model_given_with_a_tilde_after_an_equals_sign_is_read_from_the_home_folder(tmp_path, monkeypatch, capsys,
                                                                                      shipped_model_path, mnist):
    """Bash leaves `--model=~/m.keras` as it is: a model in the home folder was "not found", to be trained again."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(shipped_model_path, home / "numvision_cnn.keras")
    picture = tmp_path / "digit.png"
    Image.fromarray(255 - mnist.x_test[0]).resize((112, 112)).save(picture)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    result = run_main(capsys, "predict", "--no-digit-check", "--model=~/numvision_cnn.keras", picture)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{picture}: {mnist.y_test[0]} (")
    assert not (tmp_path / "~").exists()


def test_a_model_path_without_keras_is_told_to_add_it(monkeypatch, capsys):
    """It was told "Train the model again, or restore the file from git"."""
    from numvision_lib.paths import PROJECT_ROOT

    monkeypatch.chdir(PROJECT_ROOT)
    result = run_main(capsys, "predict", "--no-digit-check", "--model", "models/numvision_cnn", "digit.png")
    assert result.returncode == 1
    assert result.stderr == ("error: models/numvision_cnn: model file not found. Check the name: "
                             "models/numvision_cnn.keras is there, with .keras at the end.\n")


def test_data_folder_errors_name_the_options_and_the_variable_that_chose_the_folder(tmp_path, monkeypatch, capsys,
                                                                                    shipped_model_path):
    """A terminal user was told to "pass data_dir=", and of a folder that $NUMVISION_HANDWRITING_DIR chose, neither
    that it chose it nor anything but to set it."""
    missing = run_main(capsys, "evaluate", "--data-dir", tmp_path / "nowhere")
    assert missing.stderr == (f"error: {tmp_path / 'nowhere'}: MNIST folder not found. Give the folder of the four "
                              "MNIST IDX files (data_dir= in Python, --data-dir on the command line).\n")
    # A copy, whose card calibrate may write: the shipped one stays as it is.
    model = tmp_path / "model" / shipped_model_path.name
    model.parent.mkdir()
    for path in (shipped_model_path, shipped_model_path.with_suffix(".json")):
        shutil.copy(path, model.parent / path.name)
    empty = tmp_path / "empty"
    empty.mkdir()
    given = run_main(capsys, "calibrate", "--model", model, "--handwriting-dir", empty)
    assert given.returncode == 1
    assert given.stderr.startswith(f"error: {empty}: digits.ndjson.gz (or digits.ndjson) is missing. Give the folder "
                                   "that holds digits.ndjson.gz (data_dir= in Python, --handwriting-dir on the command "
                                   "line).")
    monkeypatch.setenv("NUMVISION_HANDWRITING_DIR", str(empty))
    chosen = run_main(capsys, "calibrate", "--model", model)
    assert chosen.returncode == 1
    assert chosen.stderr.startswith(f"error: {empty} (from $NUMVISION_HANDWRITING_DIR): digits.ndjson.gz (or "
                                    "digits.ndjson) is missing. ")
    assert "set NUMVISION_HANDWRITING_DIR=" not in chosen.stderr and "Give the folder" not in chosen.stderr

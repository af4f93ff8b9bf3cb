import dataclasses
import re

import keras
import numpy as np
import pytest

from numvision_lib import tables
from numvision_lib.errors import ConfigError
from numvision_lib.model import build_numvision_cnn
from numvision_lib.training import TrainConfig


def test_array_summary_and_class_counts():
    images = np.zeros((20, 28, 28), np.uint8)
    images[0, 0, 0] = 255
    labels = np.arange(20, dtype=np.uint8) % 10
    text = tables.array_summary(x=images, y=labels, f=images / 255.0)
    assert re.search(r"x\s+\(20, 28, 28\)\s+uint8\s+0\s+255", text)
    assert re.search(r"y\s+\(20,\)\s+uint8\s+0\s+9", text)
    assert re.search(r"f\s+\(20, 28, 28\)\s+float64\s+0\s+1", text)
    table = tables.class_count_table(labels, labels[:10])
    assert re.search(r"^3\s+2\s+10.0%\s+1\s+10.0%$", table, re.MULTILINE)
    assert re.search(r"^all\s+20\s+100.0%\s+10\s+100.0%$", table, re.MULTILINE)


def test_array_summary_of_an_empty_array_has_no_range():
    text = tables.array_summary(x=np.zeros((0, 28), np.float32), y=np.zeros(0, int))
    assert re.search(r"x\s+\(0, 28\)\s+float32\s+-\s+-$", text, re.MULTILINE)
    assert re.search(r"y\s+\(0,\)\s+int64\s+-\s+-$", text, re.MULTILINE)


def test_array_summary_names_what_is_not_an_array_of_numbers():
    """Each was a raw NumPy or Python error, or a row of None as shape () and object."""
    example = r"array_summary shows arrays of numbers, such as array_summary\(x_train=data\.x_train\); "
    for given, shown in (([[1, 2], [3]], "x has rows of different lengths"), (None, "x is None"),
                         (np.array(["a", "b"]), "x is an array of <U1"), ({"a": 1}, "x is {'a': 1}")):
        with pytest.raises(ConfigError, match=example + re.escape(shown) + "$"):
            tables.array_summary(x=given)
    with pytest.raises(ConfigError, match=r"arrays each given by name, such as array_summary\(x_train=data\.x_train\); "
                                          r"1 given without a name"):
        tables.array_summary(np.zeros(3))
    assert re.search(r"x\s+\(2,\)\s+bool\s+False\s+True", tables.array_summary(x=[True, False]))


def _evaluate_formula(formula: str) -> int:
    arithmetic = formula.split("(")[0].replace("×", "*").replace(",", "")
    return eval(arithmetic, {"__builtins__": {}})  # digits, *, + only


def test_parameter_table_explains_every_reference_parameter():
    table = tables.parameter_table(build_numvision_cnn())
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
    table = tables.parameter_table(keras.Model(inputs, x))
    bn = next(row for row in table.rows if row.name == "bn")
    assert bn.parameters == 16 and bn.formula == "4×4  (scale, shift trainable; mean, variance not)"
    assert table.total == 36 + 16 and table.trainable == 36 + 8
    assert table.rows[0].formula.startswith("3×3×1×4  (kernel)")


@pytest.mark.parametrize("settings, formula", [
    ({"center": False}, "3×8  (scale trainable; mean, variance not)"),
    ({"scale": False}, "3×8  (shift trainable; mean, variance not)"),
    ({"center": False, "scale": False}, "2×8  (mean, variance not trainable)"),
    ({"trainable": False}, "4×8  (scale, shift, mean, variance not trainable)"),
])
def test_the_batch_normalisation_formula_counts_the_weights_the_layer_has(settings, formula):
    """It said 4×8 for every batch normalisation, beside a count of 24 for one without its shift."""
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(8, 3, use_bias=False)(inputs)
    x = keras.layers.BatchNormalization(name="bn", **settings)(x)
    table = tables.parameter_table(keras.Model(inputs, x))
    bn = next(row for row in table.rows if row.name == "bn")
    assert bn.formula == formula and _evaluate_formula(bn.formula) == bn.parameters


def test_config_table_and_run_length():
    table = tables.config_table(TrainConfig(), skip=("epochs", "max_train_samples"))
    settings = [line.split()[0] for line in table.splitlines()[2:]]
    assert "epochs" not in settings and "max_train_samples" not in settings
    assert len(settings) == len(dataclasses.fields(TrainConfig)) - 2
    assert re.search(r"^learning_rate\s+0.001\s+", table, re.MULTILINE)
    assert re.search(r"^dropout\s+None\s+share of units the dropout layers switch off", table, re.MULTILINE)
    assert tables.describe_run_length(TrainConfig(), 60_000) == "Full run: up to 10 epochs on all 54,000 training images."
    assert tables.describe_run_length(TrainConfig.quick(), 60_000).startswith("QUICK run: up to 1 epoch on 3,000 of")


def test_the_run_length_is_of_the_run_the_config_trains():
    """Only the quick settings are a quick run; the validation images are counted as the split counts them (its
    share read from the config, rounded up); and real handwriting is named: a run that added 20,778 drawings to
    54,000 images was said to train on 54,000."""
    assert (tables.describe_run_length(TrainConfig(max_train_samples=20_000), 60_000)
            == "Subset run: up to 10 epochs on 20,000 of the 54,000 training images.")
    assert (tables.describe_run_length(TrainConfig(validation_fraction=0.0333), 60_000)
            == "Full run: up to 10 epochs on all 58,001 training images.")
    assert (tables.describe_run_length(TrainConfig(real_handwriting="unipen", epochs=16), 60_000)
            == "Full run: up to 16 epochs on all 54,000 MNIST training images, and 3 drawings of every digit by "
               "UNIPEN's training writers.")
    assert (tables.describe_run_length(TrainConfig.quick(real_handwriting="unipen", handwriting_copies=1), 60_000)
            == "QUICK run: up to 1 epoch on 3,000 of the 54,000 MNIST training images, and 1 drawing of each of up "
               "to 3,000 digits (at most 300 of each digit) by UNIPEN's training writers.")


@pytest.mark.parametrize("architecture", sorted(__import__("numvision_lib.model", fromlist=["x"]).ARCHITECTURES))
def test_parameter_table_adds_up_for_every_architecture(architecture):
    from numvision_lib.model import build_model

    model = build_model(architecture)
    table = tables.parameter_table(model)
    assert sum(row.parameters for row in table.rows) == table.total == model.count_params()
    for row in table.rows:
        assert _evaluate_formula(row.formula) == row.parameters if row.parameters else row.formula == "no weights", row


def test_the_formula_of_a_model_used_as_a_layer_counts_every_weight():
    """Keyed by name, the convolution's kernel and bias gave way to the dense layer's: 5408×10 + 10 for 54,170."""
    features = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3), keras.layers.Flatten(),
                                 keras.layers.Dense(10)], name="features")
    table = tables.parameter_table(keras.Sequential([keras.Input((28, 28, 1)), features, keras.layers.Softmax()]))
    row = table.rows[0]
    assert row.formula == "3×3×1×8 + 8 + 5408×10 + 10"
    assert _evaluate_formula(row.formula) == row.parameters == 54_170


def test_a_model_written_as_a_subclass_shows_its_parameters_without_output_shapes():
    """Its layers have no symbolic output: that was a raw AttributeError."""

    class Network(keras.Model):
        def __init__(self):
            super().__init__()
            self.convolution, self.dense = keras.layers.Conv2D(8, 3), keras.layers.Dense(10)

        def call(self, images):
            return self.dense(keras.ops.reshape(self.convolution(images), (-1, 26 * 26 * 8)))

    network = Network()
    network(np.zeros((1, 28, 28, 1), np.float32))
    table = tables.parameter_table(network)
    assert [(row.output_shape, row.parameters) for row in table.rows] == [("?", 80), ("?", 54_090)]
    assert str(table).splitlines()[-1] == ("?: a model written as a subclass of keras.Model shows no output shapes; "
                                           "one made of keras.Input(shape=(28, 28, 1)) and layers does")
    assert "?:" not in str(tables.parameter_table(build_numvision_cnn()))


def test_source_code_shows_the_definition_itself():
    from numvision_lib.model import build_numvision_cnn

    source = tables.source_code(build_numvision_cnn)
    assert source.startswith("def build_numvision_cnn(")
    assert 'keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv1")' in source


def test_real_handwriting_table_puts_models_side_by_side():
    report = {"accuracy": 0.75, "samples": 4,
              "by_digit": {"1": {"accuracy": 0.5, "samples": 2}, "7": {"accuracy": 1.0, "samples": 2}}}
    better = {**report, "accuracy": 1.0, "by_digit": {"1": {"accuracy": 1.0, "samples": 2},
                                                      "7": {"accuracy": 1.0, "samples": 2}}}
    table = tables.real_handwriting_table({"before": report, "after": better})
    assert table.splitlines()[0].split() == ["digit", "drawings", "before", "after"]
    assert re.search(r"^1\s+2\s+50.0%\s+100.0%$", table, re.MULTILINE)
    assert re.search(r"^all\s+4\s+75.0%\s+100.0%$", table, re.MULTILINE)
    with pytest.raises(ConfigError, match="no section 'by_rendering': choose one of by_digit"):
        tables.real_handwriting_table({"before": report}, "by_rendering")


def _real_handwriting_report(answers: dict[str, list[int]], labels=(1, 2)) -> dict:
    from numvision_lib.evaluation import score_real_handwriting
    from numvision_lib.handwriting import RenderedDigits

    writers = np.array([f"apa/{index}" for index in range(len(labels))])
    drawn = RenderedDigits(np.zeros((len(labels), 28, 28), np.float32), np.array(labels), writers,
                           np.array(["apa"] * len(labels)))
    return score_real_handwriting({name: np.eye(10)[read] for name, read in answers.items()},
                                  {name: drawn for name in answers})


def test_reports_on_different_drawings_are_not_put_side_by_side():
    """One column of drawings stands for every model: a report on more drawings (another rendering too), on other
    digits, or on the same digits drawn with another pen, would be compared as if on the same ones."""
    one_pen = _real_handwriting_report({"pen_20": [1, 2]})
    two_pens = _real_handwriting_report({"pen_20": [1, 2], "pen_12": [7, 7]})
    with pytest.raises(ConfigError, match=r"measured on different drawings \('A': 2, 'B': 4\), so one column of "
                                          r"drawings cannot stand for them all: score every model on the same"):
        tables.real_handwriting_table({"A": one_pen, "B": two_pens})
    for other, differs in ((_real_handwriting_report({"pen_20": [1, 3]}, labels=(1, 3)), "digits"),
                           (_real_handwriting_report({"pen_12": [1, 2]}), "renderings")):
        with pytest.raises(ConfigError, match=rf"\('A': 2, 'B': 2, as many but not the same {differs}\)"):
            tables.real_handwriting_table({"A": one_pen, "B": other}, "by_digit")
    same = tables.real_handwriting_table({"A": one_pen, "B": _real_handwriting_report({"pen_20": [1, 1]})})
    assert re.search(r"^2\s+1\s+100.0%\s+0.0%$", same, re.MULTILINE)
    for given, message in (([one_pen], "not a list"), (one_pen, "not one report alone"),
                           ({"A": 0.9}, "'A' is not a real-handwriting report \\(a float")):
        with pytest.raises(ConfigError, match=message):
            tables.real_handwriting_table(given)


def test_odd_arguments_get_a_plain_error_instead_of_a_raw_one():
    """What a student might pass: float labels from a CSV (fine), a label 11, no test images, a model's name for
    the model, a function's name for the function, no reports."""
    from numvision_lib.fine_tuning import FineTuneSettings

    labels = np.arange(20) % 10
    assert tables.class_count_table(labels.astype(float), labels) == tables.class_count_table(labels, labels)
    with pytest.raises(ConfigError, match=r"labels are the digits 0-9; these also hold \[11\]"):
        tables.class_count_table(np.append(labels, 11), labels)
    with pytest.raises(ConfigError, match="no test images to count"):
        tables.class_count_table(labels, np.zeros(0, int))
    with pytest.raises(ConfigError, match=r"give one label per image: 1 images, but labels of shape \(\)"):
        tables.class_count_table(5, labels)
    with pytest.raises(ConfigError, match=r"takes a Keras model, such as build_model\('numvision_cnn'\) .* not a str"):
        tables.parameter_table("numvision_cnn")
    unbuilt = keras.Sequential([keras.layers.Conv2D(2, 3), keras.layers.Flatten(), keras.layers.Dense(10)])
    with pytest.raises(ConfigError, match=r"this model has no shapes yet.*model\.build\(\(None, 28, 28, 1\)\)"):
        tables.parameter_table(unbuilt)
    for config in ({"epochs": 3}, TrainConfig):  # a dict, or the class without its brackets
        with pytest.raises(ConfigError, match=r"config_table shows a settings object, such as TrainConfig\(\)"):
            tables.config_table(config)
    with pytest.raises(ConfigError, match=r"no Python source to show for 'build_model': give the function itself"):
        tables.source_code("build_model")
    with pytest.raises(ConfigError, match="no reports to compare"):
        tables.real_handwriting_table({})
    # Anything but a TrainConfig was a raw AttributeError, and the class itself was described as its defaults.
    for config, shown in ((FineTuneSettings(), "FineTuneSettings"), (None, "NoneType"), ({"epochs": 3}, "dict"),
                          (TrainConfig, "the class TrainConfig")):
        with pytest.raises(ConfigError, match=rf"^config is a TrainConfig, such as TrainConfig\.quick\(epochs=2\) .*"
                                              rf"not {shown}$"):
            tables.describe_run_length(config, 60_000)
    for total in (-90, 0, 54_000.5, "60000", None):
        with pytest.raises(ConfigError, match=rf"total_train_images is how many training images there are, .* not "
                                              rf"{re.escape(repr(total))}$"):
            tables.describe_run_length(TrainConfig(), total)

"""The self-checking exercises: each right answer passes (the shipped solution, run as a student would), typical
wrong answers get their own message, untouched answers are "not attempted", and the stored notebooks show that state.
"""
from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from numvision_lib.errors import ConfigError
from numvision_lib.exercises import (CORRECT, EXERCISES, NOT_ATTEMPTED, WRONG, Feedback, Question, _rounded,
                                     setup_exercises)

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
CHECK_CALL = re.compile(r"^q(\d+)\.check\(\)", re.MULTILINE)


def crossed_sevens_reports() -> dict:
    """Notebook 06's `reports` after section 4's crossed 7s: both models on the validation writers' 7s, crossed in
    one movement, drawn with the pad's default pen as the benchmarks draw it."""
    from numvision_lib.evaluation import evaluate
    from numvision_lib.handwriting import MEASUREMENT_SEED, WRITING_STYLES, digit_split, render_model_inputs
    from numvision_lib.model import load_model
    from numvision_lib.model_card import shipped_model_path

    digit, restyle = WRITING_STYLES["7, crossbar, pen kept down"]
    sevens = [sample for sample in digit_split()["validation"] if sample.digit == digit]
    drawings = render_model_inputs(sevens, "pen_20", seed=MEASUREMENT_SEED, restyle=restyle)
    models = {"MNIST only": shipped_model_path("numvision_plus"),
              "the pad's model": shipped_model_path("numvision_plus_real")}
    return {name: evaluate(load_model(path), drawings.model_inputs, drawings.labels) for name, path in models.items()}


@pytest.fixture(scope="module")
def notebook_namespaces(mnist):
    """What each notebook has defined by the time its exercises run (the names the solutions use)."""
    from numvision_lib import explain
    from numvision_lib.data import to_model_input
    from numvision_lib.drawn_digits import template_strokes
    from numvision_lib.evaluation import evaluate
    from numvision_lib.hardware import TrainingSpeed
    from numvision_lib.model import load_model
    from numvision_lib.model_card import pad_model_path, reference_model_path
    from numvision_lib.preprocess import preprocess

    means = np.stack([mnist.x_train[mnist.y_train == d].mean(axis=0) for d in range(10)]).astype(np.float32)
    x = mnist.x_test[:2000].astype(np.float32)
    reference = load_model(reference_model_path())
    return {
        1: {"np": np, "data": mnist, "to_model_input": to_model_input,
            "model_input": to_model_input(mnist.x_train[:1000]),
            "distances": ((x[:, None] - means[None]) ** 2).sum(axis=(2, 3))},
        # 3,000 images per second: one epoch of 54,000 images is 18 s, ten are 3 minutes.
        2: {"speed": TrainingSpeed(batch_size=128, steps=20, seconds_per_step=128 / 3000, flops_per_image=36_000_000)},
        3: {},
        # As in notebook 04 when no model of one's own has been trained: `report` is the reference model's.
        4: {"data": mnist, "load_model": load_model, "reference_model_path": reference_model_path,
            "evaluate": evaluate, "report": evaluate(reference, mnist.x_test, mnist.y_test)},
        5: {},
        6: {"reports": crossed_sevens_reports()},
        7: {"layers": explain.feature_maps(load_model(pad_model_path()),
                                           preprocess(template_strokes(7)))},
        8: {},
        9: {},
    }


def sure_and_wrong(report) -> np.ndarray:
    return (report.confidences >= 0.9) & ~report.correct


def question(notebook: int, number: int, namespace: dict) -> Question:
    (exercise,) = [exercise for exercise in EXERCISES[notebook] if exercise.number == number]
    return Question(exercise, namespace)


def answered(notebook: int, number: int, answer, namespaces: dict):
    q = question(notebook, number, dict(namespaces[notebook]))
    q.namespace[q.exercise.variable] = answer
    return q.feedback()


ALL = [(notebook, exercise.number) for notebook, exercises in EXERCISES.items() for exercise in exercises]


@pytest.mark.parametrize("notebook, number", ALL, ids=[f"{n:02d}-q{q}" for n, q in ALL])
def test_the_solution_run_in_the_notebook_passes_its_check(notebook, number, notebook_namespaces, capsys):
    q = question(notebook, number, dict(notebook_namespaces[notebook]))
    q.solution()
    printed = capsys.readouterr().out
    assert printed.startswith("Solution: ")
    exec(q.exercise.solution, q.namespace)  # noqa: S102 - the solution is code a student would paste
    feedback = q.feedback()
    assert feedback.status == CORRECT, feedback.message
    q.check()
    assert capsys.readouterr().out.startswith("Correct: ")


@pytest.mark.parametrize("notebook, number", ALL, ids=[f"{n:02d}-q{q}" for n, q in ALL])
def test_an_untouched_answer_is_not_attempted(notebook, number, notebook_namespaces):
    q = question(notebook, number, dict(notebook_namespaces[notebook]))
    missing = q.feedback()
    name = q.exercise.variable
    # The whole message, so that nothing of the answer can be in it.
    assert missing == Feedback(NOT_ATTEMPTED, f"`{name}` is not set: run the cell that sets it, with your answer.")
    for placeholder, shown in ((None, "None"), (..., "...")):
        q.namespace[name] = placeholder
        assert q.feedback() == Feedback(NOT_ATTEMPTED, f"replace the {shown} in `{name} = {shown}` with "
                                                       f"{q.exercise.expects}, then run the cell again.")


def _wrong_nearest_mean(namespaces):
    return namespaces[1]["distances"].argmax(axis=1)


# (notebook, exercise, a typical wrong answer or a function of the namespaces giving one, part of its message)
TYPICAL_MISTAKES = [
    (1, 1, 1, "most common digit"),
    (1, 1, 3, "one digit has fewer"),
    (1, 1, 12, "from 0 to 9"),
    (1, 3, _wrong_nearest_mean, "farthest"),
    (1, 3, lambda namespaces: namespaces[1]["distances"].min(axis=1), "not distances"),
    (1, 3, lambda namespaces: namespaces[1]["distances"].argmin(axis=0), "Which axis"),
    (1, 3, lambda namespaces: np.zeros(2000, int), "are not the digit with the smallest distance"),
    (1, 3, lambda namespaces: namespaces[1]["distances"].argmin(axis=1, keepdims=True), "Flatten it (`.ravel()`)"),
    (1, 4, 1.0, "after scaling once"),
    (1, 4, 255, "original uint8"),
    (1, 4, 0.0, "the minimum"),
    (2, 4, 0.3, "that is one epoch"),
    (2, 4, 180.0, "in seconds"),
    (2, 4, 10 * 60_000 / 3000 / 60, "6,000 are kept for validation"),
    (2, 5, {"laptop with one GPU": "MirroredStrategy", "server with four GPUs": "MirroredStrategy",
            "two computers in TF_CONFIG": "MultiWorkerMirroredStrategy"}, "nothing to mirror"),
    (2, 5, {"laptop with one GPU": "default", "server with four GPUs": "MultiWorkerMirroredStrategy",
            "two computers in TF_CONFIG": "MirroredStrategy"}, "only the devices of its own computer"),
    (2, 5, {"laptop with one GPU": None, "server with four GPUs": "MirroredStrategy",
            "two computers in TF_CONFIG": None}, "fill in a strategy for: laptop with one GPU, two computers"),
    (2, 5, {"a laptop": "default"}, "keep the dictionary's three keys"),
    (2, 6, 128, "all replicas together"),
    (2, 6, 512, "four times the batch"),
    (3, 4, "b", "hardly any time"),
    (3, 4, "c", "not ignored"),
    (3, 4, "d", "one of the letters"),
    (3, 6, 1, "does not start from scratch"),
    (3, 6, 4, "had not finished"),
    (3, 6, 2, "epoch 2 had finished"),
    (3, 7, 421, "round up"),
    (3, 7, 421.875, "round up"),
    (3, 7, 469, "6,000 are kept for validation"),
    (3, 7, 468.75, "6,000 are kept for validation"),  # both slips at once: all 60,000 images, not rounded up
    (3, 7, 24, "a quick run's 3,000 training images"),  # what the training cell prints in quick mode
    (3, 7, 23, "a quick run's 3,000 training images"),
    (4, 1, lambda namespaces: namespaces[4]["report"].accuracy * 100, "is a percentage"),
    (4, 1, 0.5, "is not the shipped model's test accuracy"),
    (4, 3, lambda namespaces: int((namespaces[4]["report"].confidences < 0.9).sum()), "how many images"),
    (4, 3, lambda namespaces: (namespaces[4]["report"].confidences < 0.9).mean() * 100, "is a percentage"),
    (4, 3, lambda namespaces: (namespaces[4]["report"].confidences >= 0.9).mean(), "the share the model is sure of"),
    (5, 3, 7, "index 7 is a drawing of a 0"),
    (5, 3, 77, "index 77 is a 7, but not the first"),
    (5, 3, 71, "Python counts from 0"),
    (5, 3, 100, "from 0 to 99"),
    (5, 6, "b", "as one drawing"),
    (5, 6, "c", "before the network sees anything"),
    (6, 3, "a", "not harder"),
    (6, 3, "c", "many models are compared"),
    (6, 8, lambda namespaces: 1 - namespaces[6]["reports"]["the pad's model"].accuracy, "that is every mistake"),
    (6, 8, lambda namespaces: 100 * sure_and_wrong(namespaces[6]["reports"]["the pad's model"]).mean(),
     "is a percentage"),
    (6, 8, lambda namespaces: int(sure_and_wrong(namespaces[6]["reports"]["the pad's model"]).sum()),
     "how many drawings"),
    (6, 8, lambda namespaces: sure_and_wrong(namespaces[6]["reports"]["MNIST only"]).mean(), "MNIST-only model's"),
    (6, 8, lambda namespaces: sure_and_wrong(namespaces[6]["reports"]["the pad's model"]).sum()
     / len(namespaces[6]["reports"]["the pad's model"].mistakes), "share of the mistakes"),
    (6, 9, "a", "digits misread by one rendering and read right by the others"),
    (6, 9, "c", "not that the label is wrong"),
    (7, 1, 9, "one 3x3 grid"),
    (7, 1, 3 * 3 * 64, "64 is how many filters block2_conv1 has, the maps it makes, which the next convolution reads"),
    (7, 1, 3 * 3 * 32 * 64, "every filter of the layer together"),
    (7, 1, 289, "no bias"),
    (7, 6, "a", "usually not zero"),
    (7, 6, "b", "a different method"),
    (8, 1, "b", "the sizes are the same"),
    (8, 1, "c", "nothing removes either"),
    (9, 3, "b", "nothing is chosen on the held-out students"),
    (9, 3, "c", "any number of held-out students works"),
]


@pytest.mark.parametrize("notebook, number, answer, message", TYPICAL_MISTAKES,
                         ids=[f"{n:02d}-q{q}-{m[:20]}" for n, q, _, m in TYPICAL_MISTAKES])
def test_a_typical_wrong_answer_gets_its_own_message(notebook, number, answer, message, notebook_namespaces):
    if callable(answer):
        answer = answer(notebook_namespaces)
    feedback = answered(notebook, number, answer, notebook_namespaces)
    # Only a strategy left at None is not attempted yet; every other typical answer is a mistake.
    unfinished = isinstance(answer, dict) and None in answer.values()
    assert feedback.status == (NOT_ATTEMPTED if unfinished else WRONG) and message in feedback.message, feedback


def test_every_exercise_has_a_typical_mistake_tested():
    tested = {(notebook, number) for notebook, number, _, _ in TYPICAL_MISTAKES}
    assert tested == set(ALL)


# Wrong answers beside the typical mistakes, for the exercises whose answer is one number: neighbours, the ends of
# the range and beyond it, rough guesses.
MORE_WRONG_NUMBERS = {
    (1, 1): [0, 9, 10, 5.5],
    (1, 4): [0.5, 1 / 255 ** 2],
    (2, 4): [4, 30.0, 0.5],
    (2, 6): [16, 64, 4],
    (3, 6): [0, 5, 6, 10, 11, 2.5],
    (3, 7): [420, 423, 54_000],
    (4, 1): [0.9, 1],
    (4, 3): [0.5, 1],
    (5, 3): [0, 69, 79, 99],
    (6, 8): [0.5, 1],
    (7, 1): [32, 64, 3],
}
ONE_LETTER = [(notebook, exercise.number) for notebook, exercises in EXERCISES.items() for exercise in exercises
              if re.fullmatch(r"\w+ = '\w'", exercise.solution)]
ONE_NUMBER_OR_LETTER = sorted({*MORE_WRONG_NUMBERS, *ONE_LETTER})


def test_every_exercise_answered_with_one_number_or_letter_is_checked_for_naming_the_right_one():
    assert set(ALL) - set(ONE_NUMBER_OR_LETTER) == {(1, 3), (2, 5)}, "01-q3 is answered with code, 02-q5 with a dict"


def written_forms(truth) -> list[str]:
    """How a message could name the right answer: a letter quoted or in brackets, a number as a count, to 2-4
    decimals or as a percentage."""
    if isinstance(truth, str):
        return [f"'{truth}'", f'"{truth}"', f"({truth})"]
    forms = [f"{truth:.{decimals}f}" for decimals in (2, 3, 4)] + [f"{truth:.1%}", f"{truth:.2%}"]
    if float(truth).is_integer():
        forms.append(str(int(truth)))
    return [form for form in forms if float(form.rstrip("%")) != 0]


@pytest.mark.parametrize("notebook, number", ONE_NUMBER_OR_LETTER,
                         ids=[f"{n:02d}-q{q}" for n, q in ONE_NUMBER_OR_LETTER])
def test_no_wrong_answer_names_the_right_one(notebook, number, notebook_namespaces):
    """03-q6 told every epoch number outside 1-4 "('Epoch 3/10' is 3)", the answer, as if the student had only written
    it wrongly."""
    q = question(notebook, number, dict(notebook_namespaces[notebook]))
    exec(q.exercise.solution, q.namespace)  # noqa: S102 - the stored solution gives the right answer
    truth = q.namespace[q.exercise.variable]
    if isinstance(truth, str):
        wrong_answers = [letter for letter in re.findall(r"'(\w)'", q.exercise.expects) if letter != truth]
    else:
        typical = [answer for n, e, answer, _ in TYPICAL_MISTAKES if (n, e) == (notebook, number)]
        wrong_answers = [answer(notebook_namespaces) if callable(answer) else answer
                         for answer in typical + MORE_WRONG_NUMBERS[notebook, number]]
    for answer in wrong_answers:
        feedback = answered(notebook, number, answer, notebook_namespaces)
        assert feedback.status == WRONG, (answer, feedback)
        for form in written_forms(truth):
            assert not re.search(rf"(?<![\w.,]){re.escape(form)}(?!\w|[.,]\d)", feedback.message), (
                answer, form, feedback)


@pytest.mark.parametrize("machine, slip", [("laptop with one GPU", "MirroredStrategy"),
                                           ("server with four GPUs", "MultiWorkerMirroredStrategy"),
                                           ("two computers in TF_CONFIG", "MirroredStrategy")])
def test_a_wrong_strategy_is_not_told_the_right_one(machine, slip, notebook_namespaces):
    """The laptop's MirroredStrategy was told that "the default strategy trains on it directly", that row's answer."""
    q = question(2, 5, {})
    exec(q.exercise.solution, q.namespace)  # noqa: S102 - the stored solution gives the right answers
    right = q.namespace["strategy_for"]
    feedback = answered(2, 5, {**right, machine: slip}, notebook_namespaces)
    assert feedback.status == WRONG and right[machine].lower() not in feedback.message.lower(), feedback


@pytest.mark.parametrize("answer", [0, 11, 2.5, -3])
def test_an_epoch_outside_the_run_is_told_the_range(answer, notebook_namespaces):
    feedback = answered(3, 6, answer, notebook_namespaces)
    assert feedback == Feedback(WRONG, f"the answer is the N of 'Epoch N/10', a whole number from 1 to 10, not "
                                       f"{answer}."), feedback


@pytest.mark.parametrize("answer", [5, 10])
def test_a_later_epoch_is_told_why_the_run_goes_on_where_it_does(answer, notebook_namespaces):
    feedback = answered(3, 6, answer, notebook_namespaces)
    assert feedback.status == WRONG and "saves only at the end of an epoch" in feedback.message, feedback


def test_the_speed_exercise_needs_the_notebooks_measurement(notebook_namespaces):
    q = question(2, 4, {"ten_epochs_minutes": 3.0})
    feedback = q.feedback()
    assert feedback.status == WRONG and "run the speed check" in feedback.message
    assert answered(2, 4, 3.0, notebook_namespaces).status == CORRECT, "3,000 images/s: 18 s an epoch, 3 minutes"


def test_every_notebook_has_checked_exercises():
    numbers = sorted(int(path.name[:2]) for path in NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
    assert sorted(EXERCISES) == numbers


def test_a_multiple_choice_answer_may_be_capital_or_spaced(notebook_namespaces):
    assert answered(3, 4, " A ", notebook_namespaces).status == CORRECT
    assert answered(3, 4, "B", notebook_namespaces).status == WRONG
    feedback = answered(3, 4, 1, notebook_namespaces)
    assert feedback.status == WRONG and "one of the letters 'a', 'b', 'c'" in feedback.message


def test_the_shipped_accuracy_is_not_the_students_own(notebook_namespaces):
    from types import SimpleNamespace

    namespace = {"report": SimpleNamespace(accuracy=0.9871)}
    q = question(4, 1, namespace)
    namespace["shipped_accuracy"] = 0.9871
    feedback = q.feedback()
    assert feedback.status == WRONG and "*your* model" in feedback.message


def test_hints_come_one_at_a_time(notebook_namespaces, capsys):
    q = question(1, 1, {})
    q.hint()
    first = capsys.readouterr().out
    assert first.startswith("Hint: ") and "q1.hint(2) gives another" in first
    q.hint(2)
    assert "another" not in capsys.readouterr().out
    with pytest.raises(ConfigError, match="hints 1 to 2"):
        q.hint(3)
    for odd in ("2", 2.0, None, True):
        with pytest.raises(ConfigError, match=f"exercise 1 has hints 1 to 2, not {re.escape(repr(odd))}"):
            q.hint(odd)


@pytest.mark.parametrize("call, message", [
    (lambda q: q.check(422), "q7.check() takes nothing in the brackets: it reads your answer from `steps_per_epoch`. "
                             "Write `steps_per_epoch = 422` in the answer cell instead, then run q7.check() with empty "
                             "brackets."),
    (lambda q: q.check(answer=[4, 2, 2]), "Write `steps_per_epoch = [4, 2, 2]` in the answer cell"),
    # No line to copy for what Python does not write out: "steps_per_epoch = an array of shape (2000,)" is no code.
    (lambda q: q.check(np.arange(2000)), "Write `steps_per_epoch = ...`, with what you gave, in the answer cell"),
    (lambda q: q.check(np.float32(0.111)), "Write `steps_per_epoch = 0.111` in the answer cell"),
    (lambda q: q.solution(1), "q7.solution() takes nothing in the brackets: run q7.solution() to see the answer to "
                              "exercise 7."),
], ids=["check(422)", "check(answer=...)", "check(array)", "check(float32)", "solution(1)"])
def test_an_answer_put_in_the_brackets_gets_a_message_not_a_typeerror(call, message, capsys):
    """`q7.check(422)`, the answer handed to the check beside its variable, raised Python's TypeError."""
    q = question(3, 7, {})
    with pytest.raises(ConfigError) as raised:
        call(q)
    assert message in str(raised.value)
    assert q.namespace == {} and capsys.readouterr().out == "", "nothing is set or printed"


@pytest.mark.parametrize("layers", ["keras.layers", "model.layers", "array"])
def test_the_feature_maps_question_says_when_layers_is_not_feature_maps_list(layers):
    """A student who reuses the name `layers` got AttributeError, TypeError or ValueError from the check."""
    import keras

    from numvision_lib.model import load_model
    from numvision_lib.model_card import pad_model_path

    reused = {"keras.layers": keras.layers, "model.layers": load_model(pad_model_path()).layers,
              "array": np.arange(8)}[layers]
    feedback = answered(7, 1, 3 * 3 * 32, {7: {"layers": reused}})
    assert feedback.status == WRONG and "the list that feature_maps gives (it now holds" in feedback.message


def test_setup_puts_the_questions_into_the_notebook(capsys):
    namespace = {}
    assert setup_exercises(1, namespace) is None, "nothing extra is displayed below the cell"
    assert sorted(name for name in namespace) == ["q1", "q3", "q4"]
    assert capsys.readouterr().out == (
        "Exercises with a check: q1.check(), q3.check(), q4.check(). Each also has .hint() and .solution().\n")
    namespace["rarest_digit"] = 5
    assert namespace["q1"].feedback().status == CORRECT, "the questions read the answers from that namespace"
    with pytest.raises(ConfigError, match="notebook 10 has no checked exercises"):
        setup_exercises(10, {})


@pytest.mark.parametrize("notebook, namespace, message", [
    ("1", {}, "notebook is the notebook's number, such as 1, not '1'"),
    (1.0, {}, "notebook is the notebook's number, such as 1, not 1.0"),
    (1, globals, r"namespace is the notebook's globals\(\) \(with the parentheses\), not <built-in function globals>"),
])
def test_setup_says_what_it_expects_of_a_slip_in_the_call(notebook, namespace, message):
    with pytest.raises(ConfigError, match=message):
        setup_exercises(notebook, namespace)


# --- the stored notebooks ------------------------------------------------------------------------------------
def _notebook(number: int):
    (path,) = NOTEBOOK_DIR.glob(f"{number:02d}_*.ipynb")
    return nbformat.read(path, as_version=4)


@pytest.mark.parametrize("notebook", sorted(EXERCISES), ids=lambda n: f"{n:02d}")
def test_stored_notebook_shows_every_check_unattempted(notebook):
    nb = _notebook(notebook)
    setup = [cell for cell in nb.cells if cell.cell_type == "code" and f"setup_exercises({notebook}, globals())"
             in cell.source]
    assert len(setup) == 1, "one cell sets up the exercises"
    checks = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for number in CHECK_CALL.findall(cell.source):
            checks[int(number)] = cell
    assert sorted(checks) == [exercise.number for exercise in EXERCISES[notebook]]
    for exercise in EXERCISES[notebook]:
        cell = checks[exercise.number]
        assert re.search(rf"^{exercise.variable} = (None|\.\.\.|\{{)", cell.source, re.MULTILINE), (
            f"exercise {exercise.number}: the answer cell ships `{exercise.variable}` with a placeholder")
        printed = "".join(output.get("text", "") for output in cell.outputs if output.output_type == "stream")
        assert printed.startswith(f"{NOT_ATTEMPTED}: "), f"exercise {exercise.number} stores: {printed!r}"
    stored = "".join(output.get("text", "") for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs
                     if output.output_type == "stream")
    assert "Solution:" not in stored and "Correct:" not in stored


def names_bound_by(source: str) -> set[str]:
    """The global names that code binds: what it assigns, imports and defines (not the names local to a function
    or a comprehension)."""
    names = set()

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(child.name)
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                names.update((alias.asname or alias.name).split(".")[0] for alias in child.names)
            elif isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                names.add(child.id)
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp,
                                      ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                visit(child)

    visit(ast.parse(source))
    return names


def notebook_names(number: int) -> set[str]:
    """What a student has in the notebook: the names its code cells bind, and the code its text gives to run."""
    sources = []
    for cell in _notebook(number).cells:
        if cell.cell_type == "code":
            sources.append(cell.source)
        else:
            sources.extend(re.findall(r"```python\n(.*?)```", cell.source, re.DOTALL))
    return set().union(*(names_bound_by(source) for source in sources))


HINTS = [(notebook, exercise.number, number, hint) for notebook, exercises in EXERCISES.items()
         for exercise in exercises for number, hint in enumerate(exercise.hints, 1)]


@pytest.mark.parametrize("notebook, exercise, number, hint", HINTS,
                         ids=[f"{n:02d}-q{q}-hint{h}" for n, q, h, _ in HINTS])
def test_the_code_a_hint_starts_with_uses_names_the_notebook_has(notebook, exercise, number, hint):
    """06-q8's first hint began with `pad.probabilities...`, but only the solution defines `pad`: a NameError."""
    code = re.match(r"`([^`]+)`", hint)
    if code is None:
        return
    read = sorted((node for node in ast.walk(ast.parse(code.group(1)))
                   if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)),
                  key=lambda node: (node.lineno, node.col_offset))
    first = read[0].id  # `distances[i, d]`: i and d stand for any row and digit
    assert first in notebook_names(notebook), f"{first} is not defined in notebook {notebook:02d}: {hint}"


def test_notebook_01_leaves_the_rarest_digit_to_exercise_1(mnist):
    rarest = int(np.bincount(mnist.y_train).argmin())
    text = "\n".join(cell.source for cell in _notebook(1).cells if cell.cell_type == "markdown")
    assert not re.search(rf"rarest\W+(digit\W+)?\(?{rarest}\b", text), "exercise 1 asks for it"


def test_the_dot_exercise_states_the_shares_it_measures():
    """05-q6's Correct message said a dot holds 3-8% of the ink "with the pad's pens"; with a thin Brush it holds
    less than the 2% that is kept, and section 2 drops it. Measured as section 2 does it: the strokes drawn on the
    canvas, then preprocessed as a picture."""
    from numvision_lib.drawn_digits import template_strokes
    from numvision_lib.preprocess import MIN_COMPONENT_FRACTION, preprocess_steps, rasterise_strokes

    message = answered(5, 6, "a", {5: {}}).message
    claims = re.search(r"default Brush \((\d+) pixels\) it holds some (\d+)-(\d+)%.* with a Brush of (\d+) it is "
                       r"only some (\d+)-(\d+)%, and in section 2 the dot beside most of those digits is dropped",
                       message)
    assert claims, message
    default_pen, low, high, thin_pen, thin_low, thin_high = map(int, claims.groups())
    for pen, shown_range, kept_beside_all in ((default_pen, (low, high), True),
                                              (thin_pen, (thin_low, thin_high), False)):
        shares, kept = [], []
        for digit in range(10):
            strokes = template_strokes(digit)
            plain = rasterise_strokes(strokes, brush_width=pen)
            dotted = rasterise_strokes([*strokes, [(265, 265)]], brush_width=pen)
            shares.append(1 - plain.sum(dtype=float) / dotted.sum(dtype=float))
            kept.append(preprocess_steps(dotted).ink_box != preprocess_steps(plain).ink_box)
        assert (round(min(shares) * 100), round(max(shares) * 100)) == shown_range, (pen, shares)
        if kept_beside_all:
            assert all(kept) and min(shares) > MIN_COMPONENT_FRACTION, (pen, shares)
        else:
            assert sum(kept) < len(kept) / 2, ("dropped beside most", pen, kept)


# --- answers a student may well give: rounded, or not a number at all ---------------------------------------------
@pytest.mark.parametrize("answer", [0.0039, 0.004, 0.00392, np.float32(1 / 255), np.array(1 / 255)])
def test_the_twice_scaled_maximum_may_be_rounded_as_the_solution_rounds_it(answer, notebook_namespaces):
    assert answered(1, 4, answer, notebook_namespaces).status == CORRECT, "the solution says 'about 0.0039'"


def test_a_maximum_scaled_three_times_is_not_twice_scaled(notebook_namespaces):
    assert answered(1, 4, 1 / 255 ** 2, notebook_namespaces).status == WRONG


def _coarser(truth: float) -> list[float]:
    """`truth` rounded and cut to fewer than four decimals, leaving out 0: what a student copies from a printout."""
    return [value for decimals in (2, 3) for value in (round(truth, decimals), int(truth * 10 ** decimals)
                                                       / 10 ** decimals)
            if value and not np.isclose(value, truth, rtol=0, atol=5e-5)]


def test_a_rounded_shipped_accuracy_is_called_close_not_unevaluated(notebook_namespaces):
    from numvision_lib.model_card import TEST_ACCURACY, ModelCard, reference_model_path

    truth = float(ModelCard.for_model(reference_model_path()).metrics[TEST_ACCURACY])
    assert _coarser(truth), "0.99 for 0.9937: the reviewer's case"
    for answer in _coarser(truth):
        feedback = answered(4, 1, answer, {4: {}})
        assert feedback.status == WRONG and "close" in feedback.message and "four decimals" in feedback.message, (
            answer, feedback)
        assert f"{truth:.4f}" not in feedback.message, "the answer stays hidden"
    feedback = answered(4, 1, round(truth * 100, 1), {4: {}})
    assert feedback.status == WRONG and "is a percentage" in feedback.message, feedback


def test_a_sure_and_wrong_share_rounded_as_printed_is_right(notebook_namespaces):
    """10 of 97 crossed 7s: the check's own "10.3% of these 7s", as a share, is right; so is any value nearer it than
    the share of one drawing more or less."""
    pad = notebook_namespaces[6]["reports"]["the pad's model"]
    assert len(pad.labels) <= 100, "two decimals are within half a drawing of the share"
    truth, step = float(sure_and_wrong(pad).mean()), 1 / len(pad.labels)
    for answer in (round(truth, 3), round(truth, 2), round(truth * 100, 1) / 100, np.float32(truth)):
        feedback = answered(6, 8, answer, notebook_namespaces)
        assert feedback.status == CORRECT, (answer, feedback)
    for neighbour in (truth - step, truth + step):
        assert answered(6, 8, round(neighbour, 3), notebook_namespaces).status == WRONG, neighbour
    feedback = answered(6, 8, round(truth * 100, 1), notebook_namespaces)
    assert feedback.status == WRONG and "is a percentage" in feedback.message, feedback


def test_a_share_rounded_with_numpys_round_is_called_close(notebook_namespaces):
    """75 of 10,000 images unsure: round() on the NumPy share gives 0.008, as it rounds a half up, and the check knew
    only Python's rounding of a Python float (0.007); 0.008 was told it was not the share."""
    labels = np.arange(10_000) % 10
    probabilities = np.full((10_000, 10), 0.005)
    probabilities[np.arange(10_000), labels] = 0.955
    probabilities[:75] = 0.1  # unsure
    report = dataclasses.replace(notebook_namespaces[4]["report"], probabilities=probabilities, labels=labels)
    share = (report.confidences < 0.9).mean()
    assert share == 0.0075 and round(share, 3) == 0.008 and round(float(share), 3) == 0.007
    for answer in (round(share, 3), round(float(share), 3), f"{share:.3f}"):
        feedback = answered(4, 3, float(answer), {4: {"report": report}})
        assert feedback.status == WRONG and "close" in feedback.message, (answer, feedback)
    assert answered(4, 3, share, {4: {"report": report}}).status == CORRECT


def test_a_value_far_from_the_truth_is_no_rounding_of_it():
    """Rounded up and cut answers count as roundings (6 minutes for 5.16, 0.993 for 0.9937); within a step of the
    truth, 2 minutes for 1.02 and 2% for 1.02% were called "close" too."""
    assert _rounded(6, 5.16) and _rounded(0.993, 0.9937) and _rounded(0.008, 0.0075) and _rounded(0.007, 0.0075)
    assert not _rounded(2, 1.02) and not _rounded(0.02, 0.0102) and not _rounded(0.1, 0.0075)


def test_a_rounded_share_to_check_is_called_close(notebook_namespaces):
    truth = float((notebook_namespaces[4]["report"].confidences < 0.9).mean())
    assert _coarser(truth)
    for answer in _coarser(truth):
        feedback = answered(4, 3, answer, notebook_namespaces)
        assert feedback.status == WRONG and "close" in feedback.message and "four decimals" in feedback.message, (
            answer, feedback)


def gpu_speed(images_per_second: float):
    from numvision_lib.hardware import TrainingSpeed

    return TrainingSpeed(batch_size=128, steps=20, seconds_per_step=128 / images_per_second, flops_per_image=1000)


def printed_epoch_seconds(speed) -> float:
    (line,) = [line for line in str(speed).splitlines() if line.startswith("One epoch")]
    return float(re.search(r"about ([\d.]+) s", line).group(1))


@pytest.mark.parametrize("images_per_second", [10_000, 20_000, 40_000, 200_000])
def test_ten_epochs_worked_out_from_a_gpus_printed_epoch_is_right(images_per_second):
    """A GPU trains an epoch in seconds: the speed check's figure, rounded as printed, gives a right answer."""
    speed = gpu_speed(images_per_second)
    answer = 10 * printed_epoch_seconds(speed) / 60
    feedback = answered(2, 4, answer, {2: {"speed": speed}})
    assert feedback.status == CORRECT, (str(speed), answer, feedback)


def printed_step_milliseconds(speed) -> float:
    return float(re.search(r"\((\d+) ms per step", str(speed)).group(1))


def test_ten_epochs_worked_out_from_a_gpus_printed_step_is_right():
    """10 epochs x 422 steps x the printed whole milliseconds of a step: on a GPU (3 ms a step) that rounding is up
    to a sixth, and such answers were refused, some as counting all 60,000 images."""
    for milliseconds in np.arange(1.01, 20.0, 0.05):  # none exactly half a millisecond, which rounds either way
        speed = gpu_speed(128 / (milliseconds / 1000))
        answer = 10 * 422 * printed_step_milliseconds(speed) / 1000 / 60
        feedback = answered(2, 4, answer, {2: {"speed": speed}})
        assert feedback.status == CORRECT, (str(speed), answer, feedback)


def test_all_60000_images_on_a_gpu_are_not_within_the_printouts_rounding():
    # 16,000 images per second: 3.4 s an epoch of 54,000 ("about 3.4 s"), 3.75 s of 60,000, and 8 ms a step. (Under
    # 4.5 ms a step, half a printed millisecond on each step is more than the 6,000 images, and the check takes both.)
    speed = gpu_speed(16_000)
    feedback = answered(2, 4, 10 * 60_000 / 16_000 / 60, {2: {"speed": speed}})
    assert feedback.status == WRONG and "6,000 are kept for validation" in feedback.message, feedback


def test_the_advice_for_a_rounded_ten_epochs_leads_to_a_right_answer():
    """Followed, "rounded too far" gives an answer the check takes: 0.5 from a whole-second 3 s would loop."""
    speed = gpu_speed(20_000)  # 2.7 s an epoch: 0.45 minutes for ten
    feedback = answered(2, 4, 0.5, {2: {"speed": speed}})
    assert feedback.status == WRONG and "rounded too far" in feedback.message, feedback
    assert "`speed.seconds_per_epoch()`" in feedback.message
    assert answered(2, 4, round(10 * speed.seconds_per_epoch() / 60, 2), {2: {"speed": speed}}).status == CORRECT


def test_both_step_exercises_count_an_epochs_steps_as_train_does(monkeypatch):
    """Exercises 02-4 and 03-7 counted the steps of an epoch with copies of train's rule: had train dropped the last,
    smaller batch, 03-7 would still have called 422 right and 421 wrong."""
    from numvision_lib import training
    from numvision_lib.hardware import TrainingSpeed

    counted = []

    def without_the_last_batch(images, batch_size):
        counted.append((images, batch_size))
        return images // batch_size

    monkeypatch.setattr(training, "steps_per_epoch", without_the_last_batch)
    assert answered(3, 7, 421, {3: {}}).status == CORRECT and answered(3, 7, 422, {3: {}}).status == WRONG
    counted.clear()
    speed = TrainingSpeed(batch_size=128, steps=20, seconds_per_step=128 / 3000, flops_per_image=36_000_000)
    answered(2, 4, 3.0, {2: {"speed": speed}})
    assert counted == [(54_000, 128)]


def test_ten_epochs_rounded_up_to_whole_minutes_is_not_taken_for_all_60000_images():
    """Notebook 02's stored speed, 1,744 images per second: 5.16 minutes for ten epochs, 5.73 for 60,000 images. "About
    6 minutes" rounds up, and was told it counted all 60,000."""
    from numvision_lib.hardware import TrainingSpeed

    speed = TrainingSpeed(batch_size=128, steps=20, seconds_per_step=128 / 1744, flops_per_image=1000)
    feedback = answered(2, 4, 6, {2: {"speed": speed}})
    assert feedback.status == WRONG and "rounded too far" in feedback.message and "60,000" not in feedback.message, (
        feedback)
    assert answered(2, 4, 5, {2: {"speed": speed}}).status == CORRECT


@pytest.mark.parametrize("images_per_second", [12_000, 25_000, 1744])
def test_the_minutes_a_correct_message_shows_are_taken(images_per_second):
    """On a GPU the Correct message showed "about 0.8 minutes" for 0.75, and the check called 0.8 rounded too far."""
    speed = gpu_speed(images_per_second)
    feedback = answered(2, 4, 10 * speed.seconds_per_epoch() / 60, {2: {"speed": speed}})
    shown = float(re.search(r"about ([\d.]+) minutes", feedback.message).group(1))
    assert answered(2, 4, shown, {2: {"speed": speed}}).status == CORRECT, (shown, feedback)


def test_ten_epochs_in_whole_minutes_is_not_taken_for_all_60000_images():
    from numvision_lib.hardware import TrainingSpeed

    # 2,560 images per second: ten epochs of 54,000 images are 3.52 minutes, of 60,000 3.91; both round to 4.
    namespaces = {2: {"speed": TrainingSpeed(batch_size=128, steps=20, seconds_per_step=0.05, flops_per_image=1000)}}
    feedback = answered(2, 4, 4, namespaces)
    assert feedback.status == WRONG and "60,000" not in feedback.message and "decimal" in feedback.message, feedback
    assert "6,000 are kept for validation" in answered(2, 4, 3.9, namespaces).message
    assert answered(2, 4, 3.5, namespaces).status == CORRECT


@pytest.mark.parametrize("answer", [["1"] * 2000, np.array(["1"] * 2000), [None] * 2000, [[1, 2], [3]], "abc",
                                    np.full(2000, np.nan), np.zeros(2000, bool)],
                         ids=["strings", "string array", "Nones", "ragged", "a string", "NaN", "True/False"])
def test_predictions_that_are_not_digits_are_told_what_to_hold(answer, notebook_namespaces):
    feedback = answered(1, 3, answer, notebook_namespaces)
    assert feedback.status == WRONG and "whole numbers 0-9, one per test image" in feedback.message, feedback


# Answers that are no number, or not one a float holds: each checker says what it expects instead of failing.
# An int of 5,000 digits has no repr at all (Python's limit on turning ints into text), and a list of 2,000
# numbers would make a page-long message.
# A NumPy duration is a NumPy integer to isinstance, and raised a TypeError in every numeric exercise.
ODD_ANSWERS = ["3", [None], np.array([1, 2]), np.array(["a", "b"]), float("nan"), float("inf"), 10 ** 400,
               10 ** 5000, list(range(2000)), True, object(), {"a": 1}, np.timedelta64(5, "m"),
               np.datetime64("2024-01-01")]


@pytest.mark.parametrize("notebook, number", ALL, ids=[f"{n:02d}-q{q}" for n, q in ALL])
def test_an_odd_answer_gets_a_message_not_a_traceback(notebook, number, notebook_namespaces):
    for answer in ODD_ANSWERS:
        feedback = answered(notebook, number, answer, notebook_namespaces)
        assert feedback.status == WRONG and 0 < len(feedback.message) < 400, (answer, feedback)


def test_a_strategy_may_be_spelled_with_capitals_spaces_or_its_full_name(notebook_namespaces):
    answer = {"laptop with one GPU": "Default ", "server with four GPUs": "tf.distribute.MirroredStrategy",
              "two computers in TF_CONFIG": "multiworkermirroredstrategy"}
    assert answered(2, 5, answer, notebook_namespaces).status == CORRECT
    slip = {**answer, "laptop with one GPU": "tf.distribute.MirroredStrategy"}
    feedback = answered(2, 5, slip, notebook_namespaces)
    assert feedback.status == WRONG and "one GPU has nothing to mirror" in feedback.message, feedback


def test_an_odd_strategy_name_gets_a_message_not_a_traceback(notebook_namespaces):
    answer = {"laptop with one GPU": np.array(["default", "default"]), "server with four GPUs": float("nan"),
              "two computers in TF_CONFIG": ["MultiWorkerMirroredStrategy"]}
    feedback = answered(2, 5, answer, notebook_namespaces)
    assert feedback.status == WRONG and "choose from 'default'" in feedback.message, feedback


@pytest.mark.parametrize("notebook, number, answer", [(1, 1, np.array(5)), (2, 6, np.array(32)), (3, 7, np.int64(422)),
                                                       (5, 3, np.array(70.0))])
def test_a_number_from_numpy_counts_as_a_number(notebook, number, answer, notebook_namespaces):
    assert answered(notebook, number, answer, notebook_namespaces).status == CORRECT


def _fewest_images(namespaces):
    counts = np.bincount(namespaces[1]["data"].y_train)
    return np.where(counts == counts.min())[0]


@pytest.mark.parametrize("notebook, number, answer", [
    (1, 1, _fewest_images), (2, 6, [32]), (3, 7, (422,)), (5, 3, np.array([[70]])), (3, 6, [np.int64(3)]),
    (4, 3, lambda namespaces: [(namespaces[4]["report"].confidences < 0.9).mean()]),
], ids=["np.where", "list", "tuple", "2-d array", "list of a NumPy int", "list of a share"])
def test_a_list_or_array_of_one_number_counts_as_that_number(notebook, number, answer, notebook_namespaces):
    """`np.where(counts == counts.min())[0]` finds the rarest digit, as an array of one: it was "Not quite"."""
    if callable(answer):
        answer = answer(notebook_namespaces)
    feedback = answered(notebook, number, answer, notebook_namespaces)
    assert feedback.status == CORRECT, feedback


@pytest.mark.parametrize("notebook, number, answer, written", [
    (1, 1, "5", "rarest_digit = 5"), (3, 7, " 422 ", "steps_per_epoch = 422"), (3, 6, "3", "continues_with_epoch = 3"),
    (2, 4, "3.5", "ten_epochs_minutes = 3.5"), (4, 3, ["0.0123"], "share_to_check = 0.0123"),
    (7, 1, np.str_("288"), "weights_per_filter = 288"),
])
def test_a_number_in_quotes_is_told_to_lose_them(notebook, number, answer, written, notebook_namespaces):
    """The multiple-choice cells beside these want their letters in quotes; "5" was told only "not '5'"."""
    feedback = answered(notebook, number, answer, notebook_namespaces)
    assert feedback == Feedback(WRONG, f"write it as a number, without quotes: `{written}`."), feedback


def test_every_exercise_answered_by_a_number_tells_a_quoted_one_to_lose_its_quotes():
    """Which judges read a number is marked by hand (`_takes_a_number`): a new one left unmarked would tell "5" only
    "not '5'"."""
    import functools
    import inspect

    for exercises in EXERCISES.values():
        for exercise in exercises:
            if isinstance(exercise.judge, functools.partial):  # multiple choice: letters in quotes are the answers
                continue
            reads_a_number = "_number(answer)" in inspect.getsource(exercise.judge)
            assert getattr(exercise.judge, "takes_a_number", False) == reads_a_number, exercise.title


@pytest.mark.parametrize("text", ["five", "nan", "1e999", ""])
def test_text_that_is_no_number_is_not_told_to_lose_its_quotes(text, notebook_namespaces):
    feedback = answered(1, 1, text, notebook_namespaces)
    assert feedback == Feedback(WRONG, f"the answer is one digit, a whole number from 0 to 9, not {text!r}."), feedback


@pytest.mark.parametrize("notebook, number, answer, message", [
    (3, 7, np.floor(54_000 / 128) + 2, "423.0 is not how many batches of 128"),
    (4, 3, np.float64(0.0019), "0.0019 is not the share"),
    (1, 4, lambda namespaces: (namespaces[1]["model_input"] / 255).max(axis=(1, 2, 3)),
     "not an array of shape (1000,)."),
    (3, 7, {"steps": 422}, "not a dict."),
    (3, 7, list(range(2000)), "not a list of 2,000 items."),
    (3, 7, "many", "not 'many'."),
    (3, 7, np.array([423]), "an array holding 423 is not"),
], ids=["np.float64", "np.float64 share", "array", "dict", "long list", "text", "array of one"])
def test_a_message_shows_an_answer_in_plain_words(notebook, number, answer, message, notebook_namespaces):
    """NumPy 2 writes np.float64(423.0), and an array's repr was cut off in the middle of its numbers."""
    if callable(answer):
        answer = answer(notebook_namespaces)
    feedback = answered(notebook, number, answer, notebook_namespaces)
    assert feedback.status == WRONG and message in feedback.message and "np." not in feedback.message, feedback

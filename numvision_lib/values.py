"""What counts as a number, a switch or a list of samples in what the library is given: settings, files read
back, students' answers; and how a count is written.

One rule everywhere, because Python is lenient where a user would not be: True is the integer 1, json reads NaN
and Infinity, and `float(10 ** 400)` fails. A setting, a stored figure or an answer is none of those.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
import typing

import numpy as np

from .errors import ConfigError


# What Python and NumPy count as integers, and no setting, figure or answer means as one: True is the integer 1, and
# a np.timedelta64 (5 minutes, say) is a NumPy signed integer that math.isfinite cannot read.
_NOT_NUMBERS = (bool, np.timedelta64)


def is_number(value) -> bool:
    """A finite real number: a Python or NumPy int or float, not a bool, a string, an array, a NumPy time, NaN or
    infinity (nor an integer too large for a float, nor a Fraction or Decimal, which NumPy cannot compute with)."""
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, _NOT_NUMBERS):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def is_whole_number(value) -> bool:
    """A Python or NumPy integer, not a bool or a np.timedelta64: 2.0 and True are not a count of pixels or a digit's
    label."""
    return isinstance(value, numbers.Integral) and not isinstance(value, _NOT_NUMBERS)


def checked_list_of(items, item_type: type, name: str, example: str) -> list:
    """`items` (any iterable) as a list, each one an `item_type`, all checked before any time is spent on them; a
    generator is read once here, since callers read the list more than once. `name` is the argument's, a plural
    ("samples", "records"), `example` a call that gives such a list."""
    kind = f"{name} is a list of {item_type.__name__}s"
    one = name.removesuffix("s")  # "give [record] for one", "record 2 is a str"
    if isinstance(items, item_type):  # some are iterable themselves, and would be read as a list of something else
        raise ConfigError(f"{kind}: give [{one}] for one")
    if isinstance(items, str) or not isinstance(items, typing.Iterable):
        raise ConfigError(f"{kind}, such as {example}, not {items!r:.80}")
    items = list(items)
    for index, item in enumerate(items):
        if not isinstance(item, item_type):
            raise ConfigError(f"{kind}, such as {example}; {one} {index} is a {type(item).__name__}")
    return items


def counted(count: int, thing: str) -> str:
    """"1 drawing", "900 drawings": a count as the class reads it, early in a lesson too, when there is one."""
    return f"{count:,} {thing}{'' if count == 1 else 's'}"


def switch_problem(name: str, value, true_means: str = "") -> str | None:
    """What is wrong with `value` as the switch `name`, unless it is True or False itself: Python reads a string such
    as "no", or any number but 0, as true, and an array refuses to be read as either. `true_means` says what True
    does."""
    if isinstance(value, bool):
        return None
    return f"{name} is True{f' ({true_means})' if true_means else ''} or False, not {value!r}"


def type_problems(settings) -> list[str]:
    """What is of the wrong type in a dataclass of settings, by each field's annotation: a whole number is an int
    (not a bool, not 2.5, not "10"), a number a finite int or float, a switch True or False; None only where the
    annotation allows it. A class checks these before its ranges, which would fail on a wrong type."""
    problems = []
    for name, value, kind, optional in _settings_fields(settings):
        if value is None and optional:
            continue
        if kind is bool:
            problem = None if isinstance(value, bool) else "True or False"
        elif kind is int:
            problem = None if is_whole_number(value) else "a whole number"
        elif kind is float:
            problem = None if is_number(value) else "a number"
        else:
            problem = None if isinstance(value, kind) else f"a {kind.__name__}"
        if problem is not None:
            problems.append(f"{name} must be {problem}, found {value!r}")
    return problems


def store_plain_numbers(settings) -> None:
    """Make each int or float field of a frozen dataclass of settings (its types checked by `type_problems`) a
    Python int or float: NumPy's pass that check (a sweep over np.arange), but json cannot write them into a run's
    settings or a model card, and Keras refuses a NumPy seed."""
    for name, value, kind, _ in _settings_fields(settings):
        if kind in (int, float) and value is not None:
            object.__setattr__(settings, name, kind(value))  # frozen: the dataclass's own way round it


def _settings_fields(settings) -> typing.Iterator[tuple[str, object, type, bool]]:
    """Each field of a dataclass of settings: its name, value, annotated type (without None) and whether None is
    allowed."""
    for name, annotation in typing.get_type_hints(type(settings)).items():
        allowed = typing.get_args(annotation) or (annotation,)
        kind = next(kind for kind in allowed if kind is not type(None))
        yield name, getattr(settings, name), kind, type(None) in allowed


def unknown_settings_problem(settings_class, given: typing.Iterable[str]) -> str | None:
    """What is wrong with naming `given` settings of a settings dataclass, when some are none of its fields: the
    dataclass's own TypeError names the misspelt one, but none of the right ones."""
    names = [field.name for field in dataclasses.fields(settings_class)]
    unknown = [name for name in given if name not in names]
    if not unknown:
        return None
    guesses = [match for name in unknown for match in difflib.get_close_matches(name, names, n=1)]
    return (f"{settings_class.__name__} has no setting {', '.join(map(repr, unknown))}"
            + (f" (did you mean {', '.join(guesses)}?)" if guesses else "")
            + f"; its settings are: {', '.join(names)}")

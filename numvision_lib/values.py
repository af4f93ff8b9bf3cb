"""What counts as a number in what the library is given: settings, files read back, students' answers.

One rule everywhere, because Python is lenient where a user would not be: True is the integer 1, json reads NaN
and Infinity, and `float(10 ** 400)` fails. A setting, a stored figure or an answer is none of those.
"""
from __future__ import annotations

import math
import numbers


def is_number(value) -> bool:
    """A finite real number: a Python or NumPy int or float, not a bool, a string, an array, NaN or infinity (nor
    an integer too large for a float)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def is_whole_number(value) -> bool:
    """A Python or NumPy integer, not a bool: 2.0 and True are not a count of pixels or a digit's label."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)

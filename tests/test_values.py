"""The one rule for what counts as a number in settings, files read back and students' answers."""
import fractions

import re

import numpy as np
import pytest

from numvision_lib.errors import ConfigError
from numvision_lib.values import checked_list_of, counted, is_number, is_whole_number


@pytest.mark.parametrize("value", [0, -3, 2.5, 1e300, np.float32(0.5), np.int64(7), np.uint8(255)])
def test_finite_real_numbers_are_numbers(value):
    assert is_number(value)


@pytest.mark.parametrize("value", [True, False, np.bool_(True), float("nan"), float("inf"), -float("inf"),
                                   np.float32("nan"), 10 ** 400, "1", b"1", None, [1], np.array(1.0), 1j,
                                   np.complex128(1), fractions.Fraction(1, 3), np.timedelta64(5, "m"),
                                   np.timedelta64(5), np.datetime64("2024-01-01")])
def test_what_python_would_let_pass_is_not_a_number(value):
    """A np.timedelta64 is a NumPy signed integer to isinstance: is_number raised a TypeError for it."""
    assert is_number(value) is False


@pytest.mark.parametrize("value", [0, 28, -1, 10 ** 400, np.int64(3), np.uint8(9)])
def test_integers_are_whole_numbers(value):
    assert is_whole_number(value)


@pytest.mark.parametrize("value", [True, np.bool_(False), 2.0, np.float64(3.0), "2", None, np.array(2),
                                   np.timedelta64(2, "s")])
def test_bools_floats_and_text_are_not_whole_numbers(value):
    assert not is_whole_number(value)


def test_a_count_of_one_is_singular():
    """The first drawing of a lesson read "1 drawings by 1 students" wherever the rule was not this one."""
    assert [counted(count, "drawing") for count in (0, 1, 2, 1500)] == ["0 drawings", "1 drawing", "2 drawings",
                                                                        "1,500 drawings"]


def test_a_list_checked_names_its_items_after_the_argument():
    """Each item is called by the argument's name: a record is not a "sample"."""
    half = fractions.Fraction(1, 2)
    assert checked_list_of(iter([half]), fractions.Fraction, "shares", "[Fraction(1, 2)]") == [half]
    with pytest.raises(ConfigError, match=re.escape("shares is a list of Fractions: give [share] for one")):
        checked_list_of(half, fractions.Fraction, "shares", "[Fraction(1, 2)]")
    with pytest.raises(ConfigError, match=re.escape("shares is a list of Fractions, such as [Fraction(1, 2)]; "
                                                    "share 1 is a float")):
        checked_list_of([half, 0.5], fractions.Fraction, "shares", "[Fraction(1, 2)]")

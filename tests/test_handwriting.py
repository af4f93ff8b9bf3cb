"""UNIPEN pen samples: a reader that names every broken line, writer-disjoint splits, and renderings that go
through the pad's own path. Files for the error cases are written here; the real data is used where present."""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import unicodedata
import warnings

import numpy as np
import pytest

from numvision_lib import handwriting
from numvision_lib.errors import ConfigError, DataError, ImageError
from numvision_lib.drawn_digits import drawn_digit_set
from numvision_lib.handwriting import (AUGMENTATION, DEFAULT_HANDWRITING_DIR, HANDWRITING_DIR_VARIABLE, PARTS,
                                       RENDERINGS, SCANS, Augmentation, PenSample, digit_split, letter_split,
                                       load_pen_samples, load_unipen, normalise_strokes, part_digits, pen_drawing,
                                       person_key, person_of, render_every_way, render_model_inputs, split_by_writer,
                                       validation_digits)
from numvision_lib.paths import PROJECT_ROOT, RESULTS_DIR
from numvision_lib.preprocess import preprocess

from project_scripts import run_script

SEVEN = {"label": "7", "writer": "gmd/kast", "institution": "gmd", "source": "data/1a/gmd/kast.dat",
         "segment": "2297-2298", "strokes": [[[0, 5], [8, 0], [17, 0], [16, 6], [4, 35]], [[13, 22], [3, 22]]],
         "writer_id": "gmd/kast"}


def write_ndjson(path, records, gzipped=None) -> None:
    text = "".join((record if isinstance(record, str) else json.dumps(record)) + "\n" for record in records)
    if gzipped if gzipped is not None else path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)


def sample(label="7", writer_id="gmd/kast", institution="gmd", strokes=None) -> PenSample:
    strokes = strokes or SEVEN["strokes"]
    return PenSample(label, writer_id, institution, tuple(np.asarray(s, dtype=np.float32) for s in strokes))


@pytest.fixture(scope="module")
def real_digits():
    # Skipped only where there is no UNIPEN folder at all; a folder given whose files do not read is a failure.
    if HANDWRITING_DIR_VARIABLE not in os.environ and not DEFAULT_HANDWRITING_DIR.is_dir():
        pytest.skip(f"no UNIPEN data: set {HANDWRITING_DIR_VARIABLE}")
    return load_unipen("digits")


# ---------------------------------------------------------------- reading


@pytest.mark.parametrize("name", ["digits.ndjson.gz", "digits.ndjson", "renamed.txt"])
def test_reads_gzipped_and_plain_files(tmp_path, name):
    path = tmp_path / name
    one = {**SEVEN, "label": "1", "strokes": [[[0, 0], [0, 30]]]}
    write_ndjson(path, [SEVEN, one], gzipped=name != "digits.ndjson")
    seven, one = load_pen_samples(path, "digits")
    assert (seven.label, seven.digit, seven.writer_id, seven.institution) == ("7", 7, "gmd/kast", "gmd")
    assert len(seven.strokes) == 2 and all(s.dtype == np.float32 and s.shape[1] == 2 for s in seven.strokes)
    np.testing.assert_array_equal(seven.strokes[1], [[13, 22], [3, 22]])
    assert one.digit == 1


BROKEN_LINES = {
    "not json": ('{"label": "7", "strokes": [[[0, 0]', "not valid JSON"),
    "not an object": ("[1, 2]", "expected a JSON object, found list"),
    "missing strokes": ({k: v for k, v in SEVEN.items() if k != "strokes"}, "missing field 'strokes'"),
    "missing writer": ({k: v for k, v in SEVEN.items() if k != "writer_id"}, "missing field 'writer_id'"),
    "no strokes": ({**SEVEN, "strokes": []}, "non-empty list of strokes"),
    "strokes not a list": ({**SEVEN, "strokes": "7"}, "non-empty list of strokes"),
    "empty stroke": ({**SEVEN, "strokes": [[[0, 0], [5, 9]], []]}, "stroke 2 is not a non-empty list of [x, y]"),
    "three coordinates": ({**SEVEN, "strokes": [[[0, 0, 1], [5, 9, 1]]]}, "stroke 1 is not a non-empty list"),
    "ragged stroke": ({**SEVEN, "strokes": [[[0, 0], [5]]]}, "stroke 1 is not a non-empty list"),
    "text points": ({**SEVEN, "strokes": [[["0", "0"], ["5", "9"]]]}, "not finite numbers"),
    "boolean points": ({**SEVEN, "strokes": [[[True, False], [False, True]]]}, "not finite numbers"),
    # Among numbers, booleans would pass as 1 and 0.
    "boolean among numbers": ({**SEVEN, "strokes": [[[True, False], [1, 2]]]}, "stroke 1 has points that are not"),
    "boolean in a later stroke": ({**SEVEN, "strokes": [[[0, 5], [8, 0]], [[3.5, 2], [1, True]]]},
                                  "stroke 2 has points that are not finite numbers"),
    "not a number": ('{"label": "7", "writer_id": "a/b", "institution": "a", "strokes": [[[0, NaN], [1, 2]]]}',
                     "not finite numbers"),
    "beyond float32": ({**SEVEN, "strokes": [[[1e39, 0], [5, 9]]]}, "not finite numbers"),  # inf once stored
    "degenerate": ({**SEVEN, "strokes": [[[3, 4], [3, 4]], [[3, 4]]]}, "degenerate"),
    "letter among digits": ({**SEVEN, "label": "a"}, "label 'a' is not a digit 0-9"),
    "two characters": ({**SEVEN, "label": "17"}, "label '17' is not a digit 0-9"),
    # 7 is a digit: what is wrong is that it is not text.
    "label not text": ({**SEVEN, "label": 7}, "'label' must be text, such as \"3\", found int 7"),
    "label a list": ({**SEVEN, "label": ["7"]}, "'label' must be text, such as \"3\", found list ['7']"),
    "empty writer": ({**SEVEN, "writer_id": ""}, "'writer_id' must be a non-empty string"),
    # The split keeps it with "gmd/kast", but every table would list it as another writer.
    "writer with a space": ({**SEVEN, "writer_id": "gmd/kast "}, "the writer_id 'gmd/kast ' starts or ends with a "
                                                                 "space: write each writer's id the same way"),
}


@pytest.mark.parametrize("case", list(BROKEN_LINES))
@pytest.mark.parametrize("name", ["digits.ndjson.gz", "digits.ndjson"])
def test_a_broken_line_is_refused_with_file_line_and_reason(tmp_path, case, name):
    record, reason = BROKEN_LINES[case]
    path = tmp_path / name
    write_ndjson(path, [SEVEN, SEVEN, record, SEVEN])
    with pytest.raises(DataError) as raised:
        load_pen_samples(path, "digits")
    message = str(raised.value)
    assert message.startswith(f"{path}: line 3: ") and reason in message, message


@pytest.mark.parametrize("first, second, shown", [
    ("gmd/kast", "GMD/Kast", "'gmd/kast' (first on line 1) and 'GMD/Kast' (first on line 3) differ only in upper and "
                             "lower case"),
    ("gmd/ada lovelace", "gmd/ada  lovelace", "'gmd/ada lovelace' (first on line 1) and 'gmd/ada  lovelace' (first on "
                                              "line 3) differ only in the spaces between their words"),
    ("gmd/ada lovelace", "gmd/Ada  Lovelace", "'gmd/ada lovelace' (first on line 1) and 'gmd/Ada  Lovelace' (first on "
                                              "line 3) differ only in spaces and in upper and lower case"),
    # The same printed: told apart by their code points.
    ("gmd/zoé", unicodedata.normalize("NFD", "gmd/zoé"),
     "'gmd/zo\\xe9' (first on line 1) and 'gmd/zoe\\u0301' (first on line 3) are the same letters encoded two ways "
     "(Unicode normalisation)"),
])
def test_one_writer_spelt_two_ways_in_a_file_is_refused_naming_both(tmp_path, first, second, shown):
    """The split kept them together (`person_key`), but the card and the per-writer report counted "Ada" and "ada" as
    two people, each with half the drawings."""
    path = tmp_path / "class.ndjson"
    write_ndjson(path, [{**SEVEN, "writer_id": first}, {**SEVEN, "writer_id": "gmd/other"},
                        {**SEVEN, "writer_id": second}, {**SEVEN, "writer_id": first}])
    with pytest.raises(DataError) as raised:
        load_pen_samples(path, "digits")
    assert str(raised.value) == (f"{path}: the writer_ids {shown}, so reports would count one writer as two: write "
                                 "each writer's id one way on every line")
    write_ndjson(path, [{**SEVEN, "writer_id": first}, {**SEVEN, "writer_id": "ibm/r01-07"},
                        {**SEVEN, "writer_id": "ibm/r02-07"}, {**SEVEN, "writer_id": first}])
    assert len(load_pen_samples(path, "digits")) == 4, "IBM's sessions of one person are ids of their own"


def test_letters_accept_both_cases_and_refuse_digits(tmp_path):
    path = tmp_path / "letters.ndjson"
    write_ndjson(path, [{**SEVEN, "label": "a"}, {**SEVEN, "label": "Z"}])
    assert [s.label for s in load_pen_samples(path, "letters")] == ["a", "Z"]
    write_ndjson(path, [{**SEVEN, "label": "a"}, SEVEN])
    with pytest.raises(DataError, match=r"line 2: label '7' is not a letter A-Z or a-z"):
        load_pen_samples(path, "letters")
    with pytest.raises(DataError, match="label 'a' is not a digit"):
        sample(label="a").digit


def test_empty_lines_are_no_samples_but_an_empty_file_is_refused(tmp_path):
    path = tmp_path / "digits.ndjson"
    path.write_text(json.dumps(SEVEN) + "\n\n" + json.dumps(SEVEN) + "\n\n")
    assert len(load_pen_samples(path)) == 2
    path.write_text("\n")
    with pytest.raises(DataError, match="holds no samples"):
        load_pen_samples(path)


def cut_short(content: bytes) -> bytes:
    return content[:-40]


def damaged_block(content: bytes) -> bytes:
    content = bytearray(content)
    content[10] = 0xFF  # the compressed data's first block claims a type that does not exist: zlib fails
    return bytes(content)


@pytest.mark.parametrize("damage, lines_read", [(cut_short, "[1-9][0-9]*"), (damaged_block, "0")],
                         ids=["cut short", "damaged block"])
def test_a_gzip_file_cut_short_or_damaged_is_refused(tmp_path, damage, lines_read):
    path = tmp_path / "digits.ndjson.gz"
    write_ndjson(path, [SEVEN] * 200)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(DataError, match=f"digits.ndjson.gz: cannot be read after line {lines_read} \\(.*\\); the "
                                        "file is truncated or corrupt. Copy it again."):
        load_pen_samples(path)


def test_a_file_that_may_not_be_read_is_a_data_error_naming_it(tmp_path, monkeypatch):
    import builtins
    import errno

    from numvision_lib import data

    path = tmp_path / "digits.ndjson.gz"
    write_ndjson(path, [SEVEN])

    def denied(file, *args, **kwargs):  # what chmod does for a user that is not root (the tests may be root)
        if str(file) == str(path):
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return builtins.open(file, *args, **kwargs)

    monkeypatch.setattr(data, "open", denied, raising=False)
    with pytest.raises(DataError, match=f"^{path}: you may not read this file \\(Permission denied\\)"):
        load_pen_samples(path)


def test_text_that_is_not_utf8_is_refused_with_its_line(tmp_path):
    path = tmp_path / "digits.ndjson"
    latin1 = json.dumps(SEVEN).encode().replace(b"gmd/kast", b"gmd/k\xe4st")
    path.write_bytes(json.dumps(SEVEN).encode() + b"\n" + latin1 + b"\n" + json.dumps(SEVEN).encode())
    with pytest.raises(DataError, match=r"digits.ndjson: line 2: not UTF-8 text"):
        load_pen_samples(path)


def test_a_byte_order_mark_from_windows_notepad_is_no_part_of_the_first_line(tmp_path):
    path = tmp_path / "digits.ndjson"
    line = json.dumps(SEVEN).encode()
    path.write_bytes(b"\xef\xbb\xbf" + line + b"\r\n" + line + b"\r\n")
    assert [sample.label for sample in load_pen_samples(path)] == ["7", "7"]
    path.write_bytes(line + b"\n\xef\xbb\xbf" + line + b"\n")  # further in, it is damage
    with pytest.raises(DataError, match="digits.ndjson: line 2: not valid JSON"):
        load_pen_samples(path)


def test_points_near_float32s_limit_are_drawn_not_called_all_the_same(tmp_path):
    """Their extent overflowed float32: NumPy warned, and the drawing said "every point of the sample is the same"."""
    path = tmp_path / "digits.ndjson"
    write_ndjson(path, [{**SEVEN, "label": "1", "strokes": [[[-3e38, 0], [3e38, 1]]]}])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (far_apart,) = load_pen_samples(path)
        points = points_of(pen_drawing(far_apart, "pen_20"))
    assert 150 <= np.ptp(points[:, 0]) <= 220 and np.ptp(points[:, 1]) < 1  # a level line, as wide as a digit


def test_a_file_written_again_is_read_again(tmp_path):
    path = tmp_path / "digits.ndjson"
    write_ndjson(path, [SEVEN])
    assert len(load_pen_samples(path)) == 1
    write_ndjson(path, [SEVEN, SEVEN])
    os.utime(path, ns=(1, 1))  # a different modification time, even on a coarse file system clock
    assert len(load_pen_samples(path)) == 2


def test_samples_from_the_cache_cannot_be_changed(tmp_path):
    path = tmp_path / "digits.ndjson"
    write_ndjson(path, [SEVEN])
    with pytest.raises(ValueError):
        load_pen_samples(path)[0].strokes[0][0, 0] = 99
    assert load_pen_samples(path)[0].strokes[0][0, 0] == 0


def test_missing_file_says_where_to_get_the_data(tmp_path):
    with pytest.raises(DataError) as raised:
        load_pen_samples(tmp_path / "digits.ndjson.gz")
    message = str(raised.value)
    assert "file not found" in message and "https://doi.org/10.5281/zenodo.1195803" in message
    assert "CC BY 4.0" in message and HANDWRITING_DIR_VARIABLE in message and "data_dir=" in message


def test_folder_from_argument_then_environment(tmp_path, monkeypatch):
    (tmp_path / "argument").mkdir()
    (tmp_path / "environment").mkdir()
    write_ndjson(tmp_path / "argument" / "digits.ndjson.gz", [SEVEN])
    write_ndjson(tmp_path / "environment" / "digits.ndjson", [SEVEN, SEVEN])
    monkeypatch.setenv(HANDWRITING_DIR_VARIABLE, str(tmp_path / "environment"))
    assert len(load_unipen("digits", tmp_path / "argument")) == 1
    assert len(load_unipen("digits")) == 2


def test_a_missing_file_is_told_what_to_do_by_what_chose_its_folder(tmp_path, monkeypatch):
    """The advice was the same whatever chose the folder: "put that folder beside the project (where it was), set
    NUMVISION_HANDWRITING_DIR=/path/to/unipen (which was set, and not said to have chosen it), or pass data_dir=" (of
    no use at a terminal)."""
    source = ("The UNIPEN files (digits.ndjson.gz, letters.ndjson.gz) are built from UNIPEN train_r01_v07 "
              "(https://doi.org/10.5281/zenodo.1195803, CC BY 4.0) and come in the course's shared data folder "
              "shared/data/unipen.")
    beside, elsewhere = tmp_path / "unipen", tmp_path / "elsewhere"
    for folder in (beside, elsewhere):
        folder.mkdir()
        write_ndjson(folder / "digits.ndjson.gz", [SEVEN])
    monkeypatch.setattr(handwriting, "DEFAULT_HANDWRITING_DIR", beside)
    monkeypatch.delenv(HANDWRITING_DIR_VARIABLE)
    cases = [
        (lambda: load_unipen("letters", elsewhere),
         f"{elsewhere}: letters.ndjson.gz (or letters.ndjson) is missing. Give the folder that holds letters.ndjson.gz "
         f"(data_dir= in Python, --handwriting-dir on the command line). {source}"),
        (lambda: load_unipen("letters"),
         f"{beside}: letters.ndjson.gz (or letters.ndjson) is missing. {source} Copy letters.ndjson.gz from there into "
         "this folder, set NUMVISION_HANDWRITING_DIR to a folder that holds it, or give one (data_dir= in Python, "
         "--handwriting-dir on the command line)."),
    ]
    for call, message in cases:
        with pytest.raises(DataError) as raised:
            call()
        assert str(raised.value) == message
    monkeypatch.setenv(HANDWRITING_DIR_VARIABLE, str(elsewhere))
    with pytest.raises(DataError) as raised:
        load_unipen("letters")
    assert str(raised.value) == (f"{elsewhere} (from $NUMVISION_HANDWRITING_DIR): letters.ndjson.gz (or "
                                 f"letters.ndjson) is missing. Unset NUMVISION_HANDWRITING_DIR to use the UNIPEN "
                                 f"folder beside the project, {beside}, or set it to the folder that holds "
                                 "letters.ndjson.gz.")
    monkeypatch.setattr(handwriting, "DEFAULT_HANDWRITING_DIR", tmp_path / "nowhere")
    with pytest.raises(DataError) as raised:
        load_unipen("letters")
    assert str(raised.value) == (f"{elsewhere} (from $NUMVISION_HANDWRITING_DIR): letters.ndjson.gz (or "
                                 f"letters.ndjson) is missing. {source} Set NUMVISION_HANDWRITING_DIR to the "
                                 f"folder that holds letters.ndjson.gz, or unset it and put that folder beside the "
                                 f"project ({tmp_path / 'nowhere'}).")


def test_a_handwriting_folder_with_a_space_around_it_is_told_so(tmp_path, monkeypatch):
    """"UNIPEN folder not found", of a folder that is there, advised to unset the variable to use that same folder."""
    monkeypatch.setenv(HANDWRITING_DIR_VARIABLE, f"{tmp_path} ")
    with pytest.raises(DataError) as raised:
        load_unipen()
    assert str(raised.value) == (f"'{tmp_path} ' (from $NUMVISION_HANDWRITING_DIR): UNIPEN folder not found, though "
                                 f"{tmp_path} is there: the path ends with a space. Remove it from "
                                 "NUMVISION_HANDWRITING_DIR.")


def test_missing_folder_says_where_to_get_the_data(tmp_path, monkeypatch):
    monkeypatch.setattr(handwriting, "DEFAULT_HANDWRITING_DIR", tmp_path / "nowhere")
    with pytest.raises(DataError, match=r"nowhere: UNIPEN folder not found. Give the folder that holds "
                                        r"digits.ndjson.gz \(data_dir= in Python, --handwriting-dir on the command "
                                        r"line\).*zenodo\.1195803"):
        load_unipen("digits", tmp_path / "nowhere")
    monkeypatch.setenv(HANDWRITING_DIR_VARIABLE, str(tmp_path / "elsewhere"))
    with pytest.raises(DataError, match=r"elsewhere \(from \$NUMVISION_HANDWRITING_DIR\): UNIPEN folder not found.*"
                                        r"zenodo\.1195803"):
        load_unipen()
    monkeypatch.delenv(HANDWRITING_DIR_VARIABLE)
    with pytest.raises(DataError, match=r"no UNIPEN folder found.*zenodo\.1195803.* set NUMVISION_HANDWRITING_DIR to "
                                        r"where it is, or give it \(data_dir= in Python, --handwriting-dir on the "
                                        r"command line\)\.$"):
        load_unipen()


def test_a_variable_pointing_nowhere_is_named_and_the_folder_beside_the_project_offered(tmp_path, monkeypatch):
    """The advice was to put the folder beside the project, where it already was."""
    (tmp_path / "unipen").mkdir()
    monkeypatch.setattr(handwriting, "DEFAULT_HANDWRITING_DIR", tmp_path / "unipen")
    monkeypatch.setenv(HANDWRITING_DIR_VARIABLE, str(tmp_path / "nowhere"))
    with pytest.raises(DataError) as raised:
        load_unipen()
    assert str(raised.value) == (f"{tmp_path / 'nowhere'} (from $NUMVISION_HANDWRITING_DIR): UNIPEN folder not found. "
                                 f"Unset NUMVISION_HANDWRITING_DIR to use the UNIPEN folder beside the project, "
                                 f"{tmp_path / 'unipen'}, or set it to the folder that holds digits.ndjson.gz.")


def test_a_file_for_a_folder_or_a_folder_for_a_file_is_named_as_such(tmp_path):
    """Both were "not found", though they were there."""
    path = tmp_path / "digits.ndjson.gz"
    write_ndjson(path, [SEVEN])
    with pytest.raises(DataError, match=f"^{path} is a file, not a folder: give the UNIPEN folder that holds it$"):
        handwriting.handwriting_dir(path)
    with pytest.raises(DataError, match=f"^{tmp_path} is a folder: give the file itself, such as {path}, or read the "
                                        r"folder with load_unipen\('digits', data_dir=...\)$"):
        load_pen_samples(tmp_path)
    assert len(load_unipen("digits", tmp_path)) == 1


@pytest.mark.parametrize("call, message", [
    (lambda: handwriting.handwriting_dir(5), "give the path of the UNIPEN folder, such as shared/data/unipen, not 5"),
    (lambda: load_pen_samples(None), "give the path of a UNIPEN file, such as digits.ndjson.gz, not None"),
    (lambda: load_unipen(["digits"]), r"unknown kind of handwriting \['digits'\]; choose one of: digits, letters"),
    (lambda: load_pen_samples("digits.ndjson.gz", ["digits"]), r"unknown kind of handwriting \['digits'\]"),
    (lambda: pen_drawing(sample(), ["pen_20"]), r"unknown rendering \['pen_20'\]; choose one of: pen_12"),
    (lambda: render_model_inputs(sample()), r"samples is a list of PenSamples: give \[sample\] for one"),
    (lambda: pen_drawing((sample(), sample())), r"pen_drawing draws one PenSample, such as load_unipen\(\)\[0\], "
                                                r"not a tuple: for a list of samples use render_model_inputs"),
    (lambda: render_model_inputs(drawn_digit_set("standard", 1)), r"samples is a list of PenSamples, such as "
                                                                  r"load_unipen\('digits'\); sample 0 is a DrawnDigit"),
    (lambda: render_model_inputs(5), r"samples is a list of PenSamples, such as load_unipen\('digits'\), not 5"),
    (lambda: split_by_writer(sample()), r"samples is a list of PenSamples: give \[sample\] for one"),
    (lambda: split_by_writer(["gmd/kast"]), r"samples is a list of PenSamples, such as load_unipen\('digits'\); "
                                            r"sample 0 is a str"),
    # Iterated, a split was asked for its part 0, which the message then named.
    (lambda: render_model_inputs(split_by_writer(many_writers())), r"a WriterSplit holds three parts, train, "
                                                                   r"validation, benchmark: give one of them, such "
                                                                   r"as split\['train'\]"),
    (lambda: split_by_writer(many_writers())[["train"]], r"unknown part \['train'\]; choose one of: train"),
])
def test_arguments_of_the_wrong_type_are_refused_by_name(call, message):
    """They failed as Python's TypeErrors (unhashable type, not iterable) and AttributeErrors."""
    with pytest.raises(ConfigError, match=message):
        call()


def test_default_folder_is_shared_data_beside_the_project(monkeypatch):
    monkeypatch.delenv(HANDWRITING_DIR_VARIABLE, raising=False)
    if not handwriting.DEFAULT_HANDWRITING_DIR.is_dir():
        pytest.skip("no shared/data/unipen beside the project")
    assert handwriting.DEFAULT_HANDWRITING_DIR == PROJECT_ROOT.parent / "shared" / "data" / "unipen"
    assert handwriting.handwriting_dir() == handwriting.DEFAULT_HANDWRITING_DIR


def test_unknown_kind():
    with pytest.raises(ConfigError, match="unknown kind of handwriting 'numbers'"):
        load_unipen("numbers")


def test_real_digits_are_all_there(real_digits):
    assert len(real_digits) == 10242
    assert {s.label for s in real_digits} == set("0123456789")
    assert len({s.writer_id for s in real_digits}) == 107 and len({s.person for s in real_digits}) == 97


# ---------------------------------------------------------------- splitting


def many_writers(seed=0) -> list[PenSample]:
    rng = np.random.default_rng(seed)
    samples = []
    for institution, writers in {"aaa": 12, "bbb": 5, "ccc": 2}.items():
        for writer in range(writers):
            for _ in range(int(rng.integers(5, 40))):
                samples.append(sample(str(rng.integers(10)), f"{institution}/w{writer}", institution))
    return samples


def test_the_validation_drawings_are_drawn_once_until_the_file_changes(tmp_path):
    path = tmp_path / "digits.ndjson"
    records = [{**SEVEN, "label": s.label, "writer": s.writer_id, "writer_id": s.writer_id,
                "institution": s.institution} for s in many_writers()]
    write_ndjson(path, records)
    drawn = validation_digits(tmp_path)
    assert validation_digits(tmp_path) is drawn
    people_digits = part_digits("validation", tmp_path)
    expected = render_every_way(people_digits)
    assert len(drawn) == len(RENDERINGS) * len(people_digits) > 0
    assert np.array_equal(drawn.model_inputs, np.concatenate([d.model_inputs for d in expected.values()]))
    with pytest.raises(ValueError):  # shared by every caller, so no caller may change it
        drawn.model_inputs[0, 0, 0] = 1.0
    write_ndjson(path, records[:-1])
    os.utime(path, ns=(1, 1))  # a different modification time, even on a coarse file system clock
    redrawn = validation_digits(tmp_path)
    assert redrawn is not drawn and len(redrawn) == len(RENDERINGS) * len(part_digits("validation", tmp_path))


def test_a_folder_with_too_few_writers_to_hold_any_out_says_so(tmp_path):
    """Found when the part is asked for, not after a training run that then has no validation writers."""
    records = [{**SEVEN, "writer": f"gmd/w{writer}", "writer_id": f"gmd/w{writer}"} for writer in range(2)]
    write_ndjson(tmp_path / "digits.ndjson", records)
    assert len(part_digits("train", tmp_path)) == 2
    for part in ("validation", "benchmark"):
        with pytest.raises(DataError, match=f"no writer of these digits is in the '{part}' part. .* at least 3 of"):
            part_digits(part, tmp_path)


def writers_of(split) -> dict[str, set[str]]:
    return {part: {s.writer_id for s in split[part]} for part in PARTS}


def part_of(split, writer_id: str) -> str:
    (part,) = [part for part, writers in writers_of(split).items() if writer_id in writers]
    return part


def assert_disjoint(split, samples) -> None:
    writers = writers_of(split)
    assert sum(len(split[part]) for part in PARTS) == len(samples)
    for index, part in enumerate(PARTS):
        for other in PARTS[index + 1:]:
            assert not writers[part] & writers[other], (part, other)
            assert not {person_of(w) for w in writers[part]} & {person_of(w) for w in writers[other]}
        assert writers[part] == set(split.writers[part])


def test_no_writer_on_two_sides_and_order_does_not_matter():
    samples = many_writers()
    split = split_by_writer(samples)
    assert_disjoint(split, samples)
    shuffled = samples[:]
    random.Random(3).shuffle(shuffled)
    assert writers_of(split_by_writer(shuffled)) == writers_of(split)
    # Each institution of three or more writers gives the benchmark at least one; one of two only trains.
    benchmark = {s.institution for s in split["benchmark"]}
    assert benchmark == {"aaa", "bbb"} and part_of(split, "ccc/w0") == part_of(split, "ccc/w1") == "train"


def test_one_person_in_several_ibm_sessions_stays_on_one_side():
    samples = [sample("1", f"ibm/r0{session}-{writer:02d}", "ibm") for writer in range(4, 16)
               for session in range(writer % 3 + 1) for _ in range(10)]
    parts = split_by_writer(samples)
    for writer in range(4, 16):
        sessions = {f"ibm/r0{session}-{writer:02d}" for session in range(writer % 3 + 1)}
        assert len({part_of(parts, session) for session in sessions}) == 1
    assert person_of("ibm/r01-07") == person_of("ibm/r03-07") == "ibm/07" and person_of("syn/r01-07") == "syn/r01-07"


def test_one_person_whose_id_is_spelt_several_ways_stays_on_one_side():
    """A teacher's file may write one writer "Zoé Lou", "zoé lou", "ZOÉ LOU", "Zoé Lou ", "Zoé  Lou" or with the
    accent as a separate mark: each spelling was a person of its own, and most people of such a file were in two or
    three parts."""
    spellings = [str, str.lower, str.upper, lambda name: name + " ", lambda name: unicodedata.normalize("NFD", name),
                 lambda name: name.replace(" ", "  ")]
    samples = [sample(s.label, spellings[index % len(spellings)](s.writer_id.replace("/w", "/Zoé Lou")), s.institution)
               for index, s in enumerate(many_writers())]
    split = split_by_writer(samples)
    assert sum(len(split[part]) for part in PARTS) == len(samples)
    people = {part: {person_key(s.writer_id) for s in split[part]} for part in PARTS}
    assert not people["train"] & people["validation"] and not people["train"] & people["benchmark"]
    assert not people["validation"] & people["benchmark"] and people["benchmark"]
    assert len(set.union(*people.values())) == len({s.writer_id for s in many_writers()})
    # people_parts names a person in any of the spellings.
    moved = next(iter(people["benchmark"]))
    again = split_by_writer(samples, people_parts={moved.upper() + " ": "train"})
    assert moved in {person_key(s.writer_id) for s in again["train"]}
    assert moved not in {person_key(s.writer_id) for s in again["benchmark"]}
    assert person_key("IBM/r01-07 ") == person_key("ibm/r03-07") == "ibm/07"
    # A name typed twice in the class's panel, once with two spaces or a tab between its words: one student.
    assert person_key("Ada  Lovelace") == person_key("ada\tLovelace ") == person_key("Ada Lovelace") == "ada lovelace"


def test_a_split_reads_a_generator_of_samples_as_it_reads_a_list():
    """`assign_parts` used the generator up, and every part came back empty."""
    samples = many_writers()
    from_generator = split_by_writer(s for s in samples if s.institution != "ccc")
    from_list = split_by_writer([s for s in samples if s.institution != "ccc"])
    assert {part: from_generator[part] for part in PARTS} == {part: from_list[part] for part in PARTS}
    assert len(from_generator["benchmark"]) > 0


@pytest.mark.parametrize("settings, message", [
    ({"people_parts": {"aaa/w0": "test"}}, r"people_parts gives each person one of the parts train, validation, "
                                           r"benchmark; not \{'aaa/w0': 'test'\}"),
    ({"benchmark_share": 20}, "each 0 or more and together below 1 \\(such as 0.2 and 0.12\\), not 20 and 0.12"),
    ({"benchmark_share": "0.2"}, "not '0.2' and 0.12"),
    ({"validation_share": -0.1}, "not 0.2 and -0.1"),
    ({"benchmark_share": 0.5, "validation_share": 0.5}, "not 0.5 and 0.5"),
])
def test_split_settings_are_checked(settings, message):
    """A share of 20 put every writer in the benchmark; an unknown part and a string failed as Python's errors."""
    with pytest.raises(ConfigError, match=message):
        split_by_writer(many_writers(), **settings)


def test_real_split_is_writer_disjoint_balanced_and_independent_of_order(real_digits):
    split = split_by_writer(real_digits)
    assert_disjoint(split, real_digits)
    shares = {part: len(split[part]) / len(real_digits) for part in PARTS}
    assert 0.18 <= shares["benchmark"] <= 0.24 and 0.08 <= shares["validation"] <= 0.15
    for institution in {s.institution for s in real_digits}:
        people = {s.person for s in real_digits if s.institution == institution}
        held_out = {s.person for s in split["benchmark"] if s.institution == institution}
        assert (len(held_out) >= 1) == (len(people) >= 3), institution
    shuffled = list(real_digits)
    random.Random(1).shuffle(shuffled)
    assert writers_of(split_by_writer(shuffled)) == writers_of(split)


def test_module_docstring_shows_the_current_split(real_digits):
    assert digit_split().table() in handwriting.__doc__.replace("\n    ", "\n")


def fingerprint(writers) -> tuple[int, str]:
    return len(writers), hashlib.sha256("\n".join(sorted(writers)).encode()).hexdigest()[:16]


def test_the_shipped_split_is_the_one_the_models_were_trained_and_measured_on(real_digits):
    """Grouping a person's spellings of an id (`person_key`) leaves the split of clean ids, UNIPEN's, as it was:
    the writer sets as the split gave them before, the shipped models' training, validation and benchmark people."""
    digits = digit_split()
    assert fingerprint(digits.writers["train"]) == (70, "39272a79e0ffcdc1")
    assert sorted(digits.writers["validation"]) == [
        "apa/JeffJohnson", "apb/Fern_Anderson", "apb/Gary_Cunningham", "apb/Irene_Castro", "apb/Joe_Manning",
        "apb/Richard_Hirsch", "apb/Rosemary_Maselli", "app/KirkGould", "ibm/r00-11", "ibm/r02-11", "ibm/r04-11",
        "syn/fwu", "syn/pm", "syn/rkt-dig19", "syn/spd", "syn/zc"]
    assert sorted(digits.writers["benchmark"]) == [
        "apa/ArloReeves", "apa/DavidSinger", "apb/David_Navi", "apb/Diane_Figueira", "apb/Emda_Hartnett",
        "apb/Graig_Murphy", "apb/Kenny_Wee", "apb/textWilliamShawSplit", "app/ChristineStellina",
        "app/HarveyLehtman", "app/LeslieMuzzio", "gmd/alek", "gmd/monu", "ibm/r02-15", "ibm/r03-09", "ibm/r03-15",
        "ibm/r04-05", "pri/159", "syn/cam", "syn/jab-dig9", "syn/tds-dig21"]
    letters = letter_split()
    assert {part: fingerprint(letters.writers[part]) for part in PARTS} == {
        "train": (89, "571ddc8844660a88"), "validation": (22, "472bcc4a70c01f78"),
        "benchmark": (30, "d047e2e5119b03e2")}


# ---------------------------------------------------------------- rendering


def points_of(drawing) -> np.ndarray:
    return np.concatenate([np.asarray(stroke) for stroke in drawing.strokes])


def test_normalised_strokes_keep_the_aspect_ratio_of_a_thin_one():
    one = sample("1", strokes=[[[2, 0], [3, 40], [2, 80]]])
    points = np.concatenate(normalise_strokes(one.strokes))
    assert np.allclose(points.min(axis=0) + points.max(axis=0), 0, atol=1e-9)
    assert np.ptp(points[:, 1]) == pytest.approx(1) and np.ptp(points[:, 0]) < 0.03
    drawing = pen_drawing(one, "pen_20")
    assert np.ptp(points_of(drawing)[:, 0]) < 10  # a line, not a box: the pen does the rest


def test_stair_steps_of_a_coarse_tablet_are_smoothed():
    stairs = [[x // 2 + x % 2, x // 2] for x in range(24)]  # a diagonal in one-unit steps
    (points,) = normalise_strokes([np.asarray(stairs, dtype=np.float32)])
    across = (points[:, 0] - points[:, 1]) / np.sqrt(2)  # distance from the diagonal
    raw_across = np.diff(np.asarray(stairs, dtype=float), axis=1)[:, 0] / np.sqrt(2) / 12
    assert np.ptp(across[3:-3]) < 0.2 * np.ptp(raw_across)


def test_a_sample_in_fractions_of_a_unit_keeps_its_shape():
    """An imported file may hold a digit in [0, 1] coordinates: one "unit" is then the whole digit, not a tablet's
    stair step, and smoothing by it melted a 7 into a blob."""
    seven = [[0.1, 0.05], [0.9, 0.05], [0.35, 0.95]]
    in_units = normalise_strokes([np.asarray(seven) * 100])
    in_fractions = normalise_strokes([np.asarray(seven)])
    distances = np.linalg.norm(in_fractions[0][:, None] - in_units[0][None], axis=2)
    assert distances.min(axis=1).max() < 0.01, "the same drawing as in a fine tablet's units"
    corner = (np.array([0.9, 0.05]) - 0.5) / 0.9  # where the box of side 0.9 centred on (0.5, 0.5) puts it
    assert np.linalg.norm(in_fractions[0] - corner, axis=1).min() < 0.02, "the 7's corner stays sharp"


@pytest.mark.parametrize("name", list(RENDERINGS))
def test_named_renderings_are_deterministic_and_keep_their_promises(name, real_digits):
    spec = RENDERINGS[name]
    for chosen in real_digits[::1500]:
        drawing = pen_drawing(chosen, name, seed=5)
        again, other = pen_drawing(chosen, name, seed=5), pen_drawing(chosen, name, seed=6)
        assert drawing.strokes == again.strokes and drawing.paper_seed == again.paper_seed
        assert drawing.strokes != other.strokes or drawing.brush_width != other.brush_width
        points = points_of(drawing)
        radius = drawing.brush_width / 2
        assert points.min() >= radius and points.max() <= drawing.canvas_size - radius
        assert spec.brush[0] <= drawing.brush_width <= spec.brush[1]
        assert spec.height[0] - 1e-6 <= np.ptp(points, axis=0).max() <= spec.height[1] + 1e-6
        assert drawing.dark_on_light == spec.dark_on_light and drawing.label == chosen.digit
        centre = (points.min(axis=0) + points.max(axis=0)) / 2
        if spec.corner:
            assert np.all(np.minimum(centre, drawing.canvas_size - centre) < 110)
        else:
            assert np.all(np.abs(centre - drawing.canvas_size / 2) <= spec.centre_shift + 1e-6)


def test_a_renderings_size_is_of_the_samples_longer_side_as_its_description_says():
    """Said "150-220 px tall", where a wide 0 is that wide and less tall; the recorded benchmark repeats the words."""
    wide_zero = sample("0", strokes=[[[0, 0], [100, 0], [100, 50], [0, 50], [0, 0]]])
    for name, spec in RENDERINGS.items():
        assert "tall" not in spec.description, name
        if name != "dark_on_paper":  # which says nothing of the size
            assert f"{spec.height[0]}-{spec.height[1]} px on its longer side" in spec.description, name
        width, height = np.ptp(points_of(pen_drawing(wide_zero, name)), axis=0)
        assert spec.height[0] - 1e-6 <= width <= spec.height[1] + 1e-6 and height < 0.6 * width, name
    recorded = json.loads((RESULTS_DIR / "benchmarks" / "real_handwriting.json").read_text())["renderings"]
    assert recorded == {name: RENDERINGS[name].description for name in recorded}


def test_augmentation_varies_everything_it_promises(real_digits):
    drawings = [pen_drawing(s, augment=True, seed=1, copy=c) for s in real_digits[::500] for c in range(6)]
    canvases = [d.canvas_size for d in drawings]
    heights = [np.ptp(points_of(d), axis=0).max() / d.canvas_size for d in drawings]
    brushes = [d.brush_width / np.ptp(points_of(d), axis=0).max() for d in drawings]
    assert AUGMENTATION.canvas_size[0] <= min(canvases) and max(canvases) <= AUGMENTATION.canvas_size[1]
    assert np.ptp(canvases) > 150 and min(heights) < 0.35 and max(heights) > 0.7
    assert min(brushes) < 0.07 and max(brushes) > 0.15
    assert 0 < sum(d.dark_on_light for d in drawings) < len(drawings) / 3
    for drawing in drawings:
        points = points_of(drawing)
        assert points.min() >= drawing.brush_width / 2 and points.max() <= drawing.canvas_size - drawing.brush_width / 2
    again = [pen_drawing(s, augment=True, seed=1, copy=c) for s in real_digits[::500] for c in range(6)]
    assert [d.strokes for d in again] == [d.strokes for d in drawings]


def test_augmentation_drops_only_a_short_stroke_of_three():
    strokes = [[[0, 0], [0, 100]], [[0, 0], [10, 0]], [[0, 50], [8, 50]]]
    always = Augmentation(drop_stroke_share=1.0)
    counts = {len(pen_drawing(sample("4", strokes=strokes), augment=always, copy=c).strokes) for c in range(20)}
    assert counts == {2}
    for copy in range(20):
        kept = pen_drawing(sample("4", strokes=strokes), augment=always, copy=copy).strokes
        assert max(np.ptp(np.asarray(stroke), axis=0).max() for stroke in kept) > 50  # the long stroke stayed
    assert {len(pen_drawing(sample("4", strokes=strokes[:2]), augment=always, copy=c).strokes)
            for c in range(20)} == {2}


def unit(strokes):
    return normalise_strokes([np.asarray(stroke, dtype=float) for stroke in strokes])


def unchanged(result, strokes) -> bool:
    """The same strokes, point for point: none changed, dropped or added."""
    return len(result) == len(strokes) and all(np.array_equal(a, b) for a, b in zip(result, strokes))


def test_a_long_flag_rises_into_the_top_of_a_ones_stem_in_the_same_movement():
    bare = unit([[[50, 0], [50, 100]]])
    flagged = handwriting.with_long_flag(bare, length=0.4, fall=30)
    assert len(flagged) == 1
    stem = flagged[0]
    top = int(np.argmin(stem[:, 1]))
    flag, down = stem[:top + 1], stem[top:]
    assert np.ptp(flag[:, 0]) / np.ptp(stem[:, 1]) == pytest.approx(0.4 * np.cos(np.radians(30)), abs=0.02)
    assert flag[0, 0] < flag[-1, 0] and flag[0, 1] > flag[-1, 1]  # starts low on the left, rises to the right
    assert np.ptp(down[:, 0]) < 1e-9 and down[-1, 1] == pytest.approx(stem[:, 1].max())
    np.testing.assert_allclose(stem.min(axis=0) + stem.max(axis=0), 0, atol=1e-9)  # centred again
    assert np.ptp(stem, axis=0).max() == pytest.approx(1)
    # Drawn bottom-up, the flag still joins the top; a 1 that has a flag already is left as written.
    upwards = handwriting.with_long_flag(unit([[[50, 100], [50, 0]]]), length=0.4, fall=30)[0]
    assert upwards[0, 0] < -0.1 and upwards[0, 1] == pytest.approx(flagged[0][0, 1])
    own_flag = unit([[[30, 20], [50, 0], [50, 100]]])
    assert unchanged(handwriting.with_long_flag(own_flag, 0.5, 40), own_flag)
    # Most bare 1s start with a tiny hook where the pen landed: it gives way to the flag, it is no flag itself.
    for hooked in ([[48, 3], [50, 0], [50, 100]], [[50, 100], [50, 0], [52, 3]]):
        stem = handwriting.with_long_flag(unit([hooked]), length=0.4, fall=30)[0]
        top = int(np.argmin(stem[:, 1]))
        flag = stem[:top + 1]  # drawn either way, the flagged 1 is written flag first, as above
        assert np.ptp(flag[:, 0]) / np.ptp(stem[:, 1]) == pytest.approx(0.4 * np.cos(np.radians(30)), abs=0.03)
        assert flag[0, 0] < stem[top, 0] - 0.3  # the flag, not the hook, comes into the top


@pytest.mark.parametrize("rising", [True, False])
def test_a_slash_crosses_the_zero_corner_to_corner_as_a_last_stroke(rising):
    oval = unit([[[50 + 30 * np.sin(t), 50 - 45 * np.cos(t)] for t in np.linspace(0, 2 * np.pi, 40)]])
    slashed = handwriting.with_slash(oval, rising=rising, overshoot=0.1)
    assert len(slashed) == 2
    slash, ring = slashed[1], slashed[0]
    start, end = slash[0], slash[-1]
    assert start[0] < end[0] and (start[1] > end[1]) == rising  # rising: "/", else a falling slash
    assert np.all(slash.min(axis=0) < ring.min(axis=0)) and np.all(slash.max(axis=0) > ring.max(axis=0))
    inside = handwriting.with_slash(oval, rising=rising, overshoot=-0.05)
    assert np.all(inside[1].min(axis=0) > inside[0].min(axis=0))


def test_a_crossbar_crosses_a_sevens_stem_halfway_down_unless_it_has_one():
    seven = unit([[[0, 0], [60, 0], [30, 100]]])  # the bar, then the stem, in one stroke
    crossed = handwriting.with_crossbar(seven, width=0.4)
    assert len(crossed) == 2
    bar, stroke = crossed[1], crossed[0]
    height = np.ptp(np.concatenate(crossed)[:, 1])
    assert np.ptp(bar[:, 1]) == pytest.approx(0, abs=1e-6) and np.ptp(bar[:, 0]) == pytest.approx(0.4 * height)
    assert bar[0, 1] == pytest.approx(stroke[:, 1].min() + height / 2, abs=0.05 * height)
    stem_x = np.interp(bar[0, 1], stroke[1:, 1], stroke[1:, 0])  # where the stem is at the bar's height
    assert bar[:, 0].min() < stem_x < bar[:, 0].max()
    already = unit([[[0, 0], [60, 0], [30, 100]], [[15, 50], [45, 50]]])
    left_alone = handwriting.with_crossbar(already, width=0.4)
    assert unchanged(left_alone, already)


def test_without_lifting_the_pen_the_strokes_are_joined_in_the_order_written():
    four = unit([[[10, 0], [0, 60], [80, 60]], [[60, 0], [60, 100]]])  # the arm and bar, then the stem
    joined = handwriting.without_lifting(four)
    assert len(joined) == 1
    stroke = joined[0]
    np.testing.assert_array_equal(stroke[:len(four[0])], four[0])
    np.testing.assert_array_equal(stroke[-len(four[1]):], four[1])
    between = stroke[len(four[0]) - 1:len(stroke) - len(four[1]) + 1]  # from the bar's end to the stem's top
    assert len(between) > 3
    direction = (four[1][0] - four[0][-1]) / np.linalg.norm(four[1][0] - four[0][-1])
    offsets = between - four[0][-1]
    np.testing.assert_allclose(offsets[:, 0] * direction[1] - offsets[:, 1] * direction[0], 0, atol=1e-9)
    np.testing.assert_array_equal(np.concatenate(joined).min(axis=0), np.concatenate(four).min(axis=0))
    np.testing.assert_array_equal(np.concatenate(joined).max(axis=0), np.concatenate(four).max(axis=0))
    one_stroke = unit([[[0, 0], [60, 0], [30, 100]]])
    assert unchanged(handwriting.without_lifting(one_stroke), one_stroke)
    crossed_in_one = handwriting.WRITING_STYLES["7, crossbar, pen kept down"][1](one_stroke)
    assert len(crossed_in_one) == 1 and len(crossed_in_one[0]) > len(one_stroke[0])


def test_an_open_four_in_one_stroke_goes_back_up_its_stem_beside_the_way_down():
    four = unit([[[10, 0], [0, 60], [80, 60]], [[60, 0], [60, 100]]])  # the arm and bar, then the stem downwards
    stem_x, bar_y, height = four[1][0, 0], four[0][-1, 1], np.ptp(np.concatenate(four)[:, 1])
    (stroke,) = handwriting.open_in_one_stroke(four, loop_width=0.1)
    np.testing.assert_array_equal(stroke[:len(four[0])], four[0])
    np.testing.assert_array_equal(stroke[-len(four[1]) + 1:], four[1][1:])
    top = len(stroke) - len(four[1])  # the stem's top, where the way up turns into the way down
    way_up = stroke[len(four[0]):top + 1]
    way_up = way_up[way_up[:, 1] < bar_y - 0.02 * height]  # after the way back along the bar
    # Up beside the stem, on the bar's side (the bar ends right of it), closing in to meet it at the top.
    beside = way_up[:, 0] - stem_x
    assert np.all(np.diff(way_up[:, 1]) < 0) and np.all(np.diff(beside) <= 1e-9) and beside[-1] == pytest.approx(0)
    assert beside[0] == pytest.approx(0.1 * height, rel=0.1)
    # Everything else is the 4's own ink (the way back to the stem runs along the bar): the top stays open.
    ink = np.concatenate(four)
    elsewhere = stroke[~np.isin(stroke, way_up).all(axis=1)]
    assert np.linalg.norm(elsewhere[:, None] - ink[None], axis=2).min(axis=1).max() < 0.02
    stem_first = [four[1], four[0]]
    stem_upwards = [four[0], four[1][::-1]]
    for left_alone in (stem_first, stem_upwards, four[:1]):
        assert unchanged(handwriting.open_in_one_stroke(left_alone, 0.1), left_alone)


def test_a_hooked_tail_turns_left_and_back_up_from_where_the_tail_ended():
    nine = unit([[[60, 20], [30, 0], [0, 20], [30, 40], [60, 20], [60, 100]]])  # a loop, then the tail down
    (hooked,) = handwriting.with_hooked_tail(nine, size=0.25)
    tail_end = len(nine[0]) - 1
    hook = hooked[tail_end:]
    height = np.ptp(hooked[:, 1])
    across = hook[-1] - hook[0]
    # Half a circle a quarter of the 9's height across; the drawing is a radius deeper.
    assert across[0] == pytest.approx(-0.25 * height / 1.125, rel=0.02) and across[1] == pytest.approx(0, abs=1e-6)
    centre = (hook[0] + hook[-1]) / 2
    np.testing.assert_allclose(np.linalg.norm(hook - centre, axis=1), abs(across[0]) / 2, rtol=1e-6)
    assert np.all(hook[1:-1, 1] > hook[0, 1]) and hooked[:, 1].argmax() in range(tail_end, len(hooked))
    # The 9 itself keeps its shape: the same points, moved and scaled into the unit box together.
    before, after = nine[0], hooked[:tail_end + 1]
    scale = np.ptp(after[:, 0]) / np.ptp(before[:, 0])
    np.testing.assert_allclose((after - after[0]) / scale, before - before[0], atol=1e-9)
    written_upwards = [nine[0][::-1]]
    assert unchanged(handwriting.with_hooked_tail(written_upwards, 0.25), written_upwards)


def test_proportions_move_the_middle_and_keep_the_box():
    two_bars = unit([[[0, 0], [100, 0]], [[0, 50], [100, 50]], [[0, 100], [100, 100]]])
    middle = two_bars[1][0, 1]
    small_top = handwriting.with_proportions(two_bars, 1.3)
    small_bottom = handwriting.with_proportions(two_bars, 0.75)
    assert small_top[1][0, 1] < middle < small_bottom[1][0, 1]
    for changed in (small_top, small_bottom):
        np.testing.assert_allclose(np.concatenate(changed).min(axis=0), np.concatenate(two_bars).min(axis=0))
        np.testing.assert_allclose(np.concatenate(changed).max(axis=0), np.concatenate(two_bars).max(axis=0))
        np.testing.assert_array_equal(changed[0][:, 0], two_bars[0][:, 0])


def test_styles_go_only_to_their_digits_and_leave_other_drawings_as_they_were():
    one, zero = sample("1", strokes=[[[50, 0], [50, 100]]]), sample("0", strokes=[[[0, 0], [30, 0], [30, 40], [0, 0]]])
    letter = PenSample("A", "gmd/kast", "gmd", (np.array([[0, 40], [15, 0], [30, 40]], dtype=np.float32),))
    every_style = Augmentation(long_flag_share=1.0, slash_share=1.0)
    for copy in range(5):
        assert len(pen_drawing(zero, augment=every_style, copy=copy).strokes) == 2
        flagged = np.asarray(pen_drawing(one, augment=every_style, copy=copy).strokes[0])
        plain = np.asarray(pen_drawing(one, augment=True, copy=copy).strokes[0])
        assert 0 < np.argmin(flagged[:, 1]) < len(flagged) - 1, "the flag rises into the top of the stroke"
        assert np.argmin(plain[:, 1]) in (0, len(plain) - 1)
        # A flag is for 1s, a slash for 0s: other digits and letters are drawn as they were.
        assert pen_drawing(sample("7"), augment=every_style, copy=copy).strokes == pen_drawing(
            sample("7"), augment=True, copy=copy).strokes
        assert pen_drawing(letter, augment=every_style, copy=copy).strokes == pen_drawing(
            letter, augment=True, copy=copy).strokes


def test_a_restyled_drawing_is_the_same_drawing_with_the_style_added(real_digits):
    one = next(s for s in real_digits if s.label == "1" and len(s.strokes) == 1
               and np.argmin(s.strokes[0][:, 1]) == 0)  # a bare stroke, written downwards
    flag = handwriting.WRITING_STYLES["1, flag 45%, 35 deg"][1]
    plain, flagged = pen_drawing(one, "pen_20", seed=2), pen_drawing(one, "pen_20", seed=2, restyle=flag)
    assert flagged.brush_width == plain.brush_width and flagged.paper_seed == plain.paper_seed
    assert np.ptp(points_of(flagged)[:, 0]) > np.ptp(points_of(plain)[:, 0]) + 30
    rendered = render_model_inputs([one], "pen_20", seed=2, restyle=flag)
    np.testing.assert_array_equal(rendered.model_inputs[0], flagged.model_input())


def test_model_inputs_come_from_the_pads_path_and_do_not_depend_on_the_batch(real_digits):
    chosen = real_digits[::700]
    rendered = render_model_inputs(chosen, "pen_20", seed=3, copies=2)
    assert rendered.model_inputs.shape == (2 * len(chosen), 28, 28) and rendered.model_inputs.dtype == np.float32
    assert 0 <= rendered.model_inputs.min() and rendered.model_inputs.max() <= 1
    assert list(rendered.labels) == [s.digit for s in chosen for _ in range(2)]
    assert list(rendered.writer_ids[::2]) == [s.writer_id for s in chosen]
    assert list(rendered.institutions[::2]) == [s.institution for s in chosen]
    drawing = pen_drawing(chosen[4], "pen_20", seed=3, copy=1)
    np.testing.assert_array_equal(rendered.model_inputs[9],
                                  preprocess(drawing.strokes, drawing.canvas_size, drawing.brush_width))
    alone = render_model_inputs(chosen[4:5], "pen_20", seed=3, copies=2)
    np.testing.assert_array_equal(alone.model_inputs, rendered.model_inputs[8:10])
    assert not np.array_equal(rendered.model_inputs[8], rendered.model_inputs[9])


def test_dark_on_paper_goes_in_as_a_picture(real_digits):
    drawing = pen_drawing(real_digits[0], "dark_on_paper")
    image = drawing.image()
    assert np.median(image) > 150
    np.testing.assert_array_equal(render_model_inputs(real_digits[:1], "dark_on_paper").model_inputs[0],
                                  preprocess(image))


@pytest.mark.parametrize("name", list(SCANS))
def test_a_scan_is_the_drawing_cut_out_and_shrunk_and_goes_in_as_a_picture(name, real_digits):
    scan = SCANS[name].scan
    # A narrow 1 shows that the scan keeps the drawing's shape rather than stretching it to the square.
    narrow_one = next(s for s in real_digits if s.label == "1"
                      and np.ptp(np.concatenate(normalise_strokes(s.strokes))[:, 0]) < 0.2)
    image = pen_drawing(narrow_one, name).image()
    assert image.shape == (scan.size, scan.size) and image.dtype == np.uint8
    assert image[0, 0] == image[-1, -1] == 255  # dark ink on white
    inked = image < 255
    ink_rows, ink_columns = np.flatnonzero(inked.any(axis=1)), np.flatnonzero(inked.any(axis=0))
    assert np.ptp(ink_rows) >= scan.size - 2
    assert np.ptp(ink_columns) < scan.size / 3
    assert (set(np.unique(image)) == {0, 255}) == scan.black_and_white
    np.testing.assert_array_equal(render_model_inputs([narrow_one], name).model_inputs[0], preprocess(image))


def test_render_settings_are_checked():
    with pytest.raises(ConfigError, match="unknown rendering 'crayon'.*small_in_corner.*scan_32"):
        render_model_inputs([sample()], "crayon")
    with pytest.raises(ConfigError, match="not both"):
        render_model_inputs([sample()], "pen_12", augment=True)
    with pytest.raises(ConfigError, match="copies"):
        render_model_inputs([sample()], copies=0)
    # The file is fine, the argument is not: it was a DataError blaming the data.
    with pytest.raises(ConfigError, match=r"^samples are drawn as digits here; sample 1 \(gmd/kast\) is labelled 'a'. "
                                          r"Give digits, such as load_unipen\('digits'\), or draw letters one at a "
                                          r"time with pen_drawing \(labelled NO_DIGIT\)$"):
        render_model_inputs([sample(), sample(label="a")])


def test_a_sample_that_cannot_be_drawn_is_named_not_dropped():
    dot = sample("0", "apa/Someone", "apa", strokes=[[[4, 4]], [[4, 4], [4, 4]]])
    with pytest.raises(ImageError, match=r"sample 1 \(apa/Someone, label 0\), rendering pen_12, copy 0: every point"):
        render_model_inputs([sample(), dot], "pen_12")


def test_shipped_model_reads_real_benchmark_digits(real_digits, predictor):
    benchmark = split_by_writer(real_digits)["benchmark"][::20]
    rendered = render_model_inputs(benchmark, "pen_20")
    predicted = predictor.probabilities(rendered.model_inputs).argmax(axis=1)
    accuracy = np.mean(predicted == rendered.labels)
    # Catches upside-down, mirrored or mis-scaled drawings (they read at chance); the benchmark measures.
    assert accuracy > 0.8


# ---------------------------------------------------------------- the benchmark script


def test_benchmark_script_smoke_run(tmp_path, real_digits, shipped_model_path):
    output = tmp_path / "real.json"
    printed = run_script("benchmarks/real_handwriting.py", "--max-per-digit", 2, "--renderings", "pen_20",
                         "small_in_corner", "--scans", "scan_32", "--models", shipped_model_path,
                         "--output", output)
    report = json.loads(output.read_text())
    model = report["models"][shipped_model_path.stem]
    assert model["samples"] == 40 and set(model["by_rendering"]) == {"pen_20", "small_in_corner"}
    assert set(model["by_digit"]) == set("0123456789") and 0 <= model["accuracy"] <= 1
    assert sum(v["samples"] for v in model["by_institution"].values()) == 40
    assert set(model["by_writer"]) <= set(report["data"]["people"]) and len(model["worst_writers"]) == 5
    assert 0 <= model["mean_of_writers"] <= 1
    assert 0 <= model["confident_mistakes"]["share_of_samples"] <= 1
    assert "CC BY 4.0" in report["data"]["licence"] and "zenodo.1195803" in report["data"]["doi"]
    benchmark_people = {s.person for s in split_by_writer(real_digits)["benchmark"]}
    assert set(report["data"]["people"]) <= benchmark_people
    for table in ("mean of the writers' accuracies", "accuracy by rendering", "accuracy by digit",
                  "accuracy by institution", "confident mistakes", "worst writers", "most common confusions"):
        assert table in printed
    assert shipped_model_path.stem in printed and "small_in_corner" in printed
    scans = report["scans"]
    assert scans["renderings"] == {"scan_32": SCANS["scan_32"].description}
    assert scans["models"][shipped_model_path.stem]["scan_32"]["samples"] == 20
    assert "as small scans" in printed and "scan_32" in printed


def test_writing_styles_script_smoke_run(tmp_path, real_digits, shipped_model_path):
    output = tmp_path / "styles.json"
    printed = run_script("benchmarks/writing_styles.py", "--max-per-digit", 2, "--models", shipped_model_path,
                         "--output", output)
    report = json.loads(output.read_text())
    rows = report["models"][shipped_model_path.stem]
    assert set(handwriting.WRITING_STYLES) < set(rows)
    for name, (digit, _) in handwriting.WRITING_STYLES.items():
        assert f"{digit}, as written" in rows and report["styles"][name] == digit
        assert rows[name]["samples"] == rows[f"{digit}, as written"]["samples"] == 2 * len(RENDERINGS)
        assert 0 <= rows[name]["confident_mistakes"] <= 1 - rows[name]["accuracy"] + 1e-9
    assert set(report["digit_check_refused"]) == set(rows)
    assert all(0 <= share <= 1 for share in report["digit_check_refused"].values())
    assert report["data"]["part"] == "validation" and "CC BY 4.0" in report["data"]["source"]
    assert "0, slashed /" in printed and "refused by the check" in printed
    assert shipped_model_path.stem in printed


def test_drawing_settings_of_the_wrong_kind_are_refused(real_digits):
    """A string counted as true (augment="yes"), and 2.5 copies failed deep inside the drawing."""
    with pytest.raises(ConfigError, match="augment is True .* or a handwriting.Augmentation, not 'yes'"):
        pen_drawing(real_digits[0], augment="yes")
    for copies in (2.5, 0, True):
        with pytest.raises(ConfigError, match=f"copies must be a whole number, at least 1, not {copies!r}"):
            render_model_inputs(real_digits[:2], "pen_20", copies=copies)


@pytest.mark.parametrize("settings, message", [
    ({"brush": 0.1}, r"brush is a range \(low, high\) of two numbers, low at most high, such as \(0.04, 0.2\), not 0.1"),
    ({"canvas_size": (420, 160)}, r"canvas_size is a range .* not \(420, 160\)"),
    ({"canvas_size": (160.5, 420)}, "each end of canvas_size must be a whole number of pixels"),
    ({"rotation": (-12, "12")}, r"rotation is a range .* not \(-12, '12'\)"),
    ({"long_flag_share": 35}, "long_flag_share is a share from 0 to 1, such as 0.0, not 35"),
    ({"dark_on_light_share": True}, "dark_on_light_share is a share from 0 to 1, such as 0.15, not True"),
    ({"min_brush": -1}, "min_brush is a number, 0 or more, such as 3.0, not -1"),
    ({"flag_share": 0.3}, r"Augmentation has no setting 'flag_share' \(did you mean .*long_flag_share"),
    # Each valid alone: every digit was drawn as a dot, or the first drawing failed naming a brush never set.
    ({"height": (0, 0)}, r"height starts above 0 \(the digit's longer side, as a share of the canvas\), such as "
                         r"\(0.2, 0.85\), not \(0, 0\): a digit of size 0 is drawn as a dot"),
    ({"canvas_size": (2, 2)}, r"canvas_size starts above min_brush, 3.0 pixels, such as \(160, 420\), not \(2, 2\)"),
    ({"brush": (0, 0), "min_brush": 0}, r"brush starts above 0, or min_brush is above 0 \(such as \(0.04, 0.2\) and "
                                        r"3.0\), not \(0, 0\) and 0: a pen of 0 pixels draws nothing"),
])
def test_augmentation_settings_are_checked_when_it_is_made(settings, message):
    """They failed as NumPy's errors at the first drawing, or (a share of 35) flagged every 1 without a word."""
    with pytest.raises(ConfigError, match=message):
        Augmentation(**settings)
    assert Augmentation(canvas_size=(280, 280), long_flag_share=1, rotation=(0, 0)).long_flag_share == 1


@pytest.mark.parametrize("seed", [-1, 1.5, None, 2**32])
def test_drawing_refuses_a_seed_no_generator_takes(seed):
    """`check_seed`'s rule, as the drawn digits and the splits have it; NumPy's own errors came before."""
    message = f"the seed must be a whole number from 0 to 4294967295, not {seed}"
    for draw in (lambda: render_model_inputs([sample()], "pen_20", seed=seed),
                 lambda: render_model_inputs([], "pen_20", seed=seed),
                 lambda: render_every_way([sample()], ["pen_20"], seed=seed),
                 lambda: pen_drawing(sample(), seed=seed)):
        with pytest.raises(ConfigError, match=message):
            draw()


def test_a_copy_number_is_a_whole_number_from_0():
    for copy in (-1, 1.5, None):
        with pytest.raises(ConfigError, match=f"copy is a whole number, 0 or more .*, not {copy}"):
            pen_drawing(sample(), copy=copy)


def test_restyle_is_a_function_not_the_styles_entry_or_name():
    """Notebook 06 invites playing with the styles: the entry (digit, change) and the name failed as TypeErrors."""
    name = "1, flag 45%, 35 deg"
    one = sample("1", strokes=[[[50, 0], [50, 100]]])
    for wrong in (handwriting.WRITING_STYLES[name], name):
        with pytest.raises(ConfigError, match=r"restyle is a function that changes the strokes, such as "
                                              r"WRITING_STYLES\[name\]\[1\] .*, not "):
            render_model_inputs([one], "pen_20", restyle=wrong)
    assert len(render_model_inputs([one], "pen_20", restyle=handwriting.WRITING_STYLES[name][1])) == 1


def test_renderings_are_a_list_of_names_all_checked_before_any_is_drawn(monkeypatch):
    """A lone name was read letter by letter ("unknown rendering 'p'")."""
    with pytest.raises(ConfigError, match=r"renderings is a list of names, such as \['pen_20'\], not 'pen_20'"):
        render_every_way([sample()], "pen_20")
    with pytest.raises(ConfigError, match=r"such as \['pen_20'\], not 5"):
        render_every_way([sample()], 5)
    drawn = []
    monkeypatch.setattr(handwriting, "render_model_inputs", lambda *args, **kwargs: drawn.append(args))
    with pytest.raises(ConfigError, match="unknown rendering 'crayon'"):
        render_every_way([sample()], ["pen_20", "crayon"])
    assert not drawn
    assert list(render_every_way([sample()], ("pen_12", "pen_20"))) == ["pen_12", "pen_20"]


@pytest.mark.parametrize("per_digit", [0, -1, "30", 2.5])
def test_a_subset_takes_at_least_one_sample_of_each_digit(per_digit):
    """0 and below gave an empty subset (an empty validation set, without a word); "30" a TypeError."""
    with pytest.raises(ConfigError, match=f"per_digit is a whole number of samples of each digit, at least 1, not "
                                          f"{per_digit!r}"):
        handwriting.spread_subset(many_writers(), per_digit)
    assert len(handwriting.spread_subset(many_writers(), 1)) == len({s.label for s in many_writers()})

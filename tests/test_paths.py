"""Writing files safely: whatever a writer makes replaces the old file only once it is complete, and only the file."""
import os
import stat

import pytest

from numvision_lib.errors import ConfigError, DataError
from numvision_lib.paths import (MAX_NAME_BYTES, PROJECT_ROOT, atomic_path, relative_path_advice, writable_folder,
                                 write_text_atomic)


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_a_file_reached_by_a_symbolic_link_is_written_and_the_link_stays(tmp_path):
    shared = tmp_path / "shared" / "history.csv"
    shared.parent.mkdir()
    shared.write_text("old")
    link = tmp_path / "results" / "history.csv"
    link.parent.mkdir()
    link.symlink_to(shared)
    write_text_atomic(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(shared)
    assert shared.read_text() == "new"
    assert sorted(path.name for path in tmp_path.rglob("*")) == ["history.csv", "history.csv", "results", "shared"]


def test_a_read_only_file_is_refused_before_any_work_and_stays_as_it_was(tmp_path):
    protected = tmp_path / "results.csv"
    protected.write_text("the teacher's results")
    protected.chmod(0o444)
    worked = []
    with pytest.raises(DataError, match=r"results.csv is read-only, so it was not replaced: nothing has been changed. "
                                        r"Make it writable \(chmod u\+w\), or choose another file"):
        with atomic_path(protected) as temporary:
            worked.append(temporary)
    assert not worked
    assert protected.read_text() == "the teacher's results" and mode(protected) == 0o444
    assert list(tmp_path.iterdir()) == [protected]


def test_a_file_made_read_only_while_it_was_being_made_is_not_replaced_and_the_new_one_is_kept(tmp_path):
    target = tmp_path / "model.json"
    target.write_text("{}")
    for number, kept_name in ((1, "model.new.json"), (2, "model.new-2.json")):
        with pytest.raises(DataError, match=rf"model.json was made read-only while its new version was being made, so "
                                            rf"it was not replaced. The new version is kept beside it as {kept_name}: "
                                            rf"once the file is writable again \(chmod u\+w\), move it over"):
            with atomic_path(target) as temporary:
                temporary.write_text(f'{{"new": {number}}}')
                target.chmod(0o400)
        target.chmod(0o600)
    target.chmod(0o400)
    assert target.read_text() == "{}" and mode(target) == 0o400
    assert (tmp_path / "model.new.json").read_text() == '{"new": 1}'
    assert (tmp_path / "model.new-2.json").read_text() == '{"new": 2}'
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model.json", "model.new-2.json", "model.new.json"]


def test_a_replaced_file_keeps_its_permissions_and_a_new_one_gets_the_umasks(tmp_path):
    private = tmp_path / "private.csv"
    private.write_text("old")
    private.chmod(0o600)
    umask = os.umask(0o027)
    try:
        write_text_atomic(private, "new")
        write_text_atomic(tmp_path / "new.csv", "new")
    finally:
        os.umask(umask)
    assert private.read_text() == "new" and mode(private) == 0o600
    assert mode(tmp_path / "new.csv") == 0o640


@pytest.mark.parametrize("stem", ["m" * (MAX_NAME_BYTES - len(".keras")),
                                  # two bytes a letter, cut in the middle of one when the stem is shortened
                                  "é" * ((MAX_NAME_BYTES - len(".keras")) // 2)], ids=["ascii", "accents"])
def test_a_name_at_the_file_systems_limit_is_written_through_a_temporary_name_within_it(tmp_path, stem):
    target = tmp_path / f"{stem}.keras"
    with atomic_path(target) as temporary:
        assert temporary.suffix == ".keras" and temporary.name.startswith(".")
        assert len(os.fsencode(temporary.name)) <= MAX_NAME_BYTES
        temporary.write_text("model")
    assert target.read_text() == "model"
    assert list(tmp_path.iterdir()) == [target]


def test_a_name_longer_than_file_systems_allow_is_refused_before_any_work(tmp_path):
    worked = []
    with pytest.raises(DataError, match=f"cannot write .*/{'m' * 250}.keras: its name is 256 bytes long, and file "
                                        f"systems allow at most 255. Choose a shorter name"):
        with atomic_path(tmp_path / f"{'m' * 250}.keras") as temporary:
            worked.append(temporary)
    assert not worked and not list(tmp_path.iterdir())


def test_a_new_version_kept_beside_a_file_whose_name_is_near_the_limit_keeps_within_it(tmp_path):
    target = tmp_path / ("m" * (MAX_NAME_BYTES - len(".keras")) + ".keras")
    target.write_text("old")
    with pytest.raises(DataError, match=r"The new version is kept beside it as m+\.new\.keras"):
        with atomic_path(target) as temporary:
            temporary.write_text("new")
            target.chmod(0o400)
    (kept,) = [path for path in tmp_path.iterdir() if path != target]
    assert kept.read_text() == "new" and len(os.fsencode(kept.name)) <= MAX_NAME_BYTES


def test_a_folder_for_results_is_checked_before_the_work_that_fills_it(tmp_path):
    """A file given as the results' folder was found only once the evaluation had run, and called a full disk."""
    made = writable_folder(tmp_path / "results" / "m", "the results")
    assert made == tmp_path / "results" / "m" and made.is_dir() and not list(made.iterdir())
    taken = tmp_path / "afile"
    taken.write_text("notes")
    with pytest.raises(ConfigError, match=r"afile is a file, not a folder: give a folder for the results \(a name "
                                          r"that is not taken makes a new one\)$"):
        writable_folder(taken, "the results")
    with pytest.raises(DataError, match=r"cannot write the results into .*afile/m: Not a directory. Choose a folder "
                                        r"you can write to.$"):
        writable_folder(taken / "m", "the results")
    assert taken.read_text() == "notes"


def test_a_relative_path_not_found_here_is_advised_once_for_every_kind_of_file(monkeypatch):
    """Notebooks run in notebooks/: the model file, the digit check and the data folders share this advice (the
    digit check's message told the student to give the very path they had given)."""
    monkeypatch.chdir(PROJECT_ROOT / "notebooks")
    read_here = "A relative path is read from the folder this runs in (notebooks/), not from the project's: give "
    assert relative_path_advice("models/checks/digit_check.keras") == (
        read_here + "'../models/checks/digit_check.keras', or an absolute path")
    assert relative_path_advice("models/nothere.keras") == read_here + "an absolute path"
    for nothing_to_say in ("../models/numvision_cnn.keras", PROJECT_ROOT / "models" / "nothere.keras"):
        assert relative_path_advice(nothing_to_say) is None
    monkeypatch.chdir(PROJECT_ROOT)
    assert relative_path_advice("models/nothere.keras") is None, "read from the project's folder already"

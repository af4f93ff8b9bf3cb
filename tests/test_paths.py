"""Writing files safely: whatever a writer makes replaces the old file only once it is complete, and only the file."""
import os
import re
import stat

import pytest

from numvision_lib.errors import ConfigError, DataError
from numvision_lib.paths import (MAX_NAME_BYTES, PROJECT_ROOT, atomic_path, atomic_paths, check_replaceable,
                                 checked_path, model_not_found_message, relative_path_advice, writable_folder,
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


def companions(folder):
    """A model, its history and its card, as fine_tune writes them: the card and history first, the model last."""
    paths = [folder / "m.history.csv", folder / "m.json", folder / "m.keras"]
    for path in paths:
        path.write_text(f"old {path.name}")
    return paths


def test_files_that_belong_together_are_all_replaced_once_the_block_finishes(tmp_path):
    paths = companions(tmp_path)
    paths[1].chmod(0o640)
    (tmp_path / "m.history.csv").unlink()  # a file not there before is written too
    with atomic_paths(paths) as temporaries:
        for temporary, path in zip(temporaries, paths):
            temporary.write_text(f"new {path.name}")
        assert all(path.read_text().startswith("old") for path in paths[1:]), "nothing moved inside the block"
    assert [path.read_text() for path in paths] == [f"new {path.name}" for path in paths]
    assert mode(paths[1]) == 0o640
    assert sorted(tmp_path.iterdir()) == sorted(paths), "no temporary file or copy is left"


@pytest.mark.parametrize("stopped", [OSError(28, "No space left on device"), KeyboardInterrupt()],
                         ids=["a failed move", "Ctrl-C"])
def test_a_move_that_fails_puts_back_the_files_moved_before_it(tmp_path, monkeypatch, stopped):
    """A new model under the old card (or the reverse) credited one model with another's figures."""
    paths = companions(tmp_path)
    paths[1].chmod(0o600)
    paths[0].unlink()  # the history was not there: put back, it is not there again
    replace = os.replace

    def model_not_moved(source, target):
        if str(target).endswith(".keras"):
            raise stopped
        replace(source, target)

    monkeypatch.setattr(os, "replace", model_not_moved)
    expected = (DataError, r"^cannot write .*/m.keras: No space left on device. .* nothing that was there has been "
                           r"changed.$") if isinstance(stopped, OSError) else (KeyboardInterrupt, None)
    with pytest.raises(expected[0], match=expected[1]):
        with atomic_paths(paths) as temporaries:
            for temporary in temporaries:
                temporary.write_text("new")
    monkeypatch.undo()
    assert [path.read_text() for path in paths[1:]] == ["old m.json", "old m.keras"] and mode(paths[1]) == 0o600
    assert sorted(tmp_path.iterdir()) == paths[1:], "no temporary file or copy is left"


def test_a_write_that_fails_in_the_block_is_named_and_changes_nothing(tmp_path):
    """A full disk while the block wrote, or its folder deleted meanwhile (a student's, during a save), was a raw
    OSError: it is said as the file the block was writing, and the files there stay as they were."""
    paths = companions(tmp_path)
    with pytest.raises(DataError, match=r"^cannot write .*/m.json: No space left on device\. .* nothing that was "
                                        r"there has been changed\.$"):
        with atomic_paths(paths) as temporaries:
            raise OSError(28, "No space left on device", str(temporaries[1]))
    with pytest.raises(DataError, match=r"^cannot write .*/m.history.csv: No such file or directory\. "):
        with atomic_paths(paths) as temporaries:
            for temporary in temporaries:
                temporary.unlink()  # gone with its folder
            open(temporaries[0], "rb")
    assert [path.read_text() for path in paths] == [f"old {path.name}" for path in paths]
    assert sorted(tmp_path.iterdir()) == sorted(paths), "no temporary file or copy is left"


def test_a_file_that_cannot_be_put_back_is_named_and_nothing_is_said_unchanged(tmp_path, monkeypatch):
    paths = companions(tmp_path)
    replace = os.replace
    moves = []

    def only_the_history_moves_once(source, target):
        moves.append(target)
        if len(moves) > 1:  # the card's move, then the history's put back
            raise OSError(28, "No space left on device")
        replace(source, target)

    monkeypatch.setattr(os, "replace", only_the_history_moves_once)
    with pytest.raises(DataError) as refused:
        with atomic_paths(paths) as temporaries:
            for temporary in temporaries:
                temporary.write_text("new")
    monkeypatch.undo()
    message = str(refused.value)
    assert re.fullmatch(r"cannot write .*/m.json: No space left on device, and the files written before it could not "
                        r"all be put back: .*/m.history.csv holds its new version \(the old one is kept beside it as "
                        r"\.m\.history\..*\.csv\)\. These files belong together: delete the new ones, or write them "
                        r"all again\.", message)
    assert "nothing" not in message
    assert paths[0].read_text() == "new" and [path.read_text() for path in paths[1:]] == ["old m.json", "old m.keras"]
    (kept,) = tmp_path.glob(".m.history.*.csv")
    assert kept.read_text() == "old m.history.csv"


def test_a_file_made_read_only_while_its_companions_were_made_keeps_them_all_beside(tmp_path):
    paths = companions(tmp_path)
    with pytest.raises(DataError, match=r"m.json was made read-only while the new versions of m.history.csv, m.json "
                                        r"and m.keras were being made, so none of them was replaced: they belong "
                                        r"together. The new versions are kept beside them as m.history.new.csv, "
                                        r"m.new.json and m.new.keras: once m.json is writable again \(chmod u\+w\), "
                                        r"move each over its old one, or delete them to keep the old ones.$"):
        with atomic_paths(paths) as temporaries:
            for temporary in temporaries:
                temporary.write_text("new")
            paths[1].chmod(0o400)
    assert [path.read_text() for path in paths] == [f"old {path.name}" for path in paths]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [path.name for path in paths] + ["m.history.new.csv", "m.new.json", "m.new.keras"])


def test_a_file_is_checked_replaceable_before_the_work_that_makes_it(tmp_path):
    """The rule of atomic_path, for work done before the file is written: a trained model was lost to it."""
    protected = tmp_path / "m.json"
    protected.write_text("{}")
    protected.chmod(0o444)
    with pytest.raises(DataError, match=r"m.json is read-only, so it was not replaced: nothing has been changed. Make "
                                        r"it writable \(chmod u\+w\), or choose another file.$"):
        check_replaceable(protected, "the model")
    with pytest.raises(DataError, match="its name is 256 bytes long, and file systems allow at most 255"):
        check_replaceable(tmp_path / f"{'m' * 250}.keras", "the model")
    (tmp_path / "afile").write_text("notes")
    with pytest.raises(ConfigError, match=r"afile is a file, not a folder: give a folder for the model"):
        check_replaceable(tmp_path / "afile" / "m.keras", "the model")
    assert check_replaceable(tmp_path / "new" / "m.keras", "the model") == tmp_path / "new" / "m.keras"
    assert sorted(path.name for path in tmp_path.rglob("*")) == ["afile", "m.json", "new"], "no file is written"


def test_a_path_that_begins_with_a_tilde_is_read_from_the_home_folder(tmp_path, monkeypatch):
    """A shell leaves `--output=~/m.keras` as it is: the model went into a folder named "~" in the current folder
    (which `rm -rf ~` cannot delete without the home folder), while the data folders read ~ as home."""
    home, here = tmp_path / "home", tmp_path / "here"
    here.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(here)
    assert checked_path("~/m.keras", "a model file") == home / "m.keras"
    write_text_atomic(check_replaceable("~/results/notes.txt", "the notes"), "written")
    assert (home / "results" / "notes.txt").read_text() == "written"
    assert list(here.iterdir()) == []
    with pytest.raises(ConfigError, match=r"^~no_such_user_here/m.keras: ~no_such_user_here names no home folder on "
                                          r"this computer: give the path in full$"):
        checked_path("~no_such_user_here/m.keras", "a model file")


def test_a_model_path_that_names_nothing_is_told_to_check_the_name(tmp_path, monkeypatch):
    """A typo, or a name without .keras, was told "Train the model again, or restore the file from git": hours of
    training, or a git restore of a name that never existed. Only a model that was there is still told so."""
    from numvision_lib import paths

    for name in ("numvision_cnn", "numvision_plus", "numvision_plus_real", "my_model", "class_numvision_cnn"):
        (tmp_path / f"{name}.keras").write_bytes(b"a model")
    folder = f"…/{tmp_path.name}/"
    assert model_not_found_message(tmp_path / "my_modle.keras") == (
        f"{folder}my_modle.keras: model file not found. Check the name: {folder} holds my_model.keras, "
        "class_numvision_cnn.keras, numvision_cnn.keras, numvision_plus.keras and 1 more.")
    assert model_not_found_message(tmp_path / "my_model") == (
        f"{folder}my_model: model file not found. Check the name: {folder}my_model.keras is there, with .keras at the "
        "end.")
    (tmp_path / "empty").mkdir()
    assert model_not_found_message(tmp_path / "empty" / "m.keras") == (
        "…/empty/m.keras: model file not found. Check the name and the folder: …/empty/ holds no .keras model file.")
    assert model_not_found_message(tmp_path / "nowhere" / "m.keras") == (
        "…/nowhere/m.keras: model file not found. Check the name and the folder: there is no folder …/nowhere/.")
    assert model_not_found_message(PROJECT_ROOT / "models" / "numvision_cn.keras") == (
        "models/numvision_cn.keras: model file not found. Check the name: models/ holds numvision_cnn.keras, "
        "numvision_plus.keras and numvision_plus_real.keras. If the name is right: train the model again, or restore "
        "the file from git.")
    # In the project's own model folders a right name may be a model not trained yet: notebook 04 loads
    # my_model_path("sgd"), which notebook 03's ablation makes.
    monkeypatch.setattr(paths, "MY_MODELS_DIR", tmp_path)
    assert model_not_found_message(tmp_path / "my_sgd.keras").endswith(
        "Check the name: …/" + tmp_path.name + "/ holds my_model.keras, class_numvision_cnn.keras, numvision_cnn.keras, "
        "numvision_plus.keras and 1 more. If the name is right: train the model again (git does not keep models "
        "outside models/).")
    # A model whose card is still there was trained, and lost.
    (tmp_path / "gone.json").write_text("{}")
    assert model_not_found_message(tmp_path / "gone.keras") == (
        f"{folder}gone.keras: model file not found. Train the model again (git does not keep models outside models/).")
    monkeypatch.setattr(paths, "MODELS_DIR", tmp_path)  # as if it were a shipped model
    assert model_not_found_message(tmp_path / "gone.keras").endswith(
        "Train the model again, or restore the file from git.")


def test_a_picture_a_figure_and_a_model_summary_read_a_tilde_as_the_home_folder(tmp_path, monkeypatch):
    """`checked_path` reads ~ as the home folder; these took paths themselves: a figure went into a folder named "~"
    in the current folder, a picture and a model that were there were "not found"."""
    import matplotlib.pyplot as plt
    from PIL import Image

    from numvision_lib.model_card import model_card_summary
    from numvision_lib.plots import save_figure
    from numvision_lib.preprocess import load_image, rasterise_strokes

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    Image.fromarray(rasterise_strokes([[(60, 40), (210, 40), (120, 245)]], 280, 20)).save(tmp_path / "seven.png")
    assert load_image("~/seven.png").size == Image.open(tmp_path / "seven.png").size
    figure = plt.figure()
    assert save_figure(figure, "~/figure.png") == tmp_path / "figure.png"
    plt.close(figure)
    assert not (tmp_path / "~").exists()
    (tmp_path / "m.keras").write_bytes(b"a model")
    assert model_card_summary("~/m.keras") == "No model card (m.json) beside the model file."

"""Where the project keeps its models and results, how paths are shown to students, and how files are written safely."""
from __future__ import annotations

import difflib
import hashlib
import itertools
import os
import shutil
import stat
import tempfile
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Callable, Iterator, Sequence

from .errors import ConfigError, DataError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = PROJECT_ROOT / "models"
# A model's card lies beside it, under its name: models/numvision_cnn.json for models/numvision_cnn.keras.
CARD_SUFFIX = ".json"
RESULTS_DIR = PROJECT_ROOT / "results"
MY_MODELS_DIR_VARIABLE = "NUMVISION_MY_MODELS_DIR"
# Models trained in the notebooks go here, never over the shipped models in models/. The folder carries
# its own .gitignore, so students' experiments are not committed by accident. The notebook tests point
# NUMVISION_MY_MODELS_DIR at a scratch folder, so that `make test` never replaces a student's model.
MY_MODELS_DIR = Path(os.environ.get(MY_MODELS_DIR_VARIABLE) or PROJECT_ROOT / "my_models").expanduser()
CLASS_DIR_VARIABLE = "NUMVISION_CLASS_DIR"
# The drawings a class saves from the pad (see `class_collection`), unless $NUMVISION_CLASS_DIR names another
# folder, such as one on the hub's shared storage. Ignored by git: students' handwriting is not committed.
DEFAULT_CLASS_DIR = PROJECT_ROOT / "class_drawings"
# The longest file name of common file systems (ext4, XFS, APFS, NTFS).
MAX_NAME_BYTES = 255
# mkstemp's random part, between the prefix and the suffix it is given.
_MKSTEMP_RANDOM_CHARACTERS = 8
# Room kept for the number of a version kept beside a file (<name>.new-<number><suffix>).
_KEPT_NUMBER_DIGITS = 4


def checked_path(path, example: str) -> Path:
    """`path` as a Path, a leading ~ read as the home folder; None, a number or '' (which Path would take as the
    current folder) are a ConfigError that shows `example`, what to give instead (e.g. "a model file, such as
    models/numvision_cnn.keras").

    Every path a user gives passes here, so ~ is read the same for all: a shell leaves `--output=~/m.keras` as it is,
    and Path would write into a folder named "~" (which `rm -rf ~` cannot delete without deleting the home folder)."""
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ConfigError(f"give the path of {example}, not {_given_for_a_path(path)}")
    return expanded_path(path)


def expanded_path(path: str | os.PathLike) -> Path:
    """`path` with a leading ~ read as the home folder (`checked_path`'s rule, for readers that check the rest of a
    path themselves)."""
    try:
        return Path(path).expanduser()
    except RuntimeError:  # ~name, and no user of that name here
        raise ConfigError(f"{path}: {Path(path).parts[0]} names no home folder on this computer: give the path in "
                          "full") from None


# What holds a model's file, by the attribute that names it: a run of `train` or `fine_tune` (the file it saved), a
# predictor (the file it was loaded from). Given where that file was meant, in the cell after the run or the pad.
_MODEL_FILE_ATTRIBUTES = (("model_path", "run.model_path, the file it saved"),
                          ("source", "predictor.source, the file it was loaded from"))


def _given_for_a_path(value) -> str:
    """`value`, given where a path was meant, as an error shows it: an object that holds a model's file by its type
    and the attribute to give instead (a run's repr runs to pages, and names neither); one whose repr says no more
    than its type and address, by its type; anything else as itself (None, 123, '')."""
    for attribute, advice in _MODEL_FILE_ATTRIBUTES:
        if isinstance(getattr(value, attribute, None), Path):
            return f"a {type(value).__name__}: give {advice}"
    if type(value).__repr__ is object.__repr__:
        return f"a {type(value).__name__}"
    return repr(value)


def in_models_dir(path: str | os.PathLike) -> bool:
    """Whether `path` is among the shipped models, in models/: the only model files that git keeps (my_models/
    ignores what it holds), so the only ones that can be restored from git."""
    return Path(path).resolve().is_relative_to(MODELS_DIR.resolve())


def how_to_replace_model(path: str | os.PathLike) -> str:
    """How to get a missing or damaged model file back: git keeps only the shipped models."""
    if in_models_dir(path):
        return "Train the model again, or restore the file from git"
    return "Train the model again (git does not keep models outside models/)"


def relative_path_advice(path: str | os.PathLike) -> str | None:
    """What to say of a relative `path` that is not found: it was read from the folder this runs in, which in Jupyter
    is the notebook's own (notebooks/), not the project's. Names the path that works from here when the project's
    folder has it, else asks for an absolute path; None for an absolute path, one that is there, or when this runs in
    the project's folder."""
    path = Path(path)
    if path.is_absolute() or path.exists() or Path.cwd().resolve() == PROJECT_ROOT:
        return None
    advice = (f"A relative path is read from the folder this runs in ({project_relative(Path.cwd())}/), not from the "
              "project's: give ")
    if (PROJECT_ROOT / path).exists():
        return advice + f"{os.path.relpath(PROJECT_ROOT / path)!r}, or an absolute path"
    return advice + "an absolute path"


def missing_model_problem(path: Path) -> str | None:
    """What is wrong with `path` as a model file before it is opened: a folder, or nothing there; else None."""
    if path.is_dir():
        return f"{project_relative(path)} is a folder: give the .keras model file in it"
    if not path.is_file():
        return model_not_found_message(path)
    return None


def model_not_found_message(path: str | os.PathLike) -> str:
    return f"{project_relative(path)}: model file not found. {_model_not_found_advice(Path(path))}."


# The most model files a not-found message names in the folder of the path given.
_MODEL_NAMES_SHOWN = 4


def _model_not_found_advice(path: Path) -> str:
    """What a model path with nothing there is told: a relative path read from the wrong folder, the path that works;
    one without .keras, where that is there, to add it; a model that was there (its card, which training writes
    beside it, still is), how to get it back; any other, most often a mistyped name, which neither training again nor
    git would mend, the model files of its folder, those closest to the name given first (and in the project's own
    model folders, how to get it back should the name be right)."""
    if advice := relative_path_advice(path):
        return advice
    with_keras = path.with_name(path.name + ".keras")
    if path.suffix != ".keras" and with_keras.is_file():
        return f"Check the name: {project_relative(with_keras)} is there, with .keras at the end"
    if path.with_suffix(CARD_SUFFIX).is_file():
        return how_to_replace_model(path)
    folder = path.parent
    shown = ("the project's folder" if folder.resolve() == PROJECT_ROOT
             else project_relative(path).rpartition("/")[0] + "/")
    # In the project's own model folders the name may be right and the model not made yet (notebook 04 loads
    # my_model_path("sgd"), which notebook 03's ablation trains), or deleted with its card.
    if_right = ""
    if in_models_dir(path) or path.resolve().is_relative_to(MY_MODELS_DIR.resolve()):
        advice = how_to_replace_model(path)
        if_right = f". If the name is right: {advice[0].lower()}{advice[1:]}"
    if not folder.is_dir():
        return f"Check the name and the folder: there is no folder {shown}{if_right}"
    names = sorted(model.name for model in folder.glob("*.keras") if model.is_file())
    if not names:
        return f"Check the name and the folder: {shown} holds no .keras model file{if_right}"
    closest = difflib.get_close_matches(path.name, names, n=_MODEL_NAMES_SHOWN)
    names = closest + [name for name in names if name not in closest]
    listed = names[:_MODEL_NAMES_SHOWN]
    if len(names) > len(listed):
        listed.append(f"{len(names) - len(listed)} more")
    return f"Check the name: {shown} holds {_listed(listed)}{if_right}"


def project_relative(path: str | os.PathLike) -> str:
    """`path` as a short, machine-independent string: relative to the project folder when inside it.

    Notebook outputs are stored in git, so they must not carry the absolute paths of one machine.
    """
    path = Path(path)
    if not path.is_absolute():
        return path.as_posix()
    try:
        return path.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return f"…/{path.parent.name}/{path.name}" if path.parent.name else path.name


@contextmanager
def atomic_path(target: str | os.PathLike, cannot_write: Callable[[OSError], str] | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `target`; move it over `target` only if the block finishes.

    An interrupted write (Ctrl-C, kernel restart, full disk) therefore never leaves a half-written
    file where a good one used to be. The temporary file keeps the target's suffix because Keras
    picks the saving format from it. A write that fails (a folder that cannot be written, a full disk) is a
    `DataError` with `cannot_write(error)`'s message, by default one that names the file.

    A symbolic link stays a link: the file it points to is replaced. An existing file keeps its permissions,
    and one whose owner made it read-only is refused before the block runs, so no work is spent on it.
    """
    with atomic_paths([target], cannot_write) as (temporary,):
        yield temporary


@contextmanager
def atomic_paths(targets: Sequence[str | os.PathLike],
                 cannot_write: Callable[[OSError], str] | None = None) -> Iterator[list[Path]]:
    """`atomic_path` for files that belong together, such as a model, its history and its card: a temporary path
    beside each target, and once the block finishes every one moved over its target, in the order given. Should a
    move fail (or Ctrl-C come between two), those already moved are put back: the targets hold either all the new
    versions or all the old ones, never a new model under an old card. Each target but the last is copied aside
    before it is replaced, to be put back from: give the largest last."""
    named = [Path(target) for target in targets]
    messages = [cannot_write or partial(_cannot_write, path) for path in named]
    # A teacher may link a file to shared storage; replacing the link itself would cut it.
    resolved = [Path(os.path.realpath(path)) for path in named]
    for target, path in zip(resolved, named):
        _check_name_length(target, path)
    temporaries: list[Path] = []
    try:
        for target, path, message in zip(resolved, named, messages):
            try:
                _permissions_to_keep(target, path)  # a read-only file is refused now, before the block's work
                target.parent.mkdir(parents=True, exist_ok=True)
                handle, temporary = tempfile.mkstemp(prefix=_temporary_prefix(target), suffix=target.suffix,
                                                     dir=target.parent)
            except OSError as error:
                raise DataError(message(error)) from None
            os.close(handle)
            temporaries.append(Path(temporary))
        try:
            yield temporaries
        except OSError as error:  # a full disk, or a folder gone or made read-only: the old files stay as they were
            raise DataError(messages[_written_when(error, temporaries)](error)) from None
        modes = []
        for target, path in zip(resolved, named):
            try:  # asked again: a file may have been protected while the block ran
                modes.append(_permissions_to_keep(target, path))
            except DataError:
                kept = [_kept_beside(temporary, target) for temporary, target in zip(temporaries, resolved)]
                raise DataError(_protected_meanwhile_message(path, named, kept)) from None
        _move_together(temporaries, resolved, named, modes, messages)
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)


def _written_when(error: OSError, temporaries: list[Path]) -> int:
    """Which of the files the block was writing when `error` came: the one it names, else the last."""
    named = [str(temporary) for temporary in temporaries]
    return named.index(error.filename) if error.filename in named else len(temporaries) - 1


def _move_together(temporaries: list[Path], targets: list[Path], named: list[Path], modes: list[int],
                   messages: list[Callable[[OSError], str]]) -> None:
    """Move each temporary file over its target; if one cannot be moved, or the moves are interrupted, put back
    those already moved (`atomic_paths`)."""
    # Each target's old version, copied aside before it is replaced; None where there was none, and for the last:
    # nothing is moved after it that could fail.
    copies: list[Path | None] = []
    # Counted, not read from which temporary files are left: a folder renamed away meanwhile (a student's, deleted
    # by the teacher during a save) takes them with it.
    moved = 0
    try:
        for temporary, target, mode in zip(temporaries, targets, modes):
            copies.append(_copied_aside(target) if moved < len(targets) - 1 and target.exists() else None)
            os.chmod(temporary, mode)
            os.replace(temporary, target)
            moved += 1
    except BaseException as error:
        if moved == len(targets):  # Ctrl-C after the last move: every file is in place
            _remove(copies)
            raise
        _remove(copies[moved:])
        not_put_back = _put_back(list(zip(targets[:moved], copies[:moved])))
        if not isinstance(error, OSError):  # Ctrl-C between two moves
            raise
        if not_put_back:
            raise DataError(_not_put_back_message(named[moved], error, not_put_back, targets, named)) from None
        raise DataError(messages[moved](error)) from None  # a full disk, or a folder that became read-only
    _remove(copies)


def _remove(paths: list[Path | None]) -> None:
    for path in paths:
        if path is not None:
            path.unlink(missing_ok=True)


def _copied_aside(target: Path) -> Path:
    """A hidden copy of `target` beside it, with its permissions, to put back should a later move fail."""
    handle, copy = tempfile.mkstemp(prefix=_temporary_prefix(target), suffix=target.suffix, dir=target.parent)
    os.close(handle)
    try:
        shutil.copy2(target, copy)
    except OSError:
        Path(copy).unlink(missing_ok=True)
        raise
    return Path(copy)


def _put_back(moved: list[tuple[Path, Path | None]]) -> list[tuple[Path, Path]]:
    """Undo the moves in `moved`, the last first: each old version back in its place, and a file that was not there
    before removed. Returns the targets that could not be put back, each with the copy of its old version (kept)."""
    not_put_back = []
    for target, old in reversed(moved):
        try:
            if old is None:
                target.unlink(missing_ok=True)
            else:
                os.replace(old, target)
        except OSError:
            not_put_back.append((target, old))
    return not_put_back


def _not_put_back_message(failed: Path, error: OSError, not_put_back: list[tuple[Path, Path | None]],
                          targets: list[Path], named: list[Path]) -> str:
    shown = {target: path for target, path in zip(targets, named)}
    left = "; ".join(f"{project_relative(shown[target])} holds its new version"
                     + (f" (the old one is kept beside it as {old.name})" if old is not None else "")
                     for target, old in not_put_back)
    return (f"cannot write {project_relative(failed)}: {error.strerror or error}, and the files written before it "
            f"could not all be put back: {left}. These files belong together: delete the new ones, or write them "
            "all again.")


def _check_name_length(target: Path, named: Path) -> None:
    name_bytes = len(os.fsencode(target.name))
    if name_bytes > MAX_NAME_BYTES:
        raise DataError(f"cannot write {project_relative(named)}: its name is {name_bytes} bytes long, and file "
                        f"systems allow at most {MAX_NAME_BYTES}. Choose a shorter name; nothing has been changed.")


def check_replaceable(target: str | os.PathLike, what: str) -> Path:
    """`target`, once `atomic_path` could write it: checked before the work that makes `what` (e.g. "the fine-tuned
    model"), whose result would otherwise be lost when it is written. A name within the file systems' limit, a folder
    that can be written (made if need be, see `writable_folder`), and no file there that its owner made read-only;
    each is a DataError (a ConfigError for a file where the folder should be)."""
    named = checked_path(target, f"the file to write {what} to")
    resolved = Path(os.path.realpath(named))
    _check_name_length(resolved, named)
    writable_folder(resolved.parent, what)
    _permissions_to_keep(resolved, named)
    return named


def _permissions_to_keep(target: Path, named: Path) -> int:
    """The permissions the written file gets: those of the file it replaces, else those any new file would get
    (mkstemp creates owner-only files). A file its owner cannot write is refused: replacing it only needs the
    folder's permission, so os.replace would silently undo the protection."""
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
    if not mode & stat.S_IWUSR:
        raise DataError(f"{project_relative(named)} is read-only, so it was not replaced: nothing has been changed. "
                        "Make it writable (chmod u+w), or choose another file.")
    return mode


def _kept_beside(temporary: Path, target: Path) -> Path:
    """The finished new version moved to a visible name beside `target`, the first of <name>.new<suffix>,
    <name>.new-2<suffix>, ... that is free: what the block made (a trained model, say) may have taken hours."""
    stem = _stem_within(target, len(".new-") + _KEPT_NUMBER_DIGITS)
    for number in itertools.count(1):
        kept = target.with_name(f"{stem}.new{'' if number == 1 else f'-{number}'}{target.suffix}")
        try:
            os.link(temporary, kept)  # never over a file of that name, as a rename would be
        except FileExistsError:
            continue
        except OSError:  # a file system without hard links
            if kept.exists():
                continue
            temporary.rename(kept)
            return kept
        temporary.unlink()
        return kept


def _protected_meanwhile_message(protected: Path, named: list[Path], kept: list[Path]) -> str:
    if len(named) == 1:
        return (f"{project_relative(protected)} was made read-only while its new version was being made, so it was not "
                f"replaced. The new version is kept beside it as {kept[0].name}: once the file is writable again "
                f"(chmod u+w), move it over the old one, or delete it to keep the old one.")
    return (f"{project_relative(protected)} was made read-only while the new versions of "
            f"{_listed([path.name for path in named])} were being made, so none of them was replaced: they belong "
            f"together. The new versions are kept beside them as {_listed([path.name for path in kept])}: once "
            f"{protected.name} is writable again (chmod u+w), move each over its old one, or delete them to keep the "
            "old ones.")


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"


def _temporary_prefix(target: Path) -> str:
    """A hidden prefix from the target's stem, for a temporary name within `MAX_NAME_BYTES`."""
    return f".{_stem_within(target, _MKSTEMP_RANDOM_CHARACTERS + len('..'))}."


def _stem_within(target: Path, added_bytes: int) -> str:
    """The target's stem, short enough for a name with `added_bytes` more to stay within `MAX_NAME_BYTES` when the
    target's is near it: the suffix must stay whole, so the stem gives way."""
    room = MAX_NAME_BYTES - len(os.fsencode(target.suffix)) - added_bytes
    return os.fsencode(target.stem)[:max(room, 0)].decode(errors="ignore")


def _cannot_write(target: Path, error: OSError) -> str:
    return (f"cannot write {project_relative(target)}: {error.strerror or error}. Choose a folder you can write "
            "to, or free some disk space; nothing that was there has been changed.")


def writable_folder(folder: str | os.PathLike, what: str) -> Path:
    """`folder`, made if need be, once a file could be written in it: checked before the work whose `what` (e.g.
    "the results") go there, so that a file of that name, or a folder that cannot be written, is found before that
    work rather than after it. A ConfigError for a file, a DataError for a folder that cannot be written."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(not_a_folder_message(folder, what))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise DataError(f"cannot write {what} into {project_relative(folder)}: {error.strerror or error}. Choose a "
                        "folder you can write to.") from None
    return folder


def not_a_folder_message(folder: Path, what: str) -> str:
    """What to say of a file given as the folder for `what`: the system's own words for it ("File exists", "Not a
    directory") do not name the mistake."""
    return (f"{project_relative(folder)} is a file, not a folder: give a folder for {what} (a name that is not taken "
            "makes a new one)")


def write_text_atomic(target: str | os.PathLike, text: str) -> Path:
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(target)


def sha256_of(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes, in hex: which file a record was written for."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()

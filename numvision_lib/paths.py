"""Where the project keeps its models and results, how paths are shown to students, and how files are written safely."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

from .errors import DataError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = PROJECT_ROOT / "models"
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
    """
    target = Path(target)
    cannot_write = cannot_write or partial(_cannot_write, target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
    except OSError as error:
        raise DataError(cannot_write(error)) from None
    os.close(handle)
    temporary_path = Path(temporary)
    try:
        yield temporary_path
        # mkstemp creates owner-only files; give the result the permissions any new file would get.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary_path, 0o666 & ~umask)
        os.replace(temporary_path, target)
    except OSError as error:  # a full disk, or a folder that became read-only: the old file stays as it was
        raise DataError(cannot_write(error)) from None
    finally:
        temporary_path.unlink(missing_ok=True)


def _cannot_write(target: Path, error: OSError) -> str:
    return (f"cannot write {project_relative(target)}: {error.strerror or error}. Choose a folder you can write "
            "to, or free some disk space; nothing that was there has been changed.")


def write_text_atomic(target: str | os.PathLike, text: str) -> Path:
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(target)

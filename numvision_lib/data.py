"""MNIST loading (Keras' download by default, or a local folder of IDX files) and splitting; only the download
loads TensorFlow."""
from __future__ import annotations

import gzip
import math
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .errors import ConfigError, DataError, ImageError, MissingTestData
from .paths import checked_path, relative_path_advice
from .values import is_number, is_whole_number

DATA_DIR_VARIABLE = "NUMVISION_DATA_DIR"
IMAGE_SIZE = 28
MODEL_INPUT_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)  # one grey channel
NUM_CLASSES = 10
DIGITS = tuple(range(NUM_CLASSES))
MNIST_TRAINING_IMAGES = 60_000
MNIST_TEST_IMAGES = 10_000
# A training run keeps this share of MNIST's training images aside to choose its best epoch (`TrainConfig`).
VALIDATION_FRACTION = 0.1
# The seeds NumPy's and scikit-learn's generators accept (`stratified_split`, Keras' set_random_seed).
MAX_SEED = 2**32 - 1
# The most passes over the training images a run may ask for (`TrainConfig`, the digit check): early stopping
# ends real runs within tens, and a typo's extra zeros would otherwise start a run that cannot end.
MAX_EPOCHS = 1_000
# Model-ready floats a little outside [0, 1] are an interpolation's overshoot; far above 1, pixels still in 0-255.
MODEL_INPUT_OVERSHOOT = 0.05
TRAINING_IMAGES_PER_EPOCH = round(MNIST_TRAINING_IMAGES * (1 - VALIDATION_FRACTION))

IDX_IMAGES_MAGIC = 2051  # unsigned bytes, three dimensions
IDX_LABELS_MAGIC = 2049  # unsigned bytes, one dimension
IDX_KINDS = {IDX_IMAGES_MAGIC: "images", IDX_LABELS_MAGIC: "labels"}

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True)
class MnistData:
    """MNIST as uint8 arrays: images (N, 28, 28) in 0..255, labels (N,) in 0..9."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str

    @property
    def whole_test_set(self) -> bool:
        """Whether the test images are all of MNIST's: only their figures are a model's test figures (a card's)."""
        return len(self.y_test) == MNIST_TEST_IMAGES

    def __repr__(self) -> str:
        return (
            f"MnistData(train={len(self.x_train):,} images, test={len(self.x_test):,} images, "
            f"source={self.source!r})"
        )


def open_binary(path: Path) -> BinaryIO:
    """`path` opened for reading bytes, through gzip when its content is gzipped: a renamed file still reads."""
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


def no_permission_message(shown: str, error: PermissionError) -> str:
    return (f"{shown}: you may not read this file ({error.strerror}). Ask whoever looks after this computer for "
            "permission to read it, or copy it into a folder of your own and use that.")


def unreadable_file_message(shown: str, error: OSError | EOFError | zlib.error, if_damaged: str) -> str:
    """What to say of a data file that cannot be read: a file the user may not read is not damaged, and copying or
    downloading it again as `if_damaged` advises would not help."""
    if isinstance(error, PermissionError):
        return no_permission_message(shown, error)
    return f"{shown}: cannot be read ({error}); {if_damaged}"


def read_idx(path: str | os.PathLike, expected_magic: int, variable: str | None = None) -> np.ndarray:
    """Read one IDX file (optionally gzipped), checking magic number, dimensions and size. Its problems name it by
    its path as given, with the environment `variable` its folder came from, if it did: a teacher with two copies of
    MNIST is told which file to replace."""
    path = Path(path)
    shown = shown_with_variable(path, variable)
    try:
        with open_binary(path) as stream:
            content = stream.read()
    except FileNotFoundError:
        raise DataError(f"{shown}: file not found") from None
    except IsADirectoryError:  # an OSError too: it would be called a broken download, and its deletion advised
        raise DataError(f"{shown} is a folder, not an IDX file: give one of its files, such as "
                        f"{path / (IDX_FILES['train_images'] + '.gz')}") from None
    except (OSError, EOFError, zlib.error) as error:  # zlib.error: damaged compressed bytes
        raise DataError(unreadable_file_message(shown, error, "the download is probably incomplete or corrupt. "
                                                "Delete it and download it again.")) from error
    if len(content) < 4:
        raise DataError(f"{shown}: only {len(content)} bytes, too short for an IDX header; download it again.")
    magic = int.from_bytes(content[:4], "big")
    if magic != expected_magic:
        raise DataError(f"{shown}: {_wrong_magic_problem(magic, expected_magic)}")
    dimensions = magic & 0xFF
    header_size = 4 + 4 * dimensions
    if len(content) < header_size:
        raise DataError(f"{shown}: header is truncated ({len(content)} bytes); download it again.")
    shape = tuple(int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(dimensions))
    expected_bytes = header_size + math.prod(shape)  # NumPy's product would overflow on a damaged header
    if len(content) != expected_bytes:
        problem = "truncated" if len(content) < expected_bytes else "longer than its header says"
        raise DataError(
            f"{shown}: {problem}: header promises shape {shape} ({expected_bytes:,} bytes), "
            f"file has {len(content):,} bytes. Download it again."
        )
    # From a bytearray, not the bytes read: writable, as the arrays of Keras' download are (a lesson may edit them).
    return np.frombuffer(bytearray(content), dtype=np.uint8, offset=header_size).reshape(shape)


def _wrong_magic_problem(magic: int, expected_magic: int) -> str:
    """What is wrong with an IDX file whose first four bytes, its magic number, are `magic` where `expected_magic` was
    wanted: in words, the numbers in brackets for the curious."""
    wanted = IDX_KINDS.get(expected_magic, "IDX")
    numbers = f"(its magic number is {magic}; an MNIST {wanted} file's is {expected_magic})"
    if found := IDX_KINDS.get(magic):
        return (f"this is not an MNIST {wanted} file: it holds {found} {numbers}. The {wanted} and {found} files look "
                "swapped: give each the other's name")
    return f"this is not an MNIST {wanted} file, nor any MNIST file {numbers}; download it again."


def _idx_file(folder: Path, stem: str) -> Path | None:
    """The IDX file `stem` in `folder`, gzipped or not; None where it has neither."""
    return next((candidate for candidate in (folder / f"{stem}.gz", folder / stem) if candidate.is_file()), None)


def _holds_mnist(folder: Path) -> bool:
    return all(_idx_file(folder, stem) for stem in IDX_FILES.values())


def shown_with_variable(path: str | os.PathLike, variable: str | None) -> str:
    """`path` as a message names it: with the environment `variable` it was read from, if it was (else the user looks
    for the mistake in their code)."""
    return f"{path} (from ${variable})" if variable else str(path)


def _unpacked_into_folders(data_dir: Path) -> dict[str, str]:
    """Each IDX file of `data_dir` that is a folder of its name instead, as a download may unpack them all: the
    folder's name -> the name its file can take beside it (the other of <stem>.gz and <stem>; `open_binary` reads a
    file by its content, whatever its name)."""
    unpacked = {}
    for stem in IDX_FILES.values():
        names = (f"{stem}.gz", stem)
        if not _idx_file(data_dir, stem) and (folder := next((n for n in names if (data_dir / n).is_dir()), None)):
            unpacked[folder] = next(name for name in names if name != folder)
    return unpacked


def _find_idx_file(data_dir: Path, stem: str, variable: str | None) -> Path:
    if found := _idx_file(data_dir, stem):
        return found
    shown = shown_with_variable(data_dir, variable)
    if unpacked := _unpacked_into_folders(data_dir):
        folders, names = ", ".join(unpacked), ", ".join(unpacked.values())
        what, inside, taken = (("is a folder, not the IDX file", "it", "the folder's own name is") if len(unpacked) == 1
                               else ("are folders, not the IDX files", "each", "the folders' own names are"))
        raise DataError(f"{shown}: {folders} {what} (some downloads unpack each file into a folder of its name): move "
                        f"the file inside {inside} up into {data_dir}, named {names} ({taken} taken)")
    try:
        below = [folder for folder in sorted(data_dir.iterdir()) if folder.is_dir() and _holds_mnist(folder)]
    except OSError:  # a folder that may not be listed: its files could still be read by name
        below = []
    if below:
        use = f"set {variable} to it" if variable else "give that folder"
        raise DataError(f"{shown}: the four MNIST IDX files are not in this folder but in {below[0]}: {use}")
    raise DataError(
        f"{shown}: {stem}.gz (or {stem}) is missing. The folder must hold the four MNIST IDX files: "
        + ", ".join(f"{name}.gz" for name in IDX_FILES.values())
    )


def _read_pair(data_dir: Path, images_stem: str, labels_stem: str,
               variable: str | None) -> tuple[np.ndarray, np.ndarray, Path]:
    """The images and labels of one pair of IDX files in `data_dir`, and the images' file."""
    images_path = _find_idx_file(data_dir, images_stem, variable)
    labels_path = _find_idx_file(data_dir, labels_stem, variable)
    images = read_idx(images_path, IDX_IMAGES_MAGIC, variable)
    labels = read_idx(labels_path, IDX_LABELS_MAGIC, variable)
    shown_images, shown_labels = (shown_with_variable(path, variable) for path in (images_path, labels_path))
    if images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise DataError(f"{shown_images}: images are {images.shape[1:]}, expected 28x28")
    if not len(images):
        raise DataError(f"{shown_images} holds no images: its header says 0. Download it again.")
    if len(images) != len(labels):
        raise DataError(
            f"{shown_images} has {len(images):,} images but {shown_labels} has {len(labels):,} labels; "
            "the two files do not belong together."
        )
    if labels.size and labels.max() >= NUM_CLASSES:
        raise DataError(f"{shown_labels}: label {labels.max()} is not a digit 0-9; the file is corrupt")
    return images, labels, images_path


def given_as(parameter: str, option: str) -> str:
    """How to give a data folder, in words for both of its users: the library's `parameter`, the command line's
    `option`. The command line shows a DataError in the library's words (`__main__.said_as_options`): it cannot
    rename `data_dir`, which is the MNIST folder to `load_mnist` and the UNIPEN folder to `load_unipen`."""
    return f"{parameter}= in Python, {option} on the command line"


def missing_folder_message(folder: Path, what: str, variable: str | None, fix: str) -> str:
    """What to say of `folder`, which is not a folder, as `what` (e.g. "MNIST folder"): named with the environment
    `variable` it was read from, if it was, and, where it is a file, that the folder holding it is wanted; where it
    would be there without the spaces around it, that those are what is wrong; else not found, and `fix` says what to
    do. A relative `folder` is named as it was looked up, from the current folder."""
    if blank := _surrounding_blank(folder):
        # `ls` of the folder works, and a path printed as it is shows no space at its end: shown with quotes.
        where = f" from {variable}" if variable else ""
        return (f"{shown_with_variable(repr(str(folder)), variable)}: {what} not found, though "
                f"{str(folder).strip()} is there: the path {blank}. Remove it{where}.")
    shown = shown_with_variable(folder, variable)
    if not folder.is_absolute():
        # Jupyter runs a notebook in the notebook's own folder: a path that is right from where the teacher started
        # Jupyter is looked up there, and "not found" would look wrong.
        shown += f", looked up from the current folder as {folder.absolute()}"
    if advice := relative_path_advice(folder):
        fix += f" {advice}."
    if folder.exists():
        return f"{shown} is a file, not a folder: give the {what} that holds it"
    return f"{shown}: {what} not found. {fix}"


def _surrounding_blank(folder: Path) -> str | None:
    """What white space `folder`'s path begins or ends with, when it is not there but would be without it (a
    `set VAR=path ` in Windows, an .env file); else None. Never taken away silently: that path is not the one given."""
    given = str(folder)
    if given == given.strip() or folder.exists() or not Path(given.strip()).exists():
        return None
    blank = "a space" if given.strip(" ") == given.strip() else "white space"
    ends = [end for end, rest in (("begins", given.lstrip()), ("ends", given.rstrip())) if rest != given]
    return f"{' and '.join(ends)} with {blank}"


def _mnist_folder(data_dir, variable: str | None = None) -> Path:
    """`data_dir` as the folder to read MNIST from, `variable` the environment variable it came from, if any."""
    folder = checked_path(data_dir, "the folder of the four MNIST IDX files")
    if not folder.is_dir():
        fix = (f"Set {variable} to the folder of the four MNIST IDX files, or unset it to let Keras download MNIST."
               if variable else f"Give the folder of the four MNIST IDX files ({given_as('data_dir', '--data-dir')}).")
        raise DataError(missing_folder_message(folder, "MNIST folder", variable, fix))
    return folder


def load_mnist_folder(data_dir: str | os.PathLike) -> MnistData:
    """Load the four canonical IDX files (gzipped or not) from a local folder."""
    return _read_mnist_folder(_mnist_folder(data_dir))


def _read_mnist_folder(data_dir: Path, variable: str | None = None) -> MnistData:
    x_train, y_train, train_images = _read_pair(data_dir, IDX_FILES["train_images"], IDX_FILES["train_labels"],
                                                variable)
    x_test, y_test, test_images = _read_pair(data_dir, IDX_FILES["test_images"], IDX_FILES["test_labels"], variable)
    # MNIST's test set is a sixth of its training set. A test set larger than MNIST's own and than the training set
    # is the two pairs swapped by name: a model would be tested on the images it learned from. A smaller set of
    # either (a lesson's, a test's, a class's few training images with the whole test set) still reads.
    if len(y_test) > max(len(y_train), MNIST_TEST_IMAGES):
        raise DataError(
            f"{shown_with_variable(data_dir, variable)}: the training images, {train_images.name}, are "
            f"{len(y_train):,} and the test images, {test_images.name}, {len(y_test):,}: the train-* and t10k-* files "
            f"look swapped (MNIST's train-* files hold {MNIST_TRAINING_IMAGES:,} images, its t10k-* files "
            f"{MNIST_TEST_IMAGES:,}). Give each of the four files the other pair's name.")
    # abspath, which keeps a link's own name: "." and "/data/mnist/.." have no name of their own.
    folder = Path(os.path.abspath(data_dir))
    return MnistData(x_train, y_train, x_test, y_test,
                     source=f"IDX files in {folder.name}/" if folder.name else f"IDX files in {folder}")


def load_mnist(data_dir: str | os.PathLike | None = None) -> MnistData:
    """Load MNIST: from `data_dir`, else from $NUMVISION_DATA_DIR, else through Keras' download and cache."""
    if data_dir:
        return load_mnist_folder(data_dir)
    if from_variable := os.environ.get(DATA_DIR_VARIABLE):
        return _read_mnist_folder(_mnist_folder(from_variable, DATA_DIR_VARIABLE), DATA_DIR_VARIABLE)
    from ._tensorflow import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as error:  # urllib, zip and numpy errors all mean "no usable download".
        raise DataError(
            f"MNIST could not be downloaded by Keras ({type(error).__name__}: {error}). Without internet, "
            f"set {DATA_DIR_VARIABLE} to a folder holding the four MNIST IDX files."
        ) from error
    return MnistData(x_train, y_train, x_test, y_test, source="Keras download (~/.keras/datasets/mnist.npz)")


def load_test_data(data_dir: str | os.PathLike | None = None) -> MnistData:
    """`load_mnist` for the lessons: when MNIST is missing, one `MissingTestData` message says what to do."""
    try:
        return load_mnist(data_dir)
    except DataError as error:
        # Where a folder was given, the error's own advice is the fix: a second one would contradict it.
        fix = ("Then restart" if data_dir or os.environ.get(DATA_DIR_VARIABLE) else
               f"Fix: set {DATA_DIR_VARIABLE} to a folder with the four MNIST IDX files (or connect to the internet "
               "so Keras can download them), restart")
        raise MissingTestData(
            f"The MNIST test images are needed from here on, and they are not available:\n  {error}\n"
            f"{fix} the kernel and run all cells again. Everything above this cell needs only the model and has "
            "already worked."
        ) from None


def seed_problem(seed) -> str | None:
    """What is wrong with `seed`, unless NumPy, scikit-learn and Keras all take it as it is given: they refuse a
    negative, fractional or larger seed with errors of their own, and take True as 1 and None as "a new seed each
    run"."""
    if not (is_whole_number(seed) and 0 <= seed <= MAX_SEED):
        return f"the seed must be a whole number from 0 to {MAX_SEED}, not {seed!r}"
    return None


# The answer to a picture whose probabilities are not all numbers (NaN: a model whose training diverged). argmax
# would read an all-NaN row as "0", and credit a model that answers nothing with every 0 it was shown.
NO_ANSWER = -1


def answers(probabilities: np.ndarray) -> np.ndarray:
    """The digit each row of probabilities (N, 10) answers, its most probable; `NO_ANSWER`, never right, for a row
    that holds NaN or infinity."""
    probabilities = np.asarray(probabilities)
    return np.where(np.isfinite(probabilities).all(axis=1), probabilities.argmax(axis=1), NO_ANSWER)


def check_batch_size(batch_size, most: int | None = None) -> None:
    """A `ConfigError` unless `batch_size` is a whole number of images, at least 1 (and at most `most`)."""
    if is_whole_number(batch_size) and batch_size >= 1 and (most is None or batch_size <= most):
        return
    allowed = "at least 1" if most is None else f"from 1 to {most:,}"
    raise ConfigError(f"the batch size is a whole number of images, {allowed}, not {batch_size!r}")


def check_seed(seed) -> None:
    """A `ConfigError` saying what is wrong with `seed` (`seed_problem`), if anything."""
    if problem := seed_problem(seed):
        raise ConfigError(problem)


def _splits_by_digit(labels: np.ndarray, part_size: int) -> bool:
    """Whether scikit-learn can split `labels` into `part_size` and the rest keeping every digit's share: each side
    needs one image of every digit, so each digit needs two."""
    digits, counts = np.unique(labels, return_counts=True)
    return counts.size > 0 and counts.min() >= 2 and min(part_size, len(labels) - part_size) >= len(digits)


def validation_count(total: int, validation_fraction: float) -> int:
    """How many of `total` images `stratified_split` keeps for validation: scikit-learn rounds the share up."""
    return math.ceil(validation_fraction * total)


def stratified_split(
    images: np.ndarray, labels: np.ndarray, validation_fraction: float = 0.1, seed: int = 42
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split into train and validation sets that keep every digit's share; returns x_tr, y_tr, x_val, y_val."""
    from sklearn.model_selection import train_test_split

    checked_labels(labels, len(images), "images to split")  # the labels are kept as given: MNIST's stay uint8
    if not (is_number(validation_fraction) and 0 < validation_fraction < 1):
        raise ConfigError(f"validation_fraction is the share of the images kept for validation, above 0 and below 1 "
                          f"(such as 0.1), not {validation_fraction!r}")
    check_seed(seed)
    if not _splits_by_digit(labels, validation_count(len(labels), validation_fraction)):
        digits, counts = np.unique(labels, return_counts=True)
        fewest = counts.min() if counts.size else 0
        raise DataError(f"{len(labels):,} images are too few to split into training and validation keeping each "
                        f"digit's share: each side needs every digit ({len(digits)} of them), and each digit two "
                        f"images at least (the rarest has {fewest}). Use more images, such as all of MNIST.")
    x_train, x_val, y_train, y_val = train_test_split(
        images, labels, test_size=validation_fraction, stratify=labels, random_state=seed
    )
    return x_train, y_train, x_val, y_val


def stratified_subset(images: np.ndarray, labels: np.ndarray, size: int, seed: int = 42):
    """A class-balanced random subset of `size` examples (used by quick mode and tests)."""
    if not (is_whole_number(size) and size >= 1):
        raise ConfigError(f"the size of a subset is a whole number of images, at least 1, not {size!r}")
    checked_labels(labels, len(images), "images to take a subset of")
    check_seed(seed)
    if size >= len(labels):
        return images, labels
    if not _splits_by_digit(labels, size):
        # Taking or leaving out so few at random keeps the balance as well as can be.
        kept = np.sort(np.random.default_rng(seed).permutation(len(labels))[:size])
        return images[kept], labels[kept]
    x_subset, y_subset, _, _ = stratified_split(images, labels, validation_fraction=1 - size / len(labels), seed=seed)
    return x_subset, y_subset


def checked_labels(labels, count: int, images: str) -> np.ndarray:
    """`labels` as int64 digits, one per image of `count`; a `ConfigError` says what is wrong with them, or that
    there are no `images` (e.g. "test images to evaluate the model on")."""
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == NUM_CLASSES and labels.dtype.kind in "biuf":
        raise ConfigError("these labels are one-hot rows (as keras.utils.to_categorical makes them): give the digits "
                          "themselves, labels.argmax(axis=1)")
    if labels.shape != (count,):
        raise ConfigError(f"give one label per image: {count} images, but labels of shape {labels.shape}")
    if labels.dtype == object:  # a list of mixed ints and floats, say
        try:
            labels = labels.astype(np.float64)
        except (TypeError, ValueError):
            pass
    if labels.dtype.kind not in "iuf":
        raise ConfigError(f"labels are the digits 0-9 as numbers, not {labels.dtype} values such as "
                          f"{labels[:3].tolist()}")
    if not np.isin(labels, DIGITS).all():
        others = np.unique(labels[~np.isin(labels, DIGITS)])[:5]
        raise ConfigError(f"labels are the digits 0-9; these also hold {others.tolist()}")
    if not count:
        raise ConfigError(f"no {images}")
    return labels.astype(np.int64)


def images_per_digit(labels, images: str) -> np.ndarray:
    """How many of `labels` are each digit 0-9, the labels checked by `checked_labels` (`images` names them when
    there are none)."""
    labels = np.asarray(labels)
    # A lone number has no len(): it is refused as labels of shape (), as any other wrong shape is.
    return np.bincount(checked_labels(labels, len(labels) if labels.ndim else 1, images), minlength=NUM_CLASSES)


def picture_array(images) -> np.ndarray:
    """`images` as a NumPy array; a list of pictures of different sizes is a `ConfigError`, not NumPy's."""
    try:
        return np.asarray(images)
    except ValueError:
        raise ConfigError(_no_pictures_message(images) or "give 28x28 pictures, all of the same size, such as "
                          "data.x_train") from None


def _no_pictures_message(given) -> str | None:
    """What to give instead of `given`, for the slips of a lesson that has the pad's answer at hand: the answer
    itself, the empty pad's None, or the strokes drawn; None for anything else."""
    if given is None:
        return ("give a 28x28 picture, not None: the pad is empty (pad.prediction is None until a digit is drawn): "
                "draw a digit first")
    if hasattr(given, "model_input"):
        return (f"give a 28x28 picture, not a {type(given).__name__}: give its picture, its model_input, such as "
                "drawing.model_input where drawing = pad.prediction")
    if _shaped_like_strokes(given):
        return ("give a 28x28 picture, not strokes: the network sees the picture the pad makes of them, "
                "predictor.predict(strokes).model_input")
    return None


def _shaped_like_strokes(given) -> bool:
    """Whether `given` has the shape of the pad's strokes, a list of lists of (x, y) points, by its shape alone: the
    message's guess (preprocess, which reads pictures with this module, is where strokes are read)."""
    if not isinstance(given, (list, tuple)) or not given:
        return False
    try:
        return all(np.ndim(stroke) == 2 and np.shape(stroke)[1] == 2 for stroke in given)
    except ValueError:  # a stroke whose points are not all pairs
        return False


def checked_pixels(images) -> tuple[np.ndarray, int]:
    """Pictures, one (28, 28) or a batch (N, 28, 28), with or without the channel axis (28, 28, 1), as a batch
    (N, 28, 28) with the value of full ink in it; read by
    their type alone, never by one picture's values: whole numbers are levels 0-255 (MNIST's uint8; full ink 255),
    floats (and True/False) the network's input from 0 to 1 (full ink 1, with an interpolation's overshoot either
    way allowed). Anything else is a `ConfigError`: floats still 0-255 (`x_test.astype("float32")`) would be shown
    255 times too bright, -1 as 255 after a cast to uint8, and a 0/1 mask of whole numbers as black
    (`whole_number_mask_problem`)."""
    given, images = images, picture_array(images)
    given_shape = images.shape
    if images.shape == (0,):  # an empty list: no pictures
        images = images.reshape(0, IMAGE_SIZE, IMAGE_SIZE)
    if images.shape[-1:] == (1,) and images.ndim in (3, 4):
        images = images[..., 0]
    if images.ndim == 2:
        images = images[np.newaxis]
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ConfigError(_no_pictures_message(given) or f"give 28x28 pictures: one (28, 28), or a batch (N, 28, 28) "
                          f"or (N, 28, 28, 1) such as data.x_train, not an array of shape {given_shape}")
    return images, full_ink(images)


def whole_number_mask_problem(pixels: np.ndarray) -> str | None:
    """What is wrong with whole-number pixels whose brightest is 1, a mask made as (x > 127).astype(int): read as
    levels 0-255 it is almost black, and the model answers at random, or the picture is called blank. Nothing is
    lost by refusing it: a picture of levels whose brightest pixel is 1 shows nothing. None for other pixels."""
    if pixels.dtype.kind in "iu" and pixels.size and pixels.max() == 1:
        return ("the pixels are whole numbers from 0 to 1, and whole numbers are read as levels 0-255, so this is "
                "almost black: multiply by 255, or give True/False or floats from 0 to 1")
    return None


def full_ink(pixels: np.ndarray) -> int:
    """The value of full ink in `pixels` (of any shape: a canvas too), read by their type alone, as `checked_pixels`
    reads them: 255 for whole numbers, 1 for floats; pixels outside their type's range, or whole numbers whose
    brightest is 1 (a 0/1 mask: `whole_number_mask_problem`), are a `ConfigError`."""
    if pixels.dtype.kind in "iu":
        # uint8 needs no range check: its brightest is found once, by the mask rule.
        if pixels.dtype != np.uint8 and pixels.size and (pixels.min() < 0 or pixels.max() > 255):
            raise ConfigError(f"pixels given as whole numbers are levels from 0 to 255, as MNIST's; these go from "
                              f"{pixels.min()} to {pixels.max()}")
        if problem := whole_number_mask_problem(pixels):
            raise ConfigError(problem)
        return 255
    if pixels.dtype.kind in "fb":
        if pixels.size and not (np.isfinite(pixels).all() and -MODEL_INPUT_OVERSHOOT <= pixels.min()
                                and pixels.max() <= 1 + MODEL_INPUT_OVERSHOOT):
            raise ConfigError(_float_pixels_message(pixels))
        return 1
    raise ConfigError(f"pictures are arrays of numbers, not of {pixels.dtype}")


def _float_pixels_message(images: np.ndarray) -> str:
    if not np.isfinite(images).all():
        return "pixels given as floats are the network's input, from 0 to 1; these hold NaN or infinity"
    return (f"pixels given as floats are the network's input, from 0 to 1; these go from {images.min():g} to "
            f"{images.max():g} (for 0-255 pixels, divide by 255 or give them as uint8, such as data.x_train)")


def model_input(images) -> np.ndarray:
    """Pictures (one or a batch) as the network takes them, float32 (N, 28, 28, 1) in [0, 1], read as
    `checked_pixels` reads them."""
    pixels, white = checked_pixels(images)
    return _divided_levels(pixels) if white == 255 else pixels.astype(np.float32)[..., np.newaxis]


def one_model_input(image, task: str, for_a_batch: str = "") -> np.ndarray:
    """One picture (also a batch of one) as a batch of one, as `model_input` gives it. A batch, or no picture, is
    an `ImageError` saying that `task` takes one picture at a time (and `for_a_batch`, what to use instead): it
    would otherwise use the first picture of a batch without a word about the others."""
    batch = model_input(image)
    if len(batch) != 1:
        raise ImageError(f"{task} takes one picture at a time, not {len(batch)}: give one 28x28 picture, such as "
                         f"images[0]{'; ' + for_a_batch if for_a_batch else ''}")
    return batch


def to_model_input(images) -> np.ndarray:
    """MNIST's levels 0-255 (whole numbers, such as data.x_train: one picture or a batch, as `checked_pixels` reads
    them) → float32 (N, 28, 28, 1) in [0, 1], the network's input format. Floats are a `ConfigError`, not divided
    again: a 0-1 picture divided by 255 is almost black, and the network reads it with confidence as another digit.
    `model_input` takes both."""
    pixels, white = checked_pixels(images)
    if white != 255:
        raise ConfigError(_not_levels_message(pixels))
    return _divided_levels(pixels)


def _divided_levels(levels: np.ndarray) -> np.ndarray:
    return (levels.astype(np.float32) / 255.0)[..., np.newaxis]


def _not_levels_message(pixels: np.ndarray) -> str:
    values = f" from {pixels.min():g} to {pixels.max():g}" if pixels.dtype.kind == "f" and pixels.size else ""
    return (f"to_model_input divides levels 0-255 (whole numbers, such as data.x_train) by 255; these pixels are "
            f"{pixels.dtype}{values}: the network's input already, and divided again they would be almost black. "
            "Use them as they are (with a channel axis, pictures[..., None]), or give pictures of either kind to "
            "numvision_lib.data.model_input, which keeps 0-1 floats as they are and divides levels by 255")


def to_mnist_pixels(model_inputs: np.ndarray) -> np.ndarray:
    """Prepared drawings, float (N, 28, 28) in [0, 1] → MNIST's uint8 format, so that they can join MNIST's
    images in the same training pipeline and augmentation. Read as `full_ink` reads pixels: floats still 0-255 are
    refused, whole numbers are already levels."""
    pixels = picture_array(model_inputs)
    if full_ink(pixels) == 255:
        return pixels.astype(np.uint8)
    # An interpolation's overshoot, which the rule allows, is clipped: cast to uint8, -0.01 would wrap round to 253.
    return np.round(np.clip(pixels, 0, 1) * 255).astype(np.uint8)

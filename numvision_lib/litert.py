"""The drawing pad without TensorFlow: its networks as exported LiteRT files, run with NumPy, SciPy, Pillow and the
small LiteRT runtime.

Importing TensorFlow makes a kernel several times larger and slower to start (docs/benchmarks.md has the measured
figures), which thirty students on one server cannot afford for a drawing lesson. So `python -m numvision_lib
export-litert` (which does need TensorFlow) converts the pad's model, and the digit check, into LiteRT flatbuffers
with 8-bit weights, exactly as `predict.Predictor` converts them in memory, and writes each beside its `.keras` file
(`models/<name>.tflite`). The export is recorded in the card beside the `.keras` file, under "litert": the
flatbuffer's name, its SHA-256 and that of the `.keras` file it was made from. `LitePredictor` reads those files and
cards with `ai_edge_litert`, and nothing on its path imports TensorFlow or Keras (tests/test_litert.py checks that
in a fresh process). The temperature comes from the model card and the threshold from the check's card, as for
`Predictor`.

A `.keras` file changed since its export (retrained, recalibrated batch norm) no longer matches its recorded
hash, and loading says so and names the command to run, rather than serving an outdated network.
"""
from __future__ import annotations

import hashlib
import os
import shlex
from functools import partial
from pathlib import Path

import numpy as np

from .data import IMAGE_SIZE, NUM_CLASSES
from .errors import ConfigError, ModelFileError
from .model_card import DIGIT_CHECK_PATH, ModelCard, digit_check_threshold, pad_model_path, read_card
from .paths import PROJECT_ROOT, checked_path, model_not_found_message, project_relative, sha256_of
from .prediction import (MODEL_FILE_OR_LOADED, READINGS, BasePredictor, Network, check_digit_check_card,
                         digit_check_file, in_chunks)
from .quiet import quiet_output

EXPORT_COMMAND = "python -m numvision_lib export-litert"
SUFFIX = ".tflite"
# The card entry that records an export (see the module docstring).
CARD_KEY = "litert"
WEIGHTS = "8-bit (dynamic-range quantisation)"
RECORD_KEYS = {"file", "sha256", "source_sha256"}  # what loading checks; `export_record` writes more


def litert_path(model_path: str | os.PathLike) -> Path:
    """Where the LiteRT copy of a `.keras` file goes: beside it, as `<name>.tflite`."""
    return Path(model_path).with_suffix(SUFFIX)


def export_record(model_path: str | os.PathLike, exported_path: str | os.PathLike, versions: dict) -> dict:
    """What a card records about an export: the file, both hashes, the weights and the converter's versions."""
    return {"file": Path(exported_path).name, "sha256": sha256_of(exported_path),
            "source_sha256": sha256_of(model_path), "weights": WEIGHTS, "versions": versions}


def export_command(model_path: Path | None = None, digit_check_path: Path | None = None) -> str:
    """The command that exports these files again (the defaults need no options), to paste into a terminal."""
    options = [f"--model {_command_line_path(model_path)}" if model_path is not None else "",
               f"--digit-check {_command_line_path(digit_check_path)}" if digit_check_path is not None else ""]
    return " ".join([EXPORT_COMMAND, *filter(None, options)])


def _command_line_path(path: Path) -> str:
    """`path` as a command run from the project's folder takes it: relative to that folder when inside it, else in
    full (`project_relative` would abbreviate it), quoted for the shell where it holds a space or the like."""
    path = Path(path).absolute()  # a relative path was read from the folder this runs in: a notebook's, say
    return shlex.quote(project_relative(path) if path.resolve().is_relative_to(PROJECT_ROOT) else str(path))


def exported_flatbuffer(model_path: str | os.PathLike, command: str = EXPORT_COMMAND) -> bytes:
    """The LiteRT flatbuffer exported from `model_path`, after checking that it is there and still matches it.

    A `ModelFileError` names what is missing or out of date and the command (`command`) that exports it again.
    """
    model_path = Path(model_path)
    if model_path.suffix != ".keras":
        raise ModelFileError(f"{model_path.name}: give the .keras model; its LiteRT copy is found through the model's "
                             "card")
    if not model_path.is_file():
        raise ModelFileError(model_not_found_message(model_path))
    record = read_card(model_path).get(CARD_KEY)
    if (not isinstance(record, dict) or not RECORD_KEYS <= set(record) or not isinstance(record["file"], str)
            or Path(record["file"]).name != record["file"] or record["file"] in ("", ".", "..")):
        raise ModelFileError(f"{model_path.name} has not been exported for the light drawing pad (its card has no "
                             f"complete '{CARD_KEY}' entry). Export it with `{command}`; that needs TensorFlow, once.")
    exported = model_path.with_name(record["file"])
    if not exported.is_file():
        raise ModelFileError(f"{project_relative(exported)} is missing (the LiteRT copy of {model_path.name}). "
                             f"Export it again with `{command}`.")
    if sha256_of(model_path) != record["source_sha256"]:
        raise ModelFileError(f"{exported.name} is out of date: {model_path.name} has changed since it was exported. "
                             f"Export it again with `{command}`.")
    flatbuffer = exported.read_bytes()
    if hashlib.sha256(flatbuffer).hexdigest() != record["sha256"]:
        raise ModelFileError(f"{exported.name} is not the file that was exported from {model_path.name} (its "
                             f"contents changed). Export it again with `{command}`.")
    return flatbuffer


def interpreter_for_pad(flatbuffer: bytes, images: int) -> Network:
    """A function that runs the network in `flatbuffer` with LiteRT on a fixed number of images (images, 28, 28, 1)
    float32: one picture's READINGS copies for the model, the picture itself (1) for the digit check.

    It runs in the calling thread (one interpreter thread) instead of handing work to a thread pool, so other
    work on the machine hurts it less (benchmarks/latency.py compares it with the XLA function under the same
    load). Raises ImportError without `ai_edge_litert`, and whatever the runtime raises for a bad flatbuffer.

    Not thread-safe: an interpreter owns its input and output buffers, so two threads calling it at once
    would mix their images. One per predictor is enough because ipywidgets (and ipycanvas) callbacks all
    run in the kernel's main thread, one after the other; share a predictor across threads only with a lock.
    """
    from ai_edge_litert.interpreter import Interpreter  # here, not at the top: Predictor falls back without it

    with quiet_output():  # the runtime announces its CPU delegate on fd 2, into the notebook
        # One thread: the input is a few small images, and a pool's threads would spin between strokes.
        interpreter = Interpreter(model_content=flatbuffer, num_threads=1)
        interpreter.allocate_tensors()
        (input_details,), (output_details,) = interpreter.get_input_details(), interpreter.get_output_details()
        input_index, output_index = input_details["index"], output_details["index"]
        # The converter keeps a flexible batch dimension; fix it, since resizing on a call costs a reallocation.
        shape = (images, IMAGE_SIZE, IMAGE_SIZE, 1)
        if tuple(input_details["shape"]) != shape:
            interpreter.resize_tensor_input(input_index, list(shape), strict=False)
            interpreter.allocate_tensors()
        interpreter.set_tensor(input_index, np.zeros(shape, np.float32))
        interpreter.invoke()  # any first-call cost (and message) comes now, quietly, not on the first stroke

    def run(image_batch: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(input_index, image_batch)
        interpreter.invoke()
        return interpreter.get_tensor(output_index)  # a copy: the next call cannot overwrite it

    return run


def _runtime_reads(flatbuffer: bytes) -> bool:
    from ai_edge_litert.interpreter import Interpreter

    try:
        with quiet_output():
            Interpreter(model_content=flatbuffer)
    except ValueError:
        return False
    return True


def in_groups(network: Network, batch: np.ndarray, size: int, width: int) -> np.ndarray:
    """`network` (exactly `size` images at a time) over a batch (N, 28, 28, 1) whose N is a multiple of `size`."""
    if len(batch) % size:
        raise ConfigError(f"{len(batch)} images do not make groups of {size}: the interpreter takes exactly {size}")
    return in_chunks(network, batch, size, width)


class LitePredictor(BasePredictor):
    """The drawing pad's predictor from the exported LiteRT files: the same answers as `predict.Predictor`'s
    pad path (the same 8-bit networks, preprocessing, temperature and threshold), without TensorFlow.

    Batches (`probabilities`, `predict_batch`) run through the same interpreters as the pad, picture by picture.
    """

    def __init__(self, model: bytes, source: Path | None = None, temperature: float = 1.0,
                 digit_check: bytes | None = None, threshold: float | None = None):
        pad_network = interpreter_for_pad(model, READINGS)
        check = interpreter_for_pad(digit_check, 1) if digit_check is not None else None
        super().__init__(source, temperature, pad_network,
                         partial(in_groups, pad_network, size=READINGS, width=NUM_CLASSES), check,
                         None if check is None else partial(in_groups, check, size=1, width=1), threshold)

    @classmethod
    def load(cls, path: str | os.PathLike | None = None,
             digit_check_path: str | os.PathLike | None = DIGIT_CHECK_PATH) -> "LitePredictor":
        """The exported copy of the pad's model (`None`: `model_card.pad_model_path()`) and of the digit check
        at `digit_check_path` (`None`: no check; the default may be absent only where no check was ever trained or
        shipped, see `prediction.digit_check_file`), as `Predictor.load` would load their `.keras` files.

        A `ModelFileError` says which export is missing or out of date, and the command that makes it.
        """
        model_path = pad_model_path() if path is None else checked_path(path, MODEL_FILE_OR_LOADED)
        check_path = digit_check_file(digit_check_path)
        command = export_command(None if path is None else model_path,
                                 check_path if check_path not in (None, DIGIT_CHECK_PATH) else None)
        model = exported_flatbuffer(model_path, command)
        temperature = ModelCard.for_model(model_path).temperature
        check = threshold = None
        if check_path is not None:
            check_digit_check_card(check_path)
            threshold = digit_check_threshold(check_path)
            check = exported_flatbuffer(check_path, command)
        try:
            return cls(model, source=model_path, temperature=temperature, digit_check=check, threshold=threshold)
        except ValueError as error:  # bytes the runtime cannot read, yet the card's hash: a card edited to match
            unreadable = [litert_path(path).name for path, flatbuffer in ((model_path, model), (check_path, check))
                          if flatbuffer is not None and not _runtime_reads(flatbuffer)]
            raise ModelFileError(f"{' and '.join(unreadable) or 'the LiteRT copies'} cannot be read by LiteRT "
                                 f"({error}). Export again with `{command}`.") from None

    @property
    def name(self) -> str:
        return self.source.stem if self.source is not None else "litert"

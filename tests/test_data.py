import gzip
import re
import struct

import numpy as np
import pytest

from numvision_lib.data import (
    IDX_FILES,
    load_mnist,
    load_test_data,
    read_idx,
    stratified_split,
    stratified_subset,
    to_model_input,
)
from numvision_lib.errors import ConfigError, DataError, ImageError, MissingTestData
from numvision_lib.paths import PROJECT_ROOT


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    magic = magic if magic is not None else 0x0800 | array.ndim
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", n) for n in array.shape) + array.tobytes()


def write_idx_folder(folder, train_count=30, test_count=10, gzipped=True, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, (train_count, 28, 28), dtype=np.uint8),
        "train_labels": np.arange(train_count, dtype=np.uint8) % 10,
        "test_images": rng.integers(0, 256, (test_count, 28, 28), dtype=np.uint8),
        "test_labels": np.arange(test_count, dtype=np.uint8) % 10,
    }
    for key, array in arrays.items():
        name = IDX_FILES[key] + (".gz" if gzipped else "")
        opener = gzip.open if gzipped else open
        with opener(folder / name, "wb") as stream:
            stream.write(idx_bytes(array))
    return arrays


@pytest.mark.parametrize("gzipped", [True, False])
def test_folder_loader_reads_back_what_was_written(tmp_path, gzipped):
    arrays = write_idx_folder(tmp_path, gzipped=gzipped)
    data = load_mnist(tmp_path)
    np.testing.assert_array_equal(data.x_train, arrays["train_images"])
    np.testing.assert_array_equal(data.y_train, arrays["train_labels"])
    np.testing.assert_array_equal(data.x_test, arrays["test_images"])
    np.testing.assert_array_equal(data.y_test, arrays["test_labels"])
    assert data.x_train.dtype == np.uint8 and data.x_train.shape == (30, 28, 28)
    # Writable, as the arrays of Keras' download are: a lesson's own edits work with either source.
    data.x_train[data.x_train < 50] = 0
    np.random.default_rng(0).shuffle(data.y_train)


def test_a_folder_of_files_without_images_is_refused(tmp_path):
    write_idx_folder(tmp_path, train_count=0, test_count=0)
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz holds no images: its header says 0"):
        load_mnist(tmp_path)


def test_a_header_too_large_to_count_in_int64_is_refused_as_truncated(tmp_path):
    path = tmp_path / "huge.idx"
    path.write_bytes(struct.pack(">IIII", 0x0803, 2**21, 2**21, 2**22))
    with pytest.raises(DataError, match=r"huge.idx: truncated: header promises shape \(2097152, 2097152, 4194304\) "
                                        r"\(18,446,744,073,709,551,632 bytes\)"):
        read_idx(path, 0x0803)


def test_environment_variable_names_the_folder(tmp_path, monkeypatch):
    write_idx_folder(tmp_path, train_count=20)
    monkeypatch.setenv("NUMVISION_DATA_DIR", str(tmp_path))
    assert len(load_mnist().y_train) == 20


def test_truncated_file_is_refused_with_its_name(tmp_path):
    write_idx_folder(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    content = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(content[:-100]))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz: truncated"):
        load_mnist(tmp_path)


def cut_short(content: bytes) -> bytes:
    return content[:-12]


def damaged_block(content: bytes) -> bytes:
    content = bytearray(gzip.compress(gzip.decompress(content)))  # a 10-byte header: no file name
    content[10] = 0xFF  # the compressed data's first block claims a type that does not exist: zlib fails
    return bytes(content)


@pytest.mark.parametrize("damage", [cut_short, damaged_block])
def test_a_gzip_stream_cut_short_or_damaged_is_reported_as_a_bad_download(tmp_path, damage):
    write_idx_folder(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(DataError, match=re.escape(f"{path}: cannot be read (") + ".*" + re.escape(
            "); the download is probably incomplete or corrupt. Delete it and download it again.")):
        load_mnist(tmp_path)


def deny_reading(monkeypatch, folder) -> None:
    """Makes the files in `folder` unreadable, as chmod does for a user that is not root (the tests may be root)."""
    import builtins
    import errno

    from numvision_lib import data

    def guarded_open(file, *args, **kwargs):
        if str(file).startswith(str(folder)):
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return builtins.open(file, *args, **kwargs)

    monkeypatch.setattr(data, "open", guarded_open, raising=False)


def test_a_file_that_may_not_be_read_says_so_not_to_download_it_again(tmp_path, monkeypatch):
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(3, dtype=np.uint8))))
    deny_reading(monkeypatch, tmp_path)
    with pytest.raises(DataError) as raised:
        read_idx(path, 2049)
    message = str(raised.value)
    assert message.startswith(f"{path}: you may not read this file (Permission denied)") and "permission" in message
    assert "download" not in message and "corrupt" not in message


def test_a_gzipped_file_without_its_suffix_still_reads(tmp_path):
    (tmp_path / "gz").mkdir()
    arrays = write_idx_folder(tmp_path / "gz")
    plain = tmp_path / "plain"
    plain.mkdir()
    for path in (tmp_path / "gz").iterdir():  # gzipped content under the names of uncompressed files
        (plain / path.name.removesuffix(".gz")).write_bytes(path.read_bytes())
    data = load_mnist(plain)
    np.testing.assert_array_equal(data.x_train, arrays["train_images"])


def test_swapped_files_are_recognised_by_their_magic_number(tmp_path, monkeypatch):
    """It was "train-images-idx3-ubyte.gz: expected magic 2051, found 2049 — is this a labels file?": jargon, and no
    word of which folder's file, for a teacher with two copies of MNIST."""
    write_idx_folder(tmp_path)
    images, labels = tmp_path / "train-images-idx3-ubyte.gz", tmp_path / "train-labels-idx1-ubyte.gz"
    images_bytes = images.read_bytes()
    images.write_bytes(labels.read_bytes())
    labels.write_bytes(images_bytes)
    problem = ("this is not an MNIST images file: it holds labels (its magic number is 2049; an MNIST images file's is "
               "2051). The images and labels files look swapped: give each the other's name")
    with pytest.raises(DataError, match=f"^{re.escape(f'{images}: {problem}')}$"):
        load_mnist(tmp_path)
    monkeypatch.setenv("NUMVISION_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match=f"^{re.escape(f'{images} (from $NUMVISION_DATA_DIR): {problem}')}$"):
        load_mnist()
    images.write_bytes(b"<html>")
    with pytest.raises(DataError, match=f"^{re.escape(str(images))} " + re.escape(
            "(from $NUMVISION_DATA_DIR): this is not an MNIST images file, nor any MNIST file (its magic number is "
            "1013478509; an MNIST images file's is 2051); download it again.")):
        load_mnist()
    images.write_bytes(b"")
    with pytest.raises(DataError, match=f"^{re.escape(f'{images} (from $NUMVISION_DATA_DIR): only 0 bytes')}"):
        load_mnist()


def test_training_and_test_files_swapped_by_name_are_refused(tmp_path, monkeypatch):
    """MNIST's train-* files named t10k-* and the other way round were read: "Test accuracy" was measured on the
    images the model learned from, and training used a sixth of MNIST."""
    write_idx_folder(tmp_path, train_count=10, test_count=10_001)  # more test images than MNIST's own test set
    message = (f"{tmp_path}: the training images, train-images-idx3-ubyte.gz, are 10 and the test images, "
               "t10k-images-idx3-ubyte.gz, 10,001: the train-* and t10k-* files look swapped (MNIST's train-* files "
               "hold 60,000 images, its t10k-* files 10,000). Give each of the four files the other pair's name.")
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        load_mnist(tmp_path)
    monkeypatch.setenv("NUMVISION_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match=f"^{re.escape(f'{tmp_path} (from $NUMVISION_DATA_DIR): the training')}"):
        load_mnist()
    # A small set of either still reads, and so does a class's few training images with the whole test set: a
    # folder of MNIST's first 5,000 training images and its 10,000 test images was called swapped.
    for train_count, test_count in ((10, 10), (10, 30), (5_000, 10_000)):
        write_idx_folder(tmp_path, train_count=train_count, test_count=test_count)
        assert len(load_mnist(tmp_path).y_test) == test_count


def test_mismatched_image_and_label_counts(tmp_path):
    write_idx_folder(tmp_path)
    with gzip.open(tmp_path / "t10k-labels-idx1-ubyte.gz", "wb") as stream:
        stream.write(idx_bytes(np.zeros(7, dtype=np.uint8)))
    with pytest.raises(DataError, match=re.escape(f"{tmp_path / 't10k-images-idx3-ubyte.gz'} has 10 images but "
                                                  f"{tmp_path / 't10k-labels-idx1-ubyte.gz'} has 7 labels")):
        load_mnist(tmp_path)


def test_wrong_image_size_and_bad_labels(tmp_path):
    path = tmp_path / "x-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros((3, 32, 32), dtype=np.uint8)))
    write_idx_folder(tmp_path)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(path.read_bytes()))
    with pytest.raises(DataError, match="expected 28x28"):
        load_mnist(tmp_path)
    write_idx_folder(tmp_path)
    with gzip.open(tmp_path / "train-labels-idx1-ubyte.gz", "wb") as stream:
        stream.write(idx_bytes(np.full(30, 12, dtype=np.uint8)))
    with pytest.raises(DataError, match="label 12 is not a digit"):
        load_mnist(tmp_path)


def test_missing_file_and_missing_folder(tmp_path):
    write_idx_folder(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz .*is missing"):
        load_mnist(tmp_path)
    with pytest.raises(DataError, match="MNIST folder not found"):
        load_mnist(tmp_path / "nowhere")


def test_header_only_and_empty_files(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    with pytest.raises(DataError, match="too short for an IDX header"):
        read_idx(path, 2051)
    path.write_bytes(struct.pack(">I", 2051) + b"\0\0")
    with pytest.raises(DataError, match="header is truncated"):
        read_idx(path, 2051)


def test_real_mnist_has_the_canonical_shapes(mnist):
    assert mnist.x_train.shape == (60_000, 28, 28) and mnist.x_test.shape == (10_000, 28, 28)
    assert mnist.y_train.shape == (60_000,) and mnist.y_test.shape == (10_000,)
    assert np.bincount(mnist.y_test).tolist()[:3] == [980, 1135, 1032]


def test_stratified_split_keeps_every_digit_share(mnist):
    x_train, y_train, x_val, y_val = stratified_split(mnist.x_train, mnist.y_train, 0.1, seed=42)
    assert len(y_val) == 6000 and len(y_train) == 54_000
    overall = np.bincount(mnist.y_train) / len(mnist.y_train)
    np.testing.assert_allclose(np.bincount(y_val) / len(y_val), overall, atol=0.001)
    assert x_train.shape[1:] == (28, 28)
    again = stratified_split(mnist.x_train, mnist.y_train, 0.1, seed=42)
    np.testing.assert_array_equal(again[3], y_val)


def test_too_few_images_to_split_by_digit_get_a_plain_error():
    images, labels = np.zeros((12, 28, 28), np.uint8), np.arange(12) % 10  # digits 2-9 once each
    with pytest.raises(DataError, match=r"12 images are too few .*the rarest has 1\)"):
        stratified_split(images, labels, 0.5)
    with pytest.raises(DataError, match=r"each side needs every digit \(10 of them\)"):
        stratified_split(np.zeros((40, 28, 28), np.uint8), np.arange(40) % 10, 0.1)


def test_a_subset_smaller_than_the_digits_is_drawn_at_random():
    images, labels = np.arange(100)[:, None, None] * np.ones((1, 28, 28)), np.arange(100) % 10
    chosen, chosen_labels = stratified_subset(images, labels, 5, seed=1)
    assert len(chosen) == 5 and np.array_equal(chosen[:, 0, 0] % 10, chosen_labels)
    for size in (0, -3, 2.5, "10"):
        with pytest.raises(ConfigError, match="whole number of images, at least 1"):
            stratified_subset(images, labels, size)


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, None])
def test_splits_refuse_a_seed_no_generator_takes(seed):
    """scikit-learn and NumPy refuse these with errors of their own (None would even draw anew each run)."""
    images, labels = np.zeros((100, 28, 28), np.uint8), np.arange(100) % 10
    for split in (lambda: stratified_split(images, labels, 0.2, seed), lambda: stratified_subset(images, labels, 20, seed),
                  lambda: stratified_subset(images, labels, 5, seed)):
        with pytest.raises(ConfigError, match=f"the seed must be a whole number from 0 to 4294967295, not {seed}"):
            split()


def test_stratified_subset_is_balanced(mnist):
    _, labels = stratified_subset(mnist.x_train, mnist.y_train, 3000)
    assert len(labels) == 3000
    # Each digit in its share of the training set, to one image (a random draw strays by about 16 per digit).
    expected = np.bincount(mnist.y_train) * 3000 / len(mnist.y_train)
    assert np.abs(np.bincount(labels, minlength=10) - expected).max() <= 1


def test_model_input_is_scaled_with_a_channel_axis():
    images = np.zeros((1, 28, 28), dtype=np.uint8)
    images[0, :2, :2] = [[0, 255], [51, 102]]
    scaled = to_model_input(images)
    assert scaled.shape == (1, 28, 28, 1) and scaled.dtype == np.float32
    np.testing.assert_allclose(scaled[0, :2, :2, 0], [[0, 1], [0.2, 0.4]])


def test_to_model_input_refuses_pictures_already_scaled_instead_of_scaling_them_again(mnist):
    """A 0-1 picture was divided by 255 a second time, almost black: the pad read five test digits as a 1 with 99.6%
    confidence. A batch with its channel axis came back with a fifth axis."""
    levels = mnist.x_test[:5]
    inputs = to_model_input(levels)
    np.testing.assert_array_equal(inputs, (levels.astype(np.float32) / 255)[..., np.newaxis])
    for same in (levels[..., np.newaxis], levels.astype(np.int64)):
        np.testing.assert_array_equal(to_model_input(same), inputs)
    assert to_model_input(levels[0]).shape == (1, 28, 28, 1)
    for scaled in (inputs, inputs[..., 0], inputs[0, ..., 0]):
        with pytest.raises(ConfigError, match=r"^to_model_input divides levels 0-255 \(whole numbers, such as "
                                              r"data\.x_train\) by 255; these pixels are float32 from 0 to 1: the "
                                              r"network's input already, .* Use them as they are \(with a channel "
                                              r"axis, pictures\[\.\.\., None\]\), or give pictures of either kind to "
                                              r"numvision_lib\.data\.model_input"):
            to_model_input(scaled)
    with pytest.raises(ConfigError, match="these pixels are bool: "):
        to_model_input(levels > 127)
    with pytest.raises(ConfigError, match=r"these go from 0 to 255 \(for 0-255 pixels, divide by 255 or give them "
                                          r"as uint8"):
        to_model_input(levels.astype(np.float32))


def test_one_picture_is_a_batch_of_one_and_a_batch_is_refused():
    """For what shows one picture: it would otherwise use the first of a batch and say nothing of the others."""
    from numvision_lib.data import one_model_input

    picture = np.full((28, 28), 255, np.uint8)
    for given in (picture, picture[np.newaxis], picture[..., np.newaxis], picture[np.newaxis, ..., np.newaxis]):
        assert one_model_input(given, "drawing").shape == (1, 28, 28, 1) and one_model_input(given, "drawing").max() == 1
    with pytest.raises(ImageError, match=r"^drawing takes one picture at a time, not 2: give one 28x28 picture, such "
                                         r"as images\[0\]; plot_digit_grid draws a batch$"):
        one_model_input(np.stack([picture, picture]), "drawing", for_a_batch="plot_digit_grid draws a batch")
    with pytest.raises(ImageError, match="not 0"):
        one_model_input([], "drawing")


def test_missing_data_stops_with_one_clear_message(tmp_path):
    with pytest.raises(MissingTestData) as caught:
        load_test_data(tmp_path / "nowhere")
    assert isinstance(caught.value, DataError)
    assert "MNIST folder not found. Give the folder of the four MNIST IDX files (data_dir= in Python" in str(
        caught.value)
    rendered = caught.value._render_traceback_()
    assert len(rendered) == 1 and rendered[0].startswith("MissingTestData: ")


def test_pixels_are_read_by_their_type_alone():
    """One rule for the model, the attacks and the plots: whole numbers are 0-255 levels, floats the network's
    input, with an interpolation's overshoot either way; the rest is refused, never drawn or read wrong."""
    from numvision_lib.data import checked_pixels, model_input

    levels = np.arange(28 * 28, dtype=np.int64).reshape(1, 28, 28) % 256
    np.testing.assert_array_equal(model_input(levels), model_input(levels.astype(np.uint8)))
    assert model_input(levels).dtype == np.float32 and model_input(levels).shape == (1, 28, 28, 1)
    overshoot = np.full((1, 28, 28, 1), -0.04)
    assert checked_pixels(overshoot)[1] == 1 and checked_pixels(levels)[1] == 255
    # One picture, with or without its channel axis, is a batch of one; no pictures at all a batch of none.
    assert model_input(levels[0]).shape == model_input(levels[0, ..., None]).shape == (1, 28, 28, 1)
    assert model_input([]).shape == (0, 28, 28, 1)
    for wrong, message in [(np.full((1, 28, 28), -0.5), "these go from -0.5 to -0.5"),
                           (np.full((1, 28, 28), 255.0), r"these go from 255 to 255 \(for 0-255 pixels, divide"),
                           (np.full((1, 28, 28), np.inf), "these hold NaN or infinity"),
                           (np.full((1, 28, 28), -1), "levels from 0 to 255, as MNIST's; these go from -1 to -1"),
                           (np.zeros((28, 20)), r"not an array of shape \(28, 20\)"),
                           ([np.zeros((28, 28)), np.zeros((20, 20))], "28x28 pictures, all of the same size")]:
        with pytest.raises(ConfigError, match=message):
            model_input(wrong)


def test_whole_number_pictures_of_0_and_1_are_refused_not_read_as_black():
    """(x > 127).astype(int) read as levels 0-255 is almost black: the model answered 8 for every such picture."""
    from numvision_lib.data import checked_pixels, model_input

    picture = np.zeros((28, 28), np.uint8)
    picture[5:20, 10:14] = 255
    for mask in (picture > 127).astype(int), (picture > 127).astype(np.uint8), (picture[None] > 127).astype(np.int32):
        with pytest.raises(ConfigError, match=r"whole numbers from 0 to 1, .* multiply by 255, or give True/False or "
                                              r"floats from 0 to 1"):
            model_input(mask)
    np.testing.assert_array_equal(model_input(picture > 127), model_input(picture))
    np.testing.assert_array_equal(model_input((picture > 127) * 255), model_input(picture))
    # A blank picture stays a blank picture, and MNIST's own images, of many 0s and 1s, are levels as ever.
    assert model_input(np.zeros((28, 28), np.uint8)).max() == 0
    assert checked_pixels(np.eye(28, dtype=np.uint8) * 255)[1] == 255


def test_the_pads_answer_an_empty_pad_and_strokes_are_told_what_picture_to_give(predictor):
    """In notebooks 07 and 08 `drawing` is the pad's answer and `image = drawing.model_input`: passing the answer, the
    empty pad's None or the strokes was "not an array of shape ()" (or "(1, 84, 2)"), or for strokes of different
    lengths "pictures, all of the same size", without a word of what to give."""
    from numvision_lib import attacks, explain
    from numvision_lib.data import model_input
    from numvision_lib.drawn_digits import template_strokes

    drawing = predictor.predict(template_strokes(4))
    one_stroke, two_strokes = template_strokes(7), template_strokes(4)
    assert len(one_stroke) == 1 and len({len(stroke) for stroke in two_strokes}) == 2
    grad_cam = explain.GradCam(predictor)
    for given, message in [
        (drawing, "give a 28x28 picture, not a Prediction: give its picture, its model_input, such as "
                  "drawing.model_input where drawing = pad.prediction"),
        (None, "give a 28x28 picture, not None: the pad is empty (pad.prediction is None until a digit is drawn): "
               "draw a digit first"),
        (one_stroke, "give a 28x28 picture, not strokes: the network sees the picture the pad makes of them, "
                     "predictor.predict(strokes).model_input"),
        (two_strokes, "give a 28x28 picture, not strokes: the network sees the picture the pad makes of them, "
                      "predictor.predict(strokes).model_input"),
    ]:
        for reading in (model_input, grad_cam, lambda picture: attacks.attack(predictor, picture, 0.1)):
            with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
                reading(given)
    # Other shapes keep their messages.
    with pytest.raises(ConfigError, match=r"^give 28x28 pictures: .* not an array of shape \(\)$"):
        model_input("abc")
    with pytest.raises(ConfigError, match=r"^give 28x28 pictures, all of the same size, such as data\.x_train$"):
        model_input([np.zeros((28, 28)), np.zeros((20, 20))])


def test_mnist_images_are_read_as_levels_one_by_one_and_together(mnist):
    from numvision_lib.data import full_ink, model_input

    assert full_ink(mnist.x_train) == full_ink(mnist.x_test) == 255
    assert all(full_ink(image) == 255 for image in mnist.x_test[:2000])
    np.testing.assert_array_equal(model_input(mnist.x_test[:50]), to_model_input(mnist.x_test[:50]))


def test_to_mnist_pixels_never_wraps_round():
    """Cast to uint8, -0.01 became 253 and 1.01 became 2, and floats still 0-255 came back as noise."""
    from numvision_lib.data import to_mnist_pixels

    converted = to_mnist_pixels(np.array([[-0.04, 0.0, 0.5, 1.0, 1.04]], np.float32))
    assert converted.dtype == np.uint8 and converted.tolist() == [[0, 0, 128, 255, 255]]
    levels = np.arange(256).reshape(1, 16, 16)
    for given in (levels, levels.astype(np.uint8), levels / 255):
        np.testing.assert_array_equal(to_mnist_pixels(given), levels)
    assert to_mnist_pixels(np.array([[True, False]])).tolist() == [[255, 0]]
    for wrong, message in [(levels.astype(np.float32), r"these go from 0 to 255 \(for 0-255 pixels, divide by 255 or "
                                                       r"give them as uint8"),
                           (np.full((1, 28, 28), -0.5), "these go from -0.5 to -0.5"),
                           (np.full((1, 28, 28), 300), "levels from 0 to 255, as MNIST's; these go from 300 to 300")]:
        with pytest.raises(ConfigError, match=message):
            to_mnist_pixels(wrong)


def test_splits_refuse_images_and_labels_that_do_not_belong_together(mnist):
    """Training images with test labels came back as a subset without a word, or failed in scikit-learn."""
    for split in (lambda: stratified_subset(mnist.x_train, mnist.y_test, 3),
                  lambda: stratified_subset(mnist.x_train, mnist.y_test, 10_000),
                  lambda: stratified_subset(mnist.x_train, mnist.y_test, 500),
                  lambda: stratified_split(mnist.x_train[:1000], mnist.y_train[:2000])):
        with pytest.raises(ConfigError, match=r"give one label per image: (60000|1000) images, but labels of shape"):
            split()
    with pytest.raises(ConfigError, match="one-hot rows"):
        stratified_subset(mnist.x_test, np.eye(10)[mnist.y_test], 100)
    # Labels keep their type: MNIST's uint8 ones stay uint8.
    assert stratified_subset(mnist.x_test, mnist.y_test, 100)[1].dtype == np.uint8


@pytest.mark.parametrize("fraction", [0, 1, 10, -0.1, 0.0, "0.1", None, np.nan])
def test_a_validation_fraction_that_is_no_share_is_named_as_such(mnist, fraction):
    """All of MNIST was called too few images to split, with the advice to use all of MNIST."""
    with pytest.raises(ConfigError, match=re.escape(f"validation_fraction is the share of the images kept for "
                                                    f"validation, above 0 and below 1 (such as 0.1), not {fraction!r}")):
        stratified_split(mnist.x_train, mnist.y_train, fraction)


def test_a_wrong_mnist_folder_is_named_with_where_it_came_from(tmp_path, monkeypatch):
    arrays = write_idx_folder(tmp_path)
    images = tmp_path / "train-images-idx3-ubyte.gz"
    monkeypatch.setenv("NUMVISION_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match=re.escape(f"{tmp_path / 'nowhere'} (from $NUMVISION_DATA_DIR): MNIST folder not "
                                                  "found. Set NUMVISION_DATA_DIR to the folder of the four MNIST IDX "
                                                  "files, or unset it to let Keras download MNIST.")):
        load_mnist()
    monkeypatch.setenv("NUMVISION_DATA_DIR", str(images))
    with pytest.raises(DataError, match=re.escape(f"{images} (from $NUMVISION_DATA_DIR) is a file, not a folder: give "
                                                  "the MNIST folder that holds it")):
        load_mnist()
    with pytest.raises(DataError, match=f"^{re.escape(str(images))} is a file, not a folder"):
        load_mnist(images)
    # An argument is the user's own: no variable is named.
    with pytest.raises(DataError, match=f"^{re.escape(str(tmp_path / 'nowhere'))}: MNIST folder not found. Give"):
        load_mnist(tmp_path / "nowhere")
    np.testing.assert_array_equal(load_mnist(tmp_path).y_test, arrays["test_labels"])
    for wrong in (5, ["mnist"]):
        with pytest.raises(ConfigError, match=f"give the path of the folder of the four MNIST IDX files, not "
                                              f"{re.escape(repr(wrong))}"):
            load_mnist(wrong)


@pytest.mark.parametrize("given, blank", [("{} ", "ends with a space"), (" {}", "begins with a space"),
                                          ("{}\n", "ends with white space"), (" {} ", "begins and ends with a space")])
def test_a_data_folder_with_spaces_around_it_is_told_so(tmp_path, monkeypatch, given, blank):
    """A trailing space (Windows' `set VAR=path `, an .env file) was "MNIST folder not found" of a folder that `ls`
    lists, printed without quotes, so the space could not be seen."""
    write_idx_folder(tmp_path)
    folder = given.format(tmp_path)
    monkeypatch.setenv("NUMVISION_DATA_DIR", folder)
    with pytest.raises(DataError) as raised:
        load_mnist()
    assert str(raised.value) == (f"{folder!r} (from $NUMVISION_DATA_DIR): MNIST folder not found, though {tmp_path} is "
                                 f"there: the path {blank}. Remove it from NUMVISION_DATA_DIR.")
    with pytest.raises(DataError, match=f"^{re.escape(repr(folder))}: MNIST folder not found, .* Remove it\\.$"):
        load_mnist(folder)


def test_a_folder_given_for_an_idx_file_is_not_called_a_broken_download(tmp_path):
    """The advice was to delete it and download it again: the shared MNIST folder, deleted."""
    with pytest.raises(DataError) as raised:
        read_idx(tmp_path, 2051)
    message = str(raised.value)
    assert message == (f"{tmp_path} is a folder, not an IDX file: give one of its files, such as "
                       f"{tmp_path / 'train-images-idx3-ubyte.gz'}")
    assert "Delete" not in message


def test_a_relative_data_folder_is_named_as_it_was_looked_up(tmp_path, monkeypatch):
    """Jupyter runs a notebook in its own folder: data/mnist, right from the project folder, was "not found"."""
    write_idx_folder(tmp_path)  # the project folder, say, holding the files
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    monkeypatch.setenv("NUMVISION_DATA_DIR", "data/mnist")
    with pytest.raises(DataError) as raised:
        load_mnist()
    assert str(raised.value) == (
        f"data/mnist (from $NUMVISION_DATA_DIR), looked up from the current folder as "
        f"{tmp_path / 'notebooks' / 'data' / 'mnist'}: MNIST folder not found. Set NUMVISION_DATA_DIR to the folder "
        "of the four MNIST IDX files, or unset it to let Keras download MNIST. A relative path is read from the folder "
        f"this runs in (…/{tmp_path.name}/notebooks/), not from the project's: give an absolute path.")
    monkeypatch.setenv("NUMVISION_DATA_DIR", "..")
    assert len(load_mnist().y_train) == 30, "a relative path that is right still reads"
    # The model files' advice: the path that works from here, where the project's folder has it.
    monkeypatch.chdir(PROJECT_ROOT / "notebooks")
    with pytest.raises(DataError, match=re.escape(
            "MNIST folder not found. Give the folder of the four MNIST IDX files (data_dir= in Python, --data-dir on "
            "the command line). A relative path is read from the folder this runs in (notebooks/), not from the "
            "project's: give '../models', or an absolute path.")):
        load_mnist("models")


def test_a_download_that_unpacked_every_file_into_a_folder_is_told_at_once_and_then_reads(tmp_path):
    """Kaggle's layout: one folder per file. The advice named one folder a run, four runs in a row, and offered a name
    the folder itself has."""
    write_idx_folder(tmp_path, gzipped=False)
    for stem in IDX_FILES.values():
        (tmp_path / stem).rename(tmp_path / "file")
        (tmp_path / stem).mkdir()
        (tmp_path / "file").rename(tmp_path / stem / stem)
    with pytest.raises(DataError) as raised:
        load_mnist(tmp_path)
    stems = list(IDX_FILES.values())
    names = ", ".join(f"{stem}.gz" for stem in stems)
    assert str(raised.value) == (
        f"{tmp_path}: {', '.join(stems)} are folders, not the IDX files (some downloads unpack each file into a folder "
        f"of its name): move the file inside each up into {tmp_path}, named {names} (the folders' own names are taken)")
    for stem in stems:  # as the advice says: an uncompressed file named .gz reads by its content
        (tmp_path / stem / stem).rename(tmp_path / f"{stem}.gz")
    assert len(load_mnist(tmp_path).y_train) == 30


def test_a_data_folder_given_with_a_tilde_is_read_from_the_home_folder(tmp_path, monkeypatch):
    """One rule for every path given (`paths.checked_path`): ~ is the home folder, for the data as for the models."""
    (tmp_path / "mnist").mkdir()
    write_idx_folder(tmp_path / "mnist")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NUMVISION_DATA_DIR", "~/mnist")
    assert load_mnist("~/mnist").source == load_mnist().source == "IDX files in mnist/"


def test_the_folder_read_from_is_named_by_its_own_name(tmp_path, monkeypatch):
    """load_mnist(".") recorded "IDX files in /" as its source, in the training log and the model card."""
    (tmp_path / "mnist").mkdir()
    write_idx_folder(tmp_path / "mnist")
    monkeypatch.chdir(tmp_path / "mnist")
    assert load_mnist(".").source == load_mnist(tmp_path / "mnist").source == "IDX files in mnist/"


def test_the_mnist_files_one_folder_down_are_pointed_at(tmp_path, monkeypatch):
    """A folder above the files, or a download that unpacked each file into a folder of its name, was reported as
    "train-images-idx3-ubyte.gz ... is missing", without a word of where the folder came from."""
    (tmp_path / "mnist").mkdir()
    write_idx_folder(tmp_path / "mnist")
    with pytest.raises(DataError, match=f"^{re.escape(str(tmp_path))}: the four MNIST IDX files are not in this "
                                        f"folder but in {re.escape(str(tmp_path / 'mnist'))}: give that folder$"):
        load_mnist(tmp_path)
    monkeypatch.setenv("NUMVISION_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match=re.escape(f"{tmp_path} (from $NUMVISION_DATA_DIR): the four MNIST IDX files "
                                                  f"are not in this folder but in {tmp_path / 'mnist'}: set "
                                                  "NUMVISION_DATA_DIR to it")):
        load_mnist()

    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    write_idx_folder(unpacked)
    (unpacked / "train-labels-idx1-ubyte.gz").rename(tmp_path / "labels.gz")
    (unpacked / "train-labels-idx1-ubyte").mkdir()
    (tmp_path / "labels.gz").rename(unpacked / "train-labels-idx1-ubyte" / "train-labels-idx1-ubyte.gz")
    with pytest.raises(DataError) as raised:
        load_mnist(unpacked)
    # Named <stem>.gz: a file cannot take the name of the folder beside it.
    assert str(raised.value) == (f"{unpacked}: train-labels-idx1-ubyte is a folder, not the IDX file (some downloads "
                                 f"unpack each file into a folder of its name): move the file inside it up into "
                                 f"{unpacked}, named train-labels-idx1-ubyte.gz (the folder's own name is taken)")
    monkeypatch.setenv("NUMVISION_DATA_DIR", str(unpacked / "train-labels-idx1-ubyte"))
    with pytest.raises(DataError, match=re.escape(f"{unpacked / 'train-labels-idx1-ubyte'} (from "
                                                  "$NUMVISION_DATA_DIR): train-images-idx3-ubyte.gz (or "
                                                  "train-images-idx3-ubyte) is missing")):
        load_mnist()


def test_missing_test_data_gives_one_fix_not_two(tmp_path, monkeypatch):
    """A student whose teacher had set NUMVISION_DATA_DIR was told to delete a damaged file, then to set the
    variable."""
    write_idx_folder(tmp_path)
    damaged = tmp_path / "t10k-images-idx3-ubyte.gz"
    damaged.write_bytes(damaged.read_bytes()[:-12])
    monkeypatch.setenv("NUMVISION_DATA_DIR", str(tmp_path))
    for given in (None, tmp_path):
        with pytest.raises(MissingTestData) as raised:
            load_test_data(given)
        message = str(raised.value)
        assert "Delete it and download it again.\nThen restart the kernel and run all cells again." in message
        assert "Fix: set" not in message
    # Without a folder, the download failed: then setting the variable is the fix.
    from numvision_lib._tensorflow import keras

    def no_internet():
        raise OSError("no internet")

    monkeypatch.delenv("NUMVISION_DATA_DIR")
    monkeypatch.setattr(keras.datasets.mnist, "load_data", no_internet)
    with pytest.raises(MissingTestData, match="could not be downloaded by Keras .*\nFix: set NUMVISION_DATA_DIR to a "
                                              "folder with the four MNIST IDX files"):
        load_test_data()

"""MNIST-style preprocessing of every kind of input, and a clear ImageError for every kind of bad input."""
from __future__ import annotations

import base64
import io
import re
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from PIL import Image

from numvision_lib.errors import ConfigError, ImageError
from numvision_lib.preprocess import (MAX_CANVAS_SIZE, MAX_IMAGE_PIXELS, WORKING_SIZE, brush_width_problem,
                                      canvas_size_problem, centre_by_mass, fit_into_box, preprocess,
                                      preprocess_steps, rasterise_strokes, resize_without_centring,
                                      stroke_width, brush_for_mnist_width, load_image, MIN_STROKE_WIDTH,
                                      MAX_STROKE_WIDTH)

SEVEN = [[(60, 40), (210, 40), (120, 245)], [(110, 140), (190, 140)]]


@pytest.fixture(scope="module")
def seven_canvas() -> np.ndarray:
    """The seven as a 280x280 uint8 canvas, white ink on black."""
    return rasterise_strokes(SEVEN, 280, 20)


@pytest.fixture(scope="module")
def seven_input(seven_canvas) -> np.ndarray:
    return preprocess(seven_canvas)


def ink_box_size(image: np.ndarray) -> tuple[int, int]:
    rows, columns = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    return rows[-1] - rows[0] + 1, columns[-1] - columns[0] + 1


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    rows, columns = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (columns * image).sum() / image.sum()


def assert_same_digit(a: np.ndarray, b: np.ndarray, tolerance: float = 0.03) -> None:
    assert np.abs(a - b).mean() < tolerance


# ---------------------------------------------------------------- rasterising strokes


def test_rasterise_strokes_draws_white_ink_with_a_round_brush():
    canvas = rasterise_strokes([[(140, 140)]], canvas_size=280, brush_width=20)
    assert canvas.shape == (280, 280) and canvas.dtype == np.uint8
    assert canvas[140, 140] == 255 and canvas[0, 0] == 0
    # A tap is a disc of the brush's diameter: about pi * 10^2 pixels, not a square.
    assert abs(int((canvas > 0).sum()) - np.pi * 100) < 40


def test_rasterise_strokes_scales_to_a_smaller_output():
    full = rasterise_strokes(SEVEN, 280, 20)
    half = rasterise_strokes(SEVEN, 280, 20, output_size=140)
    assert half.shape == (140, 140)
    assert abs((half > 0).mean() - (full > 0).mean()) < 0.01


def test_rasterise_strokes_refuses_a_zero_brush():
    with pytest.raises(ConfigError, match="brush width"):
        rasterise_strokes(SEVEN, 280, 0)


@pytest.mark.parametrize("output_size", [0, True, -5, 2.5, 10 ** 6], ids=["0", "True", "negative", "fraction", "huge"])
def test_rasterise_strokes_checks_the_output_size(output_size):
    # 0 was taken as "no output size" and True as 1; the others were raw errors, or a MemoryError.
    with pytest.raises(ConfigError, match=re.escape(f"the output size must be a whole number of pixels from 1 to "
                                                    f"6,324, got {output_size!r}")):
        rasterise_strokes(SEVEN, 280, 20, output_size=output_size)
    assert rasterise_strokes(SEVEN, 280, 20, output_size=None).shape == (280, 280)


def test_a_canvas_larger_than_the_largest_picture_is_refused_before_it_is_drawn():
    assert MAX_CANVAS_SIZE == 6324 and MAX_CANVAS_SIZE ** 2 <= MAX_IMAGE_PIXELS < (MAX_CANVAS_SIZE + 1) ** 2
    # 100,000 pixels on a side is a 10 GB canvas: the kernel was killed without a word.
    with pytest.raises(ConfigError, match="the canvas size must be a whole number of pixels from 1 to 6,324, got "
                                          "100000"):
        rasterise_strokes(SEVEN, 100_000, 20)
    assert rasterise_strokes([[(1, 1)]], MAX_CANVAS_SIZE, 2, output_size=28).shape == (28, 28)


@pytest.mark.parametrize("canvas_size, brush_width, problem", [
    (280, 20, None), (1, 1, None), (MAX_CANVAS_SIZE, 0.5, None), (280, np.float32(280), None),
    (MAX_CANVAS_SIZE + 1, 20, "the canvas size must be a whole number of pixels from 1 to 6,324, got 6325"),
    (280.0, 20, "the canvas size must be a whole number of pixels from 1 to 6,324, got 280.0"),
    (True, 1, "the canvas size must be a whole number of pixels from 1 to 6,324, got True"),
    (280, 281, "the brush width must be a number of pixels above 0 and at most the canvas size, 280, got 281"),
    (280, True, "the brush width must be a number of pixels above 0 and at most the canvas size, 280, got True"),
    (280, "20", "the brush width must be a number of pixels above 0 and at most the canvas size, 280, got '20'"),
])
def test_one_rule_for_the_canvas_and_the_brush(canvas_size, brush_width, problem):
    assert (canvas_size_problem(canvas_size) or brush_width_problem(brush_width, canvas_size)) == problem
    if problem is not None:
        with pytest.raises(ConfigError, match=re.escape(problem)):
            preprocess(SEVEN, canvas_size=canvas_size, brush_width=brush_width)
    assert canvas_size_problem(0, "size") == "size must be a whole number of pixels from 1 to 6,324, got 0"


@pytest.mark.parametrize("not_strokes", [[[1, 2, 3]], [[(1, 2, 3)]], "strokes", [5]])
def test_stroke_functions_refuse_what_is_not_strokes(not_strokes):
    with pytest.raises(ImageError, match="list of strokes"):
        rasterise_strokes(not_strokes, 280, 20)
    with pytest.raises(ImageError, match="list of strokes"):
        brush_for_mnist_width(not_strokes, 20, 1.0)


# ---------------------------------------------------------------- MNIST's procedure


def test_output_is_mnist_like(seven_input):
    assert seven_input.shape == (28, 28) and seven_input.dtype == np.float32
    assert 0.0 <= seven_input.min() and seven_input.max() <= 1.0 and seven_input.max() > 0.9
    assert max(ink_box_size(seven_input)) in (19, 20, 21)  # long side fitted into the 20-pixel box
    row, column = centre_of_mass(seven_input)
    assert abs(row - 14) <= 1 and abs(column - 14) <= 1


def test_small_offcentre_drawing_becomes_the_same_digit(seven_input):
    small_in_a_corner = [[(x / 3 + 170, y / 3 + 180) for x, y in stroke] for stroke in SEVEN]
    moved = preprocess(rasterise_strokes(small_in_a_corner, 280, 20 / 3))
    assert_same_digit(moved, seven_input, tolerance=0.05)


def test_steps_are_kept_for_teaching(seven_canvas):
    steps = preprocess_steps(seven_canvas)
    top, left, bottom, right = steps.ink_box
    assert steps.cropped.sum() == pytest.approx(steps.ink.sum()), "the box holds all the ink"
    assert steps.ink[top:bottom, left].any() and steps.ink[top:bottom, right - 1].any(), "and no more than it"
    assert steps.ink[top, left:right].any() and steps.ink[bottom - 1, left:right].any()
    assert max(steps.fitted.shape) == 20
    assert not steps.dark_on_light
    assert 0.6 < steps.ink_extent < 0.9


def test_a_thin_pen_is_widened_to_mnist_strokes(seven_input):
    thin = preprocess_steps(rasterise_strokes(SEVEN, 280, 6))
    assert thin.stroke_width < 1.5 and thin.pen_adjusted is not thin.cropped
    assert "pen widened" in "".join(thin.pictures())
    # Widened, the thin seven is nearly the medium pen's seven; as drawn it is far lighter.
    assert_same_digit(thin.model_input, seven_input, tolerance=0.05)
    unwidened = centre_by_mass(fit_into_box(thin.cropped))
    assert np.abs(unwidened - seven_input).mean() > 2 * np.abs(thin.model_input - seven_input).mean()


def test_strokes_as_wide_as_mnist_are_left_alone(mnist):
    thick = preprocess_steps(rasterise_strokes(SEVEN, 280, 30))
    assert thick.stroke_width >= 2.0 and thick.pen_adjusted is thick.cropped
    assert "pen widened" not in "".join(thick.pictures())
    # Measured as on a drawing: smooth edges at several times the digit's scale.
    widths = [stroke_width(np.asarray(Image.fromarray(image / np.float32(255)).resize((112, 112), Image.BILINEAR))) / 4
              for image in mnist.x_train[:300]]
    assert 2.5 < np.median(widths) < 2.9, "the widening target is MNIST's typical stroke width"
    assert 1.8 < np.percentile(widths, 10) < 2.2, "only strokes thinner than nearly all of MNIST's are widened"
    assert 3.5 < np.percentile(widths, 90) < 4.1, "only strokes thicker than nearly all of MNIST's are thinned"


def test_a_fat_pen_on_a_picture_is_thinned_to_mnist_strokes(seven_input):
    small_fat = rasterise_strokes([[(x * 0.35 + 40, y * 0.35 + 40) for x, y in stroke] for stroke in SEVEN], 280, 20)
    steps = preprocess_steps(small_fat)
    assert steps.stroke_width > 4.5 and steps.pen_adjusted is not steps.cropped
    assert "pen thinned" in "".join(steps.pictures())
    thinned_width = stroke_width(steps.pen_adjusted) * 20 / max(steps.pen_adjusted.shape)
    assert 2.2 < thinned_width < 3.3
    as_drawn = centre_by_mass(fit_into_box(steps.cropped))
    assert np.abs(as_drawn - seven_input).mean() > 1.5 * np.abs(steps.model_input - seven_input).mean()


def test_pad_strokes_are_drawn_again_with_a_brush_that_gives_mnist_width():
    small = [[(x * 0.3 + 20, y * 0.3 + 20) for x, y in stroke] for stroke in SEVEN]  # a small 7 in a corner
    steps = preprocess_steps(small, 280, 20)
    assert steps.stroke_width > MAX_STROKE_WIDTH and steps.brush_used < 20
    # Drawn again with the new brush, not thinned afterwards: the picture is that brush's drawing as it comes.
    np.testing.assert_array_equal(steps.pen_adjusted, preprocess_steps(small, 280, steps.brush_used).cropped)
    assert "pen 20 -> " in "".join(steps.pictures())
    redrawn = stroke_width(steps.cropped) * 20 / max(steps.cropped.shape)
    assert 2.2 < redrawn < 3.2, "the new brush gives MNIST's typical width"
    hairline = preprocess_steps(SEVEN, 280, 3)
    assert hairline.brush_used > 3 and hairline.stroke_width < MIN_STROKE_WIDTH
    assert preprocess_steps(SEVEN, 280, 30).brush_used == 30, "a pen within MNIST's range is left as it is"
    assert brush_for_mnist_width([[(50, 50)]], 20, 9.0) == 20, "a single dot has no size to scale the pen by"


def test_mnist_digits_pass_through_almost_unchanged(mnist):
    originals = mnist.x_test[:50].astype(np.float32) / 255
    differences = [np.abs(preprocess(image) - image).mean() for image in originals]
    assert np.mean(differences) < 0.03


def test_strokes_give_the_same_input_as_their_rendered_canvas(seven_input):
    assert_same_digit(preprocess(SEVEN, canvas_size=280, brush_width=20), seven_input, tolerance=0.04)


def test_specks_far_from_the_digit_are_ignored(seven_canvas, seven_input):
    dusty = seven_canvas.copy()
    dusty[270:272, 5:7] = 255
    assert_same_digit(preprocess(dusty), seven_input, tolerance=0.01)


def test_strokes_along_the_canvas_edge_stay_white_ink():
    # Most of the border is inked: a photo would count as dark ink on light paper, but strokes are always ink.
    edge_to_edge_zero = [[(3, 3), (277, 3), (277, 277), (3, 277), (3, 3)]]
    steps = preprocess_steps(edge_to_edge_zero)
    assert not steps.dark_on_light
    assert steps.ink_box == (0, 0, *steps.ink.shape)
    assert steps.model_input[14, 14] == 0 and steps.model_input[14, 4] == 1


def test_naive_resize_keeps_the_whole_canvas():
    """Each of its 28x28 pixels is the mean of a 10x10 block of the 280-pixel canvas: a digit drawn in a corner stays
    small in that corner, where preprocessing would crop and centre it."""
    in_a_corner = rasterise_strokes([[(20, 20), (90, 20), (60, 100)]], 280, 20)
    naive = resize_without_centring(in_a_corner)
    assert naive.shape == (28, 28) and naive.dtype == np.float32
    np.testing.assert_allclose(naive, in_a_corner.reshape(28, 10, 28, 10).mean(axis=(1, 3)) / 255, atol=1e-6)
    assert not naive[12:].any() and not naive[:, 12:].any()
    np.testing.assert_allclose(resize_without_centring(255 - in_a_corner), naive, atol=1e-6)  # polarity still fixed
    rows, columns = np.nonzero(preprocess(in_a_corner))
    assert abs(rows.mean() - 14) < 3 and abs(columns.mean() - 14) < 3


# ---------------------------------------------------------------- every kind of input


def test_dark_ink_on_light_paper_is_detected(seven_canvas, seven_input):
    paper = 230 - (seven_canvas.astype(np.float32) / 255) * 200  # grey ink on off-white paper
    steps = preprocess_steps(paper.astype(np.uint8))
    assert steps.dark_on_light
    assert_same_digit(steps.model_input, seven_input)


def test_unevenly_lit_paper(seven_canvas, seven_input):
    lamp = np.linspace(250, 110, 280)[None, :] * np.ones((280, 1))  # bright left, dim right
    photo = lamp - (seven_canvas.astype(np.float32) / 255) * (lamp - 30)
    assert_same_digit(preprocess(photo.astype(np.uint8)), seven_input, tolerance=0.04)


def test_dim_photo_of_paper_is_still_dark_on_light(seven_canvas, seven_input):
    dim = 0.4 - (seven_canvas.astype(np.float32) / 255) * 0.3
    assert preprocess_steps(dim).dark_on_light
    assert_same_digit(preprocess(dim), seven_input)


def test_squared_paper_with_lines_along_the_edges_is_still_dark_on_light(seven_canvas):
    # Lines every 24 pixels, the first along the top row and the left column: more than half of the outermost pixels
    # are line, which is nearer the ink's grey than the paper's. Read from those pixels alone, the paper was the ink
    # and the photo was answered as blank.
    photo = np.full((280, 280), 230, dtype=np.float32)
    photo[::24] = photo[:, ::24] = 140
    photo = np.minimum(photo, 230 - (seven_canvas.astype(np.float32) / 255) * 150)
    steps = preprocess_steps(photo.astype(np.uint8))
    assert steps.dark_on_light
    top, left, bottom, right = steps.ink_box
    assert bottom - top > 100 and right - left > 100  # the seven's strokes (and lines crossing them), not a speck


@pytest.mark.parametrize("ink, paper", [(0, 255), (255, 0)], ids=["dark on light", "light on dark"])
def test_a_zero_that_fills_its_small_scan_keeps_its_polarity(ink, paper):
    # A bold ring touching all four sides, as a scan cut tight to the digit keeps it: a band of a few pixels along
    # the edge is mostly ink, the outermost pixels and the picture as a whole are mostly paper.
    rows, columns = np.mgrid[:32, :32]
    radius = (np.abs(rows - 15.5) ** 4 + np.abs(columns - 15.5) ** 4) ** 0.25 / 15.6
    ring = (radius > 0.72) & (radius <= 1.0)
    band = np.ones_like(ring)
    band[2:-2, 2:-2] = False
    assert ring[band].mean() > 0.5 > np.mean(ring) and ring[0].mean() < 0.5  # the case this test is about
    scan = np.where(ring, ink, paper).astype(np.uint8)
    assert preprocess_steps(scan).dark_on_light == (paper == 255)


@pytest.mark.parametrize("convert", [
    lambda ink: Image.fromarray(ink),  # L
    lambda ink: Image.fromarray(ink).convert("RGB"),
    lambda ink: Image.fromarray(ink).convert("1"),
    lambda ink: Image.fromarray(255 - ink).convert("P"),
    lambda ink: Image.fromarray((ink.astype(np.uint16) * 257)).convert("I;16"),
    lambda ink: Image.fromarray(ink.astype(np.int32) * 257, mode="I"),  # how 16-bit PNGs often open
    lambda ink: Image.fromarray(ink.astype(np.float32) / 255),  # F
], ids=["L", "RGB", "1-bit", "palette", "16-bit", "32-bit int", "float"])
def test_pil_image_modes(convert, seven_canvas, seven_input):
    assert_same_digit(preprocess(convert(seven_canvas)), seven_input, tolerance=0.05)


@pytest.mark.parametrize("ink_colour", [0, 255], ids=["black ink", "white ink"])
def test_ink_on_a_transparent_background(ink_colour, seven_canvas, seven_input):
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)
    rgba[..., :3] = ink_colour
    rgba[..., 3] = seven_canvas  # opaque where the ink is, transparent elsewhere
    assert_same_digit(preprocess(Image.fromarray(rgba, mode="RGBA")), seven_input)
    assert_same_digit(preprocess(rgba), seven_input)


def test_palette_with_a_transparent_colour(seven_canvas, seven_input):
    image = Image.fromarray(255 - seven_canvas).convert("P")
    image.info["transparency"] = image.getpixel((0, 0))  # the paper colour is transparent
    assert_same_digit(preprocess(image), seven_input, tolerance=0.05)


@pytest.mark.parametrize("array", [
    lambda ink: ink.astype(np.float32) / 255,
    lambda ink: ink.astype(np.float64),  # 0-255 floats
    lambda ink: ink > 127,
    lambda ink: ink.astype(np.uint16) * 257,
    lambda ink: ink[..., None],
    lambda ink: np.repeat(ink[..., None], 3, axis=2),
    lambda ink: ink.tolist(),
], ids=["float 0-1", "float 0-255", "bool", "uint16", "HxWx1", "RGB", "nested list"])
def test_arrays(array, seven_canvas, seven_input):
    assert_same_digit(preprocess(array(seven_canvas)), seven_input, tolerance=0.05)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".gif"])
def test_files_and_bytes(suffix, tmp_path, seven_canvas, seven_input):
    path = tmp_path / f"digit{suffix}"
    Image.fromarray(255 - seven_canvas).save(path)  # dark on light, as a scan
    assert_same_digit(preprocess(path), seven_input, tolerance=0.05)
    assert_same_digit(preprocess(str(path)), seven_input, tolerance=0.05)
    assert_same_digit(preprocess(path.read_bytes()), seven_input, tolerance=0.05)


def test_16_bit_png_file(tmp_path, seven_canvas, seven_input):
    path = tmp_path / "scan16.png"
    Image.fromarray((255 - seven_canvas).astype(np.uint16) * 257).save(path)
    assert Image.open(path).mode.startswith("I")
    assert_same_digit(preprocess(path), seven_input, tolerance=0.05)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32])
def test_strokes_as_point_arrays_give_exactly_what_point_lists_give(dtype):
    as_arrays = [np.asarray(stroke, dtype=dtype) for stroke in SEVEN]
    assert np.array_equal(preprocess(as_arrays, canvas_size=280, brush_width=20),
                          preprocess(SEVEN, canvas_size=280, brush_width=20))


def test_large_photo_is_reduced_first(seven_canvas, seven_input):
    photo = Image.fromarray(255 - seven_canvas).resize((2400, 2400), Image.Resampling.BILINEAR)
    steps = preprocess_steps(photo)
    assert max(steps.greyscale.shape) <= 560
    assert_same_digit(steps.model_input, seven_input, tolerance=0.05)


def test_a_large_photo_is_shrunk_before_it_becomes_floats(seven_canvas, seven_input):
    # As floats, a 40-megapixel RGBA photo took 2 GB, a student kernel's whole memory.
    ink = np.asarray(Image.fromarray(seven_canvas).resize((3000, 3000), Image.Resampling.BILINEAR))
    photo = Image.fromarray(np.dstack([np.zeros_like(ink)] * 3 + [ink]), "RGBA")  # black ink, transparent paper
    shrunk_first = {}
    for step in (preprocess, resize_without_centring):  # notebook 05's naive step too
        tracemalloc.start()
        try:
            shrunk_first[step] = step(photo)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 30_000_000, f"{step.__name__}: {peak / 1e6:.0f} MB of arrays for a 9-megapixel photo"
        # What the whole photo as floats gives, to within the 8-bit levels it was shrunk in.
        assert np.abs(shrunk_first[step] - step(np.asarray(photo))).max() < 0.01, step.__name__
    assert_same_digit(shrunk_first[preprocess], seven_input)


@pytest.mark.parametrize("size", [280, WORKING_SIZE])
def test_pictures_up_to_the_working_size_are_read_exactly_as_arrays(size, seven_canvas):
    picture = Image.fromarray(255 - seven_canvas).resize((size, size), Image.Resampling.BILINEAR)
    np.testing.assert_array_equal(preprocess(picture), preprocess(np.asarray(picture)))


def test_a_data_url_is_read_as_the_picture_it_holds(seven_canvas, seven_input):
    """What a browser copies as an image's address, or a canvas's `toDataURL()` gives."""
    png = _saved(Image.fromarray(seven_canvas), "PNG")
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    assert_same_digit(preprocess(url), seven_input, tolerance=0.01)
    wrapped = url[:60] + "\n" + url[60:]  # copied text wrapped onto lines
    np.testing.assert_array_equal(preprocess(wrapped), preprocess(png))


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("blank", [
    [], [[]], np.zeros((280, 280)), np.full((100, 100), 255, dtype=np.uint8), np.full((50, 50, 4), 0, dtype=np.uint8),
], ids=["no strokes", "empty stroke", "black", "white", "transparent"])
def test_blank_input_asks_for_a_digit(blank):
    with pytest.raises(ImageError, match="blank: draw a digit"):
        preprocess(blank)


def test_missing_file(tmp_path):
    with pytest.raises(ImageError, match="nothere.png: file not found"):
        preprocess(tmp_path / "nothere.png")


def test_folder_is_not_an_image(tmp_path):
    with pytest.raises(ImageError, match="is a folder, not a picture"):
        preprocess(tmp_path)


def test_not_an_image(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("this is not a picture")
    with pytest.raises(ImageError, match="notes.png is not a picture") as raised:
        preprocess(text)
    assert "PNG or JPEG" in str(raised.value) and "Pillow" not in str(raised.value)


def test_an_iphone_photo_gets_told_how_to_save_it_as_jpeg(tmp_path):
    # The start of a HEIC file: a box of 24 bytes whose type is "ftyp" and whose brand is "heic", then its data.
    start = struct.pack(">I", 24) + b"ftypheic" + struct.pack(">I", 0) + b"mif1heic"
    photo = tmp_path / "IMG_0042.HEIC"
    photo.write_bytes(start + bytes(200))
    for source, name in ((photo, None), (photo.read_bytes(), "IMG_0042.HEIC")):
        with pytest.raises(ImageError, match="IMG_0042.HEIC is a HEIC photo") as raised:
            load_image(source, name=name)
        assert "Save it as JPEG" in str(raised.value)
    other = tmp_path / "clip.mp4"  # the same kind of box, but a video's brand
    other.write_bytes(struct.pack(">I", 24) + b"ftypisom" + bytes(212))
    with pytest.raises(ImageError, match="clip.mp4 is not a picture"):
        load_image(other)


def test_truncated_file(tmp_path, seven_canvas):
    path = tmp_path / "cut.png"
    Image.fromarray(seven_canvas).save(path)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ImageError, match="cut.png looks damaged or incomplete") as raised:
        preprocess(path)
    assert "Save or export it again" in str(raised.value)
    assert raised.value.__cause__ is not None, "the technical reason stays available to whoever debugs it"


def test_a_picture_that_may_not_be_read_says_so_not_that_it_is_damaged(tmp_path, monkeypatch, seven_canvas):
    import builtins
    import errno

    path = tmp_path / "digit.png"
    Image.fromarray(seven_canvas).save(path)
    real_open = builtins.open

    def denied(file, *args, **kwargs):  # what chmod does for a user that is not root (the tests may be root)
        if str(file) == str(path):
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", denied)  # Pillow opens a path with builtins.open
    refused = f"^{re.escape(str(path))}: you may not read this file \\(Permission denied\\)"
    with pytest.raises(ImageError, match=refused):
        load_image(path)
    with pytest.raises(ImageError, match="^homework/digit.png: you may not read this file") as raised:
        load_image(path, name="homework/digit.png")
    assert "damaged" not in str(raised.value) and "permission to read it" in str(raised.value)


def _png_claiming_size(width: int, height: int) -> bytes:
    """A tiny valid PNG whose header claims another size: a decompression bomb as far as the header goes."""
    import io

    buffer = io.BytesIO()
    Image.new("L", (8, 8)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    header = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(header))
    return bytes(data)


@pytest.mark.parametrize("width, height", [(8000, 6000), (20000, 20000)], ids=["over our limit", "Pillow's bomb"])
def test_decompression_bombs_are_refused(width, height, tmp_path):
    assert width * height > MAX_IMAGE_PIXELS
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_claiming_size(width, height))
    with pytest.raises(ImageError, match="bomb.png.*(megapixels|too large)"):
        preprocess(path)


@pytest.mark.parametrize("array, message", [
    (np.zeros(10), "shape"),
    (np.zeros((5, 5, 7)), "shape"),
    (np.zeros((1, 30)), "too small"),
    (np.full((28, 28), np.nan), "NaN"),
    (np.full((8, 8), "a"), "numbers"),
])
def test_bad_arrays(array, message):
    with pytest.raises(ImageError, match=message):
        preprocess(array)


@pytest.mark.parametrize("value, message", [
    ([[(1, 2), (3, "a")]], "stroke 1 is not a list of \\(x, y\\) points"),
    ([[(1, 2), (3, 4)], [(1, 2), (3,)]], "stroke 2 is not a list of \\(x, y\\) points"),
    ([[1, 2, 3], [4, 5]], "rows of the same length"),
], ids=["a point that is no number", "a point with one number", "ragged rows of pixels"])
def test_malformed_strokes_and_pixel_lists_say_what_is_wrong(value, message):
    with pytest.raises(ImageError, match=message):
        preprocess(value)


def test_a_picture_with_damaged_exif_is_read_unrotated(tmp_path, seven_canvas, seven_input):
    path = tmp_path / "digit.png"
    Image.fromarray(255 - seven_canvas).save(path, exif=b"not a TIFF header")  # Pillow cannot parse this EXIF
    assert_same_digit(preprocess(path), seven_input, tolerance=0.05)


def test_unsupported_type():
    with pytest.raises(ImageError, match="cannot read a digit from a dict"):
        preprocess({"x": 1})


@pytest.mark.parametrize("bad_point", [(np.nan, 10), (10, np.inf), (None, None)], ids=["NaN", "infinity", "None"])
def test_a_point_that_is_not_a_finite_number_names_its_stroke(bad_point):
    with pytest.raises(ImageError, match="stroke 2 has a point"):
        preprocess([SEVEN[0], [(110, 140), bad_point, (190, 140)]])


@pytest.mark.parametrize("canvas_size, brush_width, message", [
    (0, 20, "canvas size"), (-280, 20, "canvas size"), (280.5, 20, "canvas size"),
    (280, float("nan"), "brush width"), (280, float("inf"), "brush width"),
    (280, 1e18, "brush width .* 280, got 1e\\+18"), (280, 1e300, "brush width .* 280, got 1e\\+300"),
], ids=["canvas 0", "negative canvas", "fractional canvas", "NaN brush", "infinite brush", "1e18 brush",
        "1e300 brush"])
def test_canvas_size_and_brush_width_are_checked(canvas_size, brush_width, message):
    # Bad arguments, not bad pictures; a huge brush was a raw OverflowError from Pillow.
    with pytest.raises(ConfigError, match=message):
        rasterise_strokes(SEVEN, canvas_size, brush_width)
    with pytest.raises(ConfigError, match=message):
        preprocess(SEVEN, canvas_size=canvas_size, brush_width=brush_width)


@pytest.mark.parametrize("picture", [
    lambda: Image.new("LAB", (60, 60)),
    lambda: Image.new("La", (60, 60)),
    lambda: load_image(_saved(Image.new("LAB", (60, 60)), "TIFF")),
], ids=["LAB", "La", "LAB TIFF file"])
def test_a_colour_format_that_cannot_be_read_is_named(picture):
    mode = picture().mode
    with pytest.raises(ImageError, match=rf"colour format \({mode}\) cannot be read: save it as PNG or JPEG"):
        preprocess(picture())


def _saved(image: Image.Image, file_format: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=file_format)
    return buffer.getvalue()


@pytest.mark.parametrize("mode", ["I", "F"])
def test_8_bit_levels_in_a_32_bit_pil_image_read_as_in_an_array(mode, seven_canvas, seven_input):
    image = Image.fromarray(seven_canvas).convert(mode)  # values 0-255, as some editors save them
    assert_same_digit(preprocess(image), seven_input, tolerance=0.05)
    assert_same_digit(preprocess(np.asarray(image)), seven_input, tolerance=0.05)


@pytest.mark.parametrize("peak", [1.02, 1.5, 2.0])
def test_floats_a_little_above_1_are_a_0_to_1_picture(peak, seven_canvas, seven_input):
    # A resize with a sharp filter (cubic, Lanczos) overshoots 1 a little at the edges of the strokes.
    overshooting = seven_canvas.astype(np.float32) / 255 * peak
    assert_same_digit(preprocess(overshooting), seven_input, tolerance=0.05)
    assert_same_digit(preprocess(Image.fromarray(overshooting)), seven_input, tolerance=0.05)


def test_a_huge_array_is_refused_before_it_is_converted():
    huge = np.broadcast_to(np.uint8(0), (6400, 6400, 3))  # 41 megapixels that take no memory as they are
    tracemalloc.start()
    try:
        with pytest.raises(ImageError, match="6400x6400 pixels is more than the 40 megapixels"):
            preprocess(huge)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000, f"{peak / 1e6:.0f} MB allocated before the refusal"


@pytest.mark.parametrize("url, message", [
    ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAgAAAAIC",
     "the pasted picture \\(data URL\\) is cut off or damaged"),
    ("data:image/png;base64,aGVsbG8gd29ybGQ=", "the pasted picture \\(data URL\\) is not a picture"),
    ("data:image/svg+xml,%3Csvg%3E%3C/svg%3E", "this is the text of a data URL \\(data:image/svg\\+xml\\), not a "
                                                "picture in base64: save the picture as a PNG file"),
], ids=["cut off", "not a picture", "not base64"])
def test_a_data_url_that_holds_no_picture_says_so(url, message):
    with pytest.raises(ImageError, match=message):
        preprocess(url)


@pytest.mark.parametrize("length", [300, 5000])
def test_a_name_too_long_for_a_file_is_an_image_error_that_does_not_repeat_it(length):
    # The system refuses to look such a name up at all: a raw OSError, "File name too long".
    with pytest.raises(ImageError, match=f"^x{{65}}\\.\\.\\.x{{65}} \\({length:,} characters\\) cannot be a file "
                                         f"name") as raised:
        load_image("x" * length)
    assert len(str(raised.value)) < 300


@pytest.mark.parametrize("one_stroke", [
    [(60, 60), (220, 60), (120, 250)], [[10, 20]], np.asarray([(60, 60), (220, 60)]).tolist(),
    np.asarray([(60, 60), (220, 60), (120, 250)]), np.asarray([(60.5, 60), (220, 60), (120, 250), (110, 250)] * 4),
], ids=["points", "one point", "lists", "an array", "an array of 16 points"])
def test_one_stroke_without_its_brackets_is_not_read_as_a_picture(one_stroke):
    # Read as a 2-pixel-wide picture, a single seven was answered 8 with 98% confidence; as an array (np.array of the
    # pad's stroke), 1 with 100%.
    for step in (preprocess, resize_without_centring):
        with pytest.raises(ImageError, match=re.escape("this looks like one stroke (a list of (x, y) points), not a "
                                                       "list of strokes: put it in brackets, [stroke], or give a "
                                                       "picture at least 8x8 pixels")):
            step(one_stroke)
    assert preprocess([one_stroke]).shape == (28, 28)


def test_a_picture_file_two_pixels_wide_is_still_read():
    """Only an array or a list two wide is taken for one stroke's points: a tightly cut 1 in a file is a picture."""
    one = np.zeros((40, 2), dtype=np.uint8)
    one[4:36] = 255
    assert preprocess(Image.fromarray(one)).shape == (28, 28)
    assert preprocess(np.pad(one, ((0, 0), (0, 1)))).shape == (28, 28), "an array a pixel wider is a picture"


@pytest.mark.parametrize("drawing", [SEVEN[:1], SEVEN, [SEVEN[0], [(110, 140), ("190", 140)]]],
                         ids=["strokes of one length", "strokes of different lengths", "and a point that is no number"])
def test_strokes_in_one_list_too_many_are_named_as_strokes(drawing):
    """They were told that an image array must be (height, width) or (height, width, 1/3/4 channels), or that stroke 1
    is not a list of (x, y) points."""
    with pytest.raises(ImageError, match=re.escape("this looks like strokes inside another list (a bracket too many): "
                                                   "give the list of strokes itself; strokes are lists of (x, y) "
                                                   "points")):
        preprocess([drawing])


@pytest.mark.parametrize("drawing", [
    SEVEN[:1], [[(x, 40) for x in range(60, 220, 10)], [(x, 140) for x in range(110, 270, 10)]],
], ids=["one stroke", "two of one length"])
def test_strokes_stacked_into_one_array_are_named_as_strokes(drawing):
    """np.array(pad.strokes) stacks strokes of one length into a (k, n, 2) array. One stroke was "an image of 3x1
    pixels is too small to hold a digit", and two of 16 points a picture of grey and alpha, 16x2 pixels, answered."""
    stacked = np.asarray(drawing, dtype=float)
    for step in (preprocess, resize_without_centring):
        with pytest.raises(ImageError, match=re.escape(f"this looks like strokes stacked into one array of shape "
                                                       f"{stacked.shape}, not a list of strokes: give list(array), or "
                                                       "the list of strokes itself; strokes are lists of (x, y) "
                                                       "points")):
            step(stacked)
    assert_same_digit(preprocess(list(stacked)), preprocess(drawing))


def test_a_small_picture_of_grey_and_alpha_is_still_read(seven_canvas):
    """Eight rows, the fewest a picture given as lists has, are a picture, not strokes stacked into an array."""
    grey = np.asarray(Image.fromarray(seven_canvas).resize((8, 8), Image.Resampling.BOX))
    grey_and_alpha = np.dstack([grey, np.full_like(grey, 255)])
    assert_same_digit(preprocess(grey_and_alpha), preprocess(grey))


def test_strokes_written_as_flat_lists_of_numbers_are_not_read_as_a_picture():
    flat = [[60, 60, 220, 60, 120, 250], [110, 140, 190, 140, 150, 140]]
    with pytest.raises(ImageError, match=re.escape("2 rows of 6 are too small for a picture given as lists (at least "
                                                   "8x8 pixels); strokes are lists of (x, y) points")):
        preprocess(flat)
    # One stroke's numbers in one flat list were told that an image array must be (height, width), got shape (6,).
    with pytest.raises(ImageError, match=re.escape("a flat list of values is neither a picture nor strokes: a picture "
                                                   "given as lists is a list of rows of pixels, and strokes are lists "
                                                   "of (x, y) points, [[(x0, y0), (x1, y1), ...], ...], not flat lists "
                                                   "of numbers x0, y0, x1, y1, ...")):
        preprocess(flat[0])
    with pytest.raises(ImageError, match="rows of the same length.*strokes are lists of \\(x, y\\) points"):
        preprocess([[60, 60, 220, 60, 120, 250], [110, 140, 190, 140]])


@pytest.mark.parametrize("strokes, whose", [
    ([[(x, 40 + 10 * y, 0.5) for x in (60, 210)] for y in range(5)], "the strokes have"),
    ([(60, 40, 0.5), (210, 40, 0.7), (120, 245, 0.6)], "the strokes have"),
    ([[(60, 40, 0.5), (210, 40, 0.7), (120, 245, 0.6)], [(110, 140, 0.5), (190, 140, 0.5)]], "stroke 1 has"),
], ids=["five strokes", "one stroke", "strokes of different lengths"])
def test_points_with_a_pressure_say_that_a_point_is_two_numbers(strokes, whose):
    with pytest.raises(ImageError, match=re.escape(f"{whose} points of 3 numbers: each point must be two numbers, x "
                                                   "and y; found 3")):
        preprocess(strokes)


@pytest.mark.parametrize("picture", [
    np.array([[0, 255, 0], [255, 255, 255], [0, 255, 0]], dtype=np.uint8),  # a plus: it was "0, 99.6% sure"
    np.random.default_rng(0).integers(0, 256, (5, 5), dtype=np.uint8),  # noise: it was an 8
    np.full((7, 3), 255, dtype=np.uint8),
], ids=["3x3 plus", "5x5 noise", "7x3"])
def test_a_picture_too_small_to_hold_a_digit_is_refused(picture):
    height, width = picture.shape
    with pytest.raises(ImageError, match=re.escape(f"an image of {width}x{height} pixels is too small to hold a digit: "
                                                   "give a picture at least 8 pixels on its longer side")):
        preprocess(picture)
    assert preprocess(np.pad(picture, ((0, 8 - height), (0, 0)))).shape == (28, 28), "8 on the longer side will do"


@pytest.mark.parametrize("height, width, message", [
    (120, 1, "an image of 1x120 pixels is too small to hold a digit (too narrow): give a picture at least 2 pixels "
             "wide and high"),
    (1, 120, "an image of 120x1 pixels is too small to hold a digit (too flat): give a picture at least 2 pixels "
             "wide and high"),
    (5, 1, "an image of 1x5 pixels is too small to hold a digit (too narrow): give a picture at least 2 pixels wide "
           "and high and at least 8 pixels on its longer side"),
    (0, 0, "an image of 0x0 pixels is too small to hold a digit: give a picture at least 2 pixels wide and high and "
           "at least 8 pixels on its longer side"),
], ids=["1 wide", "1 high", "1 wide and short", "no pixels"])
def test_a_picture_too_thin_for_a_digit_is_told_the_rule_it_breaks(height, width, message):
    """A 1x120 picture was told to be "at least 8 pixels on its longer side", which it was."""
    with pytest.raises(ImageError, match=f"^{re.escape(message)}$"):
        preprocess(np.full((height, width), 255, dtype=np.uint8))


def test_a_picture_given_as_lists_needs_8_pixels_a_side(seven_canvas):
    small = np.asarray(Image.fromarray(seven_canvas).resize((8, 8), Image.Resampling.BOX)) / 255
    assert preprocess(small.tolist()).shape == (28, 28)
    # Two wide, it is one stroke's points (`test_one_stroke_without_its_brackets_is_not_read_as_a_picture`).
    assert preprocess(small[:, :3]).shape == (28, 28), "an array is a picture, however narrow"
    with pytest.raises(ImageError, match="8 rows of 7 are too small"):
        preprocess(small[:, :7].tolist())


@pytest.mark.parametrize("stroke", [
    [(True, True), (False, False)], [("50", "50"), ("100", "200")], [(50, 50), (100, "200")],
    np.ones((2, 2), dtype=bool), [(None, True), (100, 200)],
], ids=["bools", "text", "a number as text", "a NumPy array of bools", "None and a bool"])
def test_bools_and_text_are_no_coordinates(stroke):
    # They were read as 1 and 50, where the pad refused them.
    strokes = [SEVEN[0], stroke]
    with pytest.raises(ImageError, match=re.escape("stroke 2 is not a list of (x, y) points: each point must be two "
                                                   "ordinary numbers (not text, True/False, NaN or infinity)")):
        preprocess(strokes)



def test_strokes_beyond_the_canvas_ask_for_the_canvas_they_were_drawn_on():
    seven_on_280 = [[(40, 40), (260, 40), (150, 270)]]
    message = re.escape("the strokes reach from x=40, y=40 to x=260, y=270, beyond the 140-pixel canvas (0 to 140): "
                        "give the canvas_size they were drawn on")
    # rasterise_strokes too: notebook 05 draws the pad's strokes with it, and the picture of what was left of them
    # (a 7 drawn on a 560-pixel pad, cut to its bar at 280) was read with confidence.
    for step in (preprocess, resize_without_centring, rasterise_strokes):
        with pytest.raises(ConfigError, match=message):  # a 5, "not a digit", when cut off at the canvas's edge
            step(seven_on_280, canvas_size=140)
    with pytest.raises(ConfigError, match="beyond the 280-pixel canvas"):  # was "the picture is blank"
        preprocess([[(1000, 1000), (1500, 1800)]])
    # The brush's edge may run off the canvas, as the pad's does on its border, where it puts a pointer that left.
    on_the_border = [[(0, 100), (280, 100), (150, 260)]]
    assert preprocess(on_the_border, canvas_size=280, brush_width=20).shape == (28, 28)
    assert rasterise_strokes(on_the_border, 280, 20).shape == (280, 280)
    # Coordinates computed by scaling land a hair beyond it.
    assert preprocess([[(280.00000000000006, 100), (-1e-13, 200)]]).shape == (28, 28)


@pytest.mark.parametrize("bar, point", [(-19.0, "y=-19"), (-0.5, "y=-0.5"), (285.5, "y=285.5")])
def test_a_point_beyond_the_canvas_by_less_than_the_brush_is_refused_too(bar, point):
    """Points up to a brush width beyond the canvas were let through, though one more than half a brush beyond leaves
    no ink on it: a 7 whose bar lay 19 pixels above the canvas, drawn with the 20-pixel brush, was "1, 93% sure"."""
    seven = [[(60.0, bar), (220.0, bar), (120.0, 250.0)]]
    for step in (preprocess, rasterise_strokes):
        with pytest.raises(ConfigError, match=re.escape("beyond the 280-pixel canvas (0 to 280): give the "
                                                        "canvas_size they were drawn on")) as refusal:
            step(seven, canvas_size=280, brush_width=20)
        assert point in str(refusal.value)


def test_strokes_on_a_small_canvas_are_drawn_at_the_working_size():
    """Strokes in another unit than the pad's pixels were drawn at their canvas's own few pixels: the templates' unit
    box, given with canvas_size=1 as the off-canvas message asks, was one pixel, "not a digit"."""
    unit_seven = [[(0.2, 0.05), (0.8, 0.05), (0.42, 1.0)]]
    on_the_pad = [[(280 * x, 280 * y) for x, y in stroke] for stroke in unit_seven]
    for canvas_size in (1, 10, 28):
        strokes = [[(canvas_size * x, canvas_size * y) for x, y in stroke] for stroke in unit_seven]
        steps = preprocess_steps(strokes, canvas_size=canvas_size, brush_width=20 * canvas_size / 280)
        assert steps.greyscale.shape == (140, 140), canvas_size
        assert_same_digit(steps.model_input, preprocess(on_the_pad), tolerance=0.01)
    with pytest.raises(ConfigError, match=re.escape("the strokes reach from x=-0.3, y=-0.45 to x=0.3, y=0.5, beyond "
                                                    "the 1-pixel canvas (0 to 1)")):
        preprocess([[(x - 0.5, y - 0.5) for x, y in stroke] for stroke in unit_seven], canvas_size=1, brush_width=0.07)


@pytest.mark.parametrize("dtype", [int, np.uint8, np.int16])
def test_a_mask_of_whole_numbers_0_and_1_is_not_called_blank(dtype):
    mask = np.zeros((28, 28))
    mask[5:22, 12:15] = 1
    with pytest.raises(ImageError, match=re.escape("the pixels are whole numbers from 0 to 1, and whole numbers are "
                                                   "read as levels 0-255, so this is almost black: multiply by 255, "
                                                   "or give True/False or floats from 0 to 1")):
        preprocess(mask.astype(dtype))
    np.testing.assert_array_equal(preprocess(mask.astype(dtype) * 255), preprocess(mask))
    np.testing.assert_array_equal(preprocess(mask > 0), preprocess(mask))
    with pytest.raises(ImageError, match="blank"):
        preprocess(np.zeros((28, 28), dtype=dtype))
    # A picture file of such levels is a nearly black photo: its student cannot multiply anything by 255.
    with pytest.raises(ImageError, match="no digit stands out: .* only 1 of 255 levels") as nearly_black:
        preprocess(Image.fromarray(mask.astype(np.uint8)))
    assert "multiply by 255" not in str(nearly_black.value)


def test_pieces_of_a_stroke_that_left_the_canvas_are_no_dots():
    """The pad keeps a stroke that leaves the canvas and comes back as pieces: each piece that left ends on the edge
    (where `DrawingPad.leave` puts its exit point), and the next goes on from where the pen came back. Short ones were
    counted as separate dots, and a 7 whose bar wobbled along the top edge was "not a digit"."""
    bar = [(30, 6), (60, 4), (90, 0)]
    wobbles = [[(100 + 35 * k, 1), (106 + 35 * k, 2), (125 + 35 * k, 0)] for k in range(3)]
    rest = [(205, 1), (260, 4), (110, 254)]
    assert preprocess_steps([bar, *wobbles, rest]).separate_dots == 0
    # A last piece after coming back, released at once, is short too.
    left_at_the_right = [(60, 60), (200, 60), (280, 62)]
    back = [(279, 70), (272, 76)]
    assert preprocess_steps([left_at_the_right, back, [(150, 80), (80, 250)]]).separate_dots == 0
    # A dot made after a stroke released outside, away from where it left, is no return but a dot, as the off-pad
    # rule reads it (`off_canvas_gap` 0): the two rules are one.
    steps = preprocess_steps([left_at_the_right, [(60.0, 200.0)], [(150, 80), (80, 250)]])
    assert (steps.separate_dots, steps.off_canvas_gap) == (1, 0.0)
    # Dots are still dots, also beside such a stroke.
    dots = [[(60.0, 200.0)], [(120.0, 200.0)], [(180.0, 200.0), (181.0, 201.0)]]
    assert preprocess_steps([bar, *wobbles, rest, *dots]).separate_dots == 3
    assert preprocess_steps([*dots, bar, *wobbles, rest]).separate_dots == 3


# ---------------------------------------------------------------- photos as students take them


def _photo_of_the_seven(seven_canvas, paper=220, pen=30) -> np.ndarray:
    return paper - (seven_canvas.astype(np.float32) / 255) * (paper - pen)


def test_a_sheet_photographed_on_a_darker_desk_is_read_as_paper(seven_canvas, seven_input):
    # The desk fills the edges: read as the background, it made the sheet light ink, "0, 99.9% sure".
    photo = np.full((420, 360), 70, dtype=np.float32)
    photo[70:350, 40:320] = _photo_of_the_seven(seven_canvas)
    steps = preprocess_steps(photo.astype(np.uint8))
    assert steps.dark_on_light
    assert_same_digit(steps.model_input, seven_input)


def test_a_photo_with_transparent_margins_is_read_on_its_paper(seven_canvas, seven_input):
    # Turned in an editor and saved as PNG: the margins were put behind it in black, and the light sheet read as a 0.
    rgba = np.zeros((340, 340, 4), dtype=np.uint8)
    rgba[30:310, 30:310, :3] = _photo_of_the_seven(seven_canvas)[..., None]
    rgba[30:310, 30:310, 3] = 255
    assert_same_digit(preprocess(Image.fromarray(rgba, mode="RGBA")), seven_input)
    assert_same_digit(preprocess(rgba), seven_input)


def _upside_down_jpeg(seven_canvas) -> bytes:
    """The seven as a phone held upside down saves it: stored turned by 180 degrees, with EXIF orientation 3."""
    exif = Image.Exif()
    exif[0x0112] = 3  # Orientation: rotate 180 to show
    buffer = io.BytesIO()
    Image.fromarray(255 - seven_canvas).rotate(180).save(buffer, format="JPEG", quality=95, exif=exif)
    return buffer.getvalue()


def test_a_photo_is_turned_upright_however_it_is_given(tmp_path, seven_canvas, seven_input):
    path = tmp_path / "upside_down.jpg"
    path.write_bytes(_upside_down_jpeg(seven_canvas))
    # As Image.open(path) it was read as stored: a 6 as a 9, with confidence.
    for source in (path, path.read_bytes(), Image.open(path), Image.open(io.BytesIO(path.read_bytes()))):
        assert_same_digit(preprocess(source), seven_input, tolerance=0.05)


def test_a_pil_image_that_cannot_be_decoded_says_why_as_its_file_does(tmp_path, seven_canvas):
    path = tmp_path / "cut.png"
    Image.fromarray(seven_canvas).save(path)
    path.write_bytes(path.read_bytes()[:300])
    # A raw OSError from Pillow, where the path itself got this ImageError.
    with pytest.raises(ImageError, match="cut.png looks damaged or incomplete.*Save or export it again"):
        preprocess(Image.open(path))
    whole = tmp_path / "digit.png"
    Image.fromarray(seven_canvas).save(whole)
    with Image.open(whole) as image:
        pass
    # A bare AssertionError from Pillow.
    with pytest.raises(ImageError, match=re.escape("digit.png was closed before it was read (its `with "
                                                   "Image.open(...)` block has ended): use it inside the block, or "
                                                   "give the file's path")):
        preprocess(image)
    with Image.open(whole) as image:
        image.load()
    assert preprocess(image).shape == (28, 28), "a picture read before its file was closed is still read"


@pytest.mark.parametrize("file_format", ["TIFF", "GIF"])
def test_a_file_of_several_pages_is_refused_but_a_chosen_page_is_read(file_format, seven_canvas, seven_input, tmp_path):
    pages = [Image.fromarray(255 - seven_canvas), Image.fromarray(seven_canvas)]
    buffer = io.BytesIO()
    pages[0].save(buffer, format=file_format, save_all=True, append_images=pages[1:])
    path = tmp_path / "scan.tif"
    path.write_bytes(buffer.getvalue())
    # Only the first page was read, and its answer given for the whole file.
    save_it = "holds 2 pages or frames, and one digit is read at a time: save the page with the digit as PNG or JPEG"
    # The command line gives a path too, and takes no image: the Python route is said to be Python's.
    with pytest.raises(ImageError, match=re.escape(f"{path} {save_it} (or, in Python, open it with image = "
                                                   "Image.open(path), choose the page with image.seek(page), "
                                                   "counting from 0, and give that image)") + "$"):
        preprocess(path)
    # An upload in the code-free app, or a pasted picture: no path, and no Python, to choose a page with.
    url = "data:image/tiff;base64," + base64.b64encode(buffer.getvalue()).decode()
    for upload, name, shown in ((buffer.getvalue(), "scan.tif", "scan.tif"),
                                (url, None, "the pasted picture (data URL)")):
        with pytest.raises(ImageError, match=f"^{re.escape(f'{shown} {save_it}')}$"):
            load_image(upload, name=name)
    image = Image.open(buffer)
    image.seek(1)
    assert_same_digit(preprocess(image), seven_input, tolerance=0.05)


def test_a_dark_photo_says_the_digit_does_not_stand_out_and_how_to_help(seven_canvas):
    # A 7 photographed in the dark was "blank: draw a digit".
    dark = _photo_of_the_seven(seven_canvas, paper=20, pen=2).astype(np.uint8)
    with pytest.raises(ImageError, match=re.escape("no digit stands out: the darkest and the lightest pixels of this "
                                                   "picture differ by only 18 of 255 levels. Brighten the photo")):
        preprocess(dark)
    assert preprocess(255 - (20 - dark) * 12).shape == (28, 28), "the same photo brightened"


def test_a_picture_of_noise_is_only_specks_not_blank():
    noise = ((np.random.default_rng(0).random((100, 100)) > 0.6) * 255).astype(np.uint8)  # was "blank"
    with pytest.raises(ImageError, match=re.escape("only specks were found (noise or a texture), no digit")):
        preprocess(noise)


def test_a_file_is_named_as_it_was_given(tmp_path, monkeypatch):
    # "./missing.png" was named "missing.png", and the command line named it a second time in its own spelling.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "photos").mkdir()
    with pytest.raises(ImageError, match=r"^\./missing\.png: file not found"):
        load_image("./missing.png")
    with pytest.raises(ImageError, match="^photos/ is a folder"):
        load_image("photos/")

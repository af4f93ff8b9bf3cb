"""Turn any picture of a digit into what the network expects: MNIST's own 28x28 format.

MNIST digits are white on black, cropped to the ink, scaled so that the longer side is 20 pixels
(keeping the aspect ratio, anti-aliased) and placed in a 28x28 image with their centre of mass at
the centre. A drawing or a photo has to go through the same steps, otherwise the network sees
something it was never trained on. One step is added: strokes thinner or thicker than nearly all of
MNIST's (a fine pen on a big digit, a fat pen on a small one) are brought to MNIST's typical width.
Strokes from the pad are simply drawn again with a brush of the right size; the ink of a picture is
widened or thinned. Each step is a small function so that notebook 05 can show it as a picture;
`preprocess_steps()` runs them all and keeps every intermediate image.

Accepted inputs: a list of strokes (each a list of (x, y) points on a square canvas), a NumPy array
(grey, RGB or RGBA; uint8, uint16, bool or float), a PIL image (any mode, including palette,
16-bit and transparency), a file path, a data URL, or the raw bytes of an image file. Anything that cannot be
turned into a digit raises `ImageError` with a message that says what to do (a canvas size or brush width out of
range, `ConfigError`).
"""
from __future__ import annotations

import base64
import io
import math
import os
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence, Union

import numpy as np
from PIL import ExifTags, Image, ImageDraw, ImageOps, UnidentifiedImageError
from scipy import ndimage

from .data import IMAGE_SIZE, no_permission_message, whole_number_mask_problem
from .errors import ConfigError, ImageError
from .paths import expanded_path
from .values import is_number, is_whole_number

MNIST_DIGIT_BOX = 20
DEFAULT_CANVAS_SIZE = 280
# At a 280-pixel canvas a 20-pixel brush scales down to MNIST's typical 2-3 pixel stroke.
DEFAULT_BRUSH_WIDTH = 20
# Larger pictures are refused before they are decoded: a small file can expand to gigabytes.
MAX_IMAGE_PIXELS = 40_000_000
# A narrower picture has no room for a digit's shape (`to_greyscale`); a tightly cut 1 may be this narrow. (An array or
# a list exactly 2 wide is read as one stroke's (x, y) points instead, `to_greyscale_image`: pad such a 1 by a pixel.)
MIN_IMAGE_SIDE = 2
# A picture whose longer side is shorter holds no digit either (scikit-learn's digits are 8x8): scaled up, a 3x3 plus
# was "0, 99.6% sure" and 5x5 noise an 8 (`to_greyscale`, `drawn_digits.Scan`).
MIN_IMAGE_LONG_SIDE = 8
# The largest canvas whose picture is under MAX_IMAGE_PIXELS: the pad, the drawings and the renderer share it.
MAX_CANVAS_SIZE = math.isqrt(MAX_IMAGE_PIXELS)
# A picture given as nested lists is at least this wide and high. A narrower one is far likelier strokes with a
# bracket forgotten (one stroke's points are n x 2 numbers) or written flat (x0, y0, x1, y1, ...).
MIN_LIST_PICTURE_SIDE = 8
STROKES_FORMAT = "strokes are lists of (x, y) points, [[(x0, y0), (x1, y1), ...], ...]"
STROKES_NOT_FLAT = f"{STROKES_FORMAT}, not flat lists of numbers x0, y0, x1, y1, ..."
STROKES_IN_A_LIST = (f"this looks like strokes inside another list (a bracket too many): give the list of strokes "
                     f"itself; {STROKES_FORMAT}")
# The brands of the ISO file box ("ftyp", at byte 4) that mark HEIF pictures, which Pillow cannot decode.
HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
# Photos are reduced to this long side before the ink search; the digit ends up 20 pixels anyway.
WORKING_SIZE = 560
# Strokes are rendered straight at this size, whatever their canvas: still 5x the 20-pixel digit, 4x fewer pixels to
# search than the pad's 280, and a canvas in other units (drawn_digits.TEMPLATES' unit box, canvas_size=1) is not
# drawn at its own few pixels (a 7 on a 1-pixel canvas was one pixel, "not a digit").
STROKE_WORKING_SIZE = 140
# Ink is whatever differs from the background by this fraction of the full contrast.
INK_THRESHOLD = 0.2
# Below this contrast between background and darkest/lightest pixel, no digit stands out of the picture.
MIN_CONTRAST = 0.08
BLANK_MESSAGE = "the picture is blank: draw a digit (or choose a picture with a visible digit)."
# The paper's brightness under uneven light is estimated on a grid this wide, over windows of this many
# cells (a fifth of the picture: wider than a pen stroke, narrower than a lamp's gradient).
PAPER_GRID = 45
PAPER_WINDOW = 9
# One reading of the paper's level for the polarity (see `is_dark_on_light`): a band this deep along the edges,
# as a share of the picture's shorter side (at least one pixel).
BORDER_BAND = 0.05
# Light ink filling more than this share of its box, at least SHEET_MIN_ASPECT as wide as tall, is a sheet of paper
# on a darker desk: the sheets of phone photos fill 0.90 to 0.98 of theirs, MNIST's digits at most 0.78 (thin 1s,
# which fill theirs, are narrower). The sheet is read without this share of its box along each side (its edge).
SHEET_FILL = 0.85
SHEET_MIN_ASPECT = 0.5
SHEET_MARGIN = 0.02
# Specks smaller than this fraction of all ink (dust, sensor noise) do not belong to the digit.
MIN_COMPONENT_FRACTION = 0.02
# Pieces of ink touch along a side, not only at a corner (`ndimage.label`'s default, made once here).
FOUR_NEIGHBOURS = ndimage.generate_binary_structure(2, 1)
# A stroke whose points span less than this share of the whole drawing's long side is a dot, not a line of it.
DOT_SIZE = 0.10
# MNIST's strokes, measured on its training digits at the 20-pixel digit scale (see `stroke_width`): median
# 2.7 pixels, 10th percentile 2.0, 90th 3.8. Strokes outside that range are brought to the median: a network
# trained on MNIST has hardly seen hairlines (it read thin 1s with a flag as 7s), and a fat pen on a small
# digit fills its loops in (a small 3 became an 8).
MIN_STROKE_WIDTH = 2.0
MAX_STROKE_WIDTH = 3.8
TYPICAL_STROKE_WIDTH = 2.7
# A point beyond the canvas's edge by up to this share of its side still lies on it: coordinates computed by scaling
# land there (280.00000000000006), and the four significant digits of `off_canvas_problem`'s message then always show
# a refused point beyond the edge, on a pad of 280 pixels as on a canvas of 1 (strokes in a unit box).
OFF_CANVAS_TOLERANCE = 0.001
# A pen that comes back onto the canvas with the button held starts its next piece at the first point back inside
# (`DrawingPad.enter`), which lies within one move of the pointer from the edge. This share of the side is 11 pixels
# on the 280-pixel pad, more than the moves of about 6 pixels (at most 9) in which the browser test draws; a piece that
# starts deeper in was begun there (`_came_back_in`). On a pad under 225 pixels, or with a hand faster than that, a
# return can land deeper: it is not counted, and the drawing is read as if it had never left.
REENTRY_DEPTH = 0.04
# Floats up to this peak are a 0..1 picture: a resize with a sharp filter (cubic, Lanczos) overshoots 1 a little at
# the strokes' edges, and 8-bit levels that high would be a picture too dark to read anyway.
MAX_UNIT_FLOAT = 2.0

Point = Sequence[float]
Strokes = Sequence[Sequence[Point]]
ImageInput = Union[Strokes, np.ndarray, Image.Image, str, os.PathLike, bytes]


@dataclass(frozen=True, eq=False)
class PreprocessSteps:
    """Every intermediate picture of `preprocess_steps()`, all float32 in [0, 1]."""

    greyscale: np.ndarray  # the input as grey levels, in its own polarity
    ink: np.ndarray  # white ink on black, background removed
    ink_box: tuple[int, int, int, int]  # top, left, bottom, right (exclusive) of the ink in `ink`
    cropped: np.ndarray  # the ink box cut out
    stroke_width: float  # the strokes' width as given, in pixels at the 20-pixel digit scale
    pen_adjusted: np.ndarray  # `cropped` with strokes widened or thinned to MNIST's typical width if needed
    fitted: np.ndarray  # long side scaled to 20 pixels
    model_input: np.ndarray  # 28x28, centre of mass at the centre
    dark_on_light: bool  # True when the input had dark ink on a light background
    drawn_brush: float | None = None  # the pad's brush, for strokes
    brush_used: float | None = None  # the brush they were drawn with for the network (`brush_for_mnist_width`)
    points_extent: float | None = None  # for strokes: long side of their points' box over the canvas's side
    pen_travel: float | None = None  # for strokes: the pen's path length over that long side (0 for a dot)
    separate_dots: int | None = None  # for strokes: how many of them are dots (see DOT_SIZE)
    strokes: int | None = None  # for strokes: how many of them hold a point, dots included
    # For strokes: the widest gap between where the pen left the canvas and where it came back in, over the points' long
    # side: what it drew out there is lost. Inferred from the points (`_pen_returns`), so it is 0 for a pen that
    # came back deeper in than REENTRY_DEPTH, and above 0 for strokes from code that never left but end one stroke
    # exactly on an edge and start the next near it.
    off_canvas_gap: float | None = None

    @property
    def ink_extent(self) -> float:
        """Long side of the ink box as a fraction of the picture's long side (small = a tiny scribble)."""
        top, left, bottom, right = self.ink_box
        return max(bottom - top, right - left) / max(self.ink.shape)

    @property
    def drawing_extent(self) -> float:
        """The drawing's own size, for telling a mark from a digit: for strokes, where the pen went (a click is
        a dot however fat the pen); for a picture, `ink_extent`."""
        return self.ink_extent if self.points_extent is None else self.points_extent

    @property
    def ink_aspect(self) -> float:
        """Width over height of the ink box: digits are upright, about 0.1 (a 1) to 1.3 (a wide 0)."""
        top, left, bottom, right = self.ink_box
        return (right - left) / (bottom - top)

    def pictures(self) -> dict[str, np.ndarray]:
        """Each step's picture under a short caption, in order (for a figure in notebook 05)."""
        def size(picture: np.ndarray) -> str:
            return f"{picture.shape[1]}x{picture.shape[0]}"

        pen = ""
        if self.brush_used is not None and self.brush_used != self.drawn_brush:
            pen = f"\npen {self.drawn_brush:.0f} -> {self.brush_used:.0f} px"
        pictures = {
            f"input\n{size(self.greyscale)}{pen}": self.greyscale,
            "ink\n" + ("inverted" if self.dark_on_light else "as drawn"): self.ink,
            f"cropped\n{size(self.cropped)}": self.cropped,
        }
        if self.pen_adjusted is not self.cropped:
            change = "widened" if self.stroke_width < TYPICAL_STROKE_WIDTH else "thinned"
            pictures[f"pen {change}\n{self.stroke_width:.1f} px -> {TYPICAL_STROKE_WIDTH} px"] = self.pen_adjusted
        pictures[f"fitted\n{size(self.fitted)}"] = self.fitted
        pictures["centred\n28x28"] = self.model_input
        return pictures


# ---------------------------------------------------------------- inputs


def canvas_size_problem(canvas_size, what: str = "the canvas size") -> str | None:
    """What is wrong with a canvas's size in pixels, or None; callers raise the error class that suits them.

    One rule for the pad, `rasterise_strokes` and the preprocessing: a bigger canvas is a picture too large to read,
    and a typo's extra zeros would fill the memory before Pillow complains."""
    if is_whole_number(canvas_size) and 1 <= canvas_size <= MAX_CANVAS_SIZE:
        return None
    return f"{what} must be a whole number of pixels from 1 to {MAX_CANVAS_SIZE:,}, got {canvas_size!r}"


def brush_width_problem(brush_width, canvas_size: int, what: str = "the brush width") -> str | None:
    """What is wrong with a brush's width in pixels on a canvas of `canvas_size` (already checked), or None."""
    if is_number(brush_width) and 0 < brush_width <= canvas_size:
        return None
    return f"{what} must be a number of pixels above 0 and at most the canvas size, {canvas_size}, got {brush_width!r}"


def rasterise_strokes(
    strokes: Strokes,
    canvas_size: int = DEFAULT_CANVAS_SIZE,
    brush_width: float = DEFAULT_BRUSH_WIDTH,
    output_size: int | None = None,
) -> np.ndarray:
    """Draw strokes as white ink on a black square canvas with a round brush; returns uint8 (size, size).

    Points are in canvas pixels; `output_size` (default: `canvas_size`) renders the same drawing
    scaled to fewer pixels. Lines alone have square ends and notched corners in Pillow, so every
    point also gets a disc of the brush's diameter: the round caps and joins of a real pen (and a
    dot for a single tap). Strokes beyond the canvas are refused, as `preprocess` refuses them.
    """
    strokes = _require_strokes(strokes)
    _check_drawing(strokes, canvas_size, brush_width)
    if output_size is None:
        output_size = canvas_size
    problem = canvas_size_problem(output_size, "the output size")
    if problem:
        raise ConfigError(problem)
    return _draw_strokes(strokes, canvas_size, brush_width, output_size)


def pen_problem(canvas_size, brush_width) -> str | None:
    """What is wrong with a canvas size and a brush width given together, or None: the arguments that every drawing
    is read with (`canvas_size_problem`, then `brush_width_problem`)."""
    # Pillow needs whole pixels and finite sizes: it would fail with a division by zero, an overflow or a kernel
    # killed for memory.
    return canvas_size_problem(canvas_size) or brush_width_problem(brush_width, canvas_size)


def _check_drawing(strokes: list[np.ndarray], canvas_size, brush_width) -> None:
    """The pen's settings, and strokes that lie on the canvas."""
    problem = pen_problem(canvas_size, brush_width)
    if problem:
        raise ConfigError(problem)
    problem = off_canvas_problem(strokes, canvas_size)
    if problem:
        raise ConfigError(f"{problem}: give the canvas_size they were drawn on")


def off_canvas_problem(strokes: list[np.ndarray], canvas_size: int) -> str | None:
    """Where `strokes` (`as_stroke_arrays`) reach beyond a canvas of `canvas_size` pixels, or None when every point
    lies on it, from 0 to `canvas_size` give or take OFF_CANVAS_TOLERANCE (the pad puts a pointer that leaves onto the
    edge). Each caller adds the remedy its user can follow.

    The ink of a point beyond the canvas is cut off without a word, and what is left of the digit read with
    confidence: a 7 drawn on 280 pixels and given as drawn on 140, or one whose bar lay 19 pixels above the canvas,
    drawn with a 20-pixel brush, was "1, 93% sure"."""
    points = np.concatenate([np.empty((0, 2)), *strokes])
    margin = OFF_CANVAS_TOLERANCE * canvas_size
    if not len(points) or (points.min() >= -margin and points.max() <= canvas_size + margin):
        return None
    (left, top), (right, bottom) = (map(_four_digits, corner) for corner in (points.min(axis=0), points.max(axis=0)))
    return (f"the strokes reach from x={left}, y={top} to x={right}, y={bottom}, beyond the {canvas_size}-pixel "
            f"canvas (0 to {canvas_size})")


def _four_digits(value: float) -> str:
    """A coordinate to four significant digits, without an exponent: 40, 157.9, -0.3, 15000."""
    return np.format_float_positional(value, precision=4, unique=True, fractional=False, trim="-")


def _draw_strokes(strokes: list[np.ndarray], canvas_size: int, brush_width: float, output_size: int) -> np.ndarray:
    """`rasterise_strokes` for strokes already given as point arrays (`as_stroke_arrays`), with the sizes checked."""
    scale = output_size / canvas_size
    canvas = Image.new("L", (output_size, output_size), 0)
    draw = ImageDraw.Draw(canvas)
    width = brush_width * scale
    radius = width / 2
    for stroke in strokes:
        flat = (stroke * scale).ravel().tolist()  # x0, y0, x1, y1, ...: Pillow takes it as it is
        if len(flat) > 2:
            draw.line(flat, fill=255, width=max(1, round(width)))
        for x, y in zip(flat[::2], flat[1::2]):
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    return np.asarray(canvas)


def load_image(source: str | os.PathLike | bytes | Image.Image, name: str | None = None) -> Image.Image:
    """Open and decode a picture (a path, a file's bytes, a data URL or a PIL image), refusing huge, corrupt and
    non-image files.

    `name` is used in error messages (e.g. the name of an uploaded file). Photos are turned upright
    according to their EXIF orientation, whichever way they are given: `Image.open(path)` reads as `path` does. A data
    URL (`data:image/png;base64,...`, what a browser copies as an image's address or a canvas's `toDataURL()` gives)
    is read as the picture it holds. A file of several pages or frames is refused; a PIL image is read at the frame
    it was moved to (`image.seek`).
    """
    if isinstance(source, Image.Image):
        filename = getattr(source, "filename", "")
        return _decoded(source, name or (_shortened(os.fsdecode(filename)) if filename else "the picture"))
    if isinstance(source, str) and source[:5].lower() == "data:":
        label = name or "the pasted picture (data URL)"
        opener = io.BytesIO(_data_url_bytes(source))
    elif isinstance(source, (bytes, bytearray, memoryview)):
        label = name or "the uploaded file"
        opener = io.BytesIO(bytes(source))
    else:
        path = expanded_path(source)
        # As typed: the command line names a file only where the message does not start with its name.
        label = name or _shortened(os.fspath(source))
        try:
            exists, is_folder = path.exists(), path.is_dir()
        except OSError as error:  # a name too long for the system, or one it cannot look up
            raise ImageError(f"{label} cannot be a file name ({error.strerror or error}): give the path of a "
                             "picture file, such as 'digit.png'") from error
        if not exists:
            raise ImageError(f"{label}: file not found. Check the name and the folder.")
        if is_folder:
            raise ImageError(f"{label} is a folder, not a picture. Choose a photo or scan inside it.")
        opener = path
    with _reading(label, opener):
        image = Image.open(opener)
        # Only the first would be read, and its answer given for the whole file. An MPO's other frames are the
        # camera's further views or previews of the same photo.
        if image.format != "MPO" and getattr(image, "n_frames", 1) > 1:
            pages = image.n_frames
            image.close()
            raise ImageError(_pages_message(label, pages, from_a_path=isinstance(opener, Path)))
    return _decoded(image, label, opener)


def _decoded(image: Image.Image, label: str, opener: io.BytesIO | Path | None = None) -> Image.Image:
    """`image` decoded (`Image.open` reads only its header) and turned upright: one way of reading a picture, from a
    file or given as a PIL image."""
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageError(_too_large_message(label, width, height))
    # A picture not yet decoded whose file is closed: Pillow fails with a bare AssertionError.
    if getattr(image, "tile", None) and getattr(image, "fp", None) is None:
        raise ImageError(f"{label} was closed before it was read (its `with Image.open(...)` block has ended): use it "
                         "inside the block, or give the file's path")
    with _reading(label, opener):
        image.load()
    try:
        if image.getexif().get(ExifTags.Base.Orientation, 1) == 1:
            return image
        return ImageOps.exif_transpose(image)
    except Exception:  # Pillow raises many kinds of error on damaged EXIF; the picture itself is fine
        return image  # only its orientation is lost, never the photo


@contextmanager
def _reading(label: str, opener: io.BytesIO | Path | None):
    """What goes wrong opening or decoding the picture `label`, as an ImageError. The messages speak of pictures,
    not of decoders; the technical reason stays in __cause__."""
    # Pillow only warns between its own limit and twice that; we want a refusal at our lower limit.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ImageError(f"{label} is far too large a picture to open safely. Crop or shrink it to the "
                             "digit first.") from error
        except UnidentifiedImageError as error:
            if opener is not None and _is_heic(opener):
                raise ImageError(
                    f"{label} is a HEIC photo (the format iPhones and iPads save in), which cannot be opened here. "
                    "Save it as JPEG first (on a Mac: open it in Preview, then File > Export > JPEG), or set the "
                    "camera to 'Most Compatible'."
                ) from error
            raise ImageError(
                f"{label} is not a picture, or not in a format we can open. Upload a photo or scan of one digit, "
                "saved as PNG or JPEG."
            ) from error
        except PermissionError as error:  # the picture is not damaged: saving it again would not help
            raise ImageError(no_permission_message(label, error)) from error
        except (OSError, SyntaxError, ValueError) as error:
            raise ImageError(
                f"{label} looks damaged or incomplete: the picture could not be read to the end. Save or export "
                "it again, then try the new file."
            ) from error


def _pages_message(label: str, pages: int, from_a_path: bool) -> str:
    # Uploaded or pasted, the picture has no path to open, and it may come from the code-free app.
    in_python = (" (or, in Python, open it with image = Image.open(path), choose the page with image.seek(page), "
                 "counting from 0, and give that image)") if from_a_path else ""
    return (f"{label} holds {pages} pages or frames, and one digit is read at a time: save the page with the digit "
            f"as PNG or JPEG{in_python}")


def _data_url_bytes(url: str) -> bytes:
    header, _, data = url.partition(",")
    if ";base64" not in header.lower():
        raise ImageError(f"this is the text of a data URL ({_shortened(header, 40)}), not a picture in base64: save "
                         "the picture as a PNG file and give its path")
    try:
        # Copied text is often wrapped onto several lines; the line breaks are no part of the picture.
        return base64.b64decode("".join(data.split()), validate=True)
    except ValueError as error:
        raise ImageError("the pasted picture (data URL) is cut off or damaged: copy it again, or save the picture "
                         "as a PNG file and give its path") from error


def _shortened(text: str, length: int = 160) -> str:
    """A name for a message: a pasted page of text is cut to its start and its end (a path's file name), and says
    how long it was."""
    if len(text) <= length:
        return text
    half = (length - 30) // 2
    return f"{text[:half]}...{text[-half:]} ({len(text):,} characters)"


def _is_heic(opener: io.BytesIO | Path) -> bool:
    if isinstance(opener, io.BytesIO):
        start = opener.getvalue()[:12]
    else:
        with open(opener, "rb") as file:
            start = file.read(12)
    return start[4:8] == b"ftyp" and start[8:12] in HEIC_BRANDS


def _too_large_message(label: str, width: int, height: int) -> str:
    return (
        f"{label}: {width}x{height} pixels is more than the {MAX_IMAGE_PIXELS // 1_000_000} megapixels "
        "accepted. Crop or shrink the picture to the digit first."
    )


def image_to_array(image: Image.Image, working_size: int | None = None) -> np.ndarray:
    """Decode a PIL image of any mode to a float32 array in [0, 1]: (H, W) grey or (H, W, 4) RGBA.

    With a `working_size`, a larger 8-bit picture is first shrunk to it, as `reduce_to_working_size` would shrink
    it later (each new pixel the mean of the old ones it covers, transparency included): as floats, a 40-megapixel
    photo would take 2 GB, a student kernel's whole memory.
    """
    # Converting these to 8 bits would cut 16-bit levels off; their numbers are read as an array's are.
    if image.mode not in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        has_alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info
        mode = "RGBA" if has_alpha else "L"
        try:
            image = image if image.mode == mode else image.convert(mode)  # a conversion to its own mode copies
        except ValueError as error:  # Pillow opens some formats it cannot convert (LAB, premultiplied "La")
            raise ImageError(f"this picture's colour format ({image.mode}) cannot be read: save it as PNG or "
                             "JPEG") from error
        size = working_size and _working_dimensions(*image.size, working_size)
        if size:
            image = image.resize(size, Image.Resampling.BOX)
    return to_unit_range(np.asarray(image))


def to_unit_range(values: np.ndarray) -> np.ndarray:
    """Pixel values of any numeric type -> float32 in [0, 1], read by their type and their range.

    Booleans are off/on; integers are 8-bit levels up to 255, 16-bit ones up to 65535, and beyond that a fraction
    of their peak; floats are a 0..1 picture up to `MAX_UNIT_FLOAT`, 8-bit levels up to 255, and beyond that a
    fraction of their peak. Whatever falls outside [0, 1] (negative numbers, overshoot) is clipped.
    """
    if values.dtype == bool:
        return values.astype(np.float32)
    if np.issubdtype(values.dtype, np.floating):
        if not np.isfinite(values).all():
            raise ImageError("the picture contains NaN or infinite values: every pixel must be an ordinary number")
        peak = float(values.max(initial=0))
        divisor = 1.0 if peak <= MAX_UNIT_FLOAT else 255.0 if peak <= 255 else peak
    elif np.issubdtype(values.dtype, np.integer):
        peak = float(values.max(initial=0))
        divisor = 255.0 if peak <= 255 else 65535.0 if peak <= 65535 else peak
    else:
        raise ImageError(f"an image array must hold numbers, not {values.dtype}")
    scaled = values.astype(np.float32)
    if divisor != 1.0:
        scaled /= np.float32(divisor)
    return np.clip(scaled, 0.0, 1.0, out=scaled)


def to_greyscale(array: np.ndarray) -> np.ndarray:
    """Any numeric image array -> float32 (H, W) grey levels in [0, 1].

    Transparent pixels take the colour that contrasts with the opaque ones, so black ink on a
    transparent background and white ink on a transparent background both stay visible; where most of the
    picture is opaque (a photo with transparent margins), they take the level of most of it, the paper's.
    """
    values = np.asarray(array)
    # The shape and size are checked before any conversion, which takes several times the array's own memory.
    if not (values.ndim == 2 or (values.ndim == 3 and values.shape[-1] in (1, 2, 3, 4))):
        raise ImageError(
            f"an image array must be (height, width) or (height, width, 1/3/4 channels), got shape {values.shape}"
        )
    height, width = values.shape[:2]
    if height * width > MAX_IMAGE_PIXELS:
        raise ImageError(_too_large_message("the image array", width, height))
    if problem := _too_small_problem(width, height):
        raise ImageError(problem)
    values = to_unit_range(values)
    if values.ndim == 2:
        return values
    if values.shape[-1] == 1:
        return values[..., 0]
    if values.shape[-1] == 2:  # grey + alpha
        return _composite_alpha(values[..., 0], values[..., 1])
    colour = values[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return _composite_alpha(colour, values[..., 3]) if values.shape[-1] == 4 else colour


def _too_small_problem(width: int, height: int) -> str | None:
    """What makes a picture too small to hold a digit, or None: each rule it breaks, with that rule's remedy (one
    message for both told a 1x120 picture to be 8 pixels on its longer side, which it was)."""
    needs, thin = [], ""
    if min(width, height) < MIN_IMAGE_SIDE:
        needs.append(f"at least {MIN_IMAGE_SIDE} pixels wide and high")
        thin = " (too narrow)" if height >= MIN_IMAGE_SIDE else " (too flat)" if width >= MIN_IMAGE_SIDE else ""
    if max(width, height) < MIN_IMAGE_LONG_SIDE:
        needs.append(f"at least {MIN_IMAGE_LONG_SIDE} pixels on its longer side")
    if not needs:
        return None
    return (f"an image of {width}x{height} pixels is too small to hold a digit{thin}: give a picture "
            f"{' and '.join(needs)}")


def _composite_alpha(grey: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    opaque = alpha > 0.5
    if not opaque.any():
        return grey * alpha  # nothing visible: stays blank
    if opaque.mean() > 0.5:
        # Mostly opaque: a photo with margins made transparent (turned or straightened in an editor). Its opaque
        # part is mostly paper, which the margins continue; the contrast rule below put a light sheet on black.
        background = float(np.median(grey[opaque]))
    else:  # ink alone is opaque
        background = 1.0 if grey[opaque].mean() < 0.5 else 0.0
    return grey * alpha + background * (1.0 - alpha)


def to_greyscale_image(image: ImageInput, canvas_size: int = DEFAULT_CANVAS_SIZE,
                       brush_width: float = DEFAULT_BRUSH_WIDTH, working_size: int | None = None) -> np.ndarray:
    """Step 1: whatever was given (strokes, array, PIL image, file, bytes) -> float32 grey levels (H, W).

    `working_size`: a large picture file or PIL image may come back shrunk towards it (see `image_to_array`).
    """
    if isinstance(image, (str, os.PathLike, bytes, bytearray, memoryview, Image.Image)):
        return to_greyscale(image_to_array(load_image(image), working_size))
    strokes = as_stroke_arrays(image)
    if strokes is not None:
        _check_drawing(strokes, canvas_size, brush_width)
        return _stroke_picture(strokes, canvas_size, brush_width)
    if isinstance(image, (list, tuple)):
        try:
            pixels = np.asarray(image)
        except ValueError as error:  # NumPy refuses ragged nesting
            raise ImageError(_ragged_list_message(image)) from error
        problem = _small_list_problem(pixels.shape)
        if problem:
            raise ImageError(problem)
        image = pixels
    if isinstance(image, np.ndarray):
        # An (n, 2) array is one stroke's points, as the same list is (a picture file 2 pixels wide is still read): as
        # a picture, a 7 was "1, 100% sure". Students get such arrays from np.array(pad.strokes[0]), or compute them.
        if image.ndim == 2 and image.shape[1] == 2:
            raise ImageError(_small_list_problem(image.shape))
        # And np.array(pad.strokes) stacks strokes of one length into (k, n, 2): k rows of grey and alpha, too few for a
        # picture given as lists (a 7 of one stroke was "an image of 84x1 pixels", two of them were read as a picture).
        if image.ndim == 3 and image.shape[2] == 2 and image.shape[0] < MIN_LIST_PICTURE_SIDE:
            raise ImageError(f"this looks like strokes stacked into one array of shape {image.shape}, not a list of "
                             f"strokes: give list(array), or the list of strokes itself; {STROKES_FORMAT}")
        _check_not_a_mask(image)
        return to_greyscale(image)
    raise ImageError(
        f"cannot read a digit from a {type(image).__name__}: give strokes, a NumPy array, a PIL image or a file path"
    )


def _check_not_a_mask(pixels: np.ndarray) -> None:
    """An array picture of whole numbers 0 and 1 is a mask (`data.whole_number_mask_problem`). (A picture file of
    such levels is a nearly black photo, read as it is.)"""
    if problem := whole_number_mask_problem(pixels):
        raise ImageError(problem)


def _small_list_problem(shape: tuple[int, ...]) -> str | None:
    """What a list that cannot be a picture most likely is: strokes missing a bracket, with one too many, or written
    flat. Read as a picture, a stroke's (n, 2) table of points is n x 2 pixels, and it gets a confident answer."""
    if len(shape) == 1:
        return ("a flat list of values is neither a picture nor strokes: a picture given as lists is a list of rows of "
                f"pixels, and {STROKES_NOT_FLAT}")
    if len(shape) == 4 and shape[-1] == 2:
        return STROKES_IN_A_LIST
    if len(shape) not in (2, 3) or min(shape[:2]) >= MIN_LIST_PICTURE_SIDE:
        return None  # a picture, or a shape that `to_greyscale` names
    if len(shape) == 2 and shape[1] == 2:
        return ("this looks like one stroke (a list of (x, y) points), not a list of strokes: put it in brackets, "
                f"[stroke], or give a picture at least {MIN_LIST_PICTURE_SIDE}x{MIN_LIST_PICTURE_SIDE} pixels")
    if shape[-1] == 3:
        return _point_size_message("the strokes have", 3)
    return (f"{shape[0]} rows of {shape[1]} are too small for a picture given as lists (at least "
            f"{MIN_LIST_PICTURE_SIDE}x{MIN_LIST_PICTURE_SIDE} pixels); {STROKES_NOT_FLAT}")


def _ragged_list_message(value) -> str:
    for number, part in enumerate(value, 1):
        try:
            shape = np.shape(part)
        except ValueError:  # ragged itself
            continue
        if len(shape) == 2 and shape[1] != 2:  # a stroke of points with another count of numbers
            return _point_size_message(f"stroke {number} has", shape[1])
    return ("a picture given as lists must have rows of the same length, each pixel a number or a list of channels "
            f"of the same length ({STROKES_FORMAT})")


def _point_size_message(whose: str, found: int) -> str:
    return (f"{whose} points of {found} numbers: each point must be two numbers, x and y; found {found} (leave out "
            "the others, such as the pen's pressure)")


def _stroke_picture(strokes: list[np.ndarray], canvas_size: int, brush_width: float) -> np.ndarray:
    """Strokes drawn at the working size, as float32 grey levels: white ink on black, every pixel 0 or 1."""
    return _draw_strokes(strokes, canvas_size, brush_width, STROKE_WORKING_SIZE).astype(np.float32) / 255.0


def not_points_message(number: int) -> str:
    return (f"stroke {number} is not a list of (x, y) points: each point must be two ordinary numbers (not text, "
            "True/False, NaN or infinity)")


def _points(stroke, number: int) -> np.ndarray | None:
    """One stroke as float64 (n, 2) points, an ImageError naming it (`number`, from 1) for points that are not
    ordinary numbers, or None for what is not shaped like points: a picture's row of pixels, or of channels.

    Read by the array's type, never point by point in Python: the pad sends its strokes on every update.
    """
    if not len(stroke):
        return np.empty((0, 2))
    try:
        points = np.asarray(stroke)
    except ValueError as error:  # NumPy refuses ragged nesting: a point with one number, or three, or strokes
        raise ImageError(STROKES_IN_A_LIST if _holds_strokes(stroke) else not_points_message(number)) from error
    if points.ndim != 2 or points.shape[1] != 2:
        return None
    # Text would be parsed ("50" as 50) and True taken as 1: a slip, never a coordinate.
    if points.dtype.kind not in "iufO" or (points.dtype.kind == "O" and any(
            isinstance(value, (bool, np.bool_, str, bytes)) for value in points.flat)):
        raise ImageError(not_points_message(number))
    try:
        points = points.astype(np.float64, copy=False)
    except (TypeError, ValueError, OverflowError) as error:  # objects that are no numbers, or too large for one
        raise ImageError(not_points_message(number)) from error
    # Caught here, or NaN reaches Pillow as a raw error, or gives a confident answer about the other points.
    if not np.isfinite(points).all():
        raise ImageError(f"stroke {number} has a point that is missing or not an ordinary number (NaN or "
                         "infinity): each point must be two numbers, x and y")
    return points


def _holds_strokes(value) -> bool:
    """Whether `value`, given where one stroke belongs, is a whole drawing's strokes: a drawing wrapped in one list
    too many, whose strokes of different lengths NumPy cannot stack into one array."""
    try:
        strokes = as_stroke_arrays(value)
    except ImageError:  # strokes, with a point that is no number
        return True
    return strokes is not None and any(len(stroke) for stroke in strokes)


def as_stroke_arrays(value) -> list[np.ndarray] | None:
    """Strokes as a list of float64 (n, 2) point arrays, or None when `value` is not strokes.

    An empty list is an empty drawing; a list of point lists (or (n, 2) arrays) is strokes; rows of numbers are an
    image. Each stroke is converted once here, since the pad pays for every conversion on every update.
    """
    if not isinstance(value, (list, tuple)):
        return None
    strokes = []
    for number, stroke in enumerate(value, 1):
        if not isinstance(stroke, (list, tuple, np.ndarray)):
            return None
        points = _points(stroke, number)
        if points is None:
            return None
        strokes.append(points)
    return strokes


def _require_strokes(value) -> list[np.ndarray]:
    strokes = as_stroke_arrays(value)
    if strokes is None:
        raise ImageError("strokes must be a list of strokes, each a list of (x, y) points")
    return strokes


# ---------------------------------------------------------------- the MNIST steps


def reduce_to_working_size(grey: np.ndarray, working_size: int = WORKING_SIZE) -> np.ndarray:
    """Shrink big photos first: the digit ends at 20 pixels, and the ink search is faster on fewer pixels."""
    size = _working_dimensions(grey.shape[1], grey.shape[0], working_size)
    if size is None:
        return grey
    return np.asarray(Image.fromarray(grey).resize(size, Image.Resampling.BOX), dtype=np.float32)


def _working_dimensions(width: int, height: int, working_size: int) -> tuple[int, int] | None:
    """A picture's (width, height) shrunk to a long side of `working_size`, or None when it is no larger."""
    if max(height, width) <= working_size:  # also a picture of no pixels, which `to_greyscale` names
        return None
    factor = working_size / max(height, width)
    return max(1, round(width * factor)), max(1, round(height * factor))


def is_dark_on_light(grey: np.ndarray) -> bool:
    """Polarity from the background: the paper (or an empty canvas) is the level of most of the edge, and of most
    of the picture.

    Three readings of that level vote, since each can be fooled on its own: the outermost pixels by a line of
    ruled or squared paper running along the edge, a band `BORDER_BAND` deep by a digit that fills its square,
    and the whole picture's median by a bold digit that covers half of a small scan. The picture is first
    stretched to its own range, so a dim photo of white paper still counts as light.
    """
    low, high = float(grey.min()), float(grey.max())
    if high - low < MIN_CONTRAST:
        return False
    middle = low + 0.5 * (high - low)
    levels = (_border_median(grey), _border_median(grey, max(1, round(BORDER_BAND * min(grey.shape)))),
              float(np.median(grey)))
    return sum(level > middle for level in levels) >= 2


def _border_median(grey: np.ndarray, depth: int = 1) -> float:
    band = np.concatenate([grey[:depth].ravel(), grey[-depth:].ravel(),
                           grey[depth:-depth, :depth].ravel(), grey[depth:-depth, -depth:].ravel()])
    return float(np.median(band))


def extract_ink(grey: np.ndarray, dark_on_light: bool) -> np.ndarray:
    """White ink on black: remove the background level, stretch the contrast, drop faint noise and specks."""
    ink = paper_minus_ink(grey) if dark_on_light else grey
    background = _border_median(ink)
    contrast = float(ink.max()) - background
    if contrast < MIN_CONTRAST:
        spread = float(grey.max() - grey.min())
        raise ImageError(_faint_message(spread) if spread > 0 else BLANK_MESSAGE)
    # One affine map does both: background -> 0, full ink -> 1, and anything under the threshold -> below 0.
    floor = background + INK_THRESHOLD * contrast
    ink = (ink - floor) * np.float32(1.0 / ((1.0 - INK_THRESHOLD) * contrast))
    np.clip(ink, 0.0, 1.0, out=ink)
    cleaned = _remove_specks(ink)
    if not cleaned.any() and ink.any():
        raise ImageError("only specks were found (noise or a texture), no digit: choose a photo or scan of one "
                         "digit, written large and dark on plain paper")
    return cleaned


def _faint_message(spread: float) -> str:
    """For a picture whose marks differ too little from its background (`spread`: its lightest pixel's level less its
    darkest's): a photo taken in the dark, a faint pencil. It is no blank page."""
    return (f"no digit stands out: the darkest and the lightest pixels of this picture differ by only {spread * 255:.0f} "
            "of 255 levels. Brighten the photo (more light, or more contrast in a photo editor), or write with a pen "
            "that stands out more from the paper")


def paper_minus_ink(grey: np.ndarray) -> np.ndarray:
    """Dark ink on paper -> how much darker each pixel is than the paper around it.

    Photos are lit unevenly: a lamp makes one side of the sheet brighter, and a single paper level
    would turn the darker side into "ink". The paper's local brightness is the brightest value in a
    window wider than any pen stroke, found on a small copy of the picture and scaled back up.
    """
    height, width = grey.shape
    factor = PAPER_GRID / max(height, width)
    small_size = (max(1, round(width * factor)), max(1, round(height * factor)))
    small = np.asarray(Image.fromarray(grey).resize(small_size, Image.Resampling.BOX), dtype=np.float32)
    paper = ndimage.uniform_filter(ndimage.maximum_filter(small, size=PAPER_WINDOW, mode="nearest"),
                                   size=PAPER_WINDOW, mode="nearest")
    paper = np.asarray(Image.fromarray(paper).resize((width, height), Image.Resampling.BILINEAR), dtype=np.float32)
    return np.clip(paper - grey, 0.0, 1.0)


def _remove_specks(ink: np.ndarray) -> np.ndarray:
    # No piece of ink reaches beyond the ink's box, and labelling fewer pixels is faster.
    top, left, bottom, right = find_ink_box(ink)
    inked = ink[top:bottom, left:right]
    labels, count = ndimage.label(inked > 0, FOUR_NEIGHBOURS)
    if count <= 1:
        return ink
    sizes = np.bincount(labels.ravel())[1:]
    keep = np.concatenate([[False], sizes >= MIN_COMPONENT_FRACTION * sizes.sum()])
    cleaned = ink.copy()
    cleaned[top:bottom, left:right] = np.where(keep[labels], inked, 0.0)
    return cleaned


def find_ink_box(ink: np.ndarray) -> tuple[int, int, int, int]:
    """The smallest rectangle (top, left, bottom, right; bottom/right exclusive) that holds all ink."""
    rows = np.flatnonzero(ink.any(axis=1))
    columns = np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        raise ImageError(BLANK_MESSAGE)
    return int(rows[0]), int(columns[0]), int(rows[-1]) + 1, int(columns[-1]) + 1


def crop_to_box(ink: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    top, left, bottom, right = box
    return ink[top:bottom, left:right]


def stroke_width(ink: np.ndarray) -> float:
    """Average width of the strokes in pixels: twice the ink's area over the length of its outline.

    A stroke of length L and width w covers L * w pixels and has an outline of about 2 * L pixels.
    """
    mask = np.pad(ink > 0.5, 1)
    centre = mask[1:-1, 1:-1]
    # Inside pixels have ink on all four sides (ndimage.binary_erosion's rule, at a fraction of its cost).
    inside = centre & mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
    outline = np.count_nonzero(centre & ~inside)
    return 2.0 * np.count_nonzero(centre) / max(outline, 1)


def brush_for_mnist_width(strokes: Strokes, brush_width: float, measured_width: float) -> float:
    """The brush that draws `strokes` with MNIST's typical stroke width in the 20-pixel box, given the width
    (`stroke_width`, at box scale) that `brush_width` gave them.

    Drawn with a brush b, a digit whose points span D pixels has an ink box of D + b, so its strokes end up about
    b * 20 / (D + b) pixels wide once scaled into the box; the measured width says how far from the typical one
    that is. Drawing again beats any repair of the picture: a fat pen on a small digit fills its loops in, and no
    thinning can open them again.
    """
    points = np.concatenate([np.empty((0, 2)), *_require_strokes(strokes)])
    extent = float(np.ptp(points, axis=0).max()) if len(points) else 0.0
    if extent == 0 or measured_width <= 0:
        return brush_width  # a dot has no size to scale the pen by
    target = brush_width * MNIST_DIGIT_BOX / (extent + brush_width) * TYPICAL_STROKE_WIDTH / measured_width
    return target * extent / (MNIST_DIGIT_BOX - min(target, MNIST_DIGIT_BOX / 2))


def normalise_stroke_width(cropped: np.ndarray, box_size: int = MNIST_DIGIT_BOX) -> tuple[np.ndarray, float]:
    """Widen strokes thinner than MNIST's usual ones, or thin thicker ones, to its typical width, measured at the
    scale the digit will have in the 20-pixel box. Returns the (possibly new) crop and the width it had, in box
    pixels."""
    scale = box_size / max(cropped.shape)
    width = stroke_width(cropped) * scale
    if MIN_STROKE_WIDTH <= width <= MAX_STROKE_WIDTH:
        return cropped, width
    radius = abs(TYPICAL_STROKE_WIDTH - width) / (2 * scale)  # in the crop's own pixels, on each side
    if width < MIN_STROKE_WIDTH:
        padded = np.pad(cropped, int(np.ceil(radius)) + 1)
        # Every pixel within `radius` of the ink becomes ink, with a soft one-pixel edge like the rest.
        distance = ndimage.distance_transform_edt(padded <= 0.5)
        adjusted = np.maximum(padded, np.clip(radius + 0.5 - distance, 0.0, 1.0))
    else:
        # Only ink deeper than `radius` inside the strokes stays, again with a soft edge.
        distance = ndimage.distance_transform_edt(cropped > 0.5)
        adjusted = np.minimum(cropped, np.clip(distance - radius, 0.0, 1.0))
    adjusted = adjusted.astype(np.float32)
    return crop_to_box(adjusted, find_ink_box(adjusted)), width


def fit_into_box(cropped: np.ndarray, box_size: int = MNIST_DIGIT_BOX) -> np.ndarray:
    """Scale so the longer side is `box_size` pixels, keeping the aspect ratio; anti-aliased."""
    height, width = cropped.shape
    factor = box_size / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    # The box filter averages every source pixel, like MNIST's anti-aliasing; enlarging needs a smooth filter.
    resample = Image.Resampling.BOX if factor < 1 else Image.Resampling.BILINEAR
    fitted = Image.fromarray(np.ascontiguousarray(cropped, dtype=np.float32)).resize(size, resample)
    return np.clip(np.asarray(fitted, dtype=np.float32), 0.0, 1.0)


def centre_by_mass(fitted: np.ndarray, size: int = IMAGE_SIZE) -> np.ndarray:
    """Place in a size x size image so that the ink's centre of mass is at the centre (never cutting ink off)."""
    height, width = fitted.shape
    rows, columns = np.indices(fitted.shape)
    mass = float(fitted.sum())
    centre_row = float((rows * fitted).sum()) / mass
    centre_column = float((columns * fitted).sum()) / mass
    top = int(np.clip(round(size / 2 - centre_row), 0, size - height))
    left = int(np.clip(round(size / 2 - centre_column), 0, size - width))
    placed = np.zeros((size, size), dtype=np.float32)
    placed[top:top + height, left:left + width] = fitted
    return placed


def preprocess_steps(image: ImageInput, canvas_size: int = DEFAULT_CANVAS_SIZE,
                     brush_width: float = DEFAULT_BRUSH_WIDTH) -> PreprocessSteps:
    """Run every step and keep the intermediate pictures (for notebook 05 and for the pad's checks)."""
    strokes = as_stroke_arrays(image)
    if strokes is None:
        greyscale, dark_on_light, ink, ink_box, cropped = _find_ink(image, canvas_size, brush_width)
    else:
        _check_drawing(strokes, canvas_size, brush_width)
        greyscale, dark_on_light, ink, ink_box, cropped = _find_stroke_ink(strokes, canvas_size, brush_width)
    pen_adjusted, width = normalise_stroke_width(cropped)
    brush_used = None
    if strokes is not None:
        brush_used = brush_width
        if pen_adjusted is not cropped:  # strokes are drawn again with the right pen instead
            brush_used = brush_for_mnist_width(strokes, brush_width, width)
            greyscale, dark_on_light, ink, ink_box, cropped = _find_stroke_ink(strokes, canvas_size, brush_used)
            pen_adjusted = cropped
    fitted = fit_into_box(pen_adjusted)
    return PreprocessSteps(
        greyscale=greyscale, ink=ink, ink_box=ink_box, cropped=cropped, stroke_width=width,
        pen_adjusted=pen_adjusted, fitted=fitted, model_input=centre_by_mass(fitted), dark_on_light=dark_on_light,
        drawn_brush=brush_width if brush_used is not None else None, brush_used=brush_used,
        **({} if strokes is None else _pen_geometry(strokes, canvas_size)),
    )


def _pen_geometry(strokes: list[np.ndarray], canvas_size: int) -> dict[str, float | int]:
    drawn = [stroke for stroke in strokes if len(stroke)]
    size = float(np.ptp(np.concatenate(drawn), axis=0).max())
    travel = sum(float(np.hypot(*np.diff(stroke, axis=0).T).sum()) for stroke in drawn)
    returns = _pen_returns(drawn, canvas_size)
    # A piece of a stroke that left the canvas is no dot however short it is: the pad keeps such a stroke as pieces
    # (`DrawingPad.leave`), each that left ending on the edge, the next going on from where the pen came back in.
    dots = sum(1 for number, stroke in enumerate(drawn)
               if number not in returns and not any(_on_edge(point, canvas_size) for point in (stroke[0], stroke[-1]))
               and np.ptp(stroke, axis=0).max() < DOT_SIZE * size)
    # What the pen drew while it was out is lost: the widest jump from an exit to its return, over the drawing's size.
    gap = max((math.dist(drawn[number - 1][-1], drawn[number][0]) for number in returns), default=0.0)
    return {"points_extent": size / canvas_size, "pen_travel": travel / size if size else 0.0,
            "separate_dots": dots, "strokes": len(drawn), "off_canvas_gap": gap / size if size else 0.0}


def _pen_returns(drawn: list[np.ndarray], canvas_size: int) -> set[int]:
    """Which of `drawn` (strokes that hold a point) are where a pen that left the canvas came back in: the stroke
    before ends on an edge (where the pad puts the pointer that left, `DrawingPad.leave`) and this one starts where a
    return can land (`_came_back_in`). Strokes carry no mark of an exit, so it is inferred from the points, and a
    saved drawing is read as the pad read it. Only a return counts: a next stroke begun anywhere after one that ends
    on the edge made a stroke released on the top row (y=0), a template at full height and UNIPEN digits scaled
    exactly to the canvas "run off the pad", and a dot drawn after a stroke released outside no dot."""
    return {number for number in range(1, len(drawn))
            if _came_back_in(drawn[number - 1][-1], drawn[number][0], canvas_size)}


def _came_back_in(exit_point: np.ndarray, entry: np.ndarray, canvas_size: int) -> bool:
    """Whether a pen that left the canvas at `exit_point` can have come back in at `entry`: the exit lies on an edge,
    and the entry within REENTRY_DEPTH of that edge or of one beside it. Back in by the opposite edge only, the pen
    would have gone round the canvas: that is a new stroke (a 4 that ends its stem on the bottom edge and starts its
    next stroke at the top). A pen that slid along the edge comes back near where it left; one that drew a digit's
    bar out there comes back far from it."""
    left_by = [edge for edge, distance in enumerate(_edge_distances(exit_point, canvas_size)) if distance == 0]
    back_by = [edge for edge, distance in enumerate(_edge_distances(entry, canvas_size))
               if distance <= REENTRY_DEPTH * canvas_size]
    return any(back != (left + 2) % 4 for left in left_by for back in back_by)


def _edge_distances(point: np.ndarray, canvas_size: int) -> tuple[float, float, float, float]:
    """A point's distances to the left, top, right and bottom edges: each edge's opposite comes two places on."""
    x, y = point
    return x, y, canvas_size - x, canvas_size - y


def _on_edge(point: np.ndarray, canvas_size: int) -> bool:
    return 0 in _edge_distances(point, canvas_size)


def _find_ink(image: ImageInput, canvas_size: int, brush_width: float):
    greyscale = reduce_to_working_size(to_greyscale_image(image, canvas_size, brush_width, WORKING_SIZE))
    dark_on_light = is_dark_on_light(greyscale)
    ink = extract_ink(greyscale, dark_on_light)
    ink_box = find_ink_box(ink)
    if not dark_on_light and _is_a_sheet(crop_to_box(ink, ink_box)):
        # A sheet photographed on a darker desk: the desk was taken for the background and the whole sheet for light
        # ink, a filled box that the network calls a 0 with confidence. The digit is on the sheet.
        top, left, bottom, right = ink_box
        margin_rows, margin_columns = round(SHEET_MARGIN * (bottom - top)), round(SHEET_MARGIN * (right - left))
        sheet = greyscale[top + margin_rows:bottom - margin_rows, left + margin_columns:right - margin_columns]
        if min(sheet.shape) >= MIN_IMAGE_SIDE and is_dark_on_light(sheet):
            greyscale, dark_on_light = sheet, True
            ink = extract_ink(greyscale, dark_on_light)
            ink_box = find_ink_box(ink)
    return greyscale, dark_on_light, ink, ink_box, crop_to_box(ink, ink_box)


def _is_a_sheet(cropped: np.ndarray) -> bool:
    """Light "ink" that fills its box as no digit does: a sheet of paper (see SHEET_FILL)."""
    height, width = cropped.shape
    return width >= SHEET_MIN_ASPECT * height and float(np.mean(cropped > 0.5)) > SHEET_FILL


def _find_stroke_ink(strokes: list[np.ndarray], canvas_size: int, brush_width: float):
    """`_find_ink` for strokes: drawn white on black, they are ink already, with no paper to guess or remove.

    Guessing the polarity from the border, as for a photo, would turn a drawing that runs along most of the
    canvas's edge into dark ink on light paper; skipping the photo steps also shortens the pad's every update.
    """
    greyscale = _stroke_picture(strokes, canvas_size, brush_width)
    ink = _remove_specks(greyscale)
    ink_box = find_ink_box(ink)
    return greyscale, False, ink, ink_box, crop_to_box(ink, ink_box)


def preprocess(image: ImageInput, canvas_size: int = DEFAULT_CANVAS_SIZE,
               brush_width: float = DEFAULT_BRUSH_WIDTH) -> np.ndarray:
    """Any input -> MNIST-like float32 (28, 28) in [0, 1], white digit on black."""
    return preprocess_steps(image, canvas_size, brush_width).model_input


def resize_without_centring(image: ImageInput, canvas_size: int = DEFAULT_CANVAS_SIZE,
                            brush_width: float = DEFAULT_BRUSH_WIDTH) -> np.ndarray:
    """The naive way, for contrast: shrink the whole picture to 28x28 with no cropping or centring.

    Polarity is still corrected, so the comparison shows only what cropping and centring are worth.
    """
    grey = reduce_to_working_size(to_greyscale_image(image, canvas_size, brush_width, WORKING_SIZE))
    ink = 1.0 - grey if is_dark_on_light(grey) else grey
    small = Image.fromarray(np.ascontiguousarray(ink)).resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BOX)
    return np.clip(np.asarray(small, dtype=np.float32), 0.0, 1.0)

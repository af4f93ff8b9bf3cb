"""A synthetic test set of drawn digits: pen strokes, not scanned MNIST digits.

MNIST test accuracy says little about what students draw with a mouse: thicker or thinner strokes,
small and off-centre digits, slanted writing, other writers' shapes, dark ink on light paper. Each
digit has several stroke templates (different writing styles, as polylines in a unit box); a sample
takes one, bends it with a smooth random warp, slants, rotates, scales and places it, and renders
it with a round brush on a 280x280 canvas exactly as the drawing pad does. Variants stress one
property each; everything is deterministic for a given seed.
"""
from __future__ import annotations

import os
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from .data import answers, check_seed
from .errors import ConfigError
from .preprocess import (DEFAULT_CANVAS_SIZE, MIN_IMAGE_LONG_SIDE, canvas_size_problem, crop_to_box, find_ink_box,
                         fit_into_box, preprocess, rasterise_strokes)
from .values import checked_list_of, is_number, is_whole_number, type_problems

UnitStroke = list[tuple[float, float]]
# The label of a drawing that is no digit (a letter, a shape, a scribble).
NO_DIGIT = -1
MAX_SAMPLES_PER_DIGIT = 10_000


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, points: int = 24) -> UnitStroke:
    # Angles in degrees with y pointing down: 0 = right, 90 = bottom, -90 = top.
    angles = np.radians(np.linspace(start, end, points))
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in angles]


def _figure_eight(width: float = 0.28, points: int = 48) -> UnitStroke:
    t = np.linspace(0, 2 * np.pi, points)
    return [(0.5 + width * np.sin(2 * a), 0.5 - 0.47 * np.cos(a)) for a in t]


_SEVEN_DIAGONAL = [(0.2, 0.05), (0.8, 0.05), (0.42, 1.0)]
_TWO_TOP = _arc(0.5, 0.3, 0.28, 0.27, 195, 385)

# Writers' styles for each digit: name -> strokes, each a polyline in the unit box (y down).
TEMPLATES: dict[int, dict[str, list[UnitStroke]]] = {
    0: {
        "oval": [_arc(0.5, 0.5, 0.3, 0.46, -90, 270, 40)],
        "narrow, overlapping": [_arc(0.5, 0.5, 0.22, 0.47, -110, 280, 40)],
        "round": [_arc(0.5, 0.5, 0.38, 0.44, -80, 285, 40)],
        "open top": [_arc(0.5, 0.5, 0.28, 0.46, -65, 245, 36)],
    },
    1: {
        "stroke": [[(0.5, 0.0), (0.5, 1.0)]],
        "flag": [[(0.3, 0.2), (0.52, 0.0), (0.52, 1.0)]],
        "flag and base": [[(0.3, 0.2), (0.52, 0.0), (0.52, 1.0)], [(0.3, 1.0), (0.75, 1.0)]],
    },
    2: {
        "classic": [_TWO_TOP + [(0.2, 1.0), (0.82, 1.0)]],
        "loop": [_TWO_TOP + [(0.3, 0.9), (0.22, 0.92), (0.24, 0.82), (0.34, 0.86), (0.4, 0.98), (0.82, 0.97)]],
        "curved": [_TWO_TOP + [(0.5, 0.7), (0.3, 0.88), (0.2, 1.0), (0.5, 0.96), (0.82, 1.0)]],
        "angular": [[(0.2, 0.15), (0.5, 0.0), (0.78, 0.15), (0.75, 0.35), (0.2, 1.0), (0.82, 1.0)]],
    },
    3: {
        "round": [_arc(0.5, 0.27, 0.26, 0.23, 200, 450) + _arc(0.5, 0.74, 0.3, 0.26, -90, 160)],
        "flat top": [[(0.2, 0.0), (0.78, 0.0), (0.45, 0.42)] + _arc(0.5, 0.71, 0.3, 0.29, -90, 160)],
        "pointed middle": [[(0.2, 0.08), (0.6, 0.0), (0.78, 0.18), (0.45, 0.47), (0.8, 0.7), (0.62, 0.98), (0.2, 0.92)]],
    },
    4: {
        "open": [[(0.55, 0.0), (0.15, 0.65), (0.85, 0.65)], [(0.66, 0.3), (0.66, 1.0)]],
        "open, upright": [[(0.25, 0.0), (0.22, 0.6), (0.85, 0.6)], [(0.66, 0.0), (0.66, 1.0)]],
        "closed": [[(0.66, 1.0), (0.66, 0.0), (0.15, 0.65), (0.85, 0.65)]],
    },
    5: {
        "one stroke": [[(0.78, 0.0), (0.3, 0.0), (0.26, 0.44)] + _arc(0.5, 0.68, 0.3, 0.3, -140, 145)],
        "flag apart": [[(0.28, 0.0), (0.26, 0.44)] + _arc(0.5, 0.68, 0.3, 0.3, -140, 145), [(0.3, 0.0), (0.8, 0.0)]],
    },
    6: {
        "curved": [[(0.72, 0.02), (0.45, 0.15), (0.28, 0.4), (0.22, 0.7)] + _arc(0.5, 0.73, 0.28, 0.26, 180, 540)],
        "straight": [[(0.68, 0.0), (0.24, 0.7)] + _arc(0.5, 0.74, 0.27, 0.25, 190, 545)],
        "open loop": [[(0.7, 0.0), (0.4, 0.2), (0.24, 0.6)] + _arc(0.5, 0.74, 0.27, 0.25, 180, -110)],
    },
    7: {
        "plain": [_SEVEN_DIAGONAL],
        "bar": [_SEVEN_DIAGONAL, [(0.45, 0.52), (0.8, 0.52)]],
        "hook": [[(0.2, 0.18)] + _SEVEN_DIAGONAL],
        "curved stem": [[(0.2, 0.05), (0.8, 0.05), (0.58, 0.4), (0.48, 0.7), (0.45, 1.0)]],
    },
    8: {
        "figure eight": [_figure_eight()],
        "two loops": [_arc(0.5, 0.26, 0.22, 0.24, -90, 270, 32), _arc(0.5, 0.74, 0.28, 0.26, -90, 270, 32)],
    },
    9: {
        "straight tail": [_arc(0.45, 0.28, 0.26, 0.26, 0, 360, 32) + [(0.71, 0.28), (0.68, 1.0)]],
        "curved tail": [_arc(0.45, 0.28, 0.26, 0.26, 0, 360, 32) + [(0.71, 0.28), (0.68, 0.72), (0.55, 0.95), (0.32, 1.0)]],
        "one stroke": [_arc(0.45, 0.28, 0.25, 0.26, -10, -370, 32) + [(0.7, 0.3), (0.62, 1.0)]],
    },
}


@dataclass(frozen=True)
class Scan:
    """A drawing kept as older collections of scanned digits keep theirs: cut out of the page, shrunk to fill a
    small square (its shape kept) and stored as grey levels or thresholded to black and white."""

    size: int  # pixels on each side
    black_and_white: bool

    def __post_init__(self) -> None:
        problems = type_problems(self)  # first: the size's range below compares
        if not problems and self.size < MIN_IMAGE_LONG_SIDE:  # a square: its longer side is its side
            problems.append(f"size must be at least {MIN_IMAGE_LONG_SIDE} pixels, found {self.size}")
        if problems:
            raise ConfigError("invalid Scan: " + "; ".join(problems))

    def __call__(self, ink: np.ndarray) -> np.ndarray:
        """White ink on black, floats in [0, 1] at canvas size -> the scan: dark ink on white, uint8 (size, size)."""
        shrunk = fit_into_box(crop_to_box(ink, find_ink_box(ink)), self.size)
        if self.black_and_white:
            shrunk = (shrunk > 0.5).astype(np.float32)
        scan = np.zeros((self.size, self.size), dtype=np.float32)
        height, width = shrunk.shape
        top, left = (self.size - height) // 2, (self.size - width) // 2
        scan[top:top + height, left:left + width] = shrunk
        return np.round(255 * (1 - scan)).astype(np.uint8)


@dataclass(frozen=True)
class Variant:
    """How one variant draws its digits; ranges are (low, high) for a uniform draw."""

    description: str
    height: tuple[float, float] = (150, 220)  # digit height in canvas pixels
    brush: tuple[float, float] = (16, 24)  # brush diameter in canvas pixels
    centre_shift: float | None = 20  # max distance from the canvas centre; None: anywhere on the canvas
    slant: tuple[float, float] = (-0.15, 0.15)  # horizontal shear: positive leans right
    rotation: tuple[float, float] = (-8, 8)  # degrees
    aspect: tuple[float, float] = (0.85, 1.15)  # width multiplier
    dark_on_light: bool = False
    point_spacing: float | None = None  # canvas pixels between recorded points, as a fast mouse leaves them
    jitter: float = 0.0  # standard deviation of a shaky hand, canvas pixels per point
    corner: bool = False  # near one of the four corners (overrides centre_shift)
    scan: Scan | None = None  # kept as a small scan instead of the canvas (the pad reads it as an upload)


VARIANTS: dict[str, Variant] = {
    "standard": Variant("centred, medium size, medium pen"),
    "thin_pen": Variant("brush 10-12 px", brush=(10, 12)),
    "thick_pen": Variant("brush 26-30 px", brush=(26, 30)),
    "small_offcentre": Variant("60-110 px tall, anywhere on the canvas", height=(60, 110), brush=(10, 14),
                               centre_shift=None),
    "slanted": Variant("slanted and rotated writing", slant=(-0.45, 0.45), rotation=(-18, 18)),
    "narrow_wide": Variant("squeezed or stretched", aspect=(0.6, 1.45)),
    "large": Variant("filling the canvas, up to its edges", height=(215, 245), brush=(16, 24), centre_shift=0),
    "fast_shaky_mouse": Variant("few points per stroke (polygons) and a shaky hand", point_spacing=14, jitter=2.0),
    "dark_on_light": Variant("dark ink on light paper (a photo or scan)", dark_on_light=True),
    "everything_at_once": Variant("any size, place, pen, slant and width, drawn fast with a shaky hand",
                                  height=(100, 240), brush=(10, 24), centre_shift=None, slant=(-0.45, 0.45),
                                  rotation=(-18, 18), aspect=(0.6, 1.45), point_spacing=14, jitter=2.0),
}


@dataclass(frozen=True, eq=False)
class DrawnDigit:
    """One drawn sample: strokes in canvas pixels, rendered on demand."""

    label: int  # the digit, or NO_DIGIT
    style: str
    strokes: tuple[tuple[tuple[float, float], ...], ...]
    brush_width: float
    canvas_size: int = DEFAULT_CANVAS_SIZE
    dark_on_light: bool = False
    paper_seed: int = 0  # paper colour and grain of a dark-on-light sample
    scan: Scan | None = None

    def image(self) -> np.ndarray:
        """The drawing as uint8 (size, size): white ink on black, dark ink on grainy light paper, or its scan."""
        ink = rasterise_strokes(self.strokes, self.canvas_size, self.brush_width).astype(np.float32) / 255
        if self.scan is not None:
            return self.scan(ink)
        if not self.dark_on_light:
            return (ink * 255).astype(np.uint8)
        rng = np.random.default_rng(self.paper_seed)
        paper, ink_level = rng.uniform(190, 250), rng.uniform(10, 80)
        grain = rng.normal(0, 6, ink.shape)
        # A gentle brightness gradient, as from a lamp to one side of the sheet.
        gradient = np.linspace(-1, 1, self.canvas_size)[None, :] * rng.uniform(-15, 15)
        picture = paper + gradient + grain - ink * (paper - ink_level)
        return np.clip(picture, 0, 255).astype(np.uint8)

    def pad_input(self) -> tuple:
        """What the pad would hand `preprocess` or `Predictor.predict`: (picture or strokes, canvas size, brush).
        White-on-black strokes go in as strokes, as the pad sends them; dark ink on paper and scans go in as their
        picture, as an upload would."""
        if self.dark_on_light or self.scan is not None:
            return self.image(), self.canvas_size, self.brush_width
        return self.strokes, self.canvas_size, self.brush_width

    def model_input(self) -> np.ndarray:
        """The 28x28 input the drawing pad would give the network."""
        return preprocess(*self.pad_input())


def densify(stroke: Sequence[tuple[float, float]], step: float = 0.02) -> np.ndarray:
    """The polyline with extra points at most `step` apart, so that a smooth warp bends straight lines too."""
    if not (is_number(step) and step > 0):
        raise ConfigError(f"the step between points must be a number above 0, not {step!r}")
    points = np.asarray(stroke, dtype=float)
    pieces = [points[:1]]
    for start, end in zip(points[:-1], points[1:]):
        count = max(1, int(np.ceil(np.linalg.norm(end - start) / step)))
        pieces.append(start + (end - start) * np.linspace(0, 1, count + 1)[1:, None])
    return np.concatenate(pieces)


def resample_polyline(points: np.ndarray, spacing: float) -> np.ndarray:
    """Points every `spacing` pixels along the polyline (keeping both ends), like a mouse's event stream."""
    if not (is_number(spacing) and spacing > 0):
        raise ConfigError(f"the spacing of points must be a number of pixels above 0, not {spacing!r}")
    lengths = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))])
    count = max(2, int(round(lengths[-1] / spacing)) + 1)
    positions = np.linspace(0, lengths[-1], count)
    return np.stack([np.interp(positions, lengths, points[:, axis]) for axis in (0, 1)], axis=1)


def random_warp(rng: np.random.Generator) -> Callable[[np.ndarray], np.ndarray]:
    """A smooth random warp of points in a unit box centred on (0, 0): no two writers (or two attempts)
    draw the same curve."""
    phases = rng.uniform(0, 2 * np.pi, 4)
    amplitude = rng.uniform(0.01, 0.035)

    def warp(points: np.ndarray) -> np.ndarray:
        x, y = points[:, 0], points[:, 1]
        x = x + amplitude * (np.sin(2 * np.pi * y + phases[0]) + 0.5 * np.sin(4 * np.pi * y + phases[1]))
        y = y + amplitude * (np.sin(2 * np.pi * x + phases[2]) + 0.5 * np.sin(4 * np.pi * x + phases[3]))
        return np.stack([x, y], axis=1)

    return warp


def draw_on_canvas(rng: np.random.Generator, label: int, style: str, strokes: Sequence[np.ndarray],
                   variant: Variant, canvas_size: int, shrink_to_fit: bool = False) -> DrawnDigit:
    """Slant, rotate, size, pen and place strokes as `variant` asks, whatever drew them.

    `strokes` are (n, 2) arrays around (0, 0) in units of the drawing's height, y down: one unit becomes
    the variant's height in canvas pixels. A drawing that would cross the canvas is scaled down about its centre
    to fit inside the brush's margin; `shrink_to_fit` also shrinks one that would only cross the margin (off by
    default: the synthetic set's figures were measured without it).
    """
    slant = rng.uniform(*variant.slant)
    angle = np.radians(rng.uniform(*variant.rotation))
    height = rng.uniform(*variant.height)
    width = height * rng.uniform(*variant.aspect)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])

    def transform(points: np.ndarray) -> np.ndarray:
        x, y = points[:, 0], points[:, 1]
        x = x - slant * y
        return (np.stack([x * width, y * height], axis=1)) @ rotation.T

    shaped = [transform(stroke) for stroke in strokes]
    if variant.point_spacing:
        shaped = [resample_polyline(stroke, variant.point_spacing) for stroke in shaped]
    if variant.jitter:
        shaped = [stroke + rng.normal(0, variant.jitter, stroke.shape) for stroke in shaped]
    brush = rng.uniform(*variant.brush)
    every_point = np.concatenate(shaped)
    low, high = every_point.min(axis=0), every_point.max(axis=0)
    margin = brush / 2 + 2
    room = canvas_size - 2 * margin
    extent = (high - low).max()
    # A drawing longer than the room starts at the margin, so its far side lies beyond the canvas where it is longer
    # than `canvas_size - margin`: the library refuses such drawings, so they are always shrunk. The recorded sets
    # (10 and 30 per digit, seed 42) hold none, so their figures stand.
    if extent > room and (shrink_to_fit or extent > canvas_size - margin):
        middle = (low + high) / 2
        factor = room / extent
        shaped = [middle + (stroke - middle) * factor for stroke in shaped]
        low, high = middle + (low - middle) * factor, middle + (high - middle) * factor
    # Where the digit's box may go so that it stays on the canvas: [first, last] for its top-left corner.
    first = np.full(2, margin) - low
    last = np.maximum(first, np.full(2, canvas_size - margin) - high)
    if variant.corner:
        # Which corner, then up to a tenth of the canvas away from its edges.
        inset = rng.uniform(0, canvas_size / 10, 2)
        offset = np.where(rng.integers(0, 2, 2) == 1, np.maximum(first, last - inset), np.minimum(last, first + inset))
    elif variant.centre_shift is None:
        offset = rng.uniform(first, last)
    else:
        centred = canvas_size / 2 - (low + high) / 2
        offset = np.clip(centred + rng.uniform(-variant.centre_shift, variant.centre_shift, 2), first, last)
    return DrawnDigit(
        label=label,
        style=style,
        strokes=tuple(tuple((float(x), float(y)) for x, y in stroke + offset) for stroke in shaped),
        brush_width=float(brush),
        canvas_size=canvas_size,
        dark_on_light=variant.dark_on_light,
        paper_seed=int(rng.integers(2**31)),
        scan=variant.scan,
    )


def _draw_sample(rng: np.random.Generator, digit: int, style: str, variant: Variant,
                 canvas_size: int) -> DrawnDigit:
    warp = random_warp(rng)
    strokes = [warp(densify(stroke) - 0.5) for stroke in TEMPLATES[digit][style]]
    return draw_on_canvas(rng, digit, style, strokes, variant, canvas_size)


def _check_variant(variant: str) -> None:
    # A list or other unhashable name would fail the lookup with a TypeError.
    if not (isinstance(variant, str) and variant in VARIANTS):
        raise ConfigError(f"unknown drawn-digit variant {variant!r}; choose one of: {', '.join(VARIANTS)}")


def drawn_digit_set(variant: str, samples_per_digit: int = 30, seed: int = 42,
                    canvas_size: int = DEFAULT_CANVAS_SIZE) -> list[DrawnDigit]:
    """`samples_per_digit` drawings of each digit 0-9 in one variant, cycling through the writing styles."""
    _check_variant(variant)
    # A typo's extra zeros would draw for hours, or fill the memory with one canvas.
    if not (is_whole_number(samples_per_digit) and 1 <= samples_per_digit <= MAX_SAMPLES_PER_DIGIT):
        raise ConfigError(f"samples_per_digit must be a whole number of drawings, at least 1 and at most "
                          f"{MAX_SAMPLES_PER_DIGIT:,}, not {samples_per_digit!r}")
    check_seed(seed)
    # The variants' sizes and pens are in pixels of the pad's canvas: a smaller one would cut drawings off.
    if problem := canvas_size_problem(canvas_size, "canvas_size"):
        raise ConfigError(problem)
    if canvas_size < DEFAULT_CANVAS_SIZE:
        raise ConfigError(f"canvas_size must be at least the pad's {DEFAULT_CANVAS_SIZE} pixels, not {canvas_size}")
    # A variant's own stream: adding a variant or changing one never changes the others.
    rng = np.random.default_rng([seed, zlib.crc32(variant.encode())])
    samples = []
    for digit, styles in TEMPLATES.items():
        names = list(styles)
        for index in range(samples_per_digit):
            samples.append(_draw_sample(rng, digit, names[index % len(names)], VARIANTS[variant], canvas_size))
    return samples


def drawn_digit_sets(samples_per_digit: int = 30, seed: int = 42,
                     variants: Sequence[str] | None = None) -> dict[str, list[DrawnDigit]]:
    """Every variant (`variants` None) or the named ones -> its list of samples."""
    if variants is None:
        names = list(VARIANTS)
    else:
        # A lone name would be read letter by letter, and no names at all would give nothing to score.
        names = list(variants) if isinstance(variants, Iterable) and not isinstance(variants, str) else []
        if not names:
            raise ConfigError(f"variants must be a list of one or more drawn-digit variants (or None for all of "
                              f"them), not {variants!r}; choose from: {', '.join(VARIANTS)}")
    # All names before any set is drawn: a mistake in the last would otherwise show only after the others.
    for name in names:
        _check_variant(name)
    return {name: drawn_digit_set(name, samples_per_digit, seed) for name in names}


def template_strokes(digit: int, style: str | None = None, canvas_size: int = DEFAULT_CANVAS_SIZE,
                     height: float = 0.7) -> list[list[tuple[float, float]]]:
    """A clean, centred drawing of one template in canvas pixels (for demos and tests of the pad)."""
    # 1.0 and True equal a key of TEMPLATES, and a list or other unhashable value cannot be looked up at all.
    if not (is_whole_number(digit) and digit in TEMPLATES):
        raise ConfigError(f"no template for {digit!r}: choose a digit 0-9")
    styles = TEMPLATES[digit]
    if style is not None and not (isinstance(style, str) and style in styles):
        raise ConfigError(f"the {digit} has no template style {style!r}; choose one of: {', '.join(styles)}")
    if problem := canvas_size_problem(canvas_size, "canvas_size"):
        raise ConfigError(problem)
    if not (is_number(height) and 0 < height <= 1):
        raise ConfigError(f"height is the share of the canvas the drawing fills, above 0 and at most 1, not "
                          f"{height!r}")
    strokes = styles[style or next(iter(styles))]
    size = canvas_size * height
    return [[(canvas_size / 2 + (x - 0.5) * size, canvas_size / 2 + (y - 0.5) * size) for x, y in densify(stroke)]
            for stroke in strokes]


@dataclass(frozen=True)
class VariantScore:
    """Accuracy of one model on one variant, with its most frequent mistakes."""

    variant: str
    accuracy: float
    samples: int
    mistakes: dict[str, int]  # "true->predicted (style)" -> count, most frequent first


def score_drawn_digits(predictor, samples: Iterable[DrawnDigit], variant: str,
                       prepare: Callable[[np.ndarray], np.ndarray] | None = None) -> VariantScore:
    """Accuracy of `predictor` (a `predict.Predictor`) on drawn samples, each read as the pad reads it
    (`DrawnDigit.model_input`: strokes as the pad sends them, ink on paper as an upload) or, to compare ways of
    preparing a picture, its picture prepared by `prepare`."""
    samples = _checked_drawings(samples, variant)
    # Anything else would fail as Python's AttributeError, after every drawing was prepared. Any object that reads
    # model inputs will do: the predictors of litert and predict come after this module, which cannot name them.
    if not callable(getattr(predictor, "probabilities", None)):
        raise ConfigError(_not_a_predictor_message(predictor))
    model_inputs = np.stack([sample.model_input() if prepare is None else prepare(sample.image())
                             for sample in samples])
    predicted = answers(predictor.probabilities(model_inputs))
    labels = np.array([sample.label for sample in samples])
    mistakes = Counter(
        f"{sample.label}->{guess} ({sample.style})"
        for sample, guess in zip(samples, predicted) if guess != sample.label
    )
    return VariantScore(variant, float(np.mean(predicted == labels)), len(samples), dict(mistakes.most_common()))


def _checked_drawings(samples, variant: str) -> list[DrawnDigit]:
    if isinstance(samples, Mapping):
        raise ConfigError("samples is one variant's list of drawings, such as sets['standard'] of sets = "
                          "drawn_digit_sets(), not the dict of every variant: score each one, as in `for variant, "
                          "samples in sets.items()`")
    samples = checked_list_of(samples, DrawnDigit, "samples", "drawn_digit_set('standard')")
    if not samples:
        raise ConfigError(f"no drawn samples to score on {variant!r}: an accuracy needs at least one")
    return samples


def _not_a_predictor_message(predictor) -> str:
    given = (f"the model file {str(predictor)!r} itself: load it first" if isinstance(predictor, (str, os.PathLike))
             else f"a {type(predictor).__name__}")
    return (f"score_drawn_digits needs a predictor: pad_predictor() (from numvision_lib.drawing) for the pad's model, "
            f"Predictor.load(path) (from numvision_lib.predict) for a model file, Predictor(model) for a model "
            f"already loaded; not {given}")

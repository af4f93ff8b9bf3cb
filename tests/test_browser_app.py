"""End to end: the app mode. Voilà serves apps/draw.ipynb as a page without code, started as `make app` starts it,
and a student draws on it and uploads photos in real Chromium; the app's kernel never loads TensorFlow.

One Voilà server and one page serve the whole module; every drawing test starts with Clear. On failure a
screenshot, the browser console and the server log are saved in test-artifacts/browser/.

Run it alone with:  .venv/bin/python -m pytest -m browser tests/test_browser_app.py -v
"""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from browser_lab import REPO_ROOT, artifacts_on_failure, launch_chromium
from browser_voila import VoilaPage, mapped_packages, start_voila
# The notebook pad's test draws the same digits, and skips or fails the same way without Chromium.
from test_browser_drawing import DIGIT_STROKES, chromium  # noqa: F401 - chromium is a fixture

pytestmark = pytest.mark.browser

APP = REPO_ROOT / "apps" / "draw.ipynb"
PAD = ".numvision-pad"
DIGIT = f"{PAD} .numvision-result .numvision-digit"
STATUS = f"{PAD} .numvision-result .numvision-status"
UPLOADED_DIGIT = ".numvision-upload-result .numvision-digit"
# Voilà's page cannot wait for the kernel (see browser_voila), so the drawing tests use digits of one stroke:
# each gets exactly one answer, when the mouse button comes up.
ONE_STROKE_DIGITS = sorted(digit for digit, strokes in DIGIT_STROKES.items() if len(strokes) == 1)
# How many times slower than this machine the page runs while it loads (Chromium's CPU throttling): at eight,
# six loads in eight missed the kernel's first answer before the app's pad stopped announcing the wait.
SLOW_BROWSER = 8


@pytest.fixture(scope="module")
def app_server(tmp_path_factory):
    server = start_voila(APP, tmp_path_factory.mktemp("voila"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def app_page(chromium, app_server, tmp_path_factory):  # noqa: F811 - the imported fixture
    """The app open in Chromium, its pad on screen."""
    with sync_playwright() as playwright:
        context = launch_chromium(playwright, tmp_path_factory.mktemp("chromium-profile"))
        try:
            page = context.pages[0] if context.pages else context.new_page()
            app = VoilaPage(page, app_server)
            # Load it as a slow school computer would: such a page used to miss the kernel's first answer and
            # say "Waiting for Python" until the first stroke (see DrawingPad's announce_waiting).
            devtools = context.new_cdp_session(page)
            devtools.send("Emulation.setCPUThrottlingRate", {"rate": SLOW_BROWSER})
            with artifacts_on_failure(app, "app-open"):
                app.open_app(f"{PAD} .numvision-canvas")
                _wait_until_the_kernel_has_painted_the_canvas(app)
            devtools.send("Emulation.setCPUThrottlingRate", {"rate": 1})
            yield app
        finally:
            context.close()


def _canvas_pixels(app: VoilaPage) -> np.ndarray:
    """What the canvas shows on screen, grey levels 0-255."""
    png = app.page.locator(f"{PAD} .numvision-canvas").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"))


def _wait_until_the_kernel_has_painted_the_canvas(app: VoilaPage, timeout: float = 60.0) -> None:
    """The canvas is transparent (white on the page) until the kernel, answering the canvas's first message,
    paints it black: the answer to that message has been sent by then."""
    deadline = time.monotonic() + timeout
    while _canvas_pixels(app).mean() > 10:
        assert time.monotonic() < deadline, "the kernel never painted the app's canvas"
        app.page.wait_for_timeout(250)


def _clear(app: VoilaPage) -> None:
    app.page.locator(f"{PAD} .numvision-clear").click()
    expect(app.page.locator(DIGIT)).to_have_count(0, timeout=15_000)
    expect(app.page.locator(STATUS)).to_have_text("Draw a digit", timeout=15_000)


def test_the_page_shows_the_pad_and_the_upload_panel_but_no_code(app_page):
    page = app_page.page
    with artifacts_on_failure(app_page, "app-page"):
        expect(page.locator(PAD)).to_have_count(1)
        expect(page.locator(".numvision-upload-result")).to_be_visible()
        expect(page.get_by_role("heading", name="Draw a digit")).to_be_visible()
        # Before any action: the page appears once the kernel is free, and a slow page may miss its first answer.
        expect(page.locator(STATUS)).to_have_text("Draw a digit")
        # Voilà keeps the code cell for its outputs, marked as having no input: no prompt, no editor.
        expect(page.locator(".jp-CodeCell")).to_have_count(1)
        expect(page.locator(".jp-CodeCell.jp-mod-noInput")).to_have_count(1)
        expect(page.locator(".jp-CodeCell .jp-InputArea, .jp-InputPrompt, .cm-editor")).to_have_count(0)
        shown = page.locator("body").inner_text()
        assert "import" not in shown and "DrawingPad" not in shown, "the notebook's code is on the page"


@pytest.mark.parametrize("digit", ONE_STROKE_DIGITS)
def test_a_drawn_digit_is_shown(app_page, digit):
    with artifacts_on_failure(app_page, f"app-digit-{digit}"):
        _clear(app_page)
        empty = _canvas_pixels(app_page)
        assert empty.mean() < 10, "the empty pad is not the black square the page describes"
        app_page.draw(app_page.page.locator(f"{PAD} .numvision-canvas"), DIGIT_STROKES[digit])
        shown = app_page.stable_text(app_page.page.locator(DIGIT), settle=1.0)
        assert shown == str(digit), f"drew a {digit}, the app shows {shown!r}"
        ink = np.count_nonzero(_canvas_pixels(app_page) > 200) / empty.size
        assert ink > 0.02, f"the stroke is not on the canvas ({ink:.1%} of it is white)"


def test_an_uploaded_photo_is_read(app_page, tmp_path):
    from numvision_lib.drawn_digits import drawn_digit_set

    photo = tmp_path / "three.png"
    Image.fromarray(drawn_digit_set("dark_on_light", samples_per_digit=1)[3].image()).save(photo)  # a 3 on grey paper
    with artifacts_on_failure(app_page, "app-upload"):
        with app_page.page.expect_file_chooser() as chooser:  # as a student picks a file
            app_page.page.locator(".widget-upload").click()
        chooser.value.set_files(str(photo))
        expect(app_page.page.locator(UPLOADED_DIGIT)).to_have_text("3", timeout=30_000)


def test_a_scan_over_10_mib_reaches_the_kernel_and_is_read(app_page, tmp_path):
    """The upload sends the whole file to the kernel in one websocket message, and Tornado closes the page's
    connection on one over 10 MiB unless `make app` raises the limit: the scan was lost without a word."""
    from numvision_lib.drawn_digits import drawn_digit_set

    # A 5, not the other upload's 3: a lost upload leaves the earlier answer on the page.
    scan = tmp_path / "five.tiff"
    drawing = Image.fromarray(drawn_digit_set("dark_on_light", samples_per_digit=1)[5].image())
    drawing.convert("RGB").resize((2100, 2100)).save(scan)  # uncompressed, as many scanners save: 4.4 megapixels
    assert scan.stat().st_size > 11 * 2**20, "the scan must be over Tornado's default limit to test raising it"
    with artifacts_on_failure(app_page, "app-upload-large"):
        with app_page.page.expect_file_chooser() as chooser:
            app_page.page.locator(".widget-upload").click()
        chooser.value.set_files(str(scan))
        expect(app_page.page.locator(UPLOADED_DIGIT)).to_have_text("5", timeout=30_000)


def test_the_app_kernel_has_not_loaded_tensorflow(app_page, app_server):
    (kernel,) = app_server.kernel_pids()
    assert mapped_packages(kernel) == set(), "the app's kernel imported TensorFlow or Keras"

"""End to end: draw digits with the mouse in 05_draw_a_digit.ipynb, in JupyterLab, in real Chromium.

One JupyterLab server and one browser page serve the whole module: the notebook is opened and
run once (Run ▸ Run All Cells, from the menu), then every test draws on the same pad, starting
with Clear. On failure a screenshot, the browser console and the server log are saved in
test-artifacts/browser/ and the failure message names them.

Run it alone with:  .venv/bin/python -m pytest -m browser tests/test_browser_drawing.py -v
"""

from __future__ import annotations

import math
import os
import shutil

import pytest
from playwright.sync_api import expect, sync_playwright

from browser_lab import CHROMIUM_PATH, REPO_ROOT, LabPage, artifacts_on_failure, launch_chromium, start_lab

pytestmark = pytest.mark.browser

NOTEBOOK = "05_draw_a_digit.ipynb"
DIGIT = ".numvision-result .numvision-digit"
STATUS = ".numvision-result .numvision-status"


def _arc(cx, cy, rx, ry, start_deg, end_deg, points=24):
    """Points on an elliptical arc; angles in degrees, 0 = right, 90 = down (screen coordinates)."""
    return [
        (cx + rx * math.cos(math.radians(angle)), cy + ry * math.sin(math.radians(angle)))
        for angle in (start_deg + (end_deg - start_deg) * i / (points - 1) for i in range(points))
    ]


# Digits as strokes in canvas fractions ((0, 0) top left, (1, 1) bottom right), drawn the way a
# person writes them and about 60% of the canvas tall, like MNIST's upright, narrow digits.
DIGIT_STROKES = {
    0: [_arc(0.5, 0.5, 0.19, 0.3, -100, 270, points=48)],
    1: [[(0.53, 0.2), (0.5, 0.5), (0.47, 0.8)]],
    2: [_arc(0.5, 0.36, 0.19, 0.16, 190, 370, points=20) + [(0.3, 0.8), (0.72, 0.8)]],
    3: [_arc(0.49, 0.35, 0.17, 0.15, 200, 450, points=20) + _arc(0.49, 0.65, 0.19, 0.15, 270, 520, points=22)],
    4: [[(0.36, 0.2), (0.32, 0.56), (0.72, 0.56)], [(0.62, 0.2), (0.62, 0.8)]],
    7: [[(0.3, 0.22), (0.7, 0.22), (0.45, 0.8)]],
}


@pytest.fixture(scope="module")
def chromium():
    """Skip on a developer machine without Chromium; in CI its absence is an error."""
    if not CHROMIUM_PATH.exists():
        message = f"{CHROMIUM_PATH} is missing (Debian: apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; the browser test must run in CI")
        pytest.skip(message)
    return CHROMIUM_PATH


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    """JupyterLab serving a scratch copy of notebooks/, so the run never touches the repository."""
    state_dir = tmp_path_factory.mktemp("jupyter")
    root_dir = state_dir / "notebooks"
    shutil.copytree(REPO_ROOT / "notebooks", root_dir, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    server = start_lab(root_dir, state_dir)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pad_page(chromium, lab_server, tmp_path_factory):
    """The notebook open in Chromium with all cells run and the drawing pad on screen."""
    with sync_playwright() as playwright:
        context = launch_chromium(playwright, tmp_path_factory.mktemp("chromium-profile"))
        try:
            lab = LabPage(context.pages[0] if context.pages else context.new_page(), lab_server)
            with artifacts_on_failure(lab, "notebook-run-all"):
                lab.open_notebook(NOTEBOOK)
                lab.run_all_cells()
                # "attached", not "visible": Run All scrolls to the last cell, and JupyterLab
                # skips laying out cells outside the viewport.
                _pad(lab).locator(".numvision-canvas").wait_for(state="attached", timeout=120_000)
                lab.wait_idle(timeout=180)
                errors = lab.error_outputs()
                assert not errors, f"{NOTEBOOK} raised while running all cells:\n" + "\n\n".join(errors)
            yield lab
        finally:
            context.close()


def _pad(lab: LabPage):
    """The notebook's first drawing pad (later cells may show more widgets with result panels)."""
    return lab.page.locator(".numvision-pad").first


def _draw(lab: LabPage, strokes) -> str:
    """Draw ``strokes`` on the pad and return the digit it settles on."""
    pad = _pad(lab)
    lab.draw(pad.locator(".numvision-canvas"), strokes)
    return lab.stable_text(pad.locator(DIGIT))


def _clear(lab: LabPage) -> None:
    """Press Clear and wait until the pad says it is empty."""
    pad = _pad(lab)
    pad.locator(".numvision-clear").click()
    # Generous timeouts: the kernel answers the click, and the CPU is shared.
    expect(pad.locator(DIGIT)).to_have_count(0, timeout=15_000)
    expect(pad.locator(STATUS)).to_have_text("Draw a digit", timeout=15_000)


@pytest.mark.parametrize("digit", sorted(DIGIT_STROKES))
def test_drawn_digit_is_recognised(pad_page, digit):
    with artifacts_on_failure(pad_page, f"digit-{digit}"):
        _clear(pad_page)
        shown = _draw(pad_page, DIGIT_STROKES[digit])
        assert shown == str(digit), f"drew a {digit}, the pad shows {shown!r}"


def test_clear_empties_the_pad(pad_page):
    with artifacts_on_failure(pad_page, "clear"):
        _clear(pad_page)
        _draw(pad_page, DIGIT_STROKES[1])  # returns only once a digit is shown
        _clear(pad_page)

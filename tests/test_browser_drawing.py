"""End to end: draw digits with the mouse in 05_draw_a_digit.ipynb, in JupyterLab, in real Chromium,
and switch the explain view on and off in 07_inside_the_network.ipynb.

One JupyterLab server and one browser serve the whole module, with one page per notebook: each
notebook is opened and run once (Run ▸ Run All Cells, from the menu), then every test draws on
that notebook's pad, starting with Clear. On failure a screenshot, the browser console and the
server log are saved in test-artifacts/browser/ and the failure message names them.

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
EXPLAIN_NOTEBOOK = "07_inside_the_network.ipynb"
DIGIT = ".numvision-result .numvision-digit"
STATUS = ".numvision-result .numvision-status"
EXPLAINED_DIGIT = ".numvision-explain .numvision-explain-digit"
GRADCAM = ".numvision-explain img.numvision-gradcam"


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
def browser(chromium, tmp_path_factory):
    """One headless Chromium for the module; each notebook gets a page of its own."""
    with sync_playwright() as playwright:
        context = launch_chromium(playwright, tmp_path_factory.mktemp("chromium-profile"))
        try:
            yield context
        finally:
            context.close()


def _run_notebook(context, lab_server, notebook: str) -> LabPage:
    """A page showing `notebook` with all its cells run and its drawing pad on screen."""
    page = context.pages[0] if context.pages and context.pages[0].url == "about:blank" else context.new_page()
    lab = LabPage(page, lab_server)
    with artifacts_on_failure(lab, f"{notebook}-run-all"):
        lab.open_notebook(notebook)
        lab.run_all_cells()
        # "attached", not "visible": Run All scrolls to the last cell, and JupyterLab
        # skips laying out cells outside the viewport.
        _pad(lab).locator(".numvision-canvas").wait_for(state="attached", timeout=120_000)
        lab.wait_idle(timeout=300)
        errors = lab.error_outputs()
        assert not errors, f"{notebook} raised while running all cells:\n" + "\n\n".join(errors)
    return lab


@pytest.fixture(scope="module")
def pad_page(browser, lab_server):
    """Notebook 05 open in Chromium with all cells run and the drawing pad on screen."""
    return _run_notebook(browser, lab_server, NOTEBOOK)


@pytest.fixture(scope="module")
def explain_page(browser, lab_server):
    """Notebook 07 open in Chromium with all cells run: its pad has the explain view attached."""
    return _run_notebook(browser, lab_server, EXPLAIN_NOTEBOOK)


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


def test_explain_view_appears_updates_and_switches_off(explain_page):
    lab = explain_page
    pad = _pad(lab)
    toggle = pad.locator(".numvision-explain-toggle")
    with artifacts_on_failure(lab, "explain-view"):
        _clear(lab)
        assert _draw(lab, DIGIT_STROKES[7]) == "7"
        expect(pad.locator(GRADCAM)).to_have_count(0)  # off: the plain pad, nothing computed

        toggle.click()  # on: the current drawing is explained at once
        expect(pad.locator(EXPLAINED_DIGIT)).to_have_text("7", timeout=15_000)
        expect(pad.locator(GRADCAM)).to_be_visible()
        first_overlay = pad.locator(GRADCAM).get_attribute("src")

        _clear(lab)  # each new answer is explained
        assert _draw(lab, DIGIT_STROKES[4]) == "4"
        expect(pad.locator(EXPLAINED_DIGIT)).to_have_text("4", timeout=15_000)
        assert pad.locator(GRADCAM).get_attribute("src") != first_overlay

        toggle.click()  # off again: the plain panel, and the pad keeps answering
        expect(pad.locator(GRADCAM)).to_have_count(0, timeout=15_000)
        expect(pad.locator(EXPLAINED_DIGIT)).to_have_count(0)
        _clear(lab)
        assert _draw(lab, DIGIT_STROKES[1]) == "1"
        expect(pad.locator(GRADCAM)).to_have_count(0)

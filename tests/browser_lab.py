"""A real JupyterLab or Jupyter Notebook 7 in headless Chromium, for end-to-end widget tests.

The recipe (see ../shared/DESIGN.md, "Real-browser testing"): the Jupyter server on 127.0.0.1 with a
random token and fresh Jupyter/IPython state directories, in its own process group so it can be
stopped as a whole; Debian's /usr/bin/chromium driven by the PyPI ``playwright`` package. Both front
ends are built from the same JupyterLab components (menu bar, notebook panel, ``window.jupyterapp``),
so one page class drives either; ``FRONT_ENDS`` holds what differs.

Everything here is plain functions and small classes without pytest, so the harness can also be
driven from a scratch script when a test needs debugging.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Locator, Page, Playwright

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts" / "browser"

CHROMIUM_PATH = Path("/usr/bin/chromium")
# Flags that keep Chromium quiet and deterministic in a container: no sandbox (we run as root),
# no GPU, and no background traffic to Google services that could stall or slow page loads.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

# Lab extensions whose pop-ups (news announcements) could cover the notebook in a fresh profile.
DISABLED_LAB_PLUGINS = ("@jupyterlab/apputils-extension:announcements",)

Point = tuple[float, float]


@dataclass(frozen=True)
class FrontEnd:
    """How to start one Jupyter front end and where it shows a notebook."""

    name: str
    module: str  # python -m MODULE starts it
    app_class: str  # its configurable application class, for command-line options
    notebook_route: str  # URL path of a notebook, with {} for its name

    def notebook_path(self, name: str) -> str:
        return self.notebook_route.format(name)


FRONT_ENDS = {
    "lab": FrontEnd("JupyterLab", "jupyterlab", "LabApp", "lab/tree/{}"),
    "notebook": FrontEnd("Notebook 7", "notebook", "JupyterNotebookApp", "notebooks/{}"),
}

# The current notebook's kernel connection (needs LabApp.expose_app_in_browser).
_KERNEL_JS = "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"

# Scrolls the element to the middle of the viewport, waits two animation frames (one full
# layout and paint), and returns its box and whether a click at its centre would reach it.
_SCROLL_TO_MIDDLE_JS = """async (element) => {
    element.scrollIntoView({block: 'center', inline: 'center'});
    await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
    const box = element.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    const inside = box.top >= 0 && box.left >= 0
        && box.bottom <= window.innerHeight && box.right <= window.innerWidth;
    return {x: box.left, y: box.top, width: box.width, height: box.height,
            hittable: inside && hit !== null && (hit === element || element.contains(hit))};
}"""

# True when the current notebook's kernel is connected and idle, with no cell queued or running
# ("[*]"). Both matter: between two cells of a Run All the kernel is briefly idle.
_NOTEBOOK_IDLE_JS = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = panel && panel.sessionContext && panel.sessionContext.session
        && panel.sessionContext.session.kernel;
    if (!kernel || kernel.connectionStatus !== 'connected' || kernel.status !== 'idle') {
        return false;
    }
    return ![...panel.node.querySelectorAll('.jp-InputPrompt')]
        .some(prompt => prompt.textContent.includes('*'));
}"""


class LabError(RuntimeError):
    """The JupyterLab server or the page did not reach the expected state."""


def free_port() -> int:
    """A TCP port that is free right now on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LabServer:
    """A running ``jupyter lab`` or ``jupyter notebook`` process (leader of its own process group)."""

    process: subprocess.Popen
    port: int
    token: str
    root_dir: Path
    log_path: Path
    front_end: FrontEnd

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def url(self, path: str) -> str:
        """Browser URL of ``path`` (relative to the server root) carrying the token."""
        return f"{self.base_url}{path.lstrip('/')}?token={self.token}"

    def api(self, path: str, method: str = "GET", timeout: float = 5.0, parse: bool = True) -> dict | list | None:
        """Call the REST API with the token; returns the decoded JSON body (None when empty or not ``parse``)."""
        request = urllib.request.Request(
            self.base_url + path.lstrip("/"),
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body and parse else None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server and everything in its process group; idempotent.

        A clean /api/shutdown first, because it also shuts the kernels down: jupyter_client
        starts kernels in their own sessions, so killing our process group would not reach them.
        """
        if self.process.poll() is None:
            try:
                self.api("api/shutdown", method="POST")
            except (OSError, urllib.error.URLError):
                pass  # already dying or unreachable: fall through to signals
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        # Then make sure nothing of the group survives (a hung server, or its helpers).
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break  # the whole group is gone
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                continue


def isolated_environment(state_dir: Path) -> dict[str, str]:
    """This process's environment with fresh Jupyter/IPython state directories under ``state_dir``
    and the repository first on PYTHONPATH, so kernels import this working tree's ``numvision_lib``.
    Without JupyterHub's variables: run on a hub, the test servers are still plain servers, and the save
    panel asks for a name as it does off a hub."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("JUPYTERHUB_")}
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR"):
        directory = state_dir / name.lower()
        directory.mkdir(parents=True, exist_ok=True)
        env[name] = str(directory)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def start_lab(root_dir: Path, state_dir: Path, startup_timeout: float = 90.0,
              front_end: FrontEnd = FRONT_ENDS["lab"]) -> LabServer:
    """Start ``front_end`` (JupyterLab unless told) serving ``root_dir``; Jupyter/IPython state lives in ``state_dir``.

    The lab extensions (ipywidgets, ipycanvas) are still found, because JupyterLab looks in
    ``<sys.prefix>/share/jupyter/labextensions`` whatever JUPYTER_DATA_DIR says.
    """
    env = isolated_environment(state_dir)
    _write_page_config(Path(env["JUPYTER_CONFIG_DIR"]))

    port = free_port()
    token = secrets.token_hex(24)
    command = [
        sys.executable, "-m", front_end.module,
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",  # fail loudly instead of silently moving to another port
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        "--allow-root",
        # window.jupyterapp lets the page tell a connected, idle kernel from the toolbar's
        # placeholder "idle" shown before any kernel exists (JupyterLab's own Galata tests do this).
        f"--{front_end.app_class}.expose_app_in_browser=True",
    ]
    log_path = state_dir / f"jupyter-{front_end.module}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, env=env, cwd=root_dir, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
    server = LabServer(process, port, token, Path(root_dir), log_path, front_end)
    try:
        wait_until_up(server, startup_timeout, name=front_end.module)
    except BaseException:
        server.stop()
        raise
    return server


def _write_page_config(config_dir: Path) -> None:
    page_config = config_dir / "labconfig" / "page_config.json"
    page_config.parent.mkdir(parents=True, exist_ok=True)
    disabled = {plugin: True for plugin in DISABLED_LAB_PLUGINS}
    page_config.write_text(json.dumps({"disabledExtensions": disabled}))


def wait_until_up(
    server: LabServer, timeout: float, path: str = "api/status", name: str = "jupyter lab"
) -> None:
    """Wait until ``path`` answers; a server that exits meanwhile or stays silent is a LabError with its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise LabError(
                f"{name} exited with code {server.process.returncode} while starting; "
                f"log {server.log_path}:\n{server.log_tail()}"
            )
        try:
            server.api(path, timeout=2, parse=False)
            return
        except (OSError, urllib.error.URLError):
            time.sleep(0.25)
    raise LabError(
        f"{name} did not answer /{path} within {timeout:.0f} s; "
        f"log {server.log_path}:\n{server.log_tail()}"
    )


def launch_chromium(playwright: Playwright, user_data_dir: Path, viewport=(1280, 1000)) -> BrowserContext:
    """A headless Chromium browser context with a fresh profile in ``user_data_dir``.

    A persistent context is Playwright's only way to pass a user-data dir (``--user-data-dir``
    in ``args`` is refused by ``launch``).
    """
    return playwright.chromium.launch_persistent_context(
        str(user_data_dir),
        executable_path=str(CHROMIUM_PATH),
        headless=True,
        args=list(CHROMIUM_ARGS),
        viewport={"width": viewport[0], "height": viewport[1]},
    )


@dataclass
class LabPage:
    """One browser tab showing JupyterLab or Notebook 7, with the few actions the tests need."""

    page: Page
    server: LabServer
    console: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Kept for the failure artifacts: widget errors only show up in the browser console.
        self.page.on("console", lambda message: self.console.append(f"[{message.type}] {message.text}"))
        self.page.on("pageerror", lambda error: self.console.append(f"[pageerror] {error}"))

    def open_notebook(self, name: str, timeout: float = 60.0) -> None:
        """Open ``name`` (relative to the server root) and wait for its kernel to be idle."""
        self.page.goto(self.server.url(self.server.front_end.notebook_path(name)))
        self.page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(timeout=timeout * 1000)
        self.wait_idle(timeout)

    def save_and_reload(self, timeout: float = 60.0) -> None:
        """Save the notebook (as a student's autosave would; otherwise the page asks whether to leave
        and the reloaded notebook has no outputs), reload the page and wait for its kernel, which is
        the same live kernel as before."""
        self.page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        self.page.wait_for_function(
            "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=timeout * 1000)
        self.page.reload()
        self.page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(timeout=timeout * 1000)
        self.wait_idle(timeout)

    def busy(self) -> bool:
        """True while the kernel runs a cell or one is queued (the opposite of `wait_idle`'s condition)."""
        return not self.page.evaluate(_NOTEBOOK_IDLE_JS)

    def run_cell(self, containing: str) -> None:
        """Run the first code cell whose source contains ``containing``, with Shift+Enter."""
        cell = self.page.locator(".jp-CodeCell", has=self.page.locator(".jp-InputArea", has_text=containing)).first
        editor = cell.locator(".jp-InputArea-editor")
        self.settled_box(editor)
        editor.click()
        self.page.keyboard.press("Shift+Enter")

    def canvas_pixels(self, canvas: Locator):
        """The pixels the page shows in ``canvas`` (a <canvas> element) as an (H, W, 4) uint8 array."""
        import numpy as np
        from PIL import Image

        data_url = canvas.evaluate("element => element.toDataURL('image/png')")
        png = base64.b64decode(data_url.split(",", 1)[1])
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Wait until the notebook's kernel is connected and idle and no cell is queued.

        After Run All, call it only once something proves the run has started (for example a
        cell's output appeared): just after the click, nothing may be queued yet.
        """
        self.page.wait_for_function(_NOTEBOOK_IDLE_JS, timeout=timeout * 1000, polling=100)

    def sync_with_kernel(self, timeout: float = 30.0) -> None:
        """Return once the kernel has handled every message the page sent before this call.

        A silent, empty execute request queues behind the widget messages (mouse events) on the
        kernel's shell channel, and its idle status comes after their replies (widget updates)
        on iopub, so when it is done the page has received every resulting update.
        """
        # page.evaluate has no timeout of its own, so the promise sets a flag that we wait for.
        self.page.evaluate(
            f"""() => {{
                window.__numvisionSynced = false;
                {_KERNEL_JS}.requestExecute({{code: '', silent: true, store_history: false}})
                    .done.then(() => {{ window.__numvisionSynced = true; }});
            }}"""
        )
        self.page.wait_for_function("() => window.__numvisionSynced", timeout=timeout * 1000, polling=50)

    def run_all_cells(self) -> None:
        """Run ▸ Run All Cells, through the menu bar as a user would. Returns once clicked."""
        self.page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-item", has_text=re.compile(r"^Run All Cells")).click()

    def error_outputs(self) -> list[str]:
        """Texts of the tracebacks shown in the notebook.

        JupyterLab renders errors like stderr; the "Traceback" header tells them apart from the
        warnings TensorFlow prints to stderr.
        """
        texts = self.page.locator(
            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
        ).all_text_contents()
        return [text for text in texts if "Traceback" in text]

    def draw(self, canvas: Locator, strokes: Sequence[Sequence[Point]], step_px: float = 6.0) -> None:
        """Draw ``strokes`` on ``canvas`` with real mouse events.

        Points are fractions of the canvas bounding box ((0, 0) top left, (1, 1) bottom right);
        each segment is walked in steps of about ``step_px`` CSS pixels, like a hand would.
        """
        box = self.settled_box(canvas)
        mouse = self.page.mouse

        def to_page(point: Point) -> Point:
            return box["x"] + point[0] * box["width"], box["y"] + point[1] * box["height"]

        for stroke in strokes:
            points = [to_page(point) for point in stroke]
            mouse.move(*points[0])
            mouse.down()
            for start, end in zip(points, points[1:]):
                steps = max(1, round(((end[0] - start[0]) ** 2 + (end[1] - start[1]) ** 2) ** 0.5 / step_px))
                mouse.move(*end, steps=steps)
            mouse.up()
        if canvas.bounding_box() != box:
            raise LabError(f"the canvas moved while drawing (from {box} to {canvas.bounding_box()})")

    def settled_box(self, element: Locator, timeout: float = 10.0) -> dict:
        """Scroll ``element`` to the middle of the viewport and return its bounding box once
        the layout has stopped moving and the element is what the mouse would hit there.

        JupyterLab skips laying out cells outside the viewport (CSS content-visibility), so
        right after a scroll the cells above get their real heights and push the element
        around: a box measured at once can be thousands of pixels off.
        """
        deadline = time.monotonic() + timeout
        previous = None
        while time.monotonic() < deadline:
            box = element.evaluate(_SCROLL_TO_MIDDLE_JS)
            hittable = box.pop("hittable")
            if hittable and box == previous:
                return box
            previous = box
        raise LabError(f"{element} did not come to rest in the viewport within {timeout:.0f} s (last box {previous})")

    def stable_text(self, locator: Locator, settle: float = 0.5, timeout: float = 20.0) -> str:
        """Text of ``locator`` once the kernel has handled everything sent so far and the text
        has then not changed for ``settle`` seconds (the widget manager renders updates
        asynchronously, and a multi-stroke digit shows intermediate answers)."""
        self.sync_with_kernel(timeout)
        deadline = time.monotonic() + timeout
        last_text, last_change = None, time.monotonic()
        while time.monotonic() < deadline:
            text = locator.first.text_content() if locator.count() else None
            if text != last_text:
                last_text, last_change = text, time.monotonic()
            elif text is not None and time.monotonic() - last_change >= settle:
                return text.strip()
            self.page.wait_for_timeout(100)
        raise LabError(f"{locator} did not settle within {timeout:.0f} s (last text: {last_text!r})")

    def screenshot(self, element: Locator, name: str, directory: Path = ARTIFACTS_DIR) -> Path:
        """Save a screenshot of ``element`` (scrolled into view) as ``directory/name.png``."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name) + ".png")
        self.settled_box(element)
        element.screenshot(path=str(path))
        return path

    def save_artifacts(self, name: str, directory: Path = ARTIFACTS_DIR) -> list[Path]:
        """Save a full-page screenshot, the browser console and the server log's tail."""
        directory.mkdir(parents=True, exist_ok=True)
        stem = directory / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        screenshot = stem.with_name(stem.name + ".png")
        try:
            self.page.screenshot(path=str(screenshot), full_page=True)
        except Exception as error:  # a dead page must not hide the original failure
            screenshot = stem.with_name(stem.name + ".screenshot-error.txt")
            screenshot.write_text(repr(error))
        console_log = stem.with_name(stem.name + ".console.log")
        console_log.write_text("\n".join(self.console) + "\n")
        server_log = stem.with_name(stem.name + ".server.log")
        server_log.write_text(self.server.log_tail(200) + "\n")
        return [screenshot, console_log, server_log]


@contextmanager
def artifacts_on_failure(lab: LabPage, name: str, directory: Path = ARTIFACTS_DIR):
    """On any error inside the block, save ``lab``'s artifacts as ``name`` and fail with a
    message that says where they are."""
    try:
        yield
    except Exception as error:
        saved = "\n  ".join(str(path) for path in lab.save_artifacts(name, directory))
        raise AssertionError(f"{error}\nBrowser artifacts saved:\n  {saved}") from error

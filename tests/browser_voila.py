"""Voilà (the app mode, apps/draw.ipynb) in headless Chromium: the server, the page, and the app's kernel.

The same recipe as ``browser_lab`` (fresh Jupyter state directories, a random token, 127.0.0.1, a process
group of its own, Debian's Chromium through Playwright), with what Voilà does differently:

- it serves one notebook as a page: its outputs only, never its code;
- its page may not run code in the kernel (Voilà drops execute requests from the browser), so there is no
  kernel round trip to wait for: ``stable_text`` waits for the answer to stop changing, and the tests draw
  one-stroke digits, which get exactly one answer;
- on SIGTERM it shuts its kernels down itself; they run in sessions of their own, which a signal to its
  process group would not reach.
"""

from __future__ import annotations

import re
import secrets
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from browser_lab import REPO_ROOT, FrontEnd, LabPage, LabServer, free_port, isolated_environment, wait_until_up

# A file Voilà serves without a token once it listens: a request for the page itself would start a kernel.
STATIC_PROBE = "voila/static/voila.js"
# Where packages live: a kernel that has mapped a file from one of these folders has imported it.
HEAVY_PACKAGES = ("tensorflow", "keras")


@dataclass
class VoilaServer(LabServer):
    """A running ``voila`` process serving one notebook at its root URL."""

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        super().stop(timeout)  # whatever is left of the process group

    def kernel_pids(self) -> list[int]:
        """The kernels Voilà has started (its child processes running ipykernel)."""
        import psutil

        return [child.pid for child in psutil.Process(self.process.pid).children(recursive=True)
                if "ipykernel" in " ".join(child.cmdline())]


# Voilà serves one notebook as a page, at its root.
VOILA = FrontEnd("Voilà", "voila", "Voila", "")


def make_app_options() -> list[str]:
    """The options ``make app`` gives Voilà, read from the Makefile's ``app`` recipe with its variables filled in
    as Make fills them and its words split as the shell splits them; all but the port, which a test picks."""
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    variables = dict(re.findall(r"^(\w+) *[:?]?= *(.*)$", makefile, re.MULTILINE))
    recipe = re.search(r"^app:.*\n\t(.+)$", makefile, re.MULTILINE)[1]
    command = shlex.split(re.sub(r"\$\((\w+)\)", lambda reference: variables[reference[1]], recipe))
    return [word for word in command if word.startswith("--") and not word.startswith("--port=")]


def start_voila(notebook: Path, state_dir: Path, startup_timeout: float = 60.0) -> VoilaServer:
    """Start Voilà serving ``notebook`` as a page with ``make app``'s options (its tracebacks on the page and in the
    artifacts, its websocket settings); Jupyter/IPython state lives in ``state_dir``."""
    port = free_port()
    token = secrets.token_hex(24)
    command = [
        sys.executable, "-m", "voila", str(notebook),
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        f"--port={port}",
        "--Voila.port_retries=0",  # fail loudly instead of silently moving to another port
        f"--token={token}",
        *make_app_options(),
    ]
    log_path = state_dir / "voila.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, env=isolated_environment(state_dir), cwd=notebook.parent, stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    server = VoilaServer(process, port, token, notebook.parent, log_path, VOILA)
    try:
        wait_until_up(server, startup_timeout, path=STATIC_PROBE, name="voila")
    except BaseException:
        server.stop()
        raise
    return server


def mapped_packages(pid: int, packages=HEAVY_PACKAGES) -> set[str]:
    """Which of ``packages`` the process has loaded files from (its memory map names every such file)."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return {package for package in packages if f"/site-packages/{package}/" in maps}


class VoilaPage(LabPage):
    """A browser tab showing the app: LabPage's drawing and waiting, without a kernel to execute code in."""

    def open_app(self, ready_selector: str, timeout: float = 120.0) -> None:
        """Open the app page and wait until ``ready_selector`` (a widget the notebook shows) is visible."""
        self.page.goto(self.server.url(""))
        self.page.locator(ready_selector).first.wait_for(state="visible", timeout=timeout * 1000)

    def sync_with_kernel(self, timeout: float = 30.0) -> None:
        """Nothing to do: Voilà drops execute requests from the page, so there is no round trip to wait for
        (see the module docstring); ``stable_text`` then relies on its settle time alone."""

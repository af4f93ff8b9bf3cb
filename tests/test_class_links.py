"""tools/class_links.py: the Binder badge and the nbgitpuller links a teacher hands out."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(path.stem for path in (PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_links_open_each_notebook_from_the_students_own_clone():
    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "tools" / "class_links.py"),
                             "https://github.com/school/numvision.git", "--hub", "https://hub.example.org/"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1] == ("[![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/school/numvision/"
                        "HEAD?urlpath=lab%2Ftree%2Fnotebooks%2F01_data_exploration.ipynb)")
    links = dict(line.split(": ", 1) for line in lines if line.startswith(tuple(NOTEBOOKS)))
    assert sorted(links) == NOTEBOOKS
    for name, link in links.items():
        parsed = urlparse(link)
        assert (parsed.scheme, parsed.netloc, parsed.path) == ("https", "hub.example.org", "/hub/user-redirect/git-pull")
        query = parse_qs(parsed.query)
        assert query == {"repo": ["https://github.com/school/numvision.git"], "branch": ["main"],
                         "urlpath": [f"lab/tree/numvision/notebooks/{name}.ipynb"]}


def test_binder_needs_a_github_repository_and_the_hub_links_do_not():
    command = [sys.executable, str(PROJECT_ROOT / "tools" / "class_links.py"), "https://git.school.example/t/numvision"]
    alone = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert alone.returncode != 0 and "only GitHub repositories" in alone.stderr
    with_hub = subprocess.run([*command, "--hub", "https://hub.example.org", "--branch", "term2"],
                              capture_output=True, text=True, timeout=60)
    assert with_hub.returncode == 0 and with_hub.stdout.startswith("No Binder badge"), with_hub.stderr
    links = [line for line in with_hub.stdout.splitlines() if line.startswith(tuple(NOTEBOOKS))]
    assert len(links) == len(NOTEBOOKS)
    assert parse_qs(urlparse(links[0].split(": ", 1)[1]).query)["branch"] == ["term2"]


def test_the_branch_reaches_the_binder_badge_too():
    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "tools" / "class_links.py"),
                             "https://github.com/school/numvision", "--branch", "term2"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "mybinder.org/v2/gh/school/numvision/term2?" in result.stdout

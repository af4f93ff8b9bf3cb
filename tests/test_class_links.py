"""tools/class_links.py: the Binder badge and the nbgitpuller links a teacher hands out."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from project_scripts import load_script

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
        # Without targetpath nbgitpuller clones into `numvision.git/` (the address's last part, as it is), and the
        # notebook the link opens would not exist.
        assert query == {"repo": ["https://github.com/school/numvision.git"], "branch": ["main"],
                         "targetpath": ["numvision"], "urlpath": [f"lab/tree/numvision/notebooks/{name}.ipynb"]}
    assert lines[-1].startswith("They clone into numvision/ in the student's home")


def test_the_guides_example_link_and_pythonpaths_name_the_folder_the_links_clone_into():
    guide = (PROJECT_ROOT / "docs" / "teachers_guide.md").read_text(encoding="utf-8")
    example = next(line for line in guide.splitlines() if line.startswith("https://HUB/hub/user-redirect/git-pull?"))
    made = load_script("tools/class_links.py").nbgitpuller_url(
        "https://HUB", "https://github.com/OWNER/numvision.git", "notebooks/01_data_exploration.ipynb")
    in_guide, from_tool = parse_qs(urlparse(example).query), parse_qs(urlparse(made).query)
    assert in_guide["targetpath"] == from_tool["targetpath"] == ["numvision"]
    assert in_guide["urlpath"] == from_tool["urlpath"]
    pythonpaths = re.findall(r'PYTHONPATH"?: (.+)', guide)  # the TLJH config and the z2jh Helm values
    assert len(pythonpaths) == 2 and all(path.rstrip('",').endswith("/numvision") for path in pythonpaths), pythonpaths


@pytest.mark.parametrize("arguments, message", [
    (["github.com/school/numvision"], "is not a repository's web address: expected one with https://"),
    (["git@github.com:school/numvision.git"], "is not a repository's web address"),
    (["https://github.com/school/numvision/tree/main"], "expected https://github.com/OWNER/REPO (nothing after"),
    (["https://github.com/school"], "is not a GitHub repository's address"),
    (["https://git.school.example", "--hub", "https://hub.example.org"], "names no repository"),
    (["not a url", "--hub", "x y"], "'not a url' is not a repository's web address"),
    (["https://github.com/school/numvision", "--hub", "hub.school.example"],
     "--hub 'hub.school.example' is not a web address: expected the hub's address with https://"),
    (["https://github.com/school/numvision", "--hub", "https://hub.school.example/hub/"],
     "without /hub/ or /user/"),
    (["https://github.com/school/numvision", "--hub", "https://hub.school.example/user/ada/lab"],
     "without /hub/ or /user/"),
    (["https://teacher:ghp_secret@git.school.example/t/numvision.git", "--hub", "https://hub.school.example"],
     "the address holds a login (user name or token before the @), which every student's link would show: give it "
     "without, https://git.school.example/t/numvision.git,"),
])
def test_addresses_that_would_make_dead_links_are_refused_with_the_expected_form(arguments, message, capsys):
    with pytest.raises(SystemExit) as refused:
        load_script("tools/class_links.py").main(arguments)
    assert refused.value.code == 2
    assert message in capsys.readouterr().err


def test_www_and_capitals_are_github_and_a_hub_under_a_base_url_keeps_it(capsys):
    links = load_script("tools/class_links.py")
    assert links.main(["https://www.GitHub.com/school/numvision/", "--hub", "https://school.example/jupyter/"]) == 0
    printed = capsys.readouterr().out
    assert "mybinder.org/v2/gh/school/numvision/HEAD?" in printed
    assert "01_data_exploration: https://school.example/jupyter/hub/user-redirect/git-pull?" in printed


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

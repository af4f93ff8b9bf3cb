"""Handing the series out: environment.yml (conda, Binder's repo2docker) says what pyproject.toml says, and every
pip requirement in it resolves in a fresh virtual environment from the package registry. The set-up scripts stop
or skip as they say: .ci/run without ../shared, the Makefile's Chromium step without apt-get (both run here with
stand-ins for make, apt-get and sudo on PATH, so nothing is installed and no test suite starts).

conda-forge itself cannot be reached from CI, so the conda half is checked against pyproject.toml only.
"""
from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from browser_voila import make_app_options

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROJECT_NAME = "numvision_lib"
EXTRAS = ("lab", "app", "test")
# The project itself, installed with its extras; a path starting with "." is what repo2docker treats as local and
# copies the repository for before it builds the environment (repo2docker's is_local_pip_requirement).
SELF_REQUIREMENT = f"-e .[{','.join(EXTRAS)}]"


@pytest.fixture(scope="module")
def environment() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def conda_and_pip(environment: dict) -> tuple[list[str], list[str]]:
    conda = [entry for entry in environment["dependencies"] if isinstance(entry, str)]
    (pip_section,) = [entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict)]
    return conda, pip_section


def conda_requirement(spec: str) -> Requirement:
    """A conda match spec written like a pip requirement ("numpy>=1.26"; "python=3.11" means 3.11.*)."""
    prefix_pin = re.fullmatch(r"([A-Za-z0-9_.-]+)=([0-9][0-9.]*)", spec)  # conda's single "=" pins a prefix
    if prefix_pin:
        return Requirement(f"{prefix_pin[1]}=={prefix_pin[2]}.*")
    return Requirement(spec)


def project_requirements(pyproject: dict) -> dict[str, Requirement]:
    requirements = list(pyproject["project"]["dependencies"])
    for extra in EXTRAS:
        requirements += pyproject["project"]["optional-dependencies"][extra]
    by_name = {}
    for text in requirements:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name not in by_name or by_name[name] == requirement, f"{name} is required twice, differently"
        by_name[name] = requirement
    return by_name


def test_environment_yml_has_the_structure_conda_and_repo2docker_read(environment, pyproject):
    assert set(environment) == {"name", "channels", "dependencies"}
    assert environment["name"] == "numvision" and environment["channels"] == ["conda-forge"]
    conda, pip = conda_and_pip(environment)
    assert "pip" in conda, "conda must install pip for the pip section"
    (python,) = [conda_requirement(spec) for spec in conda if spec.startswith("python")]
    requires_python = SpecifierSet(pyproject["project"]["requires-python"])
    version = str(python.specifier).removeprefix("==").removesuffix(".*")
    assert requires_python.contains(version), f"environment.yml's Python {version} vs requires-python {requires_python}"
    assert pip[-1] == SELF_REQUIREMENT, "the project itself is installed last, with its extras"
    assert all(isinstance(line, str) and line.strip() for line in pip)


def test_environment_yml_lists_the_same_packages_and_versions_as_pyproject(environment, pyproject):
    conda, pip = conda_and_pip(environment)
    listed = {}
    for requirement in [conda_requirement(spec) for spec in conda if spec not in ("pip",) and
                        not spec.startswith("python")] + [Requirement(line) for line in pip if line != SELF_REQUIREMENT]:
        name = canonicalize_name(requirement.name)
        assert name not in listed, f"{name} is listed twice in environment.yml"
        listed[name] = requirement
    expected = project_requirements(pyproject)
    assert sorted(listed) == sorted(expected), (
        f"only in environment.yml: {sorted(set(listed) - set(expected))}; "
        f"only in pyproject.toml: {sorted(set(expected) - set(listed))}")
    for name, requirement in expected.items():
        assert listed[name].specifier == requirement.specifier, f"{name}: {listed[name]} vs {requirement}"
        assert listed[name].marker == requirement.marker, f"{name}: platform markers differ"


def test_every_pip_requirement_resolves_in_a_fresh_virtual_environment(environment, tmp_path):
    """`pip install --dry-run` in a new venv: downloads metadata and resolves every version, installs nothing."""
    _, pip = conda_and_pip(environment)
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True, timeout=300)
    report = tmp_path / "report.json"
    result = subprocess.run(
        [str(tmp_path / "venv" / "bin" / "python"), "-m", "pip", "install", "--dry-run", "--quiet",
         "--report", str(report), *[argument for line in pip
                                    for argument in (line.split(None, 1) if line.startswith("-") else [line])]],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    resolved = {canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"]
                for item in json.loads(report.read_text())["install"]}
    for line in pip:
        if line == SELF_REQUIREMENT:
            assert canonicalize_name(PROJECT_NAME) in resolved
            continue
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate():
            name = canonicalize_name(requirement.name)
            assert name in resolved and requirement.specifier.contains(resolved[name], prereleases=True), (
                f"{line}: resolved {resolved.get(name)}")


def _stand_ins(bin_dir: Path, log: Path, root: bool, with_make: bool) -> dict:
    """A PATH of stand-ins that log their calls: id (root or not), sudo, apt-get (whose "install make" provides a
    make) and, with `with_make`, make; and dirname, the one real program .ci/run needs."""
    bin_dir.mkdir()
    make = f'#!/bin/sh\necho "make $* data=$NUMVISION_DATA_DIR unipen=$NUMVISION_HANDWRITING_DIR ci=$CI" >> {log}\n'
    scripts = {
        "id": f"#!/bin/sh\necho {0 if root else 1000}\n",
        "sudo": f'#!/bin/sh\necho "sudo $*" >> {log}\nexec "$@"\n',
        "apt-get": (f'#!/bin/sh\necho "apt-get $*" >> {log}\n'
                    f'case "$*" in *"install"*" make") /bin/cp {bin_dir / "make.provided"} {bin_dir / "make"};; esac\n'),
        "make.provided": make,
        **({"make": make} if with_make else {}),
    }
    for name, text in scripts.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    (bin_dir / "dirname").symlink_to(shutil.which("dirname"))
    return {"PATH": str(bin_dir), "HOME": str(bin_dir)}


def _run_ci(tmp_path: Path, shared: tuple[str, ...], root: bool = True, with_make: bool = True):
    """.ci/run, copied into a clone of its own with `shared` folders beside it."""
    (tmp_path / "clone" / ".ci").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / ".ci" / "run", tmp_path / "clone" / ".ci" / "run")
    for folder in shared:
        (tmp_path / "shared" / "data" / folder).mkdir(parents=True)
    log = tmp_path / "calls.log"
    log.touch()
    environment = _stand_ins(tmp_path / "bin", log, root, with_make)
    result = subprocess.run([shutil.which("bash"), str(tmp_path / "clone" / ".ci" / "run")], env=environment,
                            capture_output=True, text=True, timeout=60)
    return result, log.read_text().splitlines()


@pytest.mark.parametrize("shared, missing", [((), "mnist"), (("mnist",), "unipen"), (("unipen",), "mnist")])
def test_ci_stops_at_once_without_the_shared_data(tmp_path, shared, missing):
    result, calls = _run_ci(tmp_path, shared)
    assert result.returncode == 1 and calls == [], "no `make test` with empty data folders (they fall back to Keras)"
    assert f"../shared/data/{missing} is missing: CI needs ../shared beside the clone" in result.stderr


def test_ci_runs_make_test_with_the_shared_data_and_installs_make_with_sudo_when_not_root(tmp_path):
    result, calls = _run_ci(tmp_path, ("mnist", "unipen"), root=False, with_make=False)
    assert result.returncode == 0, result.stderr
    shared = (tmp_path / "shared" / "data").resolve()
    assert calls == ["sudo apt-get update -qq", "apt-get update -qq", "sudo apt-get install -y -qq make",
                     "apt-get install -y -qq make",
                     f"make test data={shared / 'mnist'} unipen={shared / 'unipen'} ci=1"]


@pytest.mark.parametrize("ci, status, message", [
    ("", 0, "Chromium not found, and no apt-get to install it: the real-browser tests will be skipped"),
    ("1", 2, "Chromium not found, and no apt-get to install it: CI must run the real-browser tests"),
])
def test_make_skips_the_chromium_install_without_apt_get_except_in_ci(tmp_path, ci, status, message):
    log = tmp_path / "calls.log"
    environment = {**_stand_ins(tmp_path / "bin", log, root=True, with_make=False), **({"CI": ci} if ci else {})}
    (tmp_path / "bin" / "apt-get").unlink()
    result = subprocess.run([shutil.which("make"), "-s", "-C", str(PROJECT_ROOT), "browser"], env=environment,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == status, result.stderr
    assert message in result.stdout + result.stderr
    assert not log.exists()


def test_ci_installs_chromium_where_apt_get_is(tmp_path):
    log = tmp_path / "calls.log"
    environment = {**_stand_ins(tmp_path / "bin", log, root=True, with_make=False), "CI": "1"}
    result = subprocess.run([shutil.which("make"), "-s", "-C", str(PROJECT_ROOT), "browser"], env=environment,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert log.read_text().splitlines() == ["apt-get update -qq", "apt-get install -y -qq chromium"]


def test_the_readmes_app_command_without_make_gives_voila_the_options_make_app_gives():
    """Without --show_tracebacks Voilà shows a generic error instead of the library's one-line message; without the
    Makefile's tornado_settings a photo over 10 MiB cuts the page's connection to its kernel, and the upload is lost."""
    options = make_app_options()
    assert "--show_tracebacks=True" in options, options
    assert any(option.startswith("--Voila.tornado_settings=") for option in options), options
    commands = re.findall(r"`(voila [^`]+)`", (PROJECT_ROOT / "README.md").read_text(encoding="utf-8"))
    assert commands and all(set(options) <= set(shlex.split(command)) for command in commands), (options, commands)


def _old_python(path: Path) -> Path:
    """A stand-in for Python 3.10, as far as a -c command can tell: this interpreter with its version set back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\nshift\nexec {sys.executable} -c "import sys; sys.version_info = (3, 10, 13); '
                    f"sys.version = '3.10.13'; exec(sys.argv[1])\" \"$@\"\n")
    path.chmod(0o755)
    return path


def _make_venv(venv: Path, python3: Path | str):
    return subprocess.run([shutil.which("make"), "-s", "-C", str(PROJECT_ROOT), f"VENV={venv}", f"PYTHON3={python3}",
                           f"{venv}/.installed"], capture_output=True, text=True, timeout=120)


def test_make_refuses_an_older_python3_before_it_makes_the_venv(tmp_path):
    result = _make_venv(tmp_path / "venv", _old_python(tmp_path / "python3"))
    assert result.returncode == 2
    assert "python3 is Python 3.10.13; NumVision needs 3.11 or newer: run make again with PYTHON3=python3.11" in (
        result.stderr)
    assert not (tmp_path / "venv").exists(), "no venv that the next make, with PYTHON3=python3.11, would keep"


def test_make_says_to_clean_a_venv_made_with_an_older_python(tmp_path):
    _old_python(tmp_path / "venv" / "bin" / "python")
    result = _make_venv(tmp_path / "venv", sys.executable)
    assert result.returncode == 2
    assert (f"{tmp_path / 'venv' / 'bin' / 'python'} is Python 3.10.13; NumVision needs 3.11 or newer: run make "
            "clean-venv and then make again") in result.stderr
    assert sorted(path.name for path in (tmp_path / "venv").iterdir()) == ["bin"], "nothing installed into it"

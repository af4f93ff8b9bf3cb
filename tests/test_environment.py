"""Handing the series out: environment.yml (conda, Binder's repo2docker) says what pyproject.toml says, and every
pip requirement in it resolves in a fresh virtual environment from the package registry.

conda-forge itself cannot be reached from CI, so the conda half is checked against pyproject.toml only.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

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

"""Print the links that hand the series out: the Binder badge and, for a JupyterHub, one nbgitpuller link per notebook.

    python tools/class_links.py https://github.com/OWNER/REPO                        # Binder badge and links
    python tools/class_links.py https://github.com/OWNER/REPO --hub https://hub.school.example

The repository must be public for Binder and for nbgitpuller (the hub clones it). An nbgitpuller link clones the
repository into the student's home on first use (as `<REPO>/`) and later only pulls new commits, merging them
without overwriting the student's own changes; it then opens the notebook.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import quote, urlencode, urlparse

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BINDER = "https://mybinder.org"


def repository_name(repository: str) -> str:
    return urlparse(repository).path.rstrip("/").removesuffix(".git").rsplit("/", 1)[-1]


def binder_url(repository: str, notebook: str, branch: str = "HEAD") -> str:
    """mybinder.org's launch address for a GitHub repository, opening `notebook` (a path in it) in JupyterLab."""
    parsed = urlparse(repository)
    if parsed.netloc != "github.com":
        raise SystemExit(f"{repository}: only GitHub repositories get a Binder link here (mybinder.org's gh/ provider)")
    owner_and_name = parsed.path.strip("/").removesuffix(".git")
    return f"{BINDER}/v2/gh/{owner_and_name}/{branch}?urlpath={quote(f'lab/tree/{notebook}', safe='')}"


def binder_badge(repository: str, notebook: str = "notebooks/01_data_exploration.ipynb") -> str:
    return f"[![Binder]({BINDER}/badge_logo.svg)]({binder_url(repository, notebook)})"


def nbgitpuller_url(hub: str, repository: str, notebook: str, branch: str = "main") -> str:
    """An nbgitpuller link: clone or update `repository` in the student's home, then open `notebook` in JupyterLab."""
    target = f"{repository_name(repository)}/{notebook}"
    query = urlencode({"repo": repository, "branch": branch, "urlpath": f"lab/tree/{target}"})
    return f"{hub.rstrip('/')}/hub/user-redirect/git-pull?{query}"


def notebooks() -> list[str]:
    return [f"notebooks/{path.name}" for path in sorted((PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("repository", help="the public repository's address, e.g. https://github.com/OWNER/REPO")
    parser.add_argument("--hub", help="the JupyterHub's address: print one nbgitpuller link per notebook")
    parser.add_argument("--branch", default="main", help="the branch students get (default: main)")
    args = parser.parse_args(argv)
    print("Binder badge for the README:")
    print(binder_badge(args.repository))
    if args.hub:
        print("\nnbgitpuller links, one per notebook:")
        for notebook in notebooks():
            print(f"{Path(notebook).stem}: {nbgitpuller_url(args.hub, args.repository, notebook, args.branch)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

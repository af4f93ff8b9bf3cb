"""Print the links that hand the series out: the Binder badge and, for a JupyterHub, one nbgitpuller link per notebook.

    python tools/class_links.py https://github.com/OWNER/REPO                        # the Binder badge
    python tools/class_links.py https://github.com/OWNER/REPO --hub https://hub.school.example   # and hub links
    python tools/class_links.py https://git.school.example/t/numvision --hub https://hub.school.example

Binder needs a public GitHub repository; nbgitpuller needs one the hub can clone (public, or private with
credentials on the hub), on any host. An nbgitpuller link clones the repository into the student's home on first use (as `<REPO>/`) and later only pulls new commits, merging them
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


def on_github(repository: str) -> bool:
    return urlparse(repository).netloc == "github.com"


def binder_url(repository: str, notebook: str, branch: str = "HEAD") -> str:
    """mybinder.org's launch address for a GitHub repository, opening `notebook` (a path in it) in JupyterLab."""
    parsed = urlparse(repository)
    owner_and_name = parsed.path.strip("/").removesuffix(".git")
    return f"{BINDER}/v2/gh/{owner_and_name}/{branch}?urlpath={quote(f'lab/tree/{notebook}', safe='')}"


def binder_badge(repository: str, branch: str = "HEAD", notebook: str = "notebooks/01_data_exploration.ipynb") -> str:
    return f"[![Binder]({BINDER}/badge_logo.svg)]({binder_url(repository, notebook, branch)})"


def nbgitpuller_url(hub: str, repository: str, notebook: str, branch: str = "main") -> str:
    """An nbgitpuller link: clone or update `repository` in the student's home, then open `notebook` in JupyterLab."""
    target = f"{repository_name(repository)}/{notebook}"
    query = urlencode({"repo": repository, "branch": branch, "urlpath": f"lab/tree/{target}"})
    return f"{hub.rstrip('/')}/hub/user-redirect/git-pull?{query}"


def notebooks() -> list[str]:
    return [f"notebooks/{path.name}" for path in sorted((PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("repository", help="the repository's address, e.g. https://github.com/OWNER/REPO")
    parser.add_argument("--hub", help="the JupyterHub's address: print one nbgitpuller link per notebook")
    parser.add_argument("--branch", help="the branch students get (default: the repository's default branch for "
                        "Binder, main for nbgitpuller)")
    args = parser.parse_args(argv)
    if on_github(args.repository):
        print("Binder badge for the README:")
        print(binder_badge(args.repository, args.branch or "HEAD"))
    elif not args.hub:
        print(f"{args.repository}: only GitHub repositories get a Binder link (mybinder.org's gh/ provider); give "
              "--hub to get the hub's links", file=sys.stderr)
        return 1
    else:
        print("No Binder badge: mybinder.org's gh/ provider needs a GitHub repository.")
    if args.hub:
        print("\nnbgitpuller links, one per notebook:")
        for notebook in notebooks():
            print(f"{Path(notebook).stem}: {nbgitpuller_url(args.hub, args.repository, notebook, args.branch or 'main')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Print the links that hand the series out: the Binder badge and, for a JupyterHub, one nbgitpuller link per notebook.

    python tools/class_links.py https://github.com/OWNER/REPO                        # the Binder badge
    python tools/class_links.py https://github.com/OWNER/REPO --hub https://hub.school.example   # and hub links
    python tools/class_links.py https://git.school.example/t/numvision --hub https://hub.school.example

Binder needs a public GitHub repository; nbgitpuller needs one the hub can clone (public, or private with
credentials on the hub), on any host. An nbgitpuller link clones the repository into the student's home on first use
and later only pulls new commits, merging them without overwriting the student's own changes; it then opens the
notebook. The link names the folder (`targetpath`: the repository's name, `<REPO>/`, without `.git`), because
nbgitpuller's own default keeps the `.git` of an address that ends with it, and the link's notebook and the
guide's PYTHONPATH must name the folder the clone is really in.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import quote, urlencode, urlparse

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BINDER = "https://mybinder.org"
GITHUB_HOSTS = ("github.com", "www.github.com")


def repository_name(repository: str) -> str:
    return urlparse(repository).path.rstrip("/").removesuffix(".git").rsplit("/", 1)[-1]


def on_github(repository: str) -> bool:
    return urlparse(repository).hostname in GITHUB_HOSTS  # hostname is lower-cased


def is_web_address(address: str) -> bool:
    parsed = urlparse(address)
    return (parsed.scheme in ("https", "http") and bool(parsed.hostname) and not parsed.query and not parsed.fragment
            and not any(character.isspace() for character in address))


def repository_problem(repository: str) -> str | None:
    """Why links for `repository` would fail only when the class clicks them, or None: a message for the teacher."""
    expected = "e.g. https://github.com/OWNER/REPO, or https://git.school.example/GROUP/REPO on another host"
    if not is_web_address(repository):
        return f"{repository!r} is not a repository's web address: expected one with https://, {expected}"
    parsed = urlparse(repository)
    if parsed.username or parsed.password:  # every student's link would carry it
        shown = repository.replace(parsed.netloc, parsed.hostname + (f":{parsed.port}" if parsed.port else ""))
        return (f"the address holds a login (user name or token before the @), which every student's link would "
                f"show: give it without, {shown}, and the hub's credentials for a private repository")
    if on_github(repository) and len(urlparse(repository).path.strip("/").split("/")) != 2:
        return (f"{repository!r} is not a GitHub repository's address: expected https://github.com/OWNER/REPO "
                "(nothing after the repository's name)")
    if not repository_name(repository):
        return f"{repository!r} names no repository: expected its address, {expected}"
    return None


def hub_problem(hub: str) -> str | None:
    """Why `hub` is not a JupyterHub's address to put before /hub/user-redirect/, or None."""
    if not is_web_address(hub):
        return (f"--hub {hub!r} is not a web address: expected the hub's address with https://, e.g. "
                "https://hub.school.example")
    if {"hub", "user"} & set(urlparse(hub).path.split("/")):
        return (f"--hub {hub!r}: expected the hub's address without /hub/ or /user/ and what follows them, e.g. "
                "https://hub.school.example")
    return None


def binder_url(repository: str, notebook: str, branch: str = "HEAD") -> str:
    """mybinder.org's launch address for a GitHub repository, opening `notebook` (a path in it) in JupyterLab."""
    parsed = urlparse(repository)
    owner_and_name = parsed.path.strip("/").removesuffix(".git")
    return f"{BINDER}/v2/gh/{owner_and_name}/{branch}?urlpath={quote(f'lab/tree/{notebook}', safe='')}"


def binder_badge(repository: str, branch: str = "HEAD", notebook: str = "notebooks/01_data_exploration.ipynb") -> str:
    return f"[![Binder]({BINDER}/badge_logo.svg)]({binder_url(repository, notebook, branch)})"


def nbgitpuller_url(hub: str, repository: str, notebook: str, branch: str = "main") -> str:
    """An nbgitpuller link: clone or update `repository` in the student's home, then open `notebook` in JupyterLab."""
    folder = repository_name(repository)
    query = urlencode({"repo": repository, "branch": branch, "targetpath": folder,
                       "urlpath": f"lab/tree/{folder}/{notebook}"})
    return f"{hub.rstrip('/')}/hub/user-redirect/git-pull?{query}"


def notebooks() -> list[str]:
    return [f"notebooks/{path.name}" for path in sorted((PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("repository", help="the repository's address, e.g. https://github.com/OWNER/REPO")
    parser.add_argument("--hub", help="the JupyterHub's address, e.g. https://hub.school.example: print one "
                        "nbgitpuller link per notebook")
    parser.add_argument("--branch", help="the branch students get (default: the repository's default branch for "
                        "Binder, main for nbgitpuller)")
    args = parser.parse_args(argv)
    if problem := repository_problem(args.repository) or (args.hub and hub_problem(args.hub)):
        parser.error(problem)
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
        print(f"\nThey clone into {repository_name(args.repository)}/ in the student's home: the folder the hub's "
              "PYTHONPATH must name (docs/teachers_guide.md).")
    return 0


if __name__ == "__main__":
    sys.exit(main())

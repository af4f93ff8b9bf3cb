"""Measure what each notebook's kernel needs: peak memory and CPU time, in quick and full mode, each in a fresh kernel.

    python tools/measure_notebooks.py notebooks/0[1-5]_*.ipynb                 # quick and full mode
    python tools/measure_notebooks.py --modes quick notebooks/06_*.ipynb       # add or re-measure some, one mode
    python tools/measure_notebooks.py --update-guide notebooks/01_*.ipynb      # ... and rewrite the guide's table
    python tools/measure_notebooks.py --update-guide                           # only rewrite the table from the JSON

Each notebook runs top to bottom in a new kernel (as `tools/run_notebooks.py` runs them, but nothing is written back
into the notebook). After every cell the kernel process is read from /proc: its peak resident memory (VmHWM, which
Linux keeps for the process, so no short peak is missed) and its CPU time (user + system, its threads and waited-for
children included). The notebooks run in the order given with one scratch my_models/ and class folder per mode
(as run_notebooks.py gives them), so notebook 04 evaluates the model notebook 03 just trained, as in class, notebook
09 measures its demonstration class, and a student's own models and a class's drawings are never touched.

Results are merged into results/benchmarks/notebook_resources.json by notebook and mode (notebooks can be measured
at different times), with the machine's load average before and after each run: the machines are shared, and CPU
time grows when other programs compete for the caches. That file holds the lessons in notebooks/ only (measure a
copy or a variant into another --results), and a failed run never replaces a measurement that succeeded. The
markdown table is printed; with --update-guide it also replaces the table in docs/teachers_guide.md, where every
notebook in notebooks/ has a row ("not measured yet" until it has figures); the guide shows that JSON file, so
--update-guide takes no other --results.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from numvision_lib.machine import cpu_info, resident_memory
from numvision_lib.paths import project_relative, write_text_atomic

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_notebooks import notebook_problems, positive_count, use_scratch_folders  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RESULTS = PROJECT_ROOT / "results" / "benchmarks" / "notebook_resources.json"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
GUIDE = PROJECT_ROOT / "docs" / "teachers_guide.md"
TABLE_START, TABLE_END = "<!-- notebook-resources:start -->", "<!-- notebook-resources:end -->"
MODES = ("quick", "full")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_usage(pid: int) -> dict:
    """Peak and current resident memory (MiB, as the teachers' guide gives it) and CPU seconds so far of a live
    process, from /proc."""
    memory = resident_memory(pid)
    with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as file:
        # The fields after the command name, which is in parentheses and may contain spaces.
        fields = file.read().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return {"peak_rss_mib": memory.peak_bytes / 2**20, "rss_mib": memory.now_bytes / 2**20,
            "cpu_seconds": (utime + stime + cutime + cstime) / CLOCK_TICKS}


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def machine() -> dict:
    total_bytes = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return {"cpu": cpu_info("model name") or "", "cores": os.cpu_count(), "memory_gib": round(total_bytes / 2**30, 1),
            "python": platform.python_version()}


def measure_notebook(path: Path, timeout: int) -> dict:
    """Run `path` in a fresh kernel and return what its kernel process used; the outputs are discarded."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    usage = {}

    def after_cell(cell, cell_index, execute_reply):
        usage.update(process_usage(client.km.provisioner.process.pid))
        usage["cells"] = cell_index + 1

    client.on_cell_executed = after_cell
    load_before, started = load_average(), time.perf_counter()
    error = None
    try:
        client.execute()
    except CellExecutionError as failure:  # its traceback carries the terminal's colour codes; these do not
        error = f"{failure.ename}: {failure.evalue}"[:300]
    except (CellTimeoutError, DeadKernelError) as failure:  # a kernel killed for memory is a result here too
        error = f"{type(failure).__name__}: {str(failure).strip()[:300]}"
    return {
        "peak_rss_mib": round(usage.get("peak_rss_mib", 0.0), 1),
        "cpu_seconds": round(usage.get("cpu_seconds", 0.0), 1),
        "wall_seconds": round(time.perf_counter() - started, 1),
        "cells": usage.get("cells", 0),
        "load_before": load_before,
        "load_after": load_average(),
        "error": error,
        "measured": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
    }


def read_results(path: Path = RESULTS) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"notebooks": {}}


# What the guide's table reads of each measurement (`render_table`).
ENTRY_KEYS = ("error", "peak_rss_mib", "cpu_seconds", "load_before", "load_after", "measured", "machine")
MACHINE_KEYS = ("cpu", "cores", "memory_gib")


def incomplete_entries(results: dict) -> list[str]:
    """The measurements (notebook/mode) in `results` that lack what the table shows: a KeyError at the end of a run
    of an hour, else."""
    return [f"{name}/{mode}" for name, modes in results["notebooks"].items()
            for mode, entry in (modes.items() if isinstance(modes, dict) else [("?", None)])
            if not (isinstance(entry, dict) and all(key in entry for key in ENTRY_KEYS)
                    and isinstance(entry["machine"], dict) and all(key in entry["machine"] for key in MACHINE_KEYS))]


def _memory(entry: dict | None) -> str:
    return "not measured yet" if entry is None else "failed" if entry["error"] else f"{entry['peak_rss_mib']:,.0f} MiB"


def _cpu(entry: dict | None) -> str:
    if entry is None or entry["error"]:
        return "–"
    seconds = entry["cpu_seconds"]
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def render_table(results: dict, notebooks: list[str]) -> str:
    """The guide's table: one row per notebook (measured or not), quick and full mode side by side."""
    lines = ["| notebook | quick: peak memory | quick: CPU time | full: peak memory | full: CPU time |",
             "| --- | --- | --- | --- | --- |"]
    measured = []
    for name in notebooks:
        modes = results["notebooks"].get(name, {})
        measured += modes.values()
        cells = [f"{_memory(modes.get(mode))} | {_cpu(modes.get(mode))}" for mode in MODES]
        lines.append(f"| `{name}` | {' | '.join(cells)} |")
    if measured:
        machines = sorted({f"{entry['machine']['cpu']}, {entry['machine']['cores']} cores, "
                           f"{entry['machine']['memory_gib']} GiB" for entry in measured})
        loads = [value for entry in measured for value in (entry["load_before"], entry["load_after"])]
        dates = sorted(entry["measured"][:10] for entry in measured)
        lines += ["", f"Measured with `tools/measure_notebooks.py` on {'; '.join(machines)}, {dates[0]}"
                      f"{' to ' + dates[-1] if dates[-1] != dates[0] else ''}; 1-minute load average "
                      f"{min(loads):.1f} to {max(loads):.1f} during the runs (other programs shared the machine)."]
    missing = [name for name in notebooks if set(results["notebooks"].get(name, {})) != set(MODES)]
    if missing:
        lines += ["", f"Still to be measured: {', '.join(f'`{name}`' for name in missing)}."]
    return "\n".join(lines)


def _writable(path: Path) -> bool:
    """Whether `path` can be written, its folders made if need be: found before the first notebook runs, not when
    its figures are written, minutes later."""
    folder = path.parent
    while not folder.exists():
        folder = folder.parent
    return (folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)
            and (not path.exists() or (path.is_file() and os.access(path, os.W_OK))))


def all_notebooks() -> list[str]:
    return [path.stem for path in sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))]


def update_guide(table: str, guide: Path = GUIDE) -> None:
    text = guide.read_text(encoding="utf-8")
    before, start, rest = text.partition(TABLE_START)
    _, end, after = rest.partition(TABLE_END)
    if not start or not end:
        raise SystemExit(f"{guide}: the markers {TABLE_START} and {TABLE_END} are missing")
    write_text_atomic(guide, f"{before}{TABLE_START}\n{table}\n{TABLE_END}{after}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to measure, in this order")
    # One mode per --modes: a list of them would take in the notebooks that follow it.
    parser.add_argument("--modes", action="append", choices=MODES,
                        help="measure in this mode only (give --modes twice for both; default: quick and full)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the JSON file to merge the figures into")
    parser.add_argument("--update-guide", action="store_true",
                        help=f"rewrite the table in {GUIDE.name} (from the default --results only)")
    # nbclient takes 0 or less as "no limit at all", which nobody typing it means.
    parser.add_argument("--timeout", type=positive_count, default=1800, help="seconds allowed per cell (default 1800)")
    args = parser.parse_args(argv)
    if problems := notebook_problems(args.notebooks):
        parser.error("; ".join(problems))
    # Entries are keyed by the notebook's name: a copy measured from elsewhere would take the lesson's row.
    if args.results.resolve() == RESULTS and (
            others := [str(path) for path in args.notebooks if path.resolve().parent != NOTEBOOKS_DIR]):
        parser.error(f"{', '.join(others)}: only the lessons in notebooks/ are measured into "
                     f"{project_relative(RESULTS)}, which the teachers' guide shows; give another file with "
                     "--results to measure a copy or a variant")
    if args.update_guide and args.results.resolve() != RESULTS:
        parser.error(f"--update-guide rewrites {GUIDE.relative_to(PROJECT_ROOT)}, whose table shows "
                     f"{RESULTS.relative_to(PROJECT_ROOT)}, not --results {args.results}: leave out --results to update "
                     "the guide, or --update-guide to measure into another file")
    try:
        results = read_results(args.results)
    except (OSError, ValueError) as error:  # a folder, unreadable, or not JSON (UnicodeDecodeError is a ValueError)
        parser.error(f"--results {args.results}: not a readable results file ({error})")
    if not isinstance(results, dict) or not isinstance(results.get("notebooks"), dict):
        parser.error(f"--results {args.results}: not a results file (expected a JSON object with \"notebooks\"): "
                     "give another path, or move it away to start a new one")
    if incomplete := incomplete_entries(results):
        parser.error(f"--results {args.results}: incomplete measurements ({', '.join(incomplete)}): measure those "
                     "notebooks again into a new file, or delete their entries")
    if args.notebooks and not _writable(args.results):
        parser.error(f"--results {args.results}: cannot be written here; give a file in a folder you can write to")
    modes = [mode for mode in MODES if mode in (args.modes or MODES)]

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # The kernelspec runs "python": make that the interpreter running this script (the project's venv).
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    failures = 0
    for mode in modes if args.notebooks else ():
        with tempfile.TemporaryDirectory(prefix="numvision-measure-") as scratch:
            use_scratch_folders(Path(scratch))
            if mode == "quick":
                os.environ["NUMVISION_QUICK"] = "1"
            else:
                os.environ.pop("NUMVISION_QUICK", None)
            for path in args.notebooks:
                print(f"{path.name} ({mode} mode): running in a fresh kernel ...", flush=True)
                entry = measure_notebook(path.resolve(), args.timeout)
                failures += bool(entry["error"])
                print(f"  peak {entry['peak_rss_mib']:,.0f} MiB, CPU {entry['cpu_seconds']:.1f} s, wall "
                      f"{entry['wall_seconds']:.1f} s, load {entry['load_before']:.1f} -> {entry['load_after']:.1f}"
                      + (f"; FAILED: {entry['error']}" if entry["error"] else ""), flush=True)
                kept = results["notebooks"].get(path.stem, {}).get(mode)
                if entry["error"] and kept and not kept["error"]:
                    print(f"  not recorded: the measurement of {kept['measured'][:10]} stays", flush=True)
                    continue
                results["notebooks"].setdefault(path.stem, {})[mode] = entry
                # After every notebook, and atomically: a later one that brings the machine down loses nothing
                # measured before it.
                args.results.parent.mkdir(parents=True, exist_ok=True)
                write_text_atomic(args.results, json.dumps(results, indent=2, sort_keys=True) + "\n")
    table = render_table(results, all_notebooks())
    print(table)
    if args.update_guide:
        update_guide(table)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

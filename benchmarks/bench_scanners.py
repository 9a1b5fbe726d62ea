"""The source scanners against ruff on Django's sdist (or a small tree): time and findings.

    python benchmarks/bench_scanners.py [--rounds 5] [--sdist django-5.2.19.tar.gz] [--keep]
    python benchmarks/bench_scanners.py --small        # pydantic 2.7.4: ~300 .py files

Downloads Django's sdist (``pip download --no-binary :all: --no-deps django==5.2.19``; with
``--small`` pydantic 2.7.4's, or ``--package``'s) unless ``--sdist`` names one, unpacks it into
a git repository in a temporary directory (never inside this checkout), adds one ``forbid``
table, and then, in alternating order each round, runs

- ``pytest --guardrails-only`` on ``blanket-suppressions``, ``deprecated-api`` and
  ``forbid-no-to-dict`` (one process; the items' summed durations come from its JUnit XML), and
- ``ruff check --isolated --select PGH003,PGH004,TID251`` on the same tree, without its cache
  (``--no-cache``: the scanners keep none either) and with a warm one.

It prints the median of each, the ratio, the wall time of the whole pytest process with
``-n 0`` and ``-n 2``, and where the suppression findings differ from ruff's.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

from _sdist import GIT_ENV
from _sdist import discard
from _sdist import run_env
from _sdist import sdist_repo

VERSION = "5.2.19"
LARGE = f"django=={VERSION}"
#: a small tree: about 300 Python files
SMALL = "pydantic==2.7.4"
ITEMS = ("blanket-suppressions", "deprecated-api", "forbid-no-to-dict")
FORBID = """
[tool.guardrails.forbid.no-to-dict]
pattern = '\\.to_dict\\('
files = ["**/*.py"]
message = "use model_dump()"
code-only = true
"""
RUFF = ("ruff", "check", "--isolated", "--select", "PGH003,PGH004,TID251", "--exit-zero",
        "--output-format", "concise")


def sh(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False,
                          timeout=600)


def prepare(work: Path, sdist: Path | None, requirement: str) -> Path:
    repo = sdist_repo(requirement, work, sdist)
    with open(repo / "pyproject.toml", "a", encoding="utf-8") as fh:
        fh.write(FORBID)
    env = {**os.environ, **GIT_ENV}
    proc = sh("git", "commit", "-qam", "forbid table", cwd=repo, env=env)
    if proc.returncode != 0:
        sys.exit(f"git commit failed: {proc.stderr}")
    return repo


def tree_size(repo: Path) -> tuple[int, int]:
    out = sh("git", "ls-files", "-z", "--", "*.py", cwd=repo).stdout
    files = [f for f in out.split("\0") if f]
    lines = 0
    for f in files:
        with open(repo / f, "rb") as fh:
            lines += fh.read().count(b"\n")
    return len(files), lines


def run_guardrails(repo: Path, work: Path, *extra: str) -> tuple[float, dict[str, float], str]:
    """(wall seconds, item -> duration, stdout) of one pytest process on the three items."""
    junit = work / "guardrails.xml"
    # only this plugin (and xdist when asked): other installed plugins' first-test work (e.g.
    # hypothesis importing its helpers) would be counted in the first item's duration
    env = run_env(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    start = time.perf_counter()
    proc = sh(sys.executable, "-m", "pytest", "-p", "guardrails", "--guardrails-only",
              "-p", "no:cacheprovider", "-o", "addopts=", "-v", f"--junitxml={junit}",
              "--rootdir", str(repo),
              *extra, *(f"pyproject.toml::{i}" for i in ITEMS), cwd=repo, env=env)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"pytest failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    times: dict[str, float] = {}
    for case in ET.parse(junit).iter("testcase"):
        times[case.get("name", "")] = float(case.get("time", "0"))
    return wall, times, proc.stdout


def run_ruff(repo: Path, *extra: str) -> tuple[float, str]:
    start = time.perf_counter()
    proc = sh(*RUFF, *extra, ".", cwd=repo)
    return time.perf_counter() - start, proc.stdout


def parse_ruff(out: str) -> set[str]:
    return {f"{m.group(1)}:{m.group(2)}" for m in
            re.finditer(r"^(\S+?):(\d+):\d+: PGH00[34] ", out, re.M)}


def parse_ours(out: str) -> set[str]:
    found: set[str] = set()
    for m in re.finditer(r"^\s*(\S+?\.pyi?):(\d+):\d+: `#", out, re.M):
        found.add(f"{m.group(1)}:{m.group(2)}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sdist", type=Path, help="the sdist, already downloaded")
    parser.add_argument("--small", action="store_true",
                        help=f"a small tree ({SMALL}, ~300 .py files) instead of Django")
    parser.add_argument("--package", help="another sdist's requirement")
    parser.add_argument("--keep", action="store_true", help="keep the temporary repository")
    args = parser.parse_args()
    if shutil.which("ruff") is None:
        sys.exit("ruff is not on PATH")
    work = Path(tempfile.mkdtemp(prefix="bench-scanners-"))
    try:
        requirement = args.package or (SMALL if args.small else LARGE)
        repo = prepare(work, args.sdist.resolve() if args.sdist else None, requirement)
        n_files, n_lines = tree_size(repo)
        print(f"tree: {repo.name}: {n_files} .py files, {n_lines} lines (git repo in {work})")
        print(f"load average at start: {os.getloadavg()[0]:.2f}")
        ruff_version = sh("ruff", "--version", cwd=repo).stdout.strip()
        cache = work / "ruff-cache"
        run_ruff(repo, "--cache-dir", str(cache))  # warm the cache once
        ours: list[float] = []
        walls: list[float] = []
        cold: list[float] = []
        warm: list[float] = []
        per_item: dict[str, list[float]] = {i: [] for i in ITEMS}
        our_out = ruff_out = ""
        for r in range(args.rounds):
            steps = ["ours", "cold", "warm"]
            if r % 2:
                steps.reverse()
            for step in steps:
                if step == "ours":
                    wall, times, our_out = run_guardrails(repo, work)
                    ours.append(sum(times.values()))
                    walls.append(wall)
                    for item in ITEMS:
                        per_item[item].append(times.get(item, float("nan")))
                elif step == "cold":
                    t, ruff_out = run_ruff(repo, "--no-cache")
                    cold.append(t)
                else:
                    warm.append(run_ruff(repo, "--cache-dir", str(cache))[0])
        # --basetemp: see bench_tools.py (pytest's clean-up of older temporary directories)
        xdist_wall = [run_guardrails(repo, work, "-p", "xdist", "-n", "2",
                                     f"--basetemp={work / 'basetemp'}")[0]
                      for _ in range(max(1, args.rounds // 2))]

        med = statistics.median
        print(f"load average at end: {os.getloadavg()[0]:.2f}")
        print(f"rounds: {args.rounds} (median; alternating order); {ruff_version}; "
              f"Python {sys.version.split()[0]}; {os.cpu_count()} cores")
        print()
        print(f"{'scanning items (sum of JUnit durations)':<44}{med(ours):>8.3f} s")
        for item in ITEMS:
            print(f"  {item:<42}{med(per_item[item]):>8.3f} s")
        print(f"{'ruff ' + ' '.join(RUFF[2:5]) + ' (--no-cache)':<44}{med(cold):>8.3f} s")
        print(f"{'ruff, same, warm cache':<44}{med(warm):>8.3f} s")
        print()
        print(f"ratio scanners / ruff --no-cache:   {med(ours) / med(cold):.2f}x")
        print(f"ratio scanners / ruff warm cache:   {med(ours) / med(warm):.2f}x")
        print(f"pytest process wall, -n 0 / -n 2:   {med(walls):.2f} s / {med(xdist_wall):.2f} s "
              "(includes interpreter start, collection and the report)")
        theirs = parse_ruff(ruff_out)
        mine = parse_ours(our_out)
        only_ruff = sorted(theirs - mine)
        only_ours = sorted(mine - theirs)
        print()
        print(f"suppression lines: ruff PGH003/PGH004 {len(theirs)}, blanket-suppressions "
              f"{len(mine)}, both {len(theirs & mine)}")
        for label, rows in (("only ruff", only_ruff), ("only blanket-suppressions", only_ours)):
            if rows:
                print(f"  {label}: " + ", ".join(rows[:10]) + (" ..." if len(rows) > 10 else ""))
    finally:
        discard(work, args.keep)


if __name__ == "__main__":
    main()

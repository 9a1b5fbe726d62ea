"""Cold against warm ``pytest --guardrails-only``: what the result cache saves, and what reruns.

Two trees, each a git repository in a temporary directory (never inside this checkout):

- a generated repository with a submodule (``--files`` Python modules split between them), and
- a PyPI sdist (``--package``, unpacked into a git repository by ``_sdist.py``).

Each round runs, side by side, a cold run (``--cache-clear``: every item runs), a warm run
(nothing changed: every result comes from the cache) and a bare pytest that starts and finds
nothing to run (the floor no warm run can beat), and prints the medians and warm / cold
(goal: <= 5%). Then it appends a line to one Python file of the root repository, runs once more
and prints which items re-ran (JUnit property ``cached=false``) and which came from the cache.

    python benchmarks/bench_cache.py                        # attrs 23.2.0, 3 rounds, -n 0
    python benchmarks/bench_cache.py --package pydantic==2.7.4 --rounds 5 -n 2
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
import os
from pathlib import Path
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


def git(cwd: Path, *args: str) -> None:
    subprocess.run(("git", "-c", "init.defaultBranch=main", "-c", "protocol.file.allow=always",
                    *args), cwd=cwd, env={**os.environ, **GIT_ENV}, check=True,
                   capture_output=True, timeout=600)


def module(i: int) -> str:
    return (f'"""Module {i}."""\n\nfrom __future__ import annotations\n\nimport os\n\n\n'
            f"def f{i}(x: int) -> int:\n    return x + {i}  # noqa: E501\n\n\n"
            f"class C{i}:\n    def m(self, path: str) -> str:\n"
            f"        return os.path.join(path, 'x{i}')\n")


def generated_repo(work: Path, files: int) -> Path:
    """A repository with ``files`` modules, a third of them in a submodule of its own."""
    sub = work / "origin" / "lib"
    sub.mkdir(parents=True)
    git(sub, "init", "-q")
    for i in range(files // 3):
        (sub / "lib").mkdir(exist_ok=True)
        (sub / "lib" / f"m{i}.py").write_text(module(i), encoding="utf-8")
    (sub / "pyproject.toml").write_text('[project]\nname = "lib"\nversion = "1.0"\n',
                                        encoding="utf-8")
    git(sub, "add", "-A")
    git(sub, "commit", "-qm", "lib")
    root = work / "repo"
    (root / "app").mkdir(parents=True)
    git(root, "init", "-q")
    git(root, "submodule", "add", "-q", str(sub), "libs/lib")
    for i in range(files - files // 3):
        (root / "app" / f"m{i}.py").write_text(module(i), encoding="utf-8")
    (root / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1.0"\n\n[tool.guardrails]\n', encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "app")
    return root


def run(tree: Path, work: Path, workers: str, *extra: str) -> tuple[float, dict[str, str]]:
    """(wall seconds, item -> "true"/"false"/"" cached) of one run."""
    xml = work / "bench-cache.xml"
    env = run_env(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYRIGHT_PYTHON_IGNORE_WARNINGS="1")
    argv = [sys.executable, "-m", "pytest", "-p", "guardrails", "-p", "cacheprovider",
            "--guardrails-only", "-o", "addopts=", f"--rootdir={tree}", f"--junitxml={xml}",
            *extra]
    if workers != "0":
        argv[3:3] = ["-p", "xdist"]
        # xdist makes pytest's numbered temporary directory, and pytest then deletes older
        # sessions' ones at exit: not this plugin's time
        argv += ["-n", workers, f"--basetemp={work / 'basetemp'}"]
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=tree, env=env, capture_output=True, text=True, timeout=3600,
                          check=False)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"pytest exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    cached: dict[str, str] = {}
    for case in ET.parse(xml).iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        cached[case.get("name", "")] = props.get("cached") or ""
    return wall, cached


def bare(work: Path) -> float:
    """Wall seconds of pytest starting and finding nothing to run, in an empty directory: the
    floor of any warm run (no plugin's results can arrive faster than pytest starts)."""
    empty = work / "empty"
    empty.mkdir(exist_ok=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    "-o", "addopts=", f"--rootdir={empty}", str(empty)], cwd=empty,
                   env=run_env(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"), capture_output=True,
                   timeout=600, check=False)
    return time.perf_counter() - start


def measure(label: str, tree: Path, work: Path, rounds: int, workers: str) -> float:
    py = [p for p in tree.rglob("*.py") if ".git" not in p.parts]
    print(f"\n{label}: {len(py)} .py files at {tree}")
    cold: list[float] = []
    warm: list[float] = []
    floor: list[float] = []
    ratios: list[float] = []
    for r in range(rounds):
        t_cold, first = run(tree, work, workers, "--cache-clear")
        t_warm, second = run(tree, work, workers)
        floor.append(bare(work))
        if any(v != "true" for k, v in second.items() if first.get(k) == "false"):
            missed = sorted(k for k, v in second.items() if v != "true")
            print(f"  round {r + 1}: not from the cache on the warm run: {', '.join(missed)}")
        cold.append(t_cold)
        warm.append(t_warm)
        ratios.append(t_warm / t_cold)
        print(f"  round {r + 1}: cold {t_cold:7.2f} s  warm {t_warm:6.2f} s  "
              f"bare pytest {floor[-1]:5.2f} s  warm/cold {ratios[-1]:.3f}")
    ratio = statistics.median(ratios)
    print(f"  median: cold {statistics.median(cold):.2f} s, warm {statistics.median(warm):.2f} s;"
          f" warm/cold: median of rounds {ratio:.3f}, ratio of medians "
          f"{statistics.median(warm) / statistics.median(cold):.3f} (goal <= 0.05)")
    print(f"  floor: bare pytest (starts, runs nothing) {statistics.median(floor):.2f} s = "
          f"{statistics.median(floor) / statistics.median(cold):.3f} of cold; warm minus bare "
          f"{statistics.median(warm) - statistics.median(floor):.2f} s")
    target = sorted(p for p in py if "libs" not in p.relative_to(tree).parts)[0]
    with open(target, "a", encoding="utf-8") as fh:
        fh.write("\n# touched\n")
    try:
        t, after = run(tree, work, workers)
    finally:
        git(tree, "checkout", "--", str(target.relative_to(tree)))
    reran = sorted(k for k, v in after.items() if v == "false")
    kept = sorted(k for k, v in after.items() if v == "true")
    print(f"  after appending a line to {target.relative_to(tree)}: {t:.2f} s")
    print(f"    re-ran ({len(reran)}): {', '.join(reran) or '-'}")
    print(f"    from the cache ({len(kept)}): {', '.join(kept) or '-'}")
    return ratio


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--package", default="attrs==23.2.0", help="requirement of the sdist")
    parser.add_argument("--sdist", type=Path, help="that sdist, already downloaded")
    parser.add_argument("--files", type=int, default=300, help="modules in the generated repo")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("-n", dest="workers", default="0", help="xdist workers (0: none)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary trees")
    opts = parser.parse_args(argv)
    if shutil.which("git") is None:
        sys.exit("git is not on PATH")
    work = Path(tempfile.mkdtemp(prefix="bench-cache-"))
    try:
        print(f"load average at start: {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs; "
              f"pytest -n {opts.workers}")
        gen = generated_repo(work / "gen", opts.files)
        sdist = sdist_repo(opts.package, work / "sdist", opts.sdist)
        results = {
            "generated repo + submodule": measure("generated repo with a submodule", gen, work,
                                                  opts.rounds, opts.workers),
            opts.package: measure(f"sdist {opts.package}", sdist, work, opts.rounds,
                                  opts.workers),
        }
        print(f"\nload average at end: {os.getloadavg()[0]:.2f}")
        for name, ratio in results.items():
            print(f"warm/cold, {name}: {ratio:.3f} (goal <= 0.05)")
        return 0
    finally:
        discard(work, opts.keep)


if __name__ == "__main__":
    raise SystemExit(main())

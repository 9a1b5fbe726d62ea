"""Cold against warm ``pytest --guardrails-only``: what the result cache saves, and what reruns.

Two trees, each a git repository in a temporary directory (never inside this checkout):

- a generated repository with a submodule (``--files`` Python modules of about 90 lines, a third
  of them in the submodule; the default 150 give pyright about as much to do as the backend this
  plugin was first built for, about 12 s), and
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


def module(package: str, i: int) -> str:
    """A backend-like module of about 90 lines: a record type, a store that persists it as JSON,
    a service using a record of an earlier module (so pyright follows imports between them)."""
    dep = i // 2
    imp = (f"from {package}.m{dep} import Record{dep}\n" if i else "")
    other = f"Record{dep}" if i else f"Record{i}"
    return f'''"""Module {i}: records, their store and the service that uses them."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any
from typing import Protocol

{imp}

@dataclasses.dataclass(frozen=True)
class Record{i}:
    id: int
    name: str
    created: dt.datetime
    tags: tuple[str, ...] = ()
    weight: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {{"id": self.id, "name": self.name, "created": self.created.isoformat(),
                "tags": list(self.tags), "weight": self.weight}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Record{i}:
        return cls(id=int(data["id"]), name=str(data["name"]),
                   created=dt.datetime.fromisoformat(str(data["created"])),
                   tags=tuple(str(t) for t in data.get("tags", ())),
                   weight=float(data.get("weight", 1.0)))


class Store{i}(Protocol):
    def get(self, key: int) -> Record{i} | None: ...

    def put(self, record: Record{i}) -> None: ...

    def all(self) -> Iterable[Record{i}]: ...


class FileStore{i}:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: int) -> Path:
        return self.root / f"{{key}}.json"

    def get(self, key: int) -> Record{i} | None:
        path = self._path(key)
        if not path.is_file():
            return None
        return Record{i}.from_dict(json.loads(path.read_text(encoding="utf-8")))

    def put(self, record: Record{i}) -> None:
        self._path(record.id).write_text(json.dumps(record.to_dict()), encoding="utf-8")

    def all(self) -> Iterator[Record{i}]:
        for path in sorted(self.root.glob("*.json")):
            yield Record{i}.from_dict(json.loads(path.read_text(encoding="utf-8")))


class Service{i}:
    def __init__(self, store: Store{i}) -> None:
        self.store = store

    def rename(self, key: int, name: str) -> Record{i}:
        record = self.store.get(key)
        if record is None:
            raise KeyError(key)
        renamed = dataclasses.replace(record, name=name)
        self.store.put(renamed)
        return renamed

    def tag_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {{}}
        for record in self.store.all():
            for tag in record.tags:
                counts[tag] = counts.get(tag, 0) + 1
        return counts

    def heaviest(self, limit: int = 10) -> list[Record{i}]:
        return sorted(self.store.all(), key=lambda r: r.weight, reverse=True)[:limit]

    def adopt(self, other: {other}) -> Record{i}:
        return Record{i}(id=other.id, name=other.name, created=other.created,
                        tags=tuple(sorted(set(other.tags))), weight=other.weight)
'''


def generated_repo(work: Path, files: int) -> Path:
    """A repository with ``files`` modules, a third of them in a submodule of its own."""
    sub = work / "origin" / "lib"
    sub.mkdir(parents=True)
    git(sub, "init", "-q")
    (sub / "lib").mkdir()
    (sub / "lib" / "__init__.py").write_text("", encoding="utf-8")
    for i in range(files // 3):
        (sub / "lib" / f"m{i}.py").write_text(module("lib", i), encoding="utf-8")
    (sub / "pyproject.toml").write_text('[project]\nname = "lib"\nversion = "1.0"\n',
                                        encoding="utf-8")
    git(sub, "add", "-A")
    git(sub, "commit", "-qm", "lib")
    root = work / "repo"
    (root / "app").mkdir(parents=True)
    git(root, "init", "-q")
    git(root, "submodule", "add", "-q", str(sub), "libs/lib")
    (root / "app" / "__init__.py").write_text("", encoding="utf-8")
    for i in range(files - files // 3):
        (root / "app" / f"m{i}.py").write_text(module("app", i), encoding="utf-8")
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
    # a module of the root repository with code in it (not an empty ``__init__.py``)
    root_modules = [p for p in py if "libs" not in p.relative_to(tree).parts]
    target = sorted([p for p in root_modules if p.name != "__init__.py"] or root_modules)[0]
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
    parser.add_argument("--files", type=int, default=150, help="modules in the generated repo")
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

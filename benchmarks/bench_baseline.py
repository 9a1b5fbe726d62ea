"""Writing and applying a baseline of >= 10,000 findings, against the same run without one.

    python benchmarks/bench_baseline.py [--files 200] [--lines 50] [--rounds 5] [-n 0]

Generates a git repository in a temporary directory (never inside this checkout) whose
``--files`` Python files hold ``--lines`` lines each like ``import mod_3_7  # type: ignore``:
every line is one ruff finding (F401) and one blanket-suppressions finding, so the default
200 x 50 makes 20,000 findings. pyright is waived (it would dominate the time and add nothing to
what is measured). Then, in alternating order each round, it runs ``pytest --guardrails-only``

- ``plain``: without a baseline file (the findings xfail, warn mode);
- ``write``: with ``--guardrails-baseline-write`` (fingerprints, the file written; it is
  removed again after each such run, so every write starts from none);
- ``apply``: with the baseline file present (every finding known: the items pass).

It prints the median wall time of each, and the ratios write/plain and apply/plain.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
import statistics
import subprocess
import sys
import tempfile
import time

from _sdist import GIT_ENV

PYPROJECT = """\
[project]
name = "generated"
version = "0"

[tool.ruff.lint]
select = ["F401"]

[tool.guardrails.ignore]
pyright = "not measured here"
"""
BASELINE = "guardrails-baseline.json"


def sh(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "STRICT_", "GIT_"))}
    return subprocess.run(args, cwd=cwd, env={**env, **GIT_ENV}, capture_output=True, text=True,
                          check=False, timeout=900)


def generate(root: Path, files: int, lines: int) -> None:
    (root / "pkg").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    for f in range(files):
        body = "".join(f"import mod_{f}_{i}  # type: ignore\n" for i in range(lines))
        (root / "pkg" / f"m{f}.py").write_text(body, encoding="utf-8")
    for cmd in (("git", "init", "-q"), ("git", "add", "-A"), ("git", "commit", "-qm", "generated")):
        proc = sh(*cmd, cwd=root)
        if proc.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed: {proc.stderr}")


def run(root: Path, mode: str, workers: str) -> float:
    args = [sys.executable, "-m", "pytest", "--guardrails-only", "-p", "no:cacheprovider",
            "-p", "no:randomly", "-q", "-n", workers, "--rootdir", str(root)]
    if workers != "0":  # see bench_tools.py: pytest's clean-up of older temporary directories
        args.append(f"--basetemp={root.parent / 'basetemp'}")
    if mode == "write":
        args.append("--guardrails-baseline-write")
    start = time.perf_counter()
    proc = sh(*args, cwd=root)
    elapsed = time.perf_counter() - start
    wanted = {"plain": "xfailed", "write": "wrote the baseline", "apply": "passed"}[mode]
    if proc.returncode != 0 or wanted not in proc.stdout:
        sys.exit(f"{mode}: exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--lines", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("-n", dest="workers", default="0", help="xdist workers (default 0)")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as tmp:
        root = Path(tmp) / "repo"
        generate(root, opts.files, opts.lines)
        findings = 2 * opts.files * opts.lines
        print(f"{opts.files} files x {opts.lines} lines: {findings} findings "
              f"(ruff F401 + blanket-suppressions), -n {opts.workers}, {opts.rounds} rounds")
        times: dict[str, list[float]] = {"plain": [], "write": [], "apply": []}
        baseline = root / BASELINE
        run(root, "write", opts.workers)  # warm-up; makes the file "apply" reads
        saved = baseline.read_bytes()
        size = len(saved)
        for r in range(opts.rounds):
            order = ("plain", "write", "apply") if r % 2 == 0 else ("apply", "write", "plain")
            for mode in order:
                if mode == "plain" or mode == "write":
                    baseline.unlink(missing_ok=True)
                else:
                    baseline.write_bytes(saved)
                times[mode].append(run(root, mode, opts.workers))
                if mode == "write" and baseline.read_bytes() != saved:
                    sys.exit("the rewritten baseline differs from the first one")
        med = {m: statistics.median(t) for m, t in times.items()}
        print(f"baseline file: {size / 1024:.0f} KiB")
        for m in ("plain", "write", "apply"):
            print(f"{m:<6} median {med[m]:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in times[m])})")
        print(f"write / plain = {med['write'] / med['plain']:.3f}")
        print(f"apply / plain = {med['apply'] / med['plain']:.3f}")


if __name__ == "__main__":
    main()

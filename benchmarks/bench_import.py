"""The plugin's cost with guardrails off, measured side by side in one run.

Prints (1) ``python -X importtime`` of ``pytest_guardrails.plugin`` (what pytest imports through
the ``pytest11`` entry point) and (2) the wall time of ``pytest --collect-only`` on a tiny
project with the plugin loaded (``-p guardrails``) vs an empty plugin module loaded the same way
(``-p emptyplugin``: pytest's own entry-point lookup for ``-p`` costs the same in both),
interleaved, median of N runs, and (3) the time spent inside the plugin's hooks during one
such run (cProfile, cumulative time of each hook). On a shared machine the wall-time difference
(2) swings by tens of milliseconds between runs; (1) and (3) are the plugin's own share.

    python benchmarks/bench_import.py [runs]
"""

from __future__ import annotations

import os
from pathlib import Path
import statistics
import subprocess
import sys
import tempfile
import time


def import_time_us() -> int:
    """Cumulative import time of the plugin module, after pytest itself is imported."""
    code = "import pytest; import pytest_guardrails.plugin"
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code],
                          capture_output=True, text=True, check=True, timeout=120)
    total = 0
    for line in proc.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2].strip() in ("pytest_guardrails", "pytest_guardrails.plugin"):
            total += int(parts[0])  # self time of our own modules
        if len(parts) == 3 and parts[2] == "pytest_guardrails.plugin":
            cumulative = int(parts[1])
            return max(total, cumulative)
    raise RuntimeError("pytest_guardrails.plugin not in -X importtime output")


HOOKS = ("pytest_addoption", "pytest_addhooks", "pytest_load_initial_conftests", "pytest_configure")


def hook_time_ms(project: Path) -> float:
    """Cumulative time inside the plugin's hook functions during one collect-only run."""
    import pstats

    out = project / "profile.out"
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), "-m", "pytest", "--collect-only",
                    "-q", "-p", "no:cacheprovider", "-p", "guardrails"],
                   cwd=project, env=env, capture_output=True, check=False, timeout=120)
    stats = pstats.Stats(str(out)).stats  # (file, line, name) -> (cc, nc, tottime, cumtime, callers)
    total = 0.0
    for (filename, _, name), row in stats.items():
        if "pytest_guardrails" in str(filename) and name in HOOKS:
            total += float(row[3])
    out.unlink()
    return total * 1000


def pytest_wall(project: Path, *args: str) -> float:
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONPATH": str(project)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
                   cwd=project, env=env, capture_output=True, check=False, timeout=120)
    return time.perf_counter() - start


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.guardrails]\nmode = "strict"\n')
        (project / "test_x.py").write_text("def test_x():\n    pass\n")
        (project / "emptyplugin.py").write_text("")
        on: list[float] = []
        off: list[float] = []
        for _ in range(runs):
            on.append(pytest_wall(project, "-p", "guardrails"))
            off.append(pytest_wall(project, "-p", "emptyplugin"))
        imports = sorted(import_time_us() for _ in range(5))
        hooks = sorted(hook_time_ms(project) for _ in range(5))
    delta = statistics.median(on) - statistics.median(off)
    print(f"import pytest_guardrails.plugin (-X importtime, median of 5): {imports[2] / 1000:.2f} ms")
    print(f"time inside the plugin's hooks, guardrails off (cProfile, median of 5): {hooks[2]:.2f} ms")
    print(f"pytest --collect-only, plugin loaded, guardrails off (median of {runs}): "
          f"{statistics.median(on) * 1000:.1f} ms")
    print(f"pytest --collect-only, empty plugin instead     (median of {runs}): "
          f"{statistics.median(off) * 1000:.1f} ms")
    print(f"plugin cost with guardrails off: {delta * 1000:+.1f} ms "
          f"(ratio {statistics.median(on) / statistics.median(off):.3f}x; goal: under 30 ms)")


if __name__ == "__main__":
    main()

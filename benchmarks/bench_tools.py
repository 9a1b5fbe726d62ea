"""Wall time of ``pytest -n 2 --guardrails-only`` against the slowest raw tool on one tree.

The tree is a real project: an sdist from PyPI (``pip download --no-binary :all: --no-deps``)
unpacked into a fresh git repository in a temporary directory. Each round times, side by side,
plain ``ruff check .``, then plain ``pyright`` and the guardrails run, which of those two first
alternating between rounds (give an even ``--rounds`` so each follows the other equally often).
Each round's ratio compares the guardrails run with the slowest tool of the same round (so a
machine whose load drifts between rounds skews both sides alike); the script prints the median
of those ratios with a 95% bootstrap interval, the ratio of the medians, and the CPU time of
each process tree. The goal is a ratio of at most 1.05 on small trees as on large ones: pyright
starts at session start, so the guardrails cost little more than the slowest tool they wrap.
``--package`` may be given several times; each tree is measured in turn and the ratios are
printed together at the end.

``--beside`` adds a fourth command: plain pyright with, started at the same moment, the
guardrails run of everything but pyright (``-k "not pyright"``), timed until both have ended.
It is the work of the guardrails run without its orchestration, so the guardrails run against it
is what starting pyright early, handing its output over and reporting still cost; the rest of
the ratio against plain pyright is the other guardrails and xdist's workers sharing the cores
with it. The three long commands then rotate (give a multiple of 3 as ``--rounds``).

``--timeline`` (Linux) splits the wall time of plain pyright and of the guardrails run into
three: from exec to the moment Node starts pyright (the kernel's start times of both processes,
to 1/100 s), pyright itself, and from its exit to the command's end (a thread of this script
looks at Node's ``/proc`` entry every 5 ms; ``strace -f`` instead slowed the guardrails run's
start-up by a tenth of a second). Those latencies hardly move between rounds, unlike the wall
times, so the script can say how much of the ratio is start-up and hand-over (the
orchestration) and how much is pyright itself running longer beside the other work.

    python benchmarks/bench_tools.py                       # rich 13.7.1, 3 rounds
    python benchmarks/bench_tools.py --package attrs==23.2.0 --package pydantic==2.7.4 --rounds 6
    python benchmarks/bench_tools.py --package attrs==23.2.0 --rounds 6 --timeline
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
import os
from pathlib import Path
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from _sdist import discard
from _sdist import run_env
from _sdist import sdist_repo

from pytest_guardrails import _process

Phases = tuple[float, float, float]


def timed(argv: Sequence[str], cwd: Path, env: dict[str, str], *, node: bool = False
          ) -> tuple[float, float, int, str, Phases | None]:
    """(wall seconds, CPU seconds of the process tree, exit code, output, and with ``node`` the
    run's ``phases``)."""
    return timed_together([argv], cwd, env, node=node)


def timed_together(argvs: Sequence[Sequence[str]], cwd: Path, env: dict[str, str], *,
                   node: bool = False) -> tuple[float, float, int, str, Phases | None]:
    """``timed`` of commands started at the same moment, until the last has ended; the exit
    code, output and phases are the first command's."""
    with tempfile.TemporaryFile() as first, tempfile.TemporaryFile() as rest:
        # files, not pipes: a pipe nobody reads while the first command runs could fill and
        # stall the others
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        procs = [subprocess.Popen(argv, cwd=cwd, env=env, stdout=first if i == 0 else rest,
                                  stderr=subprocess.STDOUT) for i, argv in enumerate(argvs)]
        watch = NodeWatch(procs[0].pid) if node else None
        if watch is not None:
            watch.start()
        for proc in procs:
            proc.wait()  # no timeout: Popen.wait(timeout) wakes 20 times a second, beside the tools
        ended = time.perf_counter()
        wall = ended - start
        got = None
        if watch is not None:
            watch.done.set()
            watch.join()
            got = phases(watch, start, ended)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        first.seek(0)
        output = first.read().decode("utf-8", "replace")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, procs[0].returncode, output, got


GOAL = 1.05
#: seconds between two looks at Node's /proc entry (its end), and at /proc for it (its start)
LOOK, SCAN = 0.005, 0.05


class NodeWatch(threading.Thread):
    """Finds the Node process running pyright's ``index.js`` that ``parent`` starts, and
    records when it started (the kernel's start time, in clock ticks since boot) and when it
    ended (seen from here)."""

    def __init__(self, parent: int) -> None:
        super().__init__(daemon=True)
        self.parent = parent
        self.parent_start = int(_stat(parent)[19])
        self.node_start: int | None = None
        self.node_end: float | None = None
        self.done = threading.Event()

    def run(self) -> None:
        pid = None
        while pid is None and not self.done.is_set():
            pid = self._find()
            if pid is None:
                self.done.wait(SCAN)
        if pid is None:
            return
        while not self.done.is_set():
            try:
                gone = _stat(pid)[0] == "Z"
            except OSError:
                gone = True
            if gone:
                self.node_end = time.perf_counter()
                return
            time.sleep(LOOK)

    def _find(self) -> int | None:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if b"index.js" not in fh.read():
                        continue
                fields = _stat(int(entry))
            except OSError:
                continue
            if int(fields[1]) == self.parent:
                self.node_start = int(fields[19])
                return int(entry)
        return None


def _stat(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name: state, ppid, ... (field 22 of
    proc(5), the start time in clock ticks, is index 19)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        return fh.read().rsplit(")", 1)[1].split()


def phases(watch: NodeWatch, started: float, ended: float) -> Phases | None:
    """(exec to pyright's Node process, that process's life, its end to the command's end), in
    seconds; None if no Node ran ``index.js``."""
    if watch.node_start is None or watch.node_end is None:
        return None
    start = (watch.node_start - watch.parent_start) / os.sysconf("SC_CLK_TCK")
    end = ended - watch.node_end
    return start, ended - started - start - end, end


def interval(ratios: Sequence[float], resamples: int = 2000) -> tuple[float, float]:
    """A 95% bootstrap interval of the median of ``ratios`` (fixed seed: the same rounds give
    the same interval). On this shared machine one round's ratio can move by 10%, so whether a
    median of a few rounds is under the goal says less than where this interval lies."""
    rng = random.Random(0)
    medians = sorted(statistics.median(rng.choices(ratios, k=len(ratios)))
                     for _ in range(resamples))
    return medians[int(0.025 * resamples)], medians[int(0.975 * resamples) - 1]


def counterbalanced(names: Sequence[str], r: int) -> list[str]:
    """The order of round ``r``: ruff first, then pyright and the guardrails run, which of the
    two goes first alternating between rounds (three long commands rotate). This machine's
    speed drifts within a round (a run straight after another long one can be a second slower
    or faster than one after a pause), so each follows the others equally often and a drift
    skews none."""
    first, *rest = names
    if len(rest) == 2:
        return [first, *(rest if r % 2 == 0 else reversed(rest))]
    shift = r % len(rest)
    return [first, *rest[shift:], *rest[:shift]]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--package", action="append",
                        help="requirement of the sdist (repeatable; default rich==13.7.1)")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each command")
    parser.add_argument("--keep", action="store_true", help="keep the temporary tree")
    parser.add_argument("--autoload", action="store_true",
                        help="let pytest load every installed plugin (default: only this plugin "
                             "and xdist, so unrelated plugins' start-up is not measured)")
    parser.add_argument("--beside", action="store_true",
                        help="also time pyright with the other guardrails running beside it")
    parser.add_argument("--timeline", action="store_true",
                        help="split the wall time of pyright and the guardrails run into start-up, "
                             "pyright and the end (Linux)")
    opts = parser.parse_args(argv)
    results: dict[str, tuple[float, float, tuple[float, float]]] = {}
    for package in opts.package or ["rich==13.7.1"]:
        code = measure(package, opts, results)
        if code:
            return code
    print()
    for package, (median_of_ratios, ratio_of_medians, (low, high)) in results.items():
        print(f"{package}: pytest -n 2 --guardrails-only / slowest tool: median of the rounds' "
              f"ratios {median_of_ratios:.3f} (95% interval {low:.3f}-{high:.3f}), ratio of the "
              f"medians {ratio_of_medians:.3f} "
              f"(goal <= {GOAL})")
    return 0


def print_timeline(split: dict[str, list[Phases]], guarded: str,
                   raw_wall: Sequence[float]) -> None:
    """The medians of each command's three phases, and of each round's differences."""
    print("\ntimeline (medians, seconds): exec to pyright's start | pyright | its end to exit")
    for name, rows in split.items():
        start, life, end = (statistics.median(column) for column in zip(*rows))
        print(f"  {name:<32} {start:6.3f} | {life:7.2f} | {end:6.3f}")
    rounds = list(zip(split["pyright"], split[guarded], raw_wall))
    later = [ours[0] - raw[0] for raw, ours, _ in rounds]
    longer = [ours[1] / raw[1] for raw, ours, _ in rounds]
    after = [ours[2] - raw[2] for raw, ours, _ in rounds]
    own = [1 + (ours[0] - raw[0] + ours[2] - raw[2]) / wall for raw, ours, wall in rounds]
    low, high = interval(own)
    print(f"{guarded} against pyright, per round: pyright starts "
          f"{statistics.median(later):.3f} s later and its end reaches the exit "
          f"{statistics.median(after):.3f} s later (the orchestration: "
          f"{statistics.median(own):.3f} of pyright's wall time, 95% interval {low:.3f}-{high:.3f}); "
          f"pyright itself runs {statistics.median(longer):.3f} as long (the cores it shares)")


def measure(package: str, opts: argparse.Namespace,
            results: dict[str, tuple[float, float, tuple[float, float]]]) -> int:
    ruff, pyright = _process.which("ruff"), _process.which("pyright")
    if ruff is None or pyright is None:
        print("ruff and pyright must be installed next to this Python", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="bench-guardrails-"))
    try:
        tree = sdist_repo(package, workdir)
        env = run_env(PYRIGHT_PYTHON_IGNORE_WARNINGS="1")
        if not opts.autoload:
            env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        plugins = [] if opts.autoload else ["-p", "guardrails", "-p", "xdist"]
        commands = {
            "ruff check .": [ruff, "check", "--no-cache", "."],
            "pyright": [pyright],
            # -o addopts= : the sdist's own pytest options may need plugins it declares
            # --basetemp: xdist makes pytest's numbered temporary directory, and pytest then
            # deletes older sessions' ones at exit (after a test-suite run, seconds of rm)
            "pytest -n 2 --guardrails-only": [
                sys.executable, "-m", "pytest", *plugins, "-n", "2", "--guardrails-only",
                "-p", "no:cacheprovider", "-o", "addopts=", f"--rootdir={tree}",
                f"--basetemp={workdir / 'basetemp'}"],
        }
        guarded = "pytest -n 2 --guardrails-only"
        beside = "pyright + the rest beside it"
        together = {beside: [[pyright], [*commands[guarded], "-k", "not pyright"]]}
        names = [*commands, *(together if opts.beside else ())]
        wall: dict[str, list[float]] = {name: [] for name in names}
        cpu: dict[str, list[float]] = {name: [] for name in names}
        if opts.timeline and not os.path.isdir("/proc/self"):
            print("--timeline reads /proc (Linux)", file=sys.stderr)
            return 2
        split: dict[str, list[Phases]] = (
            {"pyright": [], guarded: []} if opts.timeline else {})
        ratios: list[float] = []
        print(f"\ntree: {package} ({sum(1 for _ in tree.rglob('*.py'))} .py files) at {tree}")
        print(f"tools: {_process.tool_version(ruff)}, pyright via {pyright}, {os.cpu_count()} CPUs")
        print(f"pytest plugins: {'all installed' if opts.autoload else 'guardrails and xdist only'}")
        print(f"load average at start: {os.getloadavg()[0]:.2f}")
        for r in range(opts.rounds):
            order = counterbalanced(names, r)
            for name in order:
                seconds, cpu_seconds, code, output, got = (
                    timed(commands[name], tree, env, node=name in split) if name in commands
                    else timed_together(together[name], tree, env))
                if name in split:
                    if got is None:
                        print(f"no pyright process seen in {name}", file=sys.stderr)
                        return 1
                    split[name].append(got)
                wall[name].append(seconds)
                cpu[name].append(cpu_seconds)
                print(f"  round {r + 1}: {name:<32} {seconds:7.2f} s wall {cpu_seconds:7.2f} s CPU"
                      f"  (exit {code})")
                if name == guarded and code not in (0, 1):
                    print(output[-3000:])
                    return 1
            slowest_now = max(wall["ruff check ."][-1], wall["pyright"][-1])
            ratios.append(wall[guarded][-1] / slowest_now)
            print(f"  round {r + 1}: ratio {ratios[-1]:.3f}")
        print(f"load average at end: {os.getloadavg()[0]:.2f}")
        median = {name: statistics.median(ts) for name, ts in wall.items()}
        slowest = max(("ruff check .", "pyright"), key=lambda n: median[n])
        print()
        for name in names:
            spread = ", ".join(f"{t:.2f}" for t in wall[name])
            print(f"{name:<32} wall median {median[name]:7.2f} s ({spread}); "
                  f"CPU median {statistics.median(cpu[name]):7.2f} s")
        low, high = interval(ratios)
        results[package] = (statistics.median(ratios), median[guarded] / median[slowest],
                            (low, high))
        print(f"ratio, {guarded} / {slowest}: median of the rounds' ratios "
              f"{results[package][0]:.3f} (95% interval {low:.3f}-{high:.3f}), ratio of the "
              f"medians {results[package][1]:.3f} (goal <= {GOAL})")
        if split:
            print_timeline(split, guarded, wall["pyright"])
        if opts.beside:
            own = [w / b for w, b in zip(wall[guarded], wall[beside])]
            shared = [b / p for b, p in zip(wall[beside], wall["pyright"])]
            (low, high), (s_low, s_high) = interval(own), interval(shared)
            print(f"of which: {beside} / pyright {statistics.median(shared):.3f} (95% interval "
                  f"{s_low:.3f}-{s_high:.3f}): the same work sharing the cores; {guarded} / "
                  f"{beside} {statistics.median(own):.3f} (95% interval {low:.3f}-{high:.3f}): "
                  "the orchestration")
        return 0
    finally:
        discard(workdir, opts.keep)


if __name__ == "__main__":
    raise SystemExit(main())

"""The pre-commit hook, end to end: ``pre-commit try-repo <this checkout> guardrails --all-files``
fails on a repository with strict findings and passes on a clean one. Also measures what
pre-commit's environment for the hook costs (it installs this package with ruff and pyright +
Node): install time and size on disk.

Too slow for the test suite (pre-commit builds the environment from scratch each time, about
a minute and a half here), so it is a script:

    python -m pip install pre-commit
    python benchmarks/pre_commit_hook.py [CHECKOUT]

CHECKOUT defaults to this repository; pre-commit uses its committed HEAD (plus changes to
tracked files). Exit status 0 when both verdicts are right.
"""

from __future__ import annotations

import os
from pathlib import Path
import shutil
import subprocess
import sys
import tempfile
import time

PYPROJECT = """\
[project]
name = "demo"
version = "1.0.0"

[tool.guardrails.version-ssot]
source = "pyproject.toml"
key = "project.version"
files = ["README.md"]
"""
CLEAN = {
    "pyproject.toml": PYPROJECT,
    "README.md": "---\nversion: 1.0.0\n---\n# demo\n",
    "app/__init__.py": "def main() -> int:\n    return 0\n",
}
DIRTY = {
    **CLEAN,
    "README.md": "---\nversion: 0.9.0\n---\n# demo\n",  # a stale version
    "app/unused.py": "import os\n",  # an unused import
}
ENV = {**os.environ, "GIT_AUTHOR_NAME": "demo", "GIT_AUTHOR_EMAIL": "demo@example.invalid",
       "GIT_COMMITTER_NAME": "demo", "GIT_COMMITTER_EMAIL": "demo@example.invalid"}


def make_repo(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    for args in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-qm", "init")):
        subprocess.run(("git", *args), cwd=root, env=ENV, check=True)
    return root


def pre_commit(cwd: Path, home: Path, *args: str) -> tuple[int, str, float]:
    start = time.perf_counter()
    proc = subprocess.run((sys.executable, "-m", "pre_commit", *args), cwd=cwd, capture_output=True,
                          text=True, env={**ENV, "PRE_COMMIT_HOME": str(home)}, timeout=900)
    return proc.returncode, proc.stdout + proc.stderr, time.perf_counter() - start


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main(argv: list[str]) -> int:
    checkout = Path(argv[0] if argv else Path(__file__).resolve().parent.parent).resolve()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for name, files, want in (("dirty", DIRTY, 1), ("clean", CLEAN, 0)):
            repo = make_repo(base / name, files)
            rc, out, secs = pre_commit(repo, base / f"home-{name}", "try-repo", str(checkout),
                                       "guardrails", "--all-files")
            verdict = "as expected" if rc == want else f"WRONG (expected {want})"
            print(f"== try-repo on the {name} repository: exit {rc}, {verdict}, {secs:.0f} s "
                  "(environment install included)")
            lines = out.splitlines()
            start = next((i for i, ln in enumerate(lines) if ln.startswith("guardrails (strict)")), 0)
            print("\n".join(lines[start:]))
            ok &= rc == want
        # the environment pre-commit keeps for a configured hook: install it once, measure it
        rev = subprocess.run(("git", "rev-parse", "HEAD"), cwd=checkout, capture_output=True,
                             text=True, check=True).stdout.strip()
        repo = base / "clean"
        (repo / ".pre-commit-config.yaml").write_text(
            f"repos:\n- repo: {checkout}\n  rev: {rev}\n  hooks:\n  - id: guardrails\n",
            encoding="utf-8")
        home = base / "home-configured"
        rc, out, secs = pre_commit(repo, home, "install-hooks")
        if rc:
            print(out)
            return 1
        envs = [p for p in home.rglob("py_env-*") if p.is_dir()]
        size = sum(du(p) for p in envs)
        print(f"== pre-commit install-hooks: {secs:.0f} s, environment {size / 2**20:.0f} MiB")
        site = next((p for e in envs for p in e.rglob("site-packages")), None)
        if site is not None:
            sizes = sorted(((du(p) if p.is_dir() else p.stat().st_size, p.name)
                            for p in site.iterdir()), reverse=True)[:5]
            print("   largest: " + ", ".join(f"{n} {s / 2**20:.0f} MiB" for s, n in sizes))
        rc, out, secs = pre_commit(repo, home, "run", "guardrails", "--all-files")
        print(f"== pre-commit run guardrails --all-files, environment installed: exit {rc}, "
              f"{secs:.1f} s")
        ok &= rc == 0
        shutil.rmtree(home, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

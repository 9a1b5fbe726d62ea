"""A PyPI sdist as a git repository, for the benchmarks that time guardrails on real code."""

from __future__ import annotations

import os
from pathlib import Path
import shutil
import subprocess
import sys
import tarfile

GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}


def run_env(**extra: str) -> dict[str, str]:
    """The environment of a timed run: this one without pytest's and the guardrails' own
    variables and without ``PYTHONDONTWRITEBYTECODE``. A machine that sets it recompiles an
    editable install's modules on every start, which no installed package does (pip compiles
    them on install): the timings are a user's, not that machine's."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "STRICT_")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def sdist_repo(requirement: str, workdir: Path, sdist: Path | None = None) -> Path:
    """Download the sdist of ``requirement`` (or take ``sdist``), unpack it under ``workdir``
    and commit it to a new git repository; returns the repository's root."""
    if sdist is None:
        download = workdir / "download"
        subprocess.run(
            (sys.executable, "-m", "pip", "download", "--quiet", "--no-binary", ":all:",
             "--no-deps", requirement, "-d", str(download)),
            check=True, timeout=600,
        )
        (sdist,) = download.iterdir()
    src = workdir / "src"
    with tarfile.open(sdist) as tar:
        if hasattr(tarfile, "data_filter"):  # Python >= 3.9.17 / 3.11.4 / 3.12
            tar.extractall(src, filter="data")
        else:  # a PyPI sdist we asked for by name and version
            tar.extractall(src)
    (tree,) = src.iterdir()
    if not (tree / "pyproject.toml").is_file():  # the guardrails anchor on it
        (tree / "pyproject.toml").write_text("", encoding="utf-8")
    env = {**os.environ, **GIT_ENV}
    for args in (("init", "-q"), ("add", "-A"), ("commit", "-qm", f"{requirement} sdist")):
        subprocess.run(("git", "-c", "init.defaultBranch=main", *args), cwd=tree, env=env,
                       check=True, capture_output=True, timeout=600)
    return tree


def discard(workdir: Path, keep: bool) -> None:
    """Remove a benchmark's temporary tree, or say where it is kept (``--keep``)."""
    if keep:
        print(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)

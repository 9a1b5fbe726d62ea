"""The adoption kits: the pre-commit hook's manifest and command, and the composite Action's own
shell steps, run for real (only GitHub's ``uses:`` steps are left out)."""

from __future__ import annotations

import json
import os
from pathlib import Path
import re
import shlex
import subprocess
import sys
from typing import Any

import yaml

from conftest import Backend

ROOT = Path(__file__).resolve().parent.parent
STALE = {"README.md": "---\nversion: 0.7.2\n---\n# Backend\n"}
ITEM = "pyproject.toml::version-ssot[libs/schemas]"
# a project whose pytest setup needs plugins the hook's environment does not have
HOSTILE_PYTEST = """
[tool.pytest.ini_options]
addopts = ["--cov=app", "-p", "pytest_randomly"]
timeout = 5
asyncio_mode = "auto"
filterwarnings = ["error"]
"""


def hook() -> dict[str, Any]:
    (entry,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    return entry


def test_pre_commit_manifest() -> None:
    h = hook()
    assert (h["id"], h["language"], h["pass_filenames"], h["always_run"]) == (
        "guardrails", "python", False, True)
    assert "--guardrails-mode=strict" in h["entry"].split()
    from pre_commit import clientlib

    (loaded,) = clientlib.load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    assert loaded["id"] == "guardrails"


def run_entry(backend: Backend) -> subprocess.CompletedProcess[str]:
    """The hook's command as pre-commit runs it: in the repository root, no file names, with
    plugin autoloading (the environment has this package installed)."""
    argv = shlex.split(hook()["entry"])
    assert argv[0] == "python"
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}
    return subprocess.run([sys.executable, *argv[1:], "-p", "no:cacheprovider", ITEM],
                          cwd=backend.path, env=env, capture_output=True, text=True, timeout=300)


def test_hook_command_strict_despite_the_projects_pytest_setup(backend: Backend) -> None:
    backend.write({"pyproject.toml": (backend.path / "pyproject.toml").read_text() + HOSTILE_PYTEST})
    clean = run_entry(backend)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    backend.write(STALE)
    dirty = run_entry(backend)
    assert dirty.returncode == 1, dirty.stdout + dirty.stderr
    assert "README.md:2: version '0.7.2' != '0.7.3' (libs/schemas/version.json schemaVersion)" in dirty.stdout


_EXPR = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def run_action(backend: Backend, tmp_path: Path, **inputs: str) -> dict[str, Any]:
    """Run the composite Action's ``run:`` steps with bash as a runner would, its inputs at their
    defaults unless given; ``uses:`` steps and the install step are skipped (setup-python,
    uploads; the package is installed here already)."""
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    values = {f"inputs.{k}": str(v.get("default", "")) for k, v in action["inputs"].items()}
    values.update({f"inputs.{k.replace('_', '-')}": v for k, v in inputs.items()})
    values["github.action_path"] = str(ROOT)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    env_base = {**os.environ, "RUNNER_TEMP": str(runner_temp),
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env_base.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
    codes: dict[str, int] = {}
    for step in action["runs"]["steps"]:
        if "run" not in step or step.get("name") == "Install pytest-guardrails":
            continue
        sid = step.get("id") or step["name"]
        out = tmp_path / f"output-{len(codes)}"
        out.write_text("")
        env = {**env_base, "GITHUB_OUTPUT": str(out)}
        env.update({k: _EXPR.sub(lambda m: values[m.group(1)], str(v)) for k, v in step.get("env", {}).items()})
        cwd = _EXPR.sub(lambda m: values[m.group(1)], step.get("working-directory", "."))
        proc = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=backend.path / cwd, env=env,
                              capture_output=True, text=True, timeout=300)
        codes[sid] = proc.returncode
        for line in out.read_text().splitlines():
            key, _, value = line.partition("=")
            values[f"steps.{sid}.outputs.{key}"] = value
    return {"codes": codes, "values": values}


def test_action_runs_strict_with_junit_and_sarif(backend: Backend, tmp_path: Path) -> None:
    backend.write(STALE)
    got = run_action(backend, tmp_path, args=f"-p no:cacheprovider {ITEM}")
    assert got["codes"] == {"paths": 0, "Guardrails (strict)": 1, "written": 0}
    values = got["values"]
    junit, sarif = Path(values["steps.paths.outputs.junit"]), Path(values["steps.paths.outputs.sarif"])
    assert junit.parent == sarif.parent == tmp_path / "runner-temp" / "pytest-guardrails"
    assert values["steps.written.outputs.sarif"] == "true"
    assert 'failures="1"' in junit.read_text(encoding="utf-8")
    (result,) = json.loads(sarif.read_text(encoding="utf-8"))["runs"][0]["results"]
    assert (result["level"], result["ruleId"]) == ("error", "version-ssot")
    assert not (backend.path / "guardrails.xml").exists()  # nothing written into the checkout


def test_action_passes_on_a_clean_repository(backend: Backend, tmp_path: Path) -> None:
    got = run_action(backend, tmp_path, args=f"-p no:cacheprovider {ITEM}")
    assert got["codes"] == {"paths": 0, "Guardrails (strict)": 0, "written": 0}


def test_action_pins_actions_to_commits() -> None:
    text = (ROOT / "action.yml").read_text(encoding="utf-8")
    workflow = (ROOT / ".github" / "workflows" / "preflight-guardrails.yml").read_text(encoding="utf-8")
    uses = re.findall(r"uses: (\S+)", text + workflow)
    assert uses and all(u == "./" or re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", u) for u in uses), uses
    assert "security-events: write" in workflow and "uses: ./" in workflow

"""GitHub Actions outputs: annotations within GitHub's limits, the step summary, inert text."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import BACKEND_PYPROJECT
from conftest import Backend
from pytest_guardrails.api import Finding
from pytest_guardrails.outputs import github
from pytest_guardrails.report import Outcome
from pytest_guardrails.report import Row

ITEMS = ("pyproject.toml::version-ssot[libs/schemas]", "pyproject.toml::legacy-examples")
LEGACY = '{{\n  "n": {n},\n  "note": "Auto-converted from legacy bundle"\n}}\n'


def commands(result: pytest.RunResult) -> list[str]:
    """Every line of the run's output that GitHub would read as a workflow command."""
    lines = [*result.outlines, *result.errlines]
    return [ln for ln in lines if ln.lstrip().startswith("::")]


@pytest.fixture
def forty(backend: Backend) -> Backend:
    """15 stale versions (version-ssot, strict) and 25 legacy-examples findings (warn), one of
    them an unreadable example."""
    pyproject = BACKEND_PYPROJECT.replace(
        'files = ["README.md", "docs/**/*.md"]', 'files = ["README.md", "docs/**/*.md"]\nmode = "strict"')
    files: dict[str, str | bytes] = {"pyproject.toml": pyproject}
    files.update({f"docs/stale{n:02}.md": "---\nversion: 0.7.1\n---\n" for n in range(15)})
    files.update({f"examples/e{n:02}.json": LEGACY.format(n=n) for n in range(24)})
    files["examples/zz_broken.json"] = '{"note": '
    backend.write(files)
    return backend


def test_forty_findings_twenty_annotations_then_one_line(
        forty: Backend, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = forty.run("--guardrails-only", *ITEMS)
    result.assert_outcomes(failed=1, xfailed=1)
    cmds = commands(result)
    errors = [c for c in cmds if c.startswith("::error ")]
    warnings = [c for c in cmds if c.startswith("::warning ")]
    assert (len(errors), len(warnings), len(cmds)) == (10, 10, 20)
    # most severe first: strict failures, then warn mode; within warn, the unreadable input first
    assert cmds[:10] == errors
    assert warnings[0].startswith("::warning file=examples/zz_broken.json,line=1,col=10,"
                                  "title=legacy-examples::")
    assert all("file=docs/stale" in c for c in errors)
    result.stdout.fnmatch_lines([
        "guardrails: 20 more not annotated (5 error, 15 warning; GitHub shows at most 10 error and "
        "10 warning annotations per step): all findings are listed in this log and in the job summary",
    ])
    md = summary.read_text(encoding="utf-8")
    assert md.startswith("## pytest-guardrails\n\n| guardrail | target | outcome | findings |\n")
    assert "| legacy\\-examples | \\. | xfailed | 24 |" in md
    assert "| version\\-ssot | libs\\/schemas | failed | 15 |" in md
    assert "### pyproject\\.toml\\:\\:version\\-ssot\\[libs\\/schemas\\] (failed)" in md
    bullets = [ln for ln in md.splitlines() if ln.startswith("- ")]
    assert len(bullets) == 40
    assert "- docs\\/stale07\\.md\\:2\\: version \\'0\\.7\\.1\\' \\!\\= \\'0\\.7\\.3\\'" in md
    assert "<pre>\nhow to fix: set `version: 0.7.3`" in md


@pytest.mark.parametrize("args", [("-q",), ("-q", "--no-summary"), ("-v", "--no-summary")])
def test_each_command_starts_a_line(forty: Backend, monkeypatch: pytest.MonkeyPatch,
                                    args: tuple[str, ...]) -> None:
    """After a progress line, and without the terminal summary (as IDEs run pytest)."""
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = forty.run("--guardrails-only", *args, *ITEMS)
    assert len(commands(result)) == 20
    assert [ln for ln in result.outlines if "::error " in ln or "::warning " in ln
            if not ln.startswith("::")] == []
    result.stdout.fnmatch_lines(["guardrails: 20 more not annotated *"])


def test_no_annotations_outside_github_actions(forty: Backend) -> None:
    result = forty.run("--guardrails-only", *ITEMS)
    assert commands(result) == []
    assert "more not annotated" not in result.stdout.str()


def test_a_step_summary_without_github_actions(
        forty: Backend, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A runner that provides only ``GITHUB_STEP_SUMMARY`` gets the summary, no commands."""
    summary = tmp_path / "step-summary.md"
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = forty.run("--guardrails-only", *ITEMS)
    assert commands(result) == []
    assert "| version\\-ssot | libs\\/schemas | failed | 15 |" in summary.read_text(encoding="utf-8")


def test_outside_github_the_output_is_not_even_imported(
        forty: Backend, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "github_probe.py").write_text(
        "import sys\n\n\ndef pytest_unconfigure(config):\n"
        "    print('github output imported:', 'pytest_guardrails.outputs.github' in sys.modules)\n",
        encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(probe))
    result = forty.pytester.runpytest_subprocess(
        "-p", "guardrails", "-p", "no:cacheprovider", "-p", "github_probe", "--guardrails-only",
        *ITEMS)
    result.assert_outcomes(failed=1, xfailed=1)
    result.stdout.fnmatch_lines(["github output imported: False"])
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = forty.pytester.runpytest_subprocess(
        "-p", "guardrails", "-p", "no:cacheprovider", "-p", "github_probe", "--guardrails-only",
        *ITEMS)
    result.stdout.fnmatch_lines(["github output imported: True"])
    assert len(commands(result)) == 20


def test_file_name_cannot_start_a_workflow_command(
        backend: Backend, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    evil = "docs/x\n::error::X\r%0A::warning::Y <b>|.md"
    backend.write({evil: "---\nversion: 0.7.1\n---\n"})
    result = backend.run("--guardrails-only", "--guardrails-mode=strict", ITEMS[0])
    result.assert_outcomes(failed=1)
    cmds = commands(result)
    assert len(cmds) == 1, cmds
    assert cmds[0] == ("::error file=docs/x\\n%3A%3Aerror%3A%3AX\\r%250A%3A%3Awarning%3A%3AY <b>|.md,"
                       "line=2,title=version-ssot[libs/schemas]::version '0.7.1' != '0.7.3' "
                       "(libs/schemas/version.json schemaVersion)")
    assert not any(ln.startswith(("::error::X", "::warning::Y")) for ln in result.outlines)
    md = summary.read_text(encoding="utf-8")
    assert "- docs\\/x\\\\n\\:\\:error\\:\\:X\\\\r\\%0A\\:\\:warning\\:\\:Y \\<b\\>\\|\\.md\\:2\\:" in md
    assert "<b>" not in md


def test_paths_relative_to_the_workspace(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The repository is a subdirectory of the checkout: annotations name the path from there."""
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(backend.path.parent))
    backend.write({"docs/guide.md": "---\nversion: 0.7.1\n---\n"})
    result = backend.run("--guardrails-only", ITEMS[0])
    assert commands(result) == [
        f"::warning file={backend.path.name}/docs/guide.md,line=2,title=version-ssot[libs/schemas]::"
        "version '0.7.1' != '0.7.3' (libs/schemas/version.json schemaVersion)"]


def test_with_annotate_failures_plugin_no_duplicates(
        forty: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pytest_github_actions_annotate_failures")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    forty.write({"docs/stale03.md": "not frontmatter\n"})  # version-ssot: 14 stale + 1 unreadable
    forty.write({"tests/test_app.py": "def test_app():\n    assert False\n"})
    result = forty.run("--guardrails", "-p", "pytest_github_actions_annotate_failures",
                       "tests", *ITEMS)
    result.assert_outcomes(failed=2, xfailed=1)
    cmds = commands(result)
    errors = [c for c in cmds if c.startswith("::error ")]
    theirs = [c for c in errors if "title=" not in c]
    # the plugin: the failed test and the failed guardrail item (at its location in pyproject.toml)
    assert len(theirs) == 2
    assert any(c.startswith("::error file=pyproject.toml,") for c in theirs)
    assert len(errors) == 10
    assert len([c for c in cmds if c.startswith("::warning ")]) == 10
    result.stdout.fnmatch_lines(["guardrails: 22 more not annotated (7 error, 15 warning; *"])


def _row(nodeid: str, word: str, findings: list[Finding], mode: str = "strict") -> Row:
    name = nodeid.split("::", 1)[1]
    text = "\n".join([f"{name}: {len(findings)} findings", *map(str, findings), "how to fix: x"])
    return (nodeid, Outcome(name, ".", mode, "findings", reason=f"{name}: {len(findings)} findings",
                            findings=tuple(findings), text=text), word)


def test_step_summary_stays_within_the_limit() -> None:
    findings = [Finding("m" * 200, f"f{n}.py", n) for n in range(10_000)]
    rows = [_row("pyproject.toml::forbid-x", "failed", findings)]
    md = github.step_summary(rows)
    assert len(md.encode()) <= github.SUMMARY_BYTES
    shown = md.count("\n- ")
    assert 4000 < shown < 10_000
    assert md.endswith(f"\n**Truncated:** {10_000 - shown} more findings are not listed here (a GitHub "
                       "step summary holds at most 1 MiB); the job log lists them all.\n")
    small = github.step_summary(rows[:1], budget=2000)
    assert len(small.encode()) <= 2000
    assert "**Truncated:**" in small


def test_step_summary_appends_within_what_is_left(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_text("x" * (github.SUMMARY_BYTES - 3000), encoding="utf-8")
    rows = [_row("pyproject.toml::forbid-x", "failed", [Finding("m", f"f{n}.py", 1) for n in range(500)])]
    github.write_step_summary(rows, str(path))
    assert path.stat().st_size <= github.SUMMARY_BYTES
    assert path.read_text(encoding="utf-8").endswith("the job log lists them all.\n")


def test_markdown_from_the_repository_is_inert() -> None:
    assert github.md("<img src=x onerror=alert(1)> | **b** [l](http://e) @u :+1: \x1b[31m") == (
        "\\<img src\\=x onerror\\=alert\\(1\\)\\> \\| \\*\\*b\\*\\* \\[l\\]\\(http\\:\\/\\/e\\) "
        "\\@u \\:\\+1\\: \\\\x1b\\[31m")

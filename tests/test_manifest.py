"""The codegen manifest: write, verify clean, then each kind of drift; verify without git."""

from __future__ import annotations

import json
from pathlib import Path
import shutil
import subprocess
import sys

import pytest

from conftest import make_git_repo
from conftest import write_files
from pytest_guardrails import manifest

SCHEMAS: dict[str, str | bytes] = {
    "jsonschema/tone.schema.json": '{"type": "object"}\n',
    "jsonschema/shader.schema.json": '{"type": "object"}\n',
    "python/src/pkg/tone.py": "# timestamp: 2025-09-10\nclass Tone:\n    pass\n",
    "python/src/pkg/shader.py": "# timestamp: 2025-09-10\nclass Shader:\n    pass\n",
    "README.md": "not generated\n",
}
WRITE = ["write", "-g", "python", "--input", "jsonschema/*.schema.json",
         "--output", "python/src/pkg", "--ignore-line", r"^#\s*timestamp:",
         "--tool", "datamodel-code-generator", "--tool-version", "0.25.8"]


@pytest.fixture
def schemas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A schemas repo (real git) with a manifest written by the command; cwd is its root."""
    root = make_git_repo(tmp_path / "schemas", SCHEMAS)
    monkeypatch.chdir(root)
    assert manifest.main(WRITE) == 0
    return root


def verify(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    rc = manifest.main(["verify", *args])
    out, err = capsys.readouterr()
    return rc, (out + err).splitlines()


def test_write_then_verify_clean(schemas: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    data = json.loads((schemas / "codegen.manifest.json").read_text(encoding="utf-8"))
    gen = data["generators"]["python"]
    assert data["manifest_version"] == 1
    assert gen["tool"] == "datamodel-code-generator"
    assert gen["tool_version"] == "0.25.8"
    assert gen["inputs"] == ["jsonschema/*.schema.json"]
    assert gen["outputs"] == ["python/src/pkg"]
    assert gen["exclude"] == list(manifest.DEFAULT_EXCLUDE)
    assert sorted(gen["input_files"]) == ["jsonschema/shader.schema.json",
                                          "jsonschema/tone.schema.json"]
    assert sorted(gen["output_files"]) == ["python/src/pkg/shader.py", "python/src/pkg/tone.py"]
    assert gen["output_files"]["python/src/pkg/tone.py"] == manifest.file_hash(
        b"class Tone:\n    pass\n")
    assert verify(capsys) == (0, ["codegen.manifest.json: OK (python: 2 inputs, 2 outputs)"])


def test_rewrite_is_unchanged_and_keeps_the_file(schemas: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = schemas / "codegen.manifest.json"
    mtime = path.stat().st_mtime_ns
    capsys.readouterr()
    assert manifest.main(["write"]) == 0
    assert capsys.readouterr().out == (
        "unchanged: codegen.manifest.json (python: 2 inputs, 2 outputs)\n")
    assert path.stat().st_mtime_ns == mtime


@pytest.mark.parametrize(("change", "expected"), [
    pytest.param(
        {"python/src/pkg/tone.py": "class Tone:\n    edited = True\n"},
        "python/src/pkg/tone.py: generated file differs from the manifest (generator 'python')",
        id="edited-output"),
    pytest.param(
        {"jsonschema/tone.schema.json": '{"type": "string"}\n'},
        "jsonschema/tone.schema.json: generator input changed since the manifest was written "
        "(generator 'python')",
        id="edited-input"),
    pytest.param(
        {"python/src/pkg/stray.py": "X = 1\n"},
        "python/src/pkg/stray.py: file matches the outputs of generator 'python' but is not in "
        "the manifest",
        id="stray-output"),
    pytest.param(
        {"jsonschema/new.schema.json": "{}\n"},
        "jsonschema/new.schema.json: file matches the inputs of generator 'python' but is not in "
        "the manifest",
        id="new-input"),
])
def test_each_drift_is_named(schemas: Path, capsys: pytest.CaptureFixture[str],
                             change: dict[str, str | bytes], expected: str) -> None:
    write_files(schemas, change)
    capsys.readouterr()
    assert verify(capsys) == (1, [
        "codegen.manifest.json: 1 file differs from the manifest",
        expected,
        "how to fix: regenerate, then run `guardrails-manifest write` and commit both",
    ])


def test_deleted_output_and_input(schemas: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (schemas / "python/src/pkg/shader.py").unlink()
    (schemas / "jsonschema/shader.schema.json").unlink()
    capsys.readouterr()
    assert verify(capsys) == (1, [
        "codegen.manifest.json: 2 files differ from the manifest",
        "jsonschema/shader.schema.json: generator input listed in the manifest is missing "
        "(generator 'python')",
        "python/src/pkg/shader.py: generated file listed in the manifest is missing "
        "(generator 'python')",
        "how to fix: regenerate, then run `guardrails-manifest write` and commit both",
    ])


def test_ignored_lines_crlf_and_debris_are_not_drift(schemas: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    write_files(schemas, {
        "python/src/pkg/tone.py": b"# timestamp: 2026-11-26\r\nclass Tone:\r\n    pass\r\n",
        "python/src/pkg/__pycache__/tone.cpython-311.pyc": b"\0\1\2",
        "README.md": "edited, but no generator's file\n",
    })
    capsys.readouterr()
    assert verify(capsys)[0] == 0


def test_binary_files_are_hashed_as_they_are() -> None:
    assert manifest.file_hash(b"a\0\r\n") != manifest.file_hash(b"a\0\n")
    assert manifest.file_hash(b"a\r\nb") == manifest.file_hash(b"a\nb")


def test_verify_on_a_copy_without_git(schemas: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(schemas, copy, ignore=shutil.ignore_patterns(".git"))
    assert not (copy / ".git").exists()
    monkeypatch.chdir(copy)
    monkeypatch.setenv("PATH", "")  # no git binary either
    capsys.readouterr()
    assert verify(capsys) == (0, ["codegen.manifest.json: OK (python: 2 inputs, 2 outputs)"])
    (copy / "python/src/pkg/tone.py").write_text("hacked\n", encoding="utf-8")
    assert verify(capsys)[1][1] == (
        "python/src/pkg/tone.py: generated file differs from the manifest (generator 'python')")


def test_manifest_in_a_subdirectory_and_paths_from_cwd(schemas: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    sub = schemas / "python"
    rc = manifest.main(["write", "-m", "python/gen.json", "-g", "py", "--output", "src/pkg/*.py"])
    assert rc == 0
    data = json.loads((sub / "gen.json").read_text(encoding="utf-8"))
    assert sorted(data["generators"]["py"]["output_files"]) == ["src/pkg/shader.py",
                                                                "src/pkg/tone.py"]
    (sub / "src/pkg/tone.py").write_text("x\n", encoding="utf-8")
    capsys.readouterr()
    assert verify(capsys, "-m", "python/gen.json")[1][1:] == [
        "python/src/pkg/tone.py: generated file differs from the manifest (generator 'py')",
        "how to fix: regenerate, then run `guardrails-manifest write -m python/gen.json` and "
        "commit both",
    ]


def test_update_one_generator_keeps_the_others(schemas: Path) -> None:
    assert manifest.main(["write", "-g", "docs", "--output", "README.md"]) == 0
    assert manifest.main(["write", "-g", "python", "--tool-version", "0.26.0"]) == 0
    gens = manifest.load(schemas / "codegen.manifest.json")
    assert [(g.name, g.tool_version, g.inputs) for g in gens] == [
        ("python", "0.26.0", ("jsonschema/*.schema.json",)), ("docs", None, ())]


@pytest.mark.parametrize(("text", "message"), [
    ("{\n", "codegen.manifest.json:2: error: invalid JSON: Expecting property name enclosed in "
            "double quotes"),
    ('{"manifest_version": 2, "generators": {}}',
     "codegen.manifest.json:1: error: unsupported manifest_version 2 (this version of "
     "pytest-guardrails reads 1)"),
    ('{"manifest_version": 1,\n "generators": {"py": {"outputs": ["../x"]}}}',
     "codegen.manifest.json:2: error: generators.py.outputs[0]: '../x' must be a posix path "
     "relative to the manifest"),
    ('{"manifest_version": 1, "generators": {"py": {"outputs": ["a"], '
     '"output_files": {"a": "md5:0"}}}}',
     "codegen.manifest.json:1: error: generators.py.output_files.a: expected \"sha256:<64 hex "
     "digits>\", got \"md5:0\""),
    ('{"manifest_version": 1, "manifest_version": 1}',
     "codegen.manifest.json: error: invalid manifest: duplicate key 'manifest_version'"),
    ('{"manifest_version": 1, "generators": {"py": {"outputs": ["a"], "tools": "x"}}}',
     "codegen.manifest.json:1: error: generators.py: unknown key 'tools'"),
])
def test_bad_manifest_is_located(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str], text: str,
                                 message: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "codegen.manifest.json").write_text(text, encoding="utf-8")
    assert verify(capsys) == (2, [message])


def test_missing_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert verify(capsys) == (2, ["codegen.manifest.json: error: codegen.manifest.json does not "
                                  "exist"])


def test_write_refuses_an_empty_output_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert manifest.main(["write", "-g", "py", "--output", "gen"]) == 2
    assert capsys.readouterr().err == (
        f"codegen.manifest.json: error: generator 'py': no file matches outputs ['gen'] under "
        f"{tmp_path}\n")
    assert not (tmp_path / "codegen.manifest.json").exists()


def test_python_dash_m_and_console_script(schemas: Path) -> None:
    for cmd in ([sys.executable, "-m", "pytest_guardrails.manifest", "verify"],
                [str(Path(sys.executable).with_name("guardrails-manifest")), "verify"]):
        if not Path(cmd[0]).exists():
            pytest.fail(f"{cmd[0]} is not installed")
        proc = subprocess.run(cmd, cwd=schemas, capture_output=True, text=True, timeout=60,
                              check=False)
        assert (proc.returncode, proc.stdout) == (
            0, "codegen.manifest.json: OK (python: 2 inputs, 2 outputs)\n")


def test_git_blobs_are_what_git_stores(schemas: Path) -> None:
    gen = manifest.load(schemas / "codegen.manifest.json")[0]
    assert gen.git_blobs is not None
    assert sorted(gen.git_blobs) == sorted([*(gen.input_files or {}), *(gen.output_files or {})])
    stored = subprocess.run(("git", "ls-files", "-s", "python/src/pkg/tone.py"), cwd=schemas,
                            capture_output=True, text=True, timeout=60, check=True).stdout
    assert gen.git_blobs["python/src/pkg/tone.py"] == stored.split()[1]


def test_files_git_vouches_for_are_not_read(schemas: Path) -> None:
    path = schemas / "codegen.manifest.json"
    gen = manifest.load(path)[0]
    assert gen.git_blobs is not None
    tone = "python/src/pkg/tone.py"
    (schemas / tone).write_text("edited\n", encoding="utf-8")
    vouched = {tone: gen.git_blobs[tone]}
    assert manifest.verify(path, unchanged=vouched)[1] == []  # taken from git, not re-read
    assert manifest.verify(path, unchanged={tone: "0" * 40})[1] == [
        manifest.Drift(tone, "output-modified", "python")]
    assert manifest.verify(path)[1] == [manifest.Drift(tone, "output-modified", "python")]

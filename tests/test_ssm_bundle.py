"""The runbook's attachment: contents, reproducibility, and that it runs in a clean python3.11."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from remediate.errors import InputError
from remediate.sandbox import Sandbox, build_scenario
from remediate.ssm import bundle as ssm_bundle
from remediate.ssm.document import ATTACHMENT, ENTRY_MODULE, Deploy, runbook
from remediate.ssm.runner import Runner, answer_all


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> ssm_bundle.Bundle:
    return ssm_bundle.build(tmp_path_factory.mktemp("bundle"))


def test_the_bundle_is_reproducible(bundle: ssm_bundle.Bundle, tmp_path: Path) -> None:
    again = ssm_bundle.build(tmp_path)
    assert again.sha256 == bundle.sha256
    assert again.path.read_bytes() == bundle.path.read_bytes()
    with zipfile.ZipFile(bundle.path) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_the_bundle_carries_what_the_handlers_need_and_nothing_else(bundle: ssm_bundle.Bundle) -> None:
    names = set(bundle.entries)
    tops = {n.split("/")[0] for n in names}
    assert bundle.path.name == ATTACHMENT
    assert f"{ENTRY_MODULE}.py" in names
    assert "playbooks/broker-timeout.yaml" in names
    assert {
        "remediate",
        "pydantic",
        "pydantic_core",
        "pydantic_settings",
        "transitions",
        "tenacity",
        "structlog",
    } <= tops
    assert not tops & {"boto3", "botocore", "click", "rich", "moto"}
    assert not [n for n in names if n.startswith("remediate/sandbox/") or "__pycache__" in n]


def test_dependencies_leave_out_what_the_runtime_and_the_cli_provide() -> None:
    deps = ssm_bundle.dependencies()
    assert "pydantic-core" in deps
    assert not set(deps) & {"boto3", "botocore", "click", "rich", "six", "urllib3"}


def _wheel(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def test_wheels_of_two_platforms_merge_side_by_side(tmp_path: Path) -> None:
    common = {"pkg/__init__.py": b"x = 1\n", "pkg-1.0.dist-info/METADATA": b"Name: pkg\n"}
    x86 = _wheel(
        tmp_path / "pkg-1.0-cp311-cp311-manylinux2014_x86_64.whl",
        {**common, "pkg/_c.cpython-311-x86_64-linux-gnu.so": b"x86", "pkg-1.0.dist-info/WHEEL": b"a"},
    )
    arm = _wheel(
        tmp_path / "pkg-1.0-cp311-cp311-manylinux2014_aarch64.whl",
        {**common, "pkg/_c.cpython-311-aarch64-linux-gnu.so": b"arm", "pkg-1.0.dist-info/WHEEL": b"b"},
    )
    files = ssm_bundle.wheel_files([x86, arm])
    assert sorted(files) == [
        "pkg-1.0.dist-info/METADATA",
        "pkg/__init__.py",
        "pkg/_c.cpython-311-aarch64-linux-gnu.so",
        "pkg/_c.cpython-311-x86_64-linux-gnu.so",
    ]
    clash = _wheel(tmp_path / "pkg-1.1-py3-none-any.whl", {"pkg/__init__.py": b"x = 2\n"})
    with pytest.raises(InputError, match="differs"):
        ssm_bundle.wheel_files([x86, clash])


@pytest.mark.slow
def test_the_bundle_runs_the_runbook_in_a_clean_python311(
    bundle: ssm_bundle.Bundle, sandbox: Sandbox, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """A fresh venv with only what SSM's runtime has (boto3) runs every step from the bundle."""
    python311 = shutil.which("python3.11")
    if python311 is None:
        pytest.skip("no python3.11 interpreter on this machine to build a clean environment with")
    venv = tmp_path / "venv"
    subprocess.run([python311, "-m", "venv", "--without-pip", str(venv)], check=True)
    [site] = list((venv / "lib").glob("python3.11/site-packages"))
    for name, data in ssm_bundle.installed_files(sorted(ssm_bundle.RUNTIME_PROVIDED)).items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_bytes(data)
    python = str(venv / "bin" / "python")
    unpacked = tmp_path / "attachment"
    with zipfile.ZipFile(bundle.path) as zf:
        zf.extractall(unpacked)
    probe = (
        f"import sys; sys.path.insert(0, {str(unpacked)!r}); import {ENTRY_MODULE} as m; "
        "assert all(callable(getattr(m, s)) for s in ('plan', 'apply', 'finalize', 'verify', 'cleanup')); "
        "assert not {'click', 'rich', 'moto'} & set(sys.modules); print(m.plan.__module__)"
    )
    out = subprocess.run([python, "-I", "-c", probe], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "remediate.ssm.handlers"

    scn = build_scenario(sandbox, "broker-timeout")
    env = {k: v for k, v in cli_env.items() if k != "PYTHONPATH"}
    runner = Runner(
        runbook(Deploy(approvers=["alice"], attachment=bundle.attachment)),
        approver=answer_all(True),
        bundle=bundle.path,
        python=python,
        env=env,
        region="us-east-1",
        poll_seconds=0.05,
    )
    execution = runner.run(
        {"EsmId": scn.esm_uuid, "Mode": "Apply", "AutomationAssumeRole": "arn:aws:iam::123456789012:role/a"}
    )
    assert execution.status == "Success", execution.failure
    assert sandbox.client("lambda").get_event_source_mapping(UUID=scn.esm_uuid)["BatchSize"] == 1


def test_an_undeclared_import_is_caught_at_build_time() -> None:
    deps = ssm_bundle.dependencies()
    assert "tenacity (tenacity)" not in ssm_bundle.undeclared_imports(deps)
    without = {k: v for k, v in deps.items() if k != "tenacity"}
    assert "tenacity (tenacity)" in ssm_bundle.undeclared_imports(without)

"""An installed wheel (what `pip install .` gives an operator) carries the shipped playbooks."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_carries_every_playbook(tmp_path: Path) -> None:
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = tmp_path.glob("remediate-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {p.name for p in (ROOT / "playbooks").glob("*.yaml")}
    carried = {n.rsplit("/", 1)[-1] for n in names if "/data/share/remediate/playbooks/" in n}
    assert shipped
    assert carried == shipped
    assert "remediate/py.typed" in names
    assert not any(n.startswith("tests/") for n in names)

"""The probe function's zip: built from installed packages, reproducible, and runnable on its own.

The run test starts a Python that sees only the standard library and the zip (`-I -S`), the way Lambda's
runtime sees the deployment package, and invokes the handler against the real broker.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path

from remediate import probe_package
from remediate.probe_request import HANDLER
from tests import kafka_broker as kb
from tests.kafka_broker import Broker


def test_the_zip_is_reproducible_and_holds_the_handler_and_kafka_python() -> None:
    first, second = probe_package.build(), probe_package.build()
    assert first.data == second.data
    assert first.sha256 == second.sha256
    names = zipfile.ZipFile(BytesIO(first.data)).namelist()
    module = HANDLER.rsplit(".", 1)[0]
    assert f"{module.replace('.', '/')}.py" in names
    assert "kafka/__init__.py" in names
    assert "kafka/net/sasl/scram.py" in names
    assert any(n.startswith("kafka_python-LICENSE/") for n in names)
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]
    assert not [n for n in names if n.startswith("remediate/")]  # nothing else of remediate
    assert len(first.data) < 50 * 1024 * 1024


_RUN = """
import importlib, json, sys
sys.path[:0] = [sys.argv[1]]
module, function = sys.argv[2].rsplit(".", 1)
print(json.dumps(getattr(importlib.import_module(module), function)(json.loads(sys.stdin.read()), None)))
"""


def test_the_zip_alone_runs_the_handler_against_a_real_broker(kafka_broker: Broker, tmp_path: Path) -> None:
    archive = tmp_path / "probe.zip"
    archive.write_bytes(probe_package.build().data)
    event = {
        "bootstrap": [f"127.0.0.1:{kafka_broker.plaintext}"],
        "security_protocol": "PLAINTEXT",
        "auth": {"kind": "plaintext", "mechanism": None, "ca_secret_arn": None},
        "topics": [kb.ALLOWED_TOPIC, "missing-topic"],
        "group": kb.ALLOWED_GROUP,
        "deadline_s": 20,
    }
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _RUN, str(archive), HANDLER],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["complete"] is True
    topics = {t["topic"]: t["error_code"] for t in result["topics"]}
    assert topics == {kb.ALLOWED_TOPIC: 0, "missing-topic": 3}
    assert result["group"]["error_code"] == 0

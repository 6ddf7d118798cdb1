"""`remediate probe` end to end: the real CLI against the sandbox, whose Lambda runtime runs the packaged
probe for real against the real Kafka broker (tests/kafka_broker.py). Plan, approval, lock, journal,
create, invoke, delete; nothing is left behind, and a killed run's function is removed by the next run."""

from __future__ import annotations

import json
import signal
from typing import Any

import pytest

from remediate.probe_run import PREFIX, PROBE_TAG, RUN_TAG
from remediate.sandbox import Sandbox, build_scenario
from tests import kafka_broker as kb
from tests.conftest import CliRunner
from tests.kafka_broker import Broker
from tests.safety import signal_during


def _scenario(
    sb: Sandbox, broker: Broker, password: str = kb.SCRAM_PASSWORD, group: str = kb.ALLOWED_GROUP
) -> Any:
    return build_scenario(
        sb,
        "self-managed-healthy",
        auth="scram",
        self_managed_vpc=True,
        self_managed_servers=(f"localhost:{broker.sasl_ssl}",),
        secret_value=json.dumps({"username": kb.SCRAM_USER, "password": password}),
        root_ca_certificate=broker.ca_pem,
        consumer_group_id=group,
    )


def left_behind(sb: Sandbox, uuid: str, role: str) -> str:
    """What a probe run killed between create and delete leaves: its tagged function and log group."""
    name = f"{PREFIX}{uuid}-deadbeef"
    sb.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="x.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        Tags={PROBE_TAG: uuid, RUN_TAG: "killed-run"},
    )
    sb.client("logs").create_log_group(logGroupName=f"/aws/lambda/{name}")
    return name


def _nothing_left(sb: Sandbox, uuid: str) -> None:
    lam = sb.client("lambda")
    assert [
        f["FunctionName"] for f in lam.list_functions()["Functions"] if f["FunctionName"].startswith(PREFIX)
    ] == []
    groups = sb.client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{PREFIX}")["logGroups"]
    assert groups == []
    arn = lam.get_event_source_mapping(UUID=uuid)["EventSourceMappingArn"]
    assert [k for k in lam.list_tags(Resource=arn)["Tags"] if k.startswith("remediate:lock")] == []


def test_probe_measures_from_the_pollers_subnets_and_leaves_nothing(
    sandbox: Sandbox, kafka_broker: Broker, cli: CliRunner
) -> None:
    scn = _scenario(sandbox, kafka_broker)
    done = cli("probe", "--esm", scn.esm_uuid, "--auto-approve", "--output", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["schema"] == "remediate/probe@1"
    result = doc["result"]
    assert result["complete"] is True
    [boot] = result["bootstrap"]
    assert {s["step"]: s["outcome"] for s in boot["steps"]} == dict.fromkeys(
        ("dns", "tcp", "tls", "api_versions", "sasl", "metadata"), "ok"
    )
    assert {t["topic"]: t["error_code"] for t in result["topics"]} == {"orders": 0}
    assert result["group"]["error_code"] == 0
    # The plan named the placement and the role before anything was created.
    assert f"subnets {', '.join(scn.subnet_ids)}" in done.stderr
    assert f"role/{scn.role_name}" in done.stderr
    assert kb.SCRAM_PASSWORD not in done.stdout + done.stderr
    _nothing_left(sandbox, scn.esm_uuid)


def test_wrong_password_is_measured_as_kafkas_sasl_error_in_text(
    sandbox: Sandbox, kafka_broker: Broker, cli: CliRunner
) -> None:
    scn = _scenario(sandbox, kafka_broker, password="not-the-password")
    done = cli("probe", "--esm", scn.esm_uuid, "--auto-approve")
    assert done.returncode == 0, done.stderr
    assert "sasl         kafka-error: SASL_AUTHENTICATION_FAILED (58)" in done.stdout
    assert "incomplete" in done.stdout
    _nothing_left(sandbox, scn.esm_uuid)


def test_denied_group_is_group_authorization_failed(
    sandbox: Sandbox, kafka_broker: Broker, cli: CliRunner
) -> None:
    scn = _scenario(sandbox, kafka_broker, group=kb.DENIED_GROUP)
    done = cli("probe", "--esm", scn.esm_uuid, "--auto-approve", "--output", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["result"]["group"]["error_code"] == 30


def test_without_approval_nothing_is_created(sandbox: Sandbox, kafka_broker: Broker, cli: CliRunner) -> None:
    scn = _scenario(sandbox, kafka_broker)
    seen = len(sandbox.calls)
    done = cli("probe", "--esm", scn.esm_uuid)  # no terminal, no --auto-approve
    assert done.returncode == 3
    assert "nothing was created" in done.stderr
    assert ("lambda", "CreateFunction") not in sandbox.calls[seen:]
    assert ("lambda", "ListFunctions") not in sandbox.calls[seen:]


def test_a_killed_runs_probe_is_found_by_its_tag_and_removed_by_the_next_run(
    sandbox: Sandbox, kafka_broker: Broker, cli: CliRunner
) -> None:
    scn = _scenario(sandbox, kafka_broker)
    lam = sandbox.client("lambda")
    role = lam.get_function(FunctionName=scn.function_name)["Configuration"]["Role"]
    left = left_behind(sandbox, scn.esm_uuid, role)
    unrelated = f"{PREFIX}{scn.esm_uuid}-0000beef"  # the name, but not the tag: not ours to delete
    lam.create_function(
        FunctionName=unrelated,
        Runtime="python3.12",
        Role=role,
        Handler="x.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
    )
    done = cli("probe", "--esm", scn.esm_uuid, "--auto-approve", "--output", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["swept"] == [left]
    names = {f["FunctionName"] for f in lam.list_functions()["Functions"]}
    assert left not in names
    assert unrelated in names
    lam.delete_function(FunctionName=unrelated)
    _nothing_left(sandbox, scn.esm_uuid)


def test_probe_permissions_are_their_own_opt_in_policy(cli: CliRunner) -> None:
    """iam:PassRole with CreateFunction and InvokeFunction is a privilege-escalation path (parliament's
    PRIVILEGE_ESCALATION), so `apply` and the runbook's role do not carry it; `--mode probe` does."""
    probe = json.loads(cli("iam-policy", "--mode", "probe").stdout)
    apply = json.loads(cli("iam-policy", "--mode", "apply").stdout)

    def actions(policy: dict[str, Any]) -> set[str]:
        return {a for s in policy["Statement"] for a in s["Action"]}

    added = actions(probe) - actions(apply)
    assert {"iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction", "logs:DeleteLogGroup"} <= added
    assert "lambda:DeleteFunction" in added


CREATE = ("lambda", "CreateFunction")
INVOKE = ("lambda", "Invoke")


@pytest.mark.parametrize(
    ("sig", "call"),
    # SIGINT takes SIGTERM's path (both become KeyboardInterrupt), so one of them is enough per step.
    [(signal.SIGTERM, CREATE), (signal.SIGINT, INVOKE), (signal.SIGKILL, INVOKE)],
    ids=["sigterm-at-create", "sigint-at-invoke", "sigkill-at-invoke"],
)
def test_killed_at_each_step_nothing_is_left_after_the_next_run(
    sandbox: Sandbox,
    kafka_broker: Broker,
    cli: CliRunner,
    cli_env: dict[str, str],
    sig: signal.Signals,
    call: tuple[str, str],
) -> None:
    scn = _scenario(sandbox, kafka_broker)
    ended = signal_during(
        sandbox, cli_env, ("probe", "--esm", scn.esm_uuid, "--auto-approve"), (call,), 1, sig
    )
    assert ended.returncode == (-sig if sig == signal.SIGKILL else 128 + sig)
    if sig != signal.SIGKILL:
        assert f"{sig.name} received: the probe function" in ended.stderr
        assert "nothing was changed" not in ended.stderr
    if sig != signal.SIGKILL and call == INVOKE:  # the run itself deleted what it made and unlocked
        _nothing_left(sandbox, scn.esm_uuid)
    # A create whose answer the signal cut off may land after the run's own delete: the next run finds
    # it by its tag. A SIGKILLed run deletes nothing: the next run does.
    done = cli("probe", "--esm", scn.esm_uuid, "--auto-approve", "--output", "json")
    assert done.returncode == 0, done.stderr
    if sig == signal.SIGKILL:
        assert len(json.loads(done.stdout)["swept"]) == 1
    _nothing_left(sandbox, scn.esm_uuid)

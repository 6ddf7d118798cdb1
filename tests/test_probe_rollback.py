"""Issue 22: `remediate rollback RUN_ID` of a `remediate probe` run that was killed outright (SIGKILL after
its function was created) removes the function and its log group, found by the run's tags, and leaves
no lock; another probe's function of the same mapping (another run's tag) is not touched."""

from __future__ import annotations

import json
import re
import signal

from remediate.probe_run import PREFIX
from remediate.sandbox import Sandbox
from tests.conftest import CliRunner
from tests.kafka_broker import Broker
from tests.safety import signal_during
from tests.test_probe_e2e import _nothing_left, _scenario, left_behind


def test_rollback_of_a_sigkilled_probe_removes_its_function_log_group_and_lock(
    sandbox: Sandbox, kafka_broker: Broker, cli: CliRunner, cli_env: dict[str, str]
) -> None:
    scn = _scenario(sandbox, kafka_broker)
    lam = sandbox.client("lambda")
    role = lam.get_function(FunctionName=scn.function_name)["Configuration"]["Role"]
    ended = signal_during(
        sandbox,
        cli_env,
        ("probe", "--esm", scn.esm_uuid, "--auto-approve"),
        (("lambda", "Invoke"),),  # the function exists: the run is killed while it is invoked
        1,
        signal.SIGKILL,
    )
    assert ended.returncode == -signal.SIGKILL
    # The run id the plan showed (its tag) is the one to roll back.
    [run_id] = set(re.findall(r"remediate:run-id=(r-[0-9A-Za-z-]+)", ended.stderr))
    assert ended.run_id == run_id
    [mine] = [
        f["FunctionName"]
        for f in lam.list_functions()["Functions"]
        if f["FunctionName"].startswith(f"{PREFIX}{scn.esm_uuid}")
    ]
    other = left_behind(sandbox, scn.esm_uuid, role)  # another killed run's: not this rollback's
    arn = lam.get_event_source_mapping(UUID=scn.esm_uuid)["EventSourceMappingArn"]
    assert [k for k in lam.list_tags(Resource=arn)["Tags"] if k.startswith("remediate:lock")]

    def log_groups() -> list[object]:
        logs = sandbox.client("logs")
        return list(logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{mine}")["logGroups"])

    assert log_groups(), "the invocation made the function's log group"
    refused = cli("rollback", run_id)  # no terminal, no --auto-approve: shown, not done
    assert refused.returncode == 3
    assert f"lambda function {mine}" in refused.stderr
    assert mine in {f["FunctionName"] for f in lam.list_functions()["Functions"]}

    done = cli("rollback", run_id, "--auto-approve", "--output", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert (doc["rolled_back"], doc["applied"], doc["state"]) == (run_id, [mine], "done")
    names = {f["FunctionName"] for f in lam.list_functions()["Functions"]}
    assert mine not in names
    assert other in names
    assert log_groups() == []
    again = cli("rollback", run_id, "--auto-approve")
    assert again.returncode == 0, again.stderr
    assert "no function was left" in again.stdout
    lam.delete_function(FunctionName=other)
    sandbox.client("logs").delete_log_group(logGroupName=f"/aws/lambda/{other}")
    _nothing_left(sandbox, scn.esm_uuid)

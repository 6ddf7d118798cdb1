"""Evidence grouped by cause in text: one line per cause with what it affects, a matrix where the cause
does not cover every (target, subnet) pair; the same grouping in every place findings are shown."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from remediate.evidence import NetworkBlock, PathCheck
from remediate.run import path_groups
from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import CliRunner


def blocked_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("blocked by ")]


def test_a_vpc_without_endpoints_is_one_line_not_nine(sandbox: Sandbox, cli: CliRunner) -> None:
    sc = build_scenario(sandbox, "scram-no-nat")
    result = cli("diagnose", "--esm", sc.esm_uuid)
    assert result.returncode == 0, result.stderr
    lines = blocked_lines(result.stdout)
    assert len(lines) == 1, result.stdout
    subnets = sorted(set(re.findall(r"subnet-[0-9a-f]+", result.stdout)))
    assert len(subnets) == 3
    line = lines[0]
    assert line.startswith("blocked by route rtb-")
    assert "no 0.0.0.0/0 route, and no <service> endpoint in vpc-" in line
    assert "lambda, sts, secretsmanager tcp/443 from " in line
    assert sorted(re.findall(r"subnet-[0-9a-f]+", line.split(" from ", 1)[1])) == subnets
    assert "ENI in subnet" not in result.stdout  # no per-path lines any more


def test_apply_and_plan_show_the_same_grouping(sandbox: Sandbox, cli: CliRunner) -> None:
    sc = build_scenario(sandbox, "endpoint-sg-blocks")
    planned = cli("plan", "--esm", sc.esm_uuid)
    asked = cli("apply", "--esm", sc.esm_uuid)  # no terminal: shows the plan, refuses (exit 3)
    assert asked.returncode == 3
    assert blocked_lines(planned.stdout) == blocked_lines(asked.stdout)
    (line,) = blocked_lines(planned.stdout)
    assert "no ingress rule allows tcp/443 from <subnet CIDR>" in line
    assert re.search(r"lambda endpoint vpce-\w+, sts endpoint vpce-\w+ tcp/443 from subnet-", line)


def _path(subnet: str, target: str, cause: str | None) -> PathCheck:
    blocks = (NetworkBlock(element="SG", resource="sg-1", detail=cause),) if cause else ()
    return PathCheck(source_subnet=subnet, to="service", target=target, port=443, blocks=blocks)


def test_a_partial_cause_reads_as_a_matrix() -> None:
    paths = [
        _path("subnet-a", "lambda", "no rule"),
        _path("subnet-b", "lambda", None),
        _path("subnet-a", "sts", None),
        _path("subnet-b", "sts", "no rule"),
    ]
    blocked, allowed = path_groups.group(paths)
    assert not blocked.full
    assert path_groups.matrix(blocked) == [
        ["", "subnet-a", "subnet-b"],
        ["lambda tcp/443", "x", "."],
        ["sts tcp/443", ".", "x"],
    ]
    assert allowed.cause == path_groups.ALLOWED


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["subnet-a", "subnet-b", "subnet-c"]),
            st.sampled_from(["lambda", "sts", "secretsmanager", "brokers"]),
            st.sampled_from([None, "no rule", "denied by rule 100", "no lambda endpoint"]),
        ),
        max_size=30,
        unique_by=lambda t: (t[0], t[1]),
    )
)
def test_grouping_keeps_every_path_exactly_once(rows: list[tuple[str, str, str | None]]) -> None:
    paths = [_path(*row) for row in rows]
    groups = path_groups.group(paths)
    cells = [cell for g in groups for cell in g.cells]
    assert sorted(cells) == sorted((f"{t} tcp/443", s) for s, t, _ in rows)
    assert len({g.cause for g in groups}) == len(groups)  # one group per cause
    assert all(g.blocked for g in groups[:-1])  # the allowed paths, if any, come last

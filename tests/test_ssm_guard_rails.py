"""Issue 27, D16: the Organization template refuses a deployment that would give no member its role, and
rolls the StackSet out to many accounts at once past a few failures."""

from __future__ import annotations

from remediate.ssm.cloudformation import admin_template
from tests.cfn_eval import Resolver, failed_rules

PARAMS = {"AWS::AccountId": "999900001111", "TargetRegions": ["eu-west-1", "us-east-1"]}


def test_a_role_region_outside_the_target_regions_is_refused() -> None:
    template = admin_template()
    assert failed_rules(template, {**PARAMS, "RoleRegion": "eu-west-1"}) == []
    [refused] = failed_rules(template, {**PARAMS, "RoleRegion": "eu-central-1"})
    assert refused.startswith("RoleRegion must be one of TargetRegions")


def test_the_stackset_rolls_out_in_parallel_and_tolerates_some_failures() -> None:
    template = admin_template()
    stackset = template["Resources"]["MemberStackSet"]["Properties"]
    prefs = Resolver(template, {**PARAMS, "RoleRegion": "eu-west-1"})(stackset["OperationPreferences"])
    assert prefs == {
        "ConcurrencyMode": "SOFT_FAILURE_TOLERANCE",
        "MaxConcurrentPercentage": 25,
        "FailureTolerancePercentage": 10,
        "RegionConcurrencyType": "PARALLEL",
    }

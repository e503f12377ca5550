"""The staff roles in the synthesised stack: the user pool's four groups (careloop/roles.py), and
the staff API allowed to manage that pool's accounts and nothing more."""

from __future__ import annotations

import pytest

from careloop.roles import ROLES
from infra.grants import STAFF_ADMIN

pytestmark = pytest.mark.infra


def test_the_staff_pool_has_one_group_per_role(synth):
    pool = {"Ref": synth.logical_id(synth.build.stack.user_pool)}
    groups = [r["Properties"] for r in synth.resources.values() if r["Type"] == "AWS::Cognito::UserPoolGroup"]
    assert sorted(g["GroupName"] for g in groups) == sorted(ROLES) == ["admin", "billing", "clinical", "front_desk"]
    assert all(g["UserPoolId"] == pool for g in groups)


def test_the_staff_api_manages_only_its_own_pool(synth):
    pool_arn = {"Fn::GetAtt": [synth.logical_id(synth.build.stack.user_pool), "Arn"]}
    policy = synth.resources[synth.logical_id(synth.build.stack.policies["inbox_api"])]
    staff = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == "ManageStaffAccounts"]
    assert len(staff) == 1 and staff[0]["Resource"] == pool_arn
    assert sorted(staff[0]["Action"]) == sorted(STAFF_ADMIN)
    assert not any("Delete" in a or "Password" in a for a in STAFF_ADMIN)
    env = synth.resources[synth.logical_id(synth.build.stack.functions["inbox_api"])]["Properties"]["Environment"]
    assert env["Variables"]["CARELOOP_STAFF_USER_POOL_ID"] == {"Ref": synth.logical_id(synth.build.stack.user_pool)}
    # no other function may touch staff accounts
    others = [name for name, p in synth.build.stack.policies.items() if name != "inbox_api" and any(
        s.get("Sid") == "ManageStaffAccounts"
        for s in synth.resources[synth.logical_id(p)]["Properties"]["PolicyDocument"]["Statement"])]
    assert others == []

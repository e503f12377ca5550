"""StaffDirectory on the staff Cognito user pool: list the staff with their role (group), invite
one (AdminCreateUser, then AdminAddUserToGroup), move one to another role."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from careloop.adapters.clients import client
from careloop.errors import Conflict, NotFound, PayloadError
from careloop.roles import ROLES


class CognitoStaffDirectory:
    def __init__(self, user_pool_id: str) -> None:
        self.pool = user_pool_id
        self._idp: Any = None  # made on the first call: only staff management needs it

    @property
    def idp(self) -> Any:
        if not self.pool:
            raise PayloadError("staff management is not configured (CARELOOP_STAFF_USER_POOL_ID is empty)")
        if self._idp is None:
            self._idp = client("cognito-idp")
        return self._idp

    def list_staff(self) -> list[dict]:
        members: dict[str, set[str]] = {}
        for role in ROLES:
            for user in self._paged("list_users_in_group", "NextToken", GroupName=role):
                members.setdefault(user["Username"], set()).add(role)
        out = []
        for user in self._paged("list_users", "PaginationToken"):
            attrs = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
            out.append({"username": user["Username"], "email": attrs.get("email", ""),
                        "roles": sorted(members.get(user["Username"], set())),
                        "status": user.get("UserStatus", ""), "enabled": bool(user.get("Enabled", True))})
        return sorted(out, key=lambda u: u["email"] or u["username"])

    def invite(self, email: str, role: str) -> dict:
        try:
            user = self.idp.admin_create_user(
                UserPoolId=self.pool, Username=email, DesiredDeliveryMediums=["EMAIL"],
                UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
            )["User"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "UsernameExistsException":
                raise Conflict(f"{email} already has an account: change their role instead") from exc
            raise
        self.idp.admin_add_user_to_group(UserPoolId=self.pool, Username=user["Username"], GroupName=role)
        return {"username": user["Username"], "email": email, "roles": [role], "status": user.get("UserStatus", ""),
                "enabled": True}

    def set_role(self, username: str, role: str) -> dict:
        try:
            current = self.idp.admin_list_groups_for_user(UserPoolId=self.pool, Username=username)["Groups"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "UserNotFoundException":
                raise NotFound(f"no staff account {username[:80]!r}") from exc
            raise
        # one role per person: the new group first, so they are never left with none
        self.idp.admin_add_user_to_group(UserPoolId=self.pool, Username=username, GroupName=role)
        for group in current:
            if group["GroupName"] != role and group["GroupName"] in ROLES:
                self.idp.admin_remove_user_from_group(UserPoolId=self.pool, Username=username,
                                                      GroupName=group["GroupName"])
        return {"username": username, "roles": [role]}

    def _paged(self, operation: str, token_name: str, **params: Any) -> list[dict]:
        """Every user a listing returns, page by page (ListUsers and ListUsersInGroup name their
        page token differently)."""
        items: list[dict] = []
        token = None
        while True:
            page = getattr(self.idp, operation)(UserPoolId=self.pool, **params, **({token_name: token} if token else {}))
            items += page.get("Users", [])
            token = page.get(token_name)
            if not token:
                return items

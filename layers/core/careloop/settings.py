"""Runtime configuration, validated once at cold start. The only reader of the environment.

CDK sets these variables on every function; the local runtime sets the same ones.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from careloop.errors import ConfigError
from careloop.practice import DATA_DIR, PracticeProfile, load_profile

PREFIX = "CARELOOP_"


class Settings(BaseModel):
    """A plain pydantic model read from CARELOOP_* variables (pydantic-settings would add
    ~20-30 ms to every cold start for features we do not use)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    # resource names (logical name -> physical name); see careloop.wiring.*_env
    table_records: str = "careloop-records"
    table_actions: str = "careloop-actions"
    table_messages: str = "careloop-messages"
    table_booking: str = "careloop-booking"
    queue_send: str = ""  # queue URL
    queue_ehr_writeback: str = ""  # queue URL; empty: write-back off
    queue_ehr_import: str = ""  # queue URL of the import worker (large EHR payloads)
    topic_staff_alerts: str = ""  # topic ARN
    bucket_ehr: str = ""

    practice_file: Path = Field(DATA_DIR / "demo-practice.json")
    # End User Messaging SMS
    sms_configuration_set: str = ""
    sms_origination_identity: str = ""  # phone number id/ARN or pool id/ARN
    sms_opt_out_list: str = ""
    sms_parts_per_second: float = 1.0
    # EHR webhook secret: a literal locally, a Secrets Manager ARN/name when deployed
    webhook_secret: str = ""
    webhook_secret_arn: str = ""
    # the EHR's API token for write-back (Secrets Manager), when the profile names one
    ehr_token_secret_arn: str = ""
    local_mode: bool = False
    llm_available: bool = False  # the stack says its region offers the LLM tier's model
    sms_read_timeout_s: float = 5.0  # one SendTextMessage attempt waits this long, then the queue retries
    # the staff web app's origin (CloudFront), allowed by CORS on /api; empty: same origin
    web_origin: str = ""
    # where personal booking links point (<base>/b/<token>): the public API's origin; empty: the
    # profile's fixed booking_url is sent instead
    booking_base_url: str = ""
    # Large EHR payloads (README "Large payloads"): a FHIR body over ehr_queue_bytes, or a Bundle of
    # more than ehr_queue_entries entries, is archived and answered 202 with a status URL, then
    # applied by the ehr_import worker in batches of ehr_import_batch entries. A body over
    # ehr_max_body_bytes as sent (Lambda takes 6 MB at most, the event's JSON escaping included) or
    # inflating past ehr_max_inflated_bytes (Content-Encoding: gzip) is refused with 413 and
    # quarantined. A worker invocation works ehr_import_slice_s seconds, then queues the job on.
    ehr_queue_bytes: int = Field(1_000_000, ge=1)
    ehr_queue_entries: int = Field(200, ge=1)
    ehr_max_body_bytes: int = Field(5_000_000, ge=1)
    ehr_max_inflated_bytes: int = Field(64_000_000, ge=1)
    ehr_import_batch: int = Field(500, ge=1, le=5000)
    ehr_import_slice_s: float = Field(240.0, gt=0)
    # the staff Cognito user pool, for staff management (invite, roles) in the staff API
    staff_user_pool_id: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        data = {k[len(PREFIX):].lower(): v for k, v in environ.items() if k.startswith(PREFIX)}
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = PREFIX + str(first["loc"][0]).upper() if first["loc"] else "settings"
            raise ConfigError(f"{name}: {first['msg']}") from exc

    def practice(self) -> PracticeProfile:
        return _profile(str(self.practice_file))


@lru_cache(maxsize=4)
def _profile(path: str) -> PracticeProfile:
    return load_profile(path)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()


def reset_settings() -> None:
    """Tests and the local runtime change the environment, then call this."""
    get_settings.cache_clear()
    _profile.cache_clear()

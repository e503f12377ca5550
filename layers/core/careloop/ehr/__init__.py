"""EHR mapping: FHIR R4 resources/Bundles and HL7 v2 messages become Careloop patients and
appointments (`EhrBatch`). Pure functions; the parsers load lazily to keep cold starts short.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from careloop.ehr.common import EhrBatch, Hl7Header

if TYPE_CHECKING:  # pragma: no cover
    from careloop.ehr.fhir import parse_fhir
    from careloop.ehr.hl7v2 import ack_for, build_ack, parse_hl7v2, read_header

__all__ = ["EhrBatch", "Hl7Header", "parse_fhir", "parse_hl7v2", "build_ack", "ack_for", "read_header"]

_LAZY = {
    "parse_fhir": "careloop.ehr.fhir",
    "parse_hl7v2": "careloop.ehr.hl7v2",
    "build_ack": "careloop.ehr.hl7v2",
    "ack_for": "careloop.ehr.hl7v2",
    "read_header": "careloop.ehr.hl7v2",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'careloop.ehr' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)

"""Careloop's domain core: models, workflow planner, compliance gates, SMS agent, EHR mapping.

Imported by every Lambda handler (shipped as a layer), by the local stack and by the CLI.
"""

__version__ = "0.1.0"

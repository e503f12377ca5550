"""Placeholder for the Connect contact-event handler (branch voice-local writes it): here so the
stack can package functions/voice_events; the integrator takes voice-local's file."""


def handler(event, context):
    raise NotImplementedError("functions/voice_events/handler.py comes from branch voice-local")

"""Placeholder for the Lex V2 code hook (branch voice-hook writes it): here so the stack can
package functions/voice; the integrator takes voice-hook's file."""


def handler(event, context):
    from careloop.voice import bot  # noqa: F401  the bot this hook answers for (keeps it in the layer)

    raise NotImplementedError("functions/voice/handler.py comes from branch voice-hook")

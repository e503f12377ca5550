"""The voice agent (spec/voice.md): Amazon Connect answers, a Lex V2 bot understands, and the
code hook does the work on the same core as the SMS agent."""

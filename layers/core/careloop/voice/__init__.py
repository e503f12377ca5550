"""The voice agent: the Lex V2 code hook on the core (hook), who is calling (identity), every call
in the staff inbox (calls), the bot as data (bot) and missed-call text-back (missed)."""

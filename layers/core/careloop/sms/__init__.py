"""The SMS channel in the core: sending queued texts, delivery receipts, consent keywords."""

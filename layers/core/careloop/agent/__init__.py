"""The SMS agent: reads each inbound patient text, acts on it or hands it to the staff inbox."""

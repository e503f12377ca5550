"""The workflow engine: planning actions from record changes, and dispatching them through
the compliance gates exactly once."""

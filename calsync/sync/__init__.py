"""The sync engine: desired against present, shared by every backend."""

"""Stub: replaced by its owner (signals of procedures and payments → inbox)."""

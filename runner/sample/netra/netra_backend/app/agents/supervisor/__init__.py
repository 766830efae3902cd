"""The supervisor: per-user execution engines (Issue #565 SSOT)."""

"""runner: carry a large codebase migration through safely.

A plan (``phases.yaml``) declares phases of steps; after each step a gate runs; a passed step
becomes one checkpoint commit, a failed gate rolls the repository back. See README.md.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"

"""``python -m runner``: the same entry point as the ``runner`` console command."""

from __future__ import annotations

from runner.cli import main

if __name__ == "__main__":
    main()

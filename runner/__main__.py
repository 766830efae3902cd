"""``python -m runner``: the same entry point as the ``runner`` console command.

``python -m`` puts the current directory first on ``sys.path``. Run inside the repository
being migrated, that would let the user's own top-level packages stand in for runner's
dependencies (a vendored ``rich/``, ``yaml/`` or ``git/`` folder, possibly mid-migration
and broken): runner would import the code it is migrating. The directory is dropped before
anything else is imported; ``runner`` itself is already found by then. The ``runner``
console command never had the directory on its path.
"""

from __future__ import annotations

import os
import sys

if sys.path and sys.path[0] in ("", os.getcwd()):  # noqa: PTH109 - compared as sys.path has it
    del sys.path[0]

# Only now, with the current directory off the path.
from runner.cli import main

if __name__ == "__main__":
    main()

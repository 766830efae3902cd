"""Restart the local dev services after a rollback (the seed's rollback step 2).

In this sample there are no services to restart; the script says what it would do, so a
rollback hook has something real to run. It only prints: it never writes to the tree.

    python scripts/refresh_dev_services.py restart --services backend auth
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["restart", "status"])
    parser.add_argument("--services", nargs="+", default=["backend", "auth"])
    args = parser.parse_args(argv)
    step = os.environ.get("RUNNER_STEP", "-")
    for service in args.services:
        print(f"dev services: {args.action} {service} (after step {step})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

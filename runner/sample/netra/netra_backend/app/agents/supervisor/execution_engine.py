"""DEPRECATED compatibility bridge (Issue #565): import from the SSOT locations instead.

    from netra_backend.app.agents.supervisor.user_execution_engine import UserExecutionEngine as ExecutionEngine
    from netra_backend.app.services.user_execution_context import UserExecutionContext

Importing this module warns ``DeprecationWarning``, so a test run with
``-W error::DeprecationWarning`` fails for as long as anything still imports it. Issue #802
migrates every import and then deletes this file.
"""

from __future__ import annotations

import warnings

from netra_backend.app.agents.supervisor.user_execution_engine import UserExecutionEngine
from netra_backend.app.services.user_execution_context import UserExecutionContext

__all__ = ["ExecutionEngine", "UserExecutionContext"]

warnings.warn(
    "netra_backend.app.agents.supervisor.execution_engine is a deprecated compatibility "
    "bridge (Issue #565): import UserExecutionEngine from "
    "netra_backend.app.agents.supervisor.user_execution_engine and UserExecutionContext "
    "from netra_backend.app.services.user_execution_context",
    DeprecationWarning,
    stacklevel=2,
)

#: The legacy name is the SSOT class itself, so there is one engine while the bridge lives.
ExecutionEngine = UserExecutionEngine

"""Operator tools build their engine in sync code, where no ``await`` can go: the keyword
constructor (the seed's TARGET PATTERN) is their way off the deprecated positional form."""

from __future__ import annotations

import pytest

from netra_backend.app.admin import batch_jobs, maintenance, replay_cli

TOOLS = [
    maintenance.warm_cost_model,
    maintenance.recount_tokens,
    batch_jobs.nightly_feedback_digest,
    batch_jobs.nightly_topic_digest,
    replay_cli.replay_message,
]


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.__name__)
def test_admin_tool_answers(tool) -> None:  # noqa: ANN001 - a plain function under test
    assert tool("ops-1", "how are the nightly costs?").strip()

"""The live line while a gate runs: elapsed time, and the time left against the last run.

Shown on a terminal only (a log or CI output gets the finished lines alone), and removed
when the gate ends, so the scrollback holds what happened and nothing else.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import Progress, ProgressColumn, SpinnerColumn, Task, TextColumn
from rich.text import Text

__all__ = ["GateProgress", "remaining_text"]


def remaining_text(elapsed: float, expected: float | None) -> str:
    """``3s``; ``3s, about 5s left (8s last time)``; ``12s, 4s over (8s last time)``."""
    shown = _secs(elapsed)
    if expected is None:
        return shown
    left = expected - elapsed
    last = f"({_secs(expected)} last time)"
    if left >= 0:
        return f"{shown}, about {_secs(left)} left {last}"
    return f"{shown}, {_secs(-left)} over {last}"


def _secs(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"


class _Remaining(ProgressColumn):
    def render(self, task: Task) -> Text:
        expected = task.fields.get("expected")
        return Text(remaining_text(task.elapsed or 0.0, expected), style="dim")


class GateProgress:
    """One transient line per running gate."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._progress: Progress | None = None

    def start(self, description: str, expected: float | None) -> None:
        """Show ``⠋ gate unit  3s, about 5s left (8s last time)`` until :meth:`stop`."""
        if not self._console.is_terminal:
            return
        self.stop()
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            _Remaining(),
            console=self._console,
            transient=True,
        )
        self._progress.add_task(description, total=None, expected=expected)
        self._progress.start()

    def stop(self) -> None:
        """Remove the line."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

"""The command line: argv → typed options → engine; errors are rendered once, here.

Exit codes: 0 done · 1 a gate failed · 2 bad input or a refused precondition · 3 a rollback
could not complete · 130 interrupted (143 for SIGTERM, 129 for SIGHUP), after cleaning up.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console

from runner.errors import EXIT_INTERRUPTED, Interrupted, RunnerError, UsageError

__all__ = ["app", "main"]

app = typer.Typer(
    name="runner",
    help=(
        "Carry a codebase migration through safely: run a phases.yaml plan step by step, "
        "gate every step, commit each passed step as a checkpoint, roll back a failed one.\n\n"
        "Start with `runner demo` to watch a whole migration on the bundled sample, "
        "`runner check` to validate your plan, and `runner run --dry-run` to rehearse it."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)

PlanArg = Annotated[Path, typer.Argument(help="The plan file.", show_default=True)]
RepoOpt = Annotated[
    Path | None,
    typer.Option(
        "--repo",
        help="The repository to migrate (default: the one around the current directory).",
        show_default=False,
    ),
]
TracebackOpt = Annotated[
    bool, typer.Option("--traceback", help="Show a traceback for runner errors (debugging).")
]


def _tolerant_streams() -> None:
    """Whatever the terminal cannot encode is written as ``\\u2713``, not a traceback.

    A user's plan titles, file names and command output may hold any character, and
    ``PYTHONIOENCODING=ascii`` (or a latin-1 locale) would otherwise make printing them end
    the run midway with UnicodeEncodeError; the report's marks fall back to ASCII as well.
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)  # absent on a replaced stream
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):  # closed, or not a text stream
                reconfigure(errors="backslashreplace")


_tolerant_streams()

# Logs and CI output are read later, in wide windows: don't squeeze tables into 80 columns.
_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 120
_stdout = Console(highlight=False, soft_wrap=True, width=_WIDTH)
_stderr = Console(stderr=True, highlight=False, soft_wrap=True, width=_WIDTH)


@contextlib.contextmanager
def error_boundary(*, traceback: bool = False) -> Iterator[None]:
    """Render a :class:`RunnerError` once and exit with its code; bugs keep their traceback."""
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    # A terminal that goes away (an SSH connection drops) sends SIGHUP: rolled back like
    # SIGTERM. Under `nohup` SIGHUP is ignored, and stays so.
    hup = signal.getsignal(signal.SIGHUP)
    if hup is not signal.SIG_IGN:
        signal.signal(signal.SIGHUP, _raise_hung_up)
    try:
        yield
    except Interrupted as e:
        _stderr.print(f"[red]{e}[/]", markup=True, highlight=False)
        raise typer.Exit(e.signal_exit_code) from None
    except RunnerError as e:
        if traceback:
            raise
        for line in str(e).splitlines():
            typer.echo(f"error: {line}" if line else "", err=True)
        raise typer.Exit(e.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("interrupted; the running step was rolled back", err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
        if hup is not signal.SIG_IGN:
            signal.signal(signal.SIGHUP, hup if hup is not None else signal.SIG_DFL)


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(
        "terminated (SIGTERM); the running step was rolled back", signal_exit_code=128 + signum
    )


def _raise_hung_up(signum: int, frame: FrameType | None) -> None:
    # Writing to a terminal that hung up fails (EIO): the rollback's messages would stop it
    # half-way. Output to a file or a pipe goes on as before.
    for fd in (1, 2):
        with contextlib.suppress(OSError):
            if stat.S_ISCHR(os.fstat(fd).st_mode):
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, fd)
                os.close(null)
    raise Interrupted(
        "hung up (SIGHUP: the terminal went away); the running step was rolled back",
        signal_exit_code=128 + signum,
    )


def _show_version(value: bool) -> None:
    if value:
        from runner import __version__  # noqa: PLC0415

        typer.echo(f"runner {__version__}")
        raise typer.Exit


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Options that come before the command (``runner --version``)."""


@app.command()
def check(
    plan: PlanArg = Path("phases.yaml"),
    traceback: TracebackOpt = False,
) -> None:
    """Validate a plan: every problem at once, as FILE:LINE:COL: message (exit 2)."""
    from runner.plan import load_plan  # noqa: PLC0415

    with error_boundary(traceback=traceback):
        loaded = load_plan(plan)
        steps = len(loaded.steps)
        typer.echo(f"{plan}: ok ({len(loaded.phases)} phases, {steps} steps)")


@app.command("plan")
def show_plan(
    plan: PlanArg = Path("phases.yaml"),
    repo: RepoOpt = None,
    traceback: TracebackOpt = False,
) -> None:
    """Show phases, steps and gates in run order, and what is done already."""
    from runner.commands import show_plan as show  # noqa: PLC0415

    with error_boundary(traceback=traceback):
        show(plan, repo or Path.cwd(), _stdout)


@app.command()
def run(
    plan: PlanArg = Path("phases.yaml"),
    repo: RepoOpt = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Rehearse the whole plan, for real, in a private repository that borrows "
            "your objects; your repository stays exactly as it is.",
        ),
    ] = False,
    keep: Annotated[
        bool,
        typer.Option(
            "--keep", help="With --dry-run: keep the private repository and print its path."
        ),
    ] = False,
    replay: Annotated[
        bool,
        typer.Option(
            "--replay",
            help="Reuse the passes of a rehearsal up to 2h old (settings.replay: another "
            "age) where the step, its start and the tree it left all match.",
        ),
    ] = False,
    with_hooks: Annotated[
        bool,
        typer.Option(
            "--with-hooks",
            help="With --dry-run: run the "
            "on-rollback hook commands too (they may restart real services).",
        ),
    ] = False,
    from_step: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Start at this step (PHASE/STEP); steps before it are not run.",
            show_default=False,
        ),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only", help="Run only this step or phase (repeatable).", show_default=False
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Write a JSON report: every step and gate with times, counts, commits.",
            show_default=False,
        ),
    ] = None,
    junit: Annotated[
        Path | None,
        typer.Option(
            "--junit",
            help="Write JUnit XML (each gate a test case) for CI systems.",
            show_default=False,
        ),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes", "-y", help="Answer yes to approve gates (needed when no terminal can ask)."
        ),
    ] = False,
    retry_held_back: Annotated[
        bool,
        typer.Option(
            "--retry-held-back",
            help="Run partial steps (on-failure: isolate) again for the files they held back.",
        ),
    ] = False,
    traceback: TracebackOpt = False,
) -> None:
    """Run the plan: each step, its gates, a checkpoint commit; roll back on a failed gate.

    Run it again after a failure: passed steps (found by their commit trailers) are skipped.
    """
    from runner.commands import RunRequest, run_plan  # noqa: PLC0415

    with error_boundary(traceback=traceback):
        if (keep or with_hooks) and not dry_run:
            raise UsageError("--keep and --with-hooks go with --dry-run")
        if replay and dry_run:
            raise UsageError("--replay goes with a real run, not with --dry-run")
        request = RunRequest(
            plan=plan,
            repo=repo or Path.cwd(),
            dry_run=dry_run,
            keep=keep,
            with_hooks=with_hooks or not dry_run,
            from_step=from_step,
            only=tuple(only or ()),
            report=report,
            junit=junit,
            assume_yes=yes,
            command=" ".join(["runner", *sys.argv[1:]]),
            replay=replay,
            retry_held_back=retry_held_back,
        )
        code = run_plan(request, _stdout, approver=_ask)
    raise typer.Exit(code)


@app.command()
def status(
    plan: PlanArg = Path("phases.yaml"),
    repo: RepoOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the state as JSON.")] = False,
    followups: Annotated[
        bool,
        typer.Option("--followups", help="List every manual follow-up with FILE:LINE."),
    ] = False,
    watch: Annotated[
        bool,
        typer.Option("--watch", help="Then follow a running plan's steps until it finishes."),
    ] = False,
    traceback: TracebackOpt = False,
) -> None:
    """What is done, what failed, where the branch stands: read from git alone."""
    from runner.commands import show_status  # noqa: PLC0415

    with error_boundary(traceback=traceback):
        show_status(plan, repo or Path.cwd(), _stdout, as_json=as_json, followups=followups)
        if watch:
            from runner.follow import follow_run, journal_of  # noqa: PLC0415

            raise typer.Exit(follow_run(journal_of(repo or Path.cwd()), _stdout))


@app.command()
def rollback(
    files: Annotated[
        list[str] | None,
        typer.Argument(
            help="Files to restore, relative to the repository root.", show_default=False
        ),
    ] = None,
    plan: Annotated[Path, typer.Option("--plan", help="The plan file.")] = Path("phases.yaml"),
    repo: RepoOpt = None,
    all_steps: Annotated[bool, typer.Option("--all", help="Take back the whole plan.")] = False,
    phase: Annotated[
        str | None, typer.Option("--phase", help="Take back one phase.", show_default=False)
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Restore FILEs as they were before "
            "this step (default: before the plan's first step).",
            show_default=False,
        ),
    ] = None,
    include_other: Annotated[
        bool,
        typer.Option(
            "--include-other-commits",
            help="With --all or --phase: go ahead although commits that are not the plan's "
            "(a hand fix, a merge) sit after the rollback target; without it they are named "
            "and nothing changes. Reset mode then drops them from the branch too (kept "
            "under refs/runner/rollbacks/); revert mode keeps them and reverts only the "
            "plan's own commits around them, never a merge.",
        ),
    ] = False,
    traceback: TracebackOpt = False,
) -> None:
    """Take back files (FILE...), one phase (--phase) or the whole plan (--all).

    Files are restored in one commit and codemod steps leave them alone from then on.
    --all and --phase refuse while commits that are not the plan's sit in the way, unless
    --include-other-commits.
    """
    from runner.takeback import RollbackRequest, rollback_command  # noqa: PLC0415

    with error_boundary(traceback=traceback):
        chosen = sum([bool(files), all_steps, phase is not None])
        if chosen != 1:
            raise UsageError("name FILEs, or --all, or --phase ID (exactly one of them)")
        if to is not None and not files:
            raise UsageError("--to goes with FILEs")
        if include_other and files:
            raise UsageError("--include-other-commits goes with --all or --phase")
        request = RollbackRequest(
            plan=plan,
            repo=repo or Path.cwd(),
            files=tuple(files or ()),
            all_steps=all_steps,
            phase=phase,
            to=to,
            include_other=include_other,
        )
        code = rollback_command(request, _stdout)
    raise typer.Exit(code)


@app.command()
def schema() -> None:
    """Print the JSON Schema of phases.yaml (point your editor's YAML plugin at it)."""
    from runner.schema import plan_schema  # noqa: PLC0415

    typer.echo(json.dumps(plan_schema(), indent=2))


@app.command()
def demo(
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            help="Where to create the sample repository (default: a new temporary folder).",
            show_default=False,
        ),
    ] = None,
    fault: Annotated[
        bool,
        typer.Option(
            "--fault",
            help="Inject a failing gate to watch the "
            "automatic rollback, the saved patch and the on-rollback hooks.",
        ),
    ] = False,
    traceback: TracebackOpt = False,
) -> None:
    """Run the seed's plan on a fresh copy of the bundled sample repository."""
    from runner.demo import run_demo  # noqa: PLC0415

    with error_boundary(traceback=traceback):
        code = run_demo(directory, fault=fault, console=_stdout)
    raise typer.Exit(code)


def _ask(question: str) -> bool | None:
    if not (sys.stdin.isatty() and os.environ.get("CI") is None):
        return None
    return typer.confirm(question, default=False)


def main() -> None:
    """Console entry point."""
    try:
        app()
    finally:
        # Nothing is collected from here on: at exit the collector would walk every object
        # of LibCST, GitPython and rich once more (~40 ms) only for the process to end.
        # Objects are still freed and finalisers still run; only cycles are left to the OS.
        gc.freeze()

"""What a run owns, and the checks that keep it to that.

A run owns exactly three things: its branch (the one it started on, or ``settings.branch``),
the paths its own steps changed, and its state folder. Everything else in the repository is
the user's: other branches, commits that are not the plan's checkpoints, files ignored when
the run started, index flags (``assume-unchanged``, ``skip-worktree``), the repository's
config and other worktrees. Preflight, rollback and recovery all ask the modules of this
package before they touch anything; where an action would have to modify something of the
user's, they refuse (exit 2) and say what is in the way and the command that proceeds.

- :mod:`runner.ownership.paths`: which files a rollback may restore, and how it keeps the
  user's copies (flagged index entries, files ignored at the start, files changed since).
- :mod:`runner.ownership.commits`: which commits a rollback may undo, and the branch and
  worktree a run's state is bound to.
- :mod:`runner.ownership.gitsetup`: git's own setup (HEAD, branch, work tree, git dir)
  staying what it was while plan commands run.
"""

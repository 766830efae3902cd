"""The ignored files a rehearsal's gates need (``settings.rehearsal-include``): found,
copied into the private repository so that nothing written there reaches the user's
files, and fingerprinted so that ``--replay`` notices when they changed.

Copies are copies, never links, and nothing in them leads back to the user's repository:

- a top-level include that is a symlink (``.env -> /shared/env``, ``.venv -> /abs/venv``) is
  copied through the link: the copy is a real file or folder, so a write in the rehearsal
  lands in the copy and not in the shared file (a dangling one is left out: writing through
  it would create its target);
- inside a copied folder, a symlink whose target lies in the user's repository (an absolute
  ``site-packages/mypkg -> /home/u/app/src/mypkg``, as ``flit install --symlink`` makes) or
  in the folder a top-level link led to is pointed at the same place in the copy; relative
  links that stay inside the repository already resolve inside the copy;
- symlinks to anywhere else (a venv's ``bin/python -> /usr/bin/python3``) are kept: they
  lead to the system's files, which a gate writing there would change in a real run too;
- a virtual environment's scripts, ``.pth`` files and editable finders naming the user's
  tree or venv by absolute path are rewritten to name the copy.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import shutil
import stat
from collections.abc import Sequence
from pathlib import Path

from runner.process import build_env, run_command

__all__ = ["copy_includes", "fingerprint", "list_includes"]

#: Files of a copied virtual environment that name its folder or the project by absolute
#: path: script shebangs, ``activate``, editable-install ``.pth`` files and finders.
_RETARGET_GLOBS = ("bin/*", "Scripts/*", "lib/python*/site-packages/*.pth",
                   "lib/python*/site-packages/__editable__*.py",
                   "lib/python*/site-packages/*.egg-link")  # fmt: skip
_RETARGET_MAX_BYTES = 1 << 20
#: A path is swapped only where it ends a path component: ``/src/app`` in
#: ``/src/app/.venv`` or ``/src/app:/bin``, never in ``/src/application``.
_PATH_END = rb"(?![\w.-])"
#: Files larger than this are fingerprinted by size and mtime instead of content.
_HASH_MAX_BYTES = 8 << 20


def list_includes(root: Path, globs: Sequence[str], log: Path) -> list[str]:
    """The ignored paths under ``root`` that match ``globs`` (folders as one path); git's
    output goes to ``log``."""
    if not globs:
        return []
    done = run_command(
        ("git", "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"),
        cwd=root,
        env=build_env(os.environ, {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}),
        timeout=None,
        log=log,
    )
    if not done.ok:
        return []
    listed = done.log.read_bytes().decode("utf-8", errors="surrogateescape").split("\0")
    return [p.rstrip("/") for p in listed if p and _matches(p.rstrip("/"), globs)]


def copy_includes(origin: Path, root: Path, wanted: Sequence[str], log: Path) -> list[str]:
    """Copy ``wanted`` from the user's tree ``origin`` to the rehearsal's ``root``; notes."""
    notes = []
    copied = []
    for rel in wanted:
        source, target = origin / rel, root / rel
        real = source.resolve() if source.is_symlink() else source
        if not real.exists():
            notes.append(f"{rel} is a symlink to {source.readlink()}, which is missing: "
                         "not copied (writing through it would create that file)")  # fmt: skip
            continue
        if not (real.is_dir() or real.is_file()):
            notes.append(f"{rel} is not a regular file or folder (a pipe, a socket): not copied")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy(real, target, log)
        copied.append(rel)
        if not target.is_dir():
            continue
        moves = [(real, target), (origin, root), (origin.resolve(), root)]
        _retarget_links(target, moves)
        if (target / "pyvenv.cfg").is_file():
            _retarget_scripts(target, moves)
    if copied:
        notes.insert(
            0, f"copied {len(copied)} ignored path(s) the gates may need: {', '.join(copied)}"
        )
    return notes


def fingerprint(root: Path, wanted: Sequence[str]) -> dict[str, str]:
    """A cheap digest per include, through symlinks: a file's content; a folder's top-level
    listing (a venv's: its ``pyvenv.cfg`` and each ``site-packages`` listing), which changes
    when a package is installed, upgraded (its ``dist-info`` name holds the version) or
    removed, or a module beside them is edited; an edit inside a package is not seen."""
    out = {}
    for rel in wanted:
        path = root / rel
        h = hashlib.sha256()
        try:
            if path.is_file():
                _hash_file(h, path)
            elif path.is_dir():
                _hash_listing(h, path)
                if (cfg := path / "pyvenv.cfg").is_file():
                    _hash_file(h, cfg)
                    for site in sorted(path.glob("lib*/python*/site-packages")):
                        _hash_listing(h, site)
            else:
                h.update(b"missing")
        except OSError as e:
            h.update(f"unreadable {e.errno}".encode())
        out[rel] = "sha256:" + h.hexdigest()
    return out


def _hash_file(h: hashlib._Hash, path: Path) -> None:
    st = path.stat()
    if st.st_size > _HASH_MAX_BYTES:
        h.update(f"{st.st_size} {st.st_mtime_ns}".encode())
        return
    h.update(path.read_bytes())


def _hash_listing(h: hashlib._Hash, folder: Path) -> None:
    """Names, and each file's size and mtime. Folders count by name only, and bytecode
    caches not at all: the first import of a package writes its ``__pycache__`` (changing
    the folder's mtime) without changing what a gate would conclude."""
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.name == "__pycache__":
            continue
        try:
            st = entry.stat()
        except OSError:
            st = entry.stat(follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode):
            h.update(f"{entry.name}/\n".encode())
            continue
        h.update(f"{entry.name}\0{st.st_mode:o}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())


def _matches(rel: str, globs: Sequence[str]) -> bool:
    """A glob with a ``/`` matches the whole path; one without, any path component (as in
    ``.gitignore``: ``node_modules`` finds ``web/node_modules`` too)."""
    parts = rel.split("/")
    for glob in globs:
        pattern = glob.rstrip("/")
        if "/" in pattern:
            if fnmatch.fnmatchcase(rel, pattern):
                return True
        elif any(fnmatch.fnmatchcase(part, pattern) for part in parts):
            return True
    return False


def _copy(source: Path, target: Path, log: Path) -> None:
    """A copy of ``source`` (not a symlink), never a link: a ``pip install`` in a linked venv
    writes into the user's. ``cp --reflink=auto`` shares blocks copy-on-write where the
    filesystem can (btrfs, xfs), and copies them elsewhere."""
    if not source.is_dir():
        shutil.copy2(source, target)
        return
    done = run_command(
        ("cp", "-a", "--reflink=auto", str(source), str(target)),
        cwd=target.parent,
        env=build_env(os.environ, {}),
        timeout=None,
        log=log,
    )
    if not done.ok:  # no GNU cp (macOS, BusyBox): Python's copy keeps symlinks as links
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, symlinks=True)


def _moved(path: str, moves: Sequence[tuple[Path, Path]]) -> str | None:
    """``path`` (absolute) with the first matching ``from`` prefix swapped, or ``None``."""
    for old, new in moves:
        prefix = str(old)
        if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
            return str(new) + path[len(prefix) :]
    return None


def _retarget_links(folder: Path, moves: Sequence[tuple[Path, Path]]) -> None:
    """Point the absolute symlinks in ``folder`` that lead into the user's repository (or
    the folder a top-level link led to) at the same place in the copy."""
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in (*dirnames, *filenames):
            link = Path(dirpath, name)
            if not link.is_symlink():
                continue
            target = link.readlink()
            if not target.is_absolute():
                continue
            new = _moved(os.path.normpath(target), moves)
            if new is not None:
                link.unlink()
                link.symlink_to(new)


def _retarget_scripts(venv: Path, moves: Sequence[tuple[Path, Path]]) -> None:
    """Point a copied virtual environment's files at itself and at the rehearsal's tree.

    Its scripts' shebangs name the user's interpreter, and an editable install's ``.pth``
    names the user's source tree: left alone, ``pip`` in the rehearsal would install into
    the user's venv and the gates would test the user's code instead of the rehearsed one.
    """
    table = {str(old).encode(): str(new).encode() for old, new in moves}
    alternatives = b"|".join(re.escape(k) for k in sorted(table, key=len, reverse=True))
    pattern = re.compile(b"(" + alternatives + b")" + _PATH_END)
    for glob in _RETARGET_GLOBS:
        for path in venv.glob(glob):
            if path.is_symlink() or not path.is_file() or path.stat().st_size > _RETARGET_MAX_BYTES:
                continue
            data = path.read_bytes()
            new = pattern.sub(lambda m: table[m.group(1)], data)
            if new != data:
                path.write_bytes(new)

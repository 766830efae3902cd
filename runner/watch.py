"""Whether anything in the working tree changed while a step's gates ran, without a scan.

After a step's gates the engine looks for files they left behind (reports, caches that are
not ignored) so that they never slip into the next checkpoint. ``git status`` answers that
by visiting every file: ~20 ms per step on 10,000 files, as much as the ``git add -A`` the
step needs anyway. The kernel can answer for free: this module watches every directory of
the tree with Linux inotify (the idea behind git's own fsmonitor and watchman), and a gate
that wrote nothing produces no event, so the scan is skipped.

It only ever *skips* a scan. Anything it cannot vouch for (not Linux, the watch limit
reached, the event queue overflowed, any event at all in the gates' window) answers
"maybe changed" and the engine scans as before: a false alarm costs one scan, a missed
change would cost a wrong checkpoint. Ignored folders that hold no tracked file
(``node_modules``, ``.venv``) are not watched, since nothing written there can be staged;
any other event counts, even for an ignored file.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import struct
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = ["TreeWatch", "WatchStarter"]

_IN_MODIFY = 0x00000002
_IN_ATTRIB = 0x00000004
_IN_CLOSE_WRITE = 0x00000008
_IN_MOVED_FROM = 0x00000040
_IN_MOVED_TO = 0x00000080
_IN_CREATE = 0x00000100
_IN_DELETE = 0x00000200
_IN_DELETE_SELF = 0x00000400
_IN_MOVE_SELF = 0x00000800
_IN_Q_OVERFLOW = 0x00004000
_IN_IGNORED = 0x00008000
_IN_ONLYDIR = 0x01000000
_IN_DONT_FOLLOW = 0x02000000
_IN_EXCL_UNLINK = 0x04000000
_IN_ISDIR = 0x40000000
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC

_MASK = (
    _IN_MODIFY
    | _IN_ATTRIB
    | _IN_CLOSE_WRITE
    | _IN_MOVED_FROM
    | _IN_MOVED_TO
    | _IN_CREATE
    | _IN_DELETE
    | _IN_DELETE_SELF
    | _IN_MOVE_SELF
    | _IN_ONLYDIR
    | _IN_DONT_FOLLOW
    | _IN_EXCL_UNLINK
)
_EVENT = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len; then the name

#: Beyond this many folders a tree is watched no more: the kernel's per-user limit is shared
#: with editors and other tools, and the scan it saves is cheap next to such a tree's gates.
MAX_FOLDERS = 20_000


class TreeWatch:
    """Every folder of a working tree under inotify; ``.git`` folders are left out."""

    def __init__(self, root: Path, fd: int, libc: ctypes.CDLL, skip: frozenset[bytes]) -> None:
        self.root = root
        self._fd = fd
        self._libc = libc
        self._skip = skip
        self._folders: dict[int, bytes] = {}
        self._blind = False  # a folder we could not watch: scan every time from now on
        self._stale = False  # events lost or a folder moved: watch the tree anew at settle()

    @classmethod
    def start(cls, root: Path, skip: Iterable[str] = ()) -> TreeWatch | None:
        """Watch ``root`` but not the ``skip`` folders (relative paths: ignored folders no
        tracked file lives in); ``None`` where inotify is not available (the engine scans)."""
        if not sys.platform.startswith("linux"):
            return None
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
            fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        except (OSError, AttributeError):
            return None
        if fd < 0:
            return None
        watch = cls(root, fd, libc, frozenset(os.fsencode(root / s) for s in skip))
        watch._add_tree(os.fsencode(root))
        if watch._blind:
            watch.close()
            return None
        return watch

    def close(self) -> None:
        """Stop watching. The kernel drops every watch with the descriptor, ~0.1 ms each
        (17 ms for 200 folders), so a thread closes it while the run goes on."""
        fd, self._fd = self._fd, -1
        if fd >= 0:
            threading.Thread(target=os.close, args=(fd,), name="close-watch", daemon=True).start()

    def watch_everything(self) -> None:
        """Watch the skipped folders too, from the next :meth:`settle` on: a changed
        ``.gitignore`` may have made them visible to git."""
        if self._skip:
            self._skip = frozenset()
            self._stale = True

    def settle(self) -> None:
        """Start a quiet window: take in what happened so far, watching new folders."""
        self._read()
        if self._stale and not self._blind:
            self._rewatch()

    def quiet(self) -> bool:
        """Whether nothing in the tree changed since :meth:`settle` (``False``: scan)."""
        changed = self._read()
        return not (changed or self._stale or self._blind)

    # --- inotify -----------------------------------------------------------------------

    def _rewatch(self) -> None:
        """Drop every watch and walk the tree again (after lost events or a moved folder,
        when the folder names we hold may be wrong)."""
        for wd in list(self._folders):
            self._libc.inotify_rm_watch(self._fd, wd)
        self._read()  # the IN_IGNORED of the removals, and whatever else was queued
        self._folders.clear()
        self._stale = False
        self._add_tree(os.fsencode(self.root))

    def _add_tree(self, top: bytes) -> None:
        """Watch ``top`` and every folder below it, without following symlinks."""
        stack = [top]
        while stack:
            folder = stack.pop()
            if folder in self._skip:
                continue
            if not self._add(folder):
                return
            try:
                with os.scandir(folder) as entries:
                    for entry in entries:
                        if entry.name != b".git" and entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
            except OSError:
                continue  # gone already, or unreadable: nothing git could stage there either

    def _add(self, folder: bytes) -> bool:
        if len(self._folders) >= MAX_FOLDERS:
            self._blind = True
            return False
        wd = self._libc.inotify_add_watch(self._fd, folder, _MASK)
        if wd >= 0:
            self._folders[wd] = folder
            return True
        code = ctypes.get_errno()
        if code in (errno.ENOENT, errno.ENOTDIR):
            return True  # removed between the listing and the watch: nothing to watch
        self._blind = True  # ENOSPC (the per-user limit), EACCES, ...: cannot vouch
        return False

    def _read(self) -> bool:
        """Drain the queue; ``True`` when any event touched the tree."""
        changed = False
        while True:
            try:
                data = os.read(self._fd, 64 * 1024)
            except BlockingIOError:
                return changed
            except OSError:
                self._blind = True  # the descriptor itself failed: cannot vouch any more
                return True
            offset = 0
            while offset < len(data):
                wd, mask, _cookie, size = _EVENT.unpack_from(data, offset)
                name = data[offset + _EVENT.size : offset + _EVENT.size + size].rstrip(b"\0")
                offset += _EVENT.size + size
                if mask & _IN_Q_OVERFLOW:
                    self._stale = True  # events were lost: new folders may be unwatched
                    changed = True
                    continue
                if mask & _IN_IGNORED:
                    self._folders.pop(wd, None)  # the folder is gone; its parent saw it go
                    continue
                changed = True
                parent = self._folders.get(wd)
                moved_away = mask & _IN_MOVE_SELF or (mask & _IN_MOVED_FROM and mask & _IN_ISDIR)
                created = mask & _IN_ISDIR and mask & (_IN_CREATE | _IN_MOVED_TO)
                if moved_away:
                    self._stale = True  # the names held for the folders below are now wrong
                elif created and parent is not None and name != b".git":
                    self._add_tree(parent + b"/" + name)


class WatchStarter:
    """Starts a :class:`TreeWatch` on a thread, so walking the tree (~10 ms per 200
    folders) overlaps the git commands of the run's preflight; :meth:`get` waits for it.

    Changes to the tree during the walk are safe: a folder created after its parent was
    listed is reported by the parent's watch, a moved one makes the watch walk anew.
    """

    def __init__(self, root: Path, skip: Callable[[], Iterable[str]] = tuple) -> None:
        self._watch: TreeWatch | None = None
        self._thread = threading.Thread(target=self._start, args=(root, skip), name="watch-tree")
        self._thread.daemon = True
        self._thread.start()

    def _start(self, root: Path, skip: Callable[[], Iterable[str]]) -> None:
        try:
            folders = list(skip())
        except Exception:  # noqa: BLE001 - only an optimisation: watch everything instead
            folders = []
        self._watch = TreeWatch.start(root, folders)

    def get(self) -> TreeWatch | None:
        """The watch, or ``None`` where the tree cannot be watched."""
        self._thread.join()
        return self._watch

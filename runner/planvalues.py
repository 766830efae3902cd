"""Pure checks on single plan values: durations, branch names, paths, dotted names.

No YAML and no I/O here, so the rules are easy to test one by one. The ``*_problem``
functions return why a value is wrong (a phrase that completes "... is not valid: "), or
``None`` when it is fine.
"""

from __future__ import annotations

import keyword
import math
import re

__all__ = [
    "branch_problem",
    "dotted_name_problem",
    "identifier_problem",
    "parse_duration",
    "parse_size",
    "path_problem",
]

_DURATION = re.compile(
    r"(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s)?"
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def parse_duration(value: str | int | float) -> float:
    """Seconds in ``value``: ``45`` / ``"45"`` (seconds), ``"90s"``, ``"15m"``, ``"1h30m"``.

    Units are ``h``, ``m`` and ``s``, in that order, each at most once, lowercase, without
    spaces; numbers may have decimals (``"1.5h"``). The result must be positive and finite.
    Raises :class:`ValueError` otherwise (booleans included: ``True`` is not a duration).
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        msg = f"not a duration: {value!r}"
        raise ValueError(msg)
    seconds = _parse_duration_text(value) if isinstance(value, str) else float(value)
    if not math.isfinite(seconds):
        msg = f"not a duration: {value!r} is not a finite number of seconds"
        raise ValueError(msg)
    if seconds <= 0:
        msg = f"a duration must be positive, got {value!r}"
        raise ValueError(msg)
    return seconds


def _parse_duration_text(text: str) -> float:
    if _NUMBER.fullmatch(text):
        return float(text)
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        msg = f"not a duration: {text!r} (use seconds, or 90s, 15m, 1h, 1h30m)"
        raise ValueError(msg)
    hours, minutes, seconds = (float(match[g] or 0) for g in "hms")
    return hours * 3600 + minutes * 60 + seconds


_SIZE = re.compile(r"(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>[kKmMgG]?)[bB]?")
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_size(value: str | int | float) -> int:
    """Bytes in ``value``: ``1048576`` (bytes), ``"512KB"``, ``"1MB"``, ``"2M"``, ``"1.5mb"``.

    Units are powers of 1024 (``KB``/``K``, ``MB``/``M``, ``GB``/``G``, any case); the
    result must be a positive whole number of bytes. Raises :class:`ValueError` otherwise.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        msg = f"not a size: {value!r}"
        raise ValueError(msg)
    if isinstance(value, str):
        match = _SIZE.fullmatch(value.strip())
        if match is None:
            msg = f"not a size: {value!r} (use bytes, or 512KB, 1MB, 2GB)"
            raise ValueError(msg)
        size = float(match["n"]) * _SIZE_UNITS[match["unit"].lower()]
    else:
        size = float(value)
    if not math.isfinite(size) or size < 1:
        msg = f"a size must be at least 1 byte, got {value!r}"
        raise ValueError(msg)
    return int(size)


# The rules of `git check-ref-format --branch` (refs.c check_refname_component).
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def branch_problem(name: str) -> str | None:
    """Why ``name`` is not a valid git branch name, by the rules of ``git check-ref-format``."""
    checks: tuple[tuple[bool, str], ...] = (
        (not name, "it is empty"),
        (name.startswith("-"), "it starts with '-'"),
        (name in {"HEAD", "@"}, f"'{name}' is reserved by git"),
        (_REF_FORBIDDEN.search(name) is not None, _forbidden_char(name)),
        (".." in name, "it contains '..'"),
        ("@{" in name, "it contains '@{'"),
        (name.startswith("/") or name.endswith("/"), "it starts or ends with '/'"),
        ("//" in name, "it contains '//'"),
        (name.endswith("."), "it ends with '.'"),
        (any(part.startswith(".") for part in name.split("/")), "a part starts with '.'"),
        (any(part.endswith(".lock") for part in name.split("/")), "a part ends with '.lock'"),
    )
    return next((reason for failed, reason in checks if failed), None)


def _forbidden_char(name: str) -> str:
    match = _REF_FORBIDDEN.search(name)
    if match is None:
        return ""
    char = match.group()
    shown = (
        "a space" if char == " " else repr(char) if char.isprintable() else "a control character"
    )
    return f"it contains {shown} (git forbids spaces, control characters and ~ ^ : ? * [ \\)"


def path_problem(path: str, *, glob: bool = False) -> str | None:
    """Why ``path`` does not name something inside the repository (relative, no ``..``)."""
    parts = re.split(r"[/\\]", path)
    checks: tuple[tuple[bool, str], ...] = (
        (not path.strip(), "it is empty"),
        (path.startswith(("/", "\\")), "it is absolute; write it relative to the repository root"),
        (re.match(r"[A-Za-z]:", path) is not None, "it has a drive letter; write it relative"),
        (path.startswith("~"), "'~' is the home directory, outside the repository"),
        (".." in parts, "'..' reaches outside the repository"),
        (not glob and ".git" in parts, "'.git' belongs to git, not to the plan"),
    )
    return next((reason for failed, reason in checks if failed), None)


def identifier_problem(name: str) -> str | None:
    """Why ``name`` is not a Python identifier usable as a local name."""
    if not name.isidentifier():
        return f"'{name}' is not a Python identifier"
    if keyword.iskeyword(name):
        return f"'{name}' is a Python keyword"
    return None


def dotted_name_problem(name: str) -> str | None:
    """Why ``name`` is not a dotted Python name such as ``pkg.old.Engine``."""
    if not name:
        return "it is empty"
    for part in name.split("."):
        if not part:
            return f"'{name}' has an empty part (check the dots)"
        problem = identifier_problem(part)
        if problem is not None:
            return f"in '{name}', {problem}"
    return None

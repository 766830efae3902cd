"""Paths in commit records, quoted as git quotes them so that any path git can store reads back.

A commit message is lines of text: a file name holding a newline would end its trailer and
start a new one (a taken-back file would not be protected, a forged ``Runner-`` line could
appear), one ending in a space would lose it to the trailer parser's strip, and a name that
is not UTF-8 cannot be written into a UTF-8 message at all. git itself solves this in its
own output with C-style quoting (``quote_c_style`` in git's ``quote.c``): a name that needs it is
written between double quotes, with ``\\"``, ``\\\\``, ``\\n``, ``\\t``... and ``\\ooo`` octal for
any other control byte. Runner writes the same form, so ``git log`` shows the names as
``git status`` would; a name that needs no quoting is written as it is, which is also how
records made before quoting existed are read back.

Names are ``str`` as Python gives them for file names: bytes that are not UTF-8 are carried
as lone surrogates (``os.fsdecode``'s ``surrogateescape``) and written as octal escapes; valid
non-ASCII UTF-8 stays readable (git's ``core.quotePath=false`` form). Both directions
accept git's default form too (every non-ASCII byte octal), since it decodes the same.
"""

from __future__ import annotations

__all__ = ["needs_quoting", "quote_path", "unquote_path"]

_ESCAPES = {
    "\a": "a",
    "\b": "b",
    "\t": "t",
    "\n": "n",
    "\v": "v",
    "\f": "f",
    "\r": "r",
    '"': '"',
    "\\": "\\",
}
_UNESCAPES = {v: k for k, v in _ESCAPES.items()}


def needs_quoting(path: str) -> bool:
    """Whether ``path`` must be quoted to survive a line of a commit message unchanged.

    git's rule (a double quote, a backslash, a control character), plus what a trailer
    line would lose: leading or trailing whitespace, and bytes that are not UTF-8.
    """
    if not path or path != path.strip():
        return True
    return any(c in _ESCAPES or _is_control(c) or _is_raw_byte(c) for c in path)


def quote_path(path: str, *, always: bool = False) -> str:
    """``path`` as one line of text: itself if it needs no quoting (and not ``always``),
    else git's C-style quoted form ``"..."``."""
    if not always and not needs_quoting(path):
        return path
    out = ['"']
    for c in path:
        if c in _ESCAPES:
            out.append("\\" + _ESCAPES[c])
        elif _is_control(c):
            out.append(f"\\{ord(c):03o}")
        elif _is_raw_byte(c):
            out.append(f"\\{ord(c) - 0xDC00:03o}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def unquote_path(text: str) -> str:
    """The path ``text`` names: the inverse of :func:`quote_path`.

    Text that is not a well-formed quoted name (an old record written before quoting, or a
    name that merely contains a double quote somewhere) is the path itself.
    """
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        return text
    decoded = _unquote(text[1:-1])
    return text if decoded is None else decoded


def _unquote(inner: str) -> str | None:
    data = bytearray()
    i = 0
    while i < len(inner):
        c = inner[i]
        if c == '"':
            return None  # an unescaped quote inside: not git's form
        if c != "\\":
            data += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        nxt = inner[i + 1 : i + 2]
        if nxt in _UNESCAPES:
            data += _UNESCAPES[nxt].encode()
            i += 2
            continue
        digits = inner[i + 1 : i + 4]
        if len(digits) == 3 and all(d in "01234567" for d in digits) and int(digits, 8) < 256:
            data.append(int(digits, 8))
            i += 4
            continue
        return None
    return data.decode("utf-8", "surrogateescape")


def _is_control(c: str) -> bool:
    return ord(c) < 0x20 or ord(c) == 0x7F


def _is_raw_byte(c: str) -> bool:
    """A byte that was not UTF-8, as ``surrogateescape`` carries it."""
    return 0xDC80 <= ord(c) <= 0xDCFF

"""Text from the tree or from a command, made safe for one terminal line.

File names and command output reach the terminal in notices and failure reports; an ESC
sequence in a name could rewrite the screen, a newline forge a line of runner's own output.
Paths are quoted as git quotes them (:func:`runner.pathquote.quote_path`); other text has
its control characters escaped here (``\\x1b``), newlines and tabs kept where a block of
output is shown.
"""

from __future__ import annotations

__all__ = ["printable"]


def printable(text: str, *, keep: str = "\n\t") -> str:
    """``text`` with every control character but those in ``keep`` written as an escape."""
    return "".join(c if c in keep or c.isprintable() else _escape(c) for c in text)


def _escape(c: str) -> str:
    code = ord(c)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"

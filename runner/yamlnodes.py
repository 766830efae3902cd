"""``phases.yaml`` bytes → a composed YAML node tree, safely, every problem located.

Only the composer runs (as pre-commit's ``yaml_compose`` does): nothing is constructed, so
no tag can build a Python object. On top of PyYAML's safe loader this module refuses what a
plan never needs and an attacker or a typo could abuse: non-UTF-8 bytes, files over
:data:`MAX_BYTES`, aliases (the billion-laughs expansion needs them), nesting deeper than
:data:`MAX_DEPTH`, non-standard tags, duplicate keys (PyYAML keeps the last one silently),
non-scalar keys and more than one document. Each refusal is a :class:`~runner.errors.Problem`
at the 1-based line and column of the offending node.
"""

from __future__ import annotations

import codecs
import re

import yaml
from yaml.error import Mark
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from runner.errors import Problem

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "Collector",
    "RefusedNode",
    "compose",
    "display_tag",
]

#: Plans are hand-written; anything bigger is the wrong file (or an attack on the parser).
MAX_BYTES = 1024 * 1024
#: Deep enough for any plan (they nest about 8 levels), shallow enough for a recursive walk.
MAX_DEPTH = 64

_TAG_PREFIX = "tag:yaml.org,2002:"
#: Tags a plan may hold. ``timestamp`` and ``merge`` only come from implicit resolution
#: (``2024-01-01``, ``<<``); the validator then reports them as wrong types or unknown keys.
_SCALAR_TAGS = frozenset(
    _TAG_PREFIX + t for t in ("str", "int", "float", "bool", "null", "timestamp", "merge")
)


class Collector:
    """Problems found in one plan file, in the order they were found."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def add(self, where: Node | Mark | tuple[int, int] | None, message: str) -> None:
        """Record ``message`` at a node's start, a mark, or a 1-based ``(line, col)``."""
        line, col = _position(where)
        self.problems.append(Problem(self.path, line, col, message))


def _position(where: Node | Mark | tuple[int, int] | None) -> tuple[int, int]:
    if isinstance(where, tuple):
        return where
    mark = where.start_mark if isinstance(where, Node) else where
    if mark is None:
        return 1, 1
    return mark.line + 1, mark.column + 1


class RefusedNode(ScalarNode):
    """Stands in for an alias or a forbidden tag, already reported: validators skip it."""

    def __init__(self, start_mark: Mark | None, end_mark: Mark | None) -> None:
        super().__init__("!refused", "", start_mark, end_mark)


class _TooDeepError(Exception):
    def __init__(self, mark: Mark | None) -> None:
        super().__init__("too deep")
        self.mark = mark


class _PlanLoader(yaml.SafeLoader):
    """The safe loader's composer, refusing aliases and bounding depth."""

    def __init__(self, text: str, report: Collector) -> None:
        super().__init__(text)
        self._report = report
        self._depth = 0
        #: anchor -> (where it is first used as an alias, how often); reported per anchor
        self.aliases: dict[str, tuple[Mark, int]] = {}

    def report_aliases(self) -> None:
        for anchor, (mark, uses) in self.aliases.items():
            times = "" if uses == 1 else f", used {uses} times"
            self._report.add(
                mark,
                f"YAML aliases (*{anchor}{times}) are not allowed in a plan; write the value "
                "out, or define a named gate under 'gates:' and refer to it by name",
            )

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.get_event()  # type: ignore[no-untyped-call]  # untyped in types-PyYAML
            # An alias re-uses a node: nine aliases of nine aliases of ... expand to 10**9
            # nodes in any walk (billion laughs), and `&a [*a]` is a cycle. Plans share gates
            # by name instead, so aliases are refused before anything is expanded.
            anchor = str(getattr(event, "anchor", ""))
            first, uses = self.aliases.get(anchor, (event.start_mark, 0))
            self.aliases[anchor] = (first, uses + 1)
            return RefusedNode(event.start_mark, event.end_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeepError(self.next_mark())
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def next_mark(self) -> Mark | None:
        """Where the next event starts."""
        event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in types-PyYAML
        mark: Mark | None = event.start_mark
        return mark


def display_tag(tag: str) -> str:
    """A tag as the user wrote it: ``!!python/object`` rather than its URI."""
    return "!!" + tag.removeprefix(_TAG_PREFIX) if tag.startswith(_TAG_PREFIX) else tag


def compose(data: str | bytes, report: Collector) -> Node | None:
    """The plan's single document as a node tree, or ``None`` when it cannot be read at all.

    Problems go to ``report``; a tree is returned even when some of its nodes were refused
    (they are :class:`RefusedNode`), so the validator still finds the other mistakes.
    """
    text = _text(data, report)
    if text is None:
        return None
    loader = None
    try:
        loader = _PlanLoader(text, report)  # the reader checks for control characters here
        return _single_document(loader, report)
    except _TooDeepError as e:
        report.add(e.mark, f"the plan nests deeper than {MAX_DEPTH} levels; is this a plan?")
    except yaml.MarkedYAMLError as e:
        report.add(e.problem_mark or e.context_mark, _yaml_message(e))
    except yaml.reader.ReaderError as e:
        report.add(_offset_position(text, int(e.position)), _reader_message(e))
    except yaml.YAMLError as e:  # pragma: no cover - every PyYAML error above is marked
        report.add((1, 1), f"invalid YAML: {e}")
    finally:
        if loader is not None:
            loader.report_aliases()
            loader.dispose()
    return None


def _single_document(loader: _PlanLoader, report: Collector) -> Node | None:
    if not loader.check_node():
        report.add((1, 1), "the plan is empty; it needs at least 'version: 1', 'name' and 'phases'")
        return None
    root = loader.get_node()
    if loader.check_node():
        report.add(
            loader.next_mark(),
            "a plan is one YAML document, but a second one starts here; "
            "remove this '---' and what follows, or merge the two",
        )
        return None
    if root is None or (isinstance(root, ScalarNode) and root.tag == _TAG_PREFIX + "null"):
        report.add((1, 1), "the plan is empty; it needs at least 'version: 1', 'name' and 'phases'")
        return None
    root = _checked(root, report)
    _sanitize(root, report)
    return root


def _text(data: str | bytes, report: Collector) -> str | None:
    """Decoded text, or ``None`` after reporting why it is not a UTF-8 plan of sane size."""
    size = len(data) if isinstance(data, bytes) else _utf8_size(data)
    if size > MAX_BYTES:
        report.add(
            (1, 1),
            f"the plan is {size} bytes, over the {MAX_BYTES // 1024} KiB limit for plans; "
            "is this the right file?",
        )
        return None
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        report.add((1, 1), "the plan is UTF-16 encoded; save it as UTF-8")
        return None
    nul = data.find(b"\0")
    if nul >= 0:
        report.add(
            _byte_position(data, nul),
            "the plan contains a NUL byte: it looks like a binary file, not YAML text",
        )
        return None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        report.add(
            _byte_position(data, e.start),
            f"the plan is not UTF-8 text: byte 0x{data[e.start]:02x} cannot be decoded; "
            "save the file as UTF-8",
        )
        return None


def _utf8_size(text: str) -> int:
    if len(text) > MAX_BYTES:  # every character takes at least one byte
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    col = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return data.count(b"\n", 0, offset) + 1, col


def _offset_position(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


_TAB = re.compile(r"'\\t'|\btabs?\b")


def _yaml_message(e: yaml.MarkedYAMLError) -> str:
    problem = e.problem or "cannot parse"
    if _TAB.search(problem):
        return "a tab character here: YAML indents with spaces only; replace the tab with spaces"
    if isinstance(e, yaml.composer.ComposerError) and e.context_mark is not None:
        # PyYAML: "found duplicate anchor 'x'; first occurrence" / "second occurrence"
        anchor = (e.context or "").partition("anchor ")[2].partition(";")[0]
        return (
            f"the anchor &{anchor.strip(chr(39))} is defined twice (first at line "
            f"{e.context_mark.line + 1}); anchors are of no use in a plan, aliases are refused"
        )
    if "expected <block end>" in problem:
        return (
            "invalid YAML: the indentation here does not line up with the lines above "
            "(indent keys of one mapping by the same number of spaces)"
        )
    message = f"invalid YAML: {problem}"
    if problem == "mapping values are not allowed here":
        message += _indent_hint(e.problem_mark) or "; quote a value that contains ': '"
    if e.context and e.context_mark is not None and e.problem_mark is not None:
        if e.context_mark.line != e.problem_mark.line:
            message += f" ({e.context} at line {e.context_mark.line + 1})"
    elif e.context and "while scanning for the next token" not in e.context:
        message += f" ({e.context})"
    return message


def _indent_hint(mark: yaml.Mark | None) -> str:
    """A key indented off its mapping (one space too many) reads to PyYAML as a value
    holding ``: ``; when the text before the ``:`` is a lone key, say it is the indentation."""
    buffer = getattr(mark, "buffer", None)
    if mark is None or not buffer:
        return ""
    lines = str(buffer).rstrip("\0").split("\n")
    line = lines[mark.line]
    if not re.fullmatch(r" *(?:- )?[\w.-]+", line[: mark.column]):
        return ""
    above = [
        (n, ln)
        for n, ln in enumerate(lines[: mark.line])
        if ln.strip() and not ln.lstrip().startswith("#")
    ]
    if not above:
        return ""
    number, previous = above[-1]
    indent = len(line) - len(line.lstrip(" "))
    key_at = len(previous) - len(previous.lstrip(" -"))
    return (
        f"; the key here is indented by {indent} spaces, the key on line {number + 1} by "
        f"{key_at}: keys of one mapping line up (or quote a value that contains ': ')"
    )


def _reader_message(e: yaml.reader.ReaderError) -> str:
    char = e.character
    code = char if isinstance(char, int) else ord(char)
    return f"the plan contains the control character U+{code:04X}, which YAML does not allow"


def _sanitize(root: Node, report: Collector) -> None:
    """Refuse foreign tags, duplicate and non-scalar keys, in place, for the whole tree.

    Runs over every node (not only those the validator reads), so a duplicate key inside an
    unknown section is reported too. Refused nodes are replaced by :class:`RefusedNode`;
    refused mapping entries are dropped, keeping the first of duplicate keys.
    """
    stack: list[Node] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, SequenceNode):
            node.value = [_checked(child, report) for child in node.value]
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            node.value = _checked_pairs(node, report)
            stack.extend(value for _, value in node.value)


def _checked(node: Node, report: Collector) -> Node:
    if isinstance(node, RefusedNode) or _tag_ok(node):
        return node
    report.add(
        node,
        f"the tag {display_tag(node.tag)} is not allowed in a plan: plans hold only strings, "
        "numbers, booleans, lists and mappings (remove the tag)",
    )
    return RefusedNode(node.start_mark, node.end_mark)


def _tag_ok(node: Node) -> bool:
    if isinstance(node, SequenceNode):
        return node.tag == _TAG_PREFIX + "seq"
    if isinstance(node, MappingNode):
        return node.tag == _TAG_PREFIX + "map"
    return node.tag in _SCALAR_TAGS


def _checked_pairs(node: MappingNode, report: Collector) -> list[tuple[Node, Node]]:
    seen: dict[str, Node] = {}
    pairs: list[tuple[Node, Node]] = []
    for key, value in node.value:
        checked_key = _checked(key, report)
        if isinstance(checked_key, RefusedNode):
            continue
        if not isinstance(checked_key, ScalarNode):
            report.add(key, "a key must be a plain name, not a list or a mapping")
            continue
        first = seen.get(checked_key.value)
        if first is not None:
            report.add(
                key,
                f"duplicate key '{checked_key.value}' (first at line "
                f"{_position(first)[0]}); YAML would silently keep only one of them",
            )
            continue
        seen[checked_key.value] = checked_key
        pairs.append((checked_key, _checked(value, report)))
    return pairs

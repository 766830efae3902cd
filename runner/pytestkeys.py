"""The options of a ``pytest`` gate (``affected``, ``workers``), checked at load.

Kept out of :mod:`runner.plan` so the loader only hands over the option nodes: each problem
points at the offending value (``phases.yaml:12:15: ...``), as every other plan problem does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from yaml.nodes import Node, ScalarNode, SequenceNode

from runner.model import PytestGate

__all__ = ["pytest_spec"]

_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"


def pytest_spec(
    args: tuple[str, ...], options: Mapping[str, Node], problem: Callable[[Node, str], None]
) -> PytestGate | None:
    """The gate, or ``None`` with each bad option reported."""
    affected, workers, ok = False, None, True
    if (node := options.get("affected")) is not None:
        if isinstance(node, ScalarNode) and node.tag == _BOOL:
            affected = node.value.lower() == "true"
        else:
            problem(node, f"'affected' must be true or false, got {_shown(node)}")
            ok = False
    if (node := options.get("workers")) is not None:
        workers = _workers(node)
        if workers is None:
            problem(
                node,
                f"'workers' must be auto or a whole number of 1 or more (pytest-xdist's -n), "
                f"got {_shown(node)}",
            )
            ok = False
    if ok and workers and any(_is_n_option(a) for a in args):
        problem(options["workers"], "'workers' and a -n in the pytest arguments: keep one")
        ok = False
    return PytestGate(args, affected=affected, workers=workers) if ok else None


def _is_n_option(arg: str) -> bool:
    """``-n 2``, ``-n2``, ``-nauto``, ``-n=2``, ``--numprocesses[=2]``: xdist's ``-n``."""
    return arg.startswith("--numprocesses") or (arg.startswith("-n") and arg[:2] != "--")


def _workers(node: Node) -> str | None:
    if not isinstance(node, ScalarNode):
        return None
    if node.tag == _INT:
        try:
            count = int(node.value, 0)
        except ValueError:
            return None
        return str(count) if count >= 1 else None
    return "auto" if node.value == "auto" else None


def _shown(node: Node) -> str:
    if isinstance(node, ScalarNode):
        return repr(node.value) if node.value else "an empty value"
    return "a list" if isinstance(node, SequenceNode) else "a mapping"

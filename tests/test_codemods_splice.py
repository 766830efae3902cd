"""Code generation of only the changed top-level statements gives LibCST's bytes, exactly,
except where LibCST loses bytes of the source (a form feed before a statement)."""

from __future__ import annotations

import ast

import libcst as cst
import pytest

from runner.codemods._splice import module_bytes

SOURCES = {
    "plain": "import os\n\nx = 1\n\n\ndef f():\n    return x\n",
    "comments": (
        '#!/usr/bin/env python\n# header\n\n# doc comment\n"""Doc."""\n# c1\n\n# c2\n'
        "@dec\n# between\n@dec2(\n  1)\ndef f():\n    pass\n    # deeper\n\n# top\n"
        "x = 1  # trailing\nif x:\n    y = 2\n  # dedented\n# end\n"
    ),
    "semicolons": "a = 1; b = 2\nimport os; import sys\nc = (\n    a,\n    b,\n)\n",
    "backslash": "x = 1 + \\\n    2\ny = 3\n\\\n\nz = 4\n",
    "crlf": "import os\r\n\r\nx = 1\r\n",
    "bom": "\ufeffimport os\n\nx = 1\n",
    "latin1": "# -*- coding: latin-1 -*-\nname = 'caf\xe9'\nimport os\n",
    "no-newline": "import os\nx = 1",
    "formfeed": "import os\n\x0c\nx = 1\n\x0cdef f():\n    pass\n",
    "strings": 'S = """\nnot = a statement\n"""\nT = 1\n\n\nclass C(\n    object\n):\n    a = 1\n',
    "only-comments": "# nothing\n\n# here\n",
    "decorator-parens": "@(\n    dec\n)\ndef f():\n    pass\nx = 1\n",
}


def _encoded(text: str) -> bytes:
    if "coding: latin-1" in text:
        return text.encode("latin-1")
    if text.startswith("\ufeff"):
        return text[1:].encode("utf-8-sig")
    return text.encode()


def _variants(module: cst.Module) -> list[cst.Module]:
    body = list(module.body)
    fresh = cst.parse_statement("added = 1\n")
    out = [module.with_changes()]
    for k, stmt in enumerate(body):
        out.append(module.with_changes(body=[*body[:k], stmt.with_changes(), *body[k + 1 :]]))
        out.append(module.with_changes(body=[*body[:k], *body[k + 1 :]]))
        out.append(module.with_changes(body=[*body[:k], fresh, stmt, *body[k + 1 :]]))
    out.append(module.with_changes(body=[*body, fresh]))
    out.append(module.with_changes(body=[]))
    return out


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_splice_matches_full_code_generation(name: str) -> None:
    source = _encoded(SOURCES[name])
    module = cst.parse_module(source)
    tree = ast.parse(source)
    assert module_bytes(module, module, tree, source) == source
    for new in _variants(module):
        out = module_bytes(module, new, tree, source)
        if b"\x0c" not in source:
            assert out == new.bytes
            continue
        # LibCST drops the form feed before ``def f``; the splice keeps it, all else equal.
        assert out.replace(b"\x0c", b"") == new.bytes.replace(b"\x0c", b"")
        kept_def = any(isinstance(s, cst.FunctionDef) for s in new.body)
        assert (b"\x0cdef f" in out) == kept_def


def test_untouched_statement_keeps_bytes_libcst_would_not_write_back() -> None:
    source = b"import os\n\ntry:\n    pass\nexcept OSError :\n    pass\n"
    module = cst.parse_module(source)
    assert b"except OSError:" in module.bytes  # LibCST's code generation drops the space
    body = list(module.body)
    new = module.with_changes(body=[cst.parse_statement("import sys\n"), *body[1:]])
    out = module_bytes(module, new, ast.parse(source), source)
    assert out == b"import sys\n\ntry:\n    pass\nexcept OSError :\n    pass\n"

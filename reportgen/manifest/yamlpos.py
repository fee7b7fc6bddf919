"""YAML loading that keeps the line number of every key and value.

Uses PyYAML's node API (`yaml.compose` with SafeLoader), so nothing is constructed from tags.
Each node becomes a `YNode`:
- scalars: `kind` is "text", "int", "float", "bool", "null", "date" or "other" (unknown tag),
  `value` is the Python value (for "text" the exact string YAML produced) and `raw` the scalar as written;
- sequences: `kind` "list", `value` a list of YNode;
- mappings: `kind` "map", `value` a list of YEntry (duplicate keys kept, so callers can report them).
Lines are 1-based (`start_mark.line + 1`). Aliases reuse the converted node (no exponential blow-up).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

_TAGS = {
    "tag:yaml.org,2002:str": "text",
    "tag:yaml.org,2002:int": "int",
    "tag:yaml.org,2002:float": "float",
    "tag:yaml.org,2002:bool": "bool",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "date",
}


@dataclass(eq=False)
class YNode:
    kind: str
    value: Any
    line: int
    tag: str = ""
    raw: str = ""


@dataclass(eq=False)
class YEntry:
    key: str
    key_line: int
    node: YNode
    key_is_text: bool = True


class YamlProblem(Exception):
    """A whole-file YAML problem at `line` (1-based)."""

    def __init__(self, line: int, problem: str):
        super().__init__(f"line {line}: {problem}")
        self.line = line
        self.problem = problem


def _scalar(node: yaml.ScalarNode, constructor: yaml.constructor.SafeConstructor) -> YNode:
    kind = _TAGS.get(node.tag, "other")
    line = node.start_mark.line + 1
    if kind in ("text", "other"):
        return YNode(kind, node.value, line, node.tag, node.value)
    try:
        value = constructor.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, OverflowError):
        return YNode("other", node.value, line, node.tag, node.value)
    return YNode(kind, value, line, node.tag, node.value)


def _convert(root: yaml.Node) -> YNode:
    constructor = yaml.constructor.SafeConstructor()
    memo: dict[int, YNode] = {}

    def conv(node: yaml.Node) -> YNode:
        if id(node) in memo:
            return memo[id(node)]
        line = node.start_mark.line + 1
        if isinstance(node, yaml.ScalarNode):
            out = _scalar(node, constructor)
            memo[id(node)] = out
            return out
        if isinstance(node, yaml.SequenceNode):
            out = YNode("list", [], line, node.tag)
            memo[id(node)] = out
            out.value.extend(conv(item) for item in node.value)
            return out
        out = YNode("map", [], line, node.tag)
        memo[id(node)] = out
        for knode, vnode in node.value:
            is_text = isinstance(knode, yaml.ScalarNode)
            key = knode.value if is_text else "<complex key>"
            out.value.append(YEntry(str(key), knode.start_mark.line + 1, conv(vnode), is_text))
        return out

    return conv(root)


def load_nodes(text: str) -> YNode | None:
    """Parse one YAML document into YNodes; None for an empty document (only blanks/comments).

    Raises YamlProblem for syntax errors (with the line of the problem).
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and problem.startswith("but"):
            problem = f"{exc.context} {problem}"
        raise YamlProblem(line, problem) from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise YamlProblem(line, f"character U+{code:04X} is not allowed in YAML (write it as an escape in double quotes)") from None
    except yaml.YAMLError as exc:  # pragma: no cover - other PyYAML errors carry no mark
        raise YamlProblem(1, str(exc).replace("\n", " ")) from None
    if root is None:
        return None
    return _convert(root)

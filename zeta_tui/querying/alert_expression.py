"""An alerting rule's expression read for its graph: what to draw and where the threshold is.

``split_threshold("rate(x[5m]) > 0.05")`` is ``("rate(x[5m])", ">", 0.05)``. A multiwindow
burn-rate rule is two such comparisons joined by ``and`` (``long > (14.4 * 0.001) and short >
(14.4 * 0.001)``); ``split_conditions`` gives each, so the evidence graph draws both windows
against their threshold. A constant may be a number or a product or quotient of two numbers in
parentheses, as the SRE workbook's rules write it. Anything else (``or``, ``unless``, a
comparison between two series, a comparison inside parentheses) is not split: the whole
expression is graphed without a line.
"""

from __future__ import annotations

import re

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_COMPARISON = re.compile(
    rf"^(?P<lhs>.+?)\s*(?P<op>>=|<=|==|!=|>|<)\s*(?:bool\s+)?"
    rf"(?P<value>{_NUMBER}|\(\s*{_NUMBER}\s*[*/]\s*{_NUMBER}\s*\))\s*$",
    re.S,
)
_ARITHMETIC = re.compile(rf"\(\s*({_NUMBER})\s*([*/])\s*({_NUMBER})\s*\)")
_SET_OPERATOR = re.compile(r"\b(and|or|unless)\b")

Condition = tuple[str, str, float]


def _constant(text: str) -> float | None:
    m = _ARITHMETIC.fullmatch(text.strip())
    if m is None:
        return float(text)
    a, op, b = float(m.group(1)), m.group(2), float(m.group(3))
    if op == "*":
        return a * b
    return a / b if b else None


def _top_level_parts(expr: str) -> list[tuple[str, str]]:
    """``expr`` cut at its set operators outside parentheses, brackets and braces: [(operator
    before the part, part)], the first operator "" (label matchers such as {x="and"} are skipped)."""
    parts, depth, start, op = [], 0, 0, ""
    quote = ""
    i = 0
    while i < len(expr):
        ch = expr[i]
        if quote:
            quote = "" if ch == quote and expr[i - 1] != "\\" else quote
        elif ch in "\"'`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0:
            m = _SET_OPERATOR.match(expr, i)
            if m and (i == 0 or not (expr[i - 1].isalnum() or expr[i - 1] in "_:")):
                parts.append((op, expr[start:i]))
                op, start = m.group(1), m.end()
                i = m.end()
                continue
        i += 1
    parts.append((op, expr[start:]))
    return parts


def _comparison(part: str) -> Condition | None:
    m = _COMPARISON.match(part.strip())
    if not m:
        return None
    lhs = m.group("lhs").strip()
    if lhs.count("(") != lhs.count(")"):
        return None  # the comparison is inside parentheses, not the top level
    value = _constant(m.group("value"))
    return None if value is None else (lhs, m.group("op"), value)


def split_conditions(expr: str) -> list[Condition] | None:
    """Each top-level comparison with a constant of ``expr`` (one, or several joined by ``and``)
    as (graphed side, operator, threshold); None when the expression is not only that."""
    parts = _top_level_parts(expr)
    if any(op not in ("", "and") for op, _ in parts):
        return None
    conditions = [_comparison(part) for _, part in parts]
    if any(c is None for c in conditions):
        return None
    return [c for c in conditions if c is not None]


def split_threshold(expr: str) -> Condition | None:
    """The one comparison of ``expr`` with a constant, as (graphed side, operator, threshold);
    None when there is not exactly one (see split_conditions)."""
    conditions = split_conditions(expr)
    return conditions[0] if conditions is not None and len(conditions) == 1 else None

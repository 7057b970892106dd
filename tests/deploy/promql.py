"""Turns an alerting rule's expression into one that yields a series whenever its metrics exist:
`bool` after every comparison, so `x > 5` answers 0 or 1 for every series of x instead of
keeping only those past 5 (and `a == bool 0 and b > bool 0` keeps a's series, since b always
has some). A healthy test pipeline fires none of the rules, so the plain expression returns
nothing; this form proves each metric, label match and function resolves against the real
server's metrics. Label matchers ({...}) and strings are left alone."""

from __future__ import annotations

COMPARISONS = ("==", "!=", ">=", "<=", ">", "<")


def with_bool(expr: str) -> str:
    out: list[str] = []
    i, braces, quote = 0, 0, None
    while i < len(expr):
        c = expr[i]
        if quote:
            out.append(c)
            if c == "\\" and i + 1 < len(expr):
                out.append(expr[i + 1])
                i += 1
            elif c == quote:
                quote = None
            i += 1
            continue
        if c in "\"'`":
            quote = c
        elif c == "{":
            braces += 1
        elif c == "}":
            braces -= 1
        elif braces == 0:
            op = next((op for op in COMPARISONS if expr.startswith(op, i)), None)
            if op:
                out.append(op)
                i += len(op)
                if not expr[i:].lstrip().startswith("bool"):
                    out.append(" bool")
                continue
        out.append(c)
        i += 1
    return "".join(out)

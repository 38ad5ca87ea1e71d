"""The safe formula language of custom scoring models.

A hand-written tokenizer and recursive-descent parser turn a formula into a tree of frozen
structs; `compile_expression` turns the tree into nested closures, so a formula is parsed
once and then evaluated many times without looking at text again. Nothing here calls
Python's `eval`, `exec` or `compile`: the only names a formula can reach are the estimates
and the functions in `FUNCTIONS`.

Grammar (one precedence level per rule, lowest first)::

    expression := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := "-" unary | "+" unary | power
    power      := primary ("^" unary)?          right-associative: 2^3^2 = 2^9
    primary    := NUMBER | NAME | NAME "(" expression ("," expression)* ")" | "(" expression ")"

So `-2^2` is -4, as in mathematics, and `2^-1` is 0.5.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Final

import msgspec

from services.scoring.domain import ESTIMATE_FIELDS

MAX_LENGTH: Final = 500
"""Longest formula accepted, in characters."""

MAX_DEPTH: Final = 50
"""Deepest nesting of parentheses, calls and unary operators accepted."""


class ExpressionError(Exception):
    """A formula that cannot be parsed. `position` is the 1-based column of the problem."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


def _error(what: str, offset: int, tail: str = "") -> ExpressionError:
    # Messages read "<what> at column <n><tail>", e.g. "expected ')' at column 14, found 'x'".
    return ExpressionError(f"{what} at column {offset + 1}{tail}", offset + 1)


class Number(msgspec.Struct, frozen=True):
    """A literal number."""

    value: float
    start: int
    end: int


class Name(msgspec.Struct, frozen=True):
    """A reference to an estimate."""

    name: str
    start: int
    end: int


class Unary(msgspec.Struct, frozen=True):
    """`-operand` (a unary plus leaves no node)."""

    operand: Node
    start: int
    end: int


class Binary(msgspec.Struct, frozen=True):
    """`left op right` with op one of `+ - * / ^`."""

    op: str
    left: Node
    right: Node
    start: int
    end: int


class Call(msgspec.Struct, frozen=True):
    """`function(args...)`."""

    function: str
    args: tuple[Node, ...]
    start: int
    end: int


Node = Number | Name | Unary | Binary | Call
"""A node of the syntax tree; `start`/`end` are 0-based offsets into the source."""


def _sqrt(x: float) -> float:
    if x < 0:
        raise ValueError(f"sqrt of a negative number ({x!r})")
    return math.sqrt(x)


def _log(x: float) -> float:
    if x <= 0:
        raise ValueError(f"log of a number that is not positive ({x!r})")
    return math.log(x)


def _log10(x: float) -> float:
    if x <= 0:
        raise ValueError(f"log10 of a number that is not positive ({x!r})")
    return math.log10(x)


def _clamp(x: float, low: float, high: float) -> float:
    if low > high:
        raise ValueError(f"clamp with a lower bound above the upper bound ({low!r} > {high!r})")
    return min(max(x, low), high)


def _min(*values: float) -> float:
    return min(values)


def _max(*values: float) -> float:
    return max(values)


def _round(x: float) -> float:
    # Half away from zero, as spreadsheets round, not Python's half-to-even.
    return float(math.copysign(math.floor(abs(x) + 0.5), x))


# name -> (implementation, fewest arguments, most arguments or None for no limit)
FUNCTIONS: Final[dict[str, tuple[Callable[..., float], int, int | None]]] = {
    "abs": (abs, 1, 1),
    "clamp": (_clamp, 3, 3),
    "log": (_log, 1, 1),
    "log10": (_log10, 1, 1),
    "max": (_max, 1, None),
    "min": (_min, 1, None),
    "round": (_round, 1, 1),
    "sqrt": (_sqrt, 1, 1),
}
"""Functions a formula may call."""

_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>[-+*/^(),])",
    re.ASCII,
)
# What may not directly follow a number: it would make a malformed one such as `1e` or `2.5.1`.
_NUMBER_TAIL = re.compile(r"[A-Za-z0-9_.]+", re.ASCII)
_CALL_AHEAD = re.compile(r"\s*\(")
_END = "end"


class _Token(msgspec.Struct, frozen=True):
    kind: str  # "number", "name", "op" or "end"
    text: str
    start: int


def _describe(token: _Token) -> str:
    return "end of formula" if token.kind == _END else repr(token.text)


def _scan(source: str, position: int) -> _Token:
    """The token starting at or after `position` (skipping blanks)."""
    while True:
        if position >= len(source):
            return _Token(_END, "", len(source))
        match = _TOKEN.match(source, position)
        if match is None:
            raise _error(f"unexpected character {source[position]!r}", position)
        kind = match.lastgroup
        assert kind is not None
        if kind == "number":
            tail = _NUMBER_TAIL.match(source, match.end())
            if tail is not None:
                raise _error(f"malformed number {source[position : tail.end()]!r}", position)
        if kind != "space":
            return _Token(kind, match.group(), position)
        position = match.end()


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        # Tokens are scanned one at a time, so the first problem from the left is the one reported.
        self.token = _scan(source, 0)
        self.depth = 0

    def advance(self) -> _Token:
        token = self.token
        self.token = _scan(self.source, token.start + len(token.text))
        return token

    def expect(self, text: str) -> _Token:
        token = self.token
        if token.kind != "op" or token.text != text:
            raise _error(f"expected {text!r}", token.start, f", found {_describe(token)}")
        return self.advance()

    def nest(self, token: _Token) -> None:
        # Bounding the depth keeps both this parser and the compiled closures far from
        # Python's recursion limit.
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _error(f"nesting deeper than {MAX_DEPTH} levels", token.start)

    def expression(self) -> Node:
        node = self.term()
        while self.token.kind == "op" and self.token.text in "+-":
            op = self.advance().text
            right = self.term()
            node = Binary(op, node, right, node.start, right.end)
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.token.kind == "op" and self.token.text in "*/":
            op = self.advance()
            if self.token.kind == "op" and self.token.text == "*" and op.text == "*":
                raise _error("'**' is not an operator", op.start, "; use '^' for powers")
            right = self.unary()
            node = Binary(op.text, node, right, node.start, right.end)
        return node

    def unary(self) -> Node:
        token = self.token
        if token.kind == "op" and token.text in "+-":
            self.advance()
            self.nest(token)
            operand = self.unary()
            self.depth -= 1
            if token.text == "+":
                return msgspec.structs.replace(operand, start=token.start)
            return Unary(operand, token.start, operand.end)
        return self.power()

    def power(self) -> Node:
        base = self.primary()
        if self.token.kind == "op" and self.token.text == "^":
            caret = self.advance()
            self.nest(caret)
            exponent = self.unary()
            self.depth -= 1
            return Binary("^", base, exponent, base.start, exponent.end)
        return base

    def primary(self) -> Node:
        token = self.token
        if token.kind == "number":
            self.advance()
            value = float(token.text)
            if not math.isfinite(value):
                raise _error(f"number {token.text!r} is too large", token.start)
            return Number(value, token.start, token.start + len(token.text))
        if token.kind == "name":
            return self.name_or_call()
        if token.kind == "op" and token.text == "(":
            self.advance()
            self.nest(token)
            inner = self.expression()
            self.depth -= 1
            closing = self.expect(")")
            # The span takes the parentheses in, so a term's label reads as it was written.
            return msgspec.structs.replace(inner, start=token.start, end=closing.start + 1)
        raise _error("expected a number, a name or '('", token.start, f", found {_describe(token)}")

    def name_or_call(self) -> Node:
        token = self.token
        end = token.start + len(token.text)
        # Decide from the text ahead, before scanning it, so a bad name is reported at the name
        # even when what follows it is not a token either (as in `lambda: 0`).
        if _CALL_AHEAD.match(self.source, end):
            self.advance()
            return self.call(token)
        if token.text in FUNCTIONS:
            self.advance()
            following = self.token
            found = f", found {_describe(following)}"
            raise _error(f"expected '(' after function {token.text!r}", following.start, found)
        if token.text not in ESTIMATE_FIELDS:
            raise _error(f"unknown name {token.text!r}", token.start, f"; allowed: {', '.join(ESTIMATE_FIELDS)}")
        self.advance()
        return Name(token.text, token.start, end)

    def call(self, name: _Token) -> Node:
        if name.text not in FUNCTIONS:
            raise _error(f"unknown function {name.text!r}", name.start, f"; allowed: {', '.join(FUNCTIONS)}")
        self.nest(self.advance())
        args = [self.expression()]
        while self.token.kind == "op" and self.token.text == ",":
            self.advance()
            args.append(self.expression())
        self.depth -= 1
        closing = self.expect(")")
        _, fewest, most = FUNCTIONS[name.text]
        if len(args) < fewest or (most is not None and len(args) > most):
            wanted = f"{fewest}" if fewest == most else f"at least {fewest}"
            plural = "" if wanted == "1" else "s"
            raise _error(f"{name.text} takes {wanted} argument{plural}", name.start, f", got {len(args)}")
        return Call(name.text, tuple(args), name.start, closing.start + 1)


def parse(source: str) -> Node:
    """Parse a formula into its syntax tree; raises ExpressionError saying where and why."""
    if len(source) > MAX_LENGTH:
        raise _error(f"formula longer than {MAX_LENGTH} characters", MAX_LENGTH, f" ({len(source)} characters)")
    parser = _Parser(source)
    if parser.token.kind == _END:
        raise _error("empty formula; expected an expression", 0)
    node = parser.expression()
    if parser.token.kind != _END:
        token = parser.token
        raise _error("expected an operator or end of formula", token.start, f", found {_describe(token)}")
    return node


def additive_terms(node: Node) -> list[tuple[int, Node]]:
    """The top-level terms of a sum as (sign, node): `a - b*c + d` -> [(1,a), (-1,b*c), (1,d)]."""
    terms: list[tuple[int, Node]] = []
    while isinstance(node, Binary) and node.op in "+-":
        terms.append((1 if node.op == "+" else -1, node.right))
        node = node.left
    terms.append((1, node))
    terms.reverse()
    return terms


def names_used(node: Node) -> frozenset[str]:
    """The estimates a formula reads."""
    if isinstance(node, Name):
        return frozenset((node.name,))
    if isinstance(node, Unary):
        return names_used(node.operand)
    if isinstance(node, Binary):
        return names_used(node.left) | names_used(node.right)
    if isinstance(node, Call):
        return frozenset().union(*(names_used(arg) for arg in node.args))
    return frozenset()


Compiled = Callable[[Mapping[str, float]], float]
"""A compiled formula: estimates by name -> value. Raises ArithmeticError or ValueError."""


def compile_expression(node: Node) -> Compiled:
    """Turn a syntax tree into nested closures; the values must hold every name it uses."""
    if isinstance(node, Number):
        value = node.value
        return lambda values: value
    if isinstance(node, Name):
        name = node.name
        return lambda values: values[name]
    if isinstance(node, Unary):
        operand = compile_expression(node.operand)
        return lambda values: -operand(values)
    if isinstance(node, Binary):
        left, right = compile_expression(node.left), compile_expression(node.right)
        if node.op == "+":
            return lambda values: left(values) + right(values)
        if node.op == "-":
            return lambda values: left(values) - right(values)
        if node.op == "*":
            return lambda values: left(values) * right(values)
        if node.op == "/":
            return lambda values: left(values) / right(values)
        # math.pow, not **: a negative base with a fractional exponent must fail rather than
        # turn complex, and a huge power raises OverflowError instead of building a giant int.
        return lambda values: math.pow(left(values), right(values))
    function, _, most = FUNCTIONS[node.function]
    args = tuple(compile_expression(arg) for arg in node.args)
    if most == 1:
        (only,) = args
        return lambda values: function(only(values))
    return lambda values: function(*[arg(values) for arg in args])


def evaluate(node: Node, values: Mapping[str, float]) -> float:
    """Evaluate a syntax tree once (prefer `compile_expression` for many evaluations)."""
    return compile_expression(node)(values)

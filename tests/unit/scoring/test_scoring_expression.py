"""The custom-formula language: precedence, functions, and every error with its column."""

from __future__ import annotations

import builtins
import subprocess
import sys

import pytest

from services.scoring.expression import (
    MAX_DEPTH,
    MAX_LENGTH,
    ExpressionError,
    additive_terms,
    compile_expression,
    evaluate,
    names_used,
    parse,
)

pytestmark = pytest.mark.unit

VALUES = {"reach": 21.0, "effort": 4.0, "cost": 0.0}


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("10 - 4 - 3", 3.0),  # left-associative: (10 - 4) - 3
        ("8 / 4 / 2", 1.0),  # (8 / 4) / 2
        ("2 ^ 3 ^ 2", 512.0),  # right-associative: 2 ^ 9
        ("-2 ^ 2", -4.0),  # power binds tighter than unary minus
        ("2 ^ -1", 0.5),
        ("2 * -3", -6.0),
        ("--3", 3.0),
        ("+3", 3.0),
        ("1.5e2 + .5 + 2.", 152.5),
        ("1E-1 * 10", 1.0),
        ("reach * 2", 42.0),
        ("reach / effort", 5.25),
        ("min(3, 1, 2)", 1.0),
        ("max(4)", 4.0),
        ("abs(-3)", 3.0),
        ("sqrt(16)", 4.0),
        ("log10(1000)", 3.0),
        ("log(1)", 0.0),
        ("clamp(15, 0, 10)", 10.0),
        ("clamp(-1, 0, 10)", 0.0),
        ("round(2.5)", 3.0),  # half away from zero, as spreadsheets do
        ("round(-2.5)", -3.0),
        ("round(2.4)", 2.0),
        ("  max( reach , effort*10 )  ", 40.0),
    ],
)
def test_evaluates_with_usual_precedence(formula, expected):
    assert evaluate(parse(formula), VALUES) == expected


@pytest.mark.parametrize(
    ("formula", "message", "column"),
    [
        ("(reach + 1", "expected ')' at column 11, found end of formula", 11),
        ("min(reach, 2", "expected ')' at column 13, found end of formula", 13),
        ("reach * 2 )", "expected an operator or end of formula at column 11, found ')'", 11),
        ("reach reach", "expected an operator or end of formula at column 7, found 'reach'", 7),
        ("reach +", "expected a number, a name or '(' at column 8, found end of formula", 8),
        ("reach * / 2", "expected a number, a name or '(' at column 9, found '/'", 9),
        ("()", "expected a number, a name or '(' at column 2, found ')'", 2),
        ("reach $ 2", "unexpected character '$' at column 7", 7),
        ("reach.__class__", "unexpected character '.' at column 6", 6),
        ("1e", "malformed number '1e' at column 1", 1),
        ("2.5.1", "malformed number '2.5.1' at column 1", 1),
        ("3 * 2reach", "malformed number '2reach' at column 5", 5),
        ("2 ** 3", "'**' is not an operator at column 3; use '^' for powers", 3),
        ("1e999", "number '1e999' is too large at column 1", 1),
        ("sqrt", "expected '(' after function 'sqrt' at column 5, found end of formula", 5),
        ("abs(1, 2)", "abs takes 1 argument at column 1, got 2", 1),
        ("1 + clamp(1, 2)", "clamp takes 3 arguments at column 5, got 2", 5),
        ("min()", "expected a number, a name or '(' at column 5, found ')'", 5),
        ("", "empty formula; expected an expression at column 1", 1),
        ("   ", "empty formula; expected an expression at column 1", 1),
        (
            "effort + foo(1)",
            "unknown function 'foo' at column 10; allowed: abs, clamp, log, log10, max, min, round, sqrt",
            10,
        ),
        (
            "reech * 2",
            "unknown name 'reech' at column 1; allowed: customer_impact, reach, confidence, effort, cost, "
            "annual_benefit, time_criticality, risk_reduction",
            1,
        ),
    ],
)
def test_errors_say_what_was_expected_and_where(formula, message, column):
    with pytest.raises(ExpressionError) as caught:
        parse(formula)
    assert caught.value.message == message
    assert str(caught.value) == message
    assert caught.value.position == column


def test_length_is_limited():
    parse("1+" * 249 + "1")
    with pytest.raises(ExpressionError) as caught:
        parse("1+" * 250 + "1")
    assert caught.value.position == MAX_LENGTH + 1
    assert caught.value.message == "formula longer than 500 characters at column 501 (501 characters)"


@pytest.mark.parametrize(("opening", "column"), [("(", 51), ("-", 51), ("abs(", 204), ("2^", 102)])
def test_nesting_is_limited(opening, column):
    closing = ")" if opening.endswith("(") else ""
    parse(opening * MAX_DEPTH + "1" + closing * MAX_DEPTH)
    with pytest.raises(ExpressionError) as caught:
        parse(opening * (MAX_DEPTH + 1) + "1" + closing * (MAX_DEPTH + 1))
    assert caught.value.message.startswith("nesting deeper than 50 levels at column ")
    assert caught.value.position == column


@pytest.mark.parametrize(
    ("formula", "column"),
    [
        ("__import__('os')", 1),
        ("open('/etc/passwd')", 1),
        ("lambda: 0", 1),
        ("reach if cost else 1", 7),
        ("[reach]", 1),
        ("reach; import os", 6),
        ("'reach'", 1),
    ],
)
def test_python_does_not_leak_through(formula, column):
    with pytest.raises(ExpressionError) as caught:
        parse(formula)
    assert caught.value.position == column


def test_nothing_is_ever_handed_to_python_eval(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("eval, exec and compile are off limits")

    for name in ("eval", "exec", "compile", "__import__"):
        monkeypatch.setattr(builtins, name, forbidden)
    tree = parse("max(reach, 2) ^ 2 / effort - abs(-cost) + round(sqrt(log10(100)))")
    # 21^2 / 4 - 0 + round(sqrt(2)) = 110.25 + 1
    assert compile_expression(tree)(VALUES) == 111.25


def test_names_used_and_additive_terms():
    tree = parse("reach * effort - (reach + cost) + 2")
    assert names_used(tree) == {"reach", "effort", "cost"}
    assert [(sign, type(node).__name__) for sign, node in additive_terms(tree)] == [
        (1, "Binary"),
        (-1, "Binary"),
        (1, "Number"),
    ]
    assert names_used(parse("2 * 3")) == frozenset()


def test_huge_powers_fail_fast_instead_of_hanging():
    with pytest.raises(OverflowError):
        evaluate(parse("9^9^9"), {})


def test_scoring_core_imports_no_web_or_database_library():
    code = (
        "import sys\n"
        "import services.scoring.formulas, services.scoring.expression, services.scoring.csv_codec\n"
        "loaded = {'litestar', 'asyncpg', 'httpx'} & {name.split('.')[0] for name in sys.modules}\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)

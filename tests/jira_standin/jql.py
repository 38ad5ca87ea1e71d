"""The small part of JQL the stand-in understands.

`clause (AND clause)* [ORDER BY field [ASC|DESC], ...]` where a clause is `field = value`,
`field != value`, `field IN (v, ...)` or `field NOT IN (v, ...)` over the fields in `FIELDS`.
Valid JQL outside this subset raises `UnsupportedJql`, which the server reports as a failure
of the test rather than answering something Jira would not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FIELDS = {
    "project": "project",
    "labels": "labels",
    "key": "key",
    "issuekey": "key",
    "id": "key",
    "issuetype": "issuetype",
    "type": "issuetype",
    "parent": "parent",
    "status": "status",
    "statuscategory": "statusCategory",
}
ORDER_FIELDS = {"key": "key", "created": "created", "updated": "updated", "id": "key"}

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')|(?P<op>!=|=|\(|\)|,)|(?P<word>[^\s=!(),"\']+))'
)


class JqlError(ValueError):
    """JQL that Jira itself would reject (answered with 400)."""


class UnsupportedJql(ValueError):
    """JQL Jira would accept but this stand-in does not implement."""


@dataclass(frozen=True)
class Clause:
    field: str
    values: tuple[str, ...]
    negated: bool


@dataclass(frozen=True)
class Query:
    clauses: tuple[Clause, ...]
    order: tuple[tuple[str, bool], ...]  # (field, descending)


def _tokens(jql: str) -> list[tuple[str, str]]:
    found, position = [], 0
    while position < len(jql):
        if jql[position:].strip() == "":
            break
        match = _TOKEN.match(jql, position)
        if match is None:
            raise JqlError(f"Error in the JQL Query: the character '{jql[position]}' is a reserved JQL character.")
        position = match.end()
        if match.group("str") is not None:
            raw = match.group("str")[1:-1]
            found.append(("value", re.sub(r"\\(.)", r"\1", raw)))
        elif match.group("op") is not None:
            found.append(("op", match.group("op")))
        else:
            found.append(("word", match.group("word")))
    return found


def parse(jql: str) -> Query:
    tokens = _tokens(jql)
    clauses: list[Clause] = []
    order: list[tuple[str, bool]] = []
    i = 0

    def word(at: int) -> str:
        return tokens[at][1].lower() if at < len(tokens) and tokens[at][0] == "word" else ""

    def value(at: int) -> str:
        if at >= len(tokens) or tokens[at][0] == "op":
            raise JqlError("Error in the JQL Query: Expecting either a value, list or function but got end of query.")
        return tokens[at][1]

    while i < len(tokens) and word(i) != "order":
        if clauses:
            if word(i) != "and":
                raise UnsupportedJql(f"only AND between clauses is supported, got {tokens[i][1]!r}")
            i += 1
        name = word(i) or (tokens[i][1].lower() if i < len(tokens) else "")
        if name not in FIELDS:
            raise UnsupportedJql(f"field {name!r} is not implemented")
        i += 1
        negated = False
        if i < len(tokens) and tokens[i] == ("op", "!="):
            negated, i = True, i + 1
            values = (value(i),)
            i += 1
        elif i < len(tokens) and tokens[i] == ("op", "="):
            i += 1
            values = (value(i),)
            i += 1
        else:
            if word(i) == "not":
                negated, i = True, i + 1
            if word(i) != "in" or i + 1 >= len(tokens) or tokens[i + 1] != ("op", "("):
                raise UnsupportedJql(f"operator near {name!r} is not implemented")
            i += 2
            items = []
            while True:
                items.append(value(i))
                i += 1
                if i < len(tokens) and tokens[i] == ("op", ","):
                    i += 1
                    continue
                if i < len(tokens) and tokens[i] == ("op", ")"):
                    i += 1
                    break
                raise JqlError("Error in the JQL Query: Expecting ')' before the end of the query.")
            values = tuple(items)
        clauses.append(Clause(FIELDS[name], values, negated))

    if i < len(tokens):
        if word(i + 1) != "by":
            raise JqlError("Error in the JQL Query: Expecting 'by' after 'order'.")
        i += 2
        while i < len(tokens):
            name = word(i)
            if name not in ORDER_FIELDS:
                raise UnsupportedJql(f"ORDER BY {tokens[i][1]!r} is not implemented")
            i += 1
            descending = False
            if word(i) in ("asc", "desc"):
                descending, i = word(i) == "desc", i + 1
            order.append((ORDER_FIELDS[name], descending))
            if i < len(tokens) and tokens[i] == ("op", ","):
                i += 1
        if len(order) > 7:
            raise JqlError("Error in the JQL Query: The ORDER BY clause may contain at most 7 fields.")
    if not clauses:
        raise JqlError("Unbounded JQL queries are not allowed here. Please add a search restriction to your query.")
    return Query(tuple(clauses), tuple(order))

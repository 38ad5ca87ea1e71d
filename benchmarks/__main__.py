"""List the benchmarks, run one by name, or run them all in order (`make bench`).

    .venv/bin/python -m benchmarks                 # all, in order, each in its own process
    .venv/bin/python -m benchmarks --list
    .venv/bin/python -m benchmarks NAME [ARGS...]  # the same as python -m benchmarks.NAME ARGS...

Each prints its table for docs/benchmarks.md; how long each took is printed after it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent

# In the order of docs/benchmarks.md, with about how long each takes on a 2-core machine.
BENCHMARKS = (
    ("nrp", "6 min"),
    ("solve_speed", "25 min"),
    ("big_backlog", "12 min"),
    ("optimiser_scale", "5 min"),
    ("scoring_ranking", "3 min"),
    ("roadmap_service", "1 min"),
    ("service_load", "3 min"),
    ("jira_push", "3 min"),
    ("outbound_guard", "1 min"),
)


def summary(name: str) -> str:
    """The first line of a benchmark's docstring, read without importing it."""
    docstring = ast.get_docstring(ast.parse((HERE / f"{name}.py").read_text())) or ""
    return docstring.splitlines()[0] if docstring else ""


def listing() -> str:
    width = max(len(name) for name, _ in BENCHMARKS)
    return "\n".join(f"  {name:{width}}  about {took:>5}  {summary(name)}" for name, took in BENCHMARKS)


def run(name: str, args: list[str]) -> int:
    return subprocess.run([sys.executable, "-m", f"benchmarks.{name}", *args]).returncode


def main(argv: list[str]) -> int:
    names = [name for name, _ in BENCHMARKS]
    if argv[:1] in (["--list"], ["-h"], ["--help"]):
        print(__doc__.split("\n\n")[0] + "\n\n" + listing())
        return 0
    if argv:
        if argv[0] not in names:
            print(f"no benchmark {argv[0]!r}; there are:\n{listing()}", file=sys.stderr)
            return 2
        return run(argv[0], argv[1:])
    print("Running every benchmark in order:\n" + listing() + "\n", flush=True)
    took, failed = [], []
    for name in names:
        print(f"== {name}", flush=True)
        started = time.monotonic()
        code = run(name, [])
        took.append((name, time.monotonic() - started, code))
        print(f"== {name}: {'done' if code == 0 else f'failed ({code})'} in {took[-1][1] / 60:.1f} min\n", flush=True)
        if code:
            failed.append(name)
    print(
        "\n".join(f"{name}: {seconds / 60:.1f} min{'' if code == 0 else ' (failed)'}" for name, seconds, code in took)
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

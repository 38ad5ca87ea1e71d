"""`roadmap solve`: solve a scenario document offline and write the result document."""

from __future__ import annotations

import os
import sys
import time

# The time limit is for the whole command, the solver's imports included (about half a
# second): they are timed once, and each run's limit counts from that much before it starts.
_IMPORTS_BEGAN = time.perf_counter()

from pathlib import Path
from typing import NoReturn

import click

from services.roadmap.optimiser import (
    INFEASIBLE,
    UNKNOWN,
    ScenarioError,
    SolveConfig,
    decode_scenario,
    encode_result,
    result_document,
    solve as solve_instance,
    summary,
)
from services.roadmap.optimiser.highs import wait_for_solvers

_IMPORT_SECONDS = time.perf_counter() - _IMPORTS_BEGAN

EXIT_OK, EXIT_BAD_DOCUMENT, EXIT_INFEASIBLE, EXIT_NO_PLAN = 0, 2, 3, 4
# How long the command waits, once its result is written, for a HiGHS thread still stopping.
STOP_WAIT_SECONDS = 2.0


@click.command("solve")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the result document (default: SCENARIO with suffix .plan.json; '-' for stdout).",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds; overrides solver.timeLimitSeconds.",
)
@click.option(
    "--gap",
    type=click.FloatRange(min=0, max=1, max_open=True),
    default=None,
    help="Relative gap; overrides solver.relativeGap.",
)
@click.option(
    "--what-if",
    "what_if",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Left-out ideas to re-solve with the idea forced in (on demand: each is one more solve).",
)
def solve(scenario: Path, output: Path | None, time_limit: float | None, gap: float | None, what_if: int) -> None:
    """Solve SCENARIO.json: print a summary and write the result document.

    Exit status: 0 optimal or feasible, 2 bad document (nothing written), 3 infeasible (the
    result document with its diagnosis is written), 4 no plan found within the time limit.
    """
    started = time.perf_counter() - _IMPORT_SECONDS
    try:
        data = scenario.read_bytes()
    except OSError as exc:
        click.echo(f"error: cannot read {scenario}: {exc.strerror}", err=True)
        sys.exit(EXIT_BAD_DOCUMENT)
    try:
        instance = decode_scenario(data)
    except ScenarioError as exc:
        click.echo(f"error: {scenario}: {exc}", err=True)
        sys.exit(EXIT_BAD_DOCUMENT)
    config = SolveConfig.for_instance(instance, time_limit=time_limit, gap=gap, what_if_limit=what_if)
    solution = solve_instance(instance, config, started=started)
    doc = result_document(instance, solution)
    encoded = encode_result(doc)
    target = output if output is not None else scenario.with_name(scenario.stem + ".plan.json")
    if str(target) == "-":
        click.echo(summary(doc), err=True)
        sys.stdout.buffer.write(encoded)
        sys.stdout.flush()
    else:
        target.write_bytes(encoded)
        click.echo(summary(doc))
        click.echo(f"Result written to {target}")
    code = {INFEASIBLE: EXIT_INFEASIBLE, UNKNOWN: EXIT_NO_PLAN}.get(solution.status, EXIT_OK)
    if not wait_for_solvers(STOP_WAIT_SECONDS):
        # HiGHS overran its limit and has not stopped yet (its presolve and root cut loop do
        # not check for interrupts). Exiting normally would tear its thread pool down under it
        # and the C++ runtime would abort (exit 134): end the process at once instead, with
        # the result written and the documented exit status.
        end_process(code)
    sys.exit(code)


def end_process(code: int | str | None) -> NoReturn:
    """End the process now with `code` (as `sys.exit` reads it), its output flushed.

    For a process that ran `roadmap solve` from its command line (here and in services/cli.py,
    never for a command invoked from code): once the result is written, the interpreter's
    teardown of numpy, HiGHS and PuLP only adds about 50 ms to every run.
    """
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0 if code is None else code)


if __name__ == "__main__":
    try:
        solve()
    except SystemExit as done:
        end_process(done.code)

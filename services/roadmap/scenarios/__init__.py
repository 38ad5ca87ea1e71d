"""Scenarios and their runs: the backlog's frozen scores, what-ifs, optimisation jobs and their results."""

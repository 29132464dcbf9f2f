"""A class is graded sheet by sheet in a child process: a sheet over its time or memory budget, one
that kills its process, one that meets a bug, becomes its own line, and every other sheet is graded."""

import dataclasses
import os
import signal
import sys
import time

import pytest

from derive.grading.isolation import Budget, run_isolated

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the child process needs fork")


def failed(task, reason):
    return ("failed", task, reason)


def work(task):
    """Each task names what it does; an int is graded normally (squared)."""
    if task == "sleep":
        time.sleep(60)
    if task == "busy":
        while True:
            pass
    if task == "memory":
        blocks = []
        while True:
            blocks.append(bytearray(64 * 2 ** 20))
    if task == "segfault":
        os.kill(os.getpid(), signal.SIGSEGV)
    if task == "exit":
        os._exit(7)
    if task == "bug":
        raise ValueError("a bug")
    if task == "unpicklable":
        return lambda: None
    return ("done", task, task * task)


BUDGET = Budget(sheet_seconds=1.5, memory_bytes=256 * 2 ** 20)


@pytest.mark.parametrize("bad, reason", [
    ("sleep", "grading stopped: over the time budget of 1.5 s"),
    ("busy", "grading stopped: over the time budget of 1.5 s"),
    ("memory", "grading stopped: over the memory budget of 256 MB"),
    ("segfault", "grading stopped: the grading process was ended by signal SIGSEGV"),
    ("exit", "grading stopped: the grading process ended unexpectedly (exit status 7)"),
    ("bug", "grading stopped: internal error (ValueError)"),
    ("unpicklable", "grading stopped: internal error ("),  # the exception's name is Python's own
])
def test_one_bad_task_is_its_own_line_and_the_others_are_graded(bad, reason):
    if bad == "memory" and not sys.platform.startswith("linux"):
        pytest.skip("the memory budget is an address-space limit, set where Linux allows it")
    # filling 256 MB can take longer than 1.5 s on a loaded machine: that case is given the time it needs,
    # so that what it meets is the memory budget
    budget = dataclasses.replace(BUDGET, sheet_seconds=60) if bad == "memory" else BUDGET
    results = run_isolated([1, 2, bad, 3, bad, 4], work, failed, budget)
    assert [r[:2] for r in results] == [("done", 1), ("done", 2), ("failed", bad), ("done", 3), ("failed", bad),
                                        ("done", 4)]
    assert [r[2] for r in results if r[0] == "done"] == [1, 4, 9, 16]
    assert all(r[2].startswith(reason) and (r[2] == reason or reason.endswith("("))
               for r in results if r[0] == "failed")


def test_the_time_budget_is_per_task_not_per_class():
    # 6 tasks of 0.4 s each take longer than one budget of 1.5 s, and all are graded
    def slow(task):
        time.sleep(0.4)
        return task

    assert run_isolated(list(range(6)), slow, failed, BUDGET) == list(range(6))


def test_output_of_this_process_is_not_repeated_by_the_child(capfd):
    print("before", end="")
    run_isolated([1], work, failed, BUDGET)
    assert capfd.readouterr().out == "before"

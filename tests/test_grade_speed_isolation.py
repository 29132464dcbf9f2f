"""A class shared among grading children: the same results, in the same order, as one child gives,
each task still within its own budget, a failure still that task's line; a child held up grades fewer."""

import dataclasses
import os
import time

import pytest

from derive.grading.isolation import Budget, run_isolated

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the children need fork")

BUDGET = Budget(sheet_seconds=1.5, memory_bytes=256 * 2 ** 20)


def failed(task, reason):
    return ("failed", task, reason)


def work(task):
    if task == "exit":
        os._exit(7)
    if task == "bug":
        raise ValueError("a bug")
    if task == "busy":
        while True:
            pass
    return ("done", task, task * task)


TASKS = [1, 2, "bug", 3, "exit", 4, 5, "busy", 6, 7, 8, "exit", 9]


@pytest.mark.parametrize("workers", [2, 3, 20])
def test_several_children_give_one_child_s_results_in_task_order(workers):
    assert run_isolated(TASKS, work, failed, BUDGET, workers=workers) == \
        run_isolated(TASKS, work, failed, BUDGET, workers=1)


def test_one_child_s_failures_are_its_tasks_lines():
    results = run_isolated(TASKS, work, failed, BUDGET, workers=1)
    assert [r[1] for r in results] == TASKS
    assert [r[2] for r in results if r[0] == "done"] == [n * n for n in range(1, 10)]
    assert {r[1]: r[2] for r in results if r[0] == "failed"} == {
        "bug": "grading stopped: internal error (ValueError)",
        "exit": "grading stopped: the grading process ended unexpectedly (exit status 7)",
        "busy": "grading stopped: over the time budget of 1.5 s"}


def test_two_children_share_a_class():
    pids = run_isolated(list(range(8)), lambda task: os.getpid(), failed, BUDGET, workers=2)
    assert len(set(pids)) == 2 and os.getpid() not in pids


def slow_first(task):
    time.sleep(1.0 if task == 0 else 0.01)
    return os.getpid()


def test_a_child_held_up_by_a_slow_sheet_leaves_the_rest_to_the_other():
    """Sheets are handed out as children finish: while one child grades a slow sheet, the other grades
    nearly all the rest (handed out by turns, each child would grade half)."""
    pids = run_isolated(list(range(41)), slow_first, failed, BUDGET, workers=2)
    slow = pids.count(pids[0])
    assert len(set(pids)) == 2 and slow <= 4 and pids.count(next(p for p in pids if p != pids[0])) == 41 - slow


def test_the_tasks_a_dead_child_held_go_to_the_next_child():
    """A child that dies holds more than the task that killed it: those others are graded all the same."""
    tasks = [1, 2, 3, "exit", 4, 5, 6, 7, 8, 9, 10, "exit", 11]
    results = run_isolated(tasks, work, failed, BUDGET, workers=2)
    assert [r[:2] for r in results] == [("failed" if t == "exit" else "done", t) for t in tasks]


def test_a_single_task_needs_a_single_child():
    assert run_isolated([3], work, failed, BUDGET, workers=2) == [("done", 3, 9)]
    assert run_isolated([], work, failed, BUDGET, workers=2) == []


@dataclasses.dataclass(frozen=True)
class Mark:
    """A frozen record that results repeat (as a class's results repeat a Verdict)."""

    name: str
    inner: object = None


SHARED = {n: Mark(f"m{n}", Mark(f"inner{n % 2}")) for n in range(3)}


def shared_work(task):
    if task == "unpicklable":
        return [SHARED[2], lambda: None]  # fails to pickle after SHARED[2] is first met
    return [SHARED[task % 3], SHARED[task % 3], Mark("fresh", SHARED[0])]


def test_a_record_results_repeat_arrives_whole_every_time():
    tasks = [0, 1, "unpicklable", 2, 0, 2, 1, 5]
    results = run_isolated(tasks, shared_work, failed, BUDGET, workers=1)
    assert results[2][0] == "failed" and results[2][2].startswith("grading stopped: internal error (")
    expected = [shared_work(task) for task in tasks if task != "unpicklable"]
    assert [r for r in results if r[0] != "failed"] == expected
    assert results[0][0] is results[0][1]  # sent once, shared as in the child
    assert results[3][0] is results[5][0] is results[7][0]  # and across messages, after the failure too


@pytest.mark.parametrize("memo_bytes", [1, 200])
def test_results_arrive_whole_when_the_child_starts_a_new_pickler(monkeypatch, memo_bytes):
    from derive.grading import isolation

    monkeypatch.setattr(isolation._Sent, "MEMO_BYTES", memo_bytes)  # a new pickler after (nearly) every message
    tasks = [0, 1, 2, 0, "unpicklable", 2, 1, 0, 5]
    results = run_isolated(tasks, shared_work, failed, BUDGET, workers=1)
    assert [r for r in results if r[0] != "failed"] == [shared_work(t) for t in tasks if t != "unpicklable"]
    assert results[4][0] == "failed"

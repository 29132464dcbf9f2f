"""Grading sheets in a child process, one at a time, each within a time and a memory budget.

Limits inside the process bound most work (derive.symbolic.limits), but not
all of it: a C routine a timer signal cannot interrupt, a structure that
grows past the machine's memory, a bug of derive's that ends the
interpreter. So a class is graded in forked child processes (one per core,
at most two), which already hold the solved problem. The parent hands each
child the next sheets as it finishes the last ones (a child slowed by a hard
sheet, or by a busy machine, takes fewer, and both finish together), reads
back each result, and watches each child's clock. A sheet that takes longer
than its budget has its child killed; one whose child runs out of its memory
budget or dies gets a line saying so; either way a new child carries on with
the sheets that child held, and every sheet has its result, in sheet order.

Where there is no fork (Windows) the sheets are graded in this process,
each still under the per-answer time limit, a failure of any kind still
becoming that sheet's line.
"""

import contextlib
import gc
import io
import os
import pickle
import select
import signal
import struct
import sys
import time
from collections import deque
from dataclasses import dataclass

SHEET_SECONDS = 120.0
MEMORY_BYTES = 2 * 1024 ** 3  # address space a child may add to what it starts with
_HEADER = struct.Struct("<Q")  # a message's length, with _FRESH set on the first message of a new pickler
_FRESH = 1 << 63
_INDEX = struct.Struct("<I")  # a task's number, as the parent hands it to a child


@dataclass(frozen=True)
class Budget:
    """What one sheet may cost: wall-clock seconds, and bytes of memory beyond the grader's own."""

    sheet_seconds: float = SHEET_SECONDS
    memory_bytes: int = MEMORY_BYTES


def run_isolated(tasks, work, failed, budget=Budget(), workers=None):
    """[work(task) for task in tasks], each within `budget`.

    `work` runs in a child process and returns something picklable; a task
    over its budget, or whose child dies, gets `failed(task, reason)`
    instead, computed in this process. An exception `work` raises is its
    task's failure too ("internal error: ..."): one task never stops the rest.
    The tasks are shared among `workers` children (by default one per core,
    at most WORKERS), each handed the next tasks in order as it finishes
    its last; the results are in task order whatever the number of children.
    """
    tasks = list(tasks)
    if not hasattr(os, "fork"):
        return [_in_process(task, work, failed) for task in tasks]
    workers = max(1, min(len(tasks), workers or _cores()))
    pool = _Pool(tasks, work, failed, budget)
    lanes = [_Lane(pool) for _ in range(workers)]
    pool.lanes = lanes
    collecting = gc.isenabled()
    gc.disable()  # the results are plain data that grows by the thousand: collecting it often costs and frees nothing
    try:
        _run_lanes(pool)
    finally:
        for lane in lanes:
            lane.stop()
        if collecting:
            gc.enable()
    return pool.results


GATHER_SECONDS = 0.02  # how long the parent lets results gather before reading what has come
PIPE_BYTES = 1 << 20  # a child's results pipe, where the system allows: some 1,000 results gather without blocking it
# the work a child holds: enough that it never waits for a parent that the children's own work keeps off the
# cores for a while, little enough that the children finish together (within about this much of each other)
AHEAD_SECONDS = 0.25
# tasks a child holds at once, at most (they go back to the pool if it dies): their numbers, 4 bytes each,
# are then at most PIPE_BUF (4,096) bytes, which a pipe takes in one write, whole
MAX_AHEAD = 1024
WORKERS = 2  # grading children at most: the gain of a third is small beside the memory it holds


def _cores():
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 1
    return max(1, min(WORKERS, count))


def _in_process(task, work, failed):
    try:
        return work(task)
    except MemoryError:
        return failed(task, "grading stopped: over the memory budget")
    except Exception as error:  # a bug of derive's: this task's line says so
        return failed(task, f"grading stopped: internal error ({type(error).__name__})")


class _Pool:
    """The tasks of a class: those not yet handed to a child (`pending`, in order), the results found
    (`results`, in task order), and how long a task takes, which sets how many a child is handed ahead."""

    def __init__(self, tasks, work, failed, budget):
        self.tasks, self.work, self.failed, self.budget = tasks, work, failed, budget
        self.pending = deque(range(len(tasks)))
        self.results = [None] * len(tasks)
        self.remaining = len(tasks)
        self.lanes = []
        self.task_seconds = None  # how long a task takes: a moving average over the results as they come

    def record(self, index, result):
        self.results[index] = result
        self.remaining -= 1

    def ahead(self):
        """How many tasks a child holds: its current one, and enough to keep it busy for AHEAD_SECONDS."""
        if self.task_seconds is None:
            return 2
        return max(2, min(MAX_AHEAD, int(AHEAD_SECONDS / max(self.task_seconds, 1e-6)) + 1))

    def timed(self, seconds):
        """Note how long a child took for a task."""
        self.task_seconds = seconds if self.task_seconds is None else 0.9 * self.task_seconds + 0.1 * seconds


def _run_lanes(pool):
    """Read every lane's results as they come, each task within its time budget, until all are done."""
    while pool.remaining:
        for lane in pool.lanes:
            if lane.pid is None and pool.pending:
                lane.start()
        running = [lane for lane in pool.lanes if lane.pid is not None]
        now = time.monotonic()
        wait = max(0.0, min(lane.deadline - now for lane in running))
        ready, _, _ = select.select([lane.fd for lane in running], [], [], wait)
        if ready:
            # a child sends a result every millisecond or so: waking for each one costs the parent (and the
            # children, whose cores it takes) more than reading them a few dozen at a time; a deadline is then
            # noticed this much later, a result read this much later
            time.sleep(GATHER_SECONDS)
        for lane in running:
            if lane.fd in ready:
                lane.receive()
            elif time.monotonic() >= lane.deadline:
                lane.over_time()


class _Lane:
    """One line of children: the tasks its child holds (`held`, in the order it grades them), a new child
    taking over after a task that ends its child, the tasks that child held going back to the pool."""

    def __init__(self, pool):
        self.pool = pool
        self.held = deque()
        self.pid = self.fd = self.orders = self.reader = None
        self.deadline = 0.0

    def start(self):
        """A child, handed the next tasks."""
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        orders_read, orders_write = os.pipe()
        read_end, write_end = os.pipe()
        _widen(write_end)
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(read_end)
            os.close(orders_write)
            # the other lanes' pipes: a child holding one would keep the other's child from seeing its end
            inherited = [fd for lane in self.pool.lanes if lane is not self for fd in (lane.fd, lane.orders)
                         if fd is not None]
            _child(self.pool, orders_read, write_end, inherited)
        os.close(write_end)
        os.close(orders_read)
        self.pid, self.fd, self.orders, self.reader = pid, read_end, orders_write, _Reader()
        self.deadline = time.monotonic() + self.pool.budget.sheet_seconds
        self.hand_out()

    def hand_out(self):
        """Hand the child the next tasks, up to what it should hold, once it holds half of that or less; end
        it when it has nothing left to do."""
        pool = self.pool
        ahead = pool.ahead()
        count = min(ahead - len(self.held), len(pool.pending))
        if count > 0 and len(self.held) <= ahead // 2:
            given = [pool.pending.popleft() for _ in range(count)]
            self.held.extend(given)
            with contextlib.suppress(OSError):  # the child has ended: reading its pipe says how, its tasks go back
                os.write(self.orders, b"".join(map(_INDEX.pack, given)))
        elif not self.held:
            self.stop()

    def receive(self):
        """Read what the child sent: each whole message is the result of the first task it holds; the end
        of the pipe while it holds a task, that task's failure."""
        chunk = os.read(self.fd, PIPE_BYTES)
        if not chunk:
            status = _reap(self.pid)
            self._close()
            self.pid = None
            self._lost(f"grading stopped: {status}")
            return
        pool, now = self.pool, time.monotonic()
        messages = self.reader.feed(chunk)
        for kind, payload, seconds in messages:
            index = self.held.popleft()
            pool.record(index, payload if kind == "done" else pool.failed(pool.tasks[index], payload))
            pool.timed(seconds)
        if messages:
            self.deadline = now + pool.budget.sheet_seconds
        self.hand_out()

    def over_time(self):
        _kill(self.pid)
        self.stop()
        self._lost(f"grading stopped: over the time budget of {self.pool.budget.sheet_seconds:g} s")

    def _lost(self, reason):
        """The child ended while grading its first task: that task fails; the others it held go back first."""
        if self.held:
            index = self.held.popleft()
            self.pool.record(index, self.pool.failed(self.pool.tasks[index], reason))
            self.pool.pending.extendleft(reversed(self.held))
            self.held.clear()

    def stop(self):
        """End this lane's child, if it has one: at once if it holds tasks, else as its orders end."""
        if self.pid is not None:
            if self.held:
                _kill(self.pid)
            self._close()
            _reap(self.pid)
            self.pid = None

    def _close(self):
        for name in ("orders", "fd"):
            fd = getattr(self, name)
            if fd is not None:
                os.close(fd)
                setattr(self, name, None)


def _child(pool, orders, write_end, inherited):
    """Grade the tasks the parent hands out (their numbers, on `orders`), sending each result, until the
    orders end; exit without running the parent's clean-up."""
    code = 0
    try:
        import faulthandler

        for fd in inherited:
            os.close(fd)
        faulthandler.disable()  # a sheet that crashes its process is reported as its line, not a dump
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        # what the child starts with (the solved problem, the parent's modules) lives as long as it does:
        # frozen, the collector never walks it again (and never writes to the pages it shares with the parent)
        gc.enable()
        gc.freeze()
        # grading leaves little cyclic garbage (what a sheet makes is freed as its last reference goes), and a
        # collection walks every object still alive that was made since the last one (the class's remembered
        # verdicts and values): the youngest generation is collected only once a million more objects are
        # alive (some 100-150 MB, far inside the memory budget), which grading 5,000 sheets does not reach;
        # at 50,000 it was collected 7 times there, 0.07-0.1 s, and at the default 700, ten times as long
        gc.set_threshold(1_000_000, 10, 10)
        budget, tasks, work = pool.budget, pool.tasks, pool.work
        # made before the cap: when a task runs out of memory, its line must not need any more
        over_memory = f"grading stopped: over the memory budget of {budget.memory_bytes // 2 ** 20} MB"
        _limit_memory(budget.memory_bytes)
        sent = _Sent()
        received = b""
        with os.fdopen(write_end, "wb") as out, os.fdopen(orders, "rb", buffering=0) as inbox:
            while True:
                chunk = inbox.read(1 << 12)
                if not chunk:
                    break  # no more orders
                received += chunk
                whole = len(received) - len(received) % _INDEX.size
                for (index,) in _INDEX.iter_unpack(received[:whole]):
                    start = time.perf_counter()  # how long a task takes, for the parent to hand out enough
                    try:
                        kind, payload = "done", work(tasks[index])
                    except MemoryError:
                        kind, payload = "failed", over_memory  # what the task holds is freed as this clause ends
                    except Exception as error:  # a bug of derive's: this task's line says so
                        kind, payload = "failed", f"grading stopped: internal error ({type(error).__name__})"
                    seconds = time.perf_counter() - start
                    try:
                        data = sent.frame((kind, payload, seconds))
                    except Exception as error:  # the pickler is new: it knows nothing the parent does not
                        data = sent.frame(("failed", f"grading stopped: internal error ({type(error).__name__})",
                                           seconds))
                    out.write(data)
                    out.flush()
                received = received[whole:]
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _widen(fd):
    """Give a pipe PIPE_BYTES of buffer where the system allows (Linux), so that a child never waits for
    the parent to read its results; elsewhere it keeps the system's size."""
    with contextlib.suppress(ImportError, AttributeError, OSError):
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _limit_memory(extra):
    """Cap the child's address space at what it has now plus `extra` bytes (where the system allows)."""
    try:
        import resource

        with open("/proc/self/statm") as statm:
            size = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = size + extra
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, OSError, ValueError):
        pass  # no /proc or no RLIMIT_AS: the time budget still holds


class _Sent:
    """Pickles a child's messages with one pickler whose memo lasts from message to message: what was
    sent before (a Verdict a class's results repeat, an answer's text) goes again as a reference, which
    the parent's one unpickler (_Reader) resolves at C speed.

    A message that fails to pickle may leave entries in the memo that the parent never received: the
    pickler is then replaced, as it is after every MEMO_BYTES of output (so that the objects the memo
    holds stay bounded). The first message of a new pickler is flagged (_FRESH in its length prefix),
    and the parent starts a new unpickler for it, whose memo numbers match.
    """

    MEMO_BYTES = 64 * 1024 ** 2

    def __init__(self):
        self._renew()

    def _renew(self):
        self.buffer = io.BytesIO()
        self.pickler = pickle.Pickler(self.buffer, protocol=pickle.HIGHEST_PROTOCOL)
        self.written, self.fresh = 0, True

    def frame(self, message):
        """The bytes that send `message`: its length prefix, then its pickle."""
        try:
            self.pickler.dump(message)
        except BaseException:
            self._renew()
            raise
        data = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        header = _HEADER.pack(len(data) | (_FRESH if self.fresh else 0))
        self.fresh = False
        self.written += len(data)
        if self.written > self.MEMO_BYTES:
            self._renew()
        return header + data


class _Reader:
    """Length-prefixed pickled messages from a child, as its bytes arrive, read by one unpickler whose
    memo lasts as the child's pickler's does (_Sent)."""

    def __init__(self):
        self.buffer = bytearray()
        self.message = io.BytesIO()
        self.unpickler = None

    def read(self, size=-1):
        return self.message.read(size)

    def readinto(self, target):
        return self.message.readinto(target)

    def readline(self):
        return self.message.readline()

    def feed(self, chunk):
        """The messages `chunk` completes."""
        self.buffer += chunk
        messages, at = [], 0
        while len(self.buffer) - at >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self.buffer, at)
            fresh, size = size & _FRESH, size & ~_FRESH
            if len(self.buffer) - at - _HEADER.size < size:
                break
            if fresh or self.unpickler is None:  # reads the current message through read/readinto/readline
                self.unpickler = pickle.Unpickler(self)
            self.message = io.BytesIO(self.buffer[at + _HEADER.size:at + _HEADER.size + size])
            messages.append(self.unpickler.load())  # our child's
            at += _HEADER.size + size
        del self.buffer[:at]
        return messages


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap(pid):
    """Wait for the child; how it ended, in words."""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return "the grading process ended"
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)
        return f"the grading process was ended by signal {name} (out of memory?)" if number == signal.SIGKILL \
            else f"the grading process was ended by signal {name}"
    return f"the grading process ended unexpectedly (exit status {os.WEXITSTATUS(status)})"

"""The solver watchdog: one thread interrupts a solve that runs past its deadline, never one that
finished, and works again in a forked worker process."""

from __future__ import annotations

import multiprocessing
import threading
import time

from allocator.engine.optimiser.backend import _Watchdog


class Flag:
    def __init__(self) -> None:
        self.hit = threading.Event()

    def interrupt(self) -> None:
        self.hit.set()


def test_overrun_is_interrupted_finished_solve_is_not():
    dog = _Watchdog()
    late, done = Flag(), Flag()
    dog.arm(0.05, late)
    token = dog.arm(0.05, done)
    dog.disarm(token)  # this solve finished in time
    assert late.hit.wait(2.0)
    time.sleep(0.1)
    assert not done.hit.is_set()


def test_earliest_deadline_first_with_several_in_flight():
    dog = _Watchdog()
    slow, fast = Flag(), Flag()
    dog.arm(5.0, slow)
    dog.arm(0.05, fast)  # armed later, due sooner: the sleeping thread must wake for it
    assert fast.hit.wait(2.0)
    assert not slow.hit.is_set()


def _child(queue) -> None:
    from allocator.engine.optimiser.backend import _WATCHDOG

    flag = Flag()
    _WATCHDOG.arm(0.05, flag)
    queue.put(flag.hit.wait(2.0))


def test_works_in_a_forked_child():
    from allocator.engine.optimiser.backend import _WATCHDOG

    _WATCHDOG.disarm(_WATCHDOG.arm(10.0, Flag()))  # the parent's thread is running
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child, args=(queue,))
    child.start()
    assert queue.get(timeout=10) is True
    child.join(10)

"""The background worker the suite's subprocess work runs on (tests/background.py): each job runs once,
in whichever thread gets to it first, and a thread that waits runs queued work meanwhile."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from tests.background import Background


@pytest.fixture
def worker() -> Iterator[Background]:
    worker = Background()
    yield worker
    worker.shutdown()


def _job(name: str, ran: list[tuple[str, str]], wait_for: threading.Event | None = None) -> Callable[[], str]:
    def work() -> str:
        if wait_for is not None:
            assert wait_for.wait(10), f"{name} waited in vain"
        ran.append((name, threading.current_thread().name))
        return name

    return work


def test_a_waiting_thread_runs_the_queued_jobs_from_the_back(worker: Background) -> None:
    ran: list[tuple[str, str]] = []
    release = threading.Event()
    started = threading.Event()

    def first() -> str:
        started.set()
        return _job("first", ran, release)()

    worker.submit("first", first)
    # The worker is busy with "first" until "second" releases it, so the waiting thread must take both:
    # "third" (queued last) first, then "second".
    assert started.wait(10)
    worker.submit("second", lambda: (release.set(), _job("second", ran)())[1])
    worker.submit("third", _job("third", ran))

    assert worker.result("first", first) == "first"
    me = threading.current_thread().name
    assert ("third", me) in ran and ("second", me) in ran  # taken by the waiting thread, last queued first
    assert [name for name, _ in ran].index("third") < [name for name, _ in ran].index("second")
    assert [thread for name, thread in ran if name == "first"] != [me]  # the worker ran it
    assert worker.result("second", _job("second", ran)) == "second"
    assert sorted(name for name, _ in ran) == ["first", "second", "third"]  # each job ran once


def test_a_job_never_queued_or_not_started_runs_in_the_asking_thread(worker: Background) -> None:
    ran: list[tuple[str, str]] = []
    assert worker.result("alone", _job("alone", ran)) == "alone"
    assert ran == [("alone", threading.current_thread().name)]


def test_an_error_reaches_the_thread_that_asks_for_that_job(worker: Background) -> None:
    release = threading.Event()
    started = threading.Event()

    def first() -> str:
        started.set()
        assert release.wait(10)
        return "first"

    def broken() -> str:
        release.set()
        raise ValueError("broken job")

    worker.submit("first", first)
    assert started.wait(10)
    worker.submit("broken", broken)
    assert worker.result("first", first) == "first"  # ran "broken" meanwhile, and did not raise
    with pytest.raises(ValueError, match="broken job"):
        worker.result("broken", broken)
    lines = worker.report()
    assert len(lines) == 2 and any("main thread  broken" in line for line in lines), lines

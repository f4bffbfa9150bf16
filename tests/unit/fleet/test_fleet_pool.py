"""The phone pool: at most N at once, a hung phone abandoned at its timeout without holding up the others,
and exactly one owner of each phone's final status."""

from __future__ import annotations

import threading
import time

import pytest

from miui_automator.fleet.pool import PhonePool, Ticket


def drain(pool: PhonePool, bound_s: float = 20.0) -> None:
    deadline = time.monotonic() + bound_s
    while not pool.idle:
        assert time.monotonic() < deadline, "pool did not drain"
        pool.service(0.05)


def test_never_more_than_parallel_at_once():
    lock = threading.Lock()
    now = peak = 0
    done: list[str] = []

    def job(ticket: Ticket) -> None:
        nonlocal now, peak
        with lock:
            now += 1
            peak = max(peak, now)
        time.sleep(0.02)
        with lock:
            now -= 1
            done.append(ticket.name)

    pool = PhonePool(3, 30, on_timeout=lambda t: None)
    for i in range(10):
        pool.submit(f"p{i}", job)
    drain(pool)
    assert peak == 3
    assert sorted(done) == sorted(f"p{i}" for i in range(10))


def test_a_hung_phone_is_abandoned_and_its_slot_goes_to_the_next():
    release = threading.Event()
    timed_out: list[Ticket] = []
    finished: list[str] = []

    def hang(ticket: Ticket) -> None:
        release.wait(30)  # a socket that never answers
        if ticket.claim():
            finished.append(ticket.name)

    def quick(ticket: Ticket) -> None:
        if ticket.claim():
            finished.append(ticket.name)

    pool = PhonePool(1, 0.3, on_timeout=timed_out.append)
    hung = pool.submit("hung", hang)
    for i in range(3):
        pool.submit(f"ok{i}", quick)
    drain(pool)
    assert [t.name for t in timed_out] == ["hung"]
    assert hung.cancelled.is_set() and "0.3 s" in hung.reason
    assert finished == ["ok0", "ok1", "ok2"]  # one slot: they ran after the hung phone was given up on
    release.set()
    assert pool.join(5)
    assert finished == ["ok0", "ok1", "ok2"]  # the abandoned job could not claim its status any more


def test_claim_is_granted_once():
    ticket = Ticket("x")
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(ticket.claim())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1 and ticket.claimed


def test_cancel_all_returns_running_and_queued():
    started = threading.Event()
    stop = threading.Event()

    def job(ticket: Ticket) -> None:
        started.set()
        ticket.cancelled.wait(10)
        stop.set()

    pool = PhonePool(1, 30, on_timeout=lambda t: None)
    first = pool.submit("a", job)
    second = pool.submit("b", job)
    pool.service(0)
    assert started.wait(5)
    running, queued = pool.cancel_all()
    assert running == [first] and queued == [second]
    assert first.reason == "interrupted" and second.cancelled.is_set()
    assert stop.wait(5) and pool.join(5)
    assert pool.idle


def test_a_crashing_job_does_not_stop_the_pool():
    ran: list[str] = []

    def crash(ticket: Ticket) -> None:
        raise RuntimeError("bug")

    pool = PhonePool(1, 30, on_timeout=lambda t: None)
    pool.submit("bad", crash)
    pool.submit("good", lambda t: ran.append(t.name))
    drain(pool)
    assert ran == ["good"]


def test_parallel_must_be_positive():
    with pytest.raises(ValueError):
        PhonePool(0, 1, on_timeout=lambda t: None)

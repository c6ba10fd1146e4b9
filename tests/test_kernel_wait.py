"""workbook.kernel_wait: a channel wait that a lost ``zmq.FD`` wake-up cannot stall.

The lost wake-up is made on purpose: a message arrives while ``get_msg`` waits, and a raw
(non-asyncio) view of the same socket reads ``zmq.EVENTS`` before the event loop looks, which
drains the edge-triggered ``zmq.FD``.  The socket then holds a message its FD no longer
announces: exactly the state of the apps server's shell socket when a page hung (see the
module docstring).
"""

from __future__ import annotations

import asyncio
import select
import time
from queue import Empty

import pytest
import zmq
import zmq.asyncio
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.session import Session

from workbook import kernel_wait
from workbook.kernel_wait import POLL_SLICE, bounded_channel_waits, sliced_get_msg


class _Pair:
    """An asyncio channel (the apps server's side) and a plain socket (the kernel's side)."""

    def __init__(self, name: str):
        self.ctx = zmq.asyncio.Context()
        self.session = Session(key=b"")
        self.client = self.ctx.socket(zmq.PAIR)
        self.client.bind(f"inproc://{name}")
        self.kernel = zmq.Context.shadow(self.ctx.underlying).socket(zmq.PAIR)
        self.kernel.connect(f"inproc://{name}")
        self.channel = AsyncZMQSocketChannel(self.client, self.session)

    def reply(self, text: str) -> None:
        self.session.send(self.kernel, "execute_reply", {"status": "ok", "text": text})

    def close(self) -> None:
        self.kernel.close(linger=0)
        self.client.close(linger=0)
        self.ctx.term()


async def _message_behind_a_drained_fd(pair: _Pair, get_msg, wait: float) -> dict:
    waiting = asyncio.ensure_future(get_msg(pair.channel, timeout=None))
    await asyncio.sleep(0.05)  # the wait is now parked on the socket's FD
    assert not waiting.done()
    pair.reply("late")
    raw = zmq.Socket.shadow(pair.client.underlying)  # no asyncio bookkeeping: drains the FD edge
    deadline = time.monotonic() + 5
    while not raw.get(zmq.EVENTS) & zmq.POLLIN:
        assert time.monotonic() < deadline, "the message never reached the socket"
        time.sleep(0.001)  # not yielding to the loop: it must not see the edge first
    # the state of a hung page: a message is there, and the FD does not say so
    assert raw.get(zmq.EVENTS) & zmq.POLLIN
    assert select.select([pair.client.FD], [], [], 0)[0] == []
    try:
        return await asyncio.wait_for(waiting, wait)
    finally:
        waiting.cancel()


def test_a_message_behind_a_drained_fd_is_read_within_one_slice():
    pair = _Pair("kernel-wait-drained")

    async def scenario():
        start = time.monotonic()
        msg = await _message_behind_a_drained_fd(pair, sliced_get_msg, wait=POLL_SLICE + 2)
        return msg, time.monotonic() - start

    try:
        msg, took = asyncio.run(scenario())
    finally:
        pair.close()
    assert msg["msg_type"] == "execute_reply" and msg["content"]["text"] == "late"
    assert took < POLL_SLICE + 2


def test_messages_that_arrive_normally_come_at_once_and_in_order():
    pair = _Pair("kernel-wait-normal")

    async def scenario():
        waiting = asyncio.ensure_future(sliced_get_msg(pair.channel, timeout=None))
        await asyncio.sleep(0.01)
        start = time.monotonic()
        pair.reply("first")
        pair.reply("second")
        first = await asyncio.wait_for(waiting, 5)
        took = time.monotonic() - start
        second = await sliced_get_msg(pair.channel, timeout=5)
        return first, second, took

    try:
        first, second, took = asyncio.run(scenario())
    finally:
        pair.close()
    assert [first["content"]["text"], second["content"]["text"]] == ["first", "second"]
    assert took < POLL_SLICE  # woken by the FD, not by the end of a slice


@pytest.mark.parametrize("timeout", [0.0, 0.2, 1.3])
def test_the_callers_time_limit_still_ends_in_empty(timeout):
    pair = _Pair(f"kernel-wait-empty-{timeout}")

    async def scenario():
        start = time.monotonic()
        with pytest.raises(Empty):
            await sliced_get_msg(pair.channel, timeout=timeout)
        return time.monotonic() - start

    try:
        took = asyncio.run(scenario())
    finally:
        pair.close()
    assert timeout - 0.05 <= took < timeout + POLL_SLICE


def test_bounded_channel_waits_replaces_get_msg_of_asyncio_channels(monkeypatch):
    monkeypatch.setattr(AsyncZMQSocketChannel, "get_msg", AsyncZMQSocketChannel.get_msg)  # undone after
    bounded_channel_waits()
    bounded_channel_waits()  # twice is the same
    assert AsyncZMQSocketChannel.get_msg is sliced_get_msg


def test_workbook_apps_installs_it_before_voila_starts(monkeypatch, tmp_path):
    import voila.app

    from workbook.apps import run

    monkeypatch.setattr(AsyncZMQSocketChannel, "get_msg", AsyncZMQSocketChannel.get_msg)
    seen = {}
    monkeypatch.setattr(voila.app.Voila, "launch_instance",
                        classmethod(lambda cls, **kw: seen.setdefault("get_msg", AsyncZMQSocketChannel.get_msg)))
    args = type("Args", (), {"dir": None, "port": 8866, "host": "127.0.0.1", "token": None})()
    assert run(args) == 0
    assert seen["get_msg"] is kernel_wait.sliced_get_msg

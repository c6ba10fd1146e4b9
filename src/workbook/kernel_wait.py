"""Waits on a kernel's messages that cannot miss a message already received.

Voilà (``workbook apps``) runs an app notebook in the server process: nbclient sends the cell and awaits the
kernel's ``execute_reply`` with ``shell_channel.get_msg(timeout=None)``, which is one
``zmq.asyncio`` poll with no time limit.  That poll is woken only by an edge of the
socket's ``zmq.FD``.  On 2 busy cores, about one app page in three stayed "Running ..."
forever: the kernel had finished (its outputs and its ``idle`` status had arrived) and the
reply was waiting in the client's shell socket (``zmq.EVENTS`` said ``POLLIN``), but the
poll never woke.  pyzmq 27.3 / libzmq 4.3.5 / jupyter_client 8.10 / nbclient 0.11; the lost
wake-up of an edge-triggered ``zmq.FD`` is the failure pyzmq's documentation warns about
(compare zeromq/pyzmq#2173).

:func:`bounded_channel_waits` makes every wait of an asyncio kernel channel a series of
polls of at most :data:`POLL_SLICE` seconds.  A poll that ends by its time limit asks libzmq
directly (``zmq_poll`` with timeout 0), so a message that is already there is read at the
latest one slice later.  The total time limit and the ``queue.Empty`` at its end are the
caller's, as before.  ``workbook apps`` installs it before Voilà starts, ``workbook run`` and
the book build (``make book``) before they execute a notebook: there the same lost wake-up
would hold a cell until its time limit (``workbook run``: 30 min) and then carry on.  It
changes nothing inside a kernel.
"""

from __future__ import annotations

import time
from queue import Empty
from typing import Any

__all__ = ["POLL_SLICE", "bounded_channel_waits", "sliced_get_msg"]

#: Longest single poll (seconds): the most a missed wake-up can delay a message.
POLL_SLICE = 0.5


async def sliced_get_msg(self: Any, timeout: float | None = None) -> dict[str, Any]:
    """``AsyncZMQSocketChannel.get_msg`` in polls of at most :data:`POLL_SLICE` seconds.

    Same contract as jupyter_client's: wait up to ``timeout`` seconds (``None``: no limit)
    for the next message on this channel, return it deserialised, or raise
    :class:`queue.Empty`.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        wait = POLL_SLICE if left is None else min(POLL_SLICE, left)
        if await self.socket.poll(int(wait * 1000)):
            return await self._recv()
        if left is not None and left <= POLL_SLICE:
            raise Empty


def bounded_channel_waits() -> None:
    """Install :func:`sliced_get_msg` on jupyter_client's asyncio channels (idempotent)."""
    from jupyter_client.channels import AsyncZMQSocketChannel

    AsyncZMQSocketChannel.get_msg = sliced_get_msg  # type: ignore[method-assign]

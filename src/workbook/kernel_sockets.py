"""Kernels that talk over local sockets, so that no other program can take their ports.

A Jupyter kernel normally listens on five TCP ports of 127.0.0.1.  jupyter_client picks
them by binding port 0 and closing it again, writes them into the connection file, and
the kernel binds them a moment later.  In that moment another process on the machine can
take the same port: another kernel being started, or any outgoing connection.  Then
either the kernel dies with ``ZMQError: Address already in use``, or, worse, a client
reaches another program's kernel and that kernel logs ``Invalid Signature`` tracebacks.
Both happened under ``make test``, where two test processes, Voilà and a browser start
kernels side by side (a Voilà app page then never showed its results).

On Linux and macOS the kernels this package starts (``workbook run``, ``workbook
exercises grade``, ``workbook apps``, ``make lab``, the book build) use ZeroMQ's ``ipc``
transport instead: Unix sockets named by a random prefix in the temporary folder, which
no other process can pick by chance, which are not reachable over the network, and which
jupyter_client deletes when the kernel shuts down.  Where that is not possible (Windows,
or a temporary folder whose path is too long for a socket name) the kernels keep TCP.

Examples
--------
>>> from workbook.kernel_sockets import LocalKernelManager
>>> km = LocalKernelManager(kernel_name="python3")
>>> km.transport in ("ipc", "tcp")
True
>>> km.transport != "ipc" or km.ip.startswith(local_socket_dir())
True
"""

from __future__ import annotations

import os
import tempfile
import uuid
from typing import Any

from jupyter_client.connect import ConnectionFileMixin
from jupyter_client.manager import AsyncKernelManager, KernelManager
from traitlets import default

__all__ = [
    "LocalAsyncKernelManager",
    "LocalKernelManager",
    "LocalSockets",
    "SERVER_KERNEL_MANAGER",
    "ipc_possible",
    "local_socket_dir",
    "server_config",
]

#: Longest socket path the kernel may need (``sun_path`` holds 104 bytes on macOS,
#: 108 on Linux, the terminating NUL included).
MAX_SOCKET_PATH = 100
#: A kernel's socket names: this, 16 random hex digits, and "-<n>" (n = 1, 2, ...; at most 5 digits).
_PREFIX = "wb-kernel-"
_LONGEST_NAME = _PREFIX + "0" * 16 + "-99999"

#: The dotted name of :class:`LocalServerKernelManager` (Jupyter servers: Voilà, JupyterLab).
SERVER_KERNEL_MANAGER = "workbook.kernel_sockets.LocalServerKernelManager"


def local_socket_dir() -> str:
    """The folder that holds the kernels' sockets: the system's temporary folder."""
    return tempfile.gettempdir()


def ipc_possible() -> bool:
    """Whether kernels started here can use Unix sockets (not on Windows, nor with a
    temporary folder whose path leaves no room for a socket name)."""
    import zmq

    if os.name != "posix" or not zmq.has("ipc"):
        return False
    longest = os.path.join(local_socket_dir(), _LONGEST_NAME)
    return len(os.fsencode(longest)) <= MAX_SOCKET_PATH


class LocalSockets(ConnectionFileMixin):
    """Mix-in for a kernel manager: ``ipc`` transport with a prefix of its own.

    Put it before the kernel manager class (``class K(LocalSockets, KernelManager)``).
    A transport or ip given in the configuration still wins.
    """

    @default("transport")
    def _transport_default(self) -> str:
        return "ipc" if ipc_possible() else "tcp"

    def _ip_default(self) -> str:
        # jupyter_client's default ipc prefix is "kernel-ipc" in the current folder (the
        # user's) or the connection file's path (possibly too long for a socket name).
        if self.transport == "ipc":
            return os.path.join(local_socket_dir(), _PREFIX + uuid.uuid4().hex[:16])
        return super()._ip_default()


class LocalKernelManager(LocalSockets, KernelManager):
    """jupyter_client's :class:`~jupyter_client.manager.KernelManager` on local sockets."""


class LocalAsyncKernelManager(LocalSockets, AsyncKernelManager):
    """jupyter_client's :class:`~jupyter_client.manager.AsyncKernelManager` on local sockets."""


def server_config(config: Any) -> Any:
    """Make a Jupyter server (Voilà, JupyterLab) start its kernels on local sockets.

    ``config`` is a :class:`traitlets.config.Config`; it is changed and returned.  On the
    command line the same is ``--AsyncMappingKernelManager.kernel_manager_class=`` followed
    by :data:`SERVER_KERNEL_MANAGER`.
    """
    config.AsyncMappingKernelManager.kernel_manager_class = SERVER_KERNEL_MANAGER
    return config


def __getattr__(name: str) -> Any:
    # Built on first use: importing jupyter_server takes seconds, and only servers need it.
    if name == "LocalServerKernelManager":
        from jupyter_server.services.kernels.kernelmanager import ServerKernelManager

        cls = type("LocalServerKernelManager", (LocalSockets, ServerKernelManager), {
            "__module__": __name__,
            "__doc__": "jupyter_server's ServerKernelManager on local sockets.",
        })
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

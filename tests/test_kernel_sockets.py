"""workbook.kernel_sockets: the kernels the package starts listen on local sockets.

Under ``make test`` a kernel once took a TCP port another kernel had just picked:
Voilà's kernel died with "Address already in use" and the grader's kernel logged
"Invalid Signature" tracebacks for messages meant for the other one.
"""

from __future__ import annotations

import os
import tempfile

import pytest
from traitlets.config import Config

from workbook import kernel_sockets
from workbook.kernel_sockets import (
    SERVER_KERNEL_MANAGER,
    LocalAsyncKernelManager,
    LocalKernelManager,
    LocalSockets,
    ipc_possible,
    server_config,
)

posix = pytest.mark.skipif(not ipc_possible(), reason="no Unix sockets here (Windows)")

#: Prints the transport of the kernel it runs in.
TRANSPORT_CELL = "from ipykernel.connect import get_connection_info as g; import json; print(json.loads(g())['transport'])"


@posix
def test_kernel_sockets_live_in_the_temp_folder_and_go_with_the_kernel(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # jupyter_client's own ipc default would put them here
    km = LocalKernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(tmp_path))
    try:
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        out = []
        reply = kc.execute_interactive(TRANSPORT_CELL, timeout=60,
                                       output_hook=lambda m: out.append(m["content"].get("text", "")))
        kc.stop_channels()
        assert reply["content"]["status"] == "ok"
        assert "".join(out).strip() == "ipc"
        info = km.get_connection_info()
        assert info["transport"] == "ipc"
        sockets = [f"{km.ip}-{port}" for port in km.ports]
        assert all(os.path.dirname(s) == tempfile.gettempdir() for s in sockets)
        assert all(os.path.exists(s) for s in sockets)
        assert list(tmp_path.iterdir()) == []
    finally:
        km.shutdown_kernel(now=True)
    assert not any(os.path.exists(s) for s in sockets)


def test_each_kernel_gets_a_prefix_of_its_own():
    prefixes = {LocalKernelManager().ip for _ in range(3)} | {LocalAsyncKernelManager().ip}
    assert len(prefixes) == 4 if ipc_possible() else prefixes == {"127.0.0.1"}


def test_a_temp_folder_too_long_for_a_socket_name_keeps_tcp(tmp_path, monkeypatch):
    long_dir = tmp_path / ("d" * 120)
    long_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(long_dir))
    assert not ipc_possible()
    km = LocalKernelManager()
    assert (km.transport, km.ip) == ("tcp", "127.0.0.1")


def test_windows_keeps_tcp(monkeypatch):
    monkeypatch.setattr(kernel_sockets.os, "name", "nt")
    assert not ipc_possible()
    assert LocalKernelManager().transport == "tcp"


def test_a_configured_transport_wins():
    config = Config()
    config.KernelManager.transport = "tcp"
    km = LocalKernelManager(config=config)
    assert (km.transport, km.ip) == ("tcp", "127.0.0.1")


def test_servers_get_the_local_socket_kernel_manager():
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager, ServerKernelManager

    config = server_config(Config())
    mapping = AsyncMappingKernelManager(config=config)
    assert mapping.kernel_manager_class == SERVER_KERNEL_MANAGER
    cls = kernel_sockets.LocalServerKernelManager
    assert issubclass(cls, ServerKernelManager) and issubclass(cls, LocalSockets)
    assert cls().transport == ("ipc" if ipc_possible() else "tcp")


def test_workbook_run_starts_its_kernels_on_local_sockets():
    from workbook.runner import _user_run_kernel_manager

    assert issubclass(_user_run_kernel_manager(), LocalAsyncKernelManager)

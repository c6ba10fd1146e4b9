"""Code-free apps for managers, served with Voilà (``workbook apps`` / ``make apps``).

Each app is a one-cell notebook in the repository's ``apps/`` folder that calls one
function of this package; Voilà runs it and shows only the widgets and results, never the
code or a traceback:

* ``03_rfm_care_lists``: :func:`workbook.apps.rfm_care.rfm_care_app`;
* ``05_churn_budget``: :func:`workbook.apps.churn_budget.churn_budget_app`;
* ``07_store_compass``: :func:`workbook.apps.store_compass.store_compass_app`;
* ``08_tier_design``: :func:`workbook.apps.tier_design.tier_design_app`.

Every app starts on the course's synthetic data and has an upload panel for the user's own
export (:class:`workbook.apps.upload.ExportUpload`: column mapping, the loader's validation
report, member ids pseudonymised with the user's key as ``docs/privacy.md`` describes).

``workbook apps --host 0.0.0.0 --port 8866`` serves them to a classroom; the server runs as
root too (Voilà has no root check).  Bound to anything but the loopback address, the server
requires a token, printed with the link, unless ``--token`` gives one.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import secrets
from pathlib import Path

from workbook.errors import WorkbookInputError

__all__ = ["APPS", "apps_dir", "add_arguments", "run", "voila_argv"]

#: The apps, by notebook name (in ``apps/``), with their Chinese and English titles.
APPS = {
    "03_rfm_care_lists": ("RFM 关怀名单", "RFM care lists"),
    "05_churn_budget": ("流失挽留预算", "Churn budget tool"),
    "07_store_compass": ("店铺分析罗盘", "Store analysis compass"),
    "08_tier_design": ("会员等级设计沙盘", "Tier-design sandbox"),
}
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8866
#: Largest upload (bytes): widget messages travel over the websocket, whose default limit is 10 MB.
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


def apps_dir() -> Path:
    """The ``apps/`` folder of the checkout this package is installed from (``pip install -e .``)."""
    return Path(__file__).resolve().parents[3] / "apps"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def voila_argv(directory: Path, host: str, port: int, token: str | None) -> list[str]:
    """Voilà's command-line arguments: no browser, no code, no tracebacks, light theme."""
    argv = [str(directory), "--no-browser", f"--Voila.ip={host}", f"--port={port}", "--Voila.port_retries=0",
            "--strip_sources=True", "--show_tracebacks=False", "--theme=light"]
    argv.append(f"--token={token}" if token else "--Voila.token=")
    return argv


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help="address to listen on (default 127.0.0.1: this computer only; "
                             "0.0.0.0: every network interface, e.g. a classroom server)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default 8866)")
    parser.add_argument("--token", default=None,
                        help="access token the link must carry (default: none on 127.0.0.1, "
                             "a random one printed with the link on any other address)")
    parser.add_argument("--dir", type=Path, default=None, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    """Serve the apps until Ctrl-C."""
    directory = args.dir or apps_dir()
    missing = [name for name in APPS if not (directory / f"{name}.ipynb").exists()]
    if missing:
        raise WorkbookInputError(
            f"The app notebooks {missing} are not in {directory}: run `workbook apps` from a checkout of "
            "the workbook installed with `pip install -e .` (what `make apps` does).",
            message_zh=f"在 {directory} 中找不到小程序笔记本 {missing}：请在工作簿的代码目录中用 `make apps` 启动。")
    if not 0 < args.port < 65536:
        raise WorkbookInputError(f"--port must be between 1 and 65535, got {args.port}.",
                                 message_zh=f"--port（端口）应在 1 到 65535 之间，现在是 {args.port}。")
    token = args.token
    if token is None and not _is_loopback(args.host):
        token = secrets.token_urlsafe(16)  # reachable from other machines: not without the link
    from traitlets.config import Config
    from voila.app import Voila

    from workbook.kernel_sockets import server_config
    from workbook.kernel_wait import bounded_channel_waits

    bounded_channel_waits()  # a page must not wait forever for a reply that has arrived

    config = server_config(Config())  # kernels on local sockets: no port another program can take
    config.Voila.tornado_settings = {"websocket_max_message_size": MAX_UPLOAD_BYTES}
    # The apps show what a trainee sees: a claim that fails is a note, not an error.
    os.environ.pop("WORKBOOK_STRICT_CLAIMS", None)
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    query = f"?token={token}" if token else ""
    print("==> 无代码小程序 (code-free apps):")
    for name, (zh, en) in APPS.items():
        print(f"    {zh} ({en}): http://{shown}:{args.port}/voila/render/{name}.ipynb{query}")
    if args.host in ("0.0.0.0", "::"):
        print("    Listening on every interface: trainees use this machine's address instead of 127.0.0.1.")
    print("    Stop with Ctrl-C.", flush=True)
    Voila.launch_instance(argv=voila_argv(directory, args.host, args.port, token), config=config)
    return 0

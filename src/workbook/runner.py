"""``workbook run``: execute a course notebook on the user's own data.

Each notebook has one cell tagged ``parameters`` (papermill's convention)::

    DATA_PATH = None      # your transactions export (CSV, Excel, Parquet)
    MAPPING_PATH = None   # YAML column mapping, see docs/mapping_example.yaml
    MEMBERS_PATH = None   # optional members export
    data = load_workbook_data(DATA_PATH, MAPPING_PATH, MEMBERS_PATH)

:func:`run_notebook` injects the user's paths (as absolute paths) after that
cell, executes the notebook with papermill and writes the executed copy to
``runs/<notebook>-<timestamp>.ipynb`` — never into the repository's
``notebooks/`` or ``exercises/`` folders, so store data cannot end up in git
(``runs/`` is git-ignored).

Command line::

    workbook run notebooks/03_maintenance.ipynb --data my_export.csv --mapping my_map.yaml
    workbook run notebooks/07_store_compass.ipynb --data my_export.csv --mapping my_map.yaml \
        --traffic door_counter.csv

or papermill directly::

    papermill notebooks/03_maintenance.ipynb runs/03.ipynb -p DATA_PATH my_export.csv

Before starting a kernel the runner checks the parameter names against the
``parameters`` cell (read with :mod:`ast`; a misspelt ``-p`` name is an
error, not a warning) and refuses user data for notebooks that assert
``DATA_PATH is None`` (the case studies generate their own scenario).
Papermill's own inspection of the cell is a line-based heuristic that cannot
read a line holding ``=`` twice (e.g. ``X = 1  # 1 = yes``); the course
notebooks avoid that, and the runner drops those heuristic warnings because it
has checked the names itself.

A run you can trust
-------------------
* **Rows with problems** (``--errors raise|drop``, the ``errors=`` of
  :func:`workbook.io.load_workbook_data`): the runner loads the user's files
  once itself before starting a kernel.  With ``raise`` (default) a problem
  stops the run there, with a message naming rows and columns.  With ``drop``
  the rows at fault are removed; every rejected row is written to
  ``<output>.rejected.csv`` beside the executed notebook (table, row number in
  the user's file, column, check, reason, the member's *pseudonym*), the counts
  per reason and every cleaning note are printed and shown in a "运行报告 (Run
  report)" cell at the top of the executed notebook, with
  ``rows read = kept + rejected + walk-ins``.  The choice reaches the notebook
  as its ``ERRORS`` parameter (``ERRORS = "raise"`` in the parameters cell,
  passed on as ``load_workbook_data(..., errors=ERRORS)``); ``--errors drop``
  is refused for a notebook without that parameter.
* **Atomic output**: the notebook executes into ``<output stem>.partial.ipynb``,
  renamed to ``output`` only when every cell ran.  After an error or Ctrl-C the
  partial file stays, marked ``metadata.workbook.run.status = "partial"`` and
  with a warning cell at the top; the command says so on stderr and exits
  with 2 (error) or 130 (Ctrl-C).
* **No raw ids in outputs**: every text the runner writes (messages, report,
  rejected rows, the executed notebook's text outputs) passes a
  :class:`workbook.privacy.Redactor` built from the raw member ids, names,
  phones and e-mails of the user's files, which replaces any that slipped
  through by the pseudonym or ``***`` (and says so on stderr).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import datetime as _dt
import logging
import os
import signal
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pandas as pd

from workbook.errors import WorkbookInputError
from workbook.kernel_wait import bounded_channel_waits

__all__ = ["add_arguments", "run", "run_notebook", "parameter_names", "partial_path",
           "rejected_path", "PROTECTED_DIRS", "DEFAULT_OUTPUT_DIR", "REJECTED_COLUMNS"]

#: Repository folders an executed notebook may never be written to (user data
#: there could be committed, or shipped with the package).
PROTECTED_DIRS = ("notebooks", "exercises", "datasets", "src/workbook")
#: Columns of the rejected-rows file (never a raw id: ``member`` is the pseudonym).
REJECTED_COLUMNS = ("table", "row", "column", "check", "reason", "member")
#: Default folder for executed copies (relative to the current directory).
DEFAULT_OUTPUT_DIR = Path("runs")


def _project_roots(notebook: Path) -> set[Path]:
    roots = set()
    for parent in notebook.resolve().parents:
        if (parent / ".git").exists() or (parent / "pyproject.toml").exists():
            roots.add(parent)
            break
    pkg_root = Path(__file__).resolve().parents[2]  # src/workbook/runner.py -> repo root
    if (pkg_root / "pyproject.toml").exists():
        roots.add(pkg_root)
    return roots


def _check_output(output: Path, notebook: Path) -> None:
    out = output.resolve()
    if out == notebook.resolve():
        raise WorkbookInputError(f"Refusing to overwrite the input notebook {str(notebook)!r}.",
                                 message_zh=f"不能覆盖输入的笔记本 {str(notebook)!r}。")
    protected = [(root / name, name) for root in _project_roots(notebook) for name in PROTECTED_DIRS]
    protected.append((Path(__file__).resolve().parent, None))  # the installed package too
    for folder, name in protected:
        if out.is_relative_to(folder):
            where = f"the repository's {name}/ folder" if name else "the installed workbook package"
            where_zh = f"仓库的 {name}/ 文件夹" if name else "安装的 workbook 程序包"
            raise WorkbookInputError(
                f"Refusing to write the executed notebook to {str(output)!r}: it is inside "
                f"{where}, where it could be committed or shipped with your "
                f"store data. Use the default runs/ folder or a path outside {str(folder)!r}.",
                message_zh=f"不能把运行结果写到 {str(output)!r}：它在{where_zh}里，"
                           "可能连同门店数据一起被提交或发布。请用默认的 runs/ 文件夹或其他位置。",
            )


def _check_parameters_cell(notebook: Path) -> nbformat.NotebookNode:
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception as exc:  # invalid JSON, not a notebook
        raise WorkbookInputError(f"{str(notebook)!r} is not a readable notebook: {exc}") from exc
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not tagged:
        raise WorkbookInputError(
            f"{notebook.name} has no cell tagged 'parameters', so your data paths cannot be "
            "injected (papermill would run it on the default data). Tag the cell that sets "
            "DATA_PATH, MAPPING_PATH and MEMBERS_PATH with 'parameters'."
        )
    return nb


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except SyntaxError:  # IPython magics or shell escapes: no static check possible
        return None


def parameter_names(nb: nbformat.NotebookNode) -> list[str] | None:
    """Names assigned in the notebook's first cell tagged ``parameters``.

    Unlike papermill's line-based inspection, comments holding ``=`` do not
    matter.  ``None`` if the cell is not plain Python (e.g. IPython magics).

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook()
    >>> cell = nbformat.v4.new_code_cell("A = 1  # 1 = yes\\nB: int = 2\\nC = {\\n 'x': 1}")
    >>> cell.metadata["tags"] = ["parameters"]
    >>> nb.cells = [cell]
    >>> parameter_names(nb)
    ['A', 'B', 'C']
    """
    cell = next(c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    tree = _parse(cell.source)
    if tree is None:
        return None
    names: list[str] = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        for t in targets:
            for n in ast.walk(t):
                if isinstance(n, ast.Name) and n.id not in names:
                    names.append(n.id)
    return names


def _refuses_user_data(nb: nbformat.NotebookNode) -> str | None:
    """Why a notebook refuses user data: metadata ``workbook.own_data_only`` or an ``assert DATA_PATH is None``."""
    reason = nb.metadata.get("workbook", {}).get("own_data_only")
    if reason:
        return str(reason).rstrip("。. ")
    for cell in nb.cells:
        if cell.cell_type != "code" or "DATA_PATH" not in cell.source:
            continue
        tree = _parse(cell.source)
        for node in ast.walk(tree) if tree is not None else ():
            if not isinstance(node, ast.Assert):
                continue
            for cmp in ast.walk(node.test):
                if (isinstance(cmp, ast.Compare) and isinstance(cmp.left, ast.Name)
                        and cmp.left.id == "DATA_PATH" and isinstance(cmp.ops[0], ast.Is)
                        and isinstance(cmp.comparators[0], ast.Constant)
                        and cmp.comparators[0].value is None):
                    msg = node.msg.value if isinstance(node.msg, ast.Constant) else ""
                    return str(msg).rstrip("。. ") or "it asserts DATA_PATH is None"
    return None


class _DropHeuristicWarnings(logging.Filter):
    """Drop papermill's parameter-inspection warnings (names are checked with ast instead)."""

    PATTERNS = ("Unable to parse line", "Passed unknown parameter")

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        return not any(p in msg for p in self.PATTERNS)


@contextlib.contextmanager
def _quiet_papermill_inspection():
    loggers = [logging.getLogger(n) for n in ("papermill", "papermill.translators")]
    filt = _DropHeuristicWarnings()
    for lg in loggers:
        lg.addFilter(filt)
    try:
        yield
    finally:
        for lg in loggers:
            lg.removeFilter(filt)


def _abs(path: str | Path | None, what: str, what_zh: str) -> str | None:
    if path is None:
        return None
    p = Path(path).expanduser()
    if not p.exists():
        raise WorkbookInputError(f"{what} {str(path)!r} does not exist.",
                                 message_zh=f"{what_zh} {str(path)!r} 不存在。")
    return str(p.resolve())


def partial_path(output: str | Path) -> Path:
    """Where the notebook executes, and stays if the run does not finish.

    Examples
    --------
    >>> partial_path("runs/03_maintenance-20240701-101500.ipynb").name
    '03_maintenance-20240701-101500.partial.ipynb'
    """
    output = Path(output)
    return output.with_name(f"{output.stem}.partial{output.suffix}")


def rejected_path(output: str | Path) -> Path:
    """The rejected-rows file written beside the executed notebook with ``errors="drop"``.

    Examples
    --------
    >>> rejected_path("runs/03.ipynb").as_posix()
    'runs/03.rejected.csv'
    """
    output = Path(output)
    return output.with_name(f"{output.stem}.rejected.csv")


# --------------------------------------------------------------------------
# Loading the user's files once before the kernel starts
# --------------------------------------------------------------------------

_TABLE_ZH = {"transactions": "交易", "members": "会员", "store_traffic": "客流"}
_ID_COLUMNS = ("member_id",)
_PERSONAL_COLUMNS = ("name", "phone", "email")


def _add_raw_values(seen, frames, ps) -> None:
    """Raw ids and personal values left in frames (older loaders keep rejected rows raw)."""
    for f in frames:
        if not isinstance(f, pd.DataFrame):
            continue
        for cols, target in ((_ID_COLUMNS, seen.ids), (_PERSONAL_COLUMNS, seen.personal)):
            for c in cols:
                if c in f.columns:
                    v = f[c].dropna().astype("str").str.strip()
                    v = v[~ps.is_pseudonym(v) & ~v.str.contains("*", regex=False)]
                    target.update(v.unique().tolist())


def _data_like_first_row(path) -> list[str]:
    """The first row's cells if it looks like a record, not a header (for redaction only)."""
    import csv
    import re

    path = Path(path)
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            import openpyxl

            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
            first = next(wb.worksheets[0].iter_rows(max_row=1, values_only=True), ())
            wb.close()
            cells = ["" if v is None else str(v) for v in first]
        else:
            raw = path.read_bytes()[:65536]
            for enc in ("utf-8-sig", "utf-16", "gb18030"):
                try:
                    text = raw.decode(enc)
                    break
                except UnicodeDecodeError:
                    continue
            else:
                return []
            line = next((ln for ln in text.splitlines() if ln.strip()), "")
            sep = max(",;\t|", key=line.count)
            cells = next(csv.reader([line], delimiter=sep), [])
    except Exception:  # unreadable: the loader's own message already says why
        return []
    cells = [c.strip() for c in cells if c and c.strip()]
    value_like = re.compile(r"[+\-]?[\d.,/:\- ]*\d[\d.,/:\- eE+]*|[^@\s]+@[^@\s]+")
    n_values = sum(bool(value_like.fullmatch(c)) for c in cells)
    return cells if cells and n_values >= max(1, len(cells) / 4) else []


@dataclass
class _Preload:
    """What the runner learnt from loading the user's files (no raw ids in it)."""

    errors: str
    counts: pd.DataFrame
    reasons: pd.DataFrame
    cleaning: pd.DataFrame
    rejected: pd.DataFrame
    redactor: object = field(repr=False)


def _preload(data, mapping, members, traffic, errors, ps) -> _Preload:
    from workbook.io import (DataQualityWarning, DataValidationError, load_workbook_data,
                             report_summary)
    from workbook.privacy import Redactor, recording_raw_values

    # Loaded as the notebook will load it (pseudonymised), recording the raw values
    # seen on the way for the Redactor.
    with warnings.catch_warnings(), recording_raw_values() as seen:
        warnings.simplefilter("ignore", DataQualityWarning)  # the runner reports the drops itself
        try:
            wd = load_workbook_data(data, mapping, members, errors=errors, traffic=traffic,
                                    pseudonymise=True)
        except DataValidationError as exc:
            _add_raw_values(seen, [exc.rejected], ps)
            red = Redactor(seen.ids, seen.personal, pseudonymiser=ps, contacts=True)
            zh = red.redact(exc.message_zh)[0] + "\n" if exc.message_zh else ""
            raise WorkbookInputError(
                f"{red.redact(str(exc))[0]}\nOr run with --errors drop: the rows at fault are left "
                "out and listed, with their reasons, in <output>.rejected.csv beside the executed "
                "notebook.",
                message_zh=f"{zh}你的文件里有些行有问题（见下面的行号、列和原因）。请修改文件后重跑，"
                           "或加上 --errors drop：有问题的行会被剔除，并连同原因列在运行结果旁边的 "
                           "<输出>.rejected.csv 里。",
            ) from None
        except WorkbookInputError as exc:  # file-level
            # A file without a header row has its first record quoted as "column names".
            cells = [c for p in (data, members) if p is not None for c in _data_like_first_row(p)]
            red = Redactor(seen.ids, seen.personal | set(cells), pseudonymiser=ps, contacts=True)
            raise WorkbookInputError(
                red.redact(str(exc))[0],
                message_zh=red.redact(exc.message_zh)[0] if exc.message_zh else None,
            ) from None
    _add_raw_values(seen, [r.rejected for r in wd.reports.values()], ps)
    redactor = Redactor(seen.ids, seen.personal, pseudonymiser=ps)
    counts, reasons, cleaning, rejected = [], [], [], []
    for table, res in wd.reports.items():
        io_counts = dict(getattr(res, "counts", None) or {})
        if io_counts:  # the loader's own accounting (rows read counted from the file)
            walk_ins = int(io_counts.get("walk_ins", 0))
            counts.append({"table": table, "rows_read": int(io_counts["rows_read"]),
                           "kept": int(io_counts.get("member_rows", io_counts["kept"])),
                           "rejected": int(io_counts["rejected"]), "walk_ins": walk_ins})
        else:  # loaders without accounting: every non-empty row is kept or rejected
            walk_ins = (int(res.data["member_id"].isna().sum())
                        if table == "transactions" and "member_id" in res.data.columns else 0)
            counts.append({"table": table, "rows_read": len(res.data) + len(res.rejected),
                           "kept": len(res.data) - walk_ins, "rejected": len(res.rejected),
                           "walk_ins": walk_ins})
        if len(res.report):
            summ = report_summary(res.report)
            summ.insert(0, "table", table)
            reasons.append(summ)
            rep = res.report.dropna(subset=["row"])
            member = pd.Series(pd.NA, index=rep.index, dtype="str")
            if "member_id" in res.rejected.columns:
                ids = pd.Series(res.rejected["member_id"].reindex(rep["row"].to_numpy()).to_numpy(),
                                index=rep.index, dtype="str")
                done = ps.is_pseudonym(ids)  # newer loaders pseudonymise rejected rows themselves
                member = ids.where(done, ps.pseudonymise_ids(ids.where(~done)))
            rejected.append(pd.DataFrame({
                "table": table, "row": rep["row"].astype("int64"), "column": rep["column"],
                "check": rep["check"], "reason": rep["reason"].astype("str"), "member": member,
            }))
        if len(res.cleaning):
            notes = res.cleaning.copy()
            notes.insert(0, "table", table)
            cleaning.append(notes)
    rejected = (pd.concat(rejected, ignore_index=True) if rejected
                else pd.DataFrame(columns=list(REJECTED_COLUMNS)))
    reasons = (pd.concat(reasons, ignore_index=True) if reasons
               else pd.DataFrame(columns=["table", "check", "column", "count", "rows", "example"]))
    cleaning = (pd.concat(cleaning, ignore_index=True) if cleaning
                else pd.DataFrame(columns=["table", "column", "action", "count", "example"]))
    for frame, cols in ((rejected, ("reason",)), (reasons, ("example",)),
                        (cleaning, ("action", "example"))):
        for c in cols:
            frame[c] = [redactor.redact(str(v))[0] if pd.notna(v) else v for v in frame[c]]
    return _Preload(errors, pd.DataFrame(counts), reasons, cleaning, rejected, redactor)


def _count_line(rec) -> str:
    return (f"读入 {rec.rows_read} 行 = 保留 {rec.kept} + 剔除 {rec.rejected} + 散客 {rec.walk_ins}"
            f" (rows read {rec.rows_read} = kept {rec.kept} + rejected {rec.rejected} + "
            f"walk-ins {rec.walk_ins})")


def _summary_text(pre: _Preload, rejected_file: Path | None) -> str:
    lines = [f"读入你的文件 (your files), errors={pre.errors}:"]
    for rec in pre.counts.itertuples(index=False):
        lines.append(f"  {_TABLE_ZH.get(rec.table, rec.table)} {rec.table}: {_count_line(rec)}")
    if len(pre.reasons):
        lines.append("剔除原因 (rejected rows by reason):")
        for r in pre.reasons.itertuples(index=False):
            lines.append(f"  {r.table} {r.check} in {r.column!r}: {r.count} — {r.rows}; e.g. {r.example}")
    if len(pre.cleaning):
        lines.append("清洗记录 (cleaning notes):")
        for r in pre.cleaning.itertuples(index=False):
            col = f"{r.column}: " if r.column else ""
            ex = f" (e.g. {r.example})" if r.example else ""
            lines.append(f"  {r.table} {col}{r.action} — {r.count}{ex}")
    if rejected_file is not None:
        lines.append(f"被剔除的行 (rejected rows, pseudonymised): {rejected_file}")
    return "\n".join(lines)


def _md(value) -> str:
    return str("" if value is None or (not isinstance(value, str) and pd.isna(value)) else value
               ).replace("|", "\\|").replace("\n", " ")


def _md_table(frame: pd.DataFrame, header: list[str]) -> str:
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    rows += ["| " + " | ".join(_md(v) for v in rec) + " |"
             for rec in frame.itertuples(index=False)]
    return "\n".join(rows)


def _report_markdown(pre: _Preload, rejected_file: Path | None) -> str:
    how = ("有问题的行已剔除 (rows with problems were dropped)" if pre.errors == "drop"
           else "有问题就停止 (stop at any problem)")
    parts = ["## 运行报告 (Run report)",
             f"由 `workbook run` 生成 (written by `workbook run`), `--errors {pre.errors}`: {how}.",
             _md_table(pre.counts.assign(check=[
                 "✓" if r.rows_read == r.kept + r.rejected + r.walk_ins else "✗"
                 for r in pre.counts.itertuples()]),
                 ["表 (table)", "读入 (rows read)", "保留 (kept)", "剔除 (rejected)",
                  "散客 (walk-ins)", "读入 = 保留 + 剔除 + 散客"])]
    if len(pre.reasons):
        parts += ["### 剔除原因 (rejected rows by reason)",
                  _md_table(pre.reasons[["table", "check", "column", "count", "rows", "example"]],
                            ["表 (table)", "检查 (check)", "列 (column)", "个数 (count)",
                             "行号 (rows)", "例 (example)"])]
    if len(pre.cleaning):
        parts += ["### 清洗记录 (cleaning notes)",
                  _md_table(pre.cleaning[["table", "column", "action", "count", "example"]],
                            ["表 (table)", "列 (column)", "处理 (action)", "行数 (count)",
                             "例 (example)"])]
    if rejected_file is not None:
        parts.append(f"被剔除的行（行号、列、原因、会员化名）见 `{rejected_file.name}`，在这个笔记本旁边。"
                     f" The rejected rows (row, column, reason, member pseudonym) are in "
                     f"`{rejected_file.name}` beside this notebook.")
    return "\n\n".join(parts)


# --------------------------------------------------------------------------
# Finishing the executed notebook
# --------------------------------------------------------------------------

_TEXT_MIMES = ("text/plain", "text/html", "text/markdown", "text/latex")


def _redact_outputs(nb: nbformat.NotebookNode, redactor) -> int:
    if redactor is None or not redactor:
        return 0
    total = 0

    def fix(value):
        nonlocal total
        if isinstance(value, list):
            return [fix(v) for v in value]
        if not isinstance(value, str):
            return value
        out, n = redactor.redact(value)
        total += n
        return out

    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if "text" in o:
                o["text"] = fix(o["text"])
            for mime in _TEXT_MIMES:
                if mime in o.get("data", {}):
                    o["data"][mime] = fix(o["data"][mime])
            if o.get("output_type") == "error":
                o["evalue"] = fix(o.get("evalue", ""))
                o["traceback"] = fix(o.get("traceback", []))
    return total


def _finish(work: Path, status: str, reason: str | None, pre: _Preload | None,
            rejected_file: Path | None, errors: str) -> int:
    """Redact, add the report (and a partial-run warning), mark metadata; return redactions."""
    if not work.exists():
        return 0
    nb = nbformat.read(work, as_version=4)
    redacted = _redact_outputs(nb, pre.redactor if pre is not None else None)
    top = []
    if status != "complete":
        why_zh = "被 Ctrl-C 中断" if reason == "interrupted" else "某个单元格出错"
        why = "interrupted with Ctrl-C" if reason == "interrupted" else "a cell failed"
        top.append(nbformat.v4.new_markdown_cell(
            f"## ⚠️ 未完成的运行 (Partial run)\n\n这个笔记本没有运行完（{why_zh}）：后面的单元格没有结果"
            f"或结果过时，不要据此做决定。\n\nThis notebook did not run to the end ({why}): later "
            "cells have no or stale outputs; do not use its numbers.",
            metadata={"tags": ["workbook-partial-run"]}))
    if pre is not None:
        top.append(nbformat.v4.new_markdown_cell(_report_markdown(pre, rejected_file),
                                                 metadata={"tags": ["workbook-run-report"]}))
    nb.cells[0:0] = top
    run_meta = {"status": status, "reason": reason, "errors": errors, "redacted": redacted,
                "finished": _dt.datetime.now().isoformat(timespec="seconds")}
    if pre is not None:
        run_meta["counts"] = pre.counts.to_dict(orient="records")
    if rejected_file is not None:
        run_meta["rejected_file"] = rejected_file.name
    nb.metadata.setdefault("workbook", {})["run"] = run_meta
    nbformat.write(nb, work)
    return redacted


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _user_run_kernel_manager(started: list | None = None):
    from workbook.kernel_sockets import LocalAsyncKernelManager
    from workbook.notebook import STRICT_ENV

    class QuietKernelManager(LocalAsyncKernelManager):
        """The kernel of a user's run: claims are lenient, and its own log stream is
        silenced (cell outputs still arrive through Jupyter's messages, but the
        kernel's log lines, such as the KeyboardInterrupt traceback it logs when
        a run is stopped with Ctrl-C, no longer reach the user's terminal)."""

        async def start_kernel(self, **kw):
            kw.setdefault("stderr", subprocess.DEVNULL)
            # A notebook's claims describe the default data: on the user's data they are
            # notes to read, never errors (workbook.notebook.claim).
            kw.setdefault("env", {**os.environ, STRICT_ENV: "0"})
            result = await super().start_kernel(**kw)
            if started is not None:
                started.append(self)
            return result

    return QuietKernelManager


@contextlib.contextmanager
def _ctrl_c_stops_the_run(kernels: list, state: dict) -> Iterator[None]:
    """Ctrl-C interrupts the kernel's cell and raises KeyboardInterrupt here, at once.

    Without this handler, Python's asyncio may turn SIGINT into the cancellation
    of a task nbclient waits on; the run then went on (seen once: a 60 s cell
    finished and the runner exited 0).  Interrupting the kernel too means the
    cell stops even if the KeyboardInterrupt is swallowed on the way; the
    caller checks ``state["interrupted"]`` whatever papermill returns or raises.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        state["interrupted"] = True
        for km in kernels:
            pid = getattr(km.provisioner, "pid", None)
            if pid:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGINT)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_notebook(
    notebook: str | Path,
    data: str | Path | None = None,
    mapping: str | Path | None = None,
    members: str | Path | None = None,
    output: str | Path | None = None,
    parameters: Mapping | None = None,
    kernel_name: str = "python3",
    *,
    traffic: str | Path | None = None,
    errors: str = "raise",
    timeout_seconds: int | None = 1800,
    progress_bar: bool = False,
    verbose: bool = True,
    kernel_manager=None,
) -> Path:
    """Execute ``notebook`` with the user's data and return the executed copy's path.

    Parameters
    ----------
    notebook : path
        A notebook with a cell tagged ``parameters``.
    data, mapping, members : path, optional
        Injected as ``DATA_PATH``, ``MAPPING_PATH``, ``MEMBERS_PATH`` (absolute
        path strings, or ``None``).  The files must exist.
    output : path, optional
        Where to write the executed notebook; default
        ``runs/<notebook stem>-<YYYYmmdd-HHMMSS>.ipynb`` under the current
        directory.  Paths inside the repository's ``notebooks/``,
        ``exercises/``, ``datasets/`` or ``src/workbook/`` folders (or the
        installed package) are refused.  The notebook executes into
        :func:`partial_path` and is renamed to ``output`` when every cell ran.
    parameters : dict, optional
        Further parameters to inject (names as in the ``parameters`` cell;
        other names are refused).  Lists and dicts are injected as such.
    traffic : path, optional
        Door-counter export, injected as ``TRAFFIC_PATH`` (notebook 07); the
        notebook loads it with :func:`workbook.io.load_store_traffic`.
    errors : {"raise", "drop"}, default "raise"
        What to do with rows that fail the checks, as in
        :func:`workbook.io.load_workbook_data`; injected as the notebook's
        ``ERRORS`` parameter.  With ``"drop"`` the rejected rows are written to
        :func:`rejected_path` (pseudonymised) and summarised at the top of the
        executed notebook.
    kernel_name : str, default "python3"
    timeout_seconds : int, optional
        Per-cell time limit.
    progress_bar : bool, default False
    verbose : bool, default True
        Print the load summary (rows read, kept, rejected, walk-ins; reasons;
        cleaning notes) to stdout.
    kernel_manager : jupyter_client.KernelManager, optional
        A kernel already started by the caller, in the notebook's folder and
        with lenient claims (``WORKBOOK_STRICT_CLAIMS=0``), to run in instead of
        a fresh one; the caller clears it between runs and shuts it down.  The
        tests run many notebooks this way: starting a kernel and importing
        pandas, matplotlib, seaborn and SciPy costs about 5 s of CPU each time.

    Returns
    -------
    Path
        The executed notebook.

    Raises
    ------
    WorkbookInputError
        Missing notebook or data file, no ``parameters`` cell, a parameter the
        cell does not define, ``errors="drop"`` for a notebook without an
        ``ERRORS`` parameter, user data for a notebook that only runs on its
        own synthetic scenario, forbidden output path, rows with problems and
        ``errors="raise"`` (before any kernel starts), or an error in a
        notebook cell (the message names the cell and the error; the partly
        executed notebook is kept as :func:`partial_path`).
    KeyboardInterrupt
        After Ctrl-C, once the partial notebook is marked and saved.

    Examples
    --------
    >>> run_notebook("notebooks/03_maintenance.ipynb", data="my_export.csv",
    ...              mapping="my_map.yaml", errors="drop")  # doctest: +SKIP
    PosixPath('runs/03_maintenance-20240701-101500.ipynb')
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from workbook.validation import require_choice

    require_choice(errors, ["raise", "drop"], "errors")
    nb_path = Path(notebook).expanduser()
    if not nb_path.is_file():
        raise WorkbookInputError(f"Notebook {str(notebook)!r} does not exist.",
                                 message_zh=f"笔记本 {str(notebook)!r} 不存在。")
    if nb_path.suffix != ".ipynb":
        raise WorkbookInputError(f"{str(notebook)!r} is not a .ipynb notebook.",
                                 message_zh=f"{str(notebook)!r} 不是 .ipynb 笔记本。")
    params = {
        "DATA_PATH": _abs(data, "Data file", "数据文件"),
        "MAPPING_PATH": _abs(mapping, "Mapping file", "映射文件"),
        "MEMBERS_PATH": _abs(members, "Members file", "会员文件"),
        "TRAFFIC_PATH": _abs(traffic, "Traffic file", "客流文件"),
    }
    extra = dict(parameters or {})
    if "ERRORS" in extra:
        raise WorkbookInputError("Pass errors= (workbook run --errors raise|drop), not an ERRORS "
                                 "parameter: the runner needs to know the choice too.")
    params.update(extra)
    if output is None:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        output = DEFAULT_OUTPUT_DIR / f"{nb_path.stem}-{stamp}.ipynb"
        n = 1
        while output.exists() or partial_path(output).exists():
            output = DEFAULT_OUTPUT_DIR / f"{nb_path.stem}-{stamp}-{n}.ipynb"
            n += 1
    output = Path(output).expanduser()
    if output.suffix != ".ipynb":
        raise WorkbookInputError(f"output {str(output)!r} must end in .ipynb.",
                                 message_zh=f"输出文件 {str(output)!r} 必须以 .ipynb 结尾。")
    _check_output(output, nb_path)
    nb = _check_parameters_cell(nb_path)
    given = [k for k in ("DATA_PATH", "MAPPING_PATH", "MEMBERS_PATH") if params[k] is not None]
    refusal = _refuses_user_data(nb) if given else None
    if refusal:
        raise WorkbookInputError(
            f"{nb_path.name} cannot run on your data: it uses its own synthetic scenario "
            f"({refusal}). Run it without --data/--mapping/--members (leave DATA_PATH None); "
            "the teaching notebooks 00-08 take your export.",
            message_zh=f"{nb_path.name} 不能用你的数据运行：它只用自带的模拟场景。请去掉 --data/--mapping/"
                       "--members；教学笔记本 00-08 可以用你的导出文件。",
        )
    names = parameter_names(nb)
    if names is not None:
        unknown = [k for k, v in params.items() if k not in names
                   and (v is not None or k in extra)]
        if unknown:
            raise WorkbookInputError(
                f"{nb_path.name}'s parameters cell does not define {unknown}, so the value(s) "
                f"would not be used. Its parameters are {names}."
            )
        params = {k: v for k, v in params.items() if k in names}
    if names is not None and "ERRORS" in names:
        params["ERRORS"] = errors
    elif errors != "raise":
        raise WorkbookInputError(
            f"{nb_path.name} has no ERRORS parameter, so --errors {errors} could not reach its "
            "loader: its parameters cell needs ERRORS = \"raise\" and its load "
            "load_workbook_data(..., errors=ERRORS).",
            message_zh=f"{nb_path.name} 的参数单元格里没有 ERRORS，--errors {errors} 传不进去。",
        )
    ps = None
    if data is not None or members is not None:
        from workbook.privacy import Pseudonymiser

        ps = Pseudonymiser.from_env()  # before reading anything: no key, no run
    pre = _preload(data, mapping, members, traffic, errors, ps) if data is not None else None
    rejected_file = rejected_path(output) if pre is not None and errors == "drop" else None
    output.parent.mkdir(parents=True, exist_ok=True)
    if rejected_file is not None:
        # UTF-8 with BOM so Excel shows the Chinese reasons.
        pre.rejected.to_csv(rejected_file, index=False, encoding="utf-8-sig")
    if pre is not None and verbose:
        print(_summary_text(pre, rejected_file), flush=True)
    work = partial_path(output)
    work.unlink(missing_ok=True)  # a stale partial file from an earlier run
    redactor = pre.redactor if pre is not None else None

    def clean(text: str) -> str:
        from workbook.privacy import mask_contacts

        text = redactor.redact(text)[0] if redactor is not None else text
        return mask_contacts(text)[0]

    def stop(reason: str) -> None:
        n = _finish(work, "partial", reason, pre, rejected_file, errors)
        if n:
            _say(f"注意：已在笔记本输出中替换 {n} 处原始会员号或个人信息。\n"
                 f"Note: {n} raw member id(s) or personal value(s) were replaced in the outputs.")

    def interrupted() -> None:
        # The run is over: nbclient's orphaned asyncio tasks (a "Kernel died" reply wait)
        # must not print their traceback on the user's terminal when they are collected.
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
        stop("interrupted")
        _say(f"运行被中断 (Ctrl-C)：未完成的笔记本保存为 {str(work)!r}（名字带 partial，结果不能用）。\n"
             f"Interrupted (Ctrl-C): the partly executed notebook is kept as {str(work)!r}; "
             "do not use its numbers.")

    kernels: list = [] if kernel_manager is None else [kernel_manager]
    ctrl_c = {"interrupted": False}
    bounded_channel_waits()  # a reply that has arrived is read (workbook.kernel_wait)
    try:
        with _quiet_papermill_inspection(), _ctrl_c_stops_the_run(kernels, ctrl_c):
            pm.execute_notebook(
                str(nb_path), str(work), parameters=params, kernel_name=kernel_name,
                cwd=str(nb_path.resolve().parent), progress_bar=progress_bar,
                execution_timeout=timeout_seconds,
                **({"km": kernel_manager} if kernel_manager is not None
                   else {"kernel_manager_class": _user_run_kernel_manager(kernels)}),
            )
        if ctrl_c["interrupted"]:  # the KeyboardInterrupt was swallowed on its way out
            raise KeyboardInterrupt
    except PapermillExecutionError as exc:
        if ctrl_c["interrupted"]:  # the interrupted cell's own KeyboardInterrupt
            interrupted()
            raise KeyboardInterrupt from None
        stop("error")
        raise WorkbookInputError(
            f"{nb_path.name} failed in cell {exc.exec_count} with {exc.ename}: {clean(str(exc.evalue))}\n"
            f"The partly executed notebook is kept as {str(work)!r} (partial: do not use its numbers).",
            message_zh=f"{nb_path.name} 在第 {exc.exec_count} 个单元格出错，没有运行完。未完成的笔记本保存为 "
                       f"{str(work)!r}（名字带 partial，结果不能用）。",
        ) from None
    except KeyboardInterrupt:
        interrupted()
        raise
    except Exception as exc:  # kernel died, cell timeout, ...
        stop("error")
        raise WorkbookInputError(
            f"{nb_path.name} did not finish: {type(exc).__name__}: {clean(str(exc))}\n"
            f"The partly executed notebook is kept as {str(work)!r} (partial: do not use its numbers).",
            message_zh=f"{nb_path.name} 没有运行完。未完成的笔记本保存为 {str(work)!r}（名字带 partial，结果不能用）。",
        ) from None
    n = _finish(work, "complete", None, pre, rejected_file, errors)
    os.replace(work, output)
    if n:
        _say(f"注意：已在笔记本输出中替换 {n} 处原始会员号或个人信息。\n"
             f"Note: {n} raw member id(s) or personal value(s) were replaced in the outputs.")
    return output


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``workbook run`` arguments to ``parser``."""
    parser.add_argument("notebook", help="notebook to execute, e.g. notebooks/03_maintenance.ipynb")
    parser.add_argument("--data", help="your transactions export (.csv, .xlsx, .parquet)")
    parser.add_argument("--mapping", help="YAML column mapping (see docs/mapping_example.yaml)")
    parser.add_argument("--members", help="your members export (optional)")
    parser.add_argument("--traffic", help="door-counter export: store_id, date, visitors per "
                        "day (notebook 07; optional)")
    parser.add_argument("--errors", choices=("raise", "drop"), default="raise",
                        help="rows that fail the checks: 'raise' stops with a list of them "
                             "(default); 'drop' leaves them out and writes them, pseudonymised, "
                             "to <output>.rejected.csv")
    parser.add_argument("-o", "--output", help="executed notebook path (default runs/<name>-<time>.ipynb)")
    parser.add_argument(
        "-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"), default=[],
        help="extra parameter for the notebook (value parsed as YAML: 5, 0.1, true, text, "
             "[a, b] for a list)",
    )
    parser.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3)")


def run(args: argparse.Namespace) -> int:
    """Execute ``workbook run`` from parsed arguments; return the exit code.

    0 on success, 2 for bad input or a failed cell (message on stderr, Chinese
    first), 130 after Ctrl-C.
    """
    import yaml

    try:
        extra = {name: yaml.safe_load(value) for name, value in args.parameter}
        out = run_notebook(args.notebook, data=args.data, mapping=args.mapping,
                           members=args.members, output=args.output, parameters=extra,
                           kernel_name=args.kernel, traffic=getattr(args, "traffic", None),
                           errors=getattr(args, "errors", "raise"))
    except WorkbookInputError as exc:
        from workbook.console import error_message

        _say(error_message(exc))
        return 2
    except KeyboardInterrupt:
        _say("已中断 (interrupted).")
        return 130
    print(f"Executed notebook written to {out}")
    if args.data is not None:
        print("It contains results computed from your data: keep it out of git and share it "
              "only with people allowed to see that data.")
    return 0

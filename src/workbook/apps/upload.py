"""Upload of the user's own export in an app: column mapping, validation report, pseudonymisation.

Everything goes through :func:`workbook.io.load_workbook_data`, the notebooks' own entry
point, so the app shows exactly the messages of the Python API (``WorkbookInputError.bilingual()``)
and member ids are pseudonymised with the user's key as ``docs/privacy.md`` describes (no key:
the loader's message says how to make one).  The uploaded bytes are written to a private
temporary folder (mode 700) that only this app's kernel reads; the user's file is never changed.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from workbook.errors import WorkbookInputError
from workbook.io import DataQualityWarning, load_workbook_data, report_summary
from workbook.io.data import WorkbookData
from workbook.io.load import safe_names
from workbook.io.mapping import TABLES, norm_name, suggest_mapping
from workbook.io.report import CHECK_ZH
from workbook.io.read import read_raw
from workbook.labels import zh_label
from workbook.notebook import show_note

__all__ = ["ExportUpload"]

ACCEPT = ".csv,.txt,.tsv,.xlsx,.parquet"
NOT_USED = "—"
TABLE_ZH = {"transactions": "交易导出 (transactions)", "members": "会员表 (members)",
            "store_traffic": "客流计数 (store traffic)"}
REPORT_LABELS = {"check": "检查 (check)", "problem": "问题 (problem)", "column": "列 (column)", "count": "行数 (rows)",
                 "rows": "行号 (row numbers)", "example": "例子 (example)"}


class _TableInput:
    """One file: an upload button and a dropdown per canonical column."""

    def __init__(self, table: str, workdir: Path, optional: bool):
        import ipywidgets as widgets

        self.table, self.workdir, self.optional = table, workdir, optional
        self.path: Path | None = None
        canon, required = TABLES[table]
        self.required = required
        self.file = widgets.FileUpload(accept=ACCEPT, multiple=False,
                                       description="选择文件 (choose file)", layout={"width": "260px"})
        self.file.observe(self._uploaded, names="value")
        self.name = widgets.HTML(f"<b>{TABLE_ZH[table]}</b>" + ("（可选 optional）" if optional else ""))
        self.dropdowns = {c: widgets.Dropdown(options=[(NOT_USED, "")], value="",
                                              description=f"{zh_label(c)} ({c})" + (" *" if c in required else ""),
                                              style={"description_width": "190px"}, layout={"width": "440px"})
                          for c in canon}
        self.columns_box = widgets.VBox([])
        self.widget = widgets.VBox([widgets.HBox([self.name, self.file]), self.columns_box])
        self.error: WorkbookInputError | None = None

    def _uploaded(self, change) -> None:
        files = change["new"]
        if not files:
            return
        item = files[0]
        name = Path(str(item["name"])).name or "upload.csv"
        # one sub-folder per upload: a second file never overwrites the first one read
        target = Path(tempfile.mkdtemp(dir=self.workdir)) / name
        target.write_bytes(bytes(item["content"]))
        self.path = target
        self.error = None
        try:
            raw = read_raw(target, encoding=None, sep=None, sheet_name=0, header_row=1)
        except WorkbookInputError as exc:
            self.error = exc
            self.columns_box.children = []
            return
        columns = [str(c).strip() for c in raw.frame.columns]
        shown = safe_names(columns)  # a header that looks like a phone or e-mail is masked
        options = [(NOT_USED, "")] + list(zip(shown, columns, strict=True))
        suggested = {v: k for k, v in suggest_mapping(columns, self.table).items()}
        by_name = {norm_name(c): c for c in columns}
        for canon, dd in self.dropdowns.items():
            dd.options = options
            dd.value = suggested.get(canon) or by_name.get(norm_name(canon), "")
        self.columns_box.children = list(self.dropdowns.values())

    def mapping(self) -> dict:
        return {src: canon for canon, dd in self.dropdowns.items() if (src := dd.value)}


class ExportUpload:
    """Widgets to upload an export, map its columns, validate and load it.

    Parameters
    ----------
    on_data : callable
        Called with the loaded :class:`~workbook.io.WorkbookData` (pseudonymised).
    extra_tables : sequence of {"members", "store_traffic"}
        Optional second files (a members table, door-counter traffic).

    Attributes
    ----------
    widget : ipywidgets.Widget
        What the app displays.
    report : ipywidgets.Output
        The validation report (or the loader's error message).
    last_error : WorkbookInputError or None
        The last loader message shown.
    """

    def __init__(self, on_data: Callable[[WorkbookData], None], extra_tables=()):
        import ipywidgets as widgets

        self.on_data = on_data
        self._tmp = tempfile.TemporaryDirectory(prefix="workbook-app-")
        workdir = Path(self._tmp.name)
        workdir.chmod(0o700)
        self.inputs = {"transactions": _TableInput("transactions", workdir, optional=False)}
        for t in extra_tables:
            self.inputs[t] = _TableInput(t, workdir, optional=True)
        self.dayfirst = widgets.Dropdown(
            options=[("自动：只接受唯一的读法 (auto: only an unambiguous reading)", "auto"),
                     ("日在前 day first: 05/01/2024 = 1 月 5 日", "day"),
                     ("月在前 month first: 05/01/2024 = 5 月 1 日", "month")],
            value="auto", description="日期顺序 (date order)",
            style={"description_width": "190px"}, layout={"width": "560px"})
        self.errors = widgets.ToggleButtons(
            options=[("有问题就停下 (stop on problems)", "raise"), ("剔除坏行继续 (drop bad rows)", "drop")],
            value="raise", description="坏行 (bad rows)", style={"description_width": "190px"})
        self.load_button = widgets.Button(description="读入并校验 (load & validate)", button_style="primary",
                                          layout={"width": "260px"})
        self.load_button.on_click(lambda _: self.load())
        self.report = widgets.Output()
        self.report.add_class("workbook-upload-report")
        self.last_error: WorkbookInputError | None = None
        help_html = widgets.HTML(
            "<p style='margin:2px 0'>上传收银/CRM 导出（CSV、Excel、Parquet；UTF-8 或 GBK）。下面按列名猜了对应关系，"
            "请核对（* 为必填）；会员号会用你的密钥化名，见隐私说明 docs/privacy.md。"
            "<br>(Upload your export; check the suggested column mapping; member ids are pseudonymised "
            "with your key.)</p>")
        self.widget = widgets.VBox([help_html, *(i.widget for i in self.inputs.values()), self.dayfirst,
                                    self.errors, self.load_button, self.report])

    def mapping(self) -> dict:
        """The mapping the widgets say, in the sectioned form :func:`workbook.io.read_mapping` reads."""
        out = {}
        order = {"auto": None, "day": True, "month": False}[self.dayfirst.value]
        for table, inp in self.inputs.items():
            section = {"columns": inp.mapping()}
            if order is not None and table in ("transactions", "members", "store_traffic"):
                section["dayfirst"] = order
            out[table] = section
        return out

    def _show_error(self, exc: WorkbookInputError) -> None:
        self.last_error = exc
        show_note("你的文件没有读入 (your file was not loaded)", exc.bilingual(), kind="error")
        report = getattr(exc, "report", None)
        if isinstance(report, pd.DataFrame) and not report.empty:
            _display_report(report)

    def load(self) -> WorkbookData | None:
        """Validate and load the uploaded files; show the report; hand the data to ``on_data``."""
        from IPython.display import display

        self.report.clear_output(wait=True)
        with self.report:
            tx = self.inputs["transactions"]
            for inp in self.inputs.values():
                if inp.error is not None:
                    self._show_error(inp.error)
                    return None
            if tx.path is None:
                show_note("还没有选择文件 (no file chosen)", "请先点“选择文件”上传交易导出。\n"
                          "Choose your transactions export first.", kind="error")
                return None
            mapping = self.mapping()
            extra = {}
            if "members" in self.inputs and self.inputs["members"].path is not None:
                extra["members"] = self.inputs["members"].path
            if "store_traffic" in self.inputs and self.inputs["store_traffic"].path is not None:
                extra["traffic"] = self.inputs["store_traffic"].path
            try:
                with warnings.catch_warnings():  # the rows dropped are reported below, not as a warning
                    warnings.simplefilter("ignore", DataQualityWarning)
                    data = load_workbook_data(tx.path, mapping=mapping, errors=self.errors.value,
                                              pseudonymise=True, **extra)
            except WorkbookInputError as exc:
                self._show_error(exc)
                return None
            self.last_error = None
            lines = []
            for table, res in data.reports.items():
                counts = res.counts
                kept = counts.get("kept", len(res.data))
                lines.append(f"{TABLE_ZH.get(table, table)}：读入 {counts.get('rows_read', kept):,} 行，"
                             f"保留 {kept:,} 行，剔除 {counts.get('rejected', 0):,} 行")
            show_note("读入成功 (loaded)", "\n".join(lines) + "\n会员号已化名 (member ids pseudonymised)。"
                      "\n下面的结果已按你的数据重算 (the results below use your data).")
            for table, res in data.reports.items():
                if not res.report.empty:
                    display(_html(f"<b>{TABLE_ZH.get(table, table)} 校验报告 (validation report)</b>"))
                    _display_report(res.report)
        self.on_data(data)
        return data


def _html(text: str):
    from IPython.display import HTML

    return HTML(text)


def _display_report(report: pd.DataFrame) -> None:
    """The report summary (one line per check and column), with Chinese headers."""
    from IPython.display import display

    summary = report_summary(report)
    summary.insert(1, "problem", summary["check"].map(CHECK_ZH).fillna(summary["check"]))
    summary = summary.rename(columns=REPORT_LABELS)
    display(_html(summary.to_html(index=False, escape=True)))


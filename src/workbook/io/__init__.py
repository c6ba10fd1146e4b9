"""Loading store exports (POS / CRM) into the workbook's data contract.

An analyst's export rarely looks like the synthetic data: Chinese column names,
GBK encoding, ``¥1,234.50`` amounts, a title row above the header, a few
receipts exported twice.  This module turns such a file into the canonical
tidy frames described in ``CONTRIBUTING.md`` and reports every problem it finds;
it never drops a row silently.

The pipeline of :func:`load_transactions` and :func:`load_members`

1. **read** a CSV (encoding tried in the order UTF-8 with or without BOM, then
   GB18030, the superset of GBK/GB2312; UTF-16 with a BOM is recognised; the
   delimiter is sniffed among ``,`` ``;`` tab ``|``), an Excel ``.xlsx`` sheet or
   a Parquet file.  Every value is read as text so card numbers keep their
   leading zeros;
2. **map** the user's column names to canonical ones with a mapping (a dict or
   a YAML file, see :func:`read_mapping`); columns that are not mapped are left
   out (they may hold personal data) and listed in the cleaning notes;
3. **clean and convert**: ids to exact text (:mod:`workbook.ids`: full-width
   digits, ``.0`` of float exports and Excel text guards repaired; scientific
   notation and precision-lost ids refused; walk-in placeholders such as 散客
   read as "no member"), amounts without currency symbols, units and thousands
   separators, dates with an explicit format or the one format that reads the
   whole column (day/month order is never guessed; Excel serial numbers are
   understood), time zones, yes/no flags, tiers and channels from Chinese
   labels.  Every cleaning step is counted in the ``cleaning`` notes;
4. **validate** with a pandera schema plus checks relative to the data
   (duplicate ids, member ids missing from the members table or missing their
   leading zeros, timestamps after ``now`` or implausibly early, exact
   duplicate rows of files without receipt ids).  Problems form a *report*
   with one row per problem and columns ``check``, ``column``, ``row``,
   ``value``, ``reason``; ``value`` never holds a raw member id, name, phone or
   e-mail (masked, or pseudonymised when a pseudonymiser is given);
5. with ``errors="raise"`` (default) any problem raises
   :class:`DataValidationError` (a :class:`~workbook.errors.WorkbookInputError`)
   carrying the report; with ``errors="drop"`` the rows at fault are removed,
   a :class:`DataQualityWarning` says how many and why, and the full report is
   available with ``return_report=True`` (with the row accounting in
   :attr:`LoadResult.counts`).

Row numbers
-----------
``row`` in a report is the row number you see in Excel or a text editor: the
header is row ``header_row`` (default 1) and the first data row is
``header_row + 1``.  Blank lines count (they are skipped but numbered).  For
Parquet files the first record is row 1.  For frames passed to
:func:`validate_transactions` / :func:`validate_members`, ``row`` is the index
label.

Modules: :mod:`~workbook.io.read` (files to text tables),
:mod:`~workbook.io.mapping` (column mappings), :mod:`~workbook.io.convert`
(cleaning and typing), :mod:`~workbook.io.validate` (schema checks),
:mod:`~workbook.io.report` (problem reports), :mod:`~workbook.io.load` (the
loaders) and :mod:`~workbook.io.data` (:func:`load_workbook_data`, the notebooks'
entry point).  Member, store and card ids are normalised by :mod:`workbook.ids`.
"""

import importlib

from workbook.io.data import WorkbookData, load_workbook_data
from workbook.io.mapping import (KNOWN_ALIASES, MEMBER_COLUMNS, TRAFFIC_COLUMNS,
                                 TRANSACTION_COLUMNS, read_mapping, suggest_mapping)
from workbook.io.report import (REPORT_COLUMNS, DataQualityWarning, DataValidationError,
                                LoadResult, report_summary)

#: Imported on first use: they import pandera (about a second), which a notebook on the
#: default data set never needs.
_LAZY = {
    "load_contacts": "workbook.io.load",
    "load_members": "workbook.io.load",
    "load_store_traffic": "workbook.io.load",
    "load_surveys": "workbook.io.load",
    "load_transactions": "workbook.io.load",
    "validate_contacts": "workbook.io.validate",
    "validate_members": "workbook.io.validate",
    "validate_surveys": "workbook.io.validate",
    "validate_transactions": "workbook.io.validate",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'workbook.io' has no attribute {name!r}")

__all__ = [
    "TRANSACTION_COLUMNS",
    "KNOWN_ALIASES",
    "MEMBER_COLUMNS",
    "TRAFFIC_COLUMNS",
    "REPORT_COLUMNS",
    "DataValidationError",
    "DataQualityWarning",
    "LoadResult",
    "WorkbookData",
    "read_mapping",
    "suggest_mapping",
    "load_transactions",
    "load_members",
    "load_store_traffic",
    "load_surveys",
    "validate_surveys",
    "load_contacts",
    "validate_transactions",
    "validate_members",
    "validate_contacts",
    "report_summary",
    "load_workbook_data",
]

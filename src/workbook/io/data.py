"""The notebooks' entry point: the synthetic data set or the user's pseudonymised export."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from workbook.deprecation import renamed_arguments
from workbook.errors import WorkbookInputError
from workbook.io.mapping import is_sectioned
from workbook.io.report import LoadResult

@dataclass
class WorkbookData:
    """The data every notebook works on (see :func:`load_workbook_data`).

    ``stores``, ``campaigns`` and ``truth`` exist only for the synthetic data
    set and are ``None`` for user data; ``store_traffic`` is the synthetic
    traffic or the user's door-counter file (``None`` when not given).  ``reports`` maps table
    name to its :class:`LoadResult` for user data.
    """

    transactions: pd.DataFrame
    members: pd.DataFrame | None = None
    stores: pd.DataFrame | None = None
    store_traffic: pd.DataFrame | None = None
    campaigns: pd.DataFrame | None = None
    truth: pd.DataFrame | None = None
    source: str = "synthetic"
    pseudonymised: bool = False
    reports: dict[str, LoadResult] = field(default_factory=dict)
    # issue 15 (feedback): member surveys (synthetic, or the user's survey export) and the points rules
    surveys: pd.DataFrame | None = None
    points_rules: dict | None = None
    # engagement tables (issue 15): the synthetic ones, or the user's contact log (``contacts=``)
    contacts: pd.DataFrame | None = None
    contacts_truth: pd.DataFrame | None = None
    community: pd.DataFrame | None = None
    emotional_touches: pd.DataFrame | None = None
    community_truth: pd.DataFrame | None = None



@renamed_arguments(now="analysis_date")
def load_workbook_data(
    data: str | Path | None = None,
    mapping: Mapping | str | Path | None = None,
    members: str | Path | None = None,
    members_mapping: Mapping | str | Path | None = None,
    *,
    pseudonymise: bool | None = None,
    errors: str = "raise",
    analysis_date=None,
    directory: str | Path | None = None,
    traffic: str | Path | None = None,
    traffic_mapping: Mapping | str | Path | None = None,
    surveys: str | Path | None = None,
    surveys_mapping: Mapping | str | Path | None = None,
    contacts: str | Path | None = None,
    contacts_mapping: Mapping | str | Path | None = None,
):
    """The data for a notebook: the synthetic data set, or the user's export.

    Every notebook's ``parameters`` cell ends with
    ``data = load_workbook_data(DATA_PATH, MAPPING_PATH, MEMBERS_PATH)``.

    Parameters
    ----------
    data : path, optional
        The user's transactions export.  ``None``: the default synthetic data
        set (:func:`workbook.synth.load_dataset`).
    mapping : dict or path to YAML, optional
        Mapping for the transactions; a sectioned YAML (``transactions:``,
        ``members:``) also serves the members file.
    members : path, optional
        The user's members export; when given, transactions of unknown
        members are reported.
    members_mapping : dict or path to YAML, optional
        Mapping for the members file (default: the ``members:`` section of
        ``mapping``).
    pseudonymise : bool, optional
        Replace member ids by keyed hashes and mask names/phones/emails
        (:mod:`workbook.privacy`).  Default: ``True`` for user data (a key is
        required, see ``docs/privacy.md``), ``False`` for synthetic data.
    errors : {"raise", "drop"}
        As in :func:`load_transactions`.
    analysis_date : date-like, optional
        Reference time for the future-date checks.
    directory : path, optional
        Directory of the synthetic data set (default location otherwise).
    traffic : path, optional
        The user's door-counter export (:func:`load_store_traffic`); becomes
        ``.store_traffic``.  With synthetic data it replaces the generated
        traffic.
    traffic_mapping : dict or path to YAML, optional
        Mapping for the traffic file (default: the ``store_traffic:`` section
        of ``mapping``).
    surveys : path, optional
        The user's member-survey export (:func:`load_surveys`); becomes
        ``.surveys``.  With synthetic data it replaces the generated surveys.
    surveys_mapping : dict or path to YAML, optional
        Mapping for the surveys file (default: the ``surveys:`` section of
        ``mapping``).
    contacts : path, optional
        The user's contact-log export (:func:`workbook.io.load.load_contacts`);
        becomes ``.contacts`` (member ids checked against the members file
        when given).  With synthetic data it replaces the generated log.
    contacts_mapping : dict or path to YAML, optional
        Mapping for the contact log (default: the ``contacts:`` section of
        ``mapping``).

    Returns
    -------
    WorkbookData
        ``.transactions``, ``.members`` (``None`` if no members file),
        ``.store_traffic`` (synthetic, or the ``traffic`` file), and for
        synthetic data ``.stores``, ``.campaigns``, ``.truth`` and the
        engagement tables (``.contacts``, ``.community``, ...; ``None`` when
        the data set predates them).
    """
    # A sectioned mapping (transactions:, members:, store_traffic:, surveys:, contacts:) serves every file.
    sectioned = mapping if mapping is not None and is_sectioned(mapping) else None
    traffic_mapping = sectioned if traffic_mapping is None else traffic_mapping
    surveys_mapping = sectioned if surveys_mapping is None else surveys_mapping
    contacts_mapping = sectioned if contacts_mapping is None else contacts_mapping

    def _traffic():
        from workbook.io.load import load_store_traffic

        res = load_store_traffic(traffic, traffic_mapping, errors=errors, analysis_date=analysis_date,
                                 return_report=True)
        return res.data, res

    def _member_table(loader, path, table_mapping, known, ps=None):
        """A table of member events (surveys, contacts): ids checked against ``known``, then pseudonymised."""
        from workbook.io import load

        res = getattr(load, loader)(path, table_mapping, errors=errors, analysis_date=analysis_date,
                                    members=known, return_report=True, pseudonymiser=ps)
        frame = ps.pseudonymise_frame(res.data, pii_columns=()) if ps is not None else res.data
        return frame, res

    def _surveys(known, ps=None):
        return _member_table("load_surveys", surveys, surveys_mapping, known, ps)

    def _contacts(known, ps=None):
        return _member_table("load_contacts", contacts, contacts_mapping, known, ps)

    if data is None:
        if members is not None:
            raise WorkbookInputError(
                "members= was given without data=: pass your transactions export too.",
                message_zh="给了会员文件（members=）却没有给交易文件（data=）：请同时传入交易导出文件。")
        from workbook.synth import load_dataset

        ds = load_dataset(directory)
        out = WorkbookData(**{k: getattr(ds, k, None) for k in
                              ("transactions", "members", "stores", "store_traffic", "campaigns",
                               "truth")}, source="synthetic")
        if pseudonymise:
            from workbook.privacy import Pseudonymiser

            ps = Pseudonymiser.from_env()
            out.transactions = ps.pseudonymise_frame(out.transactions, pii_columns=())
            if out.members is not None:
                out.members = ps.pseudonymise_frame(out.members)
            out.pseudonymised = True
        for name in ("contacts", "contacts_truth", "community", "emotional_touches", "community_truth"):
            table = getattr(ds, name, None)
            if pseudonymise and table is not None and "member_id" in table.columns:
                table = ps.pseudonymise_frame(table, pii_columns=())  # still joins the pseudonymised members
            setattr(out, name, table)
        if traffic is not None:
            out.store_traffic, out.reports["store_traffic"] = _traffic()
            out.source = f"synthetic + {traffic}"
        out.surveys, out.points_rules = getattr(ds, "surveys", None), getattr(ds, "points_rules", None)
        syn_ps = ps if pseudonymise else None
        if surveys is not None:
            out.surveys, out.reports["surveys"] = _surveys(ds.members, syn_ps)
            out.source = f"{out.source} + {surveys}"
        elif syn_ps is not None and out.surveys is not None:
            out.surveys = syn_ps.pseudonymise_frame(out.surveys, pii_columns=())
        if contacts is not None:  # the user's log replaces the generated one (and its truth)
            out.contacts, out.reports["contacts"] = _contacts(ds.members["member_id"])
            out.contacts_truth = None
            out.source = f"{out.source} + {contacts}"
        return out
    # The loaders import pandera (about a second): only when a user's file is read, so a
    # notebook on the default data set does not wait for them.
    from workbook.io.load import load_members, load_transactions

    pseudonymise = True if pseudonymise is None else pseudonymise
    ps = None
    if pseudonymise:  # fail before reading anything if there is no key
        from workbook.privacy import Pseudonymiser

        ps = Pseudonymiser.from_env()
    reports = {}
    mem = None
    if members is not None:
        if members_mapping is None and mapping is not None and is_sectioned(mapping):
            members_mapping = mapping
        mres = load_members(members, members_mapping, errors=errors, analysis_date=analysis_date,
                            return_report=True, pseudonymiser=ps)
        mem, reports["members"] = mres.data, mres
    tres = load_transactions(data, mapping, errors=errors, analysis_date=analysis_date, members=mem,
                             return_report=True, pseudonymiser=ps)
    reports["transactions"] = tres
    tx = tres.data
    store_traffic = None
    if traffic is not None:
        store_traffic, reports["store_traffic"] = _traffic()
    survey_frame = None
    if surveys is not None:  # checked against the members file before its ids are pseudonymised
        survey_frame, reports["surveys"] = _surveys(mem, ps)
    contact_log = None
    if contacts is not None:  # member ids are checked before the members are pseudonymised
        contact_log, reports["contacts"] = _contacts(mem, ps)
    if ps is not None:
        tx = ps.pseudonymise_frame(tx, pii_columns=())
        if mem is not None:
            mem = ps.pseudonymise_frame(mem)
    return WorkbookData(transactions=tx, members=mem, store_traffic=store_traffic,
                        source=str(data), pseudonymised=bool(pseudonymise), reports=reports,
                        surveys=survey_frame, contacts=contact_log)

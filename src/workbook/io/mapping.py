"""Column mappings: canonical columns, the user's YAML or dict, suggestions."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from workbook.errors import WorkbookInputError
from workbook.validation import require_choice

#: Canonical transaction columns and their kind (how they are parsed).
TRANSACTION_COLUMNS: dict[str, str] = {
    "transaction_id": "id",
    "member_id": "id",
    "store_id": "id",
    "timestamp": "datetime",
    "amount": "float",
    "items": "int",
    "discount": "float",
    "points_earned": "int",
    "points_redeemed": "int",
    "channel": "channel",
    "is_return": "bool",
    "category": "text",  # product category (optional; issue 15)
}
TRANSACTION_REQUIRED = ("member_id", "timestamp", "amount")

#: Canonical member columns and their kind.
MEMBER_COLUMNS: dict[str, str] = {
    "member_id": "id",
    "name": "text",
    "phone": "text",
    "email": "text",
    "gender": "gender",
    "birth_date": "datetime",
    "join_date": "datetime",
    "acquisition_channel": "text",
    "home_store_id": "id",
    "tier": "tier",
}
MEMBER_REQUIRED = ("member_id",)

#: Canonical store-traffic (door counter) columns: one row per store and day.
TRAFFIC_COLUMNS: dict[str, str] = {
    "store_id": "id",
    "date": "datetime",
    "visitors": "int",
}
TRAFFIC_REQUIRED = ("store_id", "date", "visitors")

#: Canonical member-survey columns (issue 15): one row per answered survey.
SURVEY_COLUMNS: dict[str, str] = {
    "survey_id": "id",
    "member_id": "id",
    "store_id": "id",
    "answered_at": "datetime",
    "nps": "score",
    "satisfaction": "score",
    "complaint_tags": "tags",
}
SURVEY_REQUIRED = ("member_id", "answered_at", "nps")

TABLES = {
    "transactions": (TRANSACTION_COLUMNS, TRANSACTION_REQUIRED),
    "members": (MEMBER_COLUMNS, MEMBER_REQUIRED),
    "store_traffic": (TRAFFIC_COLUMNS, TRAFFIC_REQUIRED),
    "surveys": (SURVEY_COLUMNS, SURVEY_REQUIRED),
}

#: Columns of every problem report.

#: Column names often found in Chinese POS/CRM exports; used only for
#: suggestions (:func:`suggest_mapping`), never applied silently.
KNOWN_ALIASES: dict[str, tuple[str, ...]] = {
    "transaction_id": ("交易号", "交易编号", "订单号", "订单编号", "小票号", "流水号", "单号",
                       "单据号", "receipt_id", "order_id", "transaction_no"),
    "member_id": ("会员卡号", "会员号", "会员编号", "会员id", "卡号", "customer_id", "member_no",
                  "card_no", "vip_no"),
    "store_id": ("门店编码", "门店编号", "门店代码", "门店id", "店铺编码", "店号", "store_code",
                 "shop_id", "shop_code"),
    "timestamp": ("交易时间", "销售时间", "下单时间", "支付时间", "消费时间", "交易日期", "销售日期",
                  "datetime", "order_time", "sale_time"),
    "amount": ("实付金额", "实收金额", "支付金额", "销售金额", "消费金额", "金额", "paid_amount",
               "net_amount"),
    "items": ("件数", "商品数量", "数量", "销售数量", "quantity", "qty"),
    "discount": ("优惠金额", "折扣金额", "折扣", "discount_amount"),
    "points_earned": ("获得积分", "积分获得", "本次积分", "新增积分"),
    "points_redeemed": ("使用积分", "积分抵扣", "抵扣积分", "兑换积分"),
    "channel": ("渠道", "销售渠道", "交易渠道"),
    "is_return": ("是否退货", "退货标志", "退货", "交易类型"),
    "name": ("姓名", "会员姓名", "名字", "customer_name"),
    "phone": ("手机号", "手机", "电话", "联系电话", "手机号码", "mobile"),
    "email": ("邮箱", "电子邮箱", "电子邮件", "e-mail", "mail"),
    "gender": ("性别", "sex"),
    "birth_date": ("生日", "出生日期", "birthday", "dob"),
    "join_date": ("注册时间", "入会时间", "开卡时间", "注册日期", "入会日期", "开卡日期"),
    "acquisition_channel": ("注册渠道", "来源渠道", "入会渠道"),
    "home_store_id": ("所属门店", "开卡门店", "归属门店", "注册门店"),
    "tier": ("会员等级", "等级", "卡类型", "卡等级"),
    "date": ("日期", "营业日期", "统计日期", "day"),
    "visitors": ("客流", "客流量", "进店人数", "进店客流", "进店数", "traffic", "footfall"),
    "category": ("品类", "商品品类", "商品类别", "品类名称", "类别", "大类", "商品大类", "category_name",
                 "product_category"),
    "survey_id": ("问卷编号", "答卷编号", "问卷id", "答卷id", "response_id"),
    "answered_at": ("填写时间", "提交时间", "答卷时间", "评价时间", "submitted_at"),
    "nps": ("推荐意愿", "推荐分", "推荐度", "nps评分", "nps得分", "推荐指数"),
    "satisfaction": ("满意度", "满意度评分", "总体满意度", "satisfaction_score", "csat"),
    "complaint_tags": ("投诉标签", "投诉类型", "问题标签", "不满意原因", "complaints"),
}

# --- contact log (issue 15: omnichannel contacts, workbook.contacts) ---
#: Canonical contact-log columns: one row per message sent to a member.
CONTACT_COLUMNS: dict[str, str] = {
    "member_id": "id",
    "sent_at": "datetime",
    "channel": "contact_channel",
    "campaign_id": "id",
    "campaign_kind": "text",
    "holdout": "contact_flag",
    "delivered": "contact_flag",
    "opened": "contact_flag",
    "visited": "contact_flag",
    "unsubscribed": "contact_flag",
}
CONTACT_REQUIRED = ("member_id", "sent_at", "channel")
TABLES["contacts"] = (CONTACT_COLUMNS, CONTACT_REQUIRED)
KNOWN_ALIASES["channel"] += ("触达渠道", "发送渠道", "推送渠道")
KNOWN_ALIASES.update({
    "sent_at": ("发送时间", "推送时间", "触达时间", "发送日期", "send_time", "push_time"),
    "campaign_id": ("活动编号", "活动id", "活动代码", "任务编号", "任务id", "营销活动", "campaign"),
    "campaign_kind": ("活动类型", "内容类型", "任务类型"),
    "holdout": ("对照组", "是否对照组", "留出组", "控制组", "control_group"),
    "delivered": ("是否送达", "送达", "送达状态", "发送状态"),
    "opened": ("是否打开", "是否阅读", "打开", "已读", "阅读状态", "是否点击"),
    "visited": ("是否到店", "到店", "7天内到店", "到店状态"),
    "unsubscribed": ("是否退订", "退订", "取消关注"),
})

_OPTION_KEYS = ("date_format", "dayfirst", "timezone", "header_row", "sheet_name", "sep",
                "encoding", "walk_in_values", "duplicates")
DUPLICATE_CHOICES = ("keep", "drop", "raise")


def norm_name(name: object) -> str:
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", str(name))).lower()


def _read_mapping_file(path: Path) -> Any:
    import yaml

    if not path.exists():
        raise WorkbookInputError(f"Mapping file {str(path)!r} does not exist.",
                                 message_zh=f"映射文件 {str(path)!r} 不存在。")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_text(encoding="gb18030")
    try:
        return yaml.load(text, Loader=_unique_key_loader())  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        raise WorkbookInputError(
            f"Mapping file {str(path)!r} is not valid YAML: {exc}",
            message_zh=f"映射文件 {str(path)!r} 不是有效的 YAML：{exc}") from exc


def _unique_key_loader():
    """A SafeLoader that refuses a key written twice (PyYAML silently keeps the last)."""
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            seen = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                line = key_node.start_mark.line + 1
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None,
                        f"key {key!r} appears twice (lines {seen[key]} and {line}); YAML would "
                        f"silently keep the last one. Keep one. / 键 {key!r} 写了两次（第 "
                        f"{seen[key]} 行和第 {line} 行），请只保留一个", key_node.start_mark)
                seen[key] = line
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader


def _raw_mapping(mapping):
    if isinstance(mapping, (str, Path)):
        return _read_mapping_file(Path(mapping).expanduser())
    return mapping


def is_sectioned(mapping) -> bool:
    m = _raw_mapping(mapping)
    return isinstance(m, Mapping) and bool(m) and set(m) <= set(TABLES)


def read_mapping(mapping: Mapping | str | Path | None, table: str = "transactions") -> dict:
    """Read a column mapping (and optional reading options) for one table.

    Parameters
    ----------
    mapping : dict, path to a YAML file, or None
        Either a flat ``{source column: canonical name}`` dict, or a dict with
        sections ``transactions:`` and/or ``members:``.  A section is either a
        flat mapping or has a ``columns:`` mapping plus reading options:
        ``date_format`` (a ``strftime`` format, or ``excel`` / ``excel1904`` for
        Excel serial day numbers), ``dayfirst`` (true/false: how to read
        ``05/01/2025``), ``timezone``, ``header_row``, ``sheet_name``, ``sep``,
        ``encoding``, ``walk_in_values`` (a list of member-id placeholders of
        walk-in sales; default :data:`workbook.ids.WALK_IN_VALUES`) and
        ``duplicates`` (``keep``/``drop``/``raise``: exact duplicate rows of a
        file without a receipt id).  A flat mapping applies to whichever table
        is loaded.  A column name that appears twice in the file is chosen by
        position: ``金额#1`` is the first column named 金额, ``金额#2`` the second.
        A key written twice in a YAML file is refused.
    table : {"transactions", "members", "store_traffic", "surveys", "contacts"}
        Which section to return.

    Returns
    -------
    dict
        ``{"columns": {source: canonical}, <option>: value, ...}``.

    Raises
    ------
    WorkbookInputError
        Unknown canonical names (the message lists the valid ones), two source
        columns mapped to the same name, unknown options or sections (with a
        "did you mean"), a key written twice, unreadable YAML.

    Examples
    --------
    >>> read_mapping({"会员卡号": "member_id", "实付金额": "amount"})
    {'columns': {'会员卡号': 'member_id', '实付金额': 'amount'}}
    >>> read_mapping({"members": {"columns": {"卡号": "member_id"}}}, table="members")
    {'columns': {'卡号': 'member_id'}}
    """
    require_choice(table, list(TABLES), "table")
    if mapping is None:
        return {"columns": {}}
    source = "mapping"
    if isinstance(mapping, (str, Path)):
        source = f"mapping file {str(mapping)!r}"
    mapping = _raw_mapping(mapping)
    if mapping is None:
        return {"columns": {}}
    if not isinstance(mapping, Mapping):
        raise WorkbookInputError(
            f"The {source} must be a dict of column names, got {type(mapping).__name__}.",
            message_zh=f"{source} 必须是「原列名: 标准列名」的字典，现在是 {type(mapping).__name__}。"
        )
    _check_sections(mapping, source)
    if mapping and set(mapping) <= set(TABLES):
        section = mapping.get(table) or {}
        where = f"section {table!r} of the {source}"
    else:
        section, where = mapping, f"the {source}"
    if not isinstance(section, Mapping):
        raise WorkbookInputError(f"{where} must be a dict, got {type(section).__name__}.",
                                 message_zh=f"{where} 必须是字典，现在是 {type(section).__name__}。")
    if "columns" in section and isinstance(section["columns"], Mapping):
        options = {k: v for k, v in section.items() if k != "columns"}
        columns = dict(section["columns"])
        unknown_opts = sorted(map(str, set(options) - set(_OPTION_KEYS)))
        if unknown_opts:
            close = {o: m[0] for o in unknown_opts
                     if (m := difflib.get_close_matches(o, _OPTION_KEYS, n=1))}
            hint = f" Did you mean {close}?" if close else ""
            raise WorkbookInputError(
                f"Unknown option(s) {unknown_opts} in {where}; valid options are "
                f"{list(_OPTION_KEYS)}.{hint}",
                message_zh=f"{where} 中有未知选项 {unknown_opts}；可用选项为 {list(_OPTION_KEYS)}。"
                           + (f"是否想写 {close}？" if close else ""))
        _check_options(options, where)
    else:
        options, columns = {}, dict(section)
    valid = list(TABLES[table][0])
    columns = {str(k): v for k, v in columns.items()}
    bad = {k: v for k, v in columns.items() if v not in valid}
    if bad:
        first = next(iter(bad.items()))
        raise WorkbookInputError(
            f"{where} maps {first[0]!r} to {first[1]!r}, which is not a {table} column "
            f"({len(bad)} unknown target(s): {sorted(map(str, bad.values()))}). Valid "
            f"canonical names are {valid}.",
            message_zh=f"{where} 把 {first[0]!r} 映射为 {first[1]!r}，但它不是 {table} 的标准列名；"
                       f"可用的标准列名为 {valid}。"
        )
    targets = pd.Series(list(columns.values()), index=list(columns.keys()))
    dup = targets[targets.duplicated(keep=False)]
    if len(dup):
        name = dup.iloc[0]
        raise WorkbookInputError(
            f"{where} maps several columns to {name!r}: {list(dup[dup == name].index)}. "
            "Each canonical column can come from one source column only.",
            message_zh=f"{where} 把多列映射成了 {name!r}：{list(dup[dup == name].index)}；每个标准列只能来自一列。"
        )
    return {"columns": columns, **options}


def _check_sections(mapping, source) -> None:
    """A section name with a typo (``transaction:``) must not be read as a column name."""
    nested = [k for k, v in mapping.items() if isinstance(v, Mapping)]
    for key in nested:
        if key in TABLES or key == "columns":
            continue
        close = difflib.get_close_matches(str(key), list(TABLES), n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise WorkbookInputError(
            f"The {source} has a section {key!r}, which is not a table name; sections are "
            f"{list(TABLES)}.{hint}",
            message_zh=f"{source} 中的 {key!r} 不是表名；可用的表名为 {list(TABLES)}。"
                       + (f"是否想写 {close[0]!r}？" if close else ""))
    sections = [k for k in mapping if k in TABLES]
    if sections and len(sections) < len(mapping):
        others = [k for k in mapping if k not in TABLES][:5]
        raise WorkbookInputError(
            f"The {source} mixes sections {sections} with top-level entries {others}; put every "
            "column under its section.",
            message_zh=f"{source} 中同时有表名 {sections} 和顶层条目 {others}；请把每一列写在对应的表名下面。")


def _check_options(options: dict, where: str) -> None:
    if "dayfirst" in options and not isinstance(options["dayfirst"], bool):
        raise WorkbookInputError(
            f"dayfirst in {where} must be true or false, got {options['dayfirst']!r}.",
            message_zh=f"{where} 中的 dayfirst 只能是 true 或 false，现在是 {options['dayfirst']!r}。")
    if "duplicates" in options and options["duplicates"] not in DUPLICATE_CHOICES:
        raise WorkbookInputError(
            f"duplicates in {where} must be one of {list(DUPLICATE_CHOICES)}, got "
            f"{options['duplicates']!r}.",
            message_zh=f"{where} 中的 duplicates 只能是 {list(DUPLICATE_CHOICES)} 之一。")
    walk = options.get("walk_in_values")
    if walk is not None and (isinstance(walk, (str, bytes)) or not hasattr(walk, "__iter__")):
        raise WorkbookInputError(
            f"walk_in_values in {where} must be a list, e.g. [散客, 非会员, '0'], got {walk!r}.",
            message_zh=f"{where} 中的 walk_in_values 必须是列表，例如 [散客, 非会员, '0']。")


def suggest_mapping(columns, table: str = "transactions") -> dict[str, str]:
    """Suggest a mapping from known export column names (a starting point to check).

    Parameters
    ----------
    columns : iterable of str, or DataFrame
        The column names of an export.
    table : {"transactions", "members"}

    Returns
    -------
    dict
        ``{source column: canonical name}`` for recognised names only.

    Examples
    --------
    >>> suggest_mapping(["会员卡号", "交易时间", "实付金额", "收银员"])
    {'会员卡号': 'member_id', '交易时间': 'timestamp', '实付金额': 'amount'}
    """
    require_choice(table, list(TABLES), "table")
    if isinstance(columns, pd.DataFrame):
        columns = columns.columns
    canon = TABLES[table][0]
    lookup = {norm_name(c): c for c in canon}
    for target, aliases in KNOWN_ALIASES.items():
        if target in canon:
            lookup.update({norm_name(a): target for a in aliases})
    out: dict[str, str] = {}
    for col in columns:
        target = lookup.get(norm_name(col))
        if target is not None and target not in out.values() and target != col:
            out[str(col)] = target
    return out


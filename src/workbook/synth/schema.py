"""The one column-spec table of the synthetic data set.

:data:`COLUMNS` drives the dtype checks (:func:`require_schema`), the dtype
restoration when loading (:func:`coerce_frame`) and the data dictionary
written to ``datasets/README.md`` (:func:`data_dictionary_markdown`), so the
documentation and the code cannot disagree.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from workbook.errors import WorkbookInputError


class Column(NamedTuple):
    """One column: table, name, dtype (pandas), unit, nullable, meaning."""

    table: str
    name: str
    dtype: str
    unit: str
    nullable: bool
    meaning: str


TABLES = ("members", "transactions", "stores", "store_traffic", "campaigns", "truth")
# product categories (issue 15): the true category preferences, one row per member and category
TABLES += ("category_preferences",)

TABLE_DESCRIPTIONS = {
    "members": "One row per registered member (some never buy).",
    "transactions": "One row per receipt: member purchases, returns, non-member walk-in sales "
    "(and for the gym preset, visits and monthly fees).  Sorted by timestamp.",
    "stores": "One row per physical store (club for the gym preset).",
    "store_traffic": "Door counter: visitors per store and calendar day (conversion = receipts / visitors).",
    "campaigns": "Marketing calendar: holiday promotions, reactivation campaigns, programme launches, experiments.",
    "truth": "Ground truth of the generator, one row per member: the latent parameters an analyst tries to estimate. "
    "Not available in real data.",
    "category_preferences": "Ground truth of the product categories: each member's true probability of buying in "
    "each category (see workbook.synth.categories).  Not available in real data.",
}

_T = "datetime64[us]"

COLUMNS: tuple[Column, ...] = (
    # members
    Column("members", "member_id", "str", "", False, "Member identifier, e.g. M0000001."),
    Column("members", "name", "str", "", False, "Full name (Faker, fictitious)."),
    Column("members", "phone", "str", "", False, "Mobile phone number (fictitious)."),
    Column("members", "email", "str", "", False, "E-mail address (fictitious)."),
    Column("members", "gender", "str", "", False, "'F' or 'M'."),
    Column("members", "birth_date", _T, "date", False, "Date of birth."),
    Column("members", "join_date", _T, "timestamp", False, "Registration time; before the first purchase."),
    Column("members", "acquisition_channel", "str", "", False,
           "store_walk_in, wechat_mini_program, app, ecommerce, referral or offline_event."),
    Column("members", "home_store_id", "str", "", False, "Store the member registered with (stores.store_id)."),
    Column("members", "tier", "str", "", False,
           "Tier at the end of the period from trailing 12-month net spend: member, silver, gold, platinum "
           "(普通/银卡/金卡/白金卡)."),
    # transactions
    Column("transactions", "transaction_id", "str", "", False, "Receipt identifier in time order, e.g. T000000001."),
    Column("transactions", "member_id", "str", "", True, "Member (members.member_id); missing for non-member walk-in sales."),
    Column("transactions", "store_id", "str", "", False,
           "Store (stores.store_id); online orders are attributed to the member's home store (fulfilment)."),
    Column("transactions", "timestamp", _T, "local time", False, "Time of the receipt, no time zone."),
    Column("transactions", "amount", "float64", "CNY", False,
           "Amount actually paid after discounts; negative for returns; 0 for gym visits."),
    Column("transactions", "items", "int64", "items", False, "Number of items (negative for returns, 0 for gym visits)."),
    Column("transactions", "discount", "float64", "CNY", False,
           "Discount granted: promotion plus redeemed points (100 points = 1 CNY)."),
    Column("transactions", "points_earned", "int64", "points", False,
           "Points earned (negative clawback on returns)."),
    Column("transactions", "points_redeemed", "int64", "points", False, "Points redeemed."),
    Column("transactions", "channel", "str", "", False, "'offline' or 'online'."),
    Column("transactions", "is_return", "bool", "", False, "True for a return of an earlier purchase."),
    Column("transactions", "kind", "str", "", False,
           "'purchase' (retail, e-commerce), 'visit' or 'fee' (gym: check-ins and monthly fees)."),
    Column("transactions", "category", "str", "", True,
           "Product category (retail: fresh, grain_oil, dairy, snacks, drinks, personal_care, home, baby; gym: "
           "group_class, personal_training, gym_floor, swimming, yoga); a return keeps its purchase's category; "
           "missing for gym fees."),
    # stores
    Column("stores", "store_id", "str", "", False, "Store identifier, e.g. S01."),
    Column("stores", "city", "str", "", False, "City."),
    Column("stores", "size", "str", "", False, "'small', 'medium' or 'large'."),
    Column("stores", "points_programme", "bool", "", False,
           "True if the store is in the points programme (retail_chain case study)."),
    # store_traffic
    Column("store_traffic", "store_id", "str", "", False, "Store (stores.store_id)."),
    Column("store_traffic", "date", _T, "date", False, "Calendar day."),
    Column("store_traffic", "visitors", "int64", "people", False,
           "Door count: visitors entering the store that day (>= offline receipts)."),
    # campaigns
    Column("campaigns", "campaign_id", "str", "", False, "Campaign identifier, e.g. C001."),
    Column("campaigns", "kind", "str", "", False,
           "holiday_promo, reactivation, points_programme or experiment."),
    Column("campaigns", "name", "str", "", False, "Human-readable name, e.g. double_11_2024."),
    Column("campaigns", "start", _T, "date", False, "First day (included)."),
    Column("campaigns", "end", _T, "date", False, "Last day (included)."),
    Column("campaigns", "target_segment", "str", "", False,
           "all, churned, programme_stores or randomised_new_members."),
    # truth
    Column("truth", "member_id", "str", "", False, "Member (members.member_id)."),
    Column("truth", "purchase_rate_per_day", "float64", "1/day", False,
           "Latent purchase rate lambda while alive (average over the calendar; includes the store multiplier, "
           "excludes planted effects)."),
    Column("truth", "dropout_prob", "float64", "probability", False,
           "Latent probability of dropping out after each repeat purchase (after any treatment effect)."),
    Column("truth", "spend_mean", "float64", "CNY", False,
           "Latent mean amount per purchase (Gamma-Gamma: gg_p / nu); the monthly fee for the gym."),
    Column("truth", "first_purchase_lag_days", "float64", "days", True,
           "Delay from registration to first purchase; missing for members who never buy."),
    Column("truth", "first_purchase", _T, "timestamp", True,
           "Time of the first purchase; missing if never or after the period."),
    Column("truth", "churn_time", _T, "timestamp", True,
           "Time of the purchase after which the member dropped out for good (no transaction after it); "
           "missing if alive at the end or never started."),
    Column("truth", "alive_at_end", "bool", "", False,
           "Made a first purchase and had not dropped out at the end of the period."),
    Column("truth", "reactivated_at", _T, "timestamp", True,
           "First purchase of the last new life started by a reactivation campaign; missing if never reactivated."),
    Column("truth", "n_purchases", "int64", "purchases", False,
           "Purchases (non-return transactions) generated in the period, first purchase included."),
    Column("truth", "points_programme", "bool", "", False, "Home store is in the points programme."),
    Column("truth", "retention_treated", "bool", "", False,
           "Randomly assigned to the retention treatment (recommendations / coach follow-up)."),
    # category_preferences (issue 15)
    Column("category_preferences", "member_id", "str", "", False, "Member (members.member_id)."),
    Column("category_preferences", "category", "str", "", False, "Category code (as transactions.category)."),
    Column("category_preferences", "preference", "float64", "probability", False,
           "True probability that a purchase (gym: visit) of the member falls in this category "
           "(Dirichlet around the member's hidden shopper type; sums to 1 per member, rounded to 4 decimals)."),
)


#: Chinese table descriptions (shown first in notebooks and ``datasets/README.md``).
TABLE_DESCRIPTIONS_ZH = {
    "members": "会员表：每位注册会员一行（有些会员从未购买）。",
    "transactions": "交易表：每张小票一行——会员购买、退货、非会员散客的销售（健身房场景还有到店签到和月费）。按时间排序。",
    "stores": "门店表：每家实体门店一行（健身房场景为每家俱乐部）。",
    "store_traffic": "客流表：门口计数器每店每天数到的进店人次（转化率 = 小票数 / 进店人次）。",
    "campaigns": "活动日历：节日促销、唤醒活动、积分计划上线、实验。",
    "truth": "生成器的\"真实答案\"，每位会员一行：分析师想要估计的隐藏参数。真实数据里没有这张表。",
    "category_preferences": "品类偏好的\"真实答案\"：每位会员在每个品类购买的真实概率（推荐的上限）。真实数据里没有这张表。",
}

#: Chinese meaning of every column, keyed by (table, column); same order as COLUMNS.
MEANINGS_ZH = {
    ("members", "member_id"): "会员号，例如 M0000001。",
    ("members", "name"): "姓名（虚构）。",
    ("members", "phone"): "手机号（虚构）。",
    ("members", "email"): "电子邮箱（虚构）。",
    ("members", "gender"): "性别：'F' 女 / 'M' 男。",
    ("members", "birth_date"): "出生日期。",
    ("members", "join_date"): "注册时间，早于第一次购买。",
    ("members", "acquisition_channel"): "注册渠道：store_walk_in 门店现场、wechat_mini_program 微信小程序、app、"
    "ecommerce 电商平台、referral 老带新、offline_event 线下活动。",
    ("members", "home_store_id"): "注册所在门店（对应门店表 store_id）。",
    ("members", "tier"): "期末会员等级，按近 12 个月净消费：member 普通 / silver 银卡 / gold 金卡 / platinum 白金卡。",
    ("transactions", "transaction_id"): "小票号，按时间顺序，例如 T000000001。",
    ("transactions", "member_id"): "会员号（对应会员表）；非会员散客为空。",
    ("transactions", "store_id"): "门店（对应门店表）；线上订单记在会员的所属门店（履约门店）。",
    ("transactions", "timestamp"): "交易时间，本地时间，不带时区。",
    ("transactions", "amount"): "折后实付金额（元）；退货为负数；健身房签到为 0。",
    ("transactions", "items"): "件数（退货为负数，健身房签到为 0）。",
    ("transactions", "discount"): "优惠金额（元）：促销加积分抵扣（100 积分 = 1 元）。",
    ("transactions", "points_earned"): "获得积分（退货时扣回为负数）。",
    ("transactions", "points_redeemed"): "使用积分。",
    ("transactions", "channel"): "渠道：'offline' 线下 / 'online' 线上。",
    ("transactions", "is_return"): "是否退货：True 表示退回以前买的商品。",
    ("transactions", "kind"): "类型：'purchase' 购买（零售、电商）；健身房为 'visit' 签到、'fee' 月费。",
    ("transactions", "category"): "商品品类：fresh 生鲜、grain_oil 粮油、dairy 乳品、snacks 零食、drinks 饮料、"
    "personal_care 个护、home 家居、baby 母婴（健身房：group_class 团课、personal_training 私教、gym_floor 器械、"
    "swimming 游泳、yoga 瑜伽）；退货沿用原购买的品类；健身房月费为空。",
    ("stores", "store_id"): "门店编号，例如 S01。",
    ("stores", "city"): "城市。",
    ("stores", "size"): "门店规模：'small' 小 / 'medium' 中 / 'large' 大。",
    ("stores", "points_programme"): "是否参加积分计划（零售连锁案例）。",
    ("store_traffic", "store_id"): "门店（对应门店表）。",
    ("store_traffic", "date"): "日期。",
    ("store_traffic", "visitors"): "当天进店人次（门口计数器，不少于线下小票数）。",
    ("campaigns", "campaign_id"): "活动编号，例如 C001。",
    ("campaigns", "kind"): "活动类型：holiday_promo 节日促销、reactivation 唤醒、points_programme 积分计划、experiment 实验。",
    ("campaigns", "name"): "活动名称，例如 double_11_2024。",
    ("campaigns", "start"): "第一天（含）。",
    ("campaigns", "end"): "最后一天（含）。",
    ("campaigns", "target_segment"): "活动对象：all 全部、churned 已流失、programme_stores 积分门店、"
    "randomised_new_members 随机分组的新会员。",
    ("truth", "member_id"): "会员号（对应会员表）。",
    ("truth", "purchase_rate_per_day"): "隐藏的每日购买率 λ（会员存活期间，全年平均；含门店系数，不含植入的效果）。",
    ("truth", "dropout_prob"): "隐藏的每次复购后永久离开的概率（已含处理效果）。",
    ("truth", "spend_mean"): "隐藏的每次消费平均金额（Gamma-Gamma：gg_p / nu）；健身房为月费。",
    ("truth", "first_purchase_lag_days"): "注册到首购的天数；从未购买为空。",
    ("truth", "first_purchase"): "首购时间；从未购买或在期间之后为空。",
    ("truth", "churn_time"): "永久离开前最后一次购买的时间（之后再无交易）；期末仍存活或从未开始为空。",
    ("truth", "alive_at_end"): "已首购且期末尚未离开。",
    ("truth", "reactivated_at"): "被唤醒活动开始的最后一段\"新生命\"的第一次购买；从未被唤醒为空。",
    ("truth", "n_purchases"): "期间内的购买次数（不含退货，含首购）。",
    ("truth", "points_programme"): "所属门店参加了积分计划。",
    ("truth", "retention_treated"): "被随机分到挽留处理组（推荐 / 教练回访）。",
    ("category_preferences", "member_id"): "会员号（对应会员表）。",
    ("category_preferences", "category"): "品类代码（同交易表 category）。",
    ("category_preferences", "preference"): "该会员一次购买（健身房：一次到店）落在这个品类的真实概率"
    "（围绕隐藏购物类型的 Dirichlet 分布；每位会员合计为 1，保留 4 位小数）。",
}

# --- engagement tables of issue 15: contacts and community (workbook.synth.contacts / .community) ---
#: Tables written by :mod:`workbook.synth.contacts` and :mod:`workbook.synth.community`; optional when loading
#: (data sets saved before they existed load without them).
CONTACT_TABLES = ("contacts", "contacts_truth", "community", "emotional_touches", "community_truth")
_TRUTH_COLUMNS = (("parameter", "str", "", "Name of the true quantity (see datasets/README.md)."),
                  ("key", "str", "", "What it applies to: a channel, campaign, touch kind or 'all'."),
                  ("value", "float64", "", "Its true value (probabilities, log-odds, counts or CNY); missing when "
                  "nothing it averages over was generated."))
COLUMNS += (
    Column("contacts", "member_id", "str", "", False, "Member (members.member_id)."),
    Column("contacts", "sent_at", _T, "local time", False, "Time the message was sent (or would have been, for holdout rows)."),
    Column("contacts", "channel", "str", "", False, "wechat_official_account, app_push, sms or wecom_group."),
    Column("contacts", "campaign_id", "str", "", False, "Contact campaign, e.g. CT001 (routine) or IV01 (online invitation)."),
    Column("contacts", "campaign_kind", "str", "", False, "routine, short_video or social_post (online invitations)."),
    Column("contacts", "holdout", "bool", "", False,
           "Randomly held out of an online invitation: not sent (delivered/opened False), visits still recorded."),
    Column("contacts", "delivered", "bool", "", False, "The message reached the member."),
    Column("contacts", "opened", "bool", "", False, "Opened / read (for SMS: clicked the link)."),
    Column("contacts", "visited", "bool", "", False, "Visited a store within 7 days of sent_at."),
    Column("contacts", "unsubscribed", "bool", "", False, "Unsubscribed from this channel after this message."),
    *(Column("contacts_truth", n, d, u, n == "value", m) for n, d, u, m in _TRUTH_COLUMNS),
    Column("community", "member_id", "str", "", False, "Member (members.member_id); members registered before the launch."),
    Column("community", "joined_at", _T, "local time", True, "Time the member joined the WeChat community; missing if never."),
    Column("community", "purchases_after", "int64", "purchases", False,
           "Purchases in the outcome window: POS receipts plus community group orders."),
    Column("community", "spend_after", "float64", "CNY", False,
           "Net spend in the outcome window: POS receipts plus community group orders."),
    Column("emotional_touches", "member_id", "str", "", False, "Member (members.member_id)."),
    Column("emotional_touches", "sent_at", _T, "date", False, "Day of the touch (birthday, join anniversary, event invitation)."),
    Column("emotional_touches", "kind", "str", "", False, "birthday, join_anniversary or exclusive_event."),
    Column("emotional_touches", "holdout", "bool", "", False, "Randomly held out (no offer sent); visits still recorded."),
    Column("emotional_touches", "visited", "bool", "", False, "Visited a store within 14 days."),
    *(Column("community_truth", n, d, u, n == "value", m) for n, d, u, m in _TRUTH_COLUMNS),
)
TABLES += CONTACT_TABLES
TABLE_DESCRIPTIONS.update({
    "contacts": "Contact log: one row per message sent to a member (omnichannel), plus the randomised holdout "
    "rows of the online invitations.",
    "contacts_truth": "Ground truth of the contact log: the response model (per channel), fatigue and the true "
    "invitation lifts.  Not available in real data.",
    "community": "Private-domain community (WeChat groups): one row per member registered before the launch, "
    "with the join time and the outcome-window purchases and spend.",
    "emotional_touches": "Emotional-marketing touches (birthday and join-anniversary offers, exclusive-event "
    "invitations) with a randomised holdout.",
    "community_truth": "Ground truth of the community and the emotional touches: the true causal effects and the "
    "self-selection model.  Not available in real data.",
})
TABLE_DESCRIPTIONS_ZH.update({
    "contacts": "触达记录（全渠道互动）：每条发给会员的消息一行；线上邀约还有随机留出的对照组行。",
    "contacts_truth": "触达记录的\"真实答案\"：各渠道的响应模型、触达疲劳和线上邀约的真实提升。真实数据里没有这张表。",
    "community": "私域社群（企业微信群）：社群上线前注册的会员每人一行，含入群时间和观察期内的购买次数与消费。",
    "emotional_touches": "情感营销触达：生日礼、入会周年礼、专属活动邀请，随机留出对照组。",
    "community_truth": "社群和情感营销的\"真实答案\"：真实因果效应和自选择模型。真实数据里没有这张表。",
})
_TRUTH_ZH = {"parameter": "真实量的名称（见 datasets/README.md）。", "key": "适用对象：渠道、活动、触达类型或 'all'。",
             "value": "真实值（概率、对数几率、次数或元）；没有可平均的对象时为空。"}
MEANINGS_ZH.update({
    ("contacts", "member_id"): "会员号（对应会员表）。",
    ("contacts", "sent_at"): "发送时间（留出组为本应发送的时间）。",
    ("contacts", "channel"): "渠道：wechat_official_account 公众号、app_push APP 推送、sms 短信、wecom_group 企业微信。",
    ("contacts", "campaign_id"): "触达活动编号：CT001 为日常触达，IV01 为线上邀约。",
    ("contacts", "campaign_kind"): "活动类型：routine 日常触达、short_video 短视频邀约、social_post 社交媒体邀约。",
    ("contacts", "holdout"): "线上邀约中被随机留出（没有发送，delivered/opened 为 False，到店照常记录）。",
    ("contacts", "delivered"): "消息送达。",
    ("contacts", "opened"): "打开 / 阅读（短信为点击链接）。",
    ("contacts", "visited"): "发送后 7 天内到店。",
    ("contacts", "unsubscribed"): "收到这条后退订了该渠道。",
    **{("contacts_truth", k): v for k, v in _TRUTH_ZH.items()},
    ("community", "member_id"): "会员号（对应会员表）；社群上线前注册的会员。",
    ("community", "joined_at"): "入群时间；从未入群为空。",
    ("community", "purchases_after"): "观察期内的购买次数：门店小票加社群团购订单。",
    ("community", "spend_after"): "观察期内的净消费（元）：门店小票加社群团购订单。",
    ("emotional_touches", "member_id"): "会员号（对应会员表）。",
    ("emotional_touches", "sent_at"): "触达日期（生日、入会周年、活动邀请）。",
    ("emotional_touches", "kind"): "类型：birthday 生日礼、join_anniversary 入会周年礼、exclusive_event 专属活动。",
    ("emotional_touches", "holdout"): "被随机留出（没有发送礼遇），到店照常记录。",
    ("emotional_touches", "visited"): "14 天内到店。",
    **{("community_truth", k): v for k, v in _TRUTH_ZH.items()},
})


def columns_of(table: str) -> list[Column]:
    """Column specs of one table, in order.

    Examples
    --------
    >>> [c.name for c in columns_of("stores")]
    ['store_id', 'city', 'size', 'points_programme']
    """
    if table not in TABLES:
        raise WorkbookInputError(f"table={table!r} is unknown; choose one of {list(TABLES)}.")
    return [c for c in COLUMNS if c.table == table]


def _dtype_ok(series: pd.Series, dtype: str) -> bool:
    if dtype == "str":
        return isinstance(series.dtype, pd.StringDtype)
    return str(series.dtype) == dtype


def require_schema(df: pd.DataFrame, table: str) -> None:
    """Raise :class:`WorkbookInputError` unless ``df`` has exactly the spec's columns and dtypes.

    Examples
    --------
    >>> import pandas as pd
    >>> require_schema(pd.DataFrame({"store_id": ["S01"]}), "stores")
    Traceback (most recent call last):
    ...
    workbook.errors.WorkbookInputError: stores has columns ['store_id'], expected ['store_id', 'city', 'size', 'points_programme'].
    """
    specs = columns_of(table)
    expected = [c.name for c in specs]
    if list(df.columns) != expected:
        raise WorkbookInputError(f"{table} has columns {list(df.columns)}, expected {expected}.")
    for c in specs:
        if not _dtype_ok(df[c.name], c.dtype):
            raise WorkbookInputError(f"Column {c.name!r} of {table} has dtype {df[c.name].dtype}, expected {c.dtype}.")
        if not c.nullable and df[c.name].isna().any():
            rows = list(df.index[df[c.name].isna()][:5])
            raise WorkbookInputError(f"Column {c.name!r} of {table} has missing values at rows {rows}.")


def coerce_frame(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Return ``df`` restricted to the spec's columns, cast to the spec's dtypes.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"store_id": ["S01"], "city": ["上海"], "size": ["large"], "points_programme": [1]})
    >>> coerce_frame(df, "stores").dtypes["points_programme"]
    dtype('bool')
    """
    specs = columns_of(table)
    missing = [c.name for c in specs if c.name not in df.columns]
    if missing:
        raise WorkbookInputError(f"{table} is missing column(s) {missing}; it has {list(df.columns)}.")
    out = {}
    for c in specs:
        s = df[c.name]
        if c.dtype == "str":
            out[c.name] = s if isinstance(s.dtype, pd.StringDtype) else s.astype("str")
        elif c.dtype.startswith("datetime64"):
            out[c.name] = pd.to_datetime(s).astype(c.dtype)
        else:
            out[c.name] = s.astype(c.dtype)
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)))


def data_dictionary(tables: tuple[str, ...] | list[str] = TABLES) -> pd.DataFrame:
    """The data dictionary as a table, Chinese first: one row per column of ``tables``.

    Examples
    --------
    >>> data_dictionary(["stores"]).loc["stores"].index[:2].tolist()
    ['store_id', 'city']
    >>> data_dictionary(["stores"]).columns.tolist()[:2]
    ['含义 (meaning)', '类型 (type)']
    """
    rows = [
        {"表 (table)": c.table, "列 (column)": c.name, "含义 (meaning)": MEANINGS_ZH.get((c.table, c.name), ""),
         "类型 (type)": c.dtype, "单位 (unit)": c.unit or "-", "可为空 (may be missing)": "是" if c.nullable else "否",
         "英文说明 (meaning in English)": c.meaning}
        for t in tables for c in columns_of(t)
    ]
    return pd.DataFrame(rows).set_index(["表 (table)", "列 (column)"])


def table_descriptions() -> pd.DataFrame:
    """One row per table: what it holds, in Chinese and English.

    Examples
    --------
    >>> table_descriptions().loc["stores", "说明"]
    '门店表：每家实体门店一行（健身房场景为每家俱乐部）。'
    """
    return pd.DataFrame({"说明": TABLE_DESCRIPTIONS_ZH, "description": TABLE_DESCRIPTIONS}).rename_axis("表 table")


def data_dictionary_markdown() -> str:
    """The data dictionary (Markdown tables, one per table, Chinese first) generated from :data:`COLUMNS`."""
    lines: list[str] = []
    for table in TABLES:
        lines += [f"### `{table}`", "", TABLE_DESCRIPTIONS_ZH[table], "", TABLE_DESCRIPTIONS[table], ""]
        lines += ["| 列 column | 含义 | 类型 type | 单位 unit | 可为空 may be missing | meaning |",
                  "|---|---|---|---|---|---|"]
        for c in columns_of(table):
            lines.append(
                f"| `{c.name}` | {MEANINGS_ZH.get((c.table, c.name), '')} | {c.dtype} | {c.unit or '-'} | "
                f"{'是 yes' if c.nullable else '否 no'} | {c.meaning} |"
            )
        lines.append("")
    return "\n".join(lines)


def empty_frame(table: str) -> pd.DataFrame:
    """An empty frame with the spec's columns and dtypes."""
    data = {}
    for c in columns_of(table):
        data[c.name] = pd.Series(np.array([], dtype=object), dtype=c.dtype) if c.dtype == "str" else pd.Series(
            [], dtype=c.dtype
        )
    return pd.DataFrame(data)

"""Chinese display labels for the column names and codes trainees see.

Analytics functions return tidy frames with stable English snake_case column
names and codes (``revenue_share``, ``cant_lose``, ``wechat_mini_program``):
code and tests rely on them.  What a trainee sees in a notebook goes through
this module: :func:`zh_table` relabels a table's columns "中文 (english)", and
:func:`zh_label` / :func:`zh_labels` turn codes into Chinese labels for chart
axes and legends.  One dictionary, so the same code reads the same everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache

import pandas as pd

__all__ = ["LABELS_ZH", "zh_joined_labels", "zh_label", "zh_labels", "zh_table"]

#: Column name or code -> Chinese label.  RFM segments, lifecycle stages and
#: tiers and acquisition channels are added from the tables that define them (see :func:`_all_labels`).
LABELS_ZH: dict[str, str] = {
    # ids and dates
    "member_id": "会员号",
    "store_id": "门店",
    "home_store_id": "所属门店",
    "transaction_id": "交易号",
    "timestamp": "交易时间",
    "join_date": "入会日期",
    "birth_date": "出生日期",
    "name": "姓名",
    "phone": "手机号",
    "email": "邮箱",
    "tier": "等级",
    "segment": "分群",
    "segment_zh": "分群",
    "stage": "阶段",
    # counts, money, shares
    "members": "会员数",
    "member_share": "会员占比",
    "revenue": "收入（元）",
    "revenue_share": "收入占比",
    "revenue_per_member": "人均收入（元）",
    "amount": "金额（元）",
    "monetary_total": "累计净消费（元）",
    "monetary_avg": "平均客单价（元）",
    "recency_days": "距上次购买天数",
    "frequency": "购买次数",
    "n_purchases": "购买次数",
    "tenure_days": "入会天数",
    "cost": "成本（元）",
    "share": "占比",
    # notebooks 00-05
    "All": "全部",
    "control": "对照组",
    "treatment": "实验组",
    "arm": "组别",
    "offer_A": "A 券",
    "offer_B": "B 券",
    "channel": "渠道",
    "acquisition_channel": "注册渠道",
    "period": "月份",
    "count": "人数",
    "rate_from_top": "占第一步比例",
    "rate_from_previous": "上一步转化率",
    "visitors": "进店人次",
    "registered": "注册会员",
    "first_purchase": "首次购买",
    "repeat_purchase": "重复购买",
    "buyer_rate": "首购率",
    "repeat_rate": "复购率",
    "retention_rate": "12个月留存率",
    "cost_per_registration": "每个注册成本（元）",
    "cost_per_buyer": "每个首购会员成本（元）",
    "cost_per_repeat_buyer": "每个复购会员成本（元）",
    "cost_per_retained_member": "每个留存会员成本（元）",
    "gross_profit_per_member": "每位会员毛利（元）",
    "net_value_per_member": "每位会员净价值（元）",
    "profit_to_cost": "毛利/获客成本",
    "median": "中位数（天）",
    "within_days": "注册后天数内",
    "conversion_rate": "首购率",
    "n_per_arm": "每组人数",
    "dtype": "类型",
    "unit": "单位",
    "description": "说明",
    "column": "列名",
    "required": "必填",
    "rows": "行数",
    "r_score": "R 分",
    "f_score": "F 分",
    "m_score": "M 分",
    "rfm_code": "RFM 代码",
    "rfm_sum": "RFM 总分",
    "segment_en": "分群（英文）",
    "rule": "规则",
    "birthday": "今年生日",
    "age": "年龄",
    "gender": "性别",
    "current_tier": "当前等级",
    "next_tier": "下一等级",
    "spend_12m": "近12个月消费（元）",
    "gap": "差额（元）",
    "median_gap": "差额中位数（元）",
    "qualifying_value": "近12个月消费（元）",
    "next_threshold": "下一等级门槛（元）",
    "gap_share": "差额占门槛比例",
    "repeat_frequency": "复购次数",
    "months_since_first": "首购后月数",
    "cohort_size": "队列人数",
    "repeat_share": "已复购比例",
    "repeaters": "已复购人数",
    "basket": "客单价中位数（元）",
    "n_treatment": "实验组人数",
    "coupons_redeemed": "用券人数",
    "redemptions_without_effect": "本来就会回来的用券人数",
    "incremental_conversions": "增量回店人数",
    "incremental_revenue": "增量收入（元）",
    "coupon_cost_total": "券成本合计（元）",
    "net_profit": "净利润（元）",
    "net_profit_ci_low": "净利润区间下限（元）",
    "net_profit_ci_high": "净利润区间上限（元）",
    "uplift": "提升",
    "ci_low": "区间下限",
    "ci_high": "区间上限",
    "p_value": "p 值",
    "p_value_holm": "p 值（Holm 校正）",
    "rate_control": "对照组回店率",
    "rate_treatment": "实验组回店率",
    "n_control": "对照组人数",
    "smd": "标准化均值差",
    "mean_control": "对照组均值",
    "mean_treatment": "实验组均值",
    "roc_auc": "ROC AUC",
    "average_precision": "平均精确率",
    "base_rate": "流失基准率",
    "brier": "Brier 分数",
    "mean_predicted": "平均预测概率",
    "observed_rate": "实际流失率",
    "n": "人数",
    "importance": "重要性",
    "importance_std": "重要性标准差",
    "churn_probability": "流失概率",
    "member_value": "会员价值（元）",
    "expected_saved_value": "预期挽回价值（元）",
    "expected_net_gain": "预期净收益（元）",
    "selected": "选中",
    "cumulative_cost": "累计成本（元）",
    "cumulative_net_gain": "累计净收益（元）",
    "cumulative_saved_value": "累计挽回价值（元）",
    "budget": "预算（元）",
    "cost_per_contact": "每位联系成本（元）",
    "save_rate": "挽留成功率",
    "n_selected": "选中人数",
    "total_cost": "总成本（元）",
    "recency_only": "只看最近购买",
    # sales channels
    "offline": "线下",
    "online": "线上",
    # notebooks 06-11
    # 06 cohorts and CLV
    "net_revenue": "净消费（元）",
    "gross_margin": "毛利（元）",
    "gross_margin_per_year": "年均毛利（元）",
    "last_purchase": "最近购买日期",
    "improvement_pct_points": "留存提升（百分点）",
    "clv": "CLV（元）",
    "clv_gain": "每人 CLV 增加（元）",
    "clv_gain_pct": "CLV 增幅（%）",
    "total_gain": "会员总价值增加（元）",
    "predicted_holdout": "预测（留出期人均购买）",
    "actual_holdout": "实际（留出期人均购买）",
    "probability_alive": "仍活跃概率",
    "expected_purchases": "预计购买次数",
    "expected_spend": "预计客单价（元）",
    "recency": "最近购买距首购",
    "T": "首购至今",
    "frequency_holdout": "留出期购买次数",
    "duration_holdout": "留出期长度",
    "n_members": "人数",
    "estimate": "估计值",
    "standard_error": "标准误",
    "brier_score": "Brier 分数",
    "log_loss": "对数损失",
    # 07 store compass
    "size": "门店规模",
    "small": "小型店",
    "medium": "中型店",
    "large": "大型店",
    "city": "城市",
    "traffic": "客流量",
    "receipts": "小票数",
    "sales": "销售额（元）",
    "conversion": "成交率",
    "atv": "客单价（元）",
    "upt": "客单件",
    "member_sales_share": "会员销售占比",
    "repurchase_rate": "复购率",
    "new_members": "新会员数",
    "new_member_rate": "入会率",
    "new_member_growth": "新会员增长率",
    "kpi": "指标",
    "name_zh": "指标",
    "name_en": "指标（英文）",
    "formula": "公式",
    "levers_zh": "改善手段",
    "value": "数值",
    "chain_value": "参照值",
    "index": "指数",
    "recommendation": "建议",
    "sales_check": "客流×成交率×客单价",
    "chain_sales_ref": "参照销售额（元）",
    "log_gap": "销售差距（对数）",
    "traffic_effect": "客流效应",
    "conversion_effect": "成交率效应",
    "atv_effect": "客单价效应",
    # 07b store targets
    "sales_base": "基数销售额（元）",
    "sales_target": "目标销售额（元）",
    "sales_actual": "实际销售额（元）",
    "traffic_target": "客流目标",
    "conversion_target": "成交率目标",
    "atv_target": "客单价目标（元）",
    "traffic_change": "客流增幅 %",
    "conversion_change": "成交率增幅 %",
    "atv_change": "客单价增幅 %",
    "receipts_base": "基数小票数",
    "receipts_target": "目标小票数",
    "extra_receipts": "需多出的小票数",
    "active_members": "活跃会员数",
    "extra_visits_per_member": "每个活跃会员需多来几次",
    "achievement": "达成率",
    "missed_lever": "主要短板",
    "log_shortfall": "与目标的差距（对数）",
    # 12 data privacy
    "role": "角色",
    "role_zh": "角色（中文）",
    "classes": "组合数",
    "k_anonymity": "k 匿名度（最小组人数）",
    "unique_share": "唯一可识别的行占比",
    "below_k_share": "组人数小于 k 的行占比",
    "k": "k",
    # 08 tier design
    "tier_label_zh": "等级",
    "threshold": "门槛",
    "discount": "价格系数",
    "points_multiplier": "积分倍数",
    "birthday_gift_cost": "生日礼（元/人/年）",
    "spend": "消费（元）",
    "spend_share": "消费占比",
    "trailing_spend": "近 12 个月消费（元）",
    "spend_per_member": "人均消费（元）",
    "review_date": "评审日",
    "discount_cost": "折扣成本（元）",
    "points_cost": "积分成本（元）",
    "gift_cost": "生日礼成本（元）",
    "cost_pct_of_spend": "成本占消费（%）",
    "break_even_incremental_spend": "保本增量消费（元）",
    "break_even_uplift_pct": "保本需多消费（%）",
    "uplift_pct": "假设增长（%）",
    "incremental_spend": "增量消费（元）",
    "incremental_margin": "增量毛利（元）",
    "net_effect": "净效果（元）",
    "earned": "发放积分",
    "redeemed": "已兑换积分",
    "expired": "已过期积分",
    "balance": "积分余额",
    "balance_value": "积分负债（元）",
    "total": "合计",
    # 09-11 case studies
    "treated": "试点门店",
    "effect": "效果",
    "relative_effect": "相对效果",
    "std_error": "标准误",
    "ci_lower": "95% CI 下限",
    "ci_upper": "95% CI 上限",
    "n_clusters": "门店聚类数",
    "points_programme": "试点积分",
    "n_buyers": "购买会员数",
    "n_repeat_purchases": "复购次数",
    "mean_before": "上线前均值",
    "mean_after": "上线后均值",
    "n_obs": "观测数",
    "n_pre_periods": "上线前月数",
    "before": "上线前",
    "after": "上线后",
    "change": "变化",
    "slope_difference": "上线前斜率差",
    "buyers": "购买会员数",
    "purchases": "购买次数",
    "repeat_purchases": "复购次数",
    "log_repeat_purchases": "复购次数（对数）",
    "first_amount": "首单金额（元）",
    "repeat_spend": "复购金额（元）",
    "retained": "是否留存",
    "variance_ratio": "方差比",
    "diff": "差值",
    "theta": "调整系数 theta",
    "analysis": "分析方法",
    "actual_mean": "实际世界均值",
    "counterfactual_mean": "平行世界均值（无效果）",
    "n_actual": "实际世界样本数",
    "n_counterfactual": "平行世界样本数",
    "ci_width": "区间宽度",
    "start": "开始日",
    "end": "结束日",
    "n_fees": "缴费次数",
    "duration_days": "会籍时长（天）",
    "event": "已发生（流失）",
    "group": "组别",
    "follow_up": "教练回访",
    "statistic": "检验统计量",
    "df": "自由度",
    "n_groups": "组数",
    "n_events": "流失人数",
    "hazard_ratio": "风险比",
    "true_hazard_ratio": "真实风险比",
    "coef": "系数",
    "expected_fees": "人均缴费次数",
    "revenue_per_member_cny": "第一年人均会费（元）",
    "visit": "到店打卡",
    "fee": "会费",
    "purchase": "购买",
    # holdout evaluation (workbook.evaluation)
    "calibration": "校准期",
    "holdout": "留出",  # the holdout period (CLV evaluation) and the holdout group (contacts)
    "window": "时段",
    "actual": "实际",
    "predicted": "模型预测",
    "expected": "模型预期",
    "actual_total": "实际合计",
    "predicted_total": "预测合计",
    "total_error": "合计误差",
    "mae": "人均绝对误差（MAE）",
    "rmse": "均方根误差（RMSE）",
    "decile": "预测分组",
    "mean_prediction": "组内平均预测",
    "mean_outcome": "组内平均实际",
    "lift": "相对平均的倍数（lift）",
    "abs_lift": "绝对提升（实验组 - 对照组）",
    "share_of_actual": "占实际总量",
    "decile_mape": "组内相对误差（MAPE）",
    "share_of_members": "会员比例",
    "gini": "基尼系数（Gini）",
    "raw": "原始值",
    "perfect": "完美排序",
    "normalized": "标准化（1 = 完美排序）",
    "model": "模型",
    "n_params": "参数个数",
    "log_likelihood": "对数似然",
    "aic": "AIC（越小越好）",
    "bic": "BIC（越小越好）",
    "delta_aic": "与最佳模型的 AIC 差",
    "expected_members": "预计人数",
    "true_value": "真实值",
    "renewal_probability": "下次续费概率",
    "residual_value_per_member": "人均剩余价值（元）",
    "residual_value": "剩余价值合计（元）",
    "n_active": "仍在的人数",
    # product categories and recommendations (issue 15; category codes come from workbook.synth.categories)
    "category": "品类",
    "preference": "真实偏好",
    "recommended": "推荐品类",
    "rank": "推荐顺位",
    "score": "推荐得分",
    "hit_rate": "命中率",
    "method": "方法",
    "popularity": "热门品类（基线）",
    "cooccurrence": "品类共现推荐",
    "true_preference": "真实偏好（上限）",
    "hits": "命中人数",
    "lift_vs_popularity": "比基线高出",
    # layer playbook (05c)
    "revenue_12m": "近12个月收入（元）",
    "points_value": "积分余额（元）",
    "contacted": "联系人数",
    "cost_per_member": "单人成本（元）",
    # issue 15: member feedback (05b) and points economics (08b)
    "survey_id": "问卷编号",
    "answered_at": "填写时间",
    "nps": "NPS",
    "satisfaction": "满意度",
    "complaint_tags": "投诉标签",
    "nps_group": "NPS 分组",
    "promoter": "推荐者（9-10 分）",
    "passive": "被动者（7-8 分）",
    "detractor": "贬损者（0-6 分）",
    "promoter_share": "推荐者占比",
    "passive_share": "被动者占比",
    "detractor_share": "贬损者占比",
    "se": "标准误",
    "tag": "投诉标签",
    "long_queue": "排队久",
    "out_of_stock": "缺货",
    "staff_attitude": "服务态度",
    "price": "价格",
    "points_hard_to_use": "积分难用",
    "score_with": "有该投诉的平均分",
    "score_without": "无该投诉的平均分",
    "nps_with": "有该投诉的 NPS",
    "nps_without": "无该投诉的 NPS",
    "true_effect": "真实效果",
    "n_surveys": "答卷数",
    "last_nps": "最近一次 NPS 分",
    "mean_nps": "平均 NPS 分",
    "mean_satisfaction": "平均满意度",
    "complaints": "投诉次数",
    "churned": "流失人数",
    "churn_rate": "流失率",
    "true_dropout_prob": "真实流失概率（每次复购后）",
    "auc": "AUC",
    "auc_sd": "AUC 标准差",
    "outstanding": "有效积分余额",
    "negative_balance": "负余额（退货扣回）",
    "liability_yuan": "积分负债（元）",
    "matured_earned": "已到期批次的发放积分",
    "breakage_rate": "沉淀率（未兑换即清零）",
    "liability_net_of_breakage_yuan": "扣除沉淀后的预计成本（元）",
    "expiring_next_month": "下月将清零积分",
    "points_per_yuan": "每元发放积分",
    "promised_rebate": "承诺返利率",
    "paid_rebate": "实际兑付返利率",
    "issue_to_redeem": "发放/兑换比",
    # CLV uncertainty, sBG and BG/BB (issue 13)
    "lower": "区间下限",
    "upper": "区间上限",
    "clv_lower": "CLV 区间下限（元）",
    "clv_upper": "CLV 区间上限（元）",
    "n_periods": "观察期数",
    "expected_remaining_periods": "预计还会续费的期数",
    "expected_active": "预计仍在人数",
    "in_grace": "宽限期内（未定）",
    # 11 gym: attendance check and follow-up plan
    "predicted_classes": "预测出勤周数（人均）",
    "actual_classes": "实际出勤周数（人均）",
    "calls": "联系次数",
    "coach_hours": "教练工时（小时）",
    "cost_cny": "成本（元）",
    # 04b omnichannel contacts and 03b community (workbook.contacts, workbook.community)
    "wechat_official_account": "公众号",
    "app_push": "APP 推送",
    "sms": "短信",
    "wecom_group": "企业微信",
    "routine": "日常触达",
    "short_video": "短视频邀约",
    "social_post": "社交媒体邀约",
    "campaign_id": "活动",
    "campaign_kind": "活动类型",
    "sent_at": "发送时间",
    "sent": "发送数",
    "delivered": "送达",
    "opened": "打开",
    "visited": "到店",
    "unsubscribed": "退订",
    "delivered_rate": "送达率",
    "opened_rate": "打开率",
    "visited_rate": "到店率",
    "unsubscribed_rate": "退订率",
    "recent_contacts": "近 30 天收到的消息数",
    "messages": "消息数",
    "responses": "响应数",
    "rate": "比率",
    "slope": "斜率（对数几率）",
    "odds_ratio": "几率比",
    "rate_sent": "发送组到店率",
    "rate_holdout": "留出组到店率",
    "incremental_visits": "增量到店人次",
    "naive_attributed": "简单归因到店数",
    "true_lift": "真实提升",
    "joined": "已入群",
    "joined_at": "入群时间",
    "pre_purchases": "上线前购买次数",
    "pre_purchases_90d": "上线前 90 天购买次数",
    "pre_spend": "上线前消费（元）",
    "pre_recency_days": "上线时距上次购买天数",
    "purchases_after": "观察期购买次数",
    "spend_after": "观察期消费（元）",
    "naive": "简单对比",
    "regression": "回归调整",
    "matched": "倾向得分匹配",
    "truth": "真实效果",
    "n_treated": "入群人数",
    "join_anniversary": "入会周年礼",
    "exclusive_event": "专属活动",
}


@lru_cache(maxsize=1)
def _all_labels() -> dict[str, str]:
    """LABELS_ZH plus the codes defined elsewhere, read from their one definition."""
    from workbook.acquisition import CHANNEL_LABELS_ZH
    from workbook.lifecycle import STAGE_ZH_DTYPE, STAGES
    from workbook.rfm import SEGMENTS
    from workbook.synth.categories import CATEGORY_LABELS_ZH
    from workbook.tiers import TIER_LABELS_ZH, TIER_NAMES

    codes = dict(zip(SEGMENTS["segment"], SEGMENTS["name_zh"]))
    codes.update(zip(STAGES, STAGE_ZH_DTYPE.categories))  # lifecycle "new" (新客) over RFM "new"
    codes.update(zip(TIER_NAMES, TIER_LABELS_ZH))
    codes.update(CHANNEL_LABELS_ZH)  # acquisition channels, as the acquisition charts name them
    codes.update(CATEGORY_LABELS_ZH)  # product categories (issue 15)
    return {**codes, **LABELS_ZH}


def _table(labels: Mapping[str, str] | None) -> dict[str, str]:
    return _all_labels() if labels is None else {**_all_labels(), **labels}


def zh_label(code: object, labels: Mapping[str, str] | None = None) -> str:
    """The Chinese label of one code, or the code itself when none is known.

    Examples
    --------
    >>> zh_label("cant_lose")
    '不能失去的客户'
    >>> zh_label("something_new")
    'something_new'
    """
    return _table(labels).get(str(code), str(code))


def zh_labels(codes: Iterable, labels: Mapping[str, str] | None = None) -> list[str]:
    """Chinese labels for many codes (chart tick labels, legend entries).

    Examples
    --------
    >>> zh_labels(["wechat_mini_program", "app"])
    ['微信小程序', 'App']
    """
    return [zh_label(c, labels) for c in codes]


def zh_joined_labels(values: pd.Series, sep: str = ";", joiner: str = "、") -> pd.Series:
    """Chinese labels of several codes joined in one cell (e.g. survey complaint tags ``"long_queue;price"``).

    Examples
    --------
    >>> zh_joined_labels(pd.Series(["long_queue;price", None, "out_of_stock"])).tolist()
    ['排队久、价格', nan, '缺货']
    """
    parts = values.astype("str").str.split(sep).explode().str.strip()
    labelled = parts.map({code: zh_label(code) for code in parts.dropna().unique() if code})  # each distinct code once
    joined = labelled.dropna().groupby(level=0).agg(joiner.join)
    return joined.reindex(values.index).where(values.notna())


def zh_table(df: pd.DataFrame, labels: Mapping[str, str] | None = None, *, english: bool = True) -> pd.DataFrame:
    """A copy of ``df`` for display: columns (and a code index) labelled in Chinese.

    Columns become ``"中文 (english)"`` (or only Chinese with ``english=False``);
    unknown columns keep their name.  The data are not changed, so use this
    only for what is shown, never for further analysis.

    Examples
    --------
    >>> t = pd.DataFrame({"members": [3], "revenue_share": [0.5]}, index=pd.Index(["champions"], name="segment"))
    >>> list(zh_table(t).columns)
    ['会员数 (members)', '收入占比 (revenue_share)']
    >>> zh_table(t, english=False).index.tolist()
    ['冠军客户']
    """
    table = _table(labels)

    def rename(col: object) -> object:
        zh = table.get(str(col))
        if zh is None:
            return col
        return f"{zh} ({col})" if english else zh

    out = df.rename(columns=rename)
    if out.index.dtype == object or isinstance(out.index.dtype, pd.StringDtype):
        name = out.index.name
        out.index = pd.Index([table.get(str(i), i) for i in out.index], name=rename(name) if name else name)
    return out

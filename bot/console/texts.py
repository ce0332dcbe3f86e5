"""Every message the console's handlers show (flashes, error pages, field errors), in one place.

Page text lives in the templates; labels shared by templates and exports are here too.
"""

from __future__ import annotations

TITLE = "运城新污染物治理 · 工作台"

# ---- log-in -----------------------------------------------------------------------------------------
LOGIN_BAD = "用户名或密码不正确。"
LOGIN_LOCKED = "登录失败次数过多，已暂时锁定，请在 {until} 之后再试，或请管理员解锁。"
LOGIN_REQUIRED = "请先登录。"
LOGGED_OUT = "您已退出登录。"
SESSION_ENDED = "登录已过期或已失效，请重新登录。"
LOGIN_MISSING = "请填写用户名和密码。"

# ---- error pages (title, explanation) ---------------------------------------------------------------
ERRORS: dict[int, tuple[str, str]] = {
    400: ("请求有误", "提交的内容不完整或格式不对，请返回上一页检查后重试。"),
    401: ("需要登录", "请先登录工作台。"),
    403: ("无权操作", "您没有权限执行这个操作。"),
    404: ("未找到", "没有找到这个页面或案件，或者它不属于您的部门。"),
    405: ("请求方式不对", "这个地址不支持这种请求方式。请通过页面上的按钮操作。"),
    413: ("内容过大", "提交的内容太大，请精简后重试。"),
    415: ("格式不支持", "请通过页面上的表单提交。"),
    429: ("操作太频繁", "请稍后再试。"),
    500: ("系统出错", "系统处理时出错，操作没有生效。请稍后重试；如多次出现，请联系管理员。"),
}
UNAVAILABLE = "工作台暂时无法使用（数据库不可用），请稍后再试。"
CSRF_FAILED = (
    "表单校验失败：页面已过期或不是从本系统提交的。请返回、刷新页面后重新提交。"
    "（为防止跨站伪造请求，每个表单都带有校验码。）"
)
NOT_FOUND_CASE = "没有找到案件 {case_no}，或者它不属于您的部门。"
BAD_CASE_NO = "案件编号格式不对。"
ADMIN_ONLY = "只有管理员可以执行这个操作。"

# ---- report actions ---------------------------------------------------------------------------------
ACTION_DONE = {
    "accept": "已受理案件 {case_no}，已通知举报人。",
    "reject": "已不予受理案件 {case_no}，已通知举报人。",
    "duplicate": "已将案件 {case_no} 标记为重复，已通知举报人。",
    "transfer": "已将案件 {case_no} 转交 {department}。",
    "investigate": "案件 {case_no} 已进入调查处理，已通知举报人。",
    "resolve": "案件 {case_no} 已办结，答复已发送给举报人。",
    "close": "案件 {case_no} 已归档。",
    "county": "已将案件 {case_no} 分派到 {county}。",
    "note": "内部备注已保存。",
}
ACTION_UNKNOWN = "未知的操作。"
ACTION_NOT_NOW = "案件当前状态为“{status}”，不能执行这个操作"
ACTION_FAILED = "操作未完成：{reason}"
NEED_REASON = "不予受理须填写理由。"
NEED_REPLY = "办结须填写给举报人的答复。"
NEED_NOTE = "备注内容不能为空。"
NEED_DUPLICATE_OF = "请填写重复的原案件编号。"
DUPLICATE_SELF = "不能把案件标记为它自己的重复。"
NEED_DEPARTMENT = "请选择要转交的部门。"
UNKNOWN_DEPARTMENT = "没有这个部门：{department}"
UNKNOWN_COUNTY = "请从列表中选择县(市、区)。"
SAME_DEPARTMENT = "案件已经在 {department}。"
FIELD_TOO_LONG = "“{field}”太长了（最多 {limit} 字）。"
REVEALED = "已显示举报人身份；本次查看已记录在审计日志中。"
NOT_REAL_NAME = "该举报为匿名举报，没有可显示的身份信息。"

# ---- filters ----------------------------------------------------------------------------------------
BAD_FILTER = "筛选条件有误：{what}。请返回列表重新选择。"
BAD_DATE = "日期须为 年-月-日，如 2026-03-01"
FILTER_TOO_LONG = "{name} 过长"
FILTER_UNKNOWN = {
    "status": "没有“{value}”这种状态",
    "category": "没有“{value}”这个类别",
    "county": "没有“{value}”这个县(市、区)",
    "department": "没有“{value}”这个部门",
    "sort": "没有“{value}”这种排序",
    "task_status": "没有“{value}”这种任务状态",
    "audit_action": "没有“{value}”这种操作",
}
DATE_FROM_LABEL = "起始日期"
DATE_TO_LABEL = "截止日期"
DATES_REVERSED = "起始日期晚于截止日期"
SORT_LABELS = {"new": "最新提交在前", "old": "最早提交在前", "updated": "最近更新在前", "status": "按状态"}
BAD_PAGE = "页码须为正整数"
EXPORT_TOO_MANY = "符合条件的记录有 {total} 条，超过单次导出上限 {limit} 条，请缩小筛选范围。"

# ---- labels shared by pages and exports -------------------------------------------------------------
STATUS_LABELS = {
    "submitted": "待受理",
    "accepted": "已受理",
    "rejected": "不予受理",
    "duplicate": "重复举报",
    "investigating": "调查处理中",
    "resolved": "已办结",
    "closed": "已归档",
}
TASK_STATUS_LABELS = {
    "open": "进行中",
    "done": "已完成",
    "overdue": "已逾期",
}
DELIVERY_STATUS_LABELS = {
    "planned": "待发送",
    "batched": "发送中",
    "sent": "已发送",
    "skipped": "已跳过",
    "cancelled": "已取消",
    "dead": "发送失败",
}
REMINDER_KIND_LABELS = {
    "due": "到期当日",
    "overdue": "逾期提醒",
    "escalate": "逾期升级（牵头单位）",
    "catchup": "补发汇总",
}
REMINDER_BEFORE = "截止前 {days} 个工作日"


def reminder_kind(kind: str) -> str:
    if kind.startswith("before-") and kind[len("before-") :].isdigit():
        return REMINDER_BEFORE.format(days=kind[len("before-") :])
    return REMINDER_KIND_LABELS.get(kind, kind)


AUDIT_ACTION_LABELS = {
    "login": "登录",
    "login_failed": "登录失败",
    "login_locked": "锁定期间尝试登录",
    "lockout": "账号/地址被锁定",
    "logout": "退出登录",
    "reveal_identity": "查看实名举报人身份",
    "report_accept": "受理",
    "report_reject": "不予受理",
    "report_duplicate": "标记重复",
    "report_investigate": "调查处理",
    "report_resolve": "办结答复",
    "report_close": "归档",
    "report_transfer": "转交部门",
    "report_county": "分派县(市、区)",
    "report_note": "内部备注",
    "export_reports": "导出案件",
    "export_tasks": "导出任务",
    "task_done": "记录任务完成",
}

FIELD_LABELS = {
    "note": "处理说明/备注",
    "public_reply": "给举报人的答复",
    "reason": "不予受理理由",
    "competent_authority": "有权处理的机关",
    "duplicate_of": "原案件编号",
    "department": "部门",
    "county": "县(市、区)",
}
SHEET_REPORTS = "举报案件"
SHEET_TASKS = "方案任务"

# ---- Open311 (public) -------------------------------------------------------------------------------
OPEN311_GROUP = "环境违法举报"
OPEN311_AREA = "山西省运城市{county}"
CATEGORY_DESCRIPTION = "{label}。责任部门：{units}"

TASK_ROLE_LABELS = {"lead": "牵头", "co": "配合", "local": "属地落实"}
NOT_FOUND_TASK = "没有找到任务 {task_id}，或者它没有分配给您的部门。"
TASK_MARKED_DONE = "已记录：{department} 完成了任务 {task_id}。"
TASK_ALREADY_DONE = "任务 {task_id} 此前已记录为 {department} 完成，未重复记录。"

REPORT_COLUMNS = (
    ("case_no", "案件编号"),
    ("status", "状态"),
    ("category", "类别"),
    ("description", "举报内容"),
    ("reported_object", "被举报对象"),
    ("address", "地点"),
    ("latitude", "纬度(GCJ-02)"),
    ("longitude", "经度(GCJ-02)"),
    ("county", "县(市、区)"),
    ("department", "责任部门"),
    ("duplicate_of", "重复于"),
    ("public_reply", "答复"),
    ("created_at", "提交时间"),
    ("updated_at", "更新时间"),
)
TASK_COLUMNS = (
    ("id", "任务编号"),
    ("title", "任务"),
    ("citation", "方案依据"),
    ("lead", "牵头单位"),
    ("cooperating", "配合单位"),
    ("deadline", "时限"),
    ("department", "部门"),
    ("status", "状态"),
    ("done_at", "完成时间"),
    ("reminders_sent", "已发提醒"),
    ("reminders_acknowledged", "已确认收到"),
)

"""Every user-facing string of the service, in one place.

Sections: common (service-wide), then one section per conversation area. Keep texts short: a WeChat
text reply should stay well under 2 KB, and template fields under 20 characters.
"""

# ---- common ----------------------------------------------------------------------------------------

ACCOUNT_NAME = "运城新污染物治理"

WELCOME = (
    "您好，欢迎关注“运城新污染物治理”！\n"
    "这里可以：\n"
    "1. 政策问答：直接发问题，如“PFOS还能用吗”“每年进口5吨新化学物质要办什么登记”；\n"
    "2. 我要举报：发送“举报”，按提示提交线索、位置和照片，可匿名；\n"
    "3. 部门联络人：发送“绑定 绑定码”接收任务提醒。\n"
    "随时发送“帮助”查看用法，发送“取消”退出当前操作。"
)

HELP = (
    "使用说明：\n"
    "· 直接输入问题，获取政策解答（附依据）；\n"
    "· 发送“举报”提交环境违法线索，“我的举报”或“查询 案件编号”查看进度；\n"
    "· 部门联络人发送“绑定 绑定码”，之后可用“我的任务”“收到”“完成 任务编号”；\n"
    "· 发送“取消”退出当前操作。\n"
    "人工渠道：12369环保举报热线，或运城市生态环境局。"
)

CANCELLED = "已取消，当前操作未保存。需要时可以重新开始。"
NOTHING_TO_CANCEL = "当前没有进行中的操作。发送“帮助”查看可以做什么。"
HANDLER_ERROR = (
    "抱歉，系统刚才处理出错了，您的这条消息没有生效，请稍后再试一次。"
    "如情况紧急，请拨打12369环保举报热线。"
)
UNSUPPORTED_TYPE = "暂时无法处理这类消息。请发送文字提问，或发送“举报”提交线索（可附位置和照片）。"
FALLBACK = "没太明白您的意思。请直接输入问题，或发送“帮助”查看用法。"
CONVERSATION_EXPIRED = "上一次未完成的操作已超时，已自动结束。"
MENU_UNKNOWN = "这个菜单暂时没有内容，发送“帮助”查看用法。"
EMPTY_TEXT = "请发送文字内容。发送“帮助”查看用法。"

# Menu (python -m bot menu push); names ≤ 4 Chinese characters at the top level, ≤ 8 below.
MENU_QA = "政策问答"
MENU_REPORT = "我要举报"
MENU_MINE = "我的"
MENU_QA_REGISTRATION = "新化学物质登记"
MENU_QA_LIST = "重点管控清单"
MENU_QA_PLAN = "运城治理方案"
MENU_REPORT_NEW = "提交举报"
MENU_REPORT_MINE = "我的举报"
MENU_REPORT_GUIDE = "举报须知"
MENU_MY_TASKS = "我的任务"
MENU_BIND_HELP = "联络人绑定"
MENU_HELP = "使用帮助"

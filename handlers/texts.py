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

# ---- simulator (sandbox page at /simulator) ---------------------------------------------------------

SIM_BAD_OPENID = "用户标识只能由字母、数字、下划线和短横线组成，长度 1–64 个字符。"
SIM_BAD_JSON = "请求格式不对：需要一个 JSON 对象。"
SIM_EMPTY_TEXT = "消息内容不能为空。"
SIM_TEXT_TOO_LONG = "消息太长了，请不超过 {limit} 个字。"
SIM_BAD_LATITUDE = "纬度必须是 -90 到 90 之间的数字。"
SIM_BAD_LONGITUDE = "经度必须是 -180 到 180 之间的数字。"
SIM_LABEL_TOO_LONG = "位置名称请不超过 {limit} 个字。"
SIM_NO_PHOTO = "请选择一张照片。"
SIM_PHOTO_TOO_BIG = "照片太大了，请不超过 {limit_mb} MB。"
SIM_PHOTO_NOT_IMAGE = "只能发送 JPEG、PNG、GIF 或 WebP 格式的图片。"
SIM_UNKNOWN_MENU = "没有这个菜单项。"
SIM_BAD_AFTER = "after 必须是不小于 0 的整数。"
SIM_CALLBACK_FAILED = "公众号回调拒绝了这条消息（HTTP {status}）：{detail}"
SIM_CALLBACK_UNREACHABLE = "连接公众号回调失败：{error}"
SIM_NOT_SANDBOX = "模拟器只能在沙箱模式下使用照片（当前的 mp 通道不是沙箱）。"
SIM_KIND_TEXT = "客服消息"
SIM_KIND_TEMPLATE = "模板消息"
SIM_KIND_TEXTCARD = "企业微信消息"
SIM_KIND_OTHER = "其他消息"
SIM_TEMPLATE_DETAILS = "详情"
SIM_REPLY_NEWS = "图文消息"

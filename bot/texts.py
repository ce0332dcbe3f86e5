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
BUSY = "抱歉，系统正忙，您的这条消息没有生效，请稍后再发送一次。如情况紧急，请拨打12369环保举报热线。"
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
MENU_RATE_USEFUL = "上条回答有用"
MENU_RATE_USELESS = "上条回答没用"
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
SIM_KIND_SUBSCRIBE = "订阅通知"
OFFICIALS_TAG = "联络人"  # the user tag whose personalised menu adds 我的任务 and 联络人绑定
REPLY_REST_HINT = "\n（内容较长，其余部分未能发出。请发送“查询 案件编号”或打开案件页面查看全文。）"
VOICE_NOT_RECOGNISED = "暂时无法识别语音内容，请改用文字发送。"
SIM_REFUSED = "{label}（被微信拒绝）"
SIM_REFUSED_DETAIL = "微信拒绝了这条消息：errcode {errcode}（{errmsg}）"
SIM_TEMPLATE_DETAILS = "详情"
SIM_REPLY_NEWS = "图文消息"

# ---- duties.toml (kb check, start-up): what is wrong with the division of duties --------------------

DUTIES_PROBLEMS: dict[str, str] = {
    "unreadable": "cannot read the file: {error}",
    "key_unknown": "{where}: unknown key {key!r}",
    "not_table": "{where}: must be a table ({table})",
    "text_required": "{where}: {key} is required (a non-empty string)",
    "list_required": "{where}: {key} must be a list of non-empty strings",
    "county_department": "[units]: county_department must be a name containing {county}, e.g. \"{county}政府\"",
    "none": "no {table} entries",
    "seat": "{where}: seat must be [latitude, longitude]",
    "unit_unknown": "{where}: department {name!r} is not a listed unit{hint} (units: {known})",
    "twice": "{what} {value!r} is listed twice",
    "zone_inside": "[zone]: inside = {name!r} is not a listed county",
    "adcode": "{where}: code must be the six-digit administrative code, e.g. 140802",
    "code": "{where}: code must be lower-case letters, digits and _ (at most 32), starting with a letter",
    "unit_long": "unit name {name!r} is longer than {limit} characters",
}
DUTIES_DID_YOU_MEAN = " (did you mean {name!r}?)"

# ---- reports (violation-report wizard, queries, notices) ---------------------------------------------

REPORT_STATUS_LABELS: dict[str, str] = {
    "submitted": "已提交，等待受理",
    "accepted": "已受理",
    "rejected": "不予受理",
    "duplicate": "已并入相同问题的案件",
    "investigating": "调查处理中",
    "resolved": "已办结",
    "closed": "已结案",
}
# The same states in at most 5 Chinese characters, for a template's phrase-typed key.
REPORT_STATUS_PHRASES: dict[str, str] = {
    "submitted": "已提交",
    "accepted": "已受理",
    "rejected": "不予受理",
    "duplicate": "已合并",
    "investigating": "调查处理中",
    "resolved": "已办结",
    "closed": "已结案",
}
REPORT_STEP_NAMES: dict[str, str] = {
    "category": "类别",
    "description": "描述",
    "location": "位置",
    "photos": "照片",
    "contact": "身份（匿名/实名）",
}

REPORT_START = "开始填写举报。随时发送“取消”可退出，未提交的草稿保留{hours}小时。\n"
REPORT_ASK_CATEGORY = "【第1步 类别】请回复序号（如“1”）或类别名称：\n{options}"
REPORT_ASK_DESCRIPTION = (
    "【第2步 描述】请用文字说明：发生了什么、什么时候发现、涉及哪家企业或什么物品（如知道）。"
    "至少{min}个汉字，不超过{max}字。请不要写您的姓名、住址、电话等个人信息（案件受理后会公开摘要）。"
)
REPORT_ASK_LOCATION = (
    "【第3步 位置】请发送位置：点输入框旁的“+”→“位置”，选好地点后发送；或直接输入详细地址，如“盐湖区XX路XX号XX厂”。"
)
REPORT_ASK_OBJECT = (
    "您反映的是气味、烟雾或噪声，所在位置不一定是来源。请告诉我们疑似来源："
    "企业或设施名称、在您哪个方向、大约多远。不清楚请回复“不清楚”。"
)
REPORT_ASK_COUNTY_BORDER = (
    "这个位置靠近区县交界，请回复序号确认所属区县：\n{options}\n不确定请回复“不确定”，由工作人员判断。"
)
REPORT_ASK_COUNTY_ADDRESS = (
    "地址里没有看到区县名称，请回复序号选择所属区县：\n{options}\n不确定请回复“不确定”，由工作人员判断。"
)
REPORT_ASK_PHOTOS = "【第4步 照片】可以发送现场照片（最多{max}张，逐张发送）。发完请回复“完成”；没有照片请回复“跳过”。"
REPORT_ASK_PHOTOS_MORE = "【第4步 照片】已有{n}张，还可以发{left}张。发完请回复“完成”；回复“清空”删除已发的照片。"
REPORT_ASK_CONTACT = (
    "【第5步 身份】请选择：\n"
    "1. 匿名举报：回复“匿名”或“1”；\n"
    "2. 实名举报（可申请举报奖励）：直接回复“姓名 手机号”，如“张三 13812345678”。\n"
    "实名信息严格保密，只有受理单位的系统管理员能看到，用于核实和发放奖励，不会告诉被举报方；"
    "案件办结{identity_days}天后删除。发送“隐私”查看个人信息保护说明。"
)
REPORT_ASK_CONTACT_DETAILS = "请回复“姓名 手机号”，如“张三 13812345678”。改为匿名请回复“匿名”。"
REPORT_BAD_PHONE = "手机号格式不对，应为1开头的11位手机号。请重新回复“姓名 手机号”，或回复“匿名”。"
REPORT_BAD_NAME = "请写上姓名（2到20个字），如“张三 13812345678”；不想留名请回复“匿名”。"
REPORT_SUMMARY = (
    "请核对举报内容：\n"
    "类别：{category}\n"
    "描述：{description}\n"
    "{object_line}"
    "位置：{location}\n"
    "区县：{county}\n"
    "照片：{photos}张\n"
    "身份：{contact}\n"
    "无误请回复“确认”提交；要改请回复“修改”；放弃请回复“取消”。"
)
REPORT_SUMMARY_OBJECT = "疑似来源：{object}\n"
REPORT_EDIT_MENU = "要修改哪一项？回复序号：\n{options}\n改好后会回到核对页面；也可以直接回复“确认”提交。"
REPORT_EDIT_UNKNOWN = "请回复1到5的序号选择要修改的项，或回复“确认”提交。"
REPORT_CONFIRM_HINT = "请回复“确认”提交、“修改”更改内容，或“取消”放弃。"

REPORT_CATEGORY_UNKNOWN = "没有对应的类别。"
REPORT_DESCRIPTION_NOTED = "已记下您的描述：“{excerpt}”。"
REPORT_CONFIRM_CATEGORY = (
    "【第1步 类别】从描述看，属于“{category}”，对吗？\n回复“是”确认；不是的话请回复正确类别的序号：\n{options}"
)
REPORT_CONFIRM_CATEGORY_HINT = "请回复“是”，或回复类别序号（如“1”）。"
REPORT_DESCRIPTION_SHORT = "描述太短了：请至少写{min}个汉字，说明发生了什么、涉及哪家企业或什么物品。"
REPORT_DESCRIPTION_LONG = "描述太长了（{n}字，上限{max}字），请精简后重新发送。"
REPORT_NOT_ADDRESS = "没有认出这是地址。"
REPORT_ADDRESS_LONG = "地址太长了（上限{max}字），请只写区县、乡镇、道路、门牌或附近的标志性地点。"
REPORT_OBJECT_LONG = "太长了（上限{max}字），请简要写出企业或设施名称和方位。"
REPORT_COUNTY_UNKNOWN = "请回复列表中的序号，或回复“不确定”。"
REPORT_NEED_TEXT = "这一步需要文字回复。"
REPORT_NEED_PHOTO_OR_DONE = "这一步请发送照片，或回复“完成”/“跳过”。"
REPORT_PHOTO_ADDED = "已收到第{n}张照片。"
REPORT_PHOTO_ADDED_ASIDE = "已收到照片（共{n}张），会附在举报中。"
REPORT_PHOTO_LIMIT = "最多只能附{max}张照片，这张没有加上。"
REPORT_PHOTOS_CLEARED = "已删除之前发送的照片。"
REPORT_LOCATION_ADDED = "已记下位置：{location}。"
REPORT_LOCATION_INVALID = "这个位置的坐标无法识别，请重新发送位置或输入地址。"
REPORT_OUTSIDE = (
    "提示：这个位置不在运城市范围内。本平台受理运城市范围内的线索；您的举报仍会保存，由工作人员人工核实转办。"
    "其他地区的问题建议拨打12369环保举报热线。如位置发错了，可以重新发送位置。"
)
REPORT_COUNTY_SET = "所属区县：{county}。"
REPORT_COUNTY_MANUAL = "所属区县由工作人员判断。"
REPORT_COUNTY_PENDING = "待工作人员确定"
REPORT_LOCATION_NONE = "（未提供）"
REPORT_CONTACT_ANONYMOUS = "匿名"
REPORT_CONTACT_REAL = "实名（{name}，{phone}）"
REPORT_IN_PROGRESS = "您正在填写一份举报，接着上一步：\n"
REPORT_OTHER_FEATURE = "您正在填写举报，请先提交或发送“取消”退出，再使用其他功能。\n"
REPORT_DRAFT_EXPIRED = "您上次没有提交的举报草稿已超过{hours}小时，已自动作废。\n"
REPORT_RESTART_HINT = "需要的话请发送“举报”重新填写；情况紧急请拨打12369环保举报热线。"
REPORT_ATTACHED_ON_START = "已附上您刚才发送的{items}。\n"
REPORT_ATTACHED_PHOTOS = "{n}张照片"
REPORT_ATTACHED_LOCATION = "位置"
REPORT_ATTACHED_JOIN = "和"
REPORT_PHOTO_PENDING = "收到照片。如需举报，请在{minutes}分钟内发送“举报”，这张照片会自动附上。"
REPORT_LOCATION_PENDING = "收到位置。如需举报这里的问题，请在{minutes}分钟内发送“举报”，位置会自动带上。"
REPORT_LIMIT_REACHED = "您今天已经提交了{n}件举报，达到每日上限。情况紧急请拨打12369环保举报热线。"
REPORT_BLOCKED = "暂时无法通过本公众号提交举报。请拨打12369环保举报热线，或通过运城市生态环境局网站反映。"
REPORT_TEXT_TOO_LONG = "内容太长了（上限{max}字），请精简后重新发送。"

REPORT_SUBMITTED = (
    "举报已提交，案件编号：{case_no}\n"
    "请保存编号，发送“查询 {case_no}”可查看进度。\n"
    "转交单位：{routing}\n"
    "一般情况下，15日内告知是否受理，受理后60日内办结，情况复杂的可延长（以主管部门最新要求为准）。"
    "{outcome}\n"
    "情况紧急请拨打12369环保举报热线，也可使用“12369环保举报”微信公众号。"
)
REPORT_SUBMITTED_DUPLICATE = (
    "举报已提交，案件编号：{case_no}\n"
    "附近已有相同问题的举报（{original}）正在处理，您的举报已并入该案件，处理进展也会告诉您。"
    "发送“查询 {case_no}”可查看进度。\n"
    "情况紧急请拨打12369环保举报热线。"
)
REPORT_ROUTING_MANUAL = "（区县待工作人员核实）"
REPORT_ALREADY_SUBMITTED = "这份举报已经提交过了，案件编号：{case_no}。发送“查询 {case_no}”查看进度。"

REPORT_QUERY_USAGE = "请发送“查询 案件编号”，如“查询 YC20261128-0001”；发送“我的举报”查看您提交的全部举报。"
REPORT_QUERY_FORMAT = (
    "没有认出案件编号“{typed}”。案件编号形如 YC20261204-0007：YC、8位提交日期、短横线和序号"
    "（序号前的0可以省略，如“查询 YC20261204-7”）。发送“我的举报”查看您提交的全部举报。"
)
REPORT_QUERY_NOT_FOUND = "没有找到您提交的编号为{case_no}的举报。请核对编号，或发送“我的举报”查看全部。"
REPORT_QUERY_DETAIL = (
    "案件编号：{case_no}\n提交时间：{created}\n类别：{category}\n承办单位：{units}\n状态：{status}\n{extra}"
)
REPORT_QUERY_LINKED = "已并入案件{original}，该案件状态：{status}\n"
REPORT_QUERY_REPLY = "{unit}答复（{at}）：{reply}\n"
REPORT_QUERY_REJECTED = "不予受理原因：{reason}\n建议向{authority}反映。\n"
REPORT_QUERY_NO_REPLY = "暂无答复，有进展会通知您。\n"
REPORT_QUERY_MISSING_PHOTOS = "有{n}张照片未能接收，如有需要可在补充举报时重新发送。\n"
REPORT_MINE_EMPTY = "您还没有提交过举报。发送“举报”开始。"
REPORT_MINE_HEADER = "您的举报（最近{n}件）：\n"
REPORT_MINE_LINE = "{case_no}｜{created}｜{status}\n"
REPORT_MINE_FOOTER = "发送“查询 案件编号”查看详情和答复。"
REPORT_GUIDE = (
    "举报须知：\n"
    "1. 可举报：偷排有毒有害物质、乱丢农药包装和过期药品、药店无处方卖抗生素、含禁用物质的玩具和学生用品、"
    "生产使用PFOS等淘汰化学品、非法进出口受控化学品等。\n"
    "2. 发送“举报”按提示填写：类别、描述、位置（发送位置或输入地址）、照片（最多9张），最后确认提交。\n"
    "3. 可以匿名。想申请奖励请实名（姓名和手机号），信息严格保密，只有受理单位管理员可见。\n"
    "4. 提交后会得到案件编号，发送“查询 编号”或“我的举报”查看进度和答复。\n"
    "5. 一般15日内告知是否受理，受理后60日内办结（以主管部门最新要求为准）。\n"
    "6. 紧急情况请直接拨打12369环保举报热线。"
)

REPORT_UPDATE_NOTICE = "【举报进展】您的举报{case_no}：{status}（{unit}）。{reply}\n发送“查询 {case_no}”查看详情。"
REPORT_LINKED_NOTICE = (
    "【举报进展】与您的举报{case_no}并案处理的{original}：{status}（{unit}）。{reply}\n"
    "发送“查询 {case_no}”查看详情。"
)
REPORT_NOTICE_REPLY = "答复：{reply}"
REPORT_NOTICE_REJECTED = "原因：{reason}；建议向{authority}反映。"
REPORT_DEPT_NOTICE_TITLE = "新的举报线索"
REPORT_DEPT_TRANSFER_TITLE = "转办的举报线索"
REPORT_DEPT_FIELD_CASE = "案件编号"
REPORT_DEPT_FIELD_CATEGORY = "类别"
REPORT_DEPT_FIELD_COUNTY = "区县"
REPORT_DEPT_FIELD_TIME = "提交时间"
NOTICE_TEST_TITLE = "测试通知：新案件提醒"
NOTICE_TEST_CATEGORY = "测试通知"
NOTICE_TEST_DETAIL = "这是一条测试通知，用于确认本部门联络人能收到新案件提醒，无需处理。"
NOTICE_TEST_NO_ADDRESS = "该联络人没有可用的接收地址"
NOTICE_TEST_NOBODY = "{department} 没有已绑定的联络人。"
NOTICE_TEST_ACCEPTED = "微信已接收"
NOTICE_TEST_REFUSED = "微信拒绝"
REPORT_DEPT_TODO_SUBJECT = "新举报{case_no}"  # a new case in the reminders' to-do template (事项)

REPORTER_MASK_ERASED = "身份信息已按保存期限或本人请求删除"
REPORTER_MASK_ANONYMOUS = "匿名举报人"
REPORTER_MASK_REAL = "实名举报人（{name}，{phone}）"

REPORT_ERR_NOT_FOUND = "没有编号为{case_no}的举报"
REPORT_ERR_STATUS = "未知状态“{status}”（可用：{known}）"
REPORT_ERR_TRANSITION = "不能从“{old}”改为“{new}”（可改为：{allowed}）"
REPORT_ERR_REASON = "不予受理必须填写原因（reason）和有权处理的单位（competent_authority）"
REPORT_ERR_RESOLVED = "办结必须填写处理结果（note）和给举报人的答复（public_reply）"
REPORT_ERR_DUPLICATE_OF = "并案必须给出另一个存在的案件编号（duplicate_of）"
REPORT_ERR_DEPARTMENT = "没有名为“{department}”的部门"
REPORT_ERR_COUNTY = "未知区县“{county}”（可用：{known}）"
REPORT_ERR_NOTE = "备注不能为空"
REPORT_ERR_ACTOR = "必须注明操作人"
REPORT_ERR_TOO_LONG = "{field}太长（上限{max}字）"
REPORT_ERR_CATEGORY = "未知类别“{category}”"
REPORT_NOTE_OUTSIDE = "位置在运城市范围外（或标注为外地），需人工转办"
REPORT_NOTE_NEAREST = "按最近县城定为{county}（约{km}公里）"
REPORT_NOTE_LABEL = "按位置名称定为{county}"
REPORT_NOTE_ADDRESS = "按地址定为{county}"
REPORT_NOTE_BORDER = "位置靠近{candidates}交界，举报人确认为{county}"
REPORT_NOTE_BORDER_UNSURE = "位置靠近{candidates}交界，举报人不确定，暂按最近县城定为{county}，需人工核实"
REPORT_NOTE_ADDRESS_CHOSEN = "地址未写明区县，举报人选择{county}"
REPORT_NOTE_ADDRESS_UNSURE = "地址未写明区县，举报人不确定，需人工判断"
REPORT_HELP_IN_WIZARD = "您正在填写举报，按提示回复即可，发送“取消”可退出。\n"

# ---- knowledge (questions and answers; knowledge/ and handlers/knowledge.py) --------------------------

KB_SOURCE_PREFIX = "依据："
KB_SOURCE_SEPARATOR = "；"
KB_SUGGEST_HEADER = "您还可以问（回复序号）："
KB_SUGGEST_ITEM = "{n}. {question}"
KB_UNSURE = "抱歉，这个问题我还不能确定怎么回答。"
KB_UNSURE_SUGGEST_HEADER = "您是不是想问（回复序号查看）："
KB_HUMAN_ROUTE = "需要人工帮助：环境违法举报请拨打12369环保举报热线；政策咨询请联系运城市生态环境局。"
KB_HEALTH = (
    "看病用药的问题（怎么吃、吃多久、能不能同时喝酒等）请咨询医生或药师；我这里解答新污染物治理和举报方面的问题。"
)
KB_NO_DATA = (
    "这方面的具体信息（物质的理化性质和限值、办事收费和期限、系统账号、检测或咨询机构等）我这里没有可靠资料，"
    "请以主管部门公布的信息为准；我可以告诉您相关规定和管控要求。"
)
KB_OTHER_TOPIC = (
    "我这里解答新污染物治理方面的问题；大气、水、土壤污染防治，环评、排污许可等其他环境工作，"
    "请咨询运城市生态环境局，环境违法可拨打12369。"
)
KB_ABROAD = "我只能解答我国和运城市的新污染物管理规定，其他国家和地区的规定请查阅当地官方资料。"
KB_OTHER_PLACE = "我只能解答运城市的新污染物治理问题，其他地区的情况请咨询当地生态环境部门。"
KB_EMPTY = "请直接输入您的问题，例如“PFOS还能用吗”“每年进口5吨新化学物质要办什么登记”。"
KB_NUMBER_ONLY = (
    "只收到一个数字。请输入完整的问题，例如“每年进口5吨新化学物质要办什么登记”；"
    "查CAS号请写全，如“1763-23-1”。"
)
KB_PICK_EXPIRED = "序号对应的问题已失效，请直接输入您的问题。"
KB_GREETING = (
    "您好！我是运城新污染物治理问答助手，可以直接问我，例如“PFOS还能用吗”“运城的新污染物方案谁负责解读”。"
)
KB_THANKS = "不客气！还有问题随时问我。"
KB_BYE = "再见！有问题随时来问。"

KB_CHEMICAL_TITLE = "【{name}】"
KB_CHEMICAL_ALIASES = "又称：{aliases}"
KB_CHEMICAL_CAS = "CAS号：{cas}"
KB_CHEMICAL_CAS_MORE = "等{n}个"
KB_CHEMICAL_CAS_MATCH = "CAS号 {cas} 对应的物质是："
KB_CHEMICAL_KEY_LIST = "《重点管控新污染物清单（2023年版）》第{item}类"
KB_CHEMICAL_PRIORITY = "《优先控制化学品名录》{codes}"
KB_CHEMICAL_LISTS = "所在名录：{lists}"
KB_CHEMICAL_NOT_KEY_LIST = "未列入《重点管控新污染物清单（2023年版）》"
KB_CHEMICAL_MEASURES = "管控措施：{measures}"
KB_CHEMICAL_MEASURES_KEY_GENERIC = (
    "已列入重点管控清单，适用禁止、限制、限排等管控措施；"
    "具体要求请查阅清单原文或咨询运城市生态环境局，以主管部门最新要求为准。"
)
KB_CHEMICAL_MEASURES_PRIORITY = (
    "名录中的化学品主要通过纳入有毒有害污染物名录和排污许可管理、限制产品中含量、实施强制性清洁生产审核等方式管控。"
)
KB_CAS_UNKNOWN = (
    "CAS号 {cas} 不在本账号收录的《重点管控新污染物清单（2023年版）》和《优先控制化学品名录》物质中。"
    "这不代表它没有其他管理要求；如果它没有列入《中国现有化学物质名录》，生产或进口前要办理新化学物质登记或备案。"
)
KB_CAS_BAD_CHECKSUM = "CAS号 {cas} 的校验位对不上，可能输错了，请核对后再发。"

KB_REG_KIND_NAMES = {"standard": "常规登记", "simple": "简易登记", "filing": "备案"}
KB_REG_RULES = {
    "standard": "年生产或进口量10吨及以上",
    "simple": "年生产或进口量1吨及以上、不足10吨",
    "filing": "年生产或进口量不足1吨",
}
KB_REG_RESULT = "按每年{activity}{amount}计，属于新化学物质“{kind_name}”（{rule}）。"
KB_REG_NEXT = {
    "standard": (
        "要在{activity}之前取得常规登记证：通过生态环境部政务服务平台在线申请，"
        "由生态环境部固体废物与化学品管理技术中心受理审查。"
        "取得后，首次生产或首次进口并转移之日起60日内报告首次活动情况；登记证要求年报的，每年4月30日前报送。"
    ),
    "simple": (
        "要在{activity}之前取得简易登记证：通过生态环境部政务服务平台在线申请，"
        "由生态环境部固体废物与化学品管理技术中心受理审查。"
        "取得后，首次生产或首次进口并转移之日起60日内报告首次活动情况。"
    ),
    "filing": (
        "要在{activity}之前办理备案：通过生态环境部政务服务平台在线提交，系统自动出具回执，"
        "取得回执即可开展活动，生态环境部会抽查。"
    ),
}
KB_REG_PER_PERIOD = "（按每{per}{stated}折算，全年约{amount}。）"
KB_REG_EDGE = "（刚好1吨属于简易登记，刚好10吨属于常规登记。）"
KB_REG_EXEMPT = "注意：{word}等产品由专门法规管理，不适用本办法；但用于其他工业用途的仍要登记。"
KB_REG_POLYMER = "聚合物中新单体或反应体重量占比不超过2%、或属于低关注聚合物的，可以办理备案。"
KB_REG_INVENTORY = "提示：只有未列入《中国现有化学物质名录》的物质才是新化学物质，已在名录中的不用办理。"
KB_REG_PLANNED = "（您说了几个数字，这里按计划的年量{amount}计算。）"
KB_REG_OTHER = "另一种年量{amount}的：属于“{kind_name}”。"
KB_REG_CLAIM = "不对：新化学物质年量不满1吨也不是什么都不用办，要在生产或进口前办理备案。"
KB_REG_EXEMPT_LEAD = (
    "先说明：{word}等产品由专门法规管理，不适用《新化学物质环境管理登记办法》；"
    "只有用于其他工业用途的才按下面办理。"
)
KB_REG_EXISTING = (
    "{name}（CAS号 {cas}）已列入《中国现有化学物质名录》，是现有化学物质，不是新化学物质，"
    "生产或进口它不需要办理新化学物质登记或备案。"
)
KB_REG_EXISTING_LISTED = "它同时在新污染物管控名录里，另有管控要求，见下面的资料卡。"

KB_PLAN_CLAUSE = "方案{citation}“{title}”：{body}"
KB_PLAN_UNITS = "责任单位：{units}"
KB_CHEMICAL_SUGGEST = "{name}有哪些管控要求？"
KB_PLAN_SUGGEST = "方案{citation}：{title}"
KB_KEY_LIST_ELIMINATED = "（已淘汰类）"
KB_CODE_UNKNOWN = (
    "《优先控制化学品名录》编号{code}对应的物质，本知识库没有核实的资料，请查阅名录原文或咨询运城市生态环境局。"
)
KB_PARTIAL = "{what}没有写明{label}。能确认的是："
KB_PARTIAL_WHAT = "方案和相关规定"
KB_PARTIAL_ROUTE = "具体情况请咨询运城市生态环境局，或拨打12345政务服务便民热线转接；环境违法举报请拨打12369。"
KB_HEDGED_ROUTE = "如需确认，请咨询运城市生态环境局，或拨打12345政务服务便民热线转接。"
KB_REPORT_LEAD = (
    "这种情况可以举报：拨打12369环保举报热线，或在本公众号发送“举报”，按提示提交描述、位置和照片，"
    "提交后发送“查询 编号”可以看处理进度。"
)
KB_REPORT_SUGGEST = (
    "如果您想举报这个情况：拨打12369环保举报热线，或在本公众号发送“举报”按提示提交（可附位置和照片）。"
)
KB_REPORT_ROUTE = "举报电话：12369环保举报热线；也可以在本公众号发送“举报”直接提交。"
KB_EMERGENCY = (
    "如有人中毒、受伤或身体不适：请立即拨打120急救电话，或马上去医院就诊，"
    "并带上物品的包装或说清物质名称，方便医生判断。健康咨询可拨打12320卫生健康热线。"
)
KB_EMERGENCY_CARD = "（下面是这种物质的管控资料，供参考，不能代替就医。）"
KB_UNIT_DUTIES = "按方案分工，{unit}参与以下工作（与其他单位按职责分工负责）："
KB_UNIT_DUTY_ITEM = "{n}. 方案{citation}“{title}”{body}"
KB_OFF_TOPIC = (
    "这个问题不在我能解答的范围内。我是运城市新污染物治理公众号的助手，可以：\n"
    "1. 解答新污染物政策问题（如“PFOS还能用吗”“新化学物质登记分哪几种”）；\n"
    "2. 受理举报：发送“举报”，按提示提交环境违法线索；\n"
    "3. 查询举报进度：发送“查询 编号”。"
)
KB_ENGLISH = (
    "This account answers questions (in Chinese) on Yuncheng's new-pollutant rules, takes reports of "
    "environmental violations (send 举报) and looks up a report's progress (send 查询 + number); "
    "for urgent environmental complaints call 12369."
)


# ---- officials/reminders (binding, 我的任务, 收到, 完成, 解绑; reminder messages) ----------------------

BIND_HELP = (
    "部门联络人绑定：\n"
    "1. 请向市生态环境局索取本单位的绑定码（7天内有效，只能使用一次）；\n"
    "2. 在本公众号发送“绑定 绑定码”，例如“绑定 K7QM-4XPA”；\n"
    "3. 绑定后可发送“我的任务”查看本单位任务，收到提醒后回复“收到”，完成后发送“完成 任务编号”，"
    "不再接收请发送“解绑”。"
)
BIND_USAGE = "请在“绑定”后加上绑定码，例如“绑定 K7QM-4XPA”。" + "\n" + "没有绑定码？请联系市生态环境局。"
BIND_OK = "绑定成功：您已登记为“{department}”的联络人{name}。\n发送“我的任务”查看本单位任务；收到提醒后回复“收到”。"
BIND_ALREADY = "您已是“{department}”的联络人。如需改绑其他单位，请先发送“解绑”，再用新的绑定码绑定。"
BIND_INVALID = "绑定码无效、已使用或已过期。请核对后重发，或向市生态环境局索取新的绑定码。"
BIND_MALFORMED = "绑定码格式不对：应为8位字母和数字，例如 K7QM-4XPA。"
BIND_THROTTLED = "尝试次数过多，请一小时后再试；如有疑问请联系市生态环境局。"
NOT_OFFICIAL = (
    "这个功能仅供已绑定的部门联络人使用。\n"
    "如果您是牵头或配合单位的联络人，请向市生态环境局索取绑定码，然后发送“绑定 绑定码”。"
)
UNBIND_OK = "已解除绑定，“{department}”的任务提醒将不再发送给您。如需恢复，请重新索取绑定码。"

MY_TASKS_HEADER = "{department}的未完成任务（{count}项，其中牵头{lead}项；逾期的在前）："
MY_TASKS_LINE = "{id}｜{title}{lead}\n  {period}{deadline}｜{status}"
MY_TASKS_LEAD = "【牵头】"
MY_TASKS_DONE_BEFORE = "（{period}已于{date}完成）"
MY_TASKS_PAGE = "（第{page}/{pages}页）"
MY_TASKS_NEXT = "发送“更多”或“我的任务 {next}”查看下一页。"
MY_TASKS_NO_PAGE = "没有第{page}页：本单位的未完成任务共{pages}页，请发送“我的任务 1”至“我的任务 {pages}”。"
MY_TASKS_FOOTER = "完成后请发送“完成 任务编号”，如“完成 {example}”。"
MY_TASKS_NONE = "{department}目前没有未完成的任务。"
TASK_STATUS_OVERDUE = "已逾期{n}个工作日"
TASK_STATUS_DUE_TODAY = "今天到期"
TASK_STATUS_LEFT = "还剩{n}个工作日"
TASK_STATUS_DONE = "已完成"
TASK_DEADLINE = "截止{date}"
TASK_DEADLINE_NONE = "无截止日期"

ACK_OK = "已确认收到（{count}条提醒）。完成后请发送“完成 任务编号”。"
ACK_NONE = "目前没有需要确认的提醒。发送“我的任务”查看本单位任务。"
ACK_ALREADY = "这条提醒此前已确认收到。"

DONE_USAGE = "请在“完成”后加上任务编号，例如“完成 {example}”（{title}）。发送“我的任务”查看全部编号。"
DONE_USAGE_NONE_OPEN = "{department}目前没有未完成的任务，无需登记。发送“我的任务”可随时查看。"
DONE_OK = "已记录：{department}完成了任务 {id}“{title}”（{period}），登记人{actor}，{at}。"
DONE_ALREADY = "任务 {id} 此前已登记为完成（{period}），无需重复登记。"
DONE_FAILED = "无法登记：{reason}"
PERIOD_ONCE = "本期"
PERIOD_YEAR = "{year}年度"

# Reminder messages. Template fields are one line of at most 20 characters; the rest is behind the url.
REMINDER_TITLE = "新污染物治理任务提醒"
REMINDER_FIELD_SUBJECT = "事项"
REMINDER_FIELD_DEADLINE = "截止时间"
REMINDER_FIELD_STATUS = "状态"
REMINDER_FIELD_UNIT = "单位"
REMINDER_MANY = "{count}项任务提醒"
REMINDER_KIND = {
    "before": "还剩{n}个工作日",
    "due": "今天到期",
    "overdue": "已逾期{n}个工作日",
    "escalate": "督办：{count}个单位逾期",
    "catchup": "逾期任务汇总",
    "casedigest": "超期案件周报",
}
REMINDER_SUMMARY = "逾期{overdue}项，临近{upcoming}项"
REMINDER_DETAIL_HEADER = "{unit}：{name}您好，以下任务请关注（运城市新污染物治理工作方案）："
REMINDER_DETAIL_LINE = "· {id}〔{citation}〕{title}，截止{due}，{state}"
REMINDER_DETAIL_ESCALATE = "· {id}〔{citation}〕{title}，截止{due}，仍未完成的单位：{units}"
REMINDER_DETAIL_CATCHUP = "· 服务暂停期间有提醒未能按时发出，已合并为本条汇总。"
REMINDER_DETAIL_FOOTER = "回复“收到”确认；完成后回复“完成 任务编号”；回复“我的任务”查看全部。"
REMINDER_PAGE_TITLE = "任务提醒详情"
REMINDER_PAGE_MISSING = "提醒不存在或链接已失效。"

UNREACHABLE_TITLE = "联络人无法接收提醒"
# Same order as the reminder fields: 事项, 时间, 状态, 单位.
UNREACHABLE_FIELDS = {"事项": "联络人{name}无法接收提醒", "时间": "{date}", "状态": "{reason}", "单位": "{department}"}
UNREACHABLE_DETAIL = "{department}联络人{name}无法接收提醒（{reason}），已停止向其发送。请核实后重新邀请绑定。"
UNREACHABLE_REASON_UNFOLLOWED = "未关注公众号"
UNREACHABLE_REASON_INVALID = "账号无效"
CALENDAR_TITLE = "工作日历即将失效"
# Same order as the reminder fields: 事项, 时间, 状态, 单位.
CALENDAR_FIELDS = {"事项": "节假日安排待更新", "时间": "{until_time}", "状态": "{state}", "单位": "{department}"}
CALENDAR_STATE_ENDING = "{days}天后到期"
CALENDAR_STATE_ENDED = "已按周一至周五计"
CALENDAR_DETAIL = (
    "系统的节假日与调休数据只到{until}。此后提醒按周一至周五计算工作日，节假日也会计入。"
    "国务院办公厅公布{year}年节假日安排后，请运维人员更新 knowledge/data/workdays.toml。"
)
# ---- the plan's tasks: marking done (bot/tasks/status.py) and the tasks file (bot/tasks/planfile.py) ------

TASK_ERRORS = {
    "unknown": "没有编号为 {task_id} 的任务",
    "not_assigned": "任务 {task_id} 没有分配给 {department}",
    "no_deadline": "任务 {task_id} 没有截止日期",
    "no_period": "任务 {task_id} 没有周期 {period}（可选：{choices}）",
}
# For whoever edits tasks.toml (`python -m bot tasks import`); each names the file and the entry.
TASK_FILE_PROBLEMS = {
    "where": "task #{index}",
    "where_id": "task #{index} (id {id})",
    "not_string": "{where}: {key} must be a string",
    "required": "{where}: {key} is required",
    "too_long": "{where}: {key} is longer than {limit} characters",
    "not_unit_list": "{where}: {key} must be a list of department names",
    "unit": "{where}: {key}: {reason}",
    "not_table": "{where}: must be a table ([[task]])",
    "key_unknown": "{where}: unknown key {key!r} (known: {known})",
    "id": "{where}: id must be a letter followed by letters, digits or '-' (at most 32), e.g. T05",
    "rule": "{where}: deadline_rule must be one of {rules}",
    "active": "{where}: active must be true or false",
    "lead_named": "{where}: lead_named must be true or false",
    "deadline": '{where}: deadline must be a date such as 2025-12-31 (or set recurrence = "yearly")',
    "yearly_only": '{where}: {key} only applies to recurrence = "yearly"',
    "yearly_deadline": '{where}: a yearly task has due = "MM-DD", not deadline',
    "due": '{where}: due must be a month and day such as "12-31"',
    "due_day": "{where}: due {due} is not a day of the year",
    "year": "{where}: {key} must be a year between 2000 and 2100",
    "years": "{where}: last_year is before first_year",
    "recurrence": '{where}: recurrence must be "once" or "yearly"',
    "toml": "{source}: not valid TOML: {error}",
    "top_unknown": "{source}: unknown top-level key(s) {keys}; tasks are [[task]] tables",
    "none": "{source}: no [[task]] entries",
    "twice": "task id {id} appears twice (entries #{first} and #{second})",
    "no_file": "{path}: no such file",
    "not_utf8": "{path}: cannot be read as UTF-8 text ({error})",
}

# ---- end of officials/reminders ---------------------------------------------------------------------
KB_UNAVAILABLE = "问答服务正在启动，请稍后再试。紧急情况请拨打12369环保举报热线。"
KB_IDENTITY = (
    "我是“运城新污染物治理”公众号的自动问答助手，答案来自运城市方案和有关法规。"
    "需要人工帮助请拨打12369环保举报热线，或联系运城市生态环境局。"
)


# ---- facts found by storage (storage/facts.py), in words; ``reason(error)`` picks the sentence -----------
FACTS = {
    "delivery_not_pending": "{source} #{id} 已不在待发送状态（已发出、已放弃或已删除）。",
    "delivery_no_route": "该联络人没有其他可用渠道（需同时绑定公众号和企业微信）。",
    "delivery_already_rerouted": "{source} #{id} 已经改由其他渠道发送过。",
    "report_not_found": REPORT_ERR_NOT_FOUND,
    "no_departments": "没有任何部门：请先运行 python -m bot db upgrade",
    "department_ambiguous": "部门“{wanted}”不唯一，可能是：{choices}",
    "department_unknown": "未知部门“{wanted}”。可选：{choices}",
    "contact_name_too_long": "姓名过长（最多 {limit} 个字符）",
    "wecom_userid_invalid": "企业微信 userid 只能由字母、数字和 _ . @ - 组成，最长 64 个字符",
    "wecom_userid_taken": "userid {userid} 已是 {department} 的联络人（编号 {contact_id}）",
    "staff_username_invalid": "用户名须为 2–64 个字符，只能包含字母、数字、汉字和 . _ - @",
    "staff_password_too_short": "密码至少 {limit} 个字符",
    "staff_password_too_long": "密码最多 {limit} 个字符",
    "staff_password_unclean": "密码不能以空白开头或结尾，也不能包含控制字符",
    "staff_department_unknown": (
        "没有名为“{name}”的部门。可用的部门：{choices}；区县政府：{counties}（也可只写区县名，如“{example}”）"
    ),
    "staff_exists": "用户“{name}”已存在；要改密码请用 staff reset-password",
    "staff_unknown": "没有用户“{name}”",
}
LIST_SEPARATOR = "、"


def reason(error: Exception) -> str:
    """What went wrong, in words: a storage fact (``fact`` and ``details``) through ``FACTS``; any other error
    already carries its sentence."""
    sentence = FACTS.get(getattr(error, "fact", None) or "")
    if sentence is None:
        return str(error)
    details = getattr(error, "details", {})
    values = {key: LIST_SEPARATOR.join(map(str, v)) if isinstance(v, tuple) else v for key, v in details.items()}
    return sentence.format(**values)


# ---- staff console (/console): flashes, error pages, field errors; page text lives in the templates ----

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
NEED_SUMMARY = "受理须填写公开摘要（受理后将公开发布，请删去个人信息）。"
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
    "delivery_retry": "消息立即重发",
    "delivery_reroute": "消息改由其他渠道发送",
    "delivery_discard": "消息放弃发送",
    "report_status": "更改状态",
    "privacy_purge": "按保存期限清理个人信息",
    "privacy_erasure": "执行删除个人信息请求",
}

FIELD_LABELS = {
    "note": "处理说明/备注",
    "public_reply": "给举报人的答复",
    "reason": "不予受理理由",
    "competent_authority": "有权处理的机关",
    "duplicate_of": "原案件编号",
    "department": "部门",
    "county": "县(市、区)",
    "public_summary": "公开摘要",
}
SHEET_REPORTS = "举报案件"
SHEET_TASKS = "方案任务"

# ---- Open311 (public) -------------------------------------------------------------------------------
OPEN311_GROUP = "环境违法举报"
OPEN311_AREA = "山西省运城市{county}"
CATEGORY_DESCRIPTION = "{label}。责任部门：{units}"

TASK_ROLE_LABELS = {"lead": "牵头", "co": "配合", "local": "属地落实"}
# where the plan names no lead unit, the units named in the clause share the task by their duties
TASK_ROLE_SHARED = "按职责分工负责"
TASK_ROLE_SOLE = "负责"  # the one unit a clause names, without 牵头
TASK_UNITS_SHARED = "{units}（按职责分工负责）"
TASK_NO_LEAD = "方案未指定牵头单位"
TASK_PERIOD_ONCE = "一次性"
TASK_DONE_VIA_LABELS = {"chat": "微信", "console": "控制台", "cli": "命令行"}
AUDIT_TASK_DONE_DETAIL = "任务 {task}｜{department}｜{period}｜经{via}"
AUDIT_EXPORT_DETAIL = "{format}，{rows}行"
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
    ("period", "周期"),
    ("status", "状态"),
    ("done_at", "完成时间"),
    ("done_by", "记录人"),
    ("reminders_sent", "本部门已发提醒"),
    ("reminders_acknowledged", "本部门已确认收到"),
)

# ---- statistics (console 统计 page and the monthly report) --------------------------------------------

STATS_UNROUTED = "待分派"
STATS_NO_DATA = "所选范围内没有数据"
STATS_BAD_MONTH = "月份格式应为 YYYY-MM（如 2026-11）：{value}"
STATS_PERIOD_TOO_LONG = "统计时段不能超过 {years} 年"
STATS_SECTIONS: dict[str, str] = {
    "summary": "汇总",
    "month": "按月案件数",
    "county": "按县（市、区）",
    "category": "按类别",
    "status": "按状态",
    "tasks": "方案任务（按部门）",
    "questions": "每周提问与未能回答",
}
STATS_SUMMARY_LABELS: dict[str, str] = {
    "period": "统计时段",
    "scope": "范围",
    "total": "案件总数",
    "median_accept_days": "受理决定用时中位数（天）",
    "median_resolve_days": "办结用时中位数（天，自受理起）",
    "accept_on_time": "按时作出受理决定",
    "accept_ended": "受理时限已届满或已决定",
    "accept_share": "按时受理率",
    "complete_on_time": "按时办结",
    "complete_ended": "办结时限已届满或已办结",
    "complete_share": "按时办结率",
    "overdue_now": "当前超期案件",
    "computed_at": "统计时间",
}
STATS_TASK_COLUMNS: tuple[str, ...] = ("部门", "已完成", "进行中", "已逾期")
STATS_COUNT_COLUMNS: tuple[str, ...] = ("项目", "案件数")
STATS_SCOPE_ALL = "全市"
STATS_QUESTION_COLUMNS: tuple[str, ...] = ("周", "提问数", "未能回答")
STATS_QUESTION_SERIES: tuple[str, ...] = ("已回答", "未能回答")
STATS_QUESTIONS_HINT = "政策问答的提问（全市，不分部门和县区；只按统计时段筛选）。"
STATS_CSV_COLUMNS: tuple[str, ...] = ("部分", "项目", "数值", "数值2", "数值3")

# ---- case clocks (acceptance and completion deadlines) ------------------------------------------------

CLOCK_STAGES: dict[str, str] = {"accept": "受理决定", "complete": "办结", "stopped": "已停止计时"}
CLOCK_EXTEND_NOT_OPEN = "只有已受理、尚未办结的案件可以延长办理期限。"
CLOCK_EXTEND_BAD_DAYS = "延长天数须为 1 到 365 之间的整数。"
CLOCK_EXTEND_NO_REASON = "请填写延长办理期限的理由。"
CLOCK_EXTEND_REASON_TOO_LONG = "理由请不超过 {limit} 个字。"
CLOCK_EXTEND_TOO_LONG = "延长合计不能超过 {limit} 日（已延长 {already} 日）。"
CLOCK_EXTEND_EVENT = "延长办理期限 {days} 日：{reason}"
CLOCK_EXTENDED = "已将案件 {case_no} 的办理期限延长 {days} 日。"
CLOCK_OVERDUE_BY = "已超期 {days} 天"
CLOCK_LEFT = "剩 {days} 天"
CLOCK_LEFT_HOURS = "剩不到 1 天"
REPLY_TEMPLATE_UNKNOWN = "没有适用于本案类别的这个答复模板，请从列表中选择。"
CASE_REMINDER_DEADLINE = "时限"
CASE_REMINDER_TITLE = "{category}举报案件"
REMINDER_DETAIL_CASES = "· {unit}：超期案件 {count} 件，最早的时限是{due}"

# ---- rating an answer (question log) --------------------------------------------------------------------

KB_RATE_USEFUL = ("有用",)
KB_RATE_WORDS = ("有用", "没用")
KB_RATED_USEFUL = "感谢反馈！很高兴能帮到您。"
KB_RATED_USELESS = "感谢反馈！这个问题已记录，工作人员会据此完善问答内容。您也可以换个说法再问，或拨打12369咨询。"
KB_RATE_NOTHING = "没有找到您最近30分钟内的提问。请直接输入问题。"
KB_RATE_PROMPT = "（这条回答有帮助吗？回复“有用”或“没用”，也可以点菜单“政策问答”评价。）"

# ---- 问答改进 (console) -----------------------------------------------------------------------------------

QA_REVIEW_ONLY = "问答改进页面仅限管理员和市生态环境局的账号使用。"
QA_BAD_DAYS = "最近天数须为 1 到 365 之间的整数"
QA_BAD_GROUP = "没有指明要处理的提问组。"
QA_MARKED = "已将这组提问标记为超出问答范围。"
QA_ALREADY_DECIDED = "这组提问已经处理过了。"
QA_REASONS: dict[str, str] = {"refused": "未能回答", "low": "把握不大", "useless": "用户评为没用"}
QA_DECISIONS: dict[str, str] = {
    "out_of_scope": "已标记为超出范围",
    "attached": "已加为条目的新问法（草稿）",
    "drafted": "已起草新条目",
}
# knowledge changes drafted on 问答改进 (knowledge/edits.py checks them)
KB_EDIT_EMPTY_QUESTION = "问法不能为空。"
KB_EDIT_TOO_LONG_QUESTION = "问法不能超过 {limit} 个字。"
KB_EDIT_DUPLICATE = "“{question}”已经是条目 {entry} 的问法。"
KB_EDIT_REPEATED = "同一个问法写了两次。"
KB_EDIT_NO_ENTRY = "没有编号为 {entry} 的条目。"
KB_EDIT_BAD_ID = "条目编号只能用小写字母、数字和连字符（最长64个字符），以字母或数字开头。"
KB_EDIT_ID_TAKEN = "编号 {entry} 已被使用。"
KB_EDIT_FEW_PARAPHRASES = "除问题外至少还要写 {n} 种问法。"
KB_EDIT_EMPTY_ANSWER = "回答不能为空。"
KB_EDIT_NO_SOURCE = "必须写明依据（来源）。"
KB_EDIT_BAD_SOURCE = "依据“{source}”不在来源表（sources.toml）里，或方案没有这一条款。"
KB_EDIT_TOO_LONG_ANSWER = "回答连同依据共 {n} 个字，超过一条微信消息的 {limit} 字。"
KB_EDIT_BAD_FILE = "请选择要导出到的条目文件。"
KB_EDIT_DRAFTED = "已保存为草稿（编号 {id}），待管理员检验并发布。"
KB_PUBLISHED = "已发布，知识版本 {version}。各服务进程将在后台重建索引后切换。"
KB_REJECTED = "已退回这份草稿，相应的提问组重新列出。"
KB_PUBLISH_OUTCOMES: dict[str, str] = {
    "refused": "发布被拒绝：这项修改会降低封存评测批次的成绩（修改前 → 修改后）：",
    "not_draft": "这份修改不是待审核的草稿（可能已被发布或退回）。",
    "invalid": "这份草稿已不能发布：",
    "no_gate": "发布被拒绝：找不到封存评测批次，无法检验修改（见配置 [knowledge] eval_dir）。",
    "conflict": "发布被拒绝：检验期间已有其他修改发布，请重新检验并发布。",
}
# ---- failed deliveries (console, admins) -----------------------------------------------------------
DELIVERY_STATES = {"dead": "已放弃（不再重试）", "waiting": "等待用户再次发言", "retrying": "重试中"}
DELIVERY_SOURCES = {"outbox": "消息"}
DELIVERY_PURPOSES = {
    "notice": "新案件通知",
    "report_update": "案件进展告知",
    "reminder_digest": "任务提醒",
    "reminders": "联系人不可达通知",
    "calendar": "工作日历提醒",
    "": "其他",
}
DELIVERY_ACTIONS = {"retry": "立即重发", "reroute": "改由其他渠道发送", "discard": "放弃"}
DELIVERY_DONE = {
    "retry": "已安排立即重发（{source} #{id}）。",
    "reroute": "已改由其他渠道发送（{source} #{id}）。",
    "discard": "已放弃发送（{source} #{id}），已记入审计日志。",
}
DELIVERY_REROUTED_TITLE = "转发的通知"
DELIVERY_CONFIG_ALERT = "配置错误：{count} 条消息因 {errcode}（{meaning}）发不出去，重试无效。{fix}"
# WeChat / WeCom error codes seen when sending, with what they mean for the operator.
ERRCODE_MEANINGS = {
    -1: "微信系统繁忙，稍后会自动重试",
    40001: "AppSecret 错误或 access_token 无效",
    40003: "openid 无效（不是本公众号的用户）",
    40013: "AppID 无效",
    40037: "模板 ID 无效",
    40125: "AppSecret 无效",
    40164: "调用接口的 IP 不在公众号白名单中",
    43004: "用户未关注公众号",
    43101: "用户拒绝接收此类消息",
    45009: "接口调用次数已达当日上限",
    45015: "超过 48 小时客服消息时限",
    47003: "模板参数不符合要求",
    48001: "公众号未获得该接口权限",
    60020: "企业微信：服务器 IP 不在可信 IP 列表中",
    81013: "企业微信：接收人无效或不在应用可见范围",
}
ERRCODE_FIXES = {
    40164: "请在公众号后台“设置与开发→基本配置→IP白名单”中加入服务器的出口 IP，然后点“立即重发”。",
    48001: "请确认公众号已认证并开通模板消息等接口权限。",
    40037: "请核对 [reminders] template_id 与公众号后台的模板 ID 一致。",
    40001: "请核对 [wechat] app_secret（YCBOT_WECHAT_APP_SECRET）。",
    40125: "请核对 [wechat] app_secret（YCBOT_WECHAT_APP_SECRET）。",
    40013: "请核对 [wechat] app_id。",
    60020: "请在企业微信管理后台把服务器出口 IP 加入应用的可信 IP。",
}
ERRCODE_UNKNOWN = "未知错误码"

# ---- privacy (个人信息保护) ---------------------------------------------------------------------------
MENU_PRIVACY = "隐私说明"
PRIVACY_NOTICE = (
    "【个人信息保护说明】\n"
    "收集什么：您的微信标识（openid）；举报的内容、照片和位置；实名举报时的姓名和手机号。"
    "不保存您随手发送的实时位置。\n"
    "为什么：受理、核查和答复举报，实名举报用于核实和发放奖励。\n"
    "谁能看到：案件的承办部门；实名信息只有系统管理员能看到，每次查看都有记录；不会告诉被举报方。"
    "案件受理后只公开工作人员审核过的摘要和约100米精度的位置，不公开举报人。\n"
    "保存多久：案件办结{identity_days}天后删除举报人身份（案件记录保留），{photo_days}天后删除照片，"
    "{location_days}天后把精确位置模糊到约1公里；未完成的对话{conversation_days}天后删除。\n"
    "您的权利：发送“我的数据”查看我们保存的您的信息，发送“删除我的信息”申请删除。"
)
PRIVACY_PAGE_TITLE = "个人信息保护说明"
PRIVACY_WORDS = ("隐私", "隐私说明", "隐私政策", "个人信息保护")
MY_DATA_WORDS = ("我的数据", "我的信息")
ERASE_WORDS = ("删除我的信息", "删除我的数据")
MY_DATA_NONE = "我们保存的您的信息：只有您的微信标识（openid）和最近一次发消息的时间，没有举报记录。"
MY_DATA = (
    "我们保存的您的信息（查阅请求已登记，编号P{request_id}）：\n"
    "微信标识（openid）；举报{count}件：{cases}。\n"
    "其中实名举报{real_name}件（保存姓名和手机号），照片{photos}张，带精确位置{pinned}件。\n"
    "发送“查询 案件编号”查看某件的详情；发送“删除我的信息”申请删除。"
)
ERASE_RECORDED = (
    "已登记您的删除请求（编号P{request_id}），工作人员会在15个工作日内处理："
    "已办结案件中的姓名、手机号和微信标识将被删除，案件记录本身保留；"
    "正在办理的案件需要联系您时仍会使用，办结后一并删除。"
)
ERASE_ALREADY = "您的删除请求（编号P{request_id}）已在处理中，无需重复申请。"
PRIVACY_REQUEST_KINDS = {"access": "查阅", "erasure": "删除"}
PRIVACY_REQUEST_STATUS = {"open": "待处理", "done": "已处理"}
PRIVACY_ERASED = "已执行删除请求P{request_id}：{cases}件已办结案件的身份信息已删除，{open}件办理中的案件保留。"
PRIVACY_REQUEST_DONE = "请求P{request_id}已处理过了。"
PRIVACY_REQUEST_UNKNOWN = "没有编号为P{request_id}的请求。"

# ---- reporter notices by route; delivery records (console case page) ------------------------------------
# The confirmation after 确认 names only the routes that are configured (bot.reports.reporter_notice).
REPORT_OUTCOME_BY_TEMPLATE = "处理进展会以本公众号的模板消息告诉您（请保持关注）。"
REPORT_OUTCOME_SUBSCRIBE = "案件页可随时查看进度；在案件页点“订阅处理结果”，取消关注后也能收到一次通知：{url}\n"
REPORT_OUTCOME_PAGE = "案件页可随时查看进度：{url}\n"
REPORT_OUTCOME_NEXT_MESSAGE = "以上方式都送不到时，进展会在您下次给本公众号发消息（如“查询 {case_no}”）时告诉您。"
NOTICE_AUDIENCES = {"reporter": "举报人", "department": "部门"}
NOTICE_ROUTES = {
    "text": "客服消息",
    "template": "模板消息",
    "subscribe": "订阅通知",
    "textcard": "企业微信卡片",
    "wait": "等待",
}
NOTICE_RESULTS = {
    "sending": "发送中",
    "accepted": "已提交微信，等待回执",
    "delivered": "送达",
    "failed": "失败：{reason}",
    "waiting": "等待用户互动",
    "uncertain": "结果不明（可能已送达，不再重发）：{reason}",
}
NOTICE_PENDING = "待发送"
NOTICE_DEAD_TITLE = "案件通知未能送达"
NOTICE_DEAD_FIELDS = {"事项": "案件{case_no}通知未送达", "时间": "{date}", "状态": "{reason}", "单位": "{department}"}
NOTICE_DEAD_DETAIL = (
    "{department}联络人{name}没有收到案件{case_no}的通知（{reason}）。请核实其是否仍关注本公众号，必要时电话告知。"
)
NOTICE_DEAD_REASONS = {43004: "未关注公众号", 47003: "模板内容不符", 43019: "已拒收消息", 40037: "模板不存在"}
NOTICE_DEAD_BLOCKED = "已拒收模板消息"
NOTICE_DEAD_OTHER = "发送失败"
# The case page (public, behind an unguessable path)
CASE_PAGE_TITLE = "案件{case_no}"
CASE_PAGE_MISSING = "没有找到这个案件页。"
CASE_PAGE_SUBSCRIBE = "订阅处理结果"
CASE_PAGE_SUBSCRIBE_HINT = "订阅一次：下次进展会以服务通知发给您，取消关注后也能收到。"
CASE_PAGE_SUBSCRIBE_OFF = "订阅通知暂未开通；进展会通过本公众号告诉您，也可随时打开本页查看。"
CASE_PAGE_SUBSCRIBE_SANDBOX = "沙箱：在模拟器的工具栏中点“订阅结果”，模拟在本页授权订阅。"
CASE_PAGE_NO_REPLY = "暂无答复。"
CASE_PAGE_STATUS = "当前状态"
CASE_PAGE_SUBMITTED = "提交时间"
CASE_PAGE_REPLY = "答复"
CASE_PAGE_REJECTED = "不予受理原因：{reason}。建议向{authority}反映。"
CASE_PAGE_SUBSCRIBED = "已订阅：下次进展会以服务通知发给您。"
CASE_PAGE_SUBSCRIBE_FAILED = "订阅没有成功，请稍后再试；进展仍会通过本公众号告诉您。"
CASE_PAGE_QUERY = "也可以在本公众号发送“查询 {case_no}”查看进度。"

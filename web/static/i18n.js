// Words of the board and the sign-in page, Chinese first; the language switch keeps its choice.
"use strict";
const WORDS = {
  zh: {
    title: "金桥 · 值班台", board: "值班台", alarm: "按键呼叫", fall: "跌倒", checkin_missed_alert: "未按时报平安", offline_alert: "设备离线", heartbeat_missed_alert: "设备心跳超时", signin: "登录", name: "用户名", password: "密码", wrong: "用户名或密码错误",
    limited: "登录失败次数过多，请稍后再试", signout: "退出", report: "月报", visits: "走访", lang: "English", admin: "管理",
    open: "待处理", history: "历史记录", devices: "设备状态", community: "社区", all: "全部",
    state: "状态", kind: "类型", search: "搜索（姓名、地址、编号）", go: "搜索",
    emergency: "紧急呼叫", wellness: "平安关怀", device: "设备告警",
    triggered: "待响应", acknowledged: "已接警", resolved: "已结案", cancelled: "已取消",
    closed: "已关闭", none_open: "目前没有待处理的呼叫",
    tier: "已通知层级", next_tier: "升级倒计时", expires: "确认有效期", repeats: "重复按键",
    building: "楼道党员", mediator: "调解员", hotline: "求援热线", no_tier: "尚未通知",
    ack: "接警", resolve: "结案", note: "备注", outcome: "处理结果", timeline: "处理记录", card: "档案",
    false_alarm: "误报", helped_at_home: "上门帮助", family_came: "家属到场", ambulance_called: "已叫救护车",
    taken_to_hospital: "已送医院", other: "其他",
    notified: "已通知", sms: "短信", voice: "电话",
    queued: "排队中", sending: "发送中", sent: "已发送", delivered: "已送达", failed: "失败", skipped: "已跳过",
    record: "档案", sex_female: "女", sex_male: "男", born: "{y}年生", care_self_care: "自理",
    care_partly_dependent: "半失能", care_dependent: "失能", consent: "同意", consent_none: "未记录同意", about_age: "约{n}岁",
    hh_alone: "独居", hh_empty_nest: "空巢", sms_in_english: "英文短信",
    address: "地址", medical: "健康情况", contacts: "联系人", volunteers: "负责党员", devices_of: "设备",
    offline: "离线", overdue: "心跳超时", no_feedback: "无回执（按钮不显示“已收到”，回电时请告知老人）", low_battery: "电量低", ok: "正常", battery: "电量", last_seen: "最后在线",
    live: "实时", reconnecting: "重新连接中…", broker_down: "消息服务器断开", broker_since: "自 {t} 起", close: "关闭", by: "接警", went: "前往", resolved_by: "结案人", pick_outcome: "请选择结果", outcome_needed: "请先选择处理结果", note_needed: "误报或其他须填写备注说明", recent: "最近结案",
    new_emergency: "【新紧急呼叫】", opened_at: "呼叫时间", viewer_note: "只读账户", notify_family: "通知家属",
    maintenance: "待维护设备", none_maintenance: "没有待维护的设备", device_col: "设备", resident: "老人", since: "开始时间", close_item: "已处理",
    cond_never_seen: "从未上线", cond_online: "在线", cond_silent: "无心跳", cond_offline: "离线", cond_low_battery: "电量低", since_t: "（自 {t} 起）",
    pager: "呼叫器", pull_cord: "拉绳报警器", fall_detector: "跌倒探测器",
    sound_locked: "点击开启声音", sound_on: "声音已开", sound_ringing: "响铃中", sound_muted: "已静音", mute: "静音",

    dispatch: "派人前往", dispatch_again: "改派", dispatch_title: "派人前往", dispatch_hint: "请选择谁去老人家中。被派的人会收到地址和老人电话，其他已通知的人会收到无需前往的短信。",
    dispatch_self: "我去", dispatched_now: "（已派）", role_building: "楼道党员", role_mediator: "调解员", role_hotline: "求援热线", ask_to_go: "请其前往",
    repage: "再次通知", escalate: "转下一级", callnote_ph: "写一条处理记录（随时可写）", save_note: "记下", note_saved: "已记下",
    note_empty: "请先写下内容", repaged: "已再次发出 {n} 条短信和电话", repage_repeat: "刚刚已再次通知过，30秒内不重复发送",
    voice_sent: "正在呼叫", voice_delivered: "已接通", voice_failed: "未接通",
    handoff: "120交接", handoff_title: "120交接：请念给急救调度员", copy: "复制全部", copied: "已复制",
    resident_phone: "老人电话", key_holders: "有钥匙的人", has_key: "有钥匙", none_on_file: "无登记",
  },
  en: {
    title: "Jinqiao · Board", board: "Board", alarm: "button press", fall: "fall", checkin_missed_alert: "daily check-in missed", offline_alert: "device offline", heartbeat_missed_alert: "device heartbeat missed", signin: "Sign in", name: "Name", password: "Password", wrong: "Wrong name or password",
    limited: "Too many failed sign-ins; try again later", signout: "Sign out", report: "Monthly report", visits: "Visits", lang: "中文", admin: "Admin",
    open: "Open", history: "History", devices: "Devices", community: "Community", all: "All",
    state: "State", kind: "Kind", search: "Search (name, address, code)", go: "Search",
    emergency: "Emergency", wellness: "Wellness", device: "Device",
    triggered: "Triggered", acknowledged: "Acknowledged", resolved: "Resolved", cancelled: "Cancelled",
    closed: "Closed", none_open: "No open calls",
    tier: "Tier reached", next_tier: "Next tier in", expires: "Ack expires in", repeats: "Repeat presses",
    building: "Building volunteers", mediator: "Mediator", hotline: "Hotline", no_tier: "Nobody yet",
    ack: "Acknowledge", resolve: "Resolve", note: "Note", outcome: "Outcome", timeline: "Timeline", card: "Card",
    false_alarm: "False alarm", helped_at_home: "Helped at home", family_came: "Family came",
    ambulance_called: "Ambulance called", taken_to_hospital: "Taken to hospital", other: "Other",
    notified: "Notified", sms: "SMS", voice: "Call",
    queued: "queued", sending: "sending", sent: "sent", delivered: "delivered", failed: "failed", skipped: "skipped",
    record: "Record", sex_female: "female", sex_male: "male", born: "born {y}", care_self_care: "self-care",
    care_partly_dependent: "partly dependent", care_dependent: "dependent", consent: "consent",
    consent_none: "no consent on file", about_age: "about {n}",
    hh_alone: "lives alone", hh_empty_nest: "empty nest", sms_in_english: "SMS in English",
    address: "Address", medical: "Medical notes", contacts: "Contacts", volunteers: "Volunteers", devices_of: "Devices",
    offline: "Offline", overdue: "Heartbeat overdue", no_feedback: "No feedback (the button shows nothing; tell the resident when you call)", low_battery: "Low battery", ok: "OK", battery: "Battery",
    last_seen: "Last seen", live: "Live", reconnecting: "Reconnecting…", broker_down: "Message broker down", broker_since: "since {t}", close: "Close", by: "Taken by", went: "Attending", resolved_by: "Closed by", pick_outcome: "Pick an outcome", outcome_needed: "Pick an outcome first", note_needed: "A false alarm or other needs a note",
    recent: "Recently closed", new_emergency: "[NEW EMERGENCY]", opened_at: "Opened",
    viewer_note: "read-only account", notify_family: "notify family",
    maintenance: "Maintenance", none_maintenance: "Nothing to maintain", device_col: "Device", resident: "Resident", since: "Since", close_item: "Done",
    cond_never_seen: "Never seen", cond_online: "Online", cond_silent: "Silent", cond_offline: "Offline", cond_low_battery: "Low battery", since_t: "(since {t})",
    pager: "pager", pull_cord: "pull cord", fall_detector: "fall detector",
    sound_locked: "Click to turn sound on", sound_on: "Sound on", sound_ringing: "Ringing", sound_muted: "Muted", mute: "Mute",

    dispatch: "Send someone", dispatch_again: "Send another", dispatch_title: "Send someone", dispatch_hint: "Choose who goes to the resident. They get the address and the resident's phone; the others paged are told they need not go.",
    dispatch_self: "I'll go", dispatched_now: "(sent)", role_building: "building volunteer", role_mediator: "mediator", role_hotline: "hotline", ask_to_go: "asked to go",
    repage: "Page again", escalate: "Escalate now", callnote_ph: "Write a note (any time)", save_note: "Save note", note_saved: "Note saved",
    note_empty: "Write something first", repaged: "Sent again: {n} texts and calls", repage_repeat: "Paged again just now; not repeated within 30 s",
    voice_sent: "calling", voice_delivered: "answered", voice_failed: "not reached",
    handoff: "120 hand-off", handoff_title: "120 hand-off: read this to the ambulance dispatcher", copy: "Copy all", copied: "Copied",
    resident_phone: "Resident's phone", key_holders: "Key holders", has_key: "has a key", none_on_file: "none on file",
  },
};
function lang() { return localStorage.getItem("jinqiao.lang") === "en" ? "en" : "zh"; }
function t(key) { return (WORDS[lang()] || WORDS.zh)[key] ?? key; }
function applyWords(root = document) {
  document.documentElement.lang = lang() === "en" ? "en" : "zh-CN";
  root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  root.querySelectorAll("[data-i18n-label]").forEach((el) => { el.setAttribute("aria-label", t(el.dataset.i18nLabel)); });
}
function switchLanguage() { localStorage.setItem("jinqiao.lang", lang() === "en" ? "zh" : "en"); }

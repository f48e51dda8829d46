// The words of finding and planning (the header search, the history's filters, the duty roster, the
// next tier by name), Chinese and English, added to the board's (i18n.js).
"use strict";
Object.assign(WORDS.zh, {
  find_placeholder: "编号或姓名，如 8150", find_label: "按呼叫编号或老人姓名查找", find_go: "查找",
  code_not_found: "没有编号为 #{code} 的呼叫", name_not_found: "没有找到与“{q}”相符的呼叫",
  all_outcomes: "全部结果", since_label: "从", until_label: "至",
  history_count: "共 {total} 条，已显示 {shown} 条", history_none: "没有符合条件的呼叫", history_more: "更多",
  range_backwards: "开始日期不能晚于结束日期",
  roster: "值班表", roster_zone: "时区", roster_communities: "社区", roster_mediator: "调解员",
  on_duty_now: "现在值班", next_on_duty: "下一班", change_at: "{t} 换班", today_at: "今天 {t}", tomorrow_at: "明天 {t}", on_day_at: "{d} {t}", until_change: "值班至{t}",
  nobody_on_duty: "现在无人值班：求援热线呼叫不到任何人", nobody_next: "无人",
  day_workday: "工作日", day_weekend: "周末", day_holiday: "节假日", day_today: "今天",
  in_lieu: "调休上班", entered: "人工设定",
  calendar_unknown: "节假日数据未知",
  calendar_unknown_note: "{years}年的法定节假日尚未公布或未录入，这些天暂按周一至周五为工作日、周六周日为周末排班。请在管理页“日历”中录入。",
  gap: "{start}–{end} 无人值班", gaps_title: "排班空档", no_shift: "这一天没有排班",
  inactive: "已停用，不会被呼叫", guess_kind: "暂按{kind}", colon: "：",
  next_tier_label: "下一级：",
});
Object.assign(WORDS.en, {
  find_placeholder: "Code or name, e.g. 8150", find_label: "Find an alert by its code or the resident's name", find_go: "Find",
  code_not_found: "No alert with code #{code}", name_not_found: "Nothing found for “{q}”",
  all_outcomes: "All outcomes", since_label: "From", until_label: "To",
  history_count: "{total} found, {shown} shown", history_none: "No alerts match", history_more: "More",
  range_backwards: "The start date is after the end date",
  roster: "Duty roster", roster_zone: "Time zone", roster_communities: "Communities", roster_mediator: "Mediator",
  on_duty_now: "On duty now", next_on_duty: "Next", change_at: "changes {t}", today_at: "today at {t}", tomorrow_at: "tomorrow at {t}", on_day_at: "{d} at {t}", until_change: "until {t}",
  nobody_on_duty: "Nobody is on duty now: the hotline tier reaches no one", nobody_next: "nobody",
  day_workday: "Workday", day_weekend: "Weekend", day_holiday: "Holiday", day_today: "Today",
  in_lieu: "Adjusted workday (调休)", entered: "set by the office",
  calendar_unknown: "Holiday data unknown",
  calendar_unknown_note: "China's official holidays for {years} are not published or not entered yet: these days follow Monday–Friday workdays and weekend Saturdays and Sundays. Enter them in Admin › Calendar.",
  gap: "{start}–{end} nobody on duty", gaps_title: "Gaps in the roster", no_shift: "No shifts on this day",
  inactive: "inactive, not paged", guess_kind: "planned as: {kind}", colon: ": ",
  next_tier_label: "Next: ",
});

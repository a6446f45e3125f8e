"""Every report the hub offers, in one list: the reports page and `fieldsync report` read it.

A report takes some of the parameters year, unit, kind, session and table;
`prepare` validates them (ReportParams), resolves the unit, builds the Table
and hands back a file name and the file's bytes, streamed for CSV.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlite_utils import Database

from fieldsync import labels, sheets
from fieldsync.errors import NotFound, ValidationFailed
from fieldsync.i18n import _
from fieldsync.records.schemas import load
from fieldsync.reports import (
    attendance,
    awards,
    certificates,
    coverage,
    csv_export,
    hours,
    js365,
    kpi,
    pairing_fruit,
    service,
    statistics_xlsx,
    theme_days,
    units,
)
from fieldsync.reports.schemas import ReportParams
from fieldsync.sheets.table import Table

REQUIRED = ("session", "table")   # the parameters that have no default


@dataclass(frozen=True)
class Report:
    name: str
    title_zh: str
    title_en: str
    params: tuple[str, ...]
    build: Callable[..., Table]
    formats: tuple[str, ...] = ("xlsx", "csv")


REPORTS = {report.name: report for report in (
    Report("statistics", "全民健身志愿服务活动统计表", "Volunteer activity statistics",
           ("year", "unit", "kind"), statistics_xlsx.table),
    Report("attendance", "活动签到表", "Attendance sheet of one session", ("session",), attendance.table),
    Report("coverage", "培训覆盖情况表", "Training coverage per village", ("year", "unit"), coverage.table),
    Report("kpi", "主要指标完成情况", "Yearly targets and instructor density", ("year", "unit"), kpi.table),
    Report("volunteer-hours", "志愿服务时长排行", "Volunteer hours leaderboard", ("year", "unit"),
           hours.table),
    Report("awards-chosen", "最美社会体育指导员评选结果", "最美 instructors: the chosen list", ("year", "unit"),
           awards.chosen),
    Report("awards-province", "推荐参加全省交流展示大会人员名单", "最美 instructors put forward to the province",
           ("year", "unit"), awards.province),
    Report("theme-days", "全民健身主题日活动情况表", "Activities and people reached per theme day",
           ("year", "unit"), theme_days.table),
    Report("frontline", "一线社会体育指导员名单", "Front-line instructors: served at least N times in the year",
           ("year", "unit"), service.frontline_table),
    Report("pairings", "体育社会组织与社区结对子成效表", "结对子: each pairing's activities, people reached, teams and"
           " leaders", ("year", "unit"), pairing_fruit.table),
    Report("certificates", "证书发放登记表", "Certificates issued, by level", ("year",), certificates.table),
    Report("js365", "全民健身赛事活动（全民健身信息服务平台填报）", "Activities to file on js365 (全民健身信息服务平台)",
           ("year", "unit"), js365.table),
    Report("table", "数据表导出", "One database table as CSV", ("table",), csv_export.database_table,
           ("csv",)),
)}


def get(name: str) -> Report:
    if name not in REPORTS:
        raise NotFound(_("No report named %(name)r; there are: %(reports)s.", name=name, reports=", ".join(REPORTS)),
                       code="report_not_found")
    return REPORTS[name]


def prepare(db: Database, name: str, fmt: str, raw: dict) -> tuple[str, Iterator[bytes]]:
    """Validate, build and render a report: (file name, bytes of the file)."""
    report = get(name)
    if fmt not in report.formats:
        raise ValidationFailed(_("%(name)s comes as %(formats)s, not %(fmt)s.", name=name,
                                 formats=", ".join(report.formats), fmt=fmt),
                               fields={"format": [_("One of: %(formats)s.", formats=", ".join(report.formats))]})
    given = {key: value for key, value in raw.items() if value not in (None, "")}
    params = load(ReportParams(), given)
    extra = sorted(set(given) & set(ReportParams().fields) - set(report.params))
    missing = [key for key in REQUIRED if key in report.params and key not in params]
    if extra or missing:
        asks = ", ".join(labels.term(param, "param") for param in report.params)
        raise ValidationFailed(_("This report asks for: %(params)s.", params=asks),
                               fields={**{key: [_("Not used by this report.")] for key in extra},
                                       **{key: [_("Required.")] for key in missing}})
    args = {key: params[key] for key in report.params if key in params}
    if "unit" in report.params:
        args["unit"] = units.resolve(db, params.get("unit"), args.get("year"))
    table = report.build(db, **args)
    return file_name(name, args, fmt), sheets.write(table, fmt)


def file_name(name: str, args: dict, fmt: str) -> str:
    parts = [name] + [str(args[key].code if key == "unit" else args[key])
                      for key in ("unit", "year", "kind", "session", "table") if key in args]
    return "-".join(parts) + "." + fmt

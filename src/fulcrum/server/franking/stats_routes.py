"""``POST /v1/review/stats/{day}``: publish one UTC day's abuse-report numbers (admins only)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request

from fulcrum.review import Reviewer, Role
from fulcrum.server.errors import ApiError, error_responses, forbidden, invalid
from fulcrum.server.franking.transparency import StatsNotReady, publish_daily_report_stats
from fulcrum.server.routes.review import Caller
from fulcrum.server.state import relay_state
from fulcrum.wire.reports import ReportStatsOut

router = APIRouter(prefix="/review", tags=["review"])


@router.post(
    "/stats/{day}", response_model=ReportStatsOut, responses=error_responses(401, 403, 409, 422)
)
def publish_stats(day: str, request: Request, reviewer: Reviewer = Caller) -> ReportStatsOut:
    """Publish (once) the abuse-report numbers of a finished UTC day as an AbuseReportStats
    log entry; publishing a day again returns the numbers already published."""
    if reviewer.role < Role.ADMIN:
        raise forbidden("publishing report statistics needs the admin role")
    try:
        when = date.fromisoformat(day)
    except ValueError as exc:
        raise invalid("day must be YYYY-MM-DD") from exc
    try:
        row = publish_daily_report_stats(relay_state(request.app), when)
    except StatsNotReady as exc:
        raise ApiError(409, "day_not_over", str(exc)) from exc
    return ReportStatsOut(day=row.day, counts=row.counts, log_index=row.log_index)

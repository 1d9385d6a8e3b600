"""The alert record for Dinkominfo: every alert sent (or failed, or skipped as a duplicate)
to every target, newest first, with the error of a failed send."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aggregator.access.auth import Account
from aggregator.alerts.outbox import all_targets, recent_sends
from aggregator.alerts.send import target_label
from aggregator.web.auth import Denied, login_required
from aggregator.web.common import render, store_of

STATUS_LABELS = {
    "pending": "menunggu",
    "retry": "gagal, dicoba lagi",
    "sent": "terkirim",
    "failed": "gagal",
    "duplicate": "diabaikan (duplikat)",
}


@login_required
async def alert_log(request: Request, user: Account) -> Response:
    if not user.whole_kabupaten:
        raise Denied("Catatan peringatan hanya untuk Dinkominfo.")
    store = store_of(request)
    sends = await run_in_threadpool(recent_sends, store.engine, 200)
    alerts = store.settings.alerts
    targets = [target_label(u) for u in all_targets(alerts)]
    context = {"user": user, "sends": sends, "targets": targets, "labels": STATUS_LABELS}
    return render(request, "alerts.html", context)


def routes() -> list[Route]:
    return [Route("/admin/peringatan", alert_log, methods=["GET"])]

"""Alerts where officers read them: events, their routing per region, sending through
Apprise (or the legacy JSON webhook) off the poll path, the record of every send, the
status watch and the weekly digest, and `sipande alert test`.

- `events`: what an alert says; `send`: one send to one target, under the address guard;
- `config`: the `settings.alerts` section; `outbox`: queue, dedupe, rate limit, delivery;
- `job`: status changes and the digest, run by the scheduler; `cli`: `sipande alert test`.
"""

from aggregator.alerts.events import AlertEvent as AlertEvent

"""The completion webhook: the batch's status POSTed once, with retries; the outcome is kept on the batch."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import httpx

from service.storage.tables import BatchRow

if TYPE_CHECKING:
    from service.context import ServiceContext


def deliver(ctx: ServiceContext, batch_id: str, attempts: int = 3, backoff_s: float = 1.0) -> None:
    from service.batches.status import batch_status

    with ctx.sessions() as session:
        batch = session.get(BatchRow, batch_id)
        if batch is None or not batch.webhook_url:
            return
        url = batch.webhook_url
        payload = batch_status(session, batch_id, limit=0).model_dump(mode="json", exclude={"items", "next_cursor"})
    outcome = "not delivered"
    for attempt in range(1, attempts + 1):
        try:
            response = httpx.post(url, json=payload, timeout=10)
            outcome = f"HTTP {response.status_code} after {attempt} attempt(s)"
            if response.status_code < 500:
                break
        except httpx.HTTPError as error:
            outcome = f"{type(error).__name__} after {attempt} attempt(s)"
        time.sleep(backoff_s * attempt)
    with ctx.sessions.begin() as session:
        row = session.get(BatchRow, batch_id)
        if row is not None:
            row.webhook_outcome = outcome

"""A batch's status as the API shows it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.batches import queue
from service.batches.schemas import BatchStatus
from service.storage.tables import BatchRow


def batch_status(session: Session, batch_id: str, limit: int = 100, after: int | None = None) -> BatchStatus | None:
    batch = session.get(BatchRow, batch_id)
    if batch is None:
        return None
    page = queue.items(session, batch_id, limit + 1, after) if limit else []
    more = len(page) > limit
    return BatchStatus(
        id=batch.id, status=batch.status, total=batch.total, counts=queue.counts(session, batch_id),  # type: ignore[arg-type]
        created_at=batch.created_at, finished_at=batch.finished_at, webhook_outcome=batch.webhook_outcome,
        items=[item for _, item in page[:limit]],
        next_cursor=str(page[limit - 1][0]) if more else None,
    )

"""Batches from the QA platform: many transcripts accepted at once, scored by workers from a durable queue."""

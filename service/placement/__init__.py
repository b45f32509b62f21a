"""Placing an agent in a quadrant from their assessments: a pure, deterministic classifier."""

"""Scoring a transcript against a rubric: prompt, model answer, evidence check, assessment."""

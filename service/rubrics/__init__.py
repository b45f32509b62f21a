"""Rubrics as data: the competency model (axes, weights, thresholds) and the criteria with level descriptions."""

"""Reviewer corrections: a reviewer's score beside the model's, audited, and exported as labelled data."""

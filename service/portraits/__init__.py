"""Portraits: what a supervisor reads about an agent (JSON and HTML), and the team page."""

"""Iceberg: competency portraits for contact-center agents."""

__version__ = "0.1.0"

"""Membership lifecycle workbook: analytics helpers for the course notebooks."""

__version__ = "0.1.0"

"""Touchline: serverless marketing analytics and multi-touch revenue attribution."""

__version__ = "0.1.0"

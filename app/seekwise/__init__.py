"""Seekwise: find your own files by meaning."""

__version__ = "0.1.0"

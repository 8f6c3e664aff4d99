"""Bundled data: the default model, icons, desktop entries."""

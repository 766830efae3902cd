"""Netra backend: the chat platform whose execution engine this repository migrates."""

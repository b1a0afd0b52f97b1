"""Inference engines: ``exact`` (grid and closed forms) and, later, ``nuts`` (PyMC)."""

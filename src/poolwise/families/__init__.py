"""Likelihood families: the maths of each model, as pure functions on arrays."""

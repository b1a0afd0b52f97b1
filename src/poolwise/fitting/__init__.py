"""Fitting: validated data and a model in, a :class:`~poolwise.fitting.fit.Fit` out.

Layer 4 of 8 (``_core`` < families < engines < fitting < analysis < study < presentation < cli): it
chooses the engine and builds the result; in memory (:mod:`.fit`), from Parquet in one pass
(:mod:`.stream`) or on a Dask cluster (:mod:`.distributed`).
"""

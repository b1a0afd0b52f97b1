"""Array-level numerics: NumPy and SciPy only, no pandas, xarray or model knowledge."""

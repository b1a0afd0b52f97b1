"""Analysis: questions asked of fits (layer 5 of 8, above fitting, below the study).

Ranks and thresholds (:mod:`.questions`), predictions (:mod:`.predict`), posterior predictive checks
(:mod:`.checks`), which pooling the data support (:mod:`.comparison`), prior sensitivity
(:mod:`.sensitivity`), simulation-based calibration (:mod:`.calibration`), the frequentist
meta-analysis beside the Bayesian one (:mod:`.meta`), and the shrinkage and density numbers the
figures and the report show (:mod:`.shrinkage`).
"""

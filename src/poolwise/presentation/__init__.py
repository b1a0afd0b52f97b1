"""Presentation: what a reader sees (layer 7 of 8, above the study, below the CLI).

Text tables (:mod:`.render`), findings in words (:mod:`.explain`), the HTML report (:mod:`.report`)
and the figures (:mod:`.plots`). Nothing here computes a posterior quantity: the numbers come from
the layers below.
"""

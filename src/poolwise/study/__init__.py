"""The study: the fits a user holds and the questions they answer (layer 6 of 8; see :mod:`.fits`)."""

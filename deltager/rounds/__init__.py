"""Rounds (forløb): theme, pot, cap, funding source, dates, and the status they move through."""

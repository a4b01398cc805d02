"""What the book and ``mi-tutorial report`` make of stored runs: the claims ledger
(:mod:`.ledger`), summaries of run records (:mod:`.summaries`, :mod:`.analysis`), the coverage of
the report's runs (:mod:`.coverage`) and the book's figures (:mod:`.plotting`).

The claims, and every number of the paper, are declared by :mod:`mi_tutorial.paper`; this package
only reads them. Import the submodules themselves: this one imports nothing, so that the ledger
does not pull in matplotlib.
"""

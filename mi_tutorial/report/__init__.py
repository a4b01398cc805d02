"""What the book and ``mi-tutorial report`` make of stored runs: the claims ledger
(:mod:`.ledger`), summaries of run records (:mod:`.summaries`, :mod:`.analysis`), the coverage of
the report's runs (:mod:`.coverage`), the book's figures (:mod:`.plotting`), and the figures,
tables and guarded verdict sentences of the estimator benchmark (:mod:`.estimation`, chapter 2b)
and of the §4 studies (:mod:`.metric_learning`, chapters 7 and 7b).

The claims, and every number of the paper, are declared by :mod:`mi_tutorial.paper`; this package
only reads them. Import the submodules themselves: this one imports nothing, so that the ledger
does not pull in matplotlib.
"""

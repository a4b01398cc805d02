"""What the book and ``mi-tutorial report`` make of stored runs.

* the engine: the claims ledger (:mod:`.ledger`), the front page's findings (:mod:`.findings`),
  the coverage of the report's runs (:mod:`.coverage`), summaries of run records
  (:mod:`.summaries`, :mod:`.analysis`), plain-text tables (:mod:`.text`) and the book's figure
  style (:mod:`.plotting`);
* ours against the paper, like for like (the paper's bounds beside our training-batch bounds, the
  held-out bound labelled apart): :mod:`.against_paper` (E1–E3, chapter 9) and
  :mod:`.side_by_side` (shared by E4 and E5);
* one module per chapter's figures, tables and guarded verdict sentences: :mod:`.estimation`
  (chapter 2b), :mod:`.multiview_setup` (3), :mod:`.critic_capacity` (5),
  :mod:`.encoder_vs_estimator` (6), :mod:`.metric_learning` (7, 7b), :mod:`.usable_information`
  (8) and :mod:`.mi_benchmark` (10).

The claims, and every number of the paper, are declared by :mod:`mi_tutorial.paper`; this package
only reads them. Import the submodules themselves: this one imports nothing, so that the ledger
does not pull in matplotlib.
"""

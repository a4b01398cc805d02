r"""Training loops: a run is a pure function of ``(config, seed)`` → tidy records.

Five kinds of run, one module each (:func:`run_config` dispatches on ``config.kind``); the pieces
they share are public in :mod:`.loop` and :mod:`.optim`, checkpoints in :mod:`.checkpoint`, and
:mod:`.vectorised` trains several seeds of one config in one batched computation:

* :func:`train_multiview` (§3 of Tschannen et al., 2020): encoders :math:`g_1, g_2` on the two
  views and a critic :math:`f` give the scores :math:`S_{ij} = f(g_1(x^{(1)}_i), g_2(x^{(2)}_j))`.
  The loss is :math:`-\hat I_{EST}(S)` (maximise the bound) or, with a target :math:`t`,
  :math:`L_t = |\hat I_{EST}(S) - t|` (§3.3; official code ``loss = tf.abs(bound(scores) - t)``).
* :func:`train_adversarial` (App. B, Fig. 1c): an invertible encoder :math:`g` is trained so that a
  linear classifier :math:`h` on :math:`g(x)` predicts the uniform distribution, while :math:`h`
  keeps learning the labels. :math:`I(g(X); X)` stays maximal throughout, yet linear accuracy drops.
* :func:`train_noniid` (§4, Fig. 4c): a concat critic alone on 2-d Gaussian pairs whose batch shares
  one latent, showing that the bounds can exceed the true MI when the negatives are not i.i.d.
* :func:`train_mi_benchmark` (B1, beyond the paper): a critic alone on a task of known MI
  (:mod:`mi_tutorial.mi_tasks`), for the ground-truth benchmark of every bound.
* :func:`train_supervised` (§3, the reference point of Fig. 4): an encoder and a linear head
  trained end to end with the labels.

**Records** are long/tidy DataFrames with columns ``step`` (int), ``metric`` (str), ``value``
(float) and ``elapsed_s`` (wall seconds since the start of the training loop; evaluation time
included, so it is the cost of the run as configured).

**Evaluation schedule.** ``for step in range(steps): if step % eval_every == 0: evaluate()``, then
update, so evaluations see the parameters *before* that step's update: 21,000 steps with
``eval_every=1000`` evaluate at 0, 1k, …, 20k, as the official code does.

**Determinism.** Everything derives from ``seed``: the models are initialised inside
:func:`torch.random.fork_rng` after ``torch.manual_seed(seed)`` (the caller's global RNG is left
untouched), and two separate :class:`torch.Generator` streams, both seeded from ``seed``, drive the
training batches/noise and the evaluation noise. Keeping evaluation on its own stream means that
changing ``eval_every`` does not change the training trajectory. Data and noise are drawn on the CPU
and then moved to ``device``, so the inputs are identical on every device; on the CPU the same
``(config, seed)`` gives bit-identical records (``elapsed_s`` aside).

**Divergence.** Per-step losses are kept on the device and checked in bulk before each evaluation
and at the end (a per-step ``.item()`` would stall a GPU). The first non-finite loss raises
:class:`TrainingDiverged` naming its exact step; parameters may have gone NaN for a few more steps
by then, which is harmless because the run is abandoned. Every evaluated metric is checked too
(:func:`.loop.implausible`): a non-finite or absurd bound (beyond
:data:`.loop.PLAUSIBLE_BOUND_NATS`) or an accuracy outside [0, 1] raises before it is recorded.
"""

from .adversarial import train_adversarial, uniform_cross_entropy
from .checkpoint import CheckpointMismatch, CheckpointWriteError, checkpoint_summary
from .loop import DATASETS, RECORD_COLUMNS, RUN_KINDS, EpochBatches, TrainingDiverged
from .mi_benchmark import train_mi_benchmark
from .multiview import JACOBIAN_SAMPLES, train_multiview
from .noniid import train_noniid
from .optim import (
    ADAM_EPS,
    ADAM_VARIANTS,
    FUSED_VARIABLE,
    TF1Adam,
    adam_kernel,
    fused_adam_enabled,
    make_adam,
)
from .runner import build_models, run_config
from .supervised import train_supervised

__all__ = [
    "ADAM_EPS",
    "ADAM_VARIANTS",
    "DATASETS",
    "FUSED_VARIABLE",
    "JACOBIAN_SAMPLES",
    "RECORD_COLUMNS",
    "RUN_KINDS",
    "CheckpointMismatch",
    "CheckpointWriteError",
    "EpochBatches",
    "TF1Adam",
    "TrainingDiverged",
    "adam_kernel",
    "build_models",
    "checkpoint_summary",
    "fused_adam_enabled",
    "make_adam",
    "run_config",
    "train_adversarial",
    "train_mi_benchmark",
    "train_multiview",
    "train_noniid",
    "train_supervised",
    "uniform_cross_entropy",
]

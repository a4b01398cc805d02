# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Extending the book: a critic of your own
#
# Chapter 5 compared three critics. This appendix adds a fourth — without touching the library —
# and runs it through the same experiment, as a template for a coursework project: write a
# component, register it under a name, build the experiment's configurations with that name, train,
# and put the result next to the built-in ones. Everything below is executed when the book is
# built, so the template cannot drift from the library.
#
# The new critic is the **cosine critic** of SimCLR-style methods {cite:p}`chen2020simple`,
#
# $$
# f(u, v) = \frac{1}{\tau}\,\frac{u^\top v}{\lVert u\rVert\,\lVert v\rVert},
# $$
#
# a temperature-scaled cosine similarity of the codes $u = g_1(x^{(1)})$ and $v = g_2(x^{(2)})$
# (notation as in the {doc}`notation page <notation>`). It has no parameters, its scores lie in
# $[-1/\tau, 1/\tau]$, and, unlike the bilinear critic, it ignores the length of the codes.

# %% tags=["remove-cell"]
import pandas as pd
import torch
from IPython.display import display
from myst_nb import glue
from torch import nn

from mi_tutorial.paper import get_configs
from mi_tutorial.registry import CRITICS, register_critic
from mi_tutorial.training import run_config

torch.set_num_threads(1)  # small models: one thread avoids contention on shared machines

# %% tags=["parameters"]
PROFILE = "book"  # "smoke" | "book" | "paper"
SEEDS = None  # None: seed 0
TEMPERATURE = 0.1

# %% tags=["remove-cell"]
from mi_tutorial.config import check_profile, check_seeds_parameter

PROFILE = check_profile(PROFILE)  # `papermill -p PROFILE bogus` stops here, with the choices
SEEDS = check_seeds_parameter(SEEDS)

# %% [markdown]
# ## Step 1: write the component
#
# A critic is any `nn.Module` that maps a batch of codes `x` of shape `[K, d_x]` and `y` of shape
# `[K, d_y]` to the score matrix `S` of shape `[K, K]`, positives on the diagonal. Its factory
# receives the code sizes and the run's `init` setting, plus any `critic_kwargs` of the config.


# %%
class CosineCritic(nn.Module):
    """S_ij = cos(x_i, y_j) / temperature."""

    def __init__(self, temperature: float) -> None:
        super().__init__()
        self.temperature = float(temperature)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x = nn.functional.normalize(x, dim=1)
        y = nn.functional.normalize(y, dim=1)
        return x @ y.T / self.temperature


def cosine_critic(dim_x: int, dim_y: int, *, init: str = "glorot", temperature: float = 0.1):
    if dim_x != dim_y:
        raise ValueError(f"the cosine critic needs codes of equal size, got {dim_x} and {dim_y}")
    return CosineCritic(temperature)  # no weights, so `init` has nothing to initialise


# %% [markdown]
# ## Step 2: register it
#
# `mi_tutorial.registry.register_critic` adds the factory under a name. From then on every config
# accepts `critic="cosine"`, and it is checked when the config is built, like a built-in name.
# (Runs in worker processes see a registration only if it happens when the worker imports your
# code, so in a project put it at the top level of an importable module.)

# %%
if "cosine" not in CRITICS.custom:  # re-executing the cell must not register it twice
    register_critic("cosine", cosine_critic)
print("critics now known:", ", ".join(CRITICS.names()))

# %% [markdown]
# ## Step 3: run the experiment with it
#
# We take the critic-capacity configurations of chapter 5 at this profile, keep one per estimator
# as a template, and replace the critic. At the `smoke` profile these are the chapter's own tiny
# runs; at the `book` profile the budget is cut to 501 steps on MNIST
# — much shorter than chapter 5's runs, so the built-in critics are retrained
# here at the *same* short budget, and only these numbers are compared with each other.

# %% tags=["remove-cell"]
SMOKE = PROFILE == "smoke"
SEED = 0 if SEEDS is None else int(list(SEEDS)[0])
base_configs = get_configs("critic-capacity", PROFILE)
budget = {} if SMOKE else {"steps": 501, "eval_every": 250}
CRITICS_COMPARED = ("bilinear", "separable", "concat", "cosine")
templates = {}
for config in base_configs:  # one template per estimator, with the built-in critic's kwargs
    templates.setdefault(config.estimator, config)
kwargs_of = {c.critic: dict(c.critic_kwargs) for c in base_configs}
kwargs_of["cosine"] = {"temperature": TEMPERATURE}
runs = []
for estimator, template in templates.items():
    for critic in CRITICS_COMPARED:
        config = template.replace(critic=critic, critic_kwargs=kwargs_of.get(critic, {}), **budget)
        records = run_config(config, SEED, progress=False)
        final = records[records["step"] == records["step"].max()]
        values = final.groupby("metric")["value"].mean()
        runs.append(
            {
                "estimator": estimator,
                "critic": critic,
                "steps": int(records["step"].max()),
                "accuracy": float(values.get("accuracy", float("nan"))),
                "test bound": float(values.get("bound", float("nan"))),
            }
        )
results = pd.DataFrame(runs)

# %%
display(results.round(4))


# %% tags=["remove-cell"]
def describe(estimator: str) -> str:
    rows = results[results["estimator"] == estimator].set_index("critic")
    finite = rows[rows["accuracy"].notna() & rows["test bound"].abs().lt(1e6)]
    if "cosine" not in finite.index:
        return f"with {estimator} the cosine run diverged, so it is not compared"
    rank = finite["accuracy"].rank(ascending=False, method="min")
    position = int(rank["cosine"])
    return (
        f"with {estimator} the cosine critic reaches accuracy {finite.loc['cosine', 'accuracy']:.3f}"
        f" and a test bound of {finite.loc['cosine', 'test bound']:.2f} nats, rank {position} of "
        f"{len(finite)} by accuracy (best built-in: "
        f"{finite.drop(index='cosine')['accuracy'].idxmax()}, "
        f"{finite.drop(index='cosine')['accuracy'].max():.3f})"
    )


glue("ext_summary", "; ".join(describe(e) for e in templates), display=False)
glue("ext_steps", int(results["steps"].max()), display=False)
glue("ext_data", "sklearn's 8 × 8 digits" if SMOKE else "MNIST", display=False)

# %% [markdown]
# ## Step 4: read the result
#
# After {glue:text}`ext_steps` steps on {glue:text}`ext_data`, {glue:text}`ext_summary`. A
# single seed at a short budget decides nothing; it is a starting point. Questions a project could
# take from here:
#
# - **Temperature.** $\tau$ sets the range of the scores, $[-1/\tau, 1/\tau]$. For $I_{NCE}$ this
#   caps how confident each row's softmax can be; for $I_{NWJ}$ it caps the exponential term. How do
#   the bound and the accuracy depend on $\tau$?
# - **Chapter 5's argument.** The cosine critic is *less* flexible than the bilinear one (it is the
#   inner product of normalised codes, $W = I/\tau$). Does the "simpler critic, more linearly useful
#   codes" reading of chapter 5 extend to it at the book's full budget and with several seeds?
# - **A learnable temperature**, or a projection head before the cosine as in SimCLR: which
#   parameters does the critic need before the encoder stops doing the work?
#
# To run such a study at full length, build the configs as in step 3 (without the budget cut), pass
# them with seeds to `mi_tutorial.runs.run_sweep`, which caches each run in the results store, and
# write the comparison the way chapter 5 does.

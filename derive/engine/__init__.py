"""Vectorised numpy engines, independent of the step-by-step solvers, that serve as their oracles.

`run_mlp(spec)` back-propagates an mlp_backprop problem on whole batches;
`engine_values(spec)` gives its results under the solver's step keys.
"""

from .keys import engine_values
from .mlp import ForwardPass, Iteration, MlpRun, Parameters, forward_pass, given_parameters, run_mlp

__all__ = [
    "ForwardPass", "Iteration", "MlpRun", "Parameters",
    "engine_values", "forward_pass", "given_parameters", "run_mlp",
]

"""The engine's results under the step keys of the mlp_backprop solver.

The solver names a quantity as a student writes it: `z[l][j]`, `h[l][j]`
(hidden layers), `yhat[j]`, `loss`, `delta[l][j]`, `grad_w[l][i][j]`,
`grad_theta[l][j]` or `grad_b[l][j]`, `w_new[l][i][j]`, `theta_new[l][j]`
or `b_new[l][j]`, all indices 1-based. With several samples, per-sample
quantities take the sample index first (`z[k][l][j]`, `loss[k]`,
`grad_w[k][l][i][j]`) and the batch ones none (`loss`, `grad_w[l][i][j]`);
with several iterations every key of iteration T starts `itT.`; the pass
after the update starts `after.`, followed by `loss_change`. Mapping the
engine onto these keys lets a test compare the two step for step.
"""

import numpy as np

from .mlp import run_mlp


def _key(prefix, name, *indices):
    return prefix + name + "".join(f"[{i}]" for i in indices)


class _KeyWriter:
    """Collects values under the solver's keys for one problem."""

    def __init__(self, spec):
        self.spec = spec
        self.several = len(spec.samples) > 1
        self.offset_name = "theta" if spec.offset == "threshold" else "b"
        self.values = {}

    def put(self, prefix, name, leading, array):
        """Every element of `array` under name[leading...][indices...] (1-based)."""
        for index in np.ndindex(np.shape(array)):
            self.values[_key(prefix, name, *leading, *(i + 1 for i in index))] = float(array[index])

    def per_sample(self, prefix, name, layer, array):
        """A samples x ... array of layer `layer` (None: no layer index), sample index first if several."""
        for k, row in enumerate(array, start=1):
            leading = ((k,) if self.several else ()) + (() if layer is None else (layer,))
            self.put(prefix, name, leading, row)

    def forward(self, prefix, forward):
        last = len(self.spec.layers)
        for l, (z, h) in enumerate(zip(forward.z, forward.h), start=1):
            self.per_sample(prefix, "z", l, z)
            if l < last:
                self.per_sample(prefix, "h", l, h)
        self.per_sample(prefix, "yhat", None, forward.yhat)
        if forward.loss is None:
            return
        if self.several:
            self.per_sample(prefix, "loss", None, forward.sample_losses)
        self.values[prefix + "loss"] = forward.loss

    def iteration(self, prefix, iteration):
        spec, offset = self.spec, self.offset_name
        self.forward(prefix, iteration.forward)
        per_layer = zip(iteration.deltas, iteration.sample_weight_grads, iteration.sample_offset_grads)
        for l, (deltas, weight_grads, offset_grads) in enumerate(per_layer, start=1):
            self.per_sample(prefix, "delta", l, deltas)
            self.per_sample(prefix, "grad_w", l, weight_grads)
            self.per_sample(prefix, f"grad_{offset}", l, offset_grads)
        updated = iteration.updated
        for l in range(1, len(spec.layers) + 1):
            if self.several:
                self.put(prefix, "grad_w", (l,), iteration.weight_grads[l - 1])
                self.put(prefix, f"grad_{offset}", (l,), iteration.offset_grads[l - 1])
            if spec.update_weights:
                self.put(prefix, "w_new", (l,), updated.weights[l - 1])
            if spec.update_offsets:
                self.put(prefix, f"{offset}_new", (l,), updated.offsets[l - 1])


def engine_values(spec):
    """{step key: value} of every number the solver computes, from the engine.

    Givens are left out, and so are steps whose value is an expression
    (`fprime[l]`, an activation's derivative asked for as a formula).
    """
    run = run_mlp(spec)
    writer = _KeyWriter(spec)
    if spec.forward_only:
        writer.forward("", run.forward)
        return writer.values
    for t, iteration in enumerate(run.iterations, start=1):
        writer.iteration(f"it{t}." if spec.iterations > 1 else "", iteration)
    if run.after is not None:
        writer.forward("after.", run.after)
        writer.values["loss_change"] = run.loss_change
    return writer.values

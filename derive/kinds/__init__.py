"""Problem kinds: one module per kind, each reading its fields and building a Solution.

A kind module exposes DECLARED (the Declarations of the problem-file fields
it reads besides the common ones: one source for reading, the JSON Schema and
its page under docs/kinds/), `read(root_field) -> spec`,
`solve(problem, rounding) -> Solution` and ERRORS_AT (the fields, as dotted
paths, where an error found while solving is reported when nothing nearer
its cause is known). A kind is registered by adding its module to
`derive/kinds/` and its name to NAMES; modules are imported only when a
problem of their kind is read, so start-up stays cheap.
"""

import importlib

NAMES = (
    "mlp_backprop",
    "derivative",
    "softmax",
    "backprop_derivation",
    "op_count",
    "network_size",
    "critical_points",
    "conv_derivation",
    "pool_derivation",
    "conv_backprop",
    "dropout",
    "symmetry",
    "rnn_bptt",
    "lstm_step",
    "optimizer",
    "early_stopping",
    "batch_noise",
    "autodiff",
)


def available():
    """The kinds whose modules exist, in NAMES order."""
    from pathlib import Path

    here = Path(__file__).parent
    return [name for name in NAMES if (here / f"{name}.py").exists()]


class _Registry(dict):
    """name -> kind module, imported on first use."""

    def __missing__(self, name):
        if name not in available():
            raise KeyError(name)
        module = self[name] = importlib.import_module(f"{__name__}.{name}")
        return module

    def __iter__(self):
        return iter(available())

    def __contains__(self, name):
        return name in available()

    def __len__(self):
        return len(available())


KINDS = _Registry()

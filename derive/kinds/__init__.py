"""Problem kinds: each module reads its fields (`read`) and builds a Solution (`solve`).

A kind module exposes FIELDS (the problem-file fields it reads besides the
common ones), `read(root_field) -> spec` and `solve(problem, rounding) ->
Solution`. Register it here.
"""

from . import mlp_backprop

KINDS = {
    "mlp_backprop": mlp_backprop,
}

"""SymPy derivations shared by the problem kinds."""

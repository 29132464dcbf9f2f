"""Per-student variants: numbers drawn reproducibly for each student (`draws`), the variant
problem files and their answer key written, and each sheet graded against its own variant
(`variants`)."""

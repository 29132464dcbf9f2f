"""Grading: answer sheets read (`sheet`), each answer judged against a Solution's steps
(`grader`, with `tolerance`, `equivalence` for expressions and follow-through), wrong answers
matched against a catalogue of slips (`slips`, `diagnose`), and a class's reports (`report`)."""

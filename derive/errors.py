"""The exceptions derive raises, and how each becomes one line for a user.

Low-level code says what is wrong; code that knows more (which file, which
line, which field) adds it on the way up with `DeriveError.locate`. The CLI
turns any DeriveError into its one-line `str()` and an exit status.
"""


class DeriveError(Exception):
    """Root of every error derive reports to a user instead of a traceback."""

    def __init__(self, message, *, path=None, line=None, field=None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.field = field

    def locate(self, *, path=None, line=None, field=None):
        """Add what is not known yet of where the error is; return self."""
        if self.path is None:
            self.path = path
        if self.line is None:
            self.line = line
        if self.field is None:
            self.field = field
        return self

    def __str__(self):
        where = ""
        if self.path is not None:
            where = f"{self.path}:"
            if self.line is not None:
                where += f"{self.line}:"
            where += " "
        if self.field:
            where += f"{self.field}: "
        return where + self.message


class ProblemError(DeriveError):
    """A problem file that cannot be read or does not say what it must."""


class ExpressionError(DeriveError):
    """Text that is not an expression derive accepts (unknown name, too big...)."""


class AnswerSheetError(DeriveError):
    """A student's answer sheet that cannot be read."""


class Timeout(DeriveError):
    """Symbolic work that took longer than it is allowed to."""

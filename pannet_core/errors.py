"""The one exception type users can cause.

Every problem a user can cause (a bad file, a bad setting, a cohort the
statistics cannot handle) raises :class:`PanNetError` with a message that says
what is wrong *and* how to fix it.  The dashboard shows it with ``st.error``;
the command line prints it on stderr and exits with :attr:`PanNetError.exit_code`.
Anything else that escapes is a bug.
"""
from __future__ import annotations


class PanNetError(Exception):
    """A problem with the user's data or settings.

    Parameters
    ----------
    problem : str
        What is wrong, in words a clinician understands.
    fix : str, optional
        What to do about it.  Appended to the message as "Fix: ...".
    exit_code : int
        1 for a problem with the data or the analysis, 2 for a problem with
        the settings or the command line.
    """

    def __init__(self, problem: str, fix: str | None = None, *, exit_code: int = 1):
        self.problem = problem.strip()
        self.fix = fix.strip() if fix else None
        self.exit_code = exit_code
        super().__init__(self.message)

    @property
    def message(self) -> str:
        if self.fix:
            return f"{self.problem} Fix: {self.fix}"
        return self.problem


class SettingsError(PanNetError):
    """A settings file or value is malformed (exit code 2)."""

    def __init__(self, problem: str, fix: str | None = None):
        super().__init__(problem, fix, exit_code=2)

"""The project's exceptions. str() of a QuotebotError is safe to show to a Discord user."""

from __future__ import annotations

from dataclasses import dataclass


class QuotebotError(Exception):
    """An expected failure whose message says what to fix."""


class UsageError(QuotebotError):
    """Bad command-line arguments or an unusable corpus folder."""


class Refusal(QuotebotError):
    """The bot will not do this here or now (wrong channel, cooldown, not a moderator...);
    the message, from bot.messages, says why."""


class Ignored(Refusal):
    """A refusal that gets no reply at all: a prefix command in a channel the bot ignores, or
    a user still over the cooldown after being told once."""

    def __init__(self) -> None:
        super().__init__("")


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        key = f" {self.key}:" if self.key else ""
        return f"{where}:{key} {self.message}"


class ConfigError(QuotebotError):
    """One or more problems in the YAML config; each names file, line, key and the fix."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

"""Typed errors of the review domain."""


class ReviewError(ValueError):
    """Base class for review-queue errors."""


class ActionNotAllowed(ReviewError):
    """The action is not allowed in the case's current state (e.g. the case is closed)."""


class NotAuthorised(ReviewError):
    """The reviewer's role does not permit this action."""


class CaseNotFound(ReviewError):
    """No case with that id."""


class DuplicateCase(ReviewError):
    """A case with that id already exists."""


class StaleCase(ReviewError):
    """The case changed since it was read (optimistic concurrency); reload and retry."""


class DraftError(ReviewError):
    """A clearinghouse report cannot be drafted from this case or these inputs."""

"""Use cases. The only layer that commits; views call these and turn errors into form messages."""


class ServiceError(Exception):
    """A rule was broken; the message is written for the person using the site."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class FieldError(ServiceError):
    """Bad input for one field of a form."""

    def __init__(self, field: str, message: str):
        super().__init__(message, field)


class NotAllowed(ServiceError):
    """The acting user may not do this to this object (views answer 403/404)."""


class Conflict(ServiceError):
    """The object is not in a state that allows this any more (views answer 409 with the message)."""

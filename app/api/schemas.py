"""What goes in and out of the API (marshmallow schemas, from which the OpenAPI description is made).

Out: only what the site's own pages show the same reader. A post carries its town, a distance
bucket from its public ~1 km cell, its category, title and urgency: never its owner, role,
address, pickup area or coordinates. A match carries contact cards only where the match page
shows them (app/services/disclosure.py).

In: the same limits as the site's forms, so that bad input is a 422 naming its field, never a 500.
Times typed in are the community's wall-clock time without an offset, as the forms take them;
times sent back are UTC with an offset.
"""
from datetime import timezone

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from app.forms import has_control_chars
from app.ids import MAX_ID
from app.models.posts import CATEGORIES, DESTINATION_KINDS, OFFER_FORMATS, POST_CATEGORIES
from app.services import geo
from app.services.browse import SORTS

DURATIONS = (30, 60, 90, 120, 180, 240, 480)
WITHIN = (2, 5, 10, 25, 50)


def _errors(**extra) -> dict:
    return {"required": _l("This field is required."), "null": _l("This field can't be empty."),
            "invalid": _l("Not a valid value."), **extra}


class Schema(ma.Schema):
    class Meta:
        ordered = True


class Text(fields.String):
    """Text typed by a person: stripped, without control characters (PostgreSQL refuses NUL)."""

    def __init__(self, *args, max_len: int, multiline: bool = False, **kwargs):
        kwargs.setdefault("error_messages", _errors())
        super().__init__(*args, validate=validate.Length(max=max_len, error=_l(
            "Keep it under %(limit)s characters.", limit=max_len)), **kwargs)
        self.multiline = multiline

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if has_control_chars(text, multiline=self.multiline):
            raise ma.ValidationError(str(_l("This contains characters we can't accept (such as a NUL byte).")))
        return text


def _known_zip(value: str) -> None:
    if not geo.ZIP_RE.match(value or ""):
        raise ma.ValidationError(str(_l("Enter a 5-digit US ZIP code.")))
    if geo.lookup_zip(value) is None:
        raise ma.ValidationError(str(_l("We don't know ZIP %(zip)s.", zip=value)))


def Zip(**kwargs):  # noqa: N802 - a field factory
    return fields.String(validate=_known_zip, error_messages=_errors(), **kwargs)


def Choice(values, message, **kwargs):  # noqa: N802
    return fields.String(validate=validate.OneOf(list(values), error=message), error_messages=_errors(), **kwargs)


def Number(low, high, message, **kwargs):  # noqa: N802
    return fields.Integer(strict=True, validate=validate.Range(low, high, error=message), error_messages=_errors(), **kwargs)


def Id(**kwargs):  # noqa: N802
    return Number(1, MAX_ID, _l("Not a valid id."), **kwargs)


class UtcDateTime(fields.DateTime):
    """A stored time (naive UTC) sent back with its offset: 2027-03-01T15:30:00+00:00."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)


def When(**kwargs):  # noqa: N802 - a time sent back: UTC, with its offset
    return UtcDateTime(format="iso", **kwargs)


def Local(**kwargs):  # noqa: N802 - a time typed in: the community's wall-clock time
    return fields.NaiveDateTime(error_messages=_errors(invalid=_l("Give a date and time such as 2027-03-01T09:30.")),
                                metadata={"description": "The community's local time, without an offset."}, **kwargs)


class Error(Schema):
    code = fields.Integer(required=True)
    status = fields.String(required=True)
    message = fields.String(required=True)
    errors = fields.Dict(metadata={"description": "What was wrong, by where it was sent (json, query) and field."})


# Posts ------------------------------------------------------------------------------------------

class BrowseArgs(Schema):
    kind = Choice(("need", "offer"), _l("Choose need or offer."), load_default="need")
    category = Choice(POST_CATEGORIES, _l("Choose a category."))
    q = Text(max_len=100, metadata={"description": "Words to search for (typos are fine)."})
    near = Zip(metadata={"description": "Distances from this ZIP (else from the account's own)."})
    within = fields.Integer(strict=True, validate=validate.OneOf(WITHIN, error=_l("Choose 2, 5, 10, 25 or 50 miles.")),
                            error_messages=_errors())
    urgency = fields.Integer(strict=True, validate=validate.OneOf((1, 2, 3), error=_l("Choose 1, 2 or 3.")),
                             error_messages=_errors(), metadata={"description": "At least this urgent (needs)."})
    sort = Choice(SORTS, _l("Choose urgency, newest or closest."), load_default="urgency")
    page = Number(1, 100_000, _l("Enter a page from 1."), load_default=1)


class Slot(Schema):
    day = fields.Integer(required=True, metadata={"description": "0 is Monday"})
    start_min = fields.Integer(required=True)
    end_min = fields.Integer(required=True)
    label = fields.String(required=True)


class Window(Schema):
    start_at = When(required=True)
    end_at = When(required=True)


class PostSummary(Schema):
    """A post as the browse page shows it."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    category = fields.String(required=True)
    category_label = fields.String(required=True)
    title = fields.String(required=True)
    town = fields.String(required=True)
    state = fields.String(required=True)
    distance = fields.String(allow_none=True, metadata={"description": "A bucket, never a number."})
    urgency = fields.Integer(allow_none=True, metadata={"description": "Needs: 0 (whenever) to 3 (today), today."})
    urgency_label = fields.String(allow_none=True)
    needed_by = fields.Date(allow_none=True)
    quantity = fields.Integer(required=True)
    quantity_label = fields.String(required=True)
    posted_on = fields.Date(required=True)


class PostDetail(PostSummary):
    """A post as its page shows it to anyone who may see it."""

    details = fields.String(required=True)
    flexible = fields.Boolean(required=True)
    duration_min = fields.Integer(allow_none=True)
    windows = fields.List(fields.Nested(Window), required=True)
    weekly = fields.List(fields.Nested(Slot), required=True)
    repeats = fields.String(allow_none=True)
    destination_kind = fields.String(allow_none=True)
    return_trip = fields.Boolean(required=True)
    appointment_at = When(allow_none=True)
    radius_miles = fields.Float(allow_none=True)
    offer_format = fields.String(allow_none=True)


class MyPost(PostDetail):
    status = fields.String(required=True)
    status_label = fields.String(required=True)
    units_left = fields.Integer(required=True)
    expires_at = When(required=True)
    looking_for = fields.String(required=True, metadata={"description": "Where matching stands (needs)."})
    match_ids = fields.List(fields.Integer(), required=True)


class PostPage(Schema):
    items = fields.List(fields.Nested(PostSummary), required=True)
    total = fields.Integer(required=True)
    capped = fields.Boolean(required=True, metadata={"description": "More posts match than are counted."})
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class WindowIn(Schema):
    start = Local(required=True)
    end = Local(required=True)


class SlotIn(Schema):
    day = Number(0, 6, _l("Choose a day from 0 (Monday) to 6 (Sunday)."), required=True)
    start_min = Number(0, 1439, _l("Minutes after midnight, 0 to 1439."), required=True)
    end_min = Number(0, 1439, _l("Minutes after midnight, 0 to 1439."), required=True)


class PostIn(Schema):
    """A new need or offer: the fields of the site's form."""

    kind = Choice(("need", "offer"), _l("Choose need or offer."), required=True)
    category = Choice(CATEGORIES, _l("Choose a category."), required=True)
    title = Text(max_len=120, required=True)
    details = Text(max_len=2000, multiline=True, load_default="")
    zip_code = Zip(required=True)
    street_address = Text(max_len=200, allow_none=True, load_default=None,
                          metadata={"description": "Private: shared only with the matched helper after approval."})
    quantity = Number(1, 100_000, _l("Enter a whole number from 1 to 100,000."), load_default=1)
    urgency = Number(0, 3, _l("Choose 0 (whenever) to 3 (today)."), load_default=0)
    duration_min = fields.Integer(strict=True, load_default=60, error_messages=_errors(),
                                  validate=validate.OneOf(DURATIONS, error=_l("Choose 30, 60, 90, 120, 180, 240 or 480.")))
    flexible = fields.Boolean(load_default=False, error_messages=_errors())
    windows = fields.List(fields.Nested(WindowIn), load_default=list, validate=validate.Length(
        max=6, error=_l("At most %(max)s dated times.", max=6)), error_messages=_errors())
    weekly = fields.List(fields.Nested(SlotIn), load_default=list, validate=validate.Length(
        max=10, error=_l("At most %(max)s weekly times.", max=10)), error_messages=_errors())
    radius_miles = fields.Float(allow_none=True, load_default=None, error_messages=_errors(), validate=validate.Range(
        0.5, 100, error=_l("Enter a distance between 0.5 and 100 miles.")))
    offer_format = Choice(OFFER_FORMATS, _l("Choose individual or group."), allow_none=True, load_default=None)
    pickup_area = Text(max_len=80, allow_none=True, load_default=None)
    destination_kind = Choice(DESTINATION_KINDS, _l("Choose what kind of place the ride is to."), allow_none=True,
                              load_default=None)
    appointment_at = Local(allow_none=True, load_default=None)
    return_trip = fields.Boolean(load_default=False, error_messages=_errors())


class PostEditIn(PostIn):
    """Changes to one of my posts: the fields of the edit form; only those sent change (a need
    stays a need, so no kind; `windows` or `weekly`, when sent, replace all of them)."""

    class Meta:
        ordered = True
        exclude = ("kind",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # this instance's copies: PostIn keeps its own
            field.required, field.load_default = False, ma.missing


class HelpIn(Schema):
    offer_id = Id(required=True)
    note = Text(max_len=1000, multiline=True, load_default="")


# Matches ----------------------------------------------------------------------------------------

class PostRef(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    category = fields.String(required=True)
    category_label = fields.String(required=True)
    town = fields.String(required=True)
    state = fields.String(required=True)


class ContactCard(Schema):
    whose = fields.String(required=True, metadata={"description": "need: the person asking; offer: the helper"})
    first_name = fields.String(required=True)
    how = fields.String(required=True)
    reach = fields.String(allow_none=True)
    place = fields.String(required=True)
    when = When(allow_none=True)
    checked = fields.Boolean(required=True)


class MatchOut(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True)
    state_label = fields.String(required=True)
    units = fields.Integer(required=True)
    units_label = fields.String(required=True)
    side = fields.String(allow_none=True, metadata={"description": "Which side the token's account answers for."})
    my_answer = fields.String(allow_none=True)
    respond_by = When(allow_none=True)
    scheduled_at = When(allow_none=True)
    need = fields.Nested(PostRef, required=True)
    offer = fields.Nested(PostRef, required=True)
    contacts = fields.List(fields.Nested(ContactCard), required=True, metadata={
        "description": "Only after a coordinator approved the match, as the match page shows them."})


class MatchList(Schema):
    items = fields.List(fields.Nested(MatchOut), required=True)


class AnswerIn(Schema):
    accept = fields.Boolean(required=True, error_messages=_errors())


class RejectIn(Schema):
    reason = Text(max_len=300, required=True)


class QueueItem(Schema):
    match = fields.Nested(MatchOut, required=True)
    urgency_label = fields.String(required=True)
    distance = fields.String(allow_none=True)
    source = fields.String(required=True)
    source_label = fields.String(required=True)
    reasons = fields.List(fields.String(), required=True)
    note = fields.String(allow_none=True, metadata={"description": "The helper's note, for coordinators."})
    left_out = fields.List(fields.String(), required=True, metadata={
        "description": "Why a block, bar or rule keeps this pair apart (it can't be approved)."})
    own_post = fields.Boolean(required=True, metadata={"description": "It involves your own post: another coordinator decides."})


class QueueArgs(Schema):
    page = Number(1, 100_000, _l("Enter a page from 1."), load_default=1)


class QueuePage(Schema):
    items = fields.List(fields.Nested(QueueItem), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)


# Groups -----------------------------------------------------------------------------------------

class GroupArgs(Schema):
    category = Choice(("skills", "peer_support"), _l("Choose skills or peer_support."))
    near = Zip()
    within = fields.Integer(strict=True, validate=validate.OneOf(WITHIN, error=_l("Choose 2, 5, 10, 25 or 50 miles.")),
                            error_messages=_errors())
    page = Number(1, 100_000, _l("Enter a page from 1."), load_default=1)


class GroupSession(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    category = fields.String(required=True)
    category_label = fields.String(required=True)
    town = fields.String(required=True)
    state = fields.String(required=True)
    distance = fields.String(allow_none=True)
    starts_at = When(required=True)
    ends_at = When(required=True)
    places_left = fields.Integer(required=True)
    places_label = fields.String(required=True)
    my_status = fields.String(allow_none=True, metadata={"description": "joined, waiting or requested"})


class GroupPage(Schema):
    items = fields.List(fields.Nested(GroupSession), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class JoinIn(Schema):
    share_contact = fields.Boolean(load_default=False, error_messages=_errors())


class JoinOut(Schema):
    status = fields.String(required=True, metadata={"description": "joined, waiting or requested"})
    position = fields.Integer(allow_none=True, metadata={"description": "Place on the waiting list."})


class Done(Schema):
    message = fields.String(required=True)

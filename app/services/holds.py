"""What a safety report holds until a coordinator acts: a hidden post, a paused match.

Read from the open reports themselves (`concerns.holding`), never from a copy on the post or the
match, so lifting a hold is one change in one place. Every page and job that shows a post to
others or a match's contact details asks here: browse and search (`post_visible`), digests, the
post page, contact cards, reminders and follow-ups (`match_not_paused`), message threads.
"""
from sqlalchemy import exists, select

from app.extensions import db
from app.models import Concern, Match, Post


def post_visible():
    """A WHERE clause for queries over posts: leave out posts a safety report hides."""
    return ~exists().where(Concern.post_id == Post.id, Concern.holding.is_(True))


def match_not_paused():
    """A WHERE clause for queries over matches: leave out matches a safety report pauses."""
    return ~exists().where(Concern.match_id == Match.id, Concern.holding.is_(True))


def post_hidden(post_id: int) -> bool:
    """Whether a safety report hides this post from everyone but its owner and coordinators."""
    return db.session.scalar(select(exists().where(Concern.post_id == post_id, Concern.holding.is_(True))))


def match_paused(match_id: int) -> bool:
    """Whether a safety report pauses this match: no contact cards, messages or reminders."""
    return db.session.scalar(select(exists().where(Concern.match_id == match_id, Concern.holding.is_(True))))

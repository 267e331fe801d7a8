from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

MAX_TERM = 40  # longer "words" (links, run-on text) are cut to this many letters


class PostTerm(db.Model):
    """One word of a post's title or the start of its details, accent-folded and lower-cased.

    Written with the post (app/services/search.py `set_terms`), so search looks words up in the
    index on (term, post_id) instead of reading every post. Rows of a closed post may remain until
    the daily expiry run prunes them; search joins posts and keeps open ones only.
    """

    __tablename__ = "post_terms"
    __table_args__ = (
        UniqueConstraint("post_id", "term", name="uq_post_terms_post_term"),  # also serves a post's own terms
        Index("ix_post_terms_term", "term", "post_id"),  # the search lookup: covering, no table read
    )

    id: Mapped[int] = mapped_column(primary_key=True)  # only grows: the vocabulary cache watches max(id)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    term: Mapped[str] = mapped_column(String(MAX_TERM))

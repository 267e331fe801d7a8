"""ORM models, one module per aggregate."""
from app.models.audit import AuditEntry
from app.models.mail import Digest, DigestSubscription, OutboxEmail
from app.models.posts import Post, PostWindow, WeeklySlot
from app.models.users import User

__all__ = ["AuditEntry", "Digest", "DigestSubscription", "OutboxEmail", "Post", "PostWindow", "User", "WeeklySlot"]

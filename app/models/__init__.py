"""ORM models, one module per aggregate."""
from app.models.mail import OutboxEmail
from app.models.posts import Post, PostWindow, WeeklySlot
from app.models.users import User

__all__ = ["OutboxEmail", "Post", "PostWindow", "User", "WeeklySlot"]

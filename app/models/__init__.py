"""ORM models, one module per aggregate."""
from app.models.audit import AuditEntry
from app.models.fund import (FundApproval, FundLock, FundRequest, LedgerEntry, LedgerTransaction, Pledge)
from app.models.mail import Digest, DigestSubscription, OutboxEmail
from app.models.matches import CaseNote, Match, Suggestion
from app.models.ops import JobRun
from app.models.posts import Post, PostWindow, WeeklySlot
from app.models.search import PostTerm
from app.models.users import User

__all__ = ["AuditEntry", "CaseNote", "FundApproval", "FundLock", "FundRequest", "LedgerEntry", "LedgerTransaction",
           "Pledge", "Digest", "DigestSubscription", "JobRun", "Match", "OutboxEmail", "Post", "PostTerm", "PostWindow",
           "Suggestion", "User", "WeeklySlot"]

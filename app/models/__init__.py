"""ORM models, one module per aggregate."""
from app.models.api_tokens import ApiToken
from app.models.audit import AuditEntry
from app.models.concerns import Concern
from app.models.fund import (FundApproval, FundLock, FundRequest, LedgerEntry, LedgerNote, LedgerTransaction, Pledge)
from app.models.imports import ImportJob, ImportKey, ImportRow
from app.models.groups import (CalendarFeed, GroupSession, SeriesMember, SessionFeedback, SessionSeat,
                               SessionSeries)
from app.models.mail import Digest, DigestSubscription, OutboxEmail
from app.models.matches import CaseNote, Match, Suggestion
from app.models.messages import Message
from app.models.membership import Invitation, MemberApproval
from app.models.ops import JobRun
from app.models.posts import Post, PostWindow, WeeklySlot
from app.models.repeat import NeedOccurrence
from app.models.reports import ReportDay, ReportMark
from app.models.retention import PurgedCount
from app.models.safety import Bar, Block, HelpRule, VettingCheck
from app.models.search import PostTerm
from app.models.settings import SiteSetting
from app.models.texts import InboundText, NoticeChoice, OutboxText, PhoneCode, TextChoice, TextRequest
from app.models.users import User

__all__ = ["AuditEntry", "CalendarFeed", "CaseNote", "FundApproval", "FundLock", "FundRequest", "LedgerEntry", "LedgerTransaction",
           "Pledge", "Digest", "DigestSubscription", "JobRun", "Match", "NeedOccurrence", "OutboxEmail", "Post", "PostTerm", "PostWindow",
           "Suggestion", "User", "WeeklySlot",
           "GroupSession", "SeriesMember", "SessionFeedback", "SessionSeat", "SessionSeries"]
__all__ += ["Invitation", "MemberApproval", "SiteSetting"]
__all__ += ["Bar", "Block", "HelpRule", "VettingCheck"]
__all__ += ["Concern", "Message"]
__all__ += ["LedgerNote", "PurgedCount"]
__all__ += ["InboundText", "NoticeChoice", "OutboxText", "PhoneCode", "TextChoice", "TextRequest"]
__all__ += ["ApiToken"]
__all__ += ["ImportJob", "ImportKey", "ImportRow"]
__all__ += ["ReportDay", "ReportMark"]

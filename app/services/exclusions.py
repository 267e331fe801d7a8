"""Who may never be paired, and what each kind of help needs: the one adapter between the safety
rules and matching.

Four things keep a need and an offer apart: a block (either person blocked the other), a bar on
one of them from every resident, a no-contact order between them, and the rules for the need's
kind of help (`HelpRule`: checks its helper must hold, in date). `load()` reads them all in one
`Snapshot`; `prepare()` turns it into what the engine understands (`Need.requires`,
`Offer.provides`, `Instance.exclude_owners`, passed only when the engine has those fields) and,
because the guarantee must not depend on the engine, `Prepared.keep*` drops every excluded pair
from what the engine returns. A single-post call is also given only the posts it may pair with,
so its ranked list is exact either way.

Everything here is for coordinators and the engine: no member ever learns why a pair was left out.
"""
import dataclasses
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

import matching
from app.extensions import db
from app.models import Bar, Block, HelpRule, User, VettingCheck
from app.models.safety import CHECK_KINDS, EXPIRED, MISSING
from app.timeutil import local_today

_NEED_FIELDS = matching.Need.__dataclass_fields__
_OFFER_FIELDS = matching.Offer.__dataclass_fields__
_INSTANCE_FIELDS = matching.Instance.__dataclass_fields__


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True)
class Snapshot:
    """The safety rules as they stand today, read once for one matching call."""

    today: date
    blocked: frozenset = frozenset()  # unordered pairs of people, either one blocked the other
    barred: frozenset = frozenset()  # people barred from every resident
    no_contact: frozenset = frozenset()  # (person barred, resident) pairs: no-contact orders
    residents: frozenset = frozenset()  # who is a resident now
    rules: dict = field(default_factory=dict)  # (category, audience) -> frozenset of check kinds
    checks: dict = field(default_factory=dict)  # person -> {kind: expiry date or None}

    @property
    def bar_subjects(self) -> frozenset:
        """Everyone under a bar of either kind."""
        return self.barred | {person for person, _resident in self.no_contact}

    @property
    def empty(self) -> bool:
        return not (self.blocked or self.barred or self.no_contact or self.rules)

    def apart(self, a: int, b: int) -> str | None:
        """Why two people are never paired: "block", "no_contact", "bar", or None."""
        if _pair(a, b) in self.blocked:
            return "block"
        if (a, b) in self.no_contact or (b, a) in self.no_contact:
            return "no_contact"
        if (a in self.barred and b in self.residents) or (b in self.barred and a in self.residents):
            return "bar"
        return None

    def requires(self, category: str, need_owner: int) -> frozenset:
        """The checks a helper needs, in date, for this person's need in this category."""
        kinds = self.rules.get((category, "everyone"), frozenset())
        if need_owner in self.residents:
            kinds = kinds | self.rules.get((category, "residents"), frozenset())
        return kinds

    def provides(self, person: int) -> frozenset:
        """The person's checks that are in date today."""
        return frozenset(kind for kind, until in self.checks.get(person, {}).items()
                         if until is None or until >= self.today)

    def allows(self, need_owner: int, category: str, offer_owner: int) -> bool:
        return self.apart(need_owner, offer_owner) is None and \
            self.requires(category, need_owner) <= self.provides(offer_owner)

    def why(self, need_owner: int, category: str, offer_owner: int) -> list[str]:
        """For coordinators: each reason the pair is left out ("No insurance check"); [] if none."""
        from app.i18n import day

        reasons = []
        apart = self.apart(need_owner, offer_owner)
        if apart == "block":
            reasons.append(_("Kept apart: one of them has blocked the other"))
        elif apart == "no_contact":
            reasons.append(_("Kept apart: a no-contact order"))
        elif apart == "bar":
            reasons.append(_("Kept apart: barred from being matched with residents"))
        held = self.checks.get(offer_owner, {})
        missing = self.requires(category, need_owner) - self.provides(offer_owner)
        for kind in [k for k in CHECK_KINDS if k in missing]:
            if kind in held and kind in EXPIRED:
                reasons.append(EXPIRED[kind](day(held[kind], "%b %-d")))
            elif kind in MISSING:
                reasons.append(MISSING[kind]())
        return reasons


def load(today: date | None = None, with_rules: bool = True) -> Snapshot:
    """Read every block, active bar, rule and check (small tables) and who is a resident now;
    without `with_rules`, only who is kept apart (all group sessions need)."""
    today = today or local_today()
    rules: dict = {}
    if with_rules:
        for category, audience, kind in db.session.execute(
                select(HelpRule.category, HelpRule.audience, HelpRule.check_kind)):
            rules[(category, audience)] = rules.get((category, audience), frozenset()) | {kind}
    blocked = frozenset(_pair(a, b) for a, b in db.session.execute(select(Block.blocker_id, Block.blocked_id)))
    barred, no_contact = set(), set()
    for person, resident in db.session.execute(select(Bar.person_id, Bar.resident_id).where(Bar.lifted_at.is_(None))):
        if resident is None:
            barred.add(person)
        else:
            no_contact.add((person, resident))
    checks: dict = {}
    if rules:  # checks matter only where a rule asks for them
        for person, kind, until in db.session.execute(
                select(VettingCheck.user_id, VettingCheck.kind, VettingCheck.expires_on)):
            checks.setdefault(person, {})[kind] = until
    residents = frozenset()
    if barred or rules:
        residents = frozenset(db.session.scalars(select(User.id).where(User.role == "resident")))
    return Snapshot(today, blocked, frozenset(barred), frozenset(no_contact), residents, rules, checks)


def why_left_out(need, offer, snapshot: Snapshot | None = None) -> list[str]:
    """For coordinators: why this need's owner and this offer's owner can't be paired (Post rows)."""
    snapshot = snapshot or load()
    return snapshot.why(need.owner_id, need.category, offer.owner_id)


def left_out(need, offer, snapshot: Snapshot | None = None) -> bool:
    """Whether a rule keeps this need (a Post) and this offer apart."""
    snapshot = snapshot or load()
    return not snapshot.allows(need.owner_id, need.category, offer.owner_id)


@dataclass
class Prepared:
    """Needs and offers ready for the engine, and the filter for what it returns."""

    needs: tuple
    offers: tuple
    fields: dict
    snapshot: Snapshot | None
    _owner: dict = field(default_factory=dict)  # need id -> (owner, category); offer id -> owner

    def _allowed(self, need_id: str, offer_id: str) -> bool:
        if self.snapshot is None or self.snapshot.empty:
            return True
        need_owner, category = self._owner[("n", need_id)]
        return self.snapshot.allows(need_owner, category, self._owner[("o", offer_id)])

    def keep(self, candidates) -> list:
        """The engine's candidates, without any excluded pair."""
        return [c for c in candidates if self._allowed(c.need, c.offer)]

    def keep_result(self, result: matching.Result) -> matching.Result:
        """A whole solve, without any excluded pair in its lists or its assignment."""
        if self.snapshot is None or self.snapshot.empty:
            return result
        candidates = {nid: tuple(self.keep(cands)) for nid, cands in result.candidates.items()}
        assignment = tuple(a for a in result.assignment if self._allowed(a.need, a.offer))
        return dataclasses.replace(result, candidates=candidates, assignment=assignment)


def prepare(needs, offers, apply: bool = True, snapshot: Snapshot | None = None) -> Prepared:
    """The engine's input for these needs and offers with the safety rules applied: requires and
    provides on the posts, the owner pairs never to pair, and for a single need (or offer) only the
    offers (needs) it may pair with. `apply=False` gives the input unchanged (the bare feasibility
    of a pair, which "I can help" must answer alike whoever asks)."""
    needs, offers = tuple(needs), tuple(offers)
    if not apply:
        return Prepared(needs, offers, {}, None)
    snapshot = snapshot or load()
    if snapshot.empty:  # nothing to keep apart: no owner table (7 ms for the 7,000 offers of a category)
        return Prepared(needs, offers, {}, snapshot)
    owner = {("n", n.id): (int(n.owner), n.category) for n in needs}
    owner.update({("o", o.id): int(o.owner) for o in offers})
    prepared = Prepared(needs, offers, {}, snapshot, owner)
    if len(needs) == 1:
        need_owner, category = owner[("n", needs[0].id)]
        offers = tuple(o for o in offers if snapshot.allows(need_owner, category, int(o.owner)))
    if len(offers) == 1:
        offer_owner = int(offers[0].owner)
        needs = tuple(n for n in needs if snapshot.allows(int(n.owner), n.category, offer_owner))
    if snapshot.rules and "requires" in _NEED_FIELDS and "provides" in _OFFER_FIELDS:
        needs = tuple(dataclasses.replace(n, requires=tuple(sorted(kinds)))
                      if (kinds := snapshot.requires(n.category, int(n.owner))) else n for n in needs)
        offers = tuple(dataclasses.replace(o, provides=tuple(sorted(kinds)))
                       if (kinds := snapshot.provides(int(o.owner))) else o for o in offers)
    pairs = _owner_pairs(snapshot, {int(n.owner) for n in needs}, {int(o.owner) for o in offers})
    if pairs and "exclude_owners" in _INSTANCE_FIELDS:
        prepared.fields = {"exclude_owners": pairs}
    prepared.needs, prepared.offers = needs, offers
    return prepared


def _owner_pairs(snapshot: Snapshot, need_owners: set, offer_owners: set) -> tuple:
    """The (need owner, offer owner) pairs among these posts that must never pair, as the engine
    writes owners (strings), in a fixed order."""
    pairs = set()
    people = need_owners | offer_owners
    for a, b in snapshot.blocked | snapshot.no_contact:
        if a in people and b in people:
            pairs.add((str(a), str(b)))
    for person in snapshot.barred & people:
        for resident in snapshot.residents & people:
            if resident != person:
                pairs.add(tuple(sorted((str(person), str(resident)))))
    return tuple(sorted(pairs))


def refuse_if_left_out(need, offer, field: str | None = None, snapshot: Snapshot | None = None) -> None:
    """Approving, matching by hand or swapping to a pair a block, bar or rule keeps apart is
    refused with the coordinator's reason: a Conflict, or a FieldError beside `field`."""
    from app.services import Conflict, FieldError

    reasons = why_left_out(need, offer, snapshot)
    if not reasons:
        return
    message = _("%(why)s: this helper can't be matched with this request. Choose another.", why="; ".join(reasons))
    raise FieldError(field, message) if field else Conflict(message)


def kept_from_group(person_id: int, host_id: int, snapshot: Snapshot | None = None) -> bool:
    """Whether a person may not join a group this host runs: a block either way, a no-contact
    order, a resident and a host barred from residents, or any bar on the person joining. A
    barred person joins no group at all: refusing only the groups a resident hosts or attends
    would show them where residents are."""
    snapshot = snapshot or load(with_rules=False)
    return person_id in snapshot.bar_subjects or snapshot.apart(person_id, host_id) is not None

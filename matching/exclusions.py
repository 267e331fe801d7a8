"""Hard exclusions (version 2): owner pairs, post pairs and requirements that no pair may break.

A block between two members or a coordinator's bar (a no-contact order) is an `exclude_owners` pair
(symmetric: a need of one with an offer of the other, either way round); a pair of posts that must
never be proposed again is an `exclude_pairs` entry (need id, offer id); a vetting rule is a need's
`requires` and an offer's `provides` (a pair is feasible only when requires is a subset of provides).
They are applied where every candidate pair is formed (`Engine._place`, with the place rules), so
they hold in version 1's lists, stage A, stage B, sessions and the single-post calls alike: an
excluded pair is never examined further, listed or assigned.

The check is vectorised. Each row of the engine's need and offer tables (a new post of a single-post
call too) gets integer codes: its owner's among the owners some `exclude_owners` pair names, its
id's among the ids `exclude_pairs` names (-1 when not named), and a bitmask of the labels it
requires (a need) or provides (an offer). A pair is looked up in the sorted excluded codes only when
both of its sides are named, and a need's mask is compared only when it requires something. An
instance with no exclusions and no labels builds nothing (`Engine.exclusions` is None): version 1
pays nothing. docs/matching-format.md is the spec.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from matching.model import FORMAT_V2, Instance, InstanceError, _fail

INSTANCE_FIELDS = ("exclude_owners", "exclude_pairs")
POST_FIELDS = (("need", "needs", "requires"), ("offer", "offers", "provides"))


# Parsing ---------------------------------------------------------------------------------------

def parse_labels(raw, where: str, name: str) -> tuple[str, ...]:
    """A need's `requires` or an offer's `provides`: a list of non-empty strings (repeats dropped)."""
    if not isinstance(raw, (list, tuple)):
        _fail(where, f"'{name}' must be a list of non-empty strings")
    for j, label in enumerate(raw):
        if not isinstance(label, str) or not label.strip():
            _fail(where, f"'{name}[{j}]' must be a non-empty string")
    return tuple(dict.fromkeys(raw))


def _owner_id(value, name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise InstanceError(f"instance: '{name}' must be an owner id (a non-empty string or a whole number)")
    return str(value)


def _post_id(kind: str):
    def check(value, name: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise InstanceError(f"instance: '{name}' must be {kind} id (a non-empty string)")
        return value
    return check


def _pairs(doc: dict, field: str, what: str, first, second) -> tuple[tuple[str, str], ...]:
    raw = doc.get(field)
    if raw is None:
        return ()
    if not isinstance(raw, (list, tuple)):
        raise InstanceError(f"instance: '{field}' must be a list of [{what}] pairs")
    out = []
    for j, pair in enumerate(raw):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise InstanceError(f"instance: '{field}[{j}]' must be a pair [{what}]")
        out.append((first(pair[0], f"{field}[{j}][0]"), second(pair[1], f"{field}[{j}][1]")))
    return tuple(out)


def parse_exclusions(doc: dict, instance: Instance) -> Instance:
    """The instance with the document's `exclude_owners` and `exclude_pairs` (version 2)."""
    owners = _pairs(doc, "exclude_owners", "owner, owner", _owner_id, _owner_id)
    pairs = _pairs(doc, "exclude_pairs", "need id, offer id", _post_id("a need"), _post_id("an offer"))
    if not owners and not pairs:
        return instance
    return replace(instance, exclude_owners=owners, exclude_pairs=pairs)


def refuse_in_v1(doc: dict) -> None:
    """A version 1 document may not carry version 2's exclusions or labels (a hard constraint is never
    dropped silently): one line naming the field, as for any other error."""
    for name in INSTANCE_FIELDS:
        if name in doc:
            raise InstanceError(f"instance: '{name}' needs format {FORMAT_V2!r} (version 1 has no exclusions)")
    for kind, key, name in POST_FIELDS:
        items = doc.get(key)
        if not isinstance(items, list):
            continue
        for i, d in enumerate(items):
            if isinstance(d, dict) and name in d:
                pid = d.get("id")
                where = f"{kind} {pid!r} ({key}[{i}])" if isinstance(pid, str) else f"{key}[{i}]"
                _fail(where, f"'{name}' needs format {FORMAT_V2!r} (version 1 has no requirements)")


def uses_exclusions(instance: Instance) -> bool:
    """Whether the instance has an exclusion or a need or offer with labels."""
    return bool(instance.exclude_owners or instance.exclude_pairs or any(n.requires for n in instance.needs)
                or any(o.provides for o in instance.offers))


# The engine's columns and the vectorised check ----------------------------------------------------

class Exclusions:
    """An instance's exclusions as integer codes; `allowed` filters candidate pairs of table rows."""

    def __init__(self, instance: Instance):
        owners = sorted({str(x) for pair in instance.exclude_owners for x in pair})
        self.owner_code = {x: k for k, x in enumerate(owners)}
        self.n_owners = len(owners)
        codes = [(self.owner_code[str(a)], self.owner_code[str(b)]) for a, b in instance.exclude_owners]
        self.owner_pairs = np.unique(np.asarray([a * self.n_owners + b for a, b in codes] +
                                                [b * self.n_owners + a for a, b in codes], dtype=np.int64))
        self.need_code = {x: k for k, x in enumerate(sorted({n for n, _o in instance.exclude_pairs}))}
        self.offer_code = {x: k for k, x in enumerate(sorted({o for _n, o in instance.exclude_pairs}))}
        self.n_offer_ids = len(self.offer_code)
        self.post_pairs = np.unique(np.asarray([self.need_code[n] * self.n_offer_ids + self.offer_code[o]
                                                for n, o in instance.exclude_pairs], dtype=np.int64))
        labels = sorted({x for n in instance.needs for x in n.requires} | {x for o in instance.offers for x in o.provides})
        self.label_bit = {x: k + 1 for k, x in enumerate(labels)}  # bit 0: a label no offer of the instance has
        self.words = (len(labels) + 1 + 63) // 64

    @classmethod
    def of(cls, instance: Instance) -> "Exclusions | None":
        """The instance's exclusions, or None when it has none (then the engine checks nothing)."""
        return cls(instance) if uses_exclusions(instance) else None

    @staticmethod
    def _codes(table: dict, keys) -> np.ndarray:
        if not table:
            return np.full(len(keys), -1, dtype=np.int64)
        return np.asarray([table.get(k, -1) for k in keys], dtype=np.int64)

    def _masks(self, label_lists, unknown: bool) -> np.ndarray:
        """One row of bits per post; each distinct list is converted once. An unknown label sets
        bit 0 when `unknown` (a need's: no offer provides it), else it is dropped (an offer's)."""
        distinct: dict[tuple, int] = {}
        rows = np.asarray([distinct.setdefault(labels, len(distinct)) for labels in label_lists], dtype=np.int64)
        masks = np.zeros((len(distinct), self.words), dtype=np.uint64)
        for labels, r in distinct.items():
            for label in labels:
                bit = self.label_bit.get(label, 0 if unknown else None)
                if bit is not None:
                    masks[r, bit // 64] |= np.uint64(1 << (bit % 64))
        return masks[rows]

    def need_columns(self, t: dict, needs) -> None:
        """Add the exclusion columns of need rows to a need table."""
        t["x_owner"] = self._codes(self.owner_code, [None if x.owner is None else str(x.owner) for x in needs])
        t["x_post"] = self._codes(self.need_code, [x.id for x in needs])
        t["x_req"] = self._masks([x.requires for x in needs], unknown=True)
        t["x_has_req"] = np.asarray([bool(x.requires) for x in needs], dtype=bool)

    def offer_columns(self, t: dict, offers) -> None:
        """Add the exclusion columns of offer rows to an offer table (labels no need has are dropped)."""
        t["x_owner"] = self._codes(self.owner_code, [None if x.owner is None else str(x.owner) for x in offers])
        t["x_post"] = self._codes(self.offer_code, [x.id for x in offers])
        t["x_prov"] = self._masks([x.provides for x in offers], unknown=False)

    def allowed(self, n: dict, o: dict, ni: np.ndarray, oj: np.ndarray) -> np.ndarray:
        """Per pair (need row ni[k] of table n, offer row oj[k] of table o): False when it is excluded."""
        ok = np.ones(len(ni), dtype=bool)
        if len(self.owner_pairs):
            _drop(ok, n["x_owner"][ni], o["x_owner"][oj], self.n_owners, self.owner_pairs)
        if len(self.post_pairs):
            _drop(ok, n["x_post"][ni], o["x_post"][oj], self.n_offer_ids, self.post_pairs)
        rows = np.flatnonzero(n["x_has_req"][ni])
        if len(rows):
            missing = (n["x_req"][ni[rows]] & ~o["x_prov"][oj[rows]]).any(axis=1)
            ok[rows[missing]] = False
        return ok


def _drop(ok: np.ndarray, a: np.ndarray, b: np.ndarray, width: int, excluded: np.ndarray) -> None:
    """Clear ok[k] where both codes are named and a[k] * width + b[k] is among the sorted excluded codes."""
    rows = np.flatnonzero((a >= 0) & (b >= 0))
    if len(rows):
        code = a[rows] * width + b[rows]
        pos = np.minimum(np.searchsorted(excluded, code), len(excluded) - 1)
        ok[rows[excluded[pos] == code]] = False

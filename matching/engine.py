"""Candidate generation, exact feasibility, scoring and ranking for many posts at once.

Per category, a KD-tree over offers (3-D unit vectors) gives each need its nearest offers; exact
distance, owner, exclusion and time checks run vectorised on those pairs; scores rank them; each
need keeps its top k. A need whose nearest pool was cut short and left fewer than k feasible offers
is searched again with larger pools and finally over everything within reach, so no feasible offer
is missed when it is needed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from matching.geometry import R_KM, _arc_km, _chord, _xyz, haversine_km  # noqa: F401
from matching.exclusions import Exclusions
from matching.model import Candidate, Instance, Need, Offer
from matching.text import TextModel, Vocabulary
from matching.timeplan import FLEX_SECONDS, Availability, Horizon, epoch, expand_ranges, need_windows

TOL_KM = 1e-3
POOL = 96          # nearest offers examined per need at first
MAX_POOL = 6144    # past this, a need still short is checked against every offer within its reach
CHUNK = 20_000     # needs per vectorised batch (bounds memory)
WEIGHTS = {"text": 0.50, "distance": 0.20, "overlap": 0.08, "urgency": 0.10, "waiting": 0.05, "load": 0.07}
from matching.reasons import URGENCY_WORDS, need_codes, phrase, place_time_codes, text_code  # noqa: E402,F401


@dataclass
class Pairs:
    """Feasible scored pairs (columnar): need and offer are indices into the engine's tables."""

    need: np.ndarray
    offer: np.ndarray
    score: np.ndarray
    distance: np.ndarray
    overlap: np.ndarray  # seconds

    @classmethod
    def empty(cls) -> "Pairs":
        z = np.zeros(0)
        return cls(z.astype(np.int64), z.astype(np.int64), z, z, z.astype(np.int64))

    @staticmethod
    def concat(parts: list["Pairs"]) -> "Pairs":
        parts = [p for p in parts if len(p.need)] or [Pairs.empty()]
        return Pairs(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("need", "offer", "score", "distance", "overlap")))

    def take(self, mask) -> "Pairs":
        return Pairs(self.need[mask], self.offer[mask], self.score[mask], self.distance[mask], self.overlap[mask])


class Engine:
    """Built once from an instance; answers the whole assignment or one new post at a time."""

    def __init__(self, instance: Instance, vocabulary: Vocabulary | None = None):
        """`vocabulary`: a caller that builds engines over and over (a server matching each new
        post) passes one it keeps, so the same texts are not read into words again each time."""
        self.instance = instance
        self.top_k = instance.top_k
        self.now = epoch(instance.now)
        needs, offers = instance.needs, instance.offers
        last_end = max((w.end_ts for n in needs for w in (n.when or n.occurrences)), default=None)
        self.horizon = Horizon(instance.now, last_end)
        self.vocabulary = vocabulary or Vocabulary()
        self._owner_codes: dict[str, int] = {}
        self.exclusions = Exclusions.of(instance)  # None without exclusions and labels (matching/exclusions.py)
        self.n = self._need_table(needs)
        self.o = self._offer_table(offers)
        self.avail = Availability.build(offers, self.horizon)
        self.flex_best = self.avail.longest_within(self.now, self.now + FLEX_SECONDS)

        categories = sorted({x.category for x in needs} | {x.category for x in offers})
        self.models: dict[str, TextModel] = {}
        self.n_text = np.zeros(len(needs), dtype=np.int64)
        self.o_text = np.zeros(len(offers), dtype=np.int64)
        self.cat_needs: dict[str, np.ndarray] = {}
        self.cat_offers: dict[str, np.ndarray] = {}
        n_cat = np.array([x.category for x in needs], dtype=object)
        o_cat = np.array([x.category for x in offers], dtype=object)
        for cat in categories:
            ni, oi = np.flatnonzero(n_cat == cat), np.flatnonzero(o_cat == cat)
            self.cat_needs[cat], self.cat_offers[cat] = ni, oi
            texts = [_text_of(needs[i]) for i in ni] + [_text_of(offers[j]) for j in oi]
            uniq, inverse, counts = np.unique(np.array(texts, dtype=object), return_inverse=True, return_counts=True)
            self.models[cat] = TextModel(self.vocabulary, list(uniq), list(counts))
            self.n_text[ni] = inverse[:len(ni)]
            self.o_text[oi] = inverse[len(ni):]
        self._trees: dict[str, cKDTree] = {}
        self._need_trees: dict[str, cKDTree] = {}
        self._v2: tuple[bool, bool] | None = None

    # Tables -----------------------------------------------------------------------------------

    def _owner(self, owner: str | None) -> int:
        if owner is None:
            return -1
        return self._owner_codes.setdefault(owner, len(self._owner_codes))

    def _need_table(self, needs) -> dict:
        t = {
            "lat": np.array([x.lat for x in needs], dtype=float), "lon": np.array([x.lon for x in needs], dtype=float),
            "max_km": np.array([np.nan if x.max_km is None else x.max_km for x in needs], dtype=float),
            "qty": np.array([x.quantity for x in needs], dtype=np.int64),
            "urgency": np.array([x.urgency for x in needs], dtype=float),
            "wait_days": np.array([max(0.0, (self.now - epoch(x.posted)) / 86400) if x.posted else 0.0 for x in needs]),
            "duration": np.array([x.duration_min * 60.0 for x in needs], dtype=float),
            "owner": np.array([self._owner(x.owner) for x in needs], dtype=np.int64),
        }
        t["xyz"] = _xyz(t["lat"], t["lon"]) if len(needs) else np.zeros((0, 3))
        idx, ws, we, flexible = need_windows(needs, self.now)
        t["flexible"] = flexible
        t["w_ptr"] = np.concatenate([[0], np.cumsum(np.bincount(idx, minlength=len(needs)))]).astype(np.int64)
        t["ws"], t["we"] = ws, we
        # A need none of whose windows (after now) is as long as its duration fits no offer at all.
        longest = np.zeros(len(needs))
        np.maximum.at(longest, idx, (we - ws).astype(float))
        longest[flexible] = FLEX_SECONDS
        t["possible"] = longest >= t["duration"] - 1e-6
        if self.exclusions is not None:
            self.exclusions.need_columns(t, needs)
        return t

    def _offer_table(self, offers) -> dict:
        t = {
            "lat": np.array([x.lat for x in offers], dtype=float), "lon": np.array([x.lon for x in offers], dtype=float),
            "radius": np.array([x.radius_km for x in offers], dtype=float),
            "cap": np.array([x.capacity for x in offers], dtype=np.int64),
            "committed": np.array([x.committed for x in offers], dtype=float),
            "owner": np.array([self._owner(x.owner) for x in offers], dtype=np.int64),
        }
        t["xyz"] = _xyz(t["lat"], t["lon"]) if len(offers) else np.zeros((0, 3))
        if self.exclusions is not None:
            self.exclusions.offer_columns(t, offers)
        return t

    def _tree(self, cat: str) -> cKDTree:
        if cat not in self._trees:
            self._trees[cat] = cKDTree(self.o["xyz"][self.cat_offers[cat]])
        return self._trees[cat]

    # Evaluation -------------------------------------------------------------------------------

    def _evaluate(self, n: dict, o: dict, ni: np.ndarray, oj: np.ndarray, avail: Availability, flex_best: np.ndarray,
                  text_a, ta: np.ndarray, text_b, tb: np.ndarray, d: np.ndarray | None = None) -> Pairs:
        """Exact feasibility and score of pairs (need row ni[k] of table n, offer row oj[k] of table o).

        `d` may carry the pairs' great-circle distances already (from the KD-tree's chords).
        """
        ni, oj, d = self._place(n, o, ni, oj, d)
        overlap = self._overlap(n, ni, oj, avail, flex_best)
        ok = overlap >= n["duration"][ni] - 1e-6
        return self._score(n, o, ni[ok], oj[ok], d[ok], overlap[ok], text_a, ta, text_b, tb)

    def _place(self, n: dict, o: dict, ni: np.ndarray, oj: np.ndarray, d: np.ndarray | None = None):
        """The pairs within both radii whose posts have different owners and are not excluded: (ni, oj, km)."""
        if d is None:
            d = haversine_km(n["lat"][ni], n["lon"][ni], o["lat"][oj], o["lon"][oj])
        ok = d <= o["radius"][oj] + TOL_KM
        mk = n["max_km"][ni]
        ok &= np.isnan(mk) | (d <= mk + TOL_KM)
        no, oo = n["owner"][ni], o["owner"][oj]
        ok &= (no < 0) | (oo < 0) | (no != oo)
        if self.exclusions is not None:
            ok &= self.exclusions.allowed(n, o, ni, oj)
        return ni[ok], oj[ok], d[ok]

    @staticmethod
    def _score(n: dict, o: dict, ni, oj, d, overlap, text_a, ta, text_b, tb) -> Pairs:
        """The scores of feasible pairs, given their distances and overlaps (seconds)."""
        text = TextModel.pair_similarity(text_a, text_b, ta[ni], tb[oj])
        dur = n["duration"][ni]
        load = o["committed"][oj] / (o["committed"][oj] + o["cap"][oj])
        score = (WEIGHTS["text"] * text + WEIGHTS["distance"] / (1.0 + d / 8.0)
                 + WEIGHTS["overlap"] * np.minimum(1.0, overlap / (3.0 * dur))
                 + WEIGHTS["urgency"] * n["urgency"][ni] / 3.0
                 + WEIGHTS["waiting"] * np.minimum(1.0, n["wait_days"][ni] / 21.0)
                 + WEIGHTS["load"] * (1.0 - load))
        score = np.round(np.clip(score, 0.001, 1.0), 6)
        return Pairs(ni, oj, score, d, overlap)

    @staticmethod
    def _overlap(n: dict, ni: np.ndarray, oj: np.ndarray, avail: Availability, flex_best: np.ndarray) -> np.ndarray:
        out = np.zeros(len(ni), dtype=np.int64)
        flex = n["flexible"][ni]
        out[flex] = flex_best[oj[flex]]
        rows = np.flatnonzero(~flex)
        if len(rows):
            starts, counts = n["w_ptr"][ni[rows]], n["w_ptr"][ni[rows] + 1] - n["w_ptr"][ni[rows]]
            has = counts > 0
            rows, starts, counts = rows[has], starts[has], counts[has]
            rep, w = expand_ranges(starts, counts)
            ov = avail.longest_overlap(oj[rows][rep], n["ws"][w], n["we"][w])
            best = np.zeros(len(rows), dtype=np.int64)
            np.maximum.at(best, rep, ov)
            out[rows] = best
        return out

    @staticmethod
    def _top_k(p: Pairs, k: int, key: np.ndarray) -> Pairs:
        """Keep each group's k best by score (ties: lower index on the other side first)."""
        if not len(p.need):
            return p
        other = p.offer if key is p.need else p.need
        if key.max() < (1 << 21) and other.max() < (1 << 22):
            # One int64 sort key: group, then score descending (6 decimals), then the other index.
            code = (key.astype(np.int64) << 42) | ((1_000_000 - np.rint(p.score * 1e6).astype(np.int64)) << 22) | other
            order = np.argsort(code)
        else:
            order = np.lexsort((other, -p.score, key))
        p = p.take(order)
        key = key[order]
        starts = np.r_[0, np.flatnonzero(np.diff(key)) + 1]
        rank = np.arange(len(key)) - np.repeat(starts, np.diff(np.r_[starts, len(key)]))
        return p.take(rank < k)

    # Whole instance ---------------------------------------------------------------------------

    def candidates(self) -> Pairs:
        """Top-k feasible offers for every need, as columnar pairs grouped by need."""
        parts = []
        for cat, needs_idx in self.cat_needs.items():
            offers_idx = self.cat_offers[cat]
            if len(needs_idx) == 0 or len(offers_idx) == 0:
                continue
            for start in range(0, len(needs_idx), CHUNK):
                parts.append(self._category_chunk(cat, needs_idx[start:start + CHUNK], offers_idx))
        return Pairs.concat(parts)

    def _category_chunk(self, cat: str, ni: np.ndarray, oi: np.ndarray) -> Pairs:
        """Top-k for a chunk of one category's needs: nearest pool first, then wider for needs left short.

        A need is left short when all of its pool lay within reach (more offers may be further
        out) and fewer than k of them were feasible; those needs are searched again with pools
        four times larger each time, and finally over every offer within reach, so recall is exact.
        """
        tree, model = self._tree(cat), self.models[cat]
        reach = np.fmin(self.n["max_km"][ni], self.o["radius"][oi].max()) + TOL_KM
        chord = _chord(float(reach.max()))

        def evaluate(needs, offers, d=None):
            p = self._evaluate(self.n, self.o, needs, offers, self.avail, self.flex_best,
                               model.matrix, self.n_text, model.matrix, self.o_text, d)
            return self._top_k(p, self.top_k, p.need)

        possible = self.n["possible"][ni]
        parts, todo, pool = [], ni[possible], min(POOL, len(oi))
        while len(todo):
            if pool >= len(oi) or pool > MAX_POOL:
                lists = tree.query_ball_point(self.n["xyz"][todo], r=[_chord(r) for r in reach[np.searchsorted(ni, todo)]],
                                              workers=-1)
                lens = np.array([len(x) for x in lists], dtype=np.int64)
                if lens.sum():
                    locs = np.concatenate([np.asarray(x, dtype=np.int64) for x in lists if len(x)])
                    parts.append(evaluate(np.repeat(todo, lens), oi[locs]))
                break
            dist, loc = tree.query(self.n["xyz"][todo], k=pool, distance_upper_bound=chord, workers=-1)
            loc, dist = loc.reshape(len(todo), pool), dist.reshape(len(todo), pool)
            valid = loc < len(oi)
            rows, cols = np.nonzero(valid)
            offers = oi[loc[rows, cols]]
            arc = _arc_km(dist[rows, cols])
            near = arc <= np.minimum(self.o["radius"][offers], reach[np.searchsorted(ni, todo[rows])]) + TOL_KM
            found = evaluate(todo[rows][near], offers[near], arc[near])
            count = np.bincount(np.searchsorted(todo, found.need), minlength=len(todo))
            short = valid[:, -1] & (count < self.top_k)
            parts.append(found.take(~np.isin(found.need, todo[short])))
            todo, pool = todo[short], min(pool * 4, len(oi))
        return Pairs.concat(parts)

    def solve(self):
        """Candidates for every need and the optimal assignment over them (columnar)."""
        from matching.assign import assign

        pairs = self.candidates()
        pairs = pairs.take(np.lexsort((pairs.offer, -pairs.score, pairs.need)))  # by need, best first
        units = assign(pairs.need, pairs.offer, pairs.score, self.n["qty"], self.o["cap"])
        return pairs, units

    # One new post -----------------------------------------------------------------------------

    def uses_v2(self) -> tuple[bool, bool]:
        """(some need repeats, some offer has sessions): the version 2 features the instance uses."""
        if self._v2 is None:
            self._v2 = (any(n.occurrences for n in self.instance.needs), any(o.sessions for o in self.instance.offers))
        return self._v2

    def candidates_for_need(self, need: Need, top_k: int | None = None) -> list[Candidate]:
        """Ranked feasible offers for one new need, against the engine's offers (no rebuild).
        Version 2 (a repeating need, or group offers with sessions): see matching/v2.py."""
        k = top_k or self.top_k
        if need.requires and self.exclusions is None:
            return []  # no offer provides anything
        if need.occurrences or self.uses_v2()[1]:
            from matching.v2 import candidates_for_need

            return candidates_for_need(self, need, k)
        return self.plain_candidates_for_need(need, k)

    def plain_candidates_for_need(self, need: Need, k: int) -> list[Candidate]:
        """Version 1's ranking of the offers for one need (matching/single.py)."""
        from matching.single import for_need

        return for_need(self, need, k)

    def candidates_for_offer(self, offer: Offer, top_k: int | None = None) -> list[Candidate]:
        """Ranked feasible needs for one new offer, against the engine's needs (no rebuild).
        Version 2 (a group offer, or repeating needs): see matching/v2.py."""
        k = top_k or self.top_k
        if offer.sessions or self.uses_v2()[0]:
            from matching.v2 import candidates_for_offer

            return candidates_for_offer(self, offer, k)
        return self.plain_candidates_for_offer(offer, k)

    def plain_candidates_for_offer(self, offer: Offer, k: int) -> list[Candidate]:
        """Version 1's ranking of the needs for one offer (matching/single.py)."""
        from matching.single import for_offer

        return for_offer(self, offer, k)

    # Reasons (matching/reasons.py: codes, and their English phrases) ------------------------------

    def reason_codes_for(self, need: Need, offer: Offer, offer_text: str | None, distance_km: float,
                         overlap_s: int) -> list[tuple]:
        return [self.text_code(need, offer, offer_text), *self.place_time_codes(need, offer, distance_km, overlap_s),
                *self.need_codes(need)]

    def reasons_for(self, need: Need, offer: Offer, offer_text: str | None, distance_km: float, overlap_s: int) -> list[str]:
        """2-4 short phrases a coordinator reads next to a suggestion."""
        return [phrase(c) for c in self.reason_codes_for(need, offer, offer_text, distance_km, overlap_s)]

    def text_code(self, need: Need, offer: Offer, offer_text: str | None = None) -> tuple:
        model = self.models.get(need.category)
        shared = model.shared_words(_text_of(need), offer_text or _text_of(offer)) if model else []
        return text_code(shared, need.category)

    def text_reason(self, need: Need, offer: Offer, offer_text: str | None = None) -> str:
        return phrase(self.text_code(need, offer, offer_text))

    @staticmethod
    def place_time_codes(need: Need, offer: Offer, distance_km: float, overlap_s: int) -> list[tuple]:
        """The place and time reason codes of a pair (a repeating need has requested times; a group offer has times)."""
        # To 10 m first, as the whole solve hands its distances to the reasons: a single-post call,
        # which passes them in full, then says the same whole km ("2.5 km" reads "2 km" on both).
        return place_time_codes(bool(need.when or need.occurrences), bool(offer.when or offer.weekly or offer.sessions),
                                round(float(distance_km), 2), overlap_s)

    @staticmethod
    def place_time_reasons(need: Need, offer: Offer, distance_km: float, overlap_s: int) -> list[str]:
        return [phrase(c) for c in Engine.place_time_codes(need, offer, distance_km, overlap_s)]

    def need_codes(self, need: Need) -> list[tuple]:
        waited = (self.now - epoch(need.posted)) // 86400 if need.posted is not None else None
        return need_codes(need.urgency, waited)

    def need_reasons(self, need: Need) -> list[str]:
        return [phrase(c) for c in self.need_codes(need)]


def _text_of(post) -> str:
    return f"{post.title} {post.details}".strip()

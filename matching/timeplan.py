"""Time: offers' availability as merged intervals (epoch seconds) and vectorised overlap queries.

Weekly slots are expanded once per distinct (zone, day, start, end) over the planning horizon,
in the offer's zone, so a Tuesday 9:00 slot is 9:00 local on both sides of a DST change.
All offers' merged intervals live in one array sorted by (offer, start); a pair's longest common
stretch with a need window is found with `searchsorted` and a few vectorised steps.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

FLEX_DAYS = 14
FLEX_SECONDS = FLEX_DAYS * 86400
KEY_SHIFT = np.int64(1) << np.int64(34)  # room for epoch seconds up to year 2514


def epoch(dt: datetime) -> int:
    return int(dt.timestamp())


def expand_ranges(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ranges [starts[i], starts[i] + counts[i]) laid end to end: (which range, value) per element."""
    group = np.repeat(np.arange(len(counts)), counts)
    values = np.repeat(starts, counts) + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return group, values


class Horizon:
    """The span weekly slots are expanded over: from `now` to the last need window (at least 14 days)."""

    def __init__(self, now: datetime, last_end: int | None = None):
        self.now = epoch(now)
        self.end = max(self.now + FLEX_SECONDS, last_end or 0)
        self._cache: dict[tuple, list[tuple[int, int]]] = {}

    def weekly(self, tz: str, day: int, start_min: int, end_min: int) -> list[tuple[int, int]]:
        """Every occurrence of one weekly slot over the horizon, as (start, end) epoch seconds."""
        key = (tz, day, start_min, end_min)
        spans = self._cache.get(key)
        if spans is None:
            zone = ZoneInfo(tz)
            first = datetime.fromtimestamp(self.now, zone).date() - timedelta(days=1)
            last = datetime.fromtimestamp(self.end, zone).date()
            d = first + timedelta(days=(day - first.weekday()) % 7)
            spans = []
            while d <= last:
                spans.append(_slot_span(d, start_min, end_min, zone))
                d += timedelta(days=7)
            self._cache[key] = spans
        return spans


def _slot_span(d: date, start_min: int, end_min: int, zone: ZoneInfo) -> tuple[int, int]:
    start = datetime(d.year, d.month, d.day, start_min // 60, start_min % 60, tzinfo=zone)
    end_day = d if end_min > start_min else d + timedelta(days=1)
    end = datetime(end_day.year, end_day.month, end_day.day, end_min // 60, end_min % 60, tzinfo=zone)
    return int(start.timestamp()), int(end.timestamp())


HOUR = 3600
MAX_MASK_WORDS = 64  # hour masks cover up to 64 x 64 hours (about 170 days) past now; later windows skip the prefilter


class Availability:
    """Merged availability intervals of many offers, queryable by (offer index, window).

    Besides the exact intervals, each offer has a bitmask of the hours (from `origin`) in which it is
    free at all, 64 hours a word: a conservative prefilter that rejects most pairs with one or two
    word lookups before the exact check.
    """

    def __init__(self, owner: np.ndarray, start: np.ndarray, end: np.ndarray, n_offers: int,
                 origin: int | None = None, until: int | None = None, always: np.ndarray | None = None):
        order = np.lexsort((start, owner))
        owner, start, end = owner[order], start[order], end[order]
        # Merge overlapping or touching intervals within each offer (a running max of ends per offer,
        # made global by shifting each offer's times into its own key range).
        kend = owner * KEY_SHIFT + end
        kstart = owner * KEY_SHIFT + start
        runmax = np.maximum.accumulate(kend) if len(kend) else kend
        new = np.ones(len(start), dtype=bool)
        new[1:] = kstart[1:] > runmax[:-1]
        heads = np.flatnonzero(new)
        self.owner = owner[heads]
        self.start = start[heads]
        self.end = (np.maximum.reduceat(kend, heads) - self.owner * KEY_SHIFT) if len(heads) else end[heads]
        self.key = self.owner * KEY_SHIFT + self.start
        self.n_offers = n_offers
        self.always = always if always is not None else np.zeros(n_offers, dtype=bool)
        self.origin = origin
        self.words = 0
        if origin is not None and until is not None:
            self.words = min(MAX_MASK_WORDS, (max(until - origin, 0) // HOUR) // 64 + 2)
            self.mask = self._hour_masks()

    def _hour_masks(self) -> np.ndarray:
        """(offers x words) uint64: bit h set when the offer is free during any part of hour h."""
        mask = np.zeros((self.n_offers, self.words), dtype=np.uint64)
        mask[self.always] = np.uint64(0xFFFFFFFFFFFFFFFF)
        limit = self.words * 64
        keep = ~self.always[self.owner]
        owner = self.owner[keep]
        h0 = np.clip((self.start[keep] - self.origin) // HOUR, 0, limit)
        h1 = np.clip(-((self.origin - self.end[keep]) // HOUR), 0, limit)  # ceil
        counts = np.maximum(h1 - h0, 0)
        if counts.sum():
            rep, hours = expand_ranges(h0, counts)
            cell = owner[rep] * self.words + hours // 64
            bits = np.left_shift(np.uint64(1), (hours % 64).astype(np.uint64))
            order = np.argsort(cell, kind="stable")
            cell, bits = cell[order], bits[order]
            heads = np.r_[0, np.flatnonzero(np.diff(cell)) + 1]
            flat = mask.reshape(-1)
            flat[cell[heads]] |= np.bitwise_or.reduceat(bits, heads)
        return mask

    def _may_overlap(self, offer: np.ndarray, ws: np.ndarray, we: np.ndarray) -> np.ndarray:
        """False only where the offer is certainly not free at any moment of the window."""
        out = np.ones(len(offer), dtype=bool)
        if not self.words:
            return out
        h0 = (ws - self.origin) // HOUR
        h1 = -((self.origin - we) // HOUR) - 1  # last hour touched
        usable = (h0 >= 0) & (h1 < self.words * 64) & (h1 // 64 - h0 // 64 <= 1)
        rows = np.flatnonzero(usable)
        h0, h1, o = h0[rows], h1[rows], offer[rows]
        w0, w1 = h0 // 64, h1 // 64
        ones = np.uint64(0xFFFFFFFFFFFFFFFF)
        lo = np.left_shift(ones, (h0 % 64).astype(np.uint64))
        hi_bits = (h1 % 64).astype(np.uint64)
        hi = np.where(hi_bits == 63, ones, np.left_shift(np.uint64(1), hi_bits + np.uint64(1)) - np.uint64(1))
        same = w0 == w1
        flat = self.mask.reshape(-1)
        base = o * self.words
        first = np.take(flat, base + w0) & np.where(same, lo & hi, lo)
        out[rows] = first != 0
        two = np.flatnonzero(~same & ~out[rows])  # windows across a word boundary, not yet seen free
        if len(two):
            out[rows[two]] = (np.take(flat, base[two] + w1[two]) & hi[two]) != 0
        return out

    @classmethod
    def build(cls, offers, horizon: Horizon, base: int = 0) -> "Availability":
        """From Offer objects; an offer with no windows and no weekly slots is available at any time.

        A group offer (version 2 sessions) is never available this way: it is met only at its sessions.
        """
        owners, starts, ends = [], [], []
        always_start, always_end = horizon.now - 86400, horizon.end + 86400
        for j, offer in enumerate(offers, start=base):
            if offer.sessions:
                continue
            if not offer.when and not offer.weekly:
                owners.append(j), starts.append(always_start), ends.append(always_end)
                continue
            for w in offer.when:
                s, e = w.start_ts, w.end_ts
                if e > horizon.now:
                    owners.append(j), starts.append(s), ends.append(e)
            for slot in offer.weekly:
                for s, e in horizon.weekly(offer.tz, slot.day, slot.start_min, slot.end_min):
                    if e > horizon.now:
                        owners.append(j), starts.append(s), ends.append(e)
        always = np.array([not o.when and not o.weekly and not o.sessions for o in offers], dtype=bool)
        return cls(np.asarray(owners, dtype=np.int64), np.asarray(starts, dtype=np.int64),
                   np.asarray(ends, dtype=np.int64), base + len(offers), origin=horizon.now, until=horizon.end,
                   always=np.concatenate([np.zeros(base, dtype=bool), always]))

    def longest_overlap(self, offer: np.ndarray, ws: np.ndarray, we: np.ndarray) -> np.ndarray:
        """For each (offer, window), the longest stretch in seconds the offer is free inside the window.

        Exact: every merged interval that meets the window is visited (vectorised, step by step).
        """
        offer, ws, we = (np.asarray(a, dtype=np.int64) for a in (offer, ws, we))
        best = np.zeros(len(offer), dtype=np.int64)
        if len(self.key) == 0 or len(offer) == 0:
            return best
        always = self.always[offer]
        best[always] = np.maximum(we[always] - ws[always], 0)
        rows = np.flatnonzero(~always & self._may_overlap(offer, ws, we))
        if len(rows):
            best[rows] = self._exact(offer[rows], ws[rows], we[rows])
        return best

    def _exact(self, offer: np.ndarray, ws: np.ndarray, we: np.ndarray) -> np.ndarray:
        best = np.zeros(len(offer), dtype=np.int64)
        n = len(self.key)
        idx = np.searchsorted(self.key, offer * KEY_SHIFT + ws, side="right") - 1
        # the interval starting at or before the window start (if it belongs to this offer)
        ok = idx >= 0
        cur = np.where(ok, idx, 0)
        ok &= self.owner[cur] == offer
        ov = np.minimum(self.end[cur], we) - np.maximum(self.start[cur], ws)
        best = np.where(ok, np.maximum(best, ov), best)
        # then the following intervals of the same offer that start inside the window
        rows = np.arange(len(offer))
        nxt = idx + 1
        while len(rows):
            inside = nxt < n
            safe = np.where(inside, nxt, 0)
            inside &= (self.owner[safe] == offer[rows]) & (self.start[safe] < we[rows])
            rows, nxt = rows[inside], safe[inside]
            if not len(rows):
                break
            ov = np.minimum(self.end[nxt], we[rows]) - np.maximum(self.start[nxt], ws[rows])
            best[rows] = np.maximum(best[rows], ov)
            nxt = nxt + 1
        return best

    def longest_within(self, lo: int, hi: int) -> np.ndarray:
        """Per offer, the longest free stretch inside [lo, hi] (flexible needs share this window)."""
        out = np.zeros(self.n_offers, dtype=np.int64)
        ov = np.minimum(self.end, hi) - np.maximum(self.start, lo)
        np.maximum.at(out, self.owner, np.maximum(ov, 0))
        return out


def need_windows(needs, now: int):
    """Flatten needs' windows to arrays (need index, start, end), clipped to after `now`.

    A need with no windows is flexible: one window [now, now + 14 days], flagged in `flexible`.
    A repeating need's windows are its occurrences (version 2).
    """
    idx, starts, ends, flexible = [], [], [], np.zeros(len(needs), dtype=bool)
    for i, need in enumerate(needs):
        spans = need.when or need.occurrences
        if not spans:
            flexible[i] = True
            continue
        for w in spans:
            s, e = max(w.start_ts, now), w.end_ts
            if e > s:
                idx.append(i), starts.append(s), ends.append(e)
    return (np.asarray(idx, dtype=np.int64), np.asarray(starts, dtype=np.int64),
            np.asarray(ends, dtype=np.int64), flexible)

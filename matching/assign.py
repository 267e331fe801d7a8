"""The assignment: maximise the sum of units x score under need quantities and offer capacities.

A transportation problem, solved exactly as a min-cost flow (OR-Tools' network simplex in C++):
source -> need (capacity = quantity) -> offer (cost = -score x 10^6) -> sink (capacity =
capacity), with a free source -> sink bypass so units are only sent where they earn something.
Scores carry 6 decimals, so the integer costs are exact and the flow optimum is the LP optimum.
The graph is split into connected components: single-edge components are solved directly and
the rest in batches of components, so big instances stay fast and memory stays bounded.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse
from ortools.graph.python import min_cost_flow
from scipy.sparse.csgraph import connected_components

BATCH_EDGES = 2_000  # measured: small batches of components solve fastest (flow time grows faster than size)


def assign(need: np.ndarray, offer: np.ndarray, score: np.ndarray, quantity: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Units per edge (need[k], offer[k]) of a maximum-weight assignment; `quantity`/`capacity` are indexed by node."""
    m = len(need)
    units = np.zeros(m, dtype=np.int64)
    if m == 0:
        return units
    nodes_n, need_local = np.unique(need, return_inverse=True)
    nodes_o, offer_local = np.unique(offer, return_inverse=True)
    n_n = len(nodes_n)
    graph = sparse.coo_matrix((np.ones(m), (need_local, n_n + offer_local)), shape=(n_n + len(nodes_o),) * 2)
    _, labels = connected_components(graph, directed=False)
    comp = labels[need_local]
    sizes = np.bincount(comp)
    single = sizes[comp] == 1
    units[single] = np.minimum(quantity[need[single]], capacity[offer[single]])

    rest = np.flatnonzero(~single)
    if len(rest) == 0:
        return units
    rest = rest[np.argsort(comp[rest], kind="stable")]
    bounds = np.flatnonzero(np.diff(comp[rest])) + 1
    groups = np.split(rest, bounds)
    batch: list[np.ndarray] = []
    size = 0
    for group in groups:
        batch.append(group)
        size += len(group)
        if size >= BATCH_EDGES:
            _solve_batch(np.concatenate(batch), need, offer, score, quantity, capacity, units)
            batch, size = [], 0
    if batch:
        _solve_batch(np.concatenate(batch), need, offer, score, quantity, capacity, units)
    return units


def _solve_batch(edges, need, offer, score, quantity, capacity, units) -> None:
    n_ids, n_loc = np.unique(need[edges], return_inverse=True)
    o_ids, o_loc = np.unique(offer[edges], return_inverse=True)
    nn, no, k = len(n_ids), len(o_ids), len(edges)
    source, sink = nn + no, nn + no + 1
    supply = int(quantity[n_ids].sum())
    tails = np.concatenate([np.full(nn, source), n_loc, nn + np.arange(no), [source]]).astype(np.int64)
    heads = np.concatenate([np.arange(nn), nn + o_loc, np.full(no, sink), [sink]]).astype(np.int64)
    caps = np.concatenate([quantity[n_ids], np.minimum(quantity[need[edges]], capacity[offer[edges]]),
                           capacity[o_ids], [supply]]).astype(np.int64)
    costs = np.concatenate([np.zeros(nn), -np.rint(score[edges] * 1e6), np.zeros(no), [0]]).astype(np.int64)
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    flow.set_node_supply(source, supply)
    flow.set_node_supply(sink, -supply)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"assignment min-cost flow failed (status {status})")
    units[edges] = flow.flows(np.arange(nn, nn + k, dtype=np.int64))

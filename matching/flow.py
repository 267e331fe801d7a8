"""A maximum-weight flow on a general network, exact (OR-Tools' network simplex), split by components.

Version 2's stage A with group offers is not bipartite: a need's units go to an offer directly or
through one of its sessions (need -> session -> offer), so a session's places and the offer's
capacity both hold. Nodes get units from a source (`supply`) and may pass units on to a sink
(`sink_cap`); each arc has a capacity and an integer gain per unit (score x 10^6). Units are sent
only where they gain something (a free source -> sink bypass), so the optimum maximises the total
gain; with integer data the flow optimum is integral and equals the LP optimum.
"""
from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from matching.assign import BATCH_EDGES


def max_weight_flow(n_nodes: int, supply: np.ndarray, sink_cap: np.ndarray, tails: np.ndarray, heads: np.ndarray,
                    caps: np.ndarray, gains: np.ndarray) -> np.ndarray:
    """Units on each arc (tails[k] -> heads[k]) of a flow of maximum total gain.

    `supply[v]` units may enter node v from the source and `sink_cap[v]` may leave it to the sink;
    arcs carry at most `caps[k]` units at `gains[k]` (integers) each.
    """
    tails, heads = np.asarray(tails, dtype=np.int64), np.asarray(heads, dtype=np.int64)
    m = len(tails)
    flows = np.zeros(m, dtype=np.int64)
    if m == 0:
        return flows
    graph = sparse.coo_matrix((np.ones(m), (tails, heads)), shape=(n_nodes, n_nodes))
    _, labels = connected_components(graph, directed=False)
    comp = labels[tails]
    order = np.argsort(comp, kind="stable")
    groups = np.split(order, np.flatnonzero(np.diff(comp[order])) + 1)
    batch, size = [], 0
    for group in groups:
        batch.append(group)
        size += len(group)
        if size >= BATCH_EDGES:
            _solve(np.concatenate(batch), supply, sink_cap, tails, heads, caps, gains, flows)
            batch, size = [], 0
    if batch:
        _solve(np.concatenate(batch), supply, sink_cap, tails, heads, caps, gains, flows)
    return flows


def _solve(arcs, supply, sink_cap, tails, heads, caps, gains, flows) -> None:
    nodes, local = np.unique(np.concatenate([tails[arcs], heads[arcs]]), return_inverse=True)
    k, n = len(arcs), len(nodes)
    lt, lh = local[:k], local[k:]
    source, sink = n, n + 1
    sup, out = np.asarray(supply)[nodes].astype(np.int64), np.asarray(sink_cap)[nodes].astype(np.int64)
    fed, drained = np.flatnonzero(sup > 0), np.flatnonzero(out > 0)
    total = int(sup.sum())
    if total == 0 or len(drained) == 0:
        return
    t = np.concatenate([lt, np.full(len(fed), source), drained, [source]]).astype(np.int64)
    h = np.concatenate([lh, fed, np.full(len(drained), sink), [sink]]).astype(np.int64)
    c = np.concatenate([caps[arcs], sup[fed], out[drained], [total]]).astype(np.int64)
    cost = np.concatenate([-np.asarray(gains)[arcs], np.zeros(len(fed) + len(drained) + 1)]).astype(np.int64)
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(t, h, c, cost)
    flow.set_node_supply(source, total)
    flow.set_node_supply(sink, -total)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed (status {status})")
    flows[arcs] = flow.flows(np.arange(k, dtype=np.int64))

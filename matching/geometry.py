"""Points on the sphere: unit vectors for the KD-trees, chords and great-circle distances."""
from __future__ import annotations

import numpy as np

R_KM = 6371.0088


def _xyz(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    """Unit vectors (x, y, z) of points given in degrees."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def _chord(km: float) -> float:
    """The straight-line chord between unit vectors that are `km` apart on the surface (a hair more)."""
    return 2.0 * np.sin(min(km / R_KM, np.pi) / 2.0) + 1e-9


def _arc_km(chord: np.ndarray) -> np.ndarray:
    """Great-circle distance from the straight-line chord between unit vectors (exact)."""
    return 2 * R_KM * np.arcsin(np.minimum(chord / 2.0, 1.0))


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (vectorised)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * R_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))

"""GCJ-02 → WGS84. WeChat sends positions in GCJ-02 (China's obfuscated datum); GeoReport v2 and most
maps outside China expect WGS84. In Yuncheng the two differ by about 500–560 m.

The conversion is the ``prcoords`` library's iterative inverse of the public GCJ-02 formula (error well
under a metre); positions outside China are the same in both datums and pass unchanged.
"""

from __future__ import annotations

import prcoords


def in_china(lat: float, lon: float) -> bool:
    """Inside the rough box where GCJ-02 applies (the library's own test)."""
    return bool(prcoords.sanity_in_china_p(prcoords.Coords(lat, lon)))


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """The WGS84 position of a GCJ-02 one."""
    if not in_china(lat, lon):
        return lat, lon
    wgs = prcoords.gcj_wgs_bored(prcoords.Coords(lat, lon), check_china=False)
    return wgs.lat, wgs.lon


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """The GCJ-02 position of a WGS84 one (what a Chinese map shows for it)."""
    if not in_china(lat, lon):
        return lat, lon
    gcj = prcoords.wgs_gcj(prcoords.Coords(lat, lon), check_china=False)
    return gcj.lat, gcj.lon

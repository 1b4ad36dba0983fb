#!/usr/bin/env python3
"""Writes a seed corpus for the fuzz targets from the protocol vectors.

fixtures/protocol/layer1.json (client and relay frames) and mesh.json (gossip), valid and
invalid alike, one file per vector under corpus/<target>/. Hex groups as fixtures/protocol/
README.md describes them (`<hex>*<n>` repeats `<hex>` n times). Run from relay/fuzz.
"""

import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "protocol"
TARGETS = {
    ("layer1", "client_to_relay"): "client_frame",
    ("layer1", "relay_to_client"): "relay_frame",
    ("mesh", None): "mesh_wire",
}


def groups(text):
    out = bytearray()
    for group in text.split():
        hex_part, _, times = group.partition("*")
        out += bytes.fromhex(hex_part) * (int(times) if times else 1)
    return bytes(out)


for (file, direction), target in TARGETS.items():
    vectors = json.loads((ROOT / f"{file}.json").read_text())
    corpus = pathlib.Path("corpus") / target
    corpus.mkdir(parents=True, exist_ok=True)
    for kind in ("valid", "invalid"):
        for v in vectors[kind]:
            if direction is None or v.get("direction") == direction:
                (corpus / f"{kind}-{v['name']}").write_bytes(groups(v["hex"]))

#!/usr/bin/env python3
"""tests/e2e/host-ca-check.py STORAGE_ROOT [--base=IMAGE]... IMAGE... - no layer of IMAGE holds a CA of this machine.

The machine's extra CA certificates (/usr/local/share/ca-certificates/*.crt, or the files named by
STOWPLAN_HOST_CAS, space-separated) reach builds as secrets only (tests/e2e/README.md). This reads
containers-storage's overlay layers directly, so a file that a later layer deletes is still seen:
every regular file of every layer of each image is searched for each certificate, as PEM (a line
of its base64 body) and as DER (32 bytes of it, the form Java's cacerts and p11-kit keep).

The layers of each --base image are not read (checked already, by the e2e suite's host-ca step).
Prints one line per image (its layer count) and one per hit; exits 1 on a hit, 2 on bad input.
"""
import base64
import glob
import json
import os
import sys


def cert_patterns(path):
    """The PEM line and DER window that identify the certificate in PATH."""
    text = open(path, encoding="ascii", errors="replace").read()
    body = text.split("-----BEGIN CERTIFICATE-----", 1)[1].split("-----END CERTIFICATE-----", 1)[0]
    lines = [line.strip() for line in body.split("\n") if line.strip()]
    der = base64.b64decode("".join(lines))
    # the middle of the certificate: the key and signature, not the common header bytes
    pem_line = lines[len(lines) // 2].encode()
    mid = len(der) // 2
    return [pem_line, der[mid:mid + 32]]


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip().split("\n")[0], file=sys.stderr)
        return 2
    root = sys.argv[1]
    bases = [a.split("=", 1)[1] for a in sys.argv[2:] if a.startswith("--base=")]
    images = [a for a in sys.argv[2:] if not a.startswith("--base=")]
    names = os.environ.get("STOWPLAN_HOST_CAS", "").split() or sorted(
        glob.glob("/usr/local/share/ca-certificates/**/*.crt", recursive=True))
    if not names:
        print("no extra CA on this machine: nothing to look for")
        return 0
    patterns = [(os.path.basename(n), p) for n in names for p in cert_patterns(n)]
    with open(os.path.join(root, "overlay-images", "images.json")) as f:
        by_name = {name: img for img in json.load(f) for name in img.get("names") or []}
    with open(os.path.join(root, "overlay-layers", "layers.json")) as f:
        parent = {layer["id"]: layer.get("parent") for layer in json.load(f)}
    def chain_of(image):
        img = by_name.get(image)
        if img is None:
            print(f"{image}: no such image in {root}", file=sys.stderr)
            sys.exit(2)
        chain, layer = [], img.get("layer")
        while layer:
            chain.append(layer)
            layer = parent.get(layer)
        return chain

    scanned = {}  # layer id -> hits, each layer read once
    for base in bases:
        scanned.update({layer: [] for layer in chain_of(base)})
    skipped = len(scanned)
    bad = 0
    for image in images:
        found, chain = False, chain_of(image)
        for layer in chain:
            if layer not in scanned:
                scanned[layer] = scan(os.path.join(root, "overlay", layer, "diff"), patterns)
            for hit in scanned[layer]:
                print(f"{image}: layer {layer[:12]}: {hit}")
                found = True
        print(f"{image}: {len(chain)} layer(s), {'HOST CA FOUND' if found else 'no host CA'}")
        bad |= found
    print(f"{len(patterns) // 2} host CA(s) looked for in {len(scanned) - skipped} layer(s): "
          f"{'FOUND' if bad else 'none found'}")
    return bad


def scan(diff, patterns):
    hits = []
    for top, _dirs, files in os.walk(diff):
        for name in files:
            path = os.path.join(top, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as f:
                data = f.read()
            for ca, pattern in patterns:
                if pattern in data:
                    hits.append(f"{os.path.relpath(path, diff)} holds {ca}")
                    break
    return hits


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Writes a copy of a safetensors checkpoint with one field changed.

  ckpt_edit.py IN OUT meta KEY VALUE     __metadata__[KEY] = VALUE (a string)
  ckpt_edit.py IN OUT tensor NAME VALUE  every element of the I64 tensor NAME
"""
import json
import struct
import sys


def main():
    src, dst, kind, key, value = sys.argv[1:6]
    with open(src, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = bytearray(raw[8 + n:])
    if kind == "meta":
        header.setdefault("__metadata__", {})[key] = value
    else:
        entry = header[key]
        assert entry["dtype"] == "I64", entry
        a, b = entry["data_offsets"]
        for off in range(a, b, 8):
            data[off:off + 8] = struct.pack("<q", int(value))
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(dst, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + bytes(data))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Embed a file in C: embed.py INPUT OUTPUT.h NAME writes
`static const char NAME[] = {...};` and `#define NAME_LEN n`."""
import sys

data = open(sys.argv[1], "rb").read()
name = sys.argv[3]
with open(sys.argv[2], "w") as out:
    out.write("/* Generated from %s; do not edit. */\n" % sys.argv[1].rsplit("/", 1)[-1])
    out.write("static const char %s[] = {\n" % name)
    for i in range(0, len(data), 16):
        # Bytes above 0x7f (UTF-8 text) are cast: char may be signed.
        out.write("\t" + ", ".join(("0x%02x" if b < 0x80 else "(char)0x%02x") % b
                                   for b in data[i:i + 16]) + ",\n")
    out.write("\t0x00\n};\n#define %s_LEN %d\n" % (name.upper(), len(data)))

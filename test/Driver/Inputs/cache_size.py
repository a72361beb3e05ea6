"""The bytes of the object cache's entries in DIR, checked against a bound:
cache_size.py DIR --more-than N | --at-most N (exit 1 with the total when
the bound does not hold)."""
import os
import sys

directory, bound, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
total = sum(os.path.getsize(os.path.join(directory, name))
            for name in os.listdir(directory) if name.endswith(".o"))
holds = total > limit if bound == "--more-than" else total <= limit
if not holds:
    sys.exit(f"cache_size.py: {directory}: {total} bytes, not {bound} {limit}")

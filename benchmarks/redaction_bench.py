"""Redaction speed: messages per second of ``redact`` over every message of a conversations file.

Redaction runs on every imported message, so it must stay far faster than parsing and storing.
The file (canonical JSON Lines, gzip or not) is read into memory first, so only ``redact`` is
timed; the best of --repeat runs is reported, with what was redacted.

    python benchmarks/redaction_bench.py                          # the shared train file
    python benchmarks/redaction_bench.py path/to/conversations.jsonl.gz --repeat 5
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_app.conversations.redaction import redact  # noqa: E402

DEFAULT_PATH = ROOT.parent / "shared" / "data" / "conversations-train.jsonl.gz"


def load_texts(path: Path) -> list[str]:
    """Every message text of a canonical JSON Lines file, in file order."""
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    texts: list[str] = []
    with opener(path, "rt", encoding="utf-8") as stream:
        for line in stream:
            if line.strip():
                texts.extend(message["text"] for message in json.loads(line)["messages"])
    return texts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "path",
        nargs="?",
        type=Path,
        default=DEFAULT_PATH,
        help=f"canonical JSON Lines file, gzip or not (default: {DEFAULT_PATH})",
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best is reported")
    args = parser.parse_args(argv)

    if not args.path.is_file():
        print(
            f"{args.path} not found. Pass the path of a conversations file, e.g.\n"
            f"  python benchmarks/redaction_bench.py /path/to/conversations-train.jsonl.gz",
            file=sys.stderr,
        )
        return 2

    texts = load_texts(args.path)
    if not texts:
        print(f"{args.path} holds no messages.", file=sys.stderr)
        return 2
    characters = sum(len(text) for text in texts)

    best = float("inf")
    counts: Counter[str] = Counter()
    changed = 0
    for _ in range(max(1, args.repeat)):
        counts, changed = Counter(), 0
        started = time.perf_counter()
        for text in texts:
            _, found = redact(text)
            if found:
                changed += 1
                counts.update(found)
        best = min(best, time.perf_counter() - started)

    print(f"file:      {args.path}")
    print(f"messages:  {len(texts):,} ({characters / len(texts):.0f} characters on average)")
    print(f"redacted:  {changed:,} messages; {dict(sorted(counts.items())) or 'nothing'}")
    print(f"time:      {best:.3f} s (best of {max(1, args.repeat)})")
    print(f"speed:     {len(texts) / best:,.0f} messages/s ({characters / best / 1e6:.1f} MB/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

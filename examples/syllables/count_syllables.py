#!/usr/bin/env python3
"""Counts the syllables of English words, as a distributo-worker --exec command.

Reads JSON payloads, one per line, from stdin until EOF, e.g. {"word": "banana"},
and writes one JSON line per payload to stdout, e.g. {"word": "banana", "syllables": 3},
flushing after each, so it serves both --exec_mode=lines and --exec_mode=per_task.
A payload that is not an object with a string "word" is reported on stderr and ends
the process with status 2, which the worker records as a failed attempt. An optional
"sleep_ms": N makes the count take at least N ms, as a slow task would: the protocol's
conformance suite (tests/conformance/) needs tasks that outlast a lease.

The count is a heuristic (vowel groups plus a few English corrections), not a
dictionary lookup, so expect it to be off by one on some words. Every word with a
letter counts at least 1; a string without letters counts 0.
"""

import json
import re
import sys
import time
import unicodedata

VOWEL_GROUP = re.compile(r"[aeiouy]+")
# Vowel pairs usually spoken as two syllables, each adding one to its vowel group.
HIATUS = re.compile(
    r"(^|[^cgstx])i(a|o(?!n)|u)"  # pi-a-no, ra-di-o, me-di-um; not so-cial, na-tion, on-ion.
    r"|[^qg]ua|creat"  # ac-tu-al, cre-at-ed; not qual-i-ty, lan-guage.
    r"|[aeiouy]ings?$|[aeiouy][^aeiouy]+ea$"  # be-ing, i-de-a; not plea.
)
# A final "-le" or "-re" after a consonant is a syllable of its own, also with -d or -s:
# ta-ble, ta-bled, ap-ples, hun-dred, ac-re (but fire, called, curled).
SYLLABIC_END = re.compile(r"[^aeiouylr][lr]e[ds]?$")
# Otherwise a final "-e", "-ed" or "-es" after a consonant adds no syllable: make, jumped,
# makes; but cre-at-ed, fad-ed, box-es, wish-es, chang-es, val-ue, a-gree.
SILENT_END = re.compile(r"[^aeiouy]e$|[^aeiouytd]ed$|[^aeiouyszxhgc]es$")


def count_word(word: str) -> int:
    """Returns the estimated syllables of one lower-case ASCII word, at least 1."""
    count = len(VOWEL_GROUP.findall(word)) + len(HIATUS.findall(word))
    if not SYLLABIC_END.search(word) and SILENT_END.search(word):
        count -= 1
    return max(count, 1)


def count_syllables(text: str) -> int:
    """Returns the estimated syllables of `text`, summed over its words."""
    # Fold case and accents (Ångström -> angstrom), then split into words, dropping a
    # possessive "'s" (apple's) and other apostrophes (don't).
    folded = unicodedata.normalize("NFKD", text.lower().replace("\u2019", "'"))
    words = re.findall(r"[a-z']+", folded.encode("ascii", "ignore").decode())
    words = [re.sub(r"'s$", "", w).replace("'", "") for w in words]
    return sum(count_word(w) for w in words if w)


def main() -> int:
    """Answers each payload line on stdin; returns the exit status."""
    for line in sys.stdin.buffer:  # Bytes: JSON is UTF-8 whatever the locale says.
        if not line.strip():
            continue
        try:
            payload = json.loads(line)
        except ValueError as e:
            print(f"count_syllables: payload is not JSON: {e}", file=sys.stderr)
            return 2
        word = payload.get("word") if isinstance(payload, dict) else None
        if not isinstance(word, str):
            got = line[:200].decode(errors="replace").strip()
            print(f'count_syllables: payload needs a string "word", got: {got}', file=sys.stderr)
            return 2
        time.sleep(payload.get("sleep_ms", 0) / 1000)
        print(json.dumps({"word": word, "syllables": count_syllables(word)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Checks count_syllables.py: counts on common words, and its stdin/stdout protocol.

Run: python3 examples/syllables/count_syllables_test.py (stdlib unittest, any cwd).
"""

import json
import pathlib
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True  # Keep the source tree clean.
HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from count_syllables import count_syllables  # noqa: E402

SCRIPT = HERE / "count_syllables.py"
EXPECTED = {
    "apple": 2, "banana": 3, "syllable": 3, "the": 1, "fire": 1, "created": 3,
    "table": 2, "beautiful": 3, "Apple's": 2, "hello": 2, "world": 1, "jumped": 1,
    "faded": 2, "boxes": 2, "makes": 1, "value": 2, "being": 2, "piano": 3,
    "nation": 2, "actual": 3, "hundred": 2, "called": 1, "people": 2, "every": 3,
    "don't": 1, "little": 2, "education": 4, "idea": 3, "university": 5, "a": 1,
}


def run(stdin: str) -> subprocess.CompletedProcess:
    """Runs the script on `stdin`; returns the finished process."""
    return subprocess.run([sys.executable, str(SCRIPT)], input=stdin, capture_output=True,
                          text=True, timeout=30, check=False)


class CountSyllablesTest(unittest.TestCase):
    def test_common_words(self):
        got = {word: count_syllables(word) for word in EXPECTED}
        self.assertEqual(got, EXPECTED)

    def test_every_word_counts_at_least_one(self):
        for word in ("hmm", "nth", "Ångström", "x", "brr"):
            self.assertGreaterEqual(count_syllables(word), 1, word)

    def test_answers_one_line_per_payload(self):
        proc = run('{"word": "banana"}\n\n{"word": "table"}\n')
        self.assertEqual(proc.returncode, 0, proc.stderr)
        lines = [json.loads(line) for line in proc.stdout.splitlines()]
        self.assertEqual(lines, [{"word": "banana", "syllables": 3},
                                 {"word": "table", "syllables": 2}])

    def test_bad_payload_exits_2(self):
        for stdin in ('{"w": "banana"}\n', '{"word": 3}\n', "not json\n", "[1]\n"):
            proc = run(stdin)
            self.assertEqual(proc.returncode, 2, stdin)
            self.assertIn("count_syllables:", proc.stderr)


if __name__ == "__main__":
    unittest.main()

#ifndef DISTRIBUTO_EXAMPLES_SYLLABLES_SYLLABLE_COUNTER_H_
#define DISTRIBUTO_EXAMPLES_SYLLABLES_SYLLABLE_COUNTER_H_

#include "absl/strings/string_view.h"

namespace distributo::examples::syllables {

// Returns the estimated syllables of `word`, summed over the words in it if it
// holds several ("well-known" counts "well" and "known"). It counts vowel
// groups, then corrects for a silent final "e", "-le"/"-re", "-ed" and "-es"
// endings, and vowel pairs that split ("ia" in "piano"). A heuristic, not a
// dictionary: expect it to be off by one on some words ("lion", "recipe").
//
// Case, a possessive "'s" and other apostrophes (ASCII or U+2019) are
// ignored. Accented Latin-1 letters count as their base letter ("é" as "e");
// other non-ASCII characters are skipped. Every word with a letter counts at
// least 1; a string without letters counts 0. The counts are those of
// count_syllables.py. Thread-safe: it touches no shared state.
int CountSyllables(absl::string_view word);

}  // namespace distributo::examples::syllables

#endif  // DISTRIBUTO_EXAMPLES_SYLLABLES_SYLLABLE_COUNTER_H_

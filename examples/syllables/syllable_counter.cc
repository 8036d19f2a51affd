#include "syllable_counter.h"

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

// Each rule below is one regular expression of count_syllables.py, matched by
// hand so that both counters agree word for word; the regex is quoted above
// its function.

namespace distributo::examples::syllables {
namespace {

// The letters of U+00C0..U+00FF, lower-cased and stripped of their accents as
// Python's NFKD does; '_' where nothing ASCII is left (Æ, ß, ×, ...).
constexpr absl::string_view kLatin1Letters =
    "aaaaaa_ceeeeiiii_nooooo__uuuuy__aaaaaa_ceeeeiiii_nooooo__uuuuy_y";
// U+2019, the typographic apostrophe, in UTF-8.
constexpr absl::string_view kRightQuote = "\xE2\x80\x99";

bool In(char c, absl::string_view set) {
  return set.find(c) != absl::string_view::npos;
}

bool IsVowel(char c) { return In(c, "aeiouy"); }

// Returns `text` as lower-case ASCII letters and apostrophes, with a space
// for every other ASCII character, so that words are the space-separated
// runs. Non-ASCII characters never split a word: they become a letter or are
// dropped, as in the Python counter ("Ångström" becomes "angstrom").
std::string Fold(absl::string_view text) {
  std::string folded;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = text[i];
    if (absl::ascii_isalpha(c) || c == '\'') {
      folded += absl::ascii_tolower(c);
    } else if (c < 0x80) {
      folded += ' ';
    } else if (c == 0xC3 && i + 1 < text.size() &&
               (static_cast<unsigned char>(text[i + 1]) & 0xC0) == 0x80) {
      const char letter = kLatin1Letters[text[++i] & 0x3F];
      if (letter != '_') folded += letter;
    } else if (absl::StartsWith(text.substr(i), kRightQuote)) {
      folded += '\'';
      i += kRightQuote.size() - 1;
    }
  }
  return folded;
}

int CountVowelGroups(absl::string_view w) {
  int groups = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    if (IsVowel(w[i]) && (i == 0 || !IsVowel(w[i - 1]))) ++groups;
  }
  return groups;
}

// The hiatus rules: vowel pairs usually spoken as two syllables, each adding
// one to its vowel group. Each returns the length of its match at `p`, or 0.

// (^|[^cgstx])i(a|o(?!n)|u): pi-a-no, ra-di-o, me-di-um; not so-cial,
// na-tion, on-ion.
size_t SplitIAt(absl::string_view w, size_t p) {
  auto splits_at = [w](size_t i) {  // `i` indexes the "i"
    if (i + 1 >= w.size() || w[i] != 'i') return false;
    if (w[i + 1] == 'o') return i + 2 == w.size() || w[i + 2] != 'n';
    return w[i + 1] == 'a' || w[i + 1] == 'u';
  };
  if (p == 0 && splits_at(0)) return 2;
  return !In(w[p], "cgstx") && splits_at(p + 1) ? 3 : 0;
}

// [^qg]ua|creat: ac-tu-al, cre-at-ed; not qual-i-ty, lan-guage.
size_t SplitUaOrCreatAt(absl::string_view w, size_t p) {
  const absl::string_view rest = w.substr(p);
  if (rest.size() >= 3 && !In(rest[0], "qg") && rest.substr(1, 2) == "ua") {
    return 3;
  }
  return absl::StartsWith(rest, "creat") ? 5 : 0;
}

// [aeiouy]ings?$|[aeiouy][^aeiouy]+ea$: be-ing, i-de-a; not plea.
size_t SplitEndAt(absl::string_view w, size_t p) {
  const absl::string_view rest = w.substr(p);
  if (rest.empty() || !IsVowel(rest[0])) return 0;
  const absl::string_view after = rest.substr(1);
  if (after == "ing" || after == "ings") return rest.size();
  if (after.size() < 3 || !absl::EndsWith(after, "ea")) return 0;
  const absl::string_view between = after.substr(0, after.size() - 2);
  return std::none_of(between.begin(), between.end(), IsVowel) ? rest.size()
                                                               : 0;
}

// Counts the hiatus matches as Python's findall does: leftmost first, the
// rules tried in order, and the scan resuming after each match.
int CountHiatus(absl::string_view w) {
  int count = 0;
  size_t p = 0;
  while (p < w.size()) {
    size_t length = 0;
    for (auto rule : {SplitIAt, SplitUaOrCreatAt, SplitEndAt}) {
      if ((length = rule(w, p)) > 0) break;
    }
    count += length > 0 ? 1 : 0;
    p += std::max<size_t>(length, 1);
  }
  return count;
}

// [^aeiouylr][lr]e[ds]?$: a final "-le" or "-re" after a consonant is a
// syllable of its own, also with -d or -s: ta-ble, ta-bled, ap-ples,
// hun-dred, ac-re (but fire, called, curled).
bool HasSyllabicEnd(absl::string_view w) {
  if (absl::EndsWith(w, "d") || absl::EndsWith(w, "s")) w.remove_suffix(1);
  const size_t n = w.size();
  return n >= 3 && w[n - 1] == 'e' && In(w[n - 2], "lr") &&
         !In(w[n - 3], "aeiouylr");
}

// [^aeiouy]e$|[^aeiouytd]ed$|[^aeiouyszxhgc]es$: otherwise a final "-e",
// "-ed" or "-es" after a consonant adds no syllable: make, jumped, makes; but
// cre-at-ed, fad-ed, box-es, wish-es, chang-es, val-ue, a-gree.
bool HasSilentEnd(absl::string_view w) {
  const size_t n = w.size();
  if (n >= 2 && w[n - 1] == 'e') return !IsVowel(w[n - 2]);
  if (n >= 3 && absl::EndsWith(w, "ed")) return !In(w[n - 3], "aeiouytd");
  if (n >= 3 && absl::EndsWith(w, "es")) return !In(w[n - 3], "aeiouyszxhgc");
  return false;
}

// Returns the estimated syllables of one non-empty word of a-z, at least 1.
int CountWord(absl::string_view w) {
  int count = CountVowelGroups(w) + CountHiatus(w);
  if (!HasSyllabicEnd(w) && HasSilentEnd(w)) --count;
  return std::max(count, 1);
}

}  // namespace

int CountSyllables(absl::string_view word) {
  const std::string folded = Fold(word);
  int count = 0;
  for (absl::string_view token :
       absl::StrSplit(folded, ' ', absl::SkipEmpty())) {
    // A possessive adds nothing (apple's); other apostrophes join (don't).
    if (absl::EndsWith(token, "'s")) token.remove_suffix(2);
    const std::string letters = absl::StrReplaceAll(token, {{"'", ""}});
    if (!letters.empty()) count += CountWord(letters);
  }
  return count;
}

}  // namespace distributo::examples::syllables

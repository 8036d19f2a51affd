#include "syllable_counter.h"

#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace distributo::examples::syllables {
namespace {

// The expectations of count_syllables_test.py, so that both counters agree.
TEST(CountSyllablesTest, CountOnCommonWordsMatchesPythonCounter) {
  const std::vector<std::pair<absl::string_view, int>> expected = {
      {"apple", 2},      {"banana", 3},  {"syllable", 3},  {"the", 1},
      {"fire", 1},       {"created", 3}, {"table", 2},     {"beautiful", 3},
      {"Apple's", 2},    {"hello", 2},   {"world", 1},     {"jumped", 1},
      {"faded", 2},      {"boxes", 2},   {"makes", 1},     {"value", 2},
      {"being", 2},      {"piano", 3},   {"nation", 2},    {"actual", 3},
      {"hundred", 2},    {"called", 1},  {"people", 2},    {"every", 3},
      {"don't", 1},      {"little", 2},  {"education", 4}, {"idea", 3},
      {"university", 5}, {"a", 1},
  };
  for (const auto& [word, syllables] : expected) {
    EXPECT_EQ(CountSyllables(word), syllables) << word;
  }
}

TEST(CountSyllablesTest, CountOnWordWithoutVowelsReturnsOne) {
  for (absl::string_view word : {"hmm", "nth", "x", "brr", "Ångström"}) {
    EXPECT_GE(CountSyllables(word), 1) << word;
  }
}

TEST(CountSyllablesTest, CountOnTextWithoutLettersReturnsZero) {
  for (absl::string_view text : {"", "42", "'", "--", "'s", "日本"}) {
    EXPECT_EQ(CountSyllables(text), 0) << text;
  }
}

TEST(CountSyllablesTest, CountWithCapitalsOrApostrophesIgnoresThem) {
  EXPECT_EQ(CountSyllables("BANANA"), 3);
  EXPECT_EQ(CountSyllables("it's"), 1);
  EXPECT_EQ(CountSyllables("don\u2019t"), 1);  // the typographic apostrophe
  EXPECT_EQ(CountSyllables("people's"), 2);
}

TEST(CountSyllablesTest, CountOnAccentedLettersUsesTheirBaseLetters) {
  EXPECT_EQ(CountSyllables("Ångström"), 2);  // as "angstrom"
  EXPECT_EQ(CountSyllables("Atatürk"), 3);
  EXPECT_EQ(CountSyllables("Élan"), 2);
}

TEST(CountSyllablesTest, CountOnSeveralWordsSumsThem) {
  EXPECT_EQ(CountSyllables("hello world"), 3);
  EXPECT_EQ(CountSyllables("well-known"), 2);
}

}  // namespace
}  // namespace distributo::examples::syllables

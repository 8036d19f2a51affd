#ifndef DISTRIBUTO_EXAMPLES_SYLLABLES_TEXT_IO_H_
#define DISTRIBUTO_EXAMPLES_SYLLABLES_TEXT_IO_H_

// The text plumbing of syllables-master, kept out of master.cc so that it
// reads as the SDK example it is. All functions are thread-safe, except that
// one path must not be written from two threads at once.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace distributo::examples::syllables {

// Returns whether `text` is well-formed UTF-8 (no overlong forms, surrogates
// or code points past U+10FFFF), as a proto3 string field must be: a message
// with anything else does not parse on the other side.
bool IsUtf8(absl::string_view text);

// Returns `utf8` as a quoted JSON string.
std::string JsonQuote(absl::string_view utf8);

// Writes `contents` to `path` through a temporary file renamed over it, so
// that a reader sees the old file or the whole new one, never a part.
// Returns Unavailable if it cannot.
absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view contents);

}  // namespace distributo::examples::syllables

#endif  // DISTRIBUTO_EXAMPLES_SYLLABLES_TEXT_IO_H_

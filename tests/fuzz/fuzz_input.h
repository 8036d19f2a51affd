#ifndef DISTRIBUTO_TESTS_FUZZ_FUZZ_INPUT_H_
#define DISTRIBUTO_TESTS_FUZZ_FUZZ_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace distributo::fuzz {

// Reads the fuzzer's bytes as small numbers and short strings; zeros (and
// empty strings) once they run out.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool more() const { return at_ < size_; }
  uint8_t Next() { return at_ < size_ ? data_[at_++] : 0; }
  // Up to 11 bytes, its length read first.
  std::string Text() {
    std::string text;
    for (uint8_t length = Next() % 12; length > 0 && more(); --length) {
      text.push_back(static_cast<char>(Next()));
    }
    return text;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

}  // namespace distributo::fuzz

#endif  // DISTRIBUTO_TESTS_FUZZ_FUZZ_INPUT_H_

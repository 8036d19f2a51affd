#ifndef DISTRIBUTO_SERVER_MOVE_APPEND_H_
#define DISTRIBUTO_SERVER_MOVE_APPEND_H_

#include <iterator>
#include <vector>

namespace distributo::server {

// Moves every element of `from` to the end of `to`, leaving `from` empty.
// Into an empty `to` the two swap, moving no element: finished tasks go
// from vector to vector on their way to the sink, and each move of one
// costs a few hundred instructions.
template <typename T>
void MoveAppend(std::vector<T>& from, std::vector<T>& to) {
  if (to.empty()) {
    to.swap(from);
    return;
  }
  to.insert(to.end(), std::make_move_iterator(from.begin()),
            std::make_move_iterator(from.end()));
  from.clear();
}

}  // namespace distributo::server

#endif  // DISTRIBUTO_SERVER_MOVE_APPEND_H_

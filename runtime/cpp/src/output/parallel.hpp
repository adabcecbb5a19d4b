// Splitting work over a few std::threads, for the post-processing loops.
#pragma once

#include <algorithm>
#include <exception>
#include <thread>
#include <vector>

namespace frozenseg::output {

// Threads to use for `items` independent pieces: the request (0 = all cores), at most `items`.
inline int worker_count(int requested, long items) {
  long n = requested > 0 ? requested : static_cast<long>(std::thread::hardware_concurrency());
  return static_cast<int>(std::max(1L, std::min(n, std::max(1L, items))));
}

// Calls body(worker, begin, end) on `workers` contiguous parts of [0, items), worker 0 on the
// calling thread; rethrows the first exception a part threw.
template <typename Body>
void parallel_ranges(int workers, long items, Body&& body) {
  if (workers <= 1 || items <= 1) {
    body(0, 0L, items);
    return;
  }
  std::vector<std::exception_ptr> errors(workers);
  auto run = [&](int w) {
    const long begin = items * w / workers;
    const long end = items * (w + 1) / workers;
    try {
      body(w, begin, end);
    } catch (...) {
      errors[w] = std::current_exception();
    }
  };
  {
    std::vector<std::jthread> threads;
    threads.reserve(workers - 1);
    for (int w = 1; w < workers; ++w) threads.emplace_back(run, w);
    run(0);
  }
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace frozenseg::output

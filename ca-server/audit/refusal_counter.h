// RefusalCounter: turns a stream of refused requests (the rate limiter's
// 429s) into a few audit rows. A flood from one address used to write one
// fsynced audit row per refused request (580 rows/s measured); the audit log
// is a record of decisions, and "this address was throttled N times in this
// minute" is one decision.
//
// Per source, windows of `window` seconds: the first refusal of a window is
// reported at once (so an attack shows in the audit log without delay), the
// others are counted and reported as one row when the window has ended and
// the next refusal from anyone (or Drain) comes by. At most two rows per
// source and window.
//
// Memory is bounded: at most max_sources open windows; when a new source
// arrives and the table is full, the oldest window is closed early (its
// count reported), never dropped silently.
//
// Thread safety: all methods may be called concurrently.
#ifndef GATE_CA_AUDIT_REFUSAL_COUNTER_H_
#define GATE_CA_AUDIT_REFUSAL_COUNTER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace gate::ca {

class RefusalCounter {
 public:
  struct Row {
    std::string source;
    std::string what;           // the first (count 1) or the last refused request
    std::int64_t count = 0;     // refusals this row stands for
    std::int64_t since = 0;     // unix seconds: the window's start
    bool window_start = false;  // true: the first refusal of its window
  };

  explicit RefusalCounter(std::int64_t window_seconds = 60, std::size_t max_sources = 4096);

  // Counts one refusal of `what` ("POST /v1/login", never a secret) from
  // source at unix time now, and returns the rows due: this refusal when it
  // opens a window, plus the counts of windows (any source's) that ended.
  std::vector<Row> Add(const std::string& source, const std::string& what, std::int64_t now);

  // The counts of windows that ended by now, removed from the table.
  std::vector<Row> Drain(std::int64_t now);
  // The counts of every window, ended or not (at shutdown); the table is
  // empty afterwards.
  std::vector<Row> DrainAll();

  std::size_t open_windows() const;

 private:
  struct Window {
    std::int64_t start = 0;
    std::int64_t more = 0;  // refusals after the first
    std::string last_what;
  };

  // Moves the rows of ended windows into out; mu_ held.
  void DrainLocked(std::int64_t now, bool all, std::vector<Row>& out);
  static Row SummaryRow(const std::string& source, const Window& w);

  const std::int64_t window_;
  const std::size_t max_sources_;
  mutable std::mutex mu_;
  std::map<std::string, Window> windows_;  // guarded by mu_
};

}  // namespace gate::ca

#endif  // GATE_CA_AUDIT_REFUSAL_COUNTER_H_

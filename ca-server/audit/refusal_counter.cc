#include "ca-server/audit/refusal_counter.h"

#include <algorithm>
#include <utility>

namespace gate::ca {

RefusalCounter::RefusalCounter(std::int64_t window_seconds, std::size_t max_sources)
    : window_(std::max<std::int64_t>(1, window_seconds)),
      max_sources_(std::max<std::size_t>(1, max_sources)) {}

RefusalCounter::Row RefusalCounter::SummaryRow(const std::string& source, const Window& w) {
  return Row{source, w.last_what, w.more, w.start, false};
}

void RefusalCounter::DrainLocked(std::int64_t now, bool all, std::vector<Row>& out) {
  for (auto it = windows_.begin(); it != windows_.end();) {
    if (!all && now - it->second.start < window_) {
      ++it;
      continue;
    }
    if (it->second.more > 0) out.push_back(SummaryRow(it->first, it->second));
    it = windows_.erase(it);
  }
}

std::vector<RefusalCounter::Row> RefusalCounter::Add(const std::string& source,
                                                     const std::string& what, std::int64_t now) {
  std::vector<Row> out;
  std::lock_guard<std::mutex> lock(mu_);
  DrainLocked(now, /*all=*/false, out);
  auto it = windows_.find(source);
  if (it != windows_.end()) {
    ++it->second.more;
    it->second.last_what = what;
    return out;
  }
  if (windows_.size() >= max_sources_) {
    auto oldest = std::min_element(
        windows_.begin(), windows_.end(),
        [](const auto& a, const auto& b) { return a.second.start < b.second.start; });
    if (oldest->second.more > 0) out.push_back(SummaryRow(oldest->first, oldest->second));
    windows_.erase(oldest);
  }
  windows_.emplace(source, Window{now, 0, what});
  out.push_back(Row{source, what, 1, now, true});
  return out;
}

std::vector<RefusalCounter::Row> RefusalCounter::Drain(std::int64_t now) {
  std::vector<Row> out;
  std::lock_guard<std::mutex> lock(mu_);
  DrainLocked(now, /*all=*/false, out);
  return out;
}

std::vector<RefusalCounter::Row> RefusalCounter::DrainAll() {
  std::vector<Row> out;
  std::lock_guard<std::mutex> lock(mu_);
  DrainLocked(0, /*all=*/true, out);
  return out;
}

std::size_t RefusalCounter::open_windows() const {
  std::lock_guard<std::mutex> lock(mu_);
  return windows_.size();
}

}  // namespace gate::ca

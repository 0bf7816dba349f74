#include "ca-server/api/work_queues.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <string>
#include <utility>

#include "gate/log.h"

namespace gate::ca {
namespace {

// A throwing job must not take its worker down with it.
void RunGuarded(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    log::Error(std::string("worker: job threw: ") + e.what());
  } catch (...) {
    log::Error("worker: job threw a non-standard exception");
  }
}

}  // namespace

WorkQueues::WorkQueues(int threads, std::array<QueueLimits, kTrafficClassCount> limits,
                       std::function<Clock::time_point()> now)
    : threads_(std::max(1, threads)), now_(std::move(now)) {
  for (std::size_t i = 0; i < kTrafficClassCount; ++i) {
    classes_[i].limits.concurrency = std::max(1, limits[i].concurrency);
    classes_[i].limits.queue = std::max(0, limits[i].queue);
    classes_[i].limits.nice = std::clamp(limits[i].nice, 0, 19);
    classes_[i].per_source = std::max(1, classes_[i].limits.queue / 4);
  }
}

WorkQueues::~WorkQueues() { Stop(); }

void WorkQueues::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!workers_.empty() || stopping_) return;
  for (int i = 0; i < threads_; ++i) workers_.emplace_back([this] { WorkerLoop(-1); });
  for (std::size_t c = 0; c < kTrafficClassCount; ++c) {
    const QueueLimits& limits = classes_[c].limits;
    if (limits.nice == 0) continue;
    for (int i = 0; i < limits.concurrency; ++i) {
      workers_.emplace_back([this, c, nice = limits.nice] {
        // PRIO_PROCESS with a thread id sets that thread's nice value only.
        if (::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice) != 0) {
          log::Warning("worker: cannot set nice " + std::to_string(nice) + " for " +
                       std::string(TrafficClassName(static_cast<TrafficClass>(c))) +
                       " requests: " + std::strerror(errno));
        }
        WorkerLoop(static_cast<int>(c));
      });
    }
  }
}

bool WorkQueues::Submit(TrafficClass c, const std::string& source, Job job, Then then) {
  const auto index = static_cast<std::size_t>(c);
  if (index >= kTrafficClassCount || !job) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    ClassState& cls = classes_[index];
    // A job that a free slot will take at once waits for nothing, so the
    // limits are on jobs beyond the free slots: queue 0 still takes a job
    // when one of the class's slots is free.
    const int free_slots = std::max(0, cls.limits.concurrency - cls.running);
    if (cls.waiting >= free_slots) {
      if (cls.waiting - free_slots >= cls.limits.queue) return false;
      auto mine = cls.by_source.find(source);
      if (mine != cls.by_source.end() &&
          static_cast<int>(mine->second.size()) - free_slots >= cls.per_source) {
        return false;
      }
    }
    std::deque<Queued>& queue = cls.by_source[source];
    if (queue.empty()) cls.turns.push_back(source);
    queue.push_back({std::move(job), std::move(then), now_()});
    ++cls.waiting;
  }
  // Several workers may be asleep and only some able to take this class:
  // wake all, each re-checks.
  cv_.notify_all();
  return true;
}

void WorkQueues::Stop() {
  std::vector<std::thread> workers;
  std::array<std::deque<Queued>, kTrafficClassCount> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    workers.swap(workers_);
    for (std::size_t i = 0; i < kTrafficClassCount; ++i) {
      ClassState& cls = classes_[i];
      for (auto& [source, queue] : cls.by_source) {
        for (Queued& q : queue) dropped[i].push_back(std::move(q));
      }
      cls.by_source.clear();
      cls.turns.clear();
      cls.waiting = 0;
    }
  }
  cv_.notify_all();
  // Outside the lock, and before waiting for the running jobs: what the
  // dropped jobs hold (sessions) goes now.
  for (auto& queue : dropped) queue.clear();
  for (std::thread& t : workers) t.join();
}

int WorkQueues::running(TrafficClass c) const {
  std::lock_guard<std::mutex> lock(mu_);
  return classes_[static_cast<std::size_t>(c)].running;
}

int WorkQueues::waiting(TrafficClass c) const {
  std::lock_guard<std::mutex> lock(mu_);
  return classes_[static_cast<std::size_t>(c)].waiting;
}

int WorkQueues::PickLocked(int own_class) {
  if (own_class >= 0) {
    const ClassState& cls = classes_[static_cast<std::size_t>(own_class)];
    return cls.waiting > 0 && cls.running < cls.limits.concurrency ? own_class : -1;
  }
  for (std::size_t k = 0; k < kTrafficClassCount; ++k) {
    const std::size_t i = (next_ + k) % kTrafficClassCount;
    const ClassState& cls = classes_[i];
    if (cls.limits.nice == 0 && cls.waiting > 0 && cls.running < cls.limits.concurrency) {
      next_ = (i + 1) % kTrafficClassCount;
      return static_cast<int>(i);
    }
  }
  return -1;
}

void WorkQueues::WorkerLoop(int own_class) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    int picked = -1;
    cv_.wait(lock, [&] {
      if (stopping_) return true;
      picked = PickLocked(own_class);
      return picked >= 0;
    });
    if (stopping_) return;
    ClassState& cls = classes_[static_cast<std::size_t>(picked)];
    // The source whose turn it is gives one job, then goes to the back.
    std::string source = std::move(cls.turns.front());
    cls.turns.pop_front();
    auto mine = cls.by_source.find(source);
    Queued queued = std::move(mine->second.front());
    mine->second.pop_front();
    if (mine->second.empty()) {
      cls.by_source.erase(mine);
    } else {
      cls.turns.push_back(std::move(source));
    }
    --cls.waiting;
    ++cls.running;
    lock.unlock();
    const Clock::duration waited = now_() - queued.submitted;
    RunGuarded([&queued, waited] { queued.job(waited); });
    queued.job = nullptr;  // release what it holds before taking the lock
    lock.lock();
    --cls.running;
    // A slot of this class is free: a sleeping worker may now take its job.
    cv_.notify_all();
    if (queued.then) {
      lock.unlock();
      RunGuarded(queued.then);
      queued.then = nullptr;
      lock.lock();
    }
  }
}

}  // namespace gate::ca

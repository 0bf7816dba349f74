// WorkQueues: gate-ca's bounded worker pool. Request handlers block (argon2id
// at 64 MiB, fsync of recording chunks, the database), so they run here and
// not on the server's I/O threads, which only move bytes.
//
// One queue per TrafficClass, each with its own concurrency (how many of its
// jobs run at once) and queue limit (how many may wait beyond those). A free
// worker takes the next job round-robin over the classes that are below
// their concurrency, so a class with a flood waiting gets at most its own
// share of the workers and every other class is still served.
//
// Within a class, jobs are kept per source (the client's address) and taken
// round-robin over the sources, and one source may have at most a quarter
// of the class's queue waiting (at least 1): one address flooding logins
// neither fills the login queue nor stands in front of another address's
// login. A job over a limit is refused at once (the caller answers 503),
// never left to time out.
//
// A class with a nice value above 0 gets workers of its own: `concurrency`
// threads that run at that nice value (a thread's own CPU priority on
// Linux) and take only its jobs, while the shared workers never take them.
// The login class uses this: argon2id is bulk CPU work, so under a flood
// it yields the cores to node syncs and central OTP checks, which are short
// and have a client waiting on a deadline. Raising a thread's nice value
// needs no privilege, but lowering it again does, so such a thread is never
// shared with another class.
//
// Thread safety: every method may be called from any thread; jobs run on
// the pool's threads, several at once.
#ifndef GATE_CA_API_WORK_QUEUES_H_
#define GATE_CA_API_WORK_QUEUES_H_

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ca-server/api/http_types.h"

namespace gate::ca {

struct QueueLimits {
  int concurrency = 1;  // at least 1
  int queue = 0;        // jobs that may wait; 0: only run when a slot is free
  // 0: the class's jobs run on the shared workers. 1..19: on `concurrency`
  // workers of its own, running at this nice value.
  int nice = 0;
};

class WorkQueues {
 public:
  using Clock = std::chrono::steady_clock;
  // Runs on a worker; `waited` is the time from Submit to the start, so a
  // job can refuse to do work its client has likely stopped waiting for.
  using Job = std::function<void(Clock::duration waited)>;
  // Runs on the same worker after its job, once the job's slot is free
  // again. A reply handed to the client from here cannot reach the client
  // before the class can take the client's next request.
  using Then = std::function<void()>;

  // threads: how many shared workers Start() starts (at least 1), besides
  // the own workers of the classes with a nice value. limits: by
  // TrafficClass index. now: the clock `waited` is measured with.
  WorkQueues(int threads, std::array<QueueLimits, kTrafficClassCount> limits,
             std::function<Clock::time_point()> now = Clock::now);
  // Stop()s.
  ~WorkQueues();

  WorkQueues(const WorkQueues&) = delete;
  WorkQueues& operator=(const WorkQueues&) = delete;

  // Starts the workers. Call at most once. Jobs submitted before wait. A
  // worker that cannot set its nice value logs it and serves anyway.
  void Start();

  // Queues job for class c on behalf of source and returns true, or returns
  // false at once (job destroyed unrun) when it cannot run now and c already
  // has `queue` jobs waiting, or source has its share of them, or after
  // Stop(). then (may be empty) runs after job, outside the slot, and is
  // destroyed unrun with job when job never runs.
  bool Submit(TrafficClass c, const std::string& source, Job job, Then then = nullptr);

  // Refuses new jobs, destroys the waiting ones unrun (on this thread), and
  // waits for the running ones to finish. Idempotent.
  void Stop();

  // Jobs of class c running and waiting now (tests, logs).
  int running(TrafficClass c) const;
  int waiting(TrafficClass c) const;

 private:
  struct Queued {
    Job job;
    Then then;
    Clock::time_point submitted;
  };
  struct ClassState {
    QueueLimits limits;
    int per_source = 1;  // most jobs one source may have waiting
    std::map<std::string, std::deque<Queued>> by_source;
    std::deque<std::string> turns;  // sources with jobs waiting, next first
    int waiting = 0;
    int running = 0;
  };

  // own_class: the class whose own worker this is, or -1 for a shared one.
  void WorkerLoop(int own_class);
  // The index of the class whose job the worker runs next, or -1; mu_ held.
  int PickLocked(int own_class);

  const int threads_;
  const std::function<Clock::time_point()> now_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::array<ClassState, kTrafficClassCount> classes_;  // guarded by mu_
  std::size_t next_ = 0;                                // round-robin start; guarded by mu_
  bool stopping_ = false;                               // guarded by mu_
  std::vector<std::thread> workers_;
};

}  // namespace gate::ca

#endif  // GATE_CA_API_WORK_QUEUES_H_

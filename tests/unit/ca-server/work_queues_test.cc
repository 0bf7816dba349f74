#include "ca-server/api/work_queues.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace gate::ca {
namespace {

using Clock = WorkQueues::Clock;
using namespace std::chrono_literals;

// A gate the test opens by hand: jobs that wait on it hold their worker
// until the test says so, so what these tests check never depends on timing.
class Gate {
 public:
  void Open() { promise_.set_value(); }
  void Wait() const { future_.wait(); }

 private:
  std::promise<void> promise_;
  std::shared_future<void> future_ = promise_.get_future().share();
};

std::array<QueueLimits, kTrafficClassCount> Limits(QueueLimits login, QueueLimits node) {
  std::array<QueueLimits, kTrafficClassCount> l{};
  l.fill({1, 0});
  l[static_cast<std::size_t>(TrafficClass::kLogin)] = login;
  l[static_cast<std::size_t>(TrafficClass::kNode)] = node;
  return l;
}

// Polls until a condition holds; the condition, not the time, decides.
template <class F>
void Eventually(F condition) {
  while (!condition()) std::this_thread::sleep_for(1ms);
}

TEST(WorkQueuesTest, AFloodOfOneClassDoesNotStarveAnother) {
  // queue 8: one source may have 2 waiting.
  WorkQueues queues(3, Limits({2, 8}, {1, 4}));
  queues.Start();
  Gate release;
  std::atomic<int> logins_done{0};
  auto login = [&](Clock::duration) {
    release.Wait();
    ++logins_done;
  };
  ASSERT_TRUE(queues.Submit(TrafficClass::kLogin, "flood", login));
  ASSERT_TRUE(queues.Submit(TrafficClass::kLogin, "flood", login));
  Eventually([&] { return queues.running(TrafficClass::kLogin) == 2; });
  ASSERT_TRUE(queues.Submit(TrafficClass::kLogin, "flood", login));
  ASSERT_TRUE(queues.Submit(TrafficClass::kLogin, "flood", login));
  // The flooding source has its share of the queue: refused at once.
  EXPECT_FALSE(queues.Submit(TrafficClass::kLogin, "flood", login));
  EXPECT_EQ(queues.waiting(TrafficClass::kLogin), 2);

  // The third worker serves the node class while every login slot is busy.
  std::promise<void> node_ran;
  ASSERT_TRUE(
      queues.Submit(TrafficClass::kNode, "node", [&](Clock::duration) { node_ran.set_value(); }));
  node_ran.get_future().wait();
  EXPECT_EQ(logins_done.load(), 0);

  release.Open();
  Eventually([&] { return logins_done.load() == 4; });
}

TEST(WorkQueuesTest, SourcesTakeTurnsWithinAClass) {
  WorkQueues queues(1, Limits({1, 40}, {1, 0}));  // 10 waiting per source
  Gate release;
  std::mutex mu;
  std::vector<std::string> order;
  auto job = [&](std::string who) {
    return [&, who](Clock::duration) {
      release.Wait();
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(who);
    };
  };
  // Before Start: five from a flooding source, then one from another.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(queues.Submit(TrafficClass::kLogin, "flood", job("f")));
  ASSERT_TRUE(queues.Submit(TrafficClass::kLogin, "clean", job("c")));
  release.Open();
  queues.Start();
  Eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return order.size() == 6;
  });
  // The clean source's one job runs second, not after the flood.
  EXPECT_EQ(order, (std::vector<std::string>{"f", "c", "f", "f", "f", "f"}));
}

TEST(WorkQueuesTest, AFullQueueRefusesEverySource) {
  WorkQueues queues(1, Limits({1, 2}, {1, 0}));  // 1 waiting per source
  queues.Start();
  Gate release;
  auto job = [&](Clock::duration) { release.Wait(); };
  ASSERT_TRUE(queues.Submit(TrafficClass::kLogin, "a", job));
  Eventually([&] { return queues.running(TrafficClass::kLogin) == 1; });
  ASSERT_TRUE(queues.Submit(TrafficClass::kLogin, "a", job));
  ASSERT_TRUE(queues.Submit(TrafficClass::kLogin, "b", job));
  EXPECT_FALSE(queues.Submit(TrafficClass::kLogin, "c", job));
  release.Open();
}

TEST(WorkQueuesTest, ConcurrencyCapsAClassEvenWithFreeWorkers) {
  WorkQueues queues(4, Limits({1, 12}, {1, 0}));
  queues.Start();
  Gate release;
  std::atomic<int> at_once{0};
  std::atomic<int> most{0};
  std::atomic<int> done{0};
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(queues.Submit(TrafficClass::kLogin, "s" + std::to_string(i), [&](Clock::duration) {
      const int now = ++at_once;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      release.Wait();
      --at_once;
      ++done;
    }));
  }
  Eventually([&] { return queues.running(TrafficClass::kLogin) == 1; });
  EXPECT_EQ(queues.waiting(TrafficClass::kLogin), 3);
  release.Open();
  Eventually([&] { return done.load() == 4; });
  EXPECT_EQ(most.load(), 1);
}

// Submits a login job that runs until release opens, and returns once it
// has started.
void HoldALoginSlot(WorkQueues& queues, Gate& release) {
  std::promise<void> started;
  ASSERT_TRUE(queues.Submit(TrafficClass::kLogin, "a", [&](Clock::duration) {
    started.set_value();
    release.Wait();
  }));
  started.get_future().wait();
}

TEST(WorkQueuesTest, QueueZeroTakesAJobOnlyForAFreeSlot) {
  WorkQueues queues(2, Limits({1, 0}, {1, 0}));
  queues.Start();
  Gate release;
  HoldALoginSlot(queues, release);
  EXPECT_FALSE(queues.Submit(TrafficClass::kLogin, "b", [](Clock::duration) {}));
  release.Open();
}

TEST(WorkQueuesTest, ThenRunsWhenTheJobsSlotIsFreeAgain) {
  // One slot, nobody may wait: only a free slot takes a job. `then` is
  // where a reply is handed to its client, so a job submitted from there
  // (the client's next request) must find the slot free.
  WorkQueues queues(1, Limits({1, 0}, {1, 0}));
  queues.Start();
  std::promise<bool> next_taken;
  std::promise<void> next_ran;
  ASSERT_TRUE(queues.Submit(
      TrafficClass::kLogin, "a", [](Clock::duration) {},
      [&] {
        next_taken.set_value(queues.Submit(TrafficClass::kLogin, "a",
                                           [&](Clock::duration) { next_ran.set_value(); }));
      }));
  EXPECT_TRUE(next_taken.get_future().get());
  next_ran.get_future().wait();
}

TEST(WorkQueuesTest, ThenIsDroppedUnrunWithAJobThatNeverRuns) {
  WorkQueues queues(1, Limits({1, 1}, {1, 0}));
  queues.Start();
  Gate release;
  HoldALoginSlot(queues, release);
  bool ran = false;
  ASSERT_TRUE(queues.Submit(
      TrafficClass::kLogin, "b", [&](Clock::duration) { ran = true; }, [&] { ran = true; }));
  std::thread stopper([&] { queues.Stop(); });
  // Stop() drops the waiting job (and its then) before it waits for the
  // running one, which the gate holds until then.
  Eventually([&] { return queues.waiting(TrafficClass::kLogin) == 0; });
  release.Open();
  stopper.join();
  EXPECT_FALSE(ran);
}

TEST(WorkQueuesTest, JobsSeeHowLongTheyWaited) {
  // A clock the test moves: the job learns it waited exactly 7 s.
  auto now = std::make_shared<std::atomic<std::int64_t>>(0);
  WorkQueues queues(1, Limits({1, 1}, {1, 1}),
                    [now] { return Clock::time_point(std::chrono::seconds(now->load())); });
  std::promise<Clock::duration> waited;
  ASSERT_TRUE(
      queues.Submit(TrafficClass::kNode, "n", [&](Clock::duration w) { waited.set_value(w); }));
  now->store(7);
  queues.Start();  // jobs submitted before Start wait for it
  EXPECT_EQ(waited.get_future().get(), std::chrono::seconds(7));
}

TEST(WorkQueuesTest, StopDropsWaitingJobsAndRefusesNewOnes) {
  WorkQueues queues(1, Limits({1, 8}, {1, 8}));
  queues.Start();
  Gate release;
  std::promise<void> started;
  std::atomic<int> ran{0};
  ASSERT_TRUE(queues.Submit(TrafficClass::kLogin, "a", [&](Clock::duration) {
    started.set_value();
    release.Wait();
    ++ran;
  }));
  started.get_future().wait();
  auto held = std::make_shared<int>(1);
  ASSERT_TRUE(queues.Submit(TrafficClass::kLogin, "a", [&, held](Clock::duration) { ++ran; }));
  auto stopped = std::async(std::launch::async, [&] { queues.Stop(); });
  // Stop drops the waiting job (and what it holds) before it waits for the
  // running one.
  Eventually([&] { return held.use_count() == 1; });
  release.Open();
  stopped.get();
  EXPECT_EQ(ran.load(), 1);
  EXPECT_FALSE(queues.Submit(TrafficClass::kNode, "n", [](Clock::duration) {}));
}

TEST(WorkQueuesTest, AThrowingJobDoesNotKillItsWorker) {
  WorkQueues queues(1, Limits({1, 4}, {1, 4}));
  queues.Start();
  ASSERT_TRUE(queues.Submit(TrafficClass::kNode, "n",
                            [](Clock::duration) { throw std::runtime_error("boom"); }));
  std::promise<void> next;
  ASSERT_TRUE(queues.Submit(TrafficClass::kNode, "n", [&](Clock::duration) { next.set_value(); }));
  next.get_future().wait();
}

// The nice value of the calling thread (not the process's first thread).
int ThreadNice() {
  errno = 0;
  return ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
}

TEST(WorkQueuesTest, AClassWithANiceValueRunsOnItsOwnWorkersAtThatNice) {
  const int base = ThreadNice();
  if (base >= 19) GTEST_SKIP() << "this test already runs at nice 19";
  const int nice = std::max(base + 1, 7);
  // One shared worker; login has one worker of its own at `nice`.
  WorkQueues queues(1, Limits({1, 4, nice}, {1, 4}));
  queues.Start();

  std::promise<int> login_nice;
  std::promise<void> login_started;
  Gate release;
  ASSERT_TRUE(queues.Submit(TrafficClass::kLogin, "a", [&](Clock::duration) {
    login_nice.set_value(ThreadNice());
    login_started.set_value();
    release.Wait();
  }));
  login_started.get_future().wait();
  EXPECT_EQ(login_nice.get_future().get(), nice);

  // The login worker is busy and the shared one is free: a second login
  // waits for the login worker, it never runs on the shared one.
  ASSERT_TRUE(queues.Submit(TrafficClass::kLogin, "b", [](Clock::duration) {}));
  // The shared worker, not counted with login's own, serves a node request
  // at the process's priority meanwhile.
  std::promise<int> node_nice;
  ASSERT_TRUE(queues.Submit(TrafficClass::kNode, "n",
                            [&](Clock::duration) { node_nice.set_value(ThreadNice()); }));
  EXPECT_EQ(node_nice.get_future().get(), base);
  EXPECT_EQ(queues.waiting(TrafficClass::kLogin), 1);
  EXPECT_EQ(queues.running(TrafficClass::kLogin), 1);

  release.Open();
  Eventually([&] { return queues.waiting(TrafficClass::kLogin) == 0; });
}

TEST(WorkQueuesTest, ClassesWithoutANiceValueRunAtTheProcesssPriority) {
  const int base = ThreadNice();
  WorkQueues queues(1, Limits({1, 4}, {1, 4}));
  queues.Start();
  std::promise<int> login_nice;
  ASSERT_TRUE(queues.Submit(TrafficClass::kLogin, "a",
                            [&](Clock::duration) { login_nice.set_value(ThreadNice()); }));
  EXPECT_EQ(login_nice.get_future().get(), base);
}

}  // namespace
}  // namespace gate::ca

// The signer's system call filter (signer/syscall_filter.h), in forked
// children: a real signer serving real requests over a real SQLite store
// under the filter, and forbidden calls stopping it with the line the admin
// sees.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ca-server/signer/ca_keys.h"
#include "ca-server/signer/signer_client.h"
#include "ca-server/signer/signer_server.h"
#include "ca-server/signer/signer_service.h"
#include "ca-server/signer/syscall_filter.h"
#include "ca-server/signer_test_support.h"
#include "ca-server/store_sqlite_backend.h"
#include "gate/ed25519.h"
#include "gate/unique_fd.h"

namespace gate::ca {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;
constexpr char kUuid[] = "4a6f0c1e-9b2d-4c3e-8f10-0123456789ab";

// --- Forbidden calls -------------------------------------------------------------------

// A socket to give the filter as the front end's, kept open in the child.
int FrontEndSocket() {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) ::_exit(100);
  return pair[0];
}

// In a death-test child: the filter, or exit 101 (the test then fails on
// the exit code, not on the message).
void Confine(int fd) {
  if (!InstallSignerSyscallFilter(fd).ok()) ::_exit(101);
}

void RunTrue() {
  char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
  ::execve("/bin/true", argv, nullptr);
}

void NoCoreFile() {
  const rlimit none{0, 0};
  (void)::setrlimit(RLIMIT_CORE, &none);
}

const auto kStopped = ::testing::ExitedWithCode(kForbiddenSyscallExitCode);

TEST(SignerSandboxTest, NoNetworkSocket) {
  EXPECT_EXIT(
      {
        Confine(FrontEndSocket());
        (void)::socket(AF_INET, SOCK_STREAM, 0);
        ::_exit(0);
      },
      kStopped, "gate-ca: signer: forbidden system call socket \\(41\\); the signer stops");
}

TEST(SignerSandboxTest, NoProgramAndNoProcess) {
  EXPECT_EXIT(
      {
        Confine(FrontEndSocket());
        RunTrue();
        ::_exit(0);
      },
      kStopped, "forbidden system call execve ");
  EXPECT_EXIT(
      {
        Confine(FrontEndSocket());
        (void)::fork();
        ::_exit(0);
      },
      kStopped, "forbidden system call clone ");
  EXPECT_EXIT(
      {
        Confine(FrontEndSocket());
        (void)::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
        ::_exit(0);
      },
      kStopped, "forbidden system call ptrace ");
}

TEST(SignerSandboxTest, NoChangingItsSignalsOrCredentials) {
  EXPECT_EXIT(
      {
        Confine(FrontEndSocket());
        ::signal(SIGSYS, SIG_IGN);
        ::_exit(0);
      },
      kStopped, "forbidden system call rt_sigaction ");
  EXPECT_EXIT(
      {
        Confine(FrontEndSocket());
        (void)::setuid(0);
        ::_exit(0);
      },
      kStopped, "forbidden system call setuid ");
}

// Code that blocks SIGSYS to carry on past a refused call is killed.
void BlockSigsys() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGSYS);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) ::_exit(104);
}

TEST(SignerSandboxTest, BlockingSigsysDoesNotLetACallThrough) {
  EXPECT_EXIT(
      {
        NoCoreFile();
        Confine(FrontEndSocket());
        BlockSigsys();
        (void)::socket(AF_INET, SOCK_STREAM, 0);
        ::_exit(0);
      },
      ::testing::KilledBySignal(SIGSYS), "");
}

TEST(SignerSandboxTest, TalksOnlyToTheFrontEndAndWritesOnlyToStderr) {
  EXPECT_EXIT(
      {
        const int front_end = FrontEndSocket();
        const int other = FrontEndSocket();
        Confine(front_end);
        (void)::send(front_end, "x", 1, MSG_NOSIGNAL);  // allowed
        (void)::send(other, "x", 1, MSG_NOSIGNAL);
        ::_exit(0);
      },
      kStopped, "forbidden system call sendto ");
  EXPECT_EXIT(
      {
        Confine(FrontEndSocket());
        (void)::write(STDERR_FILENO, "to the log\n", 11);  // allowed
        (void)::write(STDOUT_FILENO, "x", 1);
        ::_exit(0);
      },
      kStopped, "to the log\n.*forbidden system call write ");
}

TEST(SignerSandboxTest, NoExecutableMemory) {
  EXPECT_EXIT(
      {
        Confine(FrontEndSocket());
        void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                            0);  // allowed
        if (page == MAP_FAILED) ::_exit(102);
        (void)::mprotect(page, 4096, PROT_READ | PROT_EXEC);
        ::_exit(0);
      },
      kStopped, "forbidden system call mprotect ");
  EXPECT_EXIT(
      {
        Confine(FrontEndSocket());
        (void)::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ::_exit(0);
      },
      kStopped, "forbidden system call mmap ");
}

TEST(SignerSandboxTest, OpeningAFileIsRefusedWithoutStopping) {
  EXPECT_EXIT(
      {
        Confine(FrontEndSocket());
        const int fd = ::open("/etc/passwd", O_RDONLY | O_CLOEXEC);
        const int fd_error = errno;
        const int at = ::openat(AT_FDCWD, "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ::_exit(fd < 0 && fd_error == EACCES && at < 0 && errno == EACCES ? 0 : 103);
      },
      ::testing::ExitedWithCode(0), "");
}

#if defined(__x86_64__)
TEST(SignerSandboxTest, OnlyTheNativeAbi) {
  // x32 getpid (39 | __X32_SYSCALL_BIT): the filter sees it before the
  // kernel decides whether it runs x32 at all.
  EXPECT_EXIT(
      {
        Confine(FrontEndSocket());
        (void)::syscall(0x40000000L | 39);
        ::_exit(0);
      },
      kStopped, "forbidden system call 39 of the x32 ABI");
  // i386 getpid (20) through int 0x80, where the kernel has that ABI.
  const pid_t probe = ::fork();
  ASSERT_GE(probe, 0);
  if (probe == 0) {
    long ret = 20;
    asm volatile("int $0x80" : "+a"(ret) : : "memory", "r8", "r9", "r10", "r11");
    ::_exit(ret == ::getpid() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(probe, &status, 0), probe);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    GTEST_SKIP() << "this kernel does not run i386 system calls";
  }
  EXPECT_EXIT(
      {
        Confine(FrontEndSocket());
        long ret = 20;
        asm volatile("int $0x80" : "+a"(ret) : : "memory", "r8", "r9", "r10", "r11");
        ::_exit(0);
      },
      kStopped, "forbidden system call 20 of the i386 ABI");
}
#endif

TEST(SignerSandboxTest, AbortStillReportsItself) {
  EXPECT_EXIT(
      {
        NoCoreFile();
        Confine(FrontEndSocket());
        std::abort();
      },
      ::testing::KilledBySignal(SIGABRT), "");
}

// --- Serving under the filter ----------------------------------------------------------

// A signer process as gate-ca makes it: its own store connection and the CA
// keys, opened first; then the filter; then serving until the front end
// hangs up. Runs in a forked child; exits 0 after a clean end.
[[noreturn]] void RunFilteredSigner(const std::string& db_path, const std::string& ca_dir,
                                    UniqueFd fd) {
  auto store = OpenSqliteStore(db_path);
  auto keys = LoadOrCreateCaKeys(ca_dir);
  if (!store || !keys) ::_exit(110);
  if (!InstallSignerSyscallFilter(fd.get()).ok()) ::_exit(111);
  int rc = 0;
  {
    SignerService service({std::chrono::hours(30)}, std::move(*keys), **store, [] { return kNow; });
    if (!ServeSignerConnection(fd.get(), service).ok()) rc = 112;
  }
  (void)store->release();  // as gate-ca's signer: closing is beyond the filter
  ::_exit(rc);
}

class FilteredSignerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    {
      auto store = backend_.Open();
      ASSERT_TRUE(store.has_value()) << store.error().ToString();
      ASSERT_TRUE((*store)->CreateRole(testing::Role("dev", {"ubuntu"})).ok());
      UserRecord user;
      user.name = "alice";
      user.logins = {"alice"};
      user.roles = {"dev"};
      user.created_at = kNow;
      user.password_hash = "$argon2id$placeholder";
      ASSERT_TRUE((*store)->CreateUser(user).ok());
      testing::RegisterNode(**store, kUuid, host_key_, kNow);
    }  // closed before the fork: no SQLite connection may cross it
    int pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
    UniqueFd signer_end(pair[0]), front_end(pair[1]);
    signer_pid_ = ::fork();
    ASSERT_GE(signer_pid_, 0);
    if (signer_pid_ == 0) {
      front_end.Reset();
      RunFilteredSigner(backend_.path(), (backend_.dir() / "ca").string(), std::move(signer_end));
    }
    signer_end.Reset();
    auto client = SignerClient::Connect(std::move(front_end), std::chrono::seconds(30));
    ASSERT_TRUE(client.has_value()) << client.error().ToString();
    client_ = std::move(*client);
    auto store = backend_.Open();
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
  }

  void TearDown() override {
    if (signer_pid_ <= 0 || waited_) return;
    ::kill(signer_pid_, SIGKILL);
    (void)Wait();
  }

  // Hangs up as the front end does at stop, and returns the signer's status.
  int Wait() {
    client_.reset();
    int status = 0;
    while (::waitpid(signer_pid_, &status, 0) < 0 && errno == EINTR) {
    }
    waited_ = true;
    return status;
  }

  // Hangs up; the signer must exit 0 (a forbidden call would be 159).
  void ExpectCleanExit() {
    const int status = Wait();
    ASSERT_TRUE(WIFEXITED(status)) << status;
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }

  UserCertificateRequest AliceRequest() {
    return {"alice", std::chrono::hours(8), key_, {}, "203.0.113.7"};
  }

  SqliteBackend backend_;
  const ssh::Ed25519PublicKey key_ = ssh::Ed25519PrivateKey::Generate()->public_key();
  const ssh::Ed25519PublicKey host_key_ = ssh::Ed25519PrivateKey::Generate()->public_key();
  pid_t signer_pid_ = -1;
  bool waited_ = false;
  std::unique_ptr<SignerClient> client_;
  std::unique_ptr<Store> store_;
};

TEST_F(FilteredSignerTest, SignsRefusesAuditsAndStopsCleanly) {
  auto issued = client_->SignUserCertificate(AliceRequest());
  ASSERT_TRUE(issued.has_value()) << issued.error().ToString();
  EXPECT_EQ(issued->certificate.spec.principals, (std::vector<std::string>{"alice", "ubuntu"}));
  auto host = client_->SignHostCertificate({kUuid, host_key_, {"db-1"}, "node"});
  ASSERT_TRUE(host.has_value()) << host.error().ToString();
  UserCertificateRequest unknown = AliceRequest();
  unknown.user = "mallory";
  auto refused = client_->SignUserCertificate(unknown);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Code::kNotFound);

  // The signer's own writes reached the database: the certificates and an
  // audit row for each decision.
  auto certs = store_->ListCertificates("alice");
  ASSERT_TRUE(certs.has_value());
  EXPECT_EQ(certs->size(), 1u);
  auto audit = store_->ListAudit(3);
  ASSERT_TRUE(audit.has_value());
  ASSERT_EQ(audit->size(), 3u);
  EXPECT_EQ((*audit)[0].event, "signer.user_cert");
  EXPECT_FALSE((*audit)[0].success);
  EXPECT_EQ((*audit)[1].event, "signer.host_cert");

  ExpectCleanExit();
}

TEST_F(FilteredSignerTest, WaitsForTheWriteLockUnderTheFilter) {
  // Another writer holds the database: the signer's SQLite sleeps in its
  // busy handler until it is free (5 s at most; released long before).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(backend_.path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::thread release([db] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  });
  auto issued = client_->SignUserCertificate(AliceRequest());
  release.join();
  sqlite3_close(db);
  ASSERT_TRUE(issued.has_value()) << issued.error().ToString();
  ExpectCleanExit();
}

TEST_F(FilteredSignerTest, CheckpointsALargeWalUnderTheFilter) {
  // Over 4096 frames in the WAL (left there by a writer that does not
  // checkpoint): the signer maps more of the WAL index, and its next commit
  // checkpoints everything into the database file and truncates it.
  RawExec(backend_.path(),
          "PRAGMA wal_autocheckpoint=0; CREATE TABLE filler (b BLOB);"
          "INSERT INTO filler VALUES (zeroblob(20000000))");
  const auto wal_size = std::filesystem::file_size(backend_.path() + "-wal");
  ASSERT_GT(wal_size, 4096u * 4096u);
  auto issued = client_->SignUserCertificate(AliceRequest());
  ASSERT_TRUE(issued.has_value()) << issued.error().ToString();
  EXPECT_GT(std::filesystem::file_size(backend_.path()), 20000000u);  // checkpointed
  ExpectCleanExit();
}

TEST_F(FilteredSignerTest, AStoreErrorIsARefusalNotACrash) {
  // The schema changes under the signer (it re-reads it) and its insert of
  // the certificate fails: an error reply, and the signer keeps serving.
  RawExec(backend_.path(),
          "CREATE TRIGGER refuse BEFORE INSERT ON certificates "
          "BEGIN SELECT RAISE(ABORT, 'no more certificates'); END");
  auto refused = client_->SignUserCertificate(AliceRequest());
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("no more certificates"), std::string::npos)
      << refused.error().ToString();
  RawExec(backend_.path(), "DROP TRIGGER refuse");
  auto issued = client_->SignUserCertificate(AliceRequest());
  ASSERT_TRUE(issued.has_value()) << issued.error().ToString();
  ExpectCleanExit();
}

}  // namespace
}  // namespace gate::ca

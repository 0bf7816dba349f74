// gate-bench-cast: how many MiB/s of terminal output gate::cast::Writer
// turns into a recording, on one core, per CPU-second.
//
// Usage: gate-bench-cast [--seconds N] [--chunk BYTES] [--flush-mib N]
//
// The input is `ls --color`-like text: SGR sequences around names every few
// bytes, \r\n line ends, some UTF-8, the kind of output that is slowest to
// escape (an ESC every ~10 bytes becomes \u001b). It is fed in --chunk
// pieces (a pty read returns at most 4 KiB), with a Flush (hash, sign,
// write) whenever --flush-mib MiB are buffered, to /dev/null, so the figure
// is the writer's own cost and not the disk's. Rows:
//   colored           the listing, flushed every --flush-mib MiB
//   colored, 64 KiB   the same with a checkpoint every 64 KiB (a slow
//                     session flushing on its 100 ms timer pays this ratio)
//   plain ASCII       log-like text without escapes (the fast path)
// The last line is machine-readable.
#include <fcntl.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gate/asciicast.h"
#include "gate/ed25519.h"

namespace {

using gate::Status;
using gate::cast::Writer;

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "gate-bench-cast: %s\n", what.c_str());
  return 1;
}

// ~1 MiB of colored directory listing.
std::string ColoredListing() {
  const char* const names[] = {"bin",
                               "boot",
                               "dev",
                               "etc",
                               "home",
                               "lib",
                               "usr",
                               "var",
                               "tmp",
                               "opt",
                               "srv",
                               "run",
                               "vmlinuz",
                               "initrd.img",
                               "README.md",
                               "caf\xC3\xA9.txt",
                               "\xE2\x94\x9C\xE2\x94\x80 tree",
                               "notes-2026-11-25.log"};
  const char* const colors[] = {"01;34", "01;32", "01;36", "00", "40;33;01", "01;31"};
  std::string out;
  std::size_t i = 0;
  while (out.size() < (1u << 20)) {
    for (int col = 0; col < 6; ++col, ++i) {
      out += "\x1b[";
      out += colors[i % std::size(colors)];
      out += 'm';
      out += names[(i * 7) % std::size(names)];
      out += "\x1b[0m  ";
    }
    out += "\r\n";
  }
  return out;
}

std::string PlainText() {
  std::string out;
  while (out.size() < (1u << 20)) {
    out += "2026-11-25T16:49:00Z db-1 postgres[4242]: checkpoint complete: wrote 1234 buffers\r\n";
  }
  return out;
}

struct Rate {
  double bytes = 0;
  double cpu = 0;
  double wall = 0;
  double MiBPerCpuSecond() const { return bytes / cpu / (1 << 20); }
  double MiBPerWallSecond() const { return bytes / wall / (1 << 20); }
};

// Feeds text to a writer over /dev/null in chunk-sized Output calls for
// `seconds`; flushes whenever flush_bytes are buffered.
bool Measure(const gate::ssh::Ed25519PrivateKey& key, std::string_view text, std::size_t chunk,
             std::size_t flush_bytes, double seconds, Rate& rate) {
  gate::cast::Header header;
  header.session_id = "00000000-0000-0000-0000-000000000000";
  header.mode = "interactive";
  auto null = gate::Env::Default()->NewWritableFile("/dev/null", gate::WriteMode::kAppendExisting);
  if (!null) {
    std::fprintf(stderr, "gate-bench-cast: %s\n", null.error().ToString().c_str());
    return false;
  }
  auto w = Writer::Create(std::move(*null), header, key);
  if (!w) {
    std::fprintf(stderr, "gate-bench-cast: %s\n", w.error().ToString().c_str());
    return false;
  }
  const double cpu0 = CpuSeconds();
  const double wall0 = WallSeconds();
  double wall = wall0;
  double bytes = 0;
  double t = 0;
  while (wall - wall0 < seconds) {
    for (std::size_t pos = 0; pos < text.size(); pos += chunk) {
      const std::string_view piece = text.substr(pos, chunk);
      w->Output(t += 1e-4, piece);
      bytes += static_cast<double>(piece.size());
      if (w->buffered_bytes() >= flush_bytes && !w->Flush(t).ok()) return false;
    }
    wall = WallSeconds();
  }
  if (Status s = w->Close(t); !s.ok()) {
    std::fprintf(stderr, "gate-bench-cast: %s\n", s.ToString().c_str());
    return false;
  }
  rate.bytes = bytes;
  rate.cpu = CpuSeconds() - cpu0;
  rate.wall = wall - wall0;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  std::size_t chunk = 4096;
  double flush_mib = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::strtod(argv[++i], nullptr);
    } else if (arg == "--chunk" && i + 1 < argc) {
      chunk = std::strtoul(argv[++i], nullptr, 10);
    } else if (arg == "--flush-mib" && i + 1 < argc) {
      flush_mib = std::strtod(argv[++i], nullptr);
    } else {
      std::fprintf(stderr, "usage: %s [--seconds N] [--chunk BYTES] [--flush-mib N]\n", argv[0]);
      return 2;
    }
  }
  if (!(seconds > 0) || chunk == 0 || !(flush_mib > 0)) return Fail("bad arguments");
  const auto flush_bytes = static_cast<std::size_t>(flush_mib * (1 << 20));

  auto key = gate::ssh::Ed25519PrivateKey::Generate();
  if (!key) return Fail("key generation failed");
  const std::string colored = ColoredListing();
  const std::string plain = PlainText();

  Rate colored_rate, small_rate, ascii_rate;
  if (!Measure(*key, colored, chunk, flush_bytes, seconds, colored_rate) ||
      !Measure(*key, colored, chunk, 64 << 10, seconds, small_rate) ||
      !Measure(*key, plain, chunk, flush_bytes, seconds, ascii_rate)) {
    return Fail("writing failed");
  }
  std::printf("%zu-byte Output calls, Flush every %.1f MiB buffered, to /dev/null\n", chunk,
              flush_mib);
  const auto row = [](const char* name, const Rate& r) {
    std::printf("%-24s %7.0f MiB/s per CPU-s  %7.0f MiB/s wall\n", name, r.MiBPerCpuSecond(),
                r.MiBPerWallSecond());
  };
  row("colored listing", colored_rate);
  row("colored, 64 KiB flushes", small_rate);
  row("plain ASCII", ascii_rate);
  std::printf(
      "RESULT colored_mib_per_cpu_sec=%.0f colored_64k_mib_per_cpu_sec=%.0f "
      "ascii_mib_per_cpu_sec=%.0f\n",
      colored_rate.MiBPerCpuSecond(), small_rate.MiBPerCpuSecond(), ascii_rate.MiBPerCpuSecond());
  return 0;
}

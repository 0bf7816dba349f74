#include "gate/asciicast.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "gate/bytes.h"
#include "gate/ed25519.h"
#include "gate/fault_env.h"

namespace gate::cast {
namespace {

using ssh::Ed25519PrivateKey;

Ed25519PrivateKey Key(char fill = 'k') {
  auto key = Ed25519PrivateKey::FromSeed(std::string(32, fill));
  if (!key) std::abort();
  return std::move(*key);
}

Header SampleHeader() {
  Header h;
  h.width = 100;
  h.height = 30;
  h.timestamp = 1764089000;
  h.env = {{"SHELL", "/bin/bash"}, {"TERM", "xterm-256color"}};
  h.title = "alice@db-1";
  h.session_id = "6f1c1f3e-8d2a-4c61-9a57-0b6f3a2f9d10";
  h.user = "alice";
  h.login = "root";
  h.node = "4a6f0c2e-1111-2222-3333-444455556666";
  h.node_name = "db-1";
  h.cluster = "grav-00";
  h.cert_serial = "123";
  h.mode = "interactive";
  h.command = "";
  return h;
}

std::unique_ptr<WritableFile> Open(const std::string& path, WriteMode mode, Env* env = nullptr) {
  auto file = (env != nullptr ? env : Env::Default())->NewWritableFile(path, mode);
  EXPECT_TRUE(file) << file.error().ToString();
  return file ? std::move(*file) : nullptr;
}

class AsciicastTest : public ::testing::Test {
 protected:
  // Runs body on a writer over a fresh file and returns the file's bytes.
  std::string Record(const std::function<void(Writer&)>& body) {
    const std::string path = dir_.File("rec" + std::to_string(++files_) + ".cast");
    auto w = Writer::Create(Open(path, WriteMode::kCreateExclusive), header_, key_);
    EXPECT_TRUE(w) << w.error().ToString();
    if (!w) return "";
    body(*w);
    return testing::ReadFile(path);
  }

  // The bytes Output(bytes) records, decoded again (one Output, then Close).
  std::string OutputRoundTrip(std::string_view bytes) {
    const std::string file = Record([&](Writer& w) {
      w.Output(0.5, bytes);
      ASSERT_TRUE(w.Close(1).ok());
    });
    auto rec = Parse(file);
    EXPECT_TRUE(rec) << rec.error().ToString();
    std::string out;
    if (rec) {
      for (const Event& e : rec->events) {
        if (e.type == kOutput) out += e.data;
      }
    }
    return out;
  }

  // The lines of file (without '\n'); a last unterminated line is kept.
  static std::vector<std::string> Lines(const std::string& file) {
    std::vector<std::string> lines;
    std::size_t pos = 0;
    while (pos < file.size()) {
      std::size_t nl = file.find('\n', pos);
      if (nl == std::string::npos) nl = file.size();
      lines.push_back(file.substr(pos, nl - pos));
      pos = nl + 1;
    }
    return lines;
  }

  static std::string Join(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
  }

  // A session with three flushes, a resize, a join and the end.
  std::string Session() {
    return Record([](Writer& w) {
      w.Output(0.1, "$ ls --color\r\n");
      w.Output(0.2, "\x1b[01;34mdir\x1b[0m  file\r\n");
      ASSERT_TRUE(w.Flush(0.25).ok());
      w.Resize(1.0, 120, 40);
      w.Join(1.5, R"({"event":"join","user":"bob","mode":"observer"})");
      w.Output(2.0, "caf\xC3\xA9 \xE2\x82\xAC\r\n");
      ASSERT_TRUE(w.Flush(2.1).ok());
      w.Output(3.0, "exit\r\n");
      w.Exit(3.5, R"({"exit_status":0})");
      ASSERT_TRUE(w.Close(3.5).ok());
    });
  }

  testing::TempDir dir_;
  int files_ = 0;
  Ed25519PrivateKey key_ = Key();
  Header header_ = SampleHeader();
};

// ---------------------------------------------------------------------------
// Header

TEST_F(AsciicastTest, HeaderLineHasAsciinemasLayoutAndParsesBack) {
  Header h = header_;
  h.key = "SHA256:abc";
  h.command = "echo \"hi\"\n";
  const std::string line = HeaderLine(h);
  EXPECT_EQ(line,
            "{\"version\": 2, \"width\": 100, \"height\": 30, \"timestamp\": 1764089000, "
            "\"env\": {\"SHELL\": \"/bin/bash\", \"TERM\": \"xterm-256color\"}, "
            "\"title\": \"alice@db-1\", \"gate\": {\"session_id\": "
            "\"6f1c1f3e-8d2a-4c61-9a57-0b6f3a2f9d10\", \"user\": \"alice\", \"login\": \"root\", "
            "\"node\": \"4a6f0c2e-1111-2222-3333-444455556666\", \"node_name\": \"db-1\", "
            "\"cluster\": \"grav-00\", \"cert_serial\": \"123\", \"mode\": \"interactive\", "
            "\"command\": \"echo \\\"hi\\\"\\n\", \"key\": \"SHA256:abc\"}}\n");
  auto parsed = ParseHeader(line);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->width, 100);
  EXPECT_EQ(parsed->height, 30);
  EXPECT_EQ(parsed->timestamp, 1764089000);
  EXPECT_EQ(parsed->env, h.env);
  EXPECT_EQ(parsed->title, h.title);
  EXPECT_EQ(parsed->session_id, h.session_id);
  EXPECT_EQ(parsed->user, "alice");
  EXPECT_EQ(parsed->login, "root");
  EXPECT_EQ(parsed->node, h.node);
  EXPECT_EQ(parsed->node_name, "db-1");
  EXPECT_EQ(parsed->cluster, "grav-00");
  EXPECT_EQ(parsed->cert_serial, "123");
  EXPECT_EQ(parsed->mode, "interactive");
  EXPECT_EQ(parsed->command, "echo \"hi\"\n");
  EXPECT_EQ(parsed->key, "SHA256:abc");
}

TEST_F(AsciicastTest, HeaderLineReplacesInvalidUtf8) {
  Header h = header_;
  h.command = "ls \xFF";
  auto parsed = ParseHeader(HeaderLine(h));
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->command, "ls \xEF\xBF\xBD");
}

TEST_F(AsciicastTest, ParseHeaderIsStrict) {
  const std::string gate =
      R"("gate": {"session_id": "s", "user": "u", "login": "l", "node": "n", "node_name": "nn",)"
      R"( "cluster": "c", "cert_serial": "1", "mode": "exec", "command": "", "key": "k"})";
  const std::string good =
      R"({"version": 2, "width": 80, "height": 24, "timestamp": 1, )" + gate + "}";
  ASSERT_TRUE(ParseHeader(good)) << ParseHeader(good).error().ToString();
  ASSERT_TRUE(ParseHeader(good + "\n"));

  struct Case {
    std::string line;
    std::string want;  // part of the message
  };
  std::vector<Case> cases = {
      {"", "malformed"},
      {"[]", "object"},
      {R"({"version": 2, "width": 80, "height": 24, "timestamp": 1})", "'gate'"},
      {R"({"version": 1, "width": 80, "height": 24, "timestamp": 1, )" + gate + "}", "version"},
      {R"({"version": "2", "width": 80, "height": 24, "timestamp": 1, )" + gate + "}", "version"},
      {R"({"width": 80, "height": 24, "timestamp": 1, )" + gate + "}", "version"},
      {R"({"version": 2, "width": 0, "height": 24, "timestamp": 1, )" + gate + "}", "width"},
      {R"({"version": 2, "width": 80, "height": -1, "timestamp": 1, )" + gate + "}", "height"},
      {R"({"version": 2, "width": 80, "height": 70000, "timestamp": 1, )" + gate + "}", "height"},
      {R"({"version": 2, "height": 24, "timestamp": 1, )" + gate + "}", "width"},
      {R"({"version": 2, "width": 80.5, "height": 24, "timestamp": 1, )" + gate + "}", "width"},
      {R"({"version": 2, "width": 80, "height": 24, )" + gate + "}", "timestamp"},
      {R"({"version": 2, "width": 80, "height": 24, "timestamp": 1.5, )" + gate + "}", "timestamp"},
      {R"({"version": 2, "width": 80, "height": 24, "timestamp": 1, "title": 5, )" + gate + "}",
       "title"},
      {R"({"version": 2, "width": 80, "height": 24, "timestamp": 1, "env": [], )" + gate + "}",
       "env"},
      {R"({"version": 2, "width": 80, "height": 24, "timestamp": 1, "env": {"TERM": 1}, )" + gate +
           "}",
       "TERM"},
      {R"({"version": 2, "width": 80, "height": 24, "timestamp": 1, "gate": "x"})", "'gate'"},
      {good + "x", "malformed"},
  };
  const char* const fields[] = {"session_id", "user",        "login", "node",    "node_name",
                                "cluster",    "cert_serial", "mode",  "command", "key"};
  for (const char* field : fields) {
    // Missing, and a number instead of a string.
    const std::string quoted = std::string("\"") + field + "\": ";
    std::string missing = good;
    const std::size_t at = missing.find(quoted);
    ASSERT_NE(at, std::string::npos) << field;
    const std::size_t value_end = missing.find('"', at + quoted.size() + 1) + 1;
    std::string mistyped = missing;
    mistyped.replace(at + quoted.size(), value_end - at - quoted.size(), "7");
    const std::size_t erase_end = missing[value_end] == ',' ? value_end + 2 : value_end;
    std::size_t erase_at = at;
    if (missing[erase_end - 1] == '}' || erase_end == value_end) {
      // The last member: remove the ", " before it instead.
      erase_at = at - 2;
    }
    missing.erase(erase_at, erase_end - erase_at);
    cases.push_back({missing, field});
    cases.push_back({mistyped, field});
  }
  std::string bad_mode = good;
  bad_mode.replace(bad_mode.find("\"exec\""), 6, "\"shell\"");
  cases.push_back({bad_mode, "mode"});

  for (const Case& c : cases) {
    auto r = ParseHeader(c.line);
    ASSERT_FALSE(r) << "accepted: " << c.line;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << c.line;
    EXPECT_NE(r.error().message().find(c.want), std::string::npos)
        << c.line << " -> " << r.error().message();
  }
}

// What `asciinema rec` (2.x) writes: no "gate" object, and null for an unset
// environment variable.
constexpr char kAsciinemaHeader[] =
    R"({"version": 2, "width": 132, "height": 43, "timestamp": 1764089000, "idle_time_limit": )"
    R"(2.5, "env": {"SHELL": null, "TERM": "xterm-256color"}, "title": "demo"})";

TEST_F(AsciicastTest, ParseAnyHeaderTakesPlainAsciicast) {
  auto h = ParseAnyHeader(kAsciinemaHeader);
  ASSERT_TRUE(h) << h.error().ToString();
  EXPECT_FALSE(h->from_gate);
  EXPECT_EQ(h->width, 132);
  EXPECT_EQ(h->height, 43);
  EXPECT_EQ(h->timestamp, 1764089000);
  EXPECT_EQ(h->title, "demo");
  EXPECT_EQ(h->env.count("SHELL"), 0u);
  EXPECT_EQ(h->env.at("TERM"), "xterm-256color");
  EXPECT_TRUE(h->session_id.empty());
  // The minimum the format asks for.
  auto minimal = ParseAnyHeader(R"({"version": 2, "width": 80, "height": 24})");
  ASSERT_TRUE(minimal) << minimal.error().ToString();
  EXPECT_EQ(minimal->timestamp, 0);
  // ParseHeader still wants gate's header.
  auto strict = ParseHeader(kAsciinemaHeader);
  ASSERT_FALSE(strict);
  EXPECT_NE(strict.error().message().find("missing field 'gate'"), std::string::npos);
}

TEST_F(AsciicastTest, ParseAnyHeaderKeepsTheFormatRules) {
  // A gate header round-trips with from_gate set.
  auto gate = ParseAnyHeader(HeaderLine(SampleHeader()));
  ASSERT_TRUE(gate) << gate.error().ToString();
  EXPECT_TRUE(gate->from_gate);
  EXPECT_EQ(gate->session_id, SampleHeader().session_id);
  const char* const bad[] = {
      R"({"version": 1, "width": 80, "height": 24})",
      R"({"version": 3, "term": {"cols": 80, "rows": 24}})",
      R"({"version": 2, "height": 24})",
      R"({"version": 2, "width": 0, "height": 24})",
      R"({"version": 2, "width": 80, "height": 24, "timestamp": "now"})",
      R"({"version": 2, "width": 80, "height": 24, "env": {"TERM": 5}})",
      R"({"version": 2, "width": 80, "height": 24, "title": []})",
      // A "gate" object makes the header gate's, held to all of its rules.
      R"({"version": 2, "width": 80, "height": 24, "timestamp": 1, "gate": {"user": "u"}})",
      R"({"version": 2, "width": 80, "height": 24, "gate": "x"})",
      "[]",
  };
  for (const char* line : bad) {
    auto r = ParseAnyHeader(line);
    ASSERT_FALSE(r) << "accepted: " << line;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << line;
  }
}

TEST_F(AsciicastTest, ReaderTakesPlainAsciicastOnlyWhenAsked) {
  const std::string file =
      std::string(kAsciinemaHeader) + "\n[0.5, \"o\", \"hello\\r\\n\"]\n[0.7, \"m\", \"\"]\n";
  auto gate_only = Reader::Create(file);
  ASSERT_FALSE(gate_only);
  EXPECT_NE(gate_only.error().message().find("line 1: header: missing field 'gate'"),
            std::string::npos);
  auto reader = Reader::Create(file, Reader::Headers::kAnyAsciicast);
  ASSERT_TRUE(reader) << reader.error().ToString();
  EXPECT_FALSE(reader->header().from_gate);
  Event e;
  ASSERT_TRUE(*reader->Next(&e));
  EXPECT_EQ(e.type, kOutput);
  EXPECT_EQ(e.data, "hello\r\n");
  ASSERT_TRUE(*reader->Next(&e));
  EXPECT_EQ(e.type, 'm');
  EXPECT_FALSE(*reader->Next(&e));
}

TEST_F(AsciicastTest, VerifySaysAPlainFileIsNotAGateRecording) {
  const std::string file = std::string(kAsciinemaHeader) + "\n[0.5, \"o\", \"hello\"]\n";
  auto v = Verify(file, key_.public_key());
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code(), Code::kDataLoss);
  EXPECT_EQ(v.error().message(), "line 1: " + std::string(kNotAGateRecording));
}

// ---------------------------------------------------------------------------
// Writer

TEST_F(AsciicastTest, EventsUseAsciinemasLineLayout) {
  const std::string file = Record([](Writer& w) {
    w.Output(0.123456, "text");
    w.Input(1.0000004, "ls\r");
    w.Resize(2, 120, 40);
    w.Join(3, R"({"event":"join"})");
    w.Output(12345.5, "x");
    w.Exit(12346, R"({"exit_status":0})");
    ASSERT_TRUE(w.Close(12346).ok());
  });
  const auto lines = Lines(file);
  ASSERT_EQ(lines.size(), 9u) << file;
  EXPECT_EQ(file.back(), '\n');
  EXPECT_EQ(lines[0] + "\n", [&] {
    Header h = header_;
    h.key = key_.public_key().Fingerprint();
    return HeaderLine(h);
  }());
  EXPECT_EQ(lines[1].rfind("[0.000000, \"c\", \"", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2], R"([0.123456, "o", "text"])");
  EXPECT_EQ(lines[3], R"([1.000000, "i", "ls\r"])");
  EXPECT_EQ(lines[4], R"([2.000000, "r", "120x40"])");
  EXPECT_EQ(lines[5], R"([3.000000, "j", "{\"event\":\"join\"}"])");
  EXPECT_EQ(lines[6], R"([12345.500000, "o", "x"])");
  EXPECT_EQ(lines[7], R"([12346.000000, "x", "{\"exit_status\":0}"])");
  EXPECT_EQ(lines[8].rfind("[12346.000000, \"c\", \"", 0), 0u) << lines[8];
}

TEST_F(AsciicastTest, TimesAreMicrosecondsAndNeverNegative) {
  const std::string file = Record([](Writer& w) {
    w.Output(-1, "a");
    w.Output(0.0000004, "b");
    w.Output(0.0000006, "c");
    w.Output(59.9999996, "d");
    ASSERT_TRUE(w.Close(60).ok());
  });
  const auto lines = Lines(file);
  ASSERT_GE(lines.size(), 6u);
  EXPECT_EQ(lines[2], R"([0.000000, "o", "a"])");
  EXPECT_EQ(lines[3], R"([0.000000, "o", "b"])");
  EXPECT_EQ(lines[4], R"([0.000001, "o", "c"])");
  EXPECT_EQ(lines[5], R"([60.000000, "o", "d"])");
}

TEST_F(AsciicastTest, EscapesEveryControlCharacter) {
  std::string all;
  for (int c = 0; c < 0x20; ++c) all.push_back(static_cast<char>(c));
  all += "\"\\\x7f/";
  const std::string file = Record([&](Writer& w) {
    w.Output(1, all);
    ASSERT_TRUE(w.Close(2).ok());
  });
  const auto lines = Lines(file);
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[2],
            "[1.000000, \"o\", \""
            "\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007"
            "\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
            "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017"
            "\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f"
            "\\\"\\\\\x7f/\"]");
  EXPECT_EQ(OutputRoundTrip(all), all);
}

TEST_F(AsciicastTest, RoundTripKeepsValidUtf8ByteForByte) {
  const std::string text =
      "\x1b[01;34mdir\x1b[0m  caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xE4\xB8\xAD"
      "\x7f\t\"quoted\" back\\slash\r\n";
  std::string big;
  for (int i = 0; i < 5000; ++i) big += text;
  EXPECT_EQ(OutputRoundTrip(text), text);
  EXPECT_EQ(OutputRoundTrip(big), big);

  const std::string file = Session();
  auto rec = Parse(file);
  ASSERT_TRUE(rec) << rec.error().ToString();
  std::vector<std::pair<char, std::string>> got;
  for (const Event& e : rec->events) {
    if (e.type != kCheckpoint) got.emplace_back(e.type, e.data);
  }
  const std::vector<std::pair<char, std::string>> want = {
      {'o', "$ ls --color\r\n"},
      {'o', "\x1b[01;34mdir\x1b[0m  file\r\n"},
      {'r', "120x40"},
      {'j', R"({"event":"join","user":"bob","mode":"observer"})"},
      {'o', "caf\xC3\xA9 \xE2\x82\xAC\r\n"},
      {'o', "exit\r\n"},
      {'x', R"({"exit_status":0})"},
  };
  EXPECT_EQ(got, want);
  EXPECT_EQ(rec->header.user, "alice");
  EXPECT_EQ(rec->header.key, key_.public_key().Fingerprint());
  EXPECT_EQ(rec->events.front().line, 2u);
  EXPECT_EQ(rec->events.front().type, kCheckpoint);
  EXPECT_EQ(rec->events[3].type, kCheckpoint);
  EXPECT_DOUBLE_EQ(rec->events[3].time, 0.25);
  EXPECT_DOUBLE_EQ(rec->events[4].time, 1.0);
}

TEST_F(AsciicastTest, InvalidUtf8BecomesReplacementPerMaximalSubpart) {
  // Expected values from Python: bytes.decode("utf-8", "replace").
  const std::string r = "\xEF\xBF\xBD";
  const std::pair<std::string, std::string> cases[] = {
      {"\x80", r},
      {"a\xFF"
       "b",
       "a" + r + "b"},
      {"\xC0\xAF", r + r},
      {"\xE0\x80\xAF", r + r + r},
      {"\xE2\x82"
       "A",
       r + "A"},
      {"\xF4\x90\x80\x80", r + r + r + r},
      {"\xED\xA0\x80", r + r + r},
      {"a\xF1\x80\x80\xE1\x80\xC2"
       "b",
       "a" + r + r + r + "b"},
      {"\xF0\x9F\x98", r},  // cut at the end, then Close
      {"\xFE\xFF", r + r},
  };
  for (const auto& [in, want] : cases) {
    EXPECT_EQ(OutputRoundTrip(in), want) << HexEncode(in);
  }
}

TEST_F(AsciicastTest, SequenceSplitAcrossCallsIsCarriedNotReplaced) {
  const std::string text =
      "a\xF0\x9F\x98\x80"
      "b\xE2\x82\xAC"
      "c\xC3\xA9";
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    const std::string file = Record([&](Writer& w) {
      w.Output(1, std::string_view(text).substr(0, cut));
      w.Output(2, std::string_view(text).substr(cut));
      ASSERT_TRUE(w.Close(3).ok());
    });
    auto rec = Parse(file);
    ASSERT_TRUE(rec) << rec.error().ToString();
    std::string out;
    for (const Event& e : rec->events) {
      if (e.type == kOutput) {
        EXPECT_FALSE(e.data.empty()) << "cut " << cut;
        out += e.data;
      }
    }
    EXPECT_EQ(out, text) << "cut " << cut;
  }

  // One byte per call: the emoji is a single event at the time it completed.
  const std::string file = Record([](Writer& w) {
    w.Output(1, "\xF0");
    w.Output(2, "\x9F");
    w.Output(3, "\x98");
    w.Output(4, "\x80");
    ASSERT_TRUE(w.Close(5).ok());
  });
  const auto lines = Lines(file);
  ASSERT_EQ(lines.size(), 4u) << file;
  EXPECT_EQ(lines[2], "[4.000000, \"o\", \"\xF0\x9F\x98\x80\"]");
}

TEST_F(AsciicastTest, CarryThatCannotCompleteIsReplaced) {
  // A held lead byte followed by ASCII: one U+FFFD, then the ASCII.
  const std::string file = Record([](Writer& w) {
    w.Output(1, "x\xE2\x82");
    w.Output(2, "yz");
    w.Input(2.5, "\xC3");
    w.Output(3, "\xE2");
    w.Exit(4, R"({"exit_status":1})");
    ASSERT_TRUE(w.Close(4).ok());
  });
  const auto lines = Lines(file);
  ASSERT_EQ(lines.size(), 8u) << file;
  EXPECT_EQ(lines[2], R"([1.000000, "o", "x"])");
  EXPECT_EQ(lines[3], "[2.000000, \"o\", \"\xEF\xBF\xBDyz\"]");
  // Exit replaces what is still held, output and input, before the "x".
  EXPECT_EQ(lines[4], "[4.000000, \"o\", \"\xEF\xBF\xBD\"]");
  EXPECT_EQ(lines[5], "[4.000000, \"i\", \"\xEF\xBF\xBD\"]");
  EXPECT_EQ(lines[6], R"([4.000000, "x", "{\"exit_status\":1}"])");
}

TEST_F(AsciicastTest, RandomBytesSplitAnywhereGiveTheSameTextAsOneCall) {
  std::mt19937 rng(42);
  for (int round = 0; round < 50; ++round) {
    std::string bytes(1 + rng() % 300, '\0');
    for (char& c : bytes) {
      // Mostly high bytes and continuations, so sequences break often.
      const unsigned v = rng() % 4 == 0 ? rng() % 0x80 : 0x80 + rng() % 0x80;
      c = static_cast<char>(v);
    }
    const std::string whole = OutputRoundTrip(bytes);
    const std::string file = Record([&](Writer& w) {
      std::size_t pos = 0;
      double t = 0;
      while (pos < bytes.size()) {
        const std::size_t n = std::min<std::size_t>(1 + rng() % 7, bytes.size() - pos);
        w.Output(t += 0.01, std::string_view(bytes).substr(pos, n));
        pos += n;
      }
      ASSERT_TRUE(w.Close(t).ok());
    });
    auto rec = Parse(file);
    ASSERT_TRUE(rec) << rec.error().ToString();
    std::string split;
    for (const Event& e : rec->events) {
      if (e.type == kOutput) split += e.data;
    }
    EXPECT_EQ(split, whole) << HexEncode(bytes);
  }
}

TEST_F(AsciicastTest, CreateChecksTheHeaderAndKey) {
  const std::string path = dir_.File("x.cast");
  Header h = header_;
  h.width = 0;
  auto w = Writer::Create(Open(path, WriteMode::kCreateOrTruncate), h, key_);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code(), Code::kInvalidArgument);
  EXPECT_NE(w.error().message().find("width"), std::string::npos);

  h = header_;
  h.key = Key('o').public_key().Fingerprint();
  w = Writer::Create(Open(path, WriteMode::kCreateOrTruncate), h, key_);
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message().find("signs with"), std::string::npos);

  h.key = key_.public_key().Fingerprint();
  w = Writer::Create(Open(path, WriteMode::kCreateOrTruncate), h, key_);
  ASSERT_TRUE(w) << w.error().ToString();
  EXPECT_EQ(w->file_bytes(), testing::ReadFile(path).size());
  EXPECT_EQ(Writer::Create(nullptr, header_, key_).error().code(), Code::kInvalidArgument);
}

// Disk faults through the Env (gate/fault_env.h). Whatever fails, the file
// holds whole lines up to a checkpoint (or nothing), verifies up to there,
// and never verifies as complete unless its end is on disk.
TEST_F(AsciicastTest, WriteErrorFailsTheWriterForGood) {
  // Straight onto a full device: the header cannot be written.
  auto w = Writer::Create(Open("/dev/full", WriteMode::kAppendExisting), header_, key_);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code(), Code::kResourceExhausted);
  EXPECT_NE(w.error().message().find("cannot write /dev/full: No space left"), std::string::npos)
      << w.error().message();

  // A good start, then the disk fills up under the writer, part way through
  // a flush.
  const std::string path = dir_.File("full.cast");
  FaultEnv env;
  w = Writer::Create(Open(path, WriteMode::kCreateExclusive, &env), header_, key_);
  ASSERT_TRUE(w) << w.error().ToString();
  const std::uint64_t start = w->file_bytes();
  const std::string before = testing::ReadFile(path);

  EXPECT_TRUE(w->Flush(0.5).ok()) << "nothing buffered, nothing written";
  w->Output(1, "hello");
  env.FailNth(FaultOp::kWrite, 1, ENOSPC, /*partial_bytes=*/7);
  const Status first = w->Flush(1);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.code(), Code::kResourceExhausted);
  EXPECT_NE(first.message().find("cannot write " + path + ": No space left"), std::string::npos)
      << first.message();
  EXPECT_EQ(w->status(), first);
  EXPECT_EQ(testing::ReadFile(path), before) << "the 7 bytes that landed were taken back";

  const std::size_t buffered = w->buffered_bytes();
  w->Output(2, "more");
  w->Exit(3, "{}");
  EXPECT_EQ(w->buffered_bytes(), buffered) << "a failed writer buffers nothing more";
  EXPECT_EQ(w->Flush(2), first);
  EXPECT_EQ(w->Close(3), first);
  EXPECT_EQ(w->Flush(4), first);
  EXPECT_EQ(w->file_bytes(), start);
  EXPECT_EQ(testing::ReadFile(path), before);
}

TEST_F(AsciicastTest, HeaderThatCannotBeWrittenLeavesAnEmptyFile) {
  const std::string path = dir_.File("h.cast");
  FaultEnv env;
  env.FailNth(FaultOp::kWrite, 1, EIO, /*partial_bytes=*/10);
  auto w = Writer::Create(Open(path, WriteMode::kCreateExclusive, &env), header_, key_);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code(), Code::kUnavailable);
  EXPECT_NE(w.error().message().find("cannot write " + path + ": Input/output error"),
            std::string::npos)
      << w.error().message();
  EXPECT_EQ(testing::ReadFile(path), "");  // nothing the uploader could take for a header
}

TEST_F(AsciicastTest, FullDiskMidRecordingLeavesAFileThatVerifiesCutShort) {
  const std::string path = dir_.File("cut.cast");
  FaultEnv env;
  auto w = Writer::Create(Open(path, WriteMode::kCreateExclusive, &env), header_, key_);
  ASSERT_TRUE(w);
  w->Output(1, "kept\r\n");
  ASSERT_TRUE(w->Flush(1.5).ok());
  w->Output(2, std::string(5000, 'z'));
  env.FailAll(FaultOp::kWrite, ENOSPC);
  EXPECT_EQ(w->Flush(2.5).code(), Code::kResourceExhausted);
  w->Exit(3, R"({"exit_status":0})");
  EXPECT_FALSE(w->Close(3).ok());

  const std::string file = testing::ReadFile(path);
  ASSERT_FALSE(file.empty());
  EXPECT_EQ(file.back(), '\n');
  auto v = Verify(file, key_.public_key());
  ASSERT_TRUE(v) << v.error().ToString();
  EXPECT_EQ(v->state, Verification::State::kCutShort);
  EXPECT_EQ(v->verified_bytes, file.size()) << "every byte left is covered by a checkpoint";
  EXPECT_DOUBLE_EQ(v->verified_until, 1.5);
  EXPECT_EQ(file.find("zzz"), std::string::npos);
}

TEST_F(AsciicastTest, FailedFsyncAtCloseNeverLeavesARecordingThatClaimsToBeComplete) {
  const std::string path = dir_.File("sync.cast");
  FaultEnv env;
  auto w = Writer::Create(Open(path, WriteMode::kCreateExclusive, &env), header_, key_);
  ASSERT_TRUE(w);
  w->Output(1, "before\r\n");
  ASSERT_TRUE(w->Flush(1.5).ok());
  const std::string flushed = testing::ReadFile(path);
  w->Output(2, "last words\r\n");
  w->Exit(3, R"({"exit_status":0})");
  env.FailNth(FaultOp::kSync, 1, EIO);
  const Status closed = w->Close(3);
  EXPECT_EQ(closed.code(), Code::kUnavailable);
  EXPECT_NE(closed.message().find("cannot fsync " + path + ": Input/output error"),
            std::string::npos)
      << closed.message();

  // The flush that carried the "x" event is gone again: the file is what
  // was there before it, and says "cut short", never "complete".
  const std::string file = testing::ReadFile(path);
  EXPECT_EQ(file, flushed);
  auto v = Verify(file, key_.public_key());
  ASSERT_TRUE(v) << v.error().ToString();
  EXPECT_EQ(v->state, Verification::State::kCutShort);
  EXPECT_EQ(v->verified_bytes, file.size());

  // Without the fault the same steps end complete.
  const std::string good = Record([](Writer& writer) {
    writer.Output(1, "before\r\n");
    ASSERT_TRUE(writer.Flush(1.5).ok());
    writer.Exit(3, R"({"exit_status":0})");
    ASSERT_TRUE(writer.Close(3).ok());
  });
  EXPECT_EQ(Verify(good, key_.public_key())->state, Verification::State::kComplete);
}

TEST_F(AsciicastTest, CloseTwiceAndFlushAfterCloseAreRefused) {
  Record([](Writer& w) {
    w.Output(1, "a");
    ASSERT_TRUE(w.Close(2).ok());
    EXPECT_EQ(w.Close(3).code(), Code::kFailedPrecondition);
    EXPECT_EQ(w.Flush(3).code(), Code::kFailedPrecondition);
    w.Output(4, "ignored");
    EXPECT_EQ(w.buffered_bytes(), 0u);
  });
}

TEST_F(AsciicastTest, FlushWritesACheckpointOnlyWhenThereWereEvents) {
  const std::string file = Record([](Writer& w) {
    const std::uint64_t start = w.file_bytes();
    ASSERT_TRUE(w.Flush(1).ok());
    EXPECT_EQ(w.file_bytes(), start);
    w.Output(2, "x");
    EXPECT_GT(w.buffered_bytes(), 0u);
    ASSERT_TRUE(w.Flush(2).ok());
    EXPECT_EQ(w.buffered_bytes(), 0u);
    EXPECT_GT(w.file_bytes(), start);
    ASSERT_TRUE(w.Flush(3).ok());
    ASSERT_TRUE(w.Close(4).ok());
  });
  const auto lines = Lines(file);
  ASSERT_EQ(lines.size(), 4u) << file;  // header, c, o, c
  EXPECT_EQ(lines[3].rfind("[2.000000, \"c\", \"", 0), 0u) << lines[3];
}

// ---------------------------------------------------------------------------
// Parse

TEST_F(AsciicastTest, ParseIgnoresAnUnterminatedLastLine) {
  const std::string file = Session();
  auto whole = Parse(file);
  ASSERT_TRUE(whole) << whole.error().ToString();
  auto cut = Parse(file.substr(0, file.size() - 5));
  ASSERT_TRUE(cut) << cut.error().ToString();
  EXPECT_EQ(cut->events.size(), whole->events.size() - 1);
}

TEST_F(AsciicastTest, ParseNamesTheBadLine) {
  std::string file = Session();
  auto lines = Lines(file);
  const std::string header = lines[0] + "\n";
  const char* const bad[] = {
      "",
      "{}",
      "[1, \"o\"]",
      "[1, \"o\", \"x\", 4]",
      "[1, \"oo\", \"x\"]",
      "[1, \"\", \"x\"]",
      "[1, 2, \"x\"]",
      "[1, \"o\", 3]",
      "[-1, \"o\", \"x\"]",
      "[01, \"o\", \"x\"]",
      "[.5, \"o\", \"x\"]",
      "[1., \"o\", \"x\"]",
      "[\"1\", \"o\", \"x\"]",
      "[1e400, \"o\", \"x\"]",
      "[NaN, \"o\", \"x\"]",
      "[1, \"o\", \"x\"] junk",
      "[1, \"o\", \"x\"]\r",
      "[1, \"o\", \"a\x01\"]",
      "[1, \"o\", \"\xFF\"]",
      "[1, \"o\", \"\xED\xA0\x80\"]",
      "[1, \"o\", \"\\ud800\"]",
      "[1, \"o\", \"\\udc00\"]",
      "[1, \"o\", \"\\ud800\\u0041\"]",
      "[1, \"o\", \"\\u12\"]",
      "[1, \"o\", \"\\q\"]",
      "[1, \"o\", \"x]",
      "[1, \"o\", \"x\\\"]",
  };
  for (const char* line : bad) {
    const std::string text = header + lines[1] + "\n" + line + "\n" + lines[2] + "\n";
    auto r = Parse(text);
    ASSERT_FALSE(r) << "accepted: " << line;
    EXPECT_EQ(r.error().code(), Code::kDataLoss);
    EXPECT_EQ(r.error().message().rfind("line 3: ", 0), 0u)
        << line << " -> " << r.error().message();
  }
  auto r = Parse("not json\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message().rfind("line 1: ", 0), 0u) << r.error().message();
  EXPECT_FALSE(Parse(""));
  EXPECT_FALSE(Parse(header.substr(0, header.size() - 1))) << "header without its newline";
}

TEST_F(AsciicastTest, ParseAcceptsOtherValidJson) {
  std::string file = Session();
  const std::string header = file.substr(0, file.find('\n') + 1);
  const std::string text =
      header + "[0,\"o\",\"a\"]\n" + "[\t1.5e1 ,\t\"o\" , \"\\u00e9\\/\\ud83d\\ude00\" ]\n";
  auto r = Parse(text);
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->events.size(), 2u);
  EXPECT_EQ(r->events[0].data, "a");
  EXPECT_DOUBLE_EQ(r->events[1].time, 15);
  EXPECT_EQ(r->events[1].data, "\xC3\xA9/\xF0\x9F\x98\x80");
  EXPECT_EQ(r->events[1].line, 3u);
}

TEST_F(AsciicastTest, ReaderStreamsTheSameEventsAsParse) {
  const std::string file = Session();
  auto rec = Parse(file);
  ASSERT_TRUE(rec);
  auto reader = Reader::Create(file);
  ASSERT_TRUE(reader) << reader.error().ToString();
  EXPECT_EQ(reader->header().session_id, header_.session_id);
  Event e;
  std::size_t i = 0;
  for (;;) {
    auto more = reader->Next(&e);
    ASSERT_TRUE(more);
    if (!*more) break;
    ASSERT_LT(i, rec->events.size());
    EXPECT_EQ(e.data, rec->events[i].data);
    EXPECT_EQ(e.line, rec->events[i].line);
    ++i;
  }
  EXPECT_EQ(i, rec->events.size());
  EXPECT_EQ(reader->trailing_bytes(), 0u);

  auto cut = Reader::Create(std::string_view(file).substr(0, file.size() - 3));
  ASSERT_TRUE(cut);
  while (*cut->Next(&e)) {
  }
  EXPECT_GT(cut->trailing_bytes(), 0u);
}

// ---------------------------------------------------------------------------
// Verify

TEST_F(AsciicastTest, VerifiesACompleteRecording) {
  const std::string file = Session();
  auto v = Verify(file, key_.public_key());
  ASSERT_TRUE(v) << v.error().ToString();
  EXPECT_EQ(v->state, Verification::State::kComplete);
  EXPECT_EQ(v->verified_bytes, file.size());
  EXPECT_DOUBLE_EQ(v->verified_until, 3.5);
}

TEST_F(AsciicastTest, ChainIsWhatTheSpecSays) {
  // Recomputed here from docs/recording.md with nothing but SHA-256, so the
  // format cannot drift from the document unnoticed.
  const std::string file = Session();
  const std::size_t header_end = file.find('\n') + 1;
  std::string h = Sha256("gate-cast-v1\n" + file.substr(0, header_end));
  std::size_t chunk = header_end;
  std::size_t pos = header_end;
  int checkpoints = 0;
  while (pos < file.size()) {
    const std::size_t nl = file.find('\n', pos);
    const std::string line = file.substr(pos, nl - pos);
    const std::size_t c = line.find(", \"c\", \"");
    if (c != std::string::npos) {
      const std::size_t data = c + 8;
      h = Sha256(h + file.substr(chunk, pos + data - chunk));
      const std::string hex = line.substr(data, 64);
      EXPECT_EQ(hex, HexEncode(h));
      auto sig = Base64Decode(line.substr(data + 65, line.size() - data - 65 - 2));
      ASSERT_TRUE(sig);
      EXPECT_TRUE(key_.public_key().Verify(h, *sig));
      EXPECT_EQ(line.substr(line.size() - 2), "\"]");
      chunk = nl + 1;
      ++checkpoints;
    }
    pos = nl + 1;
  }
  EXPECT_EQ(checkpoints, 4);  // Create, two flushes, Close
}

TEST_F(AsciicastTest, CutShortAtEveryLength) {
  const std::string file = Session();
  // Where each checkpoint line ends.
  std::vector<std::size_t> ends;
  for (std::size_t pos = file.find('\n') + 1; pos < file.size();) {
    const std::size_t nl = file.find('\n', pos);
    if (file.substr(pos, nl - pos).find(", \"c\", \"") != std::string::npos) {
      ends.push_back(nl + 1);
    }
    pos = nl + 1;
  }
  ASSERT_EQ(ends.size(), 4u);
  for (std::size_t len = 0; len < file.size(); ++len) {
    auto v = Verify(std::string_view(file).substr(0, len), key_.public_key());
    std::size_t covered = 0;
    for (std::size_t e : ends) {
      if (e <= len) covered = e;
    }
    if (covered == 0) {
      ASSERT_FALSE(v) << "length " << len;
      EXPECT_EQ(v.error().code(), Code::kDataLoss);
      continue;
    }
    ASSERT_TRUE(v) << "length " << len << ": " << v.error().ToString();
    EXPECT_EQ(v->state, Verification::State::kCutShort) << "length " << len;
    EXPECT_EQ(v->verified_bytes, covered) << "length " << len;
  }
}

TEST_F(AsciicastTest, EveryFlippedByteIsDetected) {
  const std::string file = Session();
  const std::size_t last_checkpoint = file.rfind('\n', file.size() - 2) + 1;
  for (int flip : {0x01, 0x20, 0x80}) {
    for (std::size_t i = 0; i < file.size(); ++i) {
      std::string bad = file;
      bad[i] = static_cast<char>(bad[i] ^ flip);
      auto v = Verify(bad, key_.public_key());
      if (i < last_checkpoint) {
        // Before the last checkpoint line: always a mismatch, named.
        ASSERT_FALSE(v) << "byte " << i << " ^ " << flip;
      }
      if (!v) {
        EXPECT_EQ(v.error().code(), Code::kDataLoss);
        EXPECT_EQ(v.error().message().rfind("line ", 0), 0u) << v.error().message();
      } else {
        // In the last line some flips (its type letter, its newline) make
        // it look unwritten: the tail is then reported as not covered.
        EXPECT_EQ(v->state, Verification::State::kCutShort) << "byte " << i;
        EXPECT_LT(v->verified_bytes, bad.size());
      }
    }
  }
}

TEST_F(AsciicastTest, FlippedOutputByteNamesItsCheckpoint) {
  const std::string file = Session();
  std::string bad = file;
  const std::size_t at = bad.find("caf");
  bad[at] = 'C';
  auto v = Verify(bad, key_.public_key());
  ASSERT_FALSE(v);
  // Lines: 1 header, 2 c, 3 o, 4 o, 5 c, 6 r, 7 j, 8 o(caf), 9 c.
  EXPECT_EQ(v.error().message().rfind("line 9: checkpoint does not match lines 6-9", 0), 0u)
      << v.error().message();

  bad = file;
  bad[bad.find("alice")] = 'A';
  v = Verify(bad, key_.public_key());
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().message().rfind("line 2: checkpoint does not match lines 1-2", 0), 0u)
      << v.error().message();
}

TEST_F(AsciicastTest, WrongKeyIsRefused) {
  const std::string file = Session();
  auto v = Verify(file, Key('w').public_key());
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code(), Code::kDataLoss);
  EXPECT_EQ(v.error().message().rfind("line 1: ", 0), 0u) << v.error().message();
  EXPECT_NE(v.error().message().find(key_.public_key().Fingerprint()), std::string::npos);
}

TEST_F(AsciicastTest, SignatureByAnotherKeyIsRefused) {
  // A forger who knows the format but not the key: the header names the
  // real key, the chain is right, the signature is made with another key.
  const auto forger = Key('f');
  Header h = header_;
  h.key = key_.public_key().Fingerprint();
  const std::string header = HeaderLine(h);
  const std::string prefix = "[0.000000, \"c\", \"";
  const std::string h1 = Sha256(Sha256("gate-cast-v1\n" + header) + prefix);
  auto sig = forger.Sign(h1);
  ASSERT_TRUE(sig);
  const std::string file = header + prefix + HexEncode(h1) + " " + Base64Encode(*sig) + "\"]\n";
  auto v = Verify(file, key_.public_key());
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().message().rfind("line 2: checkpoint signature does not verify", 0), 0u)
      << v.error().message();
  // The same file is fine when signed with the real key.
  auto good_sig = key_.Sign(h1);
  ASSERT_TRUE(good_sig);
  const std::string good =
      header + prefix + HexEncode(h1) + " " + Base64Encode(*good_sig) + "\"]\n";
  EXPECT_TRUE(Verify(good, key_.public_key()));
}

TEST_F(AsciicastTest, RemovedCheckpoints) {
  const std::string file = Session();
  auto lines = Lines(file);
  // Line 5 (index 4) is the checkpoint after the first flush.
  ASSERT_NE(lines[4].find(", \"c\", "), std::string::npos);
  auto middle = lines;
  middle.erase(middle.begin() + 4);
  auto v = Verify(Join(middle), key_.public_key());
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().message().rfind("line 8: checkpoint does not match lines 3-8", 0), 0u)
      << v.error().message();

  // The last one gone: only the tail is uncovered (as after a crash).
  auto last = lines;
  last.pop_back();
  v = Verify(Join(last), key_.public_key());
  ASSERT_TRUE(v) << v.error().ToString();
  EXPECT_EQ(v->state, Verification::State::kCutShort);
  EXPECT_DOUBLE_EQ(v->verified_until, 2.1);

  // Every checkpoint gone.
  std::vector<std::string> none;
  for (const auto& l : lines) {
    if (l.find(", \"c\", ") == std::string::npos) none.push_back(l);
  }
  v = Verify(Join(none), key_.public_key());
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().message().rfind("no checkpoint", 0), 0u) << v.error().message();
}

TEST_F(AsciicastTest, ReorderedEventsAreRefused) {
  auto lines = Lines(Session());
  std::swap(lines[2], lines[3]);
  auto v = Verify(Join(lines), key_.public_key());
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().message().rfind("line 5: checkpoint does not match lines 3-5", 0), 0u)
      << v.error().message();
}

TEST_F(AsciicastTest, AppendedEventsAreNotCovered) {
  const std::string file = Session();
  const std::string extra = "[4.000000, \"o\", \"rm -rf /\"]\n";
  auto v = Verify(file + extra, key_.public_key());
  ASSERT_TRUE(v) << v.error().ToString();
  EXPECT_EQ(v->state, Verification::State::kCutShort);
  EXPECT_EQ(v->verified_bytes, file.size());
}

TEST_F(AsciicastTest, ClosedWithoutExitIsNotComplete) {
  const std::string file = Record([](Writer& w) {
    w.Output(1, "a");
    ASSERT_TRUE(w.Close(2).ok());
  });
  auto v = Verify(file, key_.public_key());
  ASSERT_TRUE(v) << v.error().ToString();
  EXPECT_EQ(v->state, Verification::State::kCutShort);
  EXPECT_EQ(v->verified_bytes, file.size());
}

TEST_F(AsciicastTest, CheckpointLineMustEndRightAfterItsData) {
  auto lines = Lines(Session());
  lines[1].insert(lines[1].size() - 1, " ");  // `" ]` is valid JSON but not ours
  auto v = Verify(Join(lines), key_.public_key());
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().message().rfind("line 2: a checkpoint must end", 0), 0u)
      << v.error().message();
}

}  // namespace
}  // namespace gate::cast

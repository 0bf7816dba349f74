#include "ca-server/sessions/recording_summary.h"

#include <cstdio>

#include "gate/asciicast.h"
#include "gate/ed25519.h"
#include "gate/json.h"
#include "gate/names.h"

namespace gate::ca {
namespace {

std::string Seconds(double t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", t);
  return buf;
}

void Verify(std::string_view file, std::string_view recorder_key, RecordingSummary* out) {
  if (recorder_key.empty()) {
    out->verify_detail = "not verified: the node has no recorder key registered";
    return;
  }
  auto key = ssh::Ed25519PublicKey::FromAuthorizedKey(recorder_key);
  if (!key) {
    out->verify_detail = "not verified: the node's registered recorder key is invalid";
    return;
  }
  auto verification = cast::Verify(file, *key);
  if (!verification) {
    out->verify_detail = "not verified: " + verification.error().message();
    return;
  }
  const std::size_t uncovered = file.size() - verification->verified_bytes;
  out->verified = uncovered == 0;
  if (verification->state == cast::Verification::State::kComplete) {
    out->verify_detail = "complete";
  } else if (uncovered == 0) {
    out->verify_detail = "cut short at " + Seconds(verification->verified_until);
  } else {
    out->verify_detail = "not verified: verified up to " + Seconds(verification->verified_until) +
                         ", then " + std::to_string(uncovered) +
                         " bytes not covered by a checkpoint";
  }
}

void NoteJoin(const cast::Event& event, RecordingSummary* out) {
  auto data = json::Parse(event.data);
  if (!data) {
    ++out->malformed_joins;
    return;
  }
  auto kind = json::GetString(*data, "event");
  auto user = json::GetString(*data, "user");
  auto mode = json::OptionalString(*data, "mode");
  if (!kind || !user || !mode || (*kind != "join" && *kind != "leave") ||
      !ValidateUserName(*user).ok() || (!mode->empty() && *mode != "observer" && *mode != "peer")) {
    ++out->malformed_joins;
    return;
  }
  if (out->joins.size() >= kMaxJoinEvents) {
    ++out->dropped_joins;
    return;
  }
  out->joins.push_back({event.time, *kind == "join", *user, *mode});
}

}  // namespace

RecordingSummary SummarizeRecording(std::string_view file, std::string_view recorder_key) {
  RecordingSummary out;
  Verify(file, recorder_key, &out);
  auto reader = cast::Reader::Create(file);
  if (!reader) {
    out.parse_error = reader.error().message();
    return out;
  }
  cast::Event event;
  for (;;) {
    auto more = reader->Next(&event);
    if (!more) {
      out.parse_error = more.error().message();
      break;
    }
    if (!*more) break;
    if (event.time > out.duration) out.duration = event.time;
    if (event.type == cast::kExit) out.exit = event.data;
    if (event.type == cast::kJoin) NoteJoin(event, &out);
  }
  return out;
}

}  // namespace gate::ca

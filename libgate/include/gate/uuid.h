// Identities that travel as RFC 4122 UUIDs (session ids, host UUIDs) and end
// up in file names, URLs and SQL: only the canonical lower-case form is
// accepted, so one identity has exactly one spelling.
#ifndef GATE_UUID_H_
#define GATE_UUID_H_

#include <string_view>

namespace gate {

// True iff s is 36 characters: 8-4-4-4-12 lower-case hex digits separated by
// '-'. Any version and variant; nothing else (no braces, no upper case).
bool IsCanonicalUuid(std::string_view s);

}  // namespace gate

#endif  // GATE_UUID_H_

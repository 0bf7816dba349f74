// The checkpoint chain (docs/recording.md, "Checkpoints"): the hashes the
// writer signs and Verify recomputes, and the text of a checkpoint's data.
#ifndef GATE_LIBGATE_SRC_CAST_CHAIN_H_
#define GATE_LIBGATE_SRC_CAST_CHAIN_H_

#include <string>
#include <string_view>

#include "gate/status.h"

namespace gate::cast::internal {

inline constexpr std::size_t kHashSize = 32;
inline constexpr std::size_t kSignatureSize = 64;

// h0 = SHA-256("gate-cast-v1\n" || header line including its '\n').
std::string InitialHash(std::string_view header_line);

// hk = SHA-256(h(k-1) || covered), where covered is every byte after the
// previous checkpoint line (or the header) up to and including the opening
// quote of this checkpoint's data. 32 raw bytes.
std::string NextHash(std::string_view previous, std::string_view covered);

// hex(hk) + " " + base64(signature).
std::string CheckpointData(std::string_view hash, std::string_view signature);

// Splits checkpoint data into the raw hash and signature. InvalidArgument
// unless it is exactly 64 lower-case hex digits, one space and the padded
// base64 of 64 bytes.
Status SplitCheckpointData(std::string_view data, std::string* hash, std::string* signature);

}  // namespace gate::cast::internal

#endif  // GATE_LIBGATE_SRC_CAST_CHAIN_H_

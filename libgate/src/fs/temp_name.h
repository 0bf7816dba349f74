// Unguessable names for temporary files, shared by WriteFileAtomic
// (gate/secure_file.h) and WriteFileAtomicIn (gate/env.h).
#ifndef GATE_SRC_FS_TEMP_NAME_H_
#define GATE_SRC_FS_TEMP_NAME_H_

#include <string>

#include "gate/status.h"

namespace gate {

// 12 hex digits from getrandom(): another user who can write the directory
// cannot predict, and so cannot pre-create, our temp file. Internal if
// getrandom fails.
Result<std::string> RandomSuffix();

}  // namespace gate

#endif  // GATE_SRC_FS_TEMP_NAME_H_

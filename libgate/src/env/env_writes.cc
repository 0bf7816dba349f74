// Durable-write recipes built on Env, so every caller gets the same order of
// write, fsync, rename and directory fsync.
#include "fs/temp_name.h"
#include "gate/env.h"
#include "gate/log.h"

namespace gate {

Status WriteFileAtomicIn(Directory& dir, const std::string& name, std::string_view data,
                         mode_t perms, const std::optional<FileOwner>& owner) {
  auto suffix = RandomSuffix();
  if (!suffix) return suffix.error();
  const std::string tmp = "." + name + ".tmp-" + *suffix;
  auto file = dir.NewWritableFile(tmp, WriteMode::kCreateExclusive, owner ? 0600 : perms);
  if (!file) return file.error();
  Status s = owner ? (*file)->SetOwnerAndMode(owner->uid, owner->gid, perms) : Status::Ok();
  if (s.ok()) s = (*file)->Append(data);
  if (s.ok()) s = (*file)->Sync();
  // close() can report a deferred write error (NFS); check it before rename.
  const Status closed = (*file)->Close();
  if (s.ok()) s = closed;
  if (s.ok()) s = dir.Rename(tmp, name);
  if (!s.ok()) {
    const Status removed = dir.Remove(tmp);
    if (!removed.ok() && removed.code() != Code::kNotFound) {
      log::Warning("cannot remove the temporary file: " + removed.message());
    }
    return s;
  }
  // The rename is durable only once the directory entry is on disk.
  return dir.Sync();
}

Status AppendAllOrNothing(WritableFile& file, std::string_view data) {
  auto before = file.Stat();
  if (!before) return before.error();
  const Status s = file.Append(data);
  if (s.ok()) return s;
  const Status undone = file.Truncate(before->size);
  if (!undone.ok()) {
    log::Error(file.path() + ": cannot undo a partial write: " + undone.message());
  }
  return s;
}

}  // namespace gate

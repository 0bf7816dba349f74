// File transfers among the sessions without a terminal: the server side of
// scp (both protocols), sftp and rsync. The recorder audits them as
// metadata (the command, what they are, the bytes each way) instead of
// recording their bytes (docs/recording.md, "Sessions without a terminal").
#ifndef GATE_RECORDER_SESSION_TRANSFER_H_
#define GATE_RECORDER_SESSION_TRANSFER_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gate::recorder {

struct Transfer {
  std::string kind;               // "scp", "sftp" or "rsync"
  std::string program;            // absolute path of the system's program
  std::vector<std::string> argv;  // argv[0] is the program's base name
};

// Finds the system's copy of a transfer program ("scp", "rsync",
// "sftp-server"): an absolute path, or nullopt if the node has none.
using ProgramFinder = std::function<std::optional<std::string>(std::string_view name)>;

// The finder the recorder uses: the standard locations of each program
// (/usr/bin, /bin; sftp-server where OpenSSH's packages put it), a regular
// file owned by root that group and others cannot write. The user's PATH is
// never consulted: a transfer runs the system's program, not one the user
// could name.
std::optional<std::string> FindSystemProgram(std::string_view name);

// Whether command (SSH_ORIGINAL_COMMAND) is a file transfer, and how to run
// it without a shell. Recognised, and nothing else:
//   scp [-vrpd] -t|-f ...      the server side of scp -O, with only the
//                              flags scp's client sends (scp may be named
//                              by its absolute system path)
//   sftp-server [args]         the sftp subsystem (sftp, and scp's default
//                              protocol), by the path sshd_config names
//   internal-sftp [args]       sshd's built-in sftp, which a ForceCommand
//                              hands over as this word: run the system's
//                              sftp-server with the same arguments instead
//   rsync --server ...         the server side of rsync over ssh, without
//                              --daemon, --config, --dparam or -M (a
//                              daemon's configuration can run programs)
// The command must be plain words separated by spaces, each made only of
// letters, digits and _ - . / : @ % + = , (no quotes, no expansions, no
// shell operators): anything else could make a shell do more than the
// program, so it is not a transfer (and is then recorded in full).
// A program given by absolute path must be the one finder returns.
std::optional<Transfer> ClassifyTransfer(std::string_view command, const ProgramFinder& finder);

}  // namespace gate::recorder

#endif  // GATE_RECORDER_SESSION_TRANSFER_H_

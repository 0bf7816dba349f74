/* The boundary between pam_gate.so and a plugin it loads (plugin.h), in C.
 *
 * Each side carries its own private copy of libgate and of the C++ runtime,
 * so nothing C++ may cross: no objects, no exceptions, no std::string, no
 * memory one side allocates and the other frees. The plugin exports one
 * function, GATE_PAM_PLUGIN_SYMBOL, returning a static description of
 * itself; pam_gate.so checks its abi_version and struct_size before calling
 * anything in it, and the plugin checks the call's the same way, so a
 * module and a plugin from different builds refuse each other (with a log
 * line) instead of misreading each other's structures.
 *
 * A new field at the end of a struct may keep the version (struct_size says
 * whether it is there); any other change takes a new GATE_PAM_PLUGIN_ABI_VERSION.
 */
#ifndef GATE_PAM_PLUGIN_ABI_H_
#define GATE_PAM_PLUGIN_ABI_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version 1 handed over a C++ object (gate_pam_make_factor_v1). */
#define GATE_PAM_PLUGIN_ABI_VERSION 2u
#define GATE_PAM_PLUGIN_SYMBOL "gate_pam_plugin_entry"

/* What a plugin's factor concluded; pam_gate.so maps it to a PAM code. Any
 * other value is taken as GATE_PAM_OUTCOME_ERROR. */
enum gate_pam_outcome {
  GATE_PAM_OUTCOME_SUCCESS = 0,
  GATE_PAM_OUTCOME_FAILURE = 1,
  GATE_PAM_OUTCOME_LOCKED_OUT = 2,
  GATE_PAM_OUTCOME_NOT_ENROLLED = 3,
  GATE_PAM_OUTCOME_UNAVAILABLE = 4,
  GATE_PAM_OUTCOME_ERROR = 5,
};

/* Log levels, as gate::log::Level numbers them. */
enum gate_pam_log_level {
  GATE_PAM_LOG_DEBUG = 0,
  GATE_PAM_LOG_INFO = 1,
  GATE_PAM_LOG_WARNING = 2,
  GATE_PAM_LOG_ERROR = 3,
};

/* One authentication, lent by pam_gate.so for the duration of the
 * authenticate call: every pointer is borrowed and invalid after it
 * returns. The functions are called on the calling thread only. */
struct gate_pam_call {
  uint32_t abi_version; /* GATE_PAM_PLUGIN_ABI_VERSION */
  uint32_t struct_size; /* sizeof(struct gate_pam_call) */

  /* The module's arguments, as on the /etc/pam.d line. */
  int argc;
  const char* const* argv;
  const char* pam_user;  /* the account being logged into */
  const char* gate_user; /* the Gate user to check */
  int min_log_level;     /* a gate_pam_log_level: lines below it are dropped */

  /* Passed back as the first argument of every function below. */
  void* host;
  /* One log line (no newline; already escaped). */
  void (*log)(void* host, int level, const char* line);
  /* An echo-off prompt. On an answer that fits, writes it NUL-terminated to
   * buf (size bytes) and returns 1; otherwise returns 0 with buf zeroed. The
   * caller wipes buf when done. */
  int (*prompt_secret)(void* host, const char* prompt, char* buf, size_t size);
  /* Messages for the user (dropped under PAM_SILENT by pam_gate.so). */
  void (*info)(void* host, const char* text);
  void (*error)(void* host, const char* text);
};

/* What GATE_PAM_PLUGIN_SYMBOL returns: static, never freed. */
struct gate_pam_plugin {
  uint32_t abi_version; /* GATE_PAM_PLUGIN_ABI_VERSION */
  uint32_t struct_size; /* sizeof(struct gate_pam_plugin) */
  const char* name;     /* "fido" */
  /* A gate_pam_outcome; never throws, never keeps a pointer from call. */
  int (*authenticate)(const struct gate_pam_call* call);
};

typedef const struct gate_pam_plugin* (*gate_pam_plugin_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* GATE_PAM_PLUGIN_ABI_H_ */

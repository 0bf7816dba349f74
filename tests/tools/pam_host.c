/* gate-test-pam-host: an application of pam_gate.so, for test_pam_host.py.
 *
 *   gate-test-pam-host CONFDIR SERVICE USER [--silent]
 *
 * Opens syslog under its own ident ("gate-test-host", LOG_PID, LOG_AUTH) and
 * logs "before pam_authenticate", runs pam_authenticate (with PAM_SILENT when
 * asked) for USER through the service file CONFDIR/SERVICE
 * (pam_start_confdir: nothing on the host is read), then logs "after
 * pam_authenticate" and "after pam_end" as sshd or sudo would go on logging.
 * Each answer to a prompt is one line of standard input. Standard output
 * gets one line per conversation message ("PROMPT: ...", "INFO: ...",
 * "ERROR: ...") and finally "RESULT: N TEXT" (pam_authenticate's code).
 * Exits 0 when it could run the test, whatever PAM decided.
 */
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

static int Converse(int n, const struct pam_message** msgs, struct pam_response** resp,
                    void* data) {
  (void)data;
  struct pam_response* out = calloc((size_t)n, sizeof(*out));
  if (out == NULL) return PAM_BUF_ERR;
  for (int i = 0; i < n; ++i) {
    const char* text = msgs[i]->msg != NULL ? msgs[i]->msg : "";
    switch (msgs[i]->msg_style) {
      case PAM_PROMPT_ECHO_OFF:
      case PAM_PROMPT_ECHO_ON: {
        char line[512];
        printf("PROMPT: %s\n", text);
        if (fgets(line, sizeof(line), stdin) == NULL) line[0] = '\0';
        line[strcspn(line, "\n")] = '\0';
        out[i].resp = strdup(line);
        break;
      }
      case PAM_TEXT_INFO:
        printf("INFO: %s\n", text);
        break;
      case PAM_ERROR_MSG:
        printf("ERROR: %s\n", text);
        break;
      default:
        break;
    }
  }
  fflush(stdout);
  *resp = out;
  return PAM_SUCCESS;
}

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5 || (argc == 5 && strcmp(argv[4], "--silent") != 0)) {
    fprintf(stderr, "usage: gate-test-pam-host CONFDIR SERVICE USER [--silent]\n");
    return 2;
  }
  const int flags = argc == 5 ? PAM_SILENT : 0;
  openlog("gate-test-host", LOG_PID, LOG_AUTH);
  syslog(LOG_INFO, "before pam_authenticate");
  struct pam_conv conv = {Converse, NULL};
  pam_handle_t* pamh = NULL;
  int rc = pam_start_confdir(argv[2], argv[3], &conv, argv[1], &pamh);
  if (rc != PAM_SUCCESS) {
    fprintf(stderr, "pam_start_confdir: %s\n", pam_strerror(pamh, rc));
    return 1;
  }
  rc = pam_authenticate(pamh, flags);
  syslog(LOG_INFO, "after pam_authenticate");
  printf("RESULT: %d %s\n", rc, pam_strerror(pamh, rc));
  pam_end(pamh, rc);
  syslog(LOG_INFO, "after pam_end");
  closelog();
  return 0;
}

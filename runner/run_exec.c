/* pktexpect runner: child processes of setup, teardown and exec steps
 * (px_run_command, run.h), over the topology library's px_cmd_run. */
#include "pktexpect/command.h"
#include "run_internal.h"

int px_run_command(const char *cmd, const char *netns, uint32_t timeout_ms, const volatile sig_atomic_t *stop,
                   int cancel_fd, px_buf *output)
{
    px_cmd_opts o = {.netns = netns, .timeout_ms = timeout_ms ? timeout_ms : PX_RUN_CMD_TIMEOUT_MS, .stop = stop,
                     .cancel_fd = cancel_fd};
    return px_cmd_run(cmd, &o, output);
}

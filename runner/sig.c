/* pktexpect runner: SIGINT / SIGTERM handling (see sig.h). */
#include "sig.h"

#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Process-wide by necessity: a signal handler reaches nothing else. */
static volatile sig_atomic_t got_signal;
static volatile sig_atomic_t graceful_stop;
static int wake_fd = -1;

static void on_signal(int sig)
{
    if (got_signal || !graceful_stop)
        _exit(128 + sig); /* async-signal-safe; nothing to flush that matters */
    got_signal = sig;
    if (wake_fd >= 0) {
        uint64_t one = 1;
        ssize_t r = write(wake_fd, &one, sizeof one); /* async-signal-safe */
        (void)r;
    }
}

void px_sig_install(bool graceful)
{
    graceful_stop = graceful;
    wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sa.sa_flags = 0; /* no SA_RESTART */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

const volatile sig_atomic_t *px_sig_flag(void)
{
    return &got_signal;
}

int px_sig_fd(void)
{
    return wake_fd;
}

int px_sig_exit_code(int otherwise)
{
    return got_signal ? 128 + got_signal : otherwise;
}

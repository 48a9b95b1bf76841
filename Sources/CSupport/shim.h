#ifndef LINKTRACK_CSUPPORT_SHIM_H
#define LINKTRACK_CSUPPORT_SHIM_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static inline int lt_log_mail(void) { return LOG_MAIL; }
static inline int lt_log_warning(void) { return LOG_WARNING; }
static inline int lt_log_notice(void) { return LOG_NOTICE; }
static inline int lt_log_err(void) { return LOG_ERR; }

/// Sends one syslog record to the Unix socket at `path` (normally `/dev/log`), in the form glibc's
/// syslog(3) writes (RFC 3164): `<priority>Mmm dd hh:mm:ss ident[pid]: message`.
///
/// syslog(3) itself drops a record it cannot deliver and does not tell its caller (issue 16,
/// item 3: a container without `/dev/log`); this returns 0 when the socket took the record, else
/// the errno of the failure, so that the caller can write the record elsewhere. Like glibc, it
/// tries a datagram socket first and a stream socket (record ended by a NUL) when the socket is
/// of that type.
static inline int lt_syslog_send(const char *path, int priority, const char *ident, const char *message) {
    struct sockaddr_un address;
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof address.sun_path) return ENAMETOOLONG;
    strcpy(address.sun_path, path);

    char head[128];
    char stamp[32];
    time_t now = time(NULL);
    struct tm local;
    if (localtime_r(&now, &local) == NULL || strftime(stamp, sizeof stamp, "%h %e %T", &local) == 0) stamp[0] = 0;
    int length = snprintf(head, sizeof head, "<%d>%s %s[%d]: ", priority, stamp, ident, (int)getpid());
    if (length < 0 || (size_t)length >= sizeof head) return EINVAL;

    int types[2] = {SOCK_DGRAM, SOCK_STREAM};
    int failure = 0;
    for (int t = 0; t < 2; t++) {
        int fd = socket(AF_UNIX, types[t] | SOCK_CLOEXEC, 0);
        if (fd < 0) return errno;
        if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
            failure = errno;
            close(fd);
            if (failure == EPROTOTYPE) continue;
            return failure;
        }
        char nul = 0;
        struct iovec parts[3] = {
            {.iov_base = head, .iov_len = (size_t)length},
            {.iov_base = (void *)message, .iov_len = strlen(message)},
            {.iov_base = &nul, .iov_len = 1},
        };
        struct msghdr record;
        memset(&record, 0, sizeof record);
        record.msg_iov = parts;
        record.msg_iovlen = types[t] == SOCK_STREAM ? 3 : 2;
        ssize_t sent = sendmsg(fd, &record, MSG_NOSIGNAL);
        failure = sent < 0 ? errno : 0;
        close(fd);
        return failure;
    }
    return failure;
}

/// Makes sure file descriptors 0, 1 and 2 are open (issue 16, item 18). A descriptor the parent
/// left closed would otherwise be handed out by the next open(2): with stdout closed, the
/// `--log-file` became fd 1 and received the whole message. Each closed one is opened on
/// /dev/null, so that no later open can take it. Returns a bit mask of the descriptors that were
/// closed (bit 0 for stdin, 1 for stdout, 2 for stderr), or -1 when /dev/null could not be opened.
static inline int lt_open_standard_descriptors(void) {
    int closed = 0;
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
        closed |= 1 << fd;
        int opened = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (opened < 0) return -1;
        if (opened != fd) {
            // Lower descriptors are open by now, so open(2) returns fd itself; kept for safety.
            if (dup2(opened, fd) < 0) { close(opened); return -1; }
            close(opened);
        }
    }
    return closed;
}

/// The one line a fatal signal leaves on stderr. Fixed text: the handler may not format, allocate
/// or look at the message.
#define LT_FATAL_SIGNAL_LINE "linktrack: temporary failure: the filter was stopped by a fatal signal (out of memory, a crash, or SIGQUIT); the message was not delivered\n"

/// Where the filter's own lines go: the stderr the filter was given, moved to a descriptor >= 3
/// by ``lt_install_filter_signal_dispositions``.
static int lt_diagnostics_fd = STDERR_FILENO;

static inline void lt_fatal_signal_handler(int signal_number) {
    (void)signal_number;
    // Only async-signal-safe calls: write(2) and _exit(2). EX_TEMPFAIL (75): the MTA keeps the
    // message and retries; output already written is discarded by the MTA, as for any failure.
    ssize_t ignored = write(lt_diagnostics_fd, LT_FATAL_SIGNAL_LINE, sizeof LT_FATAL_SIGNAL_LINE - 1);
    (void)ignored;
    _exit(75);
}

/// Installs the signal dispositions of an MTA filter (issue 16, item 19), replacing those the
/// Swift runtime's backtracer installed before `main` (it prints a crash report, with fragments of
/// memory, on stderr, which an MTA merges into the message or the bounce, and after SIGQUIT lets
/// the run go on to exit 0):
/// - SIGPIPE ignored: a write to a closed pipe fails with EPIPE and becomes exit 74;
/// - SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE, SIGTRAP (a crash, an allocation failure in the
///   Swift runtime or libxml2 under a memory limit, a Swift runtime trap) and SIGQUIT: one fixed
///   line on stderr and exit 75, on an alternate stack so that a stack overflow is caught too.
/// SIGTERM, SIGINT, SIGHUP keep their default action (the MTA's own timeouts use them).
///
/// The stderr the filter was given moves to a close-on-exec descriptor >= 3, stored in
/// `*diagnostics_fd`, and fd 2 is opened on /dev/null: what the Swift runtime (its "Fatal error:
/// failed to allocate N bytes" before an abort) or a C library prints on fd 2 goes nowhere, so
/// that a failure leaves exactly one line. The filter writes its own lines to `*diagnostics_fd`.
/// Call it once, after ``lt_open_standard_descriptors``, and from one Swift file only (the static
/// variable above is per translation unit). Returns 0, else the errno of the first failure.
static inline int lt_install_filter_signal_dispositions(int *diagnostics_fd) {
    int saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    if (saved < 0) return errno;
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null < 0) { int failure = errno; close(saved); return failure; }
    if (dup2(null, STDERR_FILENO) < 0) { int failure = errno; close(null); close(saved); return failure; }
    close(null);
    lt_diagnostics_fd = saved;
    *diagnostics_fd = saved;

    static char alternate_stack[65536];
    stack_t stack;
    memset(&stack, 0, sizeof stack);
    stack.ss_sp = alternate_stack;
    stack.ss_size = sizeof alternate_stack;
    if (sigaltstack(&stack, NULL) != 0) return errno;

    struct sigaction ignore;
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    if (sigaction(SIGPIPE, &ignore, NULL) != 0) return errno;

    struct sigaction fatal;
    memset(&fatal, 0, sizeof fatal);
    fatal.sa_handler = lt_fatal_signal_handler;
    sigfillset(&fatal.sa_mask);
    fatal.sa_flags = SA_ONSTACK;
    int signals[] = {SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE, SIGTRAP, SIGQUIT};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        if (sigaction(signals[i], &fatal, NULL) != 0) return errno;
    }
    // A signal blocked by the parent would stay pending and never stop the filter.
    sigset_t unblock;
    sigemptyset(&unblock);
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) sigaddset(&unblock, signals[i]);
    sigprocmask(SIG_UNBLOCK, &unblock, NULL);
    return 0;
}

#endif

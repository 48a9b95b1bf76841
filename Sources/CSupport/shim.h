#ifndef LINKTRACK_CSUPPORT_SHIM_H
#define LINKTRACK_CSUPPORT_SHIM_H

#include <errno.h>
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

#endif

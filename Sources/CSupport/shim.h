#ifndef LINKTRACK_CSUPPORT_SHIM_H
#define LINKTRACK_CSUPPORT_SHIM_H

#include <syslog.h>
#include <stdio.h>
#include <unistd.h>

/// syslog(3) is variadic; Swift cannot call it.
static inline void lt_syslog(int priority, const char *message) {
    syslog(priority, "%s", message);
}

static inline void lt_openlog(const char *ident) {
    openlog(ident, LOG_PID, LOG_MAIL);
}

static inline int lt_log_mail(void) { return LOG_MAIL; }
static inline int lt_log_warning(void) { return LOG_WARNING; }
static inline int lt_log_notice(void) { return LOG_NOTICE; }
static inline int lt_log_err(void) { return LOG_ERR; }

#endif

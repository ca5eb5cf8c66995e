/*
 * liq_ctl.h - talk to Liquidsoap over its server socket (a Unix socket).
 *
 * The protocol is line-based: we send one command line, Liquidsoap
 * answers with lines ending in a line "END". One connection is kept open
 * and re-opened when it fails. Commands and answers are bounded
 * (LIQ_CTL_REPLY_MAX). A command line must not contain a newline (a
 * newline would let a value inject a second command): liq_ctl_command
 * refuses it.
 *
 * Not thread-safe: one thread owns a struct liq_ctl.
 */
#ifndef ONAIR_PLAYOUT_LIQ_CTL_H
#define ONAIR_PLAYOUT_LIQ_CTL_H

#include <stdint.h>

#include "common/buf.h"

#define LIQ_CTL_REPLY_MAX (256u << 10)

struct liq_ctl {
	char path[108];		/* socket path */
	int fd;			/* -1 when not connected */
	int64_t timeout_us;	/* per command */
};

/* Set up (no connection yet). 0 or -ENAMETOOLONG. */
int liq_ctl_init(struct liq_ctl *c, const char *socket_path, int64_t timeout_us);
/* Close the connection. */
void liq_ctl_release(struct liq_ctl *c);

/*
 * Send one command and put the answer (without the final "END" line and
 * with "\r\n" turned into "\n", no trailing newline) into reply (reset
 * first). 0; -EINVAL (command with a newline or a NUL); -ECONNREFUSED /
 * -ENOENT (Liquidsoap not listening); -ETIMEDOUT; -EPIPE (closed while
 * answering); -ENOSPC (answer too long).
 * After any error the connection is closed; the next call reconnects.
 */
int liq_ctl_command(struct liq_ctl *c, const char *command, struct buf *reply);

#include "common/banned.h"
#endif

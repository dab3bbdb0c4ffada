/* sekisho-office: the office worker's sandbox (internal; office.h says what it is for).
 *
 * Before LibreOffice is loaded: a network namespace of its own (only a loopback, down),
 * a mount namespace with a private tmpfs on /tmp (HOME and TMPDIR point into it), the
 * unprivileged user (as sekisho-worker, src/worker/sandbox.c), the LibreOffice profile
 * written there (macros, links, Java and recovery off), rlimits, no core dumps,
 * PR_SET_NO_NEW_PRIVS, every inherited descriptor closed but the gate's socket. As root
 * all of it; as another user what the kernel permits (a user namespace gives the network
 * and mount namespaces; without one a private folder under /tmp instead of the tmpfs),
 * and the startup event says what it got. */
#ifndef SK_OFFICE_WORKER_H
#define SK_OFFICE_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sekisho/error.h"
#include "worker.h"

typedef struct sk_office_sandbox {
	sk_worker_limits lim; /* user, max_as, max_fsize (max_cpu unused) */
	int sock;             /* kept open */
	/* what it got */
	bool userns, netns, mountns, tmpfs, dropped, nnp;
	char tmp[64];         /* the private folder: "/tmp" (its own tmpfs) or a mkdtemp() */
	char what[256];       /* the startup event's text */
} sk_office_sandbox;

/* Everything before LibreOffice is loaded (see above); sb->lim and sb->sock are inputs. */
int sk_office_sandbox_enter(sk_office_sandbox *sb, sk_error *err);
/* Removes the private folder when it is not a tmpfs of its own (at a clean exit). */
void sk_office_sandbox_leave(sk_office_sandbox *sb);

#endif

/* A test-only worker: the real worker's initialisation, sandbox and serve loop
 * (sk_worker_main) with a hook that misbehaves when a job's name asks it to, as a
 * compromised or broken worker would. Never installed; the real worker has no hook. */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "worker.h"

static pid_t self; /* getpid() is not allowed once sandboxed */

/* An answer with the output (out_size bytes) not in it; fd (-1: none) goes with it */
static int answer_fd(int sock, const char *type, sk_verdict v, sk_action *a, uint64_t out_size,
		     int fd)
{
	sk_engine_result r;
	memset(&r, 0, sizeof(r));
	sk_report_init(&r.report);
	r.type.code = type;
	r.report.verdict = v;
	r.out_size = out_size;
	if (a)
		sk_report_add(&r.report, *a, "formula", "", NULL, 1);
	uint8_t *p = NULL;
	size_t n = 0;
	int rc = sk_wire_answer_encode(&r, false, NULL, &p, &n);
	if (!rc)
		rc = sk_wire_send(sock, SK_WIRE_ANSWER, p, n, &fd, fd >= 0 ? 1 : 0);
	free(p);
	sk_report_free(&r.report);
	return rc;
}

static int answer(int sock, const char *type, sk_verdict v, sk_action *a, uint64_t out_size)
{
	return answer_fd(sock, type, v, a, out_size, -1);
}

/* A memfd holding "hello" (sealed or not) for an output; exits 6 when it cannot */
static int hello_memfd(bool seal)
{
	int fd = -1;
	if (sk_wire_memfd_open("hostile-out", &fd) != 0 || write(fd, "hello", 5) != 5 ||
	    (seal && sk_wire_seal(fd) != 0))
		_exit(6);
	return fd;
}

/* Bad CONVERT requests (wire.h), each named by the job; "convert-ok.doc" asks properly
 * and, given its answer, answers the job blocked "malformed" with "converted N bytes". */
static int bad_convert(const char *n, int sock)
{
	static const uint8_t doc[64] = "\xD0\xCF\x11\xE0 a legacy document";
	uint8_t *m = NULL;
	size_t mn = 0;
	int fd = -1, fds[2];
	if (!strcmp(n, "convert-garbage.doc")) {
		if (sk_wire_memfd(doc, sizeof(doc), &fd))
			_exit(6);
		return sk_wire_send(sock, SK_WIRE_CONVERT, "\x05\0\0\0doc", 7, &fd, 1), 1;
	}
	const char *type = !strcmp(n, "convert-type.doc") ? "pdf" : "doc";
	uint64_t len = !strcmp(n, "convert-size.doc") ? sizeof(doc) + 1
		       : !strcmp(n, "convert-too-large.doc") ? SK_WIRE_CONVERT_MAX + 1
							     : sizeof(doc);
	/* target 0 (OOXML), or one out of range */
	uint32_t target = !strcmp(n, "convert-target.doc") ? SK_CONVERT_TARGET__COUNT : 0;
	/* the encoder refuses what the decoder must refuse: the payload is made by hand */
	sk_buf b;
	sk_buf_init(&b, 0);
	uint32_t tl = (uint32_t)strlen(type) + 1;
	uint8_t le[8];
	for (int i = 0; i < 4; i++)
		le[i] = (uint8_t)(target >> (8 * i));
	sk_buf_add(&b, le, 4);
	for (int i = 0; i < 4; i++)
		le[i] = (uint8_t)(tl >> (8 * i));
	sk_buf_add(&b, le, 4);
	sk_buf_add(&b, type, tl);
	memset(le, 0, sizeof(le));
	sk_buf_add(&b, le, 8); /* dpi, max pages */
	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(len >> (8 * i));
	sk_buf_add(&b, le, 8);
	m = sk_buf_take(&b, &mn);
	if (!strcmp(n, "convert-unsealed.doc")) {
		fd = memfd_create("x", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (fd < 0 || write(fd, doc, sizeof(doc)) != (ssize_t)sizeof(doc))
			_exit(6);
	} else if (sk_wire_memfd(doc, sizeof(doc), &fd)) {
		_exit(6);
	}
	fds[0] = fds[1] = fd;
	int nfd = !strcmp(n, "convert-no-fd.doc") ? 0 : !strcmp(n, "convert-two-fds.doc") ? 2 : 1;
	sk_wire_send(sock, SK_WIRE_CONVERT, m, mn, fds, nfd);
	free(m);
	if (strcmp(n, "convert-ok.doc"))
		return 1; /* the gate hangs up */
	uint32_t t;
	int got[1], ng = 0;
	if (sk_wire_recv_fds(sock, &t, &m, &mn, got, 1, &ng, 0) || t != SK_WIRE_CONVERTED)
		_exit(7);
	sk_reason why;
	const char *detail;
	sk_convert c;
	if (sk_wire_converted_decode(m, mn, &why, &detail, &len, &c) || why != SK_REASON_NONE ||
	    ng != 1 ||
	    sk_wire_sealed(got[0], len))
		_exit(8);
	free(m);
	close(got[0]);
	sk_engine_result r;
	memset(&r, 0, sizeof(r));
	sk_report_init(&r.report);
	r.type.code = "doc";
	char d[64];
	snprintf(d, sizeof(d), "converted %llu bytes", (unsigned long long)len);
	sk_report_block(&r.report, SK_REASON_MALFORMED, NULL, d);
	int rc = sk_wire_answer_encode(&r, false, NULL, &m, &mn);
	if (!rc)
		sk_wire_send(sock, SK_WIRE_ANSWER, m, mn, NULL, 0);
	free(m);
	sk_report_free(&r.report);
	return 1;
}

static int hook(const sk_wire_job *job, int sock, int in_fd)
{
	const char *n = job->name ? job->name : "";
	if (!strncmp(n, "convert-", 8))
		return bad_convert(n, sock);
	/* forbidden system calls: each kills the process (SIGSYS) */
	if (!strcmp(n, "forbidden-open.txt"))
		return open("/etc/hostname", O_RDONLY) >= 0 ? 0 : 0;
	if (!strcmp(n, "forbidden-socket.txt"))
		return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 0 : 0;
	if (!strcmp(n, "forbidden-fork.txt"))
		return fork() >= 0 ? 0 : 0;
	if (!strcmp(n, "forbidden-exec.txt")) {
		char *const argv[] = {(char *)"true", NULL};
		execve("/bin/true", argv, argv + 1);
		return 0;
	}
	if (!strcmp(n, "forbidden-kill.txt"))
		return kill(1, 0) == 0 ? 0 : 0;
	if (!strcmp(n, "forbidden-exec-memory.txt")) {
		void *m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return m != MAP_FAILED ? 0 : 0;
	}
	/* never answers: the gate's deadline (or a test's kill -9) ends it */
	if (!strcmp(n, "spin.txt")) {
		dprintf(2, "sekisho-test-worker: spinning pid %d\n", (int)self);
		for (volatile unsigned long i = 0;; i++)
			;
	}
	if (!strcmp(n, "exit.txt"))
		_exit(3);
	/* malformed answers */
	if (!strcmp(n, "garbage.txt"))
		return sk_wire_send(sock, SK_WIRE_ANSWER, "\x01\x02\x03", 3, NULL, 0), 1;
	if (!strcmp(n, "huge-length.txt")) {
		const uint8_t hdr[8] = {SK_WIRE_ANSWER, 0, 0, 0, 0, 0, 0, 0x40}; /* 1 GiB */
		return write(sock, hdr, sizeof(hdr)) ? 1 : 1;
	}
	if (!strcmp(n, "wrong-message.txt")) {
		uint8_t v[4] = {SK_WIRE_VERSION, 0, 0, 0};
		return sk_wire_send(sock, SK_WIRE_READY, v, 4, NULL, 0), 1;
	}
	if (!strcmp(n, "bad-type.txt"))
		return answer(sock, "no-such-type", SK_VERDICT_CLEAN, NULL, 0), 1;
	if (!strcmp(n, "verdict-mismatch.txt")) {
		sk_action a = SK_ACTION_NEUTRALIZED; /* something changed, yet "clean" */
		return answer(sock, "csv", SK_VERDICT_CLEAN, &a, 0), 1;
	}
	if (!strcmp(n, "bad-size.txt")) /* claims bytes the output does not have */
		return answer(sock, "text", SK_VERDICT_CLEAN, NULL, 12345), 1;
	if (!strcmp(n, "fds-in-answer.txt")) { /* two descriptors: one at most */
		int fds[2] = {hello_memfd(true), hello_memfd(true)};
		return sk_wire_send(sock, SK_WIRE_ANSWER, "", 0, fds, 2), 1;
	}
	/* the output in a memfd that is not sealed, then one that cannot be sealed (the
	 * worker keeps a writable mapping of it); sealed but of another size; and a
	 * descriptor beside an answer that carries no output in a memfd (a blocked item) */
	if (!strcmp(n, "unsealed-output.txt"))
		return answer_fd(sock, "text", SK_VERDICT_CLEAN, NULL, 5, hello_memfd(false)), 1;
	if (!strcmp(n, "mapped-output.txt")) {
		int fd = hello_memfd(false);
		void *m = mmap(NULL, 5, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED || sk_wire_seal(fd) == 0)
			_exit(5);
		return answer_fd(sock, "text", SK_VERDICT_CLEAN, NULL, 5, fd), 1;
	}
	if (!strcmp(n, "output-size.txt"))
		return answer_fd(sock, "text", SK_VERDICT_CLEAN, NULL, 4, hello_memfd(true)), 1;
	if (!strcmp(n, "fd-when-blocked.txt")) {
		sk_engine_result r;
		memset(&r, 0, sizeof(r));
		sk_report_init(&r.report);
		r.type.code = "text";
		sk_report_block(&r.report, SK_REASON_MALFORMED, NULL, "hostile");
		uint8_t *m = NULL;
		size_t mn = 0;
		int fd = hello_memfd(true);
		if (sk_wire_answer_encode(&r, false, NULL, &m, &mn) == 0)
			sk_wire_send(sock, SK_WIRE_ANSWER, m, mn, &fd, 1);
		free(m);
		sk_report_free(&r.report);
		return 1;
	}
	/* the input descriptor must be read-only: a write that works exits 9; the test gives
	 * an input too large to travel in the job (else exit 8) */
	if (!strcmp(n, "write-input.txt")) {
		if (in_fd < 0)
			_exit(8);
		if (write(in_fd, "x", 1) >= 0)
			_exit(9);
	}
	return 0;
}

int main(int argc, char **argv)
{
	self = getpid();
	return sk_worker_main(argc, argv, hook);
}

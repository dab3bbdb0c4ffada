/* sekishod — the spool role: per-flow drop folders, watched with inotify.
 *
 * A file is picked up when its writer closes it (IN_CLOSE_WRITE) or when it is renamed
 * into the drop folder (IN_MOVED_TO: write `.NAME` first, then rename: names starting
 * with a dot are never picked up). At start, and every SKD_RESCAN seconds, the folders
 * are read again; a file found that way is left alone until it has not changed for
 * SKD_QUIET seconds.
 *
 * Each file goes through sk_process() (the one path: flow policy, original into the
 * quarantine, engine, audit record) with the flow's zones. A delivered result is written
 * to the delivery folder under a temporary name (NAME.sekisho-tmp.XXXXXX), fsync'ed and
 * renamed (never over an existing file: "NAME (2).ext"); a blocked or held file leaves a
 * note NAME.blocked.txt there (Japanese, then English: reason, quarantine id). Only when
 * the decision is on record (original stored, audit record appended) and its result is
 * in the delivery folder is the dropped file removed; otherwise it stays and is tried
 * again after SKD_RETRY seconds. A crash at any point leaves the dropped file (it is
 * processed again: a result may then be delivered twice, never lost). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "sekisho/audit.h"
#include "sekisho/name.h"
#include "sekisho/quarantine.h"

#define SKD_QUIET 2     /* seconds a file found by a scan must be unchanged */
#define SKD_RESCAN 60   /* seconds between scans of the drop folders */
#define SKD_RETRY 30    /* seconds before an unfinished file is tried again */
#define SKD_SETUP 10    /* seconds before a flow whose folders failed is set up again */

struct flow {
	const skd_spool *c;
	int drop, deliver; /* folder fds, -1 when not set up */
	int wd;
	uint64_t depth;
};

struct pending {
	size_t flow;
	char *name;
	int64_t not_before; /* monotonic µs */
	bool scanned;       /* found by a scan: wait until it is quiet */
};

struct spool {
	skd *d;
	skd_gate gate;
	struct flow *f;
	size_t nf;
	int ino, sfd;
	struct pending *q;
	size_t nq, capq;
	int64_t next_setup, next_rescan;
	bool stop;
};

static bool ignored_name(const char *n)
{
	return n[0] == '.' || strstr(n, ".sekisho-tmp.") != NULL;
}

static void depth_update(struct spool *s)
{
	for (size_t i = 0; i < s->nf; i++)
		s->f[i].depth = 0;
	for (size_t i = 0; i < s->nq; i++)
		s->f[s->q[i].flow].depth++;
	for (size_t i = 0; i < s->nf && i < SK_POLICY_SPOOL_MAX; i++)
		atomic_store(&s->d->metrics->queue[i], s->f[i].depth);
}

static void enqueue(struct spool *s, size_t flow, const char *name, int64_t not_before, bool scanned)
{
	for (size_t i = 0; i < s->nq; i++)
		if (s->q[i].flow == flow && !strcmp(s->q[i].name, name)) {
			if (!scanned) {
				s->q[i].scanned = false;
				if (not_before < s->q[i].not_before)
					s->q[i].not_before = not_before;
			}
			return;
		}
	if (s->nq == s->capq) {
		size_t cap = s->capq ? s->capq * 2 : 64;
		struct pending *q = realloc(s->q, cap * sizeof(*q));
		if (!q)
			return; /* the next scan finds it again */
		s->q = q;
		s->capq = cap;
	}
	char *n = strdup(name);
	if (!n)
		return;
	s->q[s->nq++] = (struct pending){flow, n, not_before, scanned};
	depth_update(s);
}

static void dequeue(struct spool *s, size_t i)
{
	free(s->q[i].name);
	memmove(&s->q[i], &s->q[i + 1], (s->nq - i - 1) * sizeof(s->q[0]));
	s->nq--;
	depth_update(s);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads a drop folder: every regular file not yet queued, in name order. Also removes
 * left-over temporary files of the delivery folder when clean_tmp. */
static void scan(struct spool *s, size_t fi)
{
	struct flow *f = &s->f[fi];
	int fd = dup(f->drop);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return;
	}
	rewinddir(dir);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(dir))) {
		if (ignored_name(e->d_name) || e->d_type == DT_DIR)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof(*nn));
			if (!nn)
				break;
			names = nn;
		}
		if (!(names[n] = strdup(e->d_name)))
			break;
		n++;
	}
	closedir(dir);
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	int64_t now = skd_now_us();
	time_t real = time(NULL);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (fstatat(f->drop, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) {
			int64_t age = (int64_t)(real - st.st_mtime);
			int64_t wait = age >= SKD_QUIET ? 0 : (SKD_QUIET - age) * 1000000;
			enqueue(s, fi, names[i], now + wait, true);
		}
		free(names[i]);
	}
	free(names);
}

/* Removes left-over temporary files of an interrupted delivery. */
static void clean_tmp(struct flow *f)
{
	int fd = dup(f->deliver);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(dir)))
		if (strstr(e->d_name, ".sekisho-tmp.") && unlinkat(f->deliver, e->d_name, 0) == 0)
			SKD_EVENT(SKD_NOTICE, "tmp-removed", "中断された配信の一時ファイルを削除しました",
				  "removed the temporary file of an interrupted delivery",
				  SKD_S("flow", f->c->id), SKD_S("name", e->d_name));
	closedir(dir);
}

static void flow_close(struct spool *s, struct flow *f)
{
	if (f->wd >= 0)
		inotify_rm_watch(s->ino, f->wd);
	if (f->drop >= 0)
		close(f->drop);
	if (f->deliver >= 0)
		close(f->deliver);
	f->drop = f->deliver = f->wd = -1;
}

static bool flow_setup(struct spool *s, size_t fi)
{
	struct flow *f = &s->f[fi];
	const char *what = "drop";
	f->drop = open(f->c->drop, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->drop >= 0) {
		what = "deliver";
		f->deliver = open(f->c->deliver, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (f->deliver >= 0) {
		what = "watch";
		f->wd = inotify_add_watch(s->ino, f->c->drop,
					  IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF |
						  IN_ONLYDIR);
	}
	/* a dropped file is removed once its decision is on record: without write access to
	 * the drop folder every file would be delivered again at each rescan */
	if (f->wd >= 0 && (faccessat(f->drop, ".", W_OK | X_OK, AT_EACCESS) != 0 ||
			   faccessat(f->deliver, ".", W_OK | X_OK, AT_EACCESS) != 0)) {
		int e = errno;
		SKD_EVENT(SKD_ERR, "flow-error",
			  "spool のフォルダに書き込めません (投入・配信フォルダとも sekishod の利用者が書き込める必要があります。後で再試行します)",
			  "a spool folder is not writable (the drop and delivery folders must be writable "
			  "by sekishod's user; will retry)",
			  SKD_S("flow", f->c->id), SKD_S("error", strerror(e)));
		flow_close(s, f);
		return false;
	}
	if (f->wd < 0) {
		int e = errno;
		SKD_EVENT(SKD_ERR, "flow-error", "spool のフォルダを開けません (後で再試行します)",
			  "cannot open a spool folder (will retry)", SKD_S("flow", f->c->id),
			  SKD_S("folder", what), SKD_S("error", strerror(e)));
		flow_close(s, f);
		return false;
	}
	clean_tmp(f);
	scan(s, fi);
	return true;
}

/* "dir/NAME.ext" → NAME with ext (the module asks for one, e.g. docm → docx) */
static char *with_ext(const char *name, const char *ext)
{
	const char *dot = strrchr(name, '.');
	size_t keep = dot && dot != name ? (size_t)(dot - name) : strlen(name);
	char *s = NULL;
	return asprintf(&s, "%.*s.%s", (int)keep, name, ext) < 0 ? NULL : s;
}

/* Renames tmp to name in dirfd, never over an existing file ("NAME (2).ext" …), and
 * makes the rename durable. The name used goes to *used (malloc'd). */
static int publish(int dirfd, const char *tmp, const char *name, char **used)
{
	*used = NULL;
	const char *dot = strrchr(name, '.');
	size_t stem = dot && dot != name ? (size_t)(dot - name) : strlen(name);
	for (int i = 1; i < 1000; i++) {
		char *cand = NULL;
		if (i == 1 ? !(cand = strdup(name))
			   : asprintf(&cand, "%.*s (%d)%s", (int)stem, name, i, name + stem) < 0)
			return SK_ENOMEM;
		if (renameat2(dirfd, tmp, dirfd, cand, RENAME_NOREPLACE) == 0) {
			fsync(dirfd);
			*used = cand;
			return 0;
		}
		int e = errno;
		free(cand);
		if (e != EEXIST) {
			errno = e;
			return SK_EIO;
		}
	}
	errno = EEXIST;
	return SK_EIO;
}

/* A new temporary file for NAME in the delivery folder: fd, and its name in *tmp. */
static int tmp_open(const struct flow *f, const char *name, char **tmp)
{
	/* keep the temporary name within NAME_MAX: at most 200 bytes of NAME (whole
	 * UTF-8 characters) */
	size_t n = strlen(name);
	if (n > 200) {
		n = 200;
		while (n && ((unsigned char)name[n] & 0xc0) == 0x80)
			n--;
	}
	char *path = NULL;
	if (asprintf(&path, "%s/%.*s.sekisho-tmp.XXXXXX", f->c->deliver, (int)n, name) < 0)
		return SK_EIO;
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		free(path);
		return SK_EIO;
	}
	*tmp = strdup(strrchr(path, '/') + 1);
	free(path);
	if (!*tmp) {
		close(fd);
		return SK_EIO;
	}
	return fd;
}

/* NAME.blocked.txt in the delivery folder: why, in Japanese then English. */
static int write_note(struct spool *s, const struct flow *f, const char *name, const sk_result *res,
		      char **used)
{
	const sk_report *r = &res->report;
	char hex[SK_SHA256_HEX], when[64];
	sk_hex(res->sha256, SK_SHA256_LEN, hex);
	/* JST with the zone written, whatever the machine's zone */
	sk_time_format_jst(sk_time_now_us(), when, sizeof(when));
	const char *qid = res->quarantine_id[0] ? res->quarantine_id : "-";
	const char *detail = r->reason_detail ? r->reason_detail : "";
	bool held = r->reason == SK_REASON_HELD;
	sk_buf b;
	sk_buf_init(&b, 1 << 20);
	sk_buf_printf(&b,
		      "sekisho: このファイルは%s\n"
		      "ファイル名: %s\n理由: %s [%s]%s%s\n経路: %s → %s (spool %s)\n"
		      "隔離 ID: %s\nSHA-256: %s\n日時: %s\n"
		      "原本は隔離保管されています。%s\n\n",
		      held ? "承認待ちのため、まだ届けられていません。" : "遮断されたため届けられませんでした。",
		      name, sk_reason_text(r->reason, SK_LANG_JA), sk_reason_code(r->reason),
		      *detail ? ": " : "", detail, f->c->from, f->c->to, f->c->id, qid, hex, when,
		      held ? "承認されると無害化した結果が届けられます。"
			   : "必要な場合は、隔離 ID を添えて情報セキュリティ管理者に取り出しを申請してください。");
	sk_buf_printf(&b,
		      "sekisho: this file %s\n"
		      "File: %s\nReason: %s [%s]%s%s\nRoute: %s -> %s (spool %s)\n"
		      "Quarantine ID: %s\nSHA-256: %s\nTime: %s\n"
		      "The original is kept in quarantine. %s\n",
		      held ? "waits for approval and has not been delivered yet."
			   : "was blocked and has not been delivered.",
		      name, sk_reason_text(r->reason, SK_LANG_EN), sk_reason_code(r->reason),
		      *detail ? ": " : "", detail, f->c->from, f->c->to, f->c->id, qid, hex, when,
		      held ? "Once approved, the sanitised result is delivered."
			   : "If you need it, ask the information security manager for its release, "
			     "quoting the quarantine ID.");
	char *tmp = NULL, *nname = NULL;
	int rc = SK_EIO;
	int fd = tmp_open(f, name, &tmp);
	const char *txt = sk_buf_str(&b);
	if (fd >= 0 && asprintf(&nname, "%s.blocked.txt", name) >= 0) {
		size_t len = strlen(txt);
		if (write(fd, txt, len) == (ssize_t)len && fsync(fd) == 0 &&
		    fchmod(fd, 0666 & ~s->d->umask) == 0 && close(fd) == 0) {
			fd = -1;
			rc = publish(f->deliver, tmp, nname, used);
		}
	}
	if (fd >= 0)
		close(fd);
	if (rc && tmp)
		unlinkat(f->deliver, tmp, 0);
	free(tmp);
	free(nname);
	sk_buf_free(&b);
	return rc;
}

/* Processes one dropped file. Returns true when it is finished (removed, or gone), false
 * to try again later. */
static bool process(struct spool *s, struct pending *p)
{
	struct flow *f = &s->f[p->flow];
	const char *id = f->c->id;
	int fd = openat(f->drop, p->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return true;
		if (errno == ELOOP) {
			/* a symbolic link carries no data of its own: it is removed, never followed */
			unlinkat(f->drop, p->name, 0);
			SKD_EVENT(SKD_WARNING, "skipped", "シンボリックリンクは受け付けません (削除しました)",
				  "symbolic links are not accepted (removed)", SKD_S("flow", id),
				  SKD_S("name", p->name));
			return true;
		}
		SKD_EVENT(SKD_ERR, "spool-error", "置かれたファイルを開けません (後で再試行します)",
			  "cannot open a dropped file (will retry)", SKD_S("flow", id),
			  SKD_S("name", p->name), SKD_S("error", strerror(errno)));
		return false;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		if (!S_ISDIR(st.st_mode))
			SKD_EVENT(SKD_WARNING, "skipped", "通常のファイルではないため処理しません",
				  "not a regular file: left alone", SKD_S("flow", id), SKD_S("name", p->name));
		return true;
	}
	if (p->scanned && time(NULL) - st.st_mtime < SKD_QUIET) {
		/* still being written? wait until it is quiet */
		close(fd);
		p->not_before = skd_now_us() + SKD_QUIET * 1000000;
		return false;
	}
	int64_t t0 = skd_now_us();
	/* the name as it may be written out: one clean path component */
	sk_buf clean;
	sk_buf_init(&clean, 8192);
	if (sk_name_clean(p->name, &clean) < 0) {
		close(fd);
		sk_buf_free(&clean);
		return false;
	}
	char *name = strdup(sk_buf_str(&clean));
	sk_buf_free(&clean);
	if (!name) {
		close(fd);
		return false;
	}
	for (char *c = name; *c; c++)
		if (*c == '/')
			*c = '_';
	char *tmp = NULL, *used = NULL, *final = NULL;
	int ofd = tmp_open(f, name, &tmp);
	if (ofd < 0) {
		SKD_EVENT(SKD_ERR, "spool-error", "配信先フォルダに書き込めません (後で再試行します)",
			  "cannot write to the delivery folder (will retry)", SKD_S("flow", id),
			  SKD_S("error", strerror(errno)));
		close(fd);
		free(name);
		return false;
	}
	char submitter[160];
	snprintf(submitter, sizeof(submitter), "spool:%s", id);
	sk_item item = {.name = name, .src_zone = f->c->from, .dst_zone = f->c->to,
			.submitter = submitter, .channel = "file", .class_level = f->c->class_level};
	sk_input_fd(&item.input, fd, (uint64_t)st.st_size);
	sk_output out;
	sk_output_fd(&out, ofd, 0);
	sk_result res;
	sk_error err;
	sk_error_clear(&err);
	int rc = sk_process(&item, &s->gate.opt, &out, &res, &err);
	const sk_report *r = &res.report;
	bool blocked = r->verdict == SK_VERDICT_BLOCKED;
	bool delivered = rc == 0 && !blocked;
	/* on record: the original is stored and the decision recorded (sk_process blocks an
	 * item whose record failed with a detail "record: …") */
	bool recorded = res.quarantine_id[0] &&
			!(blocked && r->reason == SK_REASON_INTERNAL && r->reason_detail &&
			  !strncmp(r->reason_detail, "record:", 7));
	const char *problem = NULL;
	if (delivered) {
		if (fsync(ofd) != 0 || fchmod(ofd, 0666 & ~s->d->umask) != 0) {
			problem = strerror(errno);
		} else {
			final = r->out_ext[0] ? with_ext(name, r->out_ext) : strdup(name);
			if (!final || publish(f->deliver, tmp, final, &used) != 0)
				problem = final ? strerror(errno) : "out of memory";
		}
	} else if (rc) {
		problem = err.msg;
	}
	close(ofd);
	if (!used)
		unlinkat(f->deliver, tmp, 0);
	bool published = used != NULL;
	if (recorded && blocked && !problem) {
		if (write_note(s, f, name, &res, &used) != 0)
			problem = strerror(errno);
		published = used != NULL;
	}
	if (problem && recorded && delivered) {
		/* the log says delivered, but it did not reach the folder: say so on record */
		char hex[SK_SHA256_HEX], obj[128];
		sk_hex(res.sha256, SK_SHA256_LEN, hex);
		snprintf(obj, sizeof(obj), "item:%s sha256:%s", res.quarantine_id, hex);
		sk_audit_append(s->gate.audit, submitter, "deliver", obj, "failed", problem, NULL, NULL);
	}
	bool finished = recorded && published && !problem;
	if (finished) {
		if (unlinkat(f->drop, p->name, 0) == 0 || errno == ENOENT)
			fsync(f->drop);
		else
			SKD_EVENT(SKD_ERR, "spool-error",
				  "処理済みのファイルを投入フォルダから削除できません (再処理されます)",
				  "cannot remove a finished file from the drop folder (it will be processed again)",
				  SKD_S("flow", id), SKD_S("name", p->name), SKD_S("error", strerror(errno)));
	}
	int64_t us = skd_now_us() - t0;
	skd_metrics_item(s->d->metrics, r, us);
	char hex[SK_SHA256_HEX];
	sk_hex(res.sha256, SK_SHA256_LEN, hex);
	SKD_EVENT(blocked ? SKD_NOTICE : SKD_INFO, "decision",
		  blocked ? (r->reason == SK_REASON_HELD ? "承認待ち" : "遮断") : "配信",
		  blocked ? (r->reason == SK_REASON_HELD ? "held" : "blocked") : "delivered",
		  SKD_S("flow", id), SKD_S("from", f->c->from), SKD_S("to", f->c->to),
		  SKD_S("name", name), SKD_S("verdict", sk_verdict_code(r->verdict)),
		  SKD_S("reason", blocked ? sk_reason_code(r->reason) : ""),
		  SKD_S("reason_detail", r->reason_detail), SKD_S("type", res.type.code),
		  SKD_S("sha256", hex), SKD_N("size", st.st_size),
		  SKD_S("quarantine_id", res.quarantine_id), SKD_S("decision", res.decision),
		  SKD_S("rule", res.rule), SKD_S("output", used), SKD_N("ms", us / 1000),
		  SKD_S("finished", finished ? "yes" : "no"));
	if (!finished) {
		atomic_fetch_add(&s->d->metrics->spool_errors, 1);
		SKD_EVENT(SKD_ERR, "spool-error", "ファイルの処理を完了できませんでした (後で再試行します)",
			  "could not finish a file (will retry)", SKD_S("flow", id), SKD_S("name", name),
			  SKD_S("error", problem ? problem : r->reason_detail));
	}
	sk_result_free(&res);
	close(fd);
	free(tmp);
	free(used);
	free(final);
	free(name);
	return finished;
}

static void read_events(struct spool *s)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t n = read(s->ino, buf, sizeof(buf));
		if (n <= 0)
			return;
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;
			p += sizeof(*e) + e->len;
			if (e->mask & IN_Q_OVERFLOW) {
				for (size_t i = 0; i < s->nf; i++)
					if (s->f[i].drop >= 0)
						scan(s, i);
				continue;
			}
			for (size_t i = 0; i < s->nf; i++) {
				struct flow *f = &s->f[i];
				if (f->wd != e->wd)
					continue;
				if (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
					SKD_EVENT(SKD_ERR, "flow-error", "spool のフォルダが削除または移動されました",
						  "a spool folder was removed or moved", SKD_S("flow", f->c->id));
					flow_close(s, f);
					s->next_setup = skd_now_us();
				} else if (e->len && !ignored_name(e->name)) {
					enqueue(s, i, e->name, skd_now_us(), false);
				}
			}
		}
	}
}

int skd_spool_run(skd *d)
{
	struct spool s = {.d = d, .ino = -1};
	sk_error err;
	sk_error_clear(&err);
	s.sfd = skd_role_signalfd();
	s.ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s.sfd < 0 || s.ino < 0 || skd_gate_open(d, &s.gate, &err) != 0) {
		SKD_EVENT(SKD_ERR, "role-error", "状態フォルダを開けません", "cannot open the state folder",
			  SKD_S("error", err.msg[0] ? err.msg : strerror(errno)));
		return SKD_EXIT_FAIL;
	}
	s.nf = d->cfg.nspool;
	s.f = calloc(s.nf ? s.nf : 1, sizeof(*s.f));
	if (!s.f)
		return SKD_EXIT_FAIL;
	for (size_t i = 0; i < SK_POLICY_SPOOL_MAX; i++)
		atomic_store(&d->metrics->flow_used[i], 0);
	for (size_t i = 0; i < s.nf; i++) {
		s.f[i] = (struct flow){.c = &d->cfg.spool[i], .drop = -1, .deliver = -1, .wd = -1};
		if (i < SK_POLICY_SPOOL_MAX) {
			snprintf(d->metrics->flow[i], sizeof(d->metrics->flow[i]), "%s", s.f[i].c->id);
			atomic_store(&d->metrics->queue[i], 0);
			atomic_store(&d->metrics->flow_used[i], 1);
		}
	}
	int64_t now = skd_now_us();
	s.next_setup = now;
	s.next_rescan = now + (int64_t)SKD_RESCAN * 1000000;
	while (!s.stop) {
		now = skd_now_us();
		if (now >= s.next_setup) {
			s.next_setup = INT64_MAX;
			for (size_t i = 0; i < s.nf; i++)
				if (s.f[i].drop < 0 && !flow_setup(&s, i))
					s.next_setup = now + (int64_t)SKD_SETUP * 1000000;
		}
		if (now >= s.next_rescan) {
			for (size_t i = 0; i < s.nf; i++)
				if (s.f[i].drop >= 0)
					scan(&s, i);
			s.next_rescan = now + (int64_t)SKD_RESCAN * 1000000;
		}
		read_events(&s);
		/* the first file that is due, in arrival order */
		size_t pick = s.nq;
		int64_t wake = s.next_setup < s.next_rescan ? s.next_setup : s.next_rescan;
		for (size_t i = 0; i < s.nq; i++) {
			if (s.f[s.q[i].flow].drop < 0)
				continue;
			if (s.q[i].not_before <= now) {
				pick = i;
				break;
			}
			if (s.q[i].not_before < wake)
				wake = s.q[i].not_before;
		}
		struct signalfd_siginfo si;
		if (read(s.sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			break;
		if (pick < s.nq) {
			if (process(&s, &s.q[pick]))
				dequeue(&s, pick);
			else if (s.q[pick].not_before <= now)
				s.q[pick].not_before = skd_now_us() + (int64_t)SKD_RETRY * 1000000;
			continue;
		}
		struct pollfd pf[2] = {{.fd = s.ino, .events = POLLIN}, {.fd = s.sfd, .events = POLLIN}};
		int64_t ms = (wake - now) / 1000 + 1;
		poll(pf, 2, ms > 60000 ? 60000 : (int)ms);
	}
	for (size_t i = 0; i < s.nf; i++)
		flow_close(&s, &s.f[i]);
	for (size_t i = 0; i < s.nq; i++)
		free(s.q[i].name);
	free(s.q);
	free(s.f);
	skd_gate_close(&s.gate);
	close(s.ino);
	close(s.sfd);
	return SKD_EXIT_OK;
}

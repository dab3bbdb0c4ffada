/* The quarantine: content-addressed originals and their index (see quarantine.h). */
#include "sekisho/quarantine.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "sekisho/name.h"

struct qop;

struct sk_quarantine {
	sqlite3 *db;
	/* group commit of store and decide (see group_run) */
	pthread_mutex_t gmu;
	struct qop *head, *tail;
	bool leading;
	char *dir;     /* the state folder */
	char *objdir;  /* dir/objects */
	sk_audit *audit;
	sk_quarantine_options opt;
	char os_user[128];
	char owner[128]; /* this process: "BOOT-ID:PID:START" (see owner_alive) */
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS items("
	" id TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER NOT NULL,"
	" name TEXT, type TEXT, src_zone TEXT, dst_zone TEXT, submitter TEXT,"
	" verdict TEXT, reason TEXT, reason_detail TEXT, actions TEXT,"
	" received INTEGER NOT NULL, decided INTEGER,"
	" state TEXT NOT NULL CHECK (state IN ('held','release-requested','released','purged')),"
	" requested_by TEXT, request_reason TEXT, requested INTEGER,"
	" approved_by TEXT, approved INTEGER, released_by TEXT, released INTEGER, purged INTEGER,"
	" owner TEXT);"
	"CREATE INDEX IF NOT EXISTS items_sha256 ON items(sha256);"
	"CREATE INDEX IF NOT EXISTS items_received ON items(received);"
	"CREATE TABLE IF NOT EXISTS requests("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, item TEXT NOT NULL,"
	" kind TEXT NOT NULL CHECK (kind IN ('release','original')),"
	" requester_uid INTEGER NOT NULL, requester TEXT NOT NULL, requester_section TEXT,"
	" reason TEXT NOT NULL, created INTEGER NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('pending','approved','refused')),"
	" needed INTEGER NOT NULL, decided INTEGER, refused_uid INTEGER, refused_by TEXT,"
	" comment TEXT, outcome TEXT);"
	"CREATE UNIQUE INDEX IF NOT EXISTS requests_pending ON requests(item, kind)"
	" WHERE state='pending';"
	"CREATE INDEX IF NOT EXISTS requests_item ON requests(item);"
	"CREATE TABLE IF NOT EXISTS approvals("
	" request INTEGER NOT NULL, approver_uid INTEGER NOT NULL, approver TEXT NOT NULL,"
	" at INTEGER NOT NULL, comment TEXT, PRIMARY KEY (request, approver_uid));";

/* Indexes that need columns added after the first version (made after the migration). */
static const char schema2[] =
	"CREATE INDEX IF NOT EXISTS items_undecided ON items(received) WHERE decided IS NULL;"
	"CREATE INDEX IF NOT EXISTS items_submitter ON items(submitter_uid, received);";

/* Columns added after the first version: added to an older index when missing. */
static const struct {
	const char *name, *type;
} added_cols[] = {
	{"owner", "TEXT"},          {"submitter_uid", "INTEGER"}, {"submitter_section", "TEXT"},
	{"channel", "TEXT"},        {"class_level", "TEXT"},      {"hold_role", "TEXT"},
	{"result_sha256", "TEXT"},  {"result_size", "INTEGER"},   {"result_ext", "TEXT"},
	{"unlock_tries", "INTEGER NOT NULL DEFAULT 0"}, /* wrong PPAP passwords (sk_gate_unlock) */
	/* a mail message's envelope (the recipients one per line) and its sending */
	{"env_from", "TEXT"},       {"env_rcpt", "TEXT"},         {"mail_sent", "INTEGER"},
	{"mail_error", "TEXT"},
};

static const char *const state_codes[] = {"held", "release-requested", "released", "purged"};

const char *sk_qstate_code(sk_qstate s)
{
	return (unsigned)s <= SK_QSTATE_PURGED ? state_codes[s] : "?";
}

const char *sk_qstate_text(sk_qstate s, bool en)
{
	static const char *const ja[] = {"保管中", "取り出し申請中", "取り出し承認済み", "削除済み"};
	static const char *const enx[] = {"held", "release requested", "released", "purged"};
	return (unsigned)s <= SK_QSTATE_PURGED ? (en ? enx[s] : ja[s]) : "?";
}

static sk_qstate state_from(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (s && !strcmp(s, state_codes[i]))
			return (sk_qstate)i;
	return SK_QSTATE_HELD;
}

int sk_qstate_from_code(const char *code, sk_qstate *s)
{
	for (int i = 0; i < 4; i++)
		if (code && !strcmp(code, state_codes[i])) {
			*s = (sk_qstate)i;
			return 0;
		}
	return SK_EINVAL;
}

const char *sk_qdeny_code(sk_qdeny d)
{
	switch (d) {
	case SK_QDENY_NONE: return "ok";
	case SK_QDENY_STATE: return "state";
	case SK_QDENY_SELF_APPROVAL: return "self-approval";
	case SK_QDENY_NOT_APPROVER: return "not-approver";
	case SK_QDENY_NOT_APPROVED: return "not-approved";
	case SK_QDENY_BAD_USER: return "bad-user";
	case SK_QDENY_TWICE: return "twice";
	case SK_QDENY_PENDING: return "pending";
	case SK_QDENY_NO_RIGHT: return "no-right";
	}
	return "refused";
}

const char *sk_qdeny_text(sk_qdeny d, bool en)
{
	switch (d) {
	case SK_QDENY_NONE: return en ? "ok" : "正常";
	case SK_QDENY_STATE: return en ? "the item is not in a state that allows this"
				       : "この状態の項目には実行できません";
	case SK_QDENY_SELF_APPROVAL: return en ? "the requester cannot approve their own request"
					       : "申請者本人は承認できません (二人制)";
	case SK_QDENY_NOT_APPROVER: return en ? "the user does not hold the approving role"
					      : "承認権限を持たない利用者です";
	case SK_QDENY_NOT_APPROVED: return en ? "the release has not been approved"
					      : "取り出しが承認されていません";
	case SK_QDENY_BAD_USER: return en ? "user name or reason missing or invalid"
					  : "利用者名または理由が不正です";
	case SK_QDENY_TWICE: return en ? "this approver has already approved the request"
				       : "この承認者は既に承認しています";
	case SK_QDENY_PENDING: return en ? "a request of this kind is already pending for the item"
					 : "この項目には同じ種類の申請が既にあります";
	case SK_QDENY_NO_RIGHT: return en ? "handing out an original needs the release-original permission"
					  : "原本の取り出しには原本取り出しの権限が必要です";
	}
	return "?";
}

static int64_t now_us(const sk_quarantine *q)
{
	return q->opt.clock ? q->opt.clock(q->opt.clock_ctx) : sk_time_now_us();
}

static int db_err(sk_quarantine *q, sk_error *err, const char *what)
{
	return sk_error_set(err, SK_EIO, "quarantine db: %s: %s", what, sqlite3_errmsg(q->db));
}

static int exec(sk_quarantine *q, const char *sql, sk_error *err)
{
	if (sqlite3_exec(q->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_err(q, err, sql);
	return 0;
}


/* Removes temporary files left by interrupted stores. A writer holds an exclusive
 * flock on its temporary file, so a file we can lock belongs to nobody alive. The
 * folders of the store are made 0700 on the way. */
static void clean_temps(sk_quarantine *q)
{
	DIR *d = opendir(q->objdir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *sub = NULL;
		if (asprintf(&sub, "%s/%s", q->objdir, e->d_name) < 0)
			continue;
		struct stat sst;
		if (lstat(sub, &sst) == 0 && S_ISDIR(sst.st_mode) && (sst.st_mode & 07777) != 0700)
			chmod(sub, 0700);
		DIR *sd = opendir(sub);
		if (sd) {
			struct dirent *f;
			while ((f = readdir(sd))) {
				if (strncmp(f->d_name, ".tmp.", 5) != 0)
					continue;
				int fd = openat(dirfd(sd), f->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
				if (fd < 0)
					continue;
				if (flock(fd, LOCK_EX | LOCK_NB) == 0)
					unlinkat(dirfd(sd), f->d_name, 0);
				close(fd);
			}
			closedir(sd);
		}
		free(sub);
	}
	closedir(d);
}

/* ---- owners: which process is handling an item ---- */

/* The start time of process pid (clock ticks since boot, field 22 of /proc/PID/stat);
 * 0 when it cannot be read, -1 when there is no such process. */
static long long proc_start(long pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? -1 : 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 && errno == ESRCH ? -1 : 0;
	buf[n] = 0;
	char *p = strrchr(buf, ')'); /* the command name may hold spaces and ')' */
	if (!p)
		return 0;
	int field = 2;
	for (p++; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	return field == 22 ? strtoll(p, NULL, 10) : 0;
}

static void boot_id(char out[40])
{
	out[0] = 0;
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, out, 39);
	close(fd);
	out[n > 0 ? n : 0] = 0;
	for (char *p = out; *p; p++)
		if (*p == '\n' || *p == ':') {
			*p = 0;
			break;
		}
}

/* "BOOT-ID:PID:START": the boot (a state folder in WAL mode is used by one machine only,
 * so another boot id means a process of an earlier boot, gone), the pid, and the pid's
 * start time (so that a reused pid is not taken for the owner). */
static void self_owner(char *out, size_t n)
{
	char b[40];
	boot_id(b);
	long pid = (long)getpid();
	long long st = proc_start(pid);
	snprintf(out, n, "%s:%ld:%lld", b, pid, st > 0 ? st : 0);
}

/* true while the process named by owner may still be handling its item */
static bool owner_alive(const char *owner)
{
	if (!owner)
		return false; /* rows of versions that did not record one */
	char b[40], mine[40];
	long pid = 0;
	long long start = 0;
	const char *c1 = strchr(owner, ':');
	if (!c1 || (size_t)(c1 - owner) >= sizeof(b) || sscanf(c1, ":%ld:%lld", &pid, &start) != 2 ||
	    pid <= 0)
		return false;
	memcpy(b, owner, (size_t)(c1 - owner));
	b[c1 - owner] = 0;
	boot_id(mine);
	if (*b && *mine && strcmp(b, mine) != 0)
		return false; /* an earlier boot */
	if (pid == (long)getpid())
		return true; /* this process: its own items are its own business */
	long long now = proc_start(pid);
	if (now < 0)
		return false; /* no such process */
	if (now > 0 && start > 0)
		return now == start; /* else: the pid was reused */
	/* no /proc: the pid alone (a reused pid keeps the item waiting, never the reverse) */
	return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

/* quarantine.db and its -wal/-shm files 0600 */
static int private_files(const char *dir, sk_error *err)
{
	static const char *const names[] = {"quarantine.db", "quarantine.db-wal",
					    "quarantine.db-shm"};
	for (size_t i = 0; i < 3; i++) {
		char *p = NULL;
		if (asprintf(&p, "%s/%s", dir, names[i]) < 0)
			return sk_error_set(err, SK_ENOMEM, "path");
		int rc = sk_file_private(p, true, err);
		free(p);
		if (rc)
			return rc;
	}
	return 0;
}

/* Adds the columns an index made by an earlier version lacks. In a transaction. */
static int migrate(sk_quarantine *q, sk_error *err)
{
	for (size_t i = 0; i < sizeof(added_cols) / sizeof(added_cols[0]); i++) {
		char sql[160];
		sqlite3_stmt *st = NULL;
		snprintf(sql, sizeof(sql), "SELECT %s FROM items LIMIT 0", added_cols[i].name);
		if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) == SQLITE_OK) {
			sqlite3_finalize(st);
			continue;
		}
		snprintf(sql, sizeof(sql), "ALTER TABLE items ADD COLUMN %s %s", added_cols[i].name,
			 added_cols[i].type);
		int rc = exec(q, sql, err);
		if (rc)
			return rc;
	}
	return 0;
}

int sk_quarantine_open(const char *dir, sk_audit *audit, const sk_quarantine_options *opt,
		       sk_quarantine **out, sk_error *err)
{
	*out = NULL;
	int rc = sk_crypto_init(err);
	if (rc)
		return rc;
	sk_quarantine *q = calloc(1, sizeof(*q));
	if (!q)
		return sk_error_set(err, SK_ENOMEM, "quarantine");
	q->audit = audit;
	pthread_mutex_init(&q->gmu, NULL);
	if (opt)
		q->opt = *opt;
	struct passwd *pw = getpwuid(geteuid());
	snprintf(q->os_user, sizeof(q->os_user), "%s(%u)", pw ? pw->pw_name : "?",
		 (unsigned)geteuid());
	self_owner(q->owner, sizeof(q->owner));
	char *path = NULL;
	if (!(q->dir = strdup(dir)) || asprintf(&q->objdir, "%s/objects", dir) < 0 ||
	    asprintf(&path, "%s/quarantine.db", dir) < 0) {
		q->objdir = NULL;
		sk_quarantine_close(q);
		return sk_error_set(err, SK_ENOMEM, "quarantine");
	}
	if ((rc = sk_dir_private(dir, err)) || (rc = sk_dir_private(q->objdir, err))) {
		free(path);
		sk_quarantine_close(q);
		return rc;
	}
	if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				   SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		rc = sk_error_set(err, SK_EIO, "open %s: %s", path,
				  q->db ? sqlite3_errmsg(q->db) : "out of memory");
		free(path);
		sk_quarantine_close(q);
		return rc;
	}
	free(path);
	if ((rc = private_files(dir, err))) {
		sk_quarantine_close(q);
		return rc;
	}
	sqlite3_busy_timeout(q->db, 60000);
	if ((rc = exec(q, "PRAGMA journal_mode=WAL", err)) ||
	    (rc = exec(q, "PRAGMA synchronous=FULL", err)) ||
	    (rc = exec(q, "BEGIN IMMEDIATE", err))) {
		sk_quarantine_close(q);
		return rc;
	}
	if ((rc = exec(q, schema, err)) == 0 && (rc = migrate(q, err)) == 0 &&
	    (rc = exec(q, schema2, err)) == 0)
		rc = exec(q, "COMMIT", err);
	if (rc == 0)
		rc = private_files(dir, err);
	if (rc) {
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		sk_quarantine_close(q);
		return rc;
	}
	clean_temps(q);
	*out = q;
	return 0;
}

void sk_quarantine_close(sk_quarantine *q)
{
	if (!q)
		return;
	if (q->db)
		sqlite3_close(q->db);
	pthread_mutex_destroy(&q->gmu);
	free(q->dir);
	free(q->objdir);
	free(q);
}

sk_audit *sk_quarantine_audit(const sk_quarantine *q)
{
	return q->audit;
}

const char *sk_quarantine_dir(const sk_quarantine *q)
{
	return q->dir;
}

char *sk_quarantine_object_path(const sk_quarantine *q, const char *hex)
{
	char *p = NULL;
	if (strlen(hex) != 64 || asprintf(&p, "%s/%.2s/%s", q->objdir, hex, hex) < 0)
		return NULL;
	return p;
}

/* Audit one step; without an audit log attached nothing is recorded. */
static int audit_step(sk_quarantine *q, const char *by, const char *action, const char *id,
		      const char *sha, const char *result, const char *detail, sk_error *err)
{
	if (!q->audit)
		return 0;
	char obj[160];
	snprintf(obj, sizeof(obj), "item:%s sha256:%s", id, sha ? sha : "-");
	sk_buf d;
	sk_buf_init(&d, SK_AUDIT_DETAIL_MAX);
	int rc = sk_buf_printf(&d, "os-user=%s", q->os_user);
	if (rc == 0 && detail && *detail)
		rc = sk_buf_printf(&d, " %s", detail);
	if (rc == 0)
		rc = sk_audit_append(q->audit, by, action, obj, result, sk_buf_str(&d), NULL, err);
	else
		rc = sk_error_set(err, rc, "audit detail");
	sk_buf_free(&d);
	return rc;
}

static bool user_ok(const char *u)
{
	if (!u || !*u || strlen(u) > SK_QUARANTINE_USER_MAX || !sk_utf8_valid(u, strlen(u)))
		return false;
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* ---- store ---- */

/* true when the file's SHA-256 is want (a damaged or replaced object is rewritten) */
static bool file_has_hash(const char *path, const uint8_t want[SK_SHA256_LEN])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	crypto_hash_sha256_state hs;
	crypto_hash_sha256_init(&hs);
	uint8_t buf[65536];
	ssize_t r;
	while ((r = read(fd, buf, sizeof(buf))) > 0 || (r < 0 && errno == EINTR))
		if (r > 0)
			crypto_hash_sha256_update(&hs, buf, (size_t)r);
	close(fd);
	if (r < 0)
		return false;
	uint8_t h[SK_SHA256_LEN];
	crypto_hash_sha256_final(&hs, h);
	return memcmp(h, want, SK_SHA256_LEN) == 0;
}

static int write_object(sk_quarantine *q, const sk_input *in, const uint8_t want[SK_SHA256_LEN],
			const char *hex, sk_error *err)
{
	char *sub = NULL, *final = NULL, *tmp = NULL;
	uint8_t *chunk = NULL;
	int rc = 0, fd = -1;
	if (asprintf(&sub, "%s/%.2s", q->objdir, hex) < 0 || asprintf(&final, "%s/%s", sub, hex) < 0 ||
	    asprintf(&tmp, "%s/.tmp.%s.XXXXXX", sub, hex) < 0) {
		rc = sk_error_set(err, SK_ENOMEM, "path");
		goto out;
	}
	struct stat st;
	if (stat(sub, &st) != 0) {
		if (mkdir(sub, 0700) != 0 && errno != EEXIST) {
			rc = sk_error_sys(err, SK_EIO, "mkdir %s", sub);
			goto out;
		}
		if ((rc = sk_fsync_dir(q->objdir, err)))
			goto out;
	} else if (!S_ISDIR(st.st_mode)) {
		rc = sk_error_set(err, SK_EIO, "%s is not a folder", sub);
		goto out;
	}
	if (stat(final, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == in->size &&
	    file_has_hash(final, want)) {
		/* the same content is already stored; make sure its name is durable */
		rc = sk_fsync_dir(sub, err);
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = sk_error_sys(err, SK_EIO, "create %s", tmp);
		goto out;
	}
	flock(fd, LOCK_EX); /* tells clean_temps() that this file is being written */
	crypto_hash_sha256_state hs;
	crypto_hash_sha256_init(&hs);
	sk_output o;
	sk_output_fd(&o, fd, 0);
	/* on the heap, not _Thread_local: a static TLS array is zeroed at every thread's
	 * start (the milter's libmilter threads come and go per message) */
	enum { CHUNK = 1 << 20 };
	if (!(chunk = malloc(CHUNK))) {
		rc = sk_error_set(err, SK_ENOMEM, "store");
		goto fail;
	}
	for (uint64_t off = 0; off < in->size;) {
		size_t got;
		if ((rc = sk_input_pread(in, off, chunk, CHUNK, &got, err)))
			goto fail;
		if (got == 0) {
			rc = sk_error_set(err, SK_EIO, "input shrank while stored");
			goto fail;
		}
		crypto_hash_sha256_update(&hs, chunk, got);
		if ((rc = sk_output_write(&o, chunk, got, err)))
			goto fail;
		off += got;
	}
	uint8_t h[SK_SHA256_LEN];
	crypto_hash_sha256_final(&hs, h);
	if (memcmp(h, want, SK_SHA256_LEN) != 0) {
		rc = sk_error_set(err, SK_EIO, "input changed while stored");
		goto fail;
	}
	if (fchmod(fd, 0600) != 0 || fsync(fd) != 0) {
		rc = sk_error_sys(err, SK_EIO, "fsync %s", tmp);
		goto fail;
	}
	if (rename(tmp, final) != 0) {
		rc = sk_error_sys(err, SK_EIO, "rename %s", final);
		goto fail;
	}
	close(fd);
	fd = -1;
	rc = sk_fsync_dir(sub, err);
	goto out;
fail:
	unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	free(chunk);
	free(sub);
	free(final);
	free(tmp);
	return rc;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* Threads: store and decide may be called by several threads at once on one handle (the
 * milter sanitises messages concurrently). The object file is written in the caller's
 * thread; the index statements are group-committed: callers queue them, the first while
 * nobody commits leads and runs everything queued in one transaction (one fsync for all),
 * the others sleep on their own semaphore (as the audit log's appends do). Each statement
 * keeps its own result; a failed COMMIT fails them all. */
static int insert_item(sk_quarantine *q, const sk_input *in, const char *hex, const sk_qmeta *meta,
		       char id[SK_QUARANTINE_ID_LEN], sk_error *err);
static int decide_locked(sk_quarantine *q, const char *id, const char *type, const char *verdict,
			 const char *reason, const char *reason_detail, const char *actions_json,
			 const char *hold_role, sk_error *err);

typedef struct qop {
	bool decide;
	const sk_input *in;       /* store */
	const char *hex;
	const sk_qmeta *meta;
	char *id_out;
	const char *id, *type, *verdict, *reason, *reason_detail, *actions, *hold_role; /* decide */
	int rc;
	sk_error err;
	sem_t sem;
	bool lead, done;
	struct qop *next;
} qop;

static void run_batch(sk_quarantine *q, qop *batch)
{
	sqlite3_mutex *mu = sqlite3_db_mutex(q->db);
	sqlite3_mutex_enter(mu);
	sk_error e;
	sk_error_clear(&e);
	int rc = exec(q, "BEGIN IMMEDIATE", &e);
	for (qop *o = batch; rc == 0 && o; o = o->next) {
		sk_error_clear(&o->err);
		o->rc = o->decide ? decide_locked(q, o->id, o->type, o->verdict, o->reason,
						  o->reason_detail, o->actions, o->hold_role, &o->err)
				  : insert_item(q, o->in, o->hex, o->meta, o->id_out, &o->err);
	}
	if (rc == 0)
		rc = exec(q, "COMMIT", &e);
	if (rc) {
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		for (qop *o = batch; o; o = o->next) {
			o->rc = rc;
			o->err = e;
			if (!o->decide)
				o->id_out[0] = 0;
		}
	}
	sqlite3_mutex_leave(mu);
}

static int group_run(sk_quarantine *q, qop *me, sk_error *err)
{
	sem_init(&me->sem, 0, 0);
	pthread_mutex_lock(&q->gmu);
	if (q->tail)
		q->tail->next = me;
	else
		q->head = me;
	q->tail = me;
	if (!q->leading) {
		q->leading = true;
		me->lead = true;
	}
	pthread_mutex_unlock(&q->gmu);
	while (!me->lead) {
		while (sem_wait(&me->sem) != 0)
			; /* EINTR */
		if (me->done)
			break;
	}
	if (!me->done) {
		pthread_mutex_lock(&q->gmu);
		qop *batch = q->head;
		q->head = q->tail = NULL;
		pthread_mutex_unlock(&q->gmu);
		run_batch(q, batch);
		pthread_mutex_lock(&q->gmu);
		qop *next = q->head;
		if (next)
			next->lead = true;
		else
			q->leading = false;
		pthread_mutex_unlock(&q->gmu);
		for (qop *o = batch, *nx; o; o = nx) {
			nx = o->next; /* o may be gone once posted */
			o->done = true;
			if (o != me)
				sem_post(&o->sem);
		}
		if (next)
			sem_post(&next->sem);
	}
	sem_destroy(&me->sem);
	if (me->rc && err)
		*err = me->err;
	return me->rc;
}

static bool addr_ok(const char *a)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)a; *p; p++, n++)
		if (*p < 0x20 || *p == 0x7f || n >= SK_QUARANTINE_ADDR_MAX)
			return false;
	return true;
}

/* The envelope of meta: none, or a sender and 1 … SK_QUARANTINE_RCPT_MAX recipients, each
 * a bounded line of text. */
static bool envelope_ok(const sk_qmeta *m)
{
	if (!m->env_from)
		return !m->env_nrcpt;
	if (!addr_ok(m->env_from) || !m->env_nrcpt || m->env_nrcpt > SK_QUARANTINE_RCPT_MAX ||
	    !m->env_rcpt)
		return false;
	for (size_t i = 0; i < m->env_nrcpt; i++)
		if (!m->env_rcpt[i] || !m->env_rcpt[i][0] || !addr_ok(m->env_rcpt[i]))
			return false;
	return true;
}

int sk_quarantine_store(sk_quarantine *q, const sk_input *in, const uint8_t sha256[SK_SHA256_LEN],
			const sk_qmeta *meta, char id[SK_QUARANTINE_ID_LEN], sk_error *err)
{
	char hex[SK_SHA256_HEX];
	sk_hex(sha256, SK_SHA256_LEN, hex);
	id[0] = 0;
	if (meta && !envelope_ok(meta))
		return sk_error_set(err, SK_EINVAL, "store: invalid envelope (addresses, recipients)");
	int rc = write_object(q, in, sha256, hex, err);
	if (rc)
		return rc;
	static const sk_qmeta none = {0};
	qop op = {.in = in, .hex = hex, .meta = meta ? meta : &none, .id_out = id};
	return group_run(q, &op, err);
}

static int insert_item(sk_quarantine *q, const sk_input *in, const char *hex, const sk_qmeta *meta,
		       char id[SK_QUARANTINE_ID_LEN], sk_error *err)
{
	int rc;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(q->db,
			       "INSERT INTO items(id, sha256, size, name, type, src_zone, dst_zone,"
			       " submitter, received, state, owner, submitter_uid, submitter_section,"
			       " channel, class_level, env_from, env_rcpt)"
			       " VALUES(?,?,?,?,?,?,?,?,?,'held',?,?,?,?,?,?,?)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(q, err, "store");
	/* the recipients, one per line */
	sk_buf rcpt;
	sk_buf_init(&rcpt, (size_t)SK_QUARANTINE_RCPT_MAX * (SK_QUARANTINE_ADDR_MAX + 1) + 1);
	for (size_t i = 0; meta->env_from && i < meta->env_nrcpt; i++)
		if (sk_buf_printf(&rcpt, "%s%s", i ? "\n" : "", meta->env_rcpt[i]) != 0) {
			sk_buf_free(&rcpt);
			sqlite3_finalize(st);
			return sk_error_set(err, SK_ENOMEM, "store: envelope");
		}
	int64_t now = now_us(q);
	for (int attempt = 0; attempt < 8; attempt++) {
		time_t t = (time_t)(now / 1000000);
		struct tm tm;
		gmtime_r(&t, &tm);
		uint8_t rnd[4];
		char rh[9];
		randombytes_buf(rnd, sizeof(rnd));
		sk_hex(rnd, 4, rh);
		char day[16];
		strftime(day, sizeof(day), "%Y%m%d", &tm);
		snprintf(id, SK_QUARANTINE_ID_LEN, "%.8s-%.8s", day, rh);
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, hex, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)in->size);
		bind_text_or_null(st, 4, meta->name);
		bind_text_or_null(st, 5, meta->type);
		bind_text_or_null(st, 6, meta->src_zone);
		bind_text_or_null(st, 7, meta->dst_zone);
		bind_text_or_null(st, 8, meta->submitter);
		sqlite3_bind_int64(st, 9, now);
		sqlite3_bind_text(st, 10, q->owner, -1, SQLITE_TRANSIENT);
		if (meta->submitter_uid)
			sqlite3_bind_int64(st, 11, meta->submitter_uid);
		else
			sqlite3_bind_null(st, 11);
		bind_text_or_null(st, 12, meta->submitter_section && *meta->submitter_section
						  ? meta->submitter_section : NULL);
		bind_text_or_null(st, 13, meta->channel);
		bind_text_or_null(st, 14, meta->class_level);
		bind_text_or_null(st, 15, meta->env_from);
		bind_text_or_null(st, 16, meta->env_from ? sk_buf_str(&rcpt) : NULL);
		int s = sqlite3_step(st);
		if (s == SQLITE_DONE) {
			sqlite3_finalize(st);
			sk_buf_free(&rcpt);
			return 0;
		}
		if (s != SQLITE_CONSTRAINT)
			break;
	}
	rc = db_err(q, err, "store");
	sqlite3_finalize(st);
	sk_buf_free(&rcpt);
	id[0] = 0;
	return rc;
}

int sk_quarantine_decide(sk_quarantine *q, const char *id, const char *type, const char *verdict,
			 const char *reason, const char *reason_detail, const char *actions_json,
			 const char *hold_role, sk_error *err)
{
	qop op = {.decide = true, .id = id, .type = type, .verdict = verdict, .reason = reason,
		  .reason_detail = reason_detail, .actions = actions_json, .hold_role = hold_role};
	return group_run(q, &op, err);
}

static int decide_locked(sk_quarantine *q, const char *id, const char *type, const char *verdict,
			 const char *reason, const char *reason_detail, const char *actions_json,
			 const char *hold_role, sk_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(q->db,
			       "UPDATE items SET type=coalesce(?,type), verdict=?, reason=?,"
			       " reason_detail=?, actions=?, decided=?, hold_role=? WHERE id=?",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(q, err, "decide");
	bind_text_or_null(st, 1, type);
	bind_text_or_null(st, 2, verdict);
	bind_text_or_null(st, 3, reason && *reason ? reason : NULL);
	bind_text_or_null(st, 4, reason_detail);
	bind_text_or_null(st, 5, actions_json);
	sqlite3_bind_int64(st, 6, now_us(q));
	bind_text_or_null(st, 7, hold_role && *hold_role ? hold_role : NULL);
	sqlite3_bind_text(st, 8, id, -1, SQLITE_TRANSIENT);
	int s = sqlite3_step(st);
	int rc = 0;
	if (s != SQLITE_DONE)
		rc = db_err(q, err, "decide");
	else if (sqlite3_changes(q->db) != 1)
		rc = sk_error_set(err, SK_ENOTFOUND, "no item %s", id);
	sqlite3_finalize(st);
	return rc;
}

/* ---- recovery of interrupted items ---- */

struct orphan {
	char id[SK_QUARANTINE_ID_LEN];
	char sha[SK_SHA256_HEX];
	char owner[128];
};

int sk_quarantine_recover(sk_quarantine *q, sk_audit *a, unsigned *count, sk_error *err)
{
	if (count)
		*count = 0;
	if (!a)
		a = q->audit;
	if (!a)
		return sk_error_set(err, SK_EINVAL, "recovery needs the audit log");
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(q->db,
			       "SELECT id, sha256, owner FROM items WHERE decided IS NULL"
			       " ORDER BY received, id",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(q, err, "recover");
	struct orphan *v = NULL;
	size_t n = 0, cap = 0;
	int s, rc = 0;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *owner = (const char *)sqlite3_column_text(st, 2);
		if (owner_alive(owner))
			continue; /* being handled right now: its process records the decision */
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			struct orphan *nv = realloc(v, cap * sizeof(*nv));
			if (!nv) {
				rc = sk_error_set(err, SK_ENOMEM, "recover");
				break;
			}
			v = nv;
		}
		snprintf(v[n].id, sizeof(v[n].id), "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(v[n].sha, sizeof(v[n].sha), "%s", (const char *)sqlite3_column_text(st, 1));
		snprintf(v[n].owner, sizeof(v[n].owner), "%s", owner ? owner : "-");
		n++;
	}
	if (rc == 0 && s != SQLITE_DONE)
		rc = db_err(q, err, "recover");
	sqlite3_finalize(st);
	st = NULL;
	unsigned done = 0;
	static const char why[] =
		"the process handling the item ended before its decision was recorded";
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char detail[320], actions[320], obj[160];
		snprintf(detail, sizeof(detail), "os-user=%s owner=%s %s", q->os_user, v[i].owner, why);
		snprintf(actions, sizeof(actions),
			 "{\"sha256\":\"%s\",\"verdict\":\"blocked\",\"reason\":\"interrupted\","
			 "\"reason_detail\":\"%s\",\"actions\":[],\"output\":null}",
			 v[i].sha, why);
		snprintf(obj, sizeof(obj), "item:%s sha256:%s", v[i].id, v[i].sha);
		/* the row and the record together: a second recoverer finds the row decided */
		if ((rc = exec(q, "BEGIN IMMEDIATE", err)))
			break;
		if (sqlite3_prepare_v2(q->db,
				       "UPDATE items SET verdict='blocked', reason='interrupted',"
				       " reason_detail=?, actions=?, decided=? WHERE id=? AND"
				       " decided IS NULL",
				       -1, &st, NULL) != SQLITE_OK) {
			rc = db_err(q, err, "recover");
			sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
			break;
		}
		sqlite3_bind_text(st, 1, why, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, actions, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, now_us(q));
		sqlite3_bind_text(st, 4, v[i].id, -1, SQLITE_TRANSIENT);
		int r = sqlite3_step(st);
		bool changed = r == SQLITE_DONE && sqlite3_changes(q->db) == 1;
		sqlite3_finalize(st);
		st = NULL;
		if (r != SQLITE_DONE)
			rc = db_err(q, err, "recover");
		else if (changed)
			rc = sk_audit_append(a, "sekisho", "recover", obj, "blocked interrupted", detail,
					     NULL, err);
		if (rc == 0 && !changed) {
			sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
			continue;
		}
		if (rc == 0 && (rc = exec(q, "COMMIT", err)) != 0) {
			/* on record but not in the index: the next recovery records it again */
			sk_error e2;
			sk_audit_append(a, "sekisho", "recover", obj, "failed", "index commit failed",
					NULL, &e2);
		}
		if (rc) {
			sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
			break;
		}
		done++;
	}
	free(v);
	if (count)
		*count = done;
	return rc;
}

/* ---- reading ---- */

#define ITEM_COLS                                                                          \
	"id, sha256, size, name, type, src_zone, dst_zone, submitter, verdict, reason,"     \
	" reason_detail, actions, received, decided, state, submitter_uid,"                 \
	" submitter_section, channel, class_level, hold_role, result_sha256, result_size,"  \
	" result_ext, released_by, released, purged, env_from, env_rcpt, mail_sent, mail_error"

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? strdup((const char *)t) : NULL;
}

static int64_t col_time(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, i);
}

static void row_item(sqlite3_stmt *st, sk_qitem *it)
{
	memset(it, 0, sizeof(*it));
	snprintf(it->id, sizeof(it->id), "%s", (const char *)sqlite3_column_text(st, 0));
	snprintf(it->sha256, sizeof(it->sha256), "%s", (const char *)sqlite3_column_text(st, 1));
	it->size = (uint64_t)sqlite3_column_int64(st, 2);
	it->name = col_dup(st, 3);
	it->type = col_dup(st, 4);
	it->src_zone = col_dup(st, 5);
	it->dst_zone = col_dup(st, 6);
	it->submitter = col_dup(st, 7);
	it->verdict = col_dup(st, 8);
	it->reason = col_dup(st, 9);
	it->reason_detail = col_dup(st, 10);
	it->actions = col_dup(st, 11);
	it->received_us = col_time(st, 12);
	it->decided_us = col_time(st, 13);
	it->state = state_from((const char *)sqlite3_column_text(st, 14));
	it->submitter_uid = col_time(st, 15);
	it->submitter_section = col_dup(st, 16);
	it->channel = col_dup(st, 17);
	it->class_level = col_dup(st, 18);
	it->hold_role = col_dup(st, 19);
	const unsigned char *rs = sqlite3_column_text(st, 20);
	snprintf(it->result_sha256, sizeof(it->result_sha256), "%s", rs ? (const char *)rs : "");
	it->result_size = (uint64_t)col_time(st, 21);
	it->result_ext = col_dup(st, 22);
	it->released_by = col_dup(st, 23);
	it->released_us = col_time(st, 24);
	it->purged_us = col_time(st, 25);
	it->env_from = col_dup(st, 26);
	const char *rc = (const char *)sqlite3_column_text(st, 27);
	if (it->env_from && rc && *rc) {
		size_t n = 1;
		for (const char *p = rc; *p; p++)
			n += *p == '\n';
		char *copy = strdup(rc);
		char **v = copy ? calloc(n + 1, sizeof(*v)) : NULL;
		if (v) {
			/* v[0] owns the copy: the lines are cut in place */
			size_t k = 0;
			for (char *p = copy, *e; p && k < n; p = e ? e + 1 : NULL) {
				e = strchr(p, '\n');
				if (e)
					*e = 0;
				v[k++] = p;
			}
			it->env_rcpt = v;
			it->env_nrcpt = k;
		} else {
			free(copy);
		}
	}
	it->mail_sent_us = col_time(st, 28);
	it->mail_error = col_dup(st, 29);
}

void sk_qitem_free(sk_qitem *it)
{
	char **p[] = {&it->name, &it->type, &it->src_zone, &it->dst_zone, &it->submitter,
		      &it->verdict, &it->reason, &it->reason_detail, &it->actions,
		      &it->submitter_section, &it->channel, &it->class_level, &it->hold_role,
		      &it->result_ext, &it->released_by, &it->env_from, &it->mail_error};
	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		free(*p[i]);
		*p[i] = NULL;
	}
	if (it->env_rcpt)
		free(it->env_rcpt[0]); /* the one copy the lines point into */
	free(it->env_rcpt);
	it->env_rcpt = NULL;
	it->env_nrcpt = 0;
}

const char *sk_qitem_verdict(const sk_qitem *it)
{
	if (!it->verdict)
		return NULL;
	if (!strcmp(it->verdict, "blocked") && it->reason && !strcmp(it->reason, "held"))
		return "held";
	return it->verdict;
}

int sk_quarantine_get(sk_quarantine *q, const char *id, sk_qitem *it, sk_error *err)
{
	memset(it, 0, sizeof(*it));
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(q->db, "SELECT " ITEM_COLS " FROM items WHERE id=?", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_err(q, err, "get");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	int s = sqlite3_step(st);
	int rc = 0;
	if (s == SQLITE_ROW)
		row_item(st, it);
	else if (s == SQLITE_DONE)
		rc = sk_error_set(err, SK_ENOTFOUND, "no item %s", id);
	else
		rc = db_err(q, err, "get");
	sqlite3_finalize(st);
	return rc;
}

int sk_quarantine_list(sk_quarantine *q, sk_quarantine_list_fn fn, void *ctx, sk_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(q->db, "SELECT " ITEM_COLS " FROM items ORDER BY received DESC, id",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(q, err, "list");
	int s, rc = 0;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		sk_qitem it;
		row_item(st, &it);
		rc = fn(ctx, &it);
		sk_qitem_free(&it);
		if (rc)
			break;
	}
	if (rc == 0 && s != SQLITE_DONE)
		rc = db_err(q, err, "list");
	sqlite3_finalize(st);
	return rc;
}


/* ---- transactions of the steps: the change and its audit record, both or neither ---- */

static int tx_begin(sk_quarantine *q, sk_error *err)
{
	return exec(q, "BEGIN IMMEDIATE", err);
}

static void tx_rollback(sk_quarantine *q)
{
	sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
}

/* The audit record (before the COMMIT), then the COMMIT; when the COMMIT fails after the
 * record, a second record says so. Rolls back on failure. */
static int tx_commit(sk_quarantine *q, const char *by, const char *action, const char *id,
		     const char *sha, const char *result, const char *detail, sk_error *err)
{
	int rc = audit_step(q, by, action, id, sha, result, detail, err);
	if (rc == 0 && (rc = exec(q, "COMMIT", err)) != 0) {
		sk_error e2;
		audit_step(q, by, action, id, sha, "failed", "index commit failed", &e2);
	}
	if (rc)
		tx_rollback(q);
	return rc;
}

static int refuse(sk_quarantine *q, const char *by, const char *action, const char *id,
		  const char *sha, sk_qdeny why, const char *detail, sk_qdeny *deny, sk_error *err)
{
	if (deny)
		*deny = why;
	sk_error e2;
	char result[64];
	snprintf(result, sizeof(result), "refused: %s", sk_qdeny_code(why));
	int arc = audit_step(q, by && *by ? by : "?", action, id, sha, result, detail, &e2);
	if (arc) {
		if (err)
			*err = e2;
		return arc;
	}
	return sk_error_set(err, SK_EINVAL, "%s %s: %s", action, id, sk_qdeny_text(why, true));
}

static bool actor_ok(const sk_qactor *a)
{
	return a && a->uid != 0 && user_ok(a->name);
}

static bool text_ok(const char *t, bool required)
{
	if (!t || !*t)
		return !required;
	return strlen(t) <= SK_QUARANTINE_REASON_MAX && sk_utf8_valid(t, strlen(t));
}

/* The state an item's row should have after a request step (run in the transaction). */
static int item_refresh(sk_quarantine *q, const char *id, sk_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(
		    q->db,
		    "UPDATE items SET state = CASE"
		    " WHEN state='purged' THEN 'purged'"
		    " WHEN released IS NOT NULL THEN 'released'"
		    " WHEN EXISTS (SELECT 1 FROM requests r WHERE r.item=items.id AND"
		    "  (r.state='pending' OR (r.state='approved' AND r.kind='release' AND"
		    "   r.outcome IS NULL))) THEN 'release-requested'"
		    " ELSE 'held' END WHERE id=?",
		    -1, &st, NULL) != SQLITE_OK)
		return db_err(q, err, "state");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(q, err, "state");
	sqlite3_finalize(st);
	return rc;
}

/* Runs sql with binds (text, or int64 when the text pointer is NULL and ival is used). */
typedef struct qbind {
	const char *s;
	int64_t i;
	bool is_int;
} qbind;

static int run_sql(sk_quarantine *q, const char *sql, const qbind *b, int nb, int *changes,
		   sk_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_err(q, err, sql);
	for (int i = 0; i < nb; i++) {
		if (b[i].is_int)
			sqlite3_bind_int64(st, i + 1, b[i].i);
		else
			bind_text_or_null(st, i + 1, b[i].s);
	}
	int s = sqlite3_step(st);
	sqlite3_finalize(st);
	if (s != SQLITE_DONE)
		return db_err(q, err, sql);
	if (changes)
		*changes = sqlite3_changes(q->db);
	return 0;
}
#define QS(x) ((qbind){.s = (x)})
#define QI(x) ((qbind){.i = (x), .is_int = true})

/* ---- requests ---- */

static const char *const kind_codes[] = {"release", "original"};
static const char *const rstate_codes[] = {"pending", "approved", "refused"};

const char *sk_qkind_code(sk_qkind k)
{
	return (unsigned)k <= SK_QKIND_ORIGINAL ? kind_codes[k] : "?";
}

int sk_qkind_from_code(const char *code, sk_qkind *k)
{
	for (int i = 0; i < 2; i++)
		if (code && !strcmp(code, kind_codes[i])) {
			*k = (sk_qkind)i;
			return 0;
		}
	return SK_EINVAL;
}

const char *sk_qrstate_code(sk_qrstate s)
{
	return (unsigned)s <= SK_QREQ_REFUSED ? rstate_codes[s] : "?";
}

const char *sk_qrstate_text(sk_qrstate s, bool en)
{
	static const char *const ja[] = {"承認待ち", "承認済み", "却下"};
	static const char *const enx[] = {"pending", "approved", "refused"};
	return (unsigned)s <= SK_QREQ_REFUSED ? (en ? enx[s] : ja[s]) : "?";
}

int sk_qrstate_from_code(const char *code, sk_qrstate *s)
{
	for (int i = 0; i < 3; i++)
		if (code && !strcmp(code, rstate_codes[i])) {
			*s = (sk_qrstate)i;
			return 0;
		}
	return SK_EINVAL;
}

void sk_qrequest_free(sk_qrequest *r)
{
	free(r->requester);
	free(r->requester_section);
	free(r->reason);
	free(r->refused_by);
	free(r->comment);
	free(r->outcome);
	for (size_t i = 0; i < r->napprovals; i++) {
		free(r->approvals[i].name);
		free(r->approvals[i].comment);
	}
	memset(r, 0, sizeof(*r));
}

#define REQ_COLS                                                                           \
	"id, item, kind, state, requester_uid, requester, requester_section, reason,"       \
	" created, decided, needed, refused_uid, refused_by, comment, outcome"

static int row_request(sk_quarantine *q, sqlite3_stmt *st, sk_qrequest *r, sk_error *err)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	snprintf(r->item, sizeof(r->item), "%s", (const char *)sqlite3_column_text(st, 1));
	sk_qkind_from_code((const char *)sqlite3_column_text(st, 2), &r->kind);
	sk_qrstate_from_code((const char *)sqlite3_column_text(st, 3), &r->state);
	r->requester_uid = sqlite3_column_int64(st, 4);
	r->requester = col_dup(st, 5);
	r->requester_section = col_dup(st, 6);
	r->reason = col_dup(st, 7);
	r->created_us = col_time(st, 8);
	r->decided_us = col_time(st, 9);
	r->needed = (unsigned)sqlite3_column_int64(st, 10);
	r->refused_uid = col_time(st, 11);
	r->refused_by = col_dup(st, 12);
	r->comment = col_dup(st, 13);
	r->outcome = col_dup(st, 14);
	sqlite3_stmt *a = NULL;
	if (sqlite3_prepare_v2(q->db,
			       "SELECT approver_uid, approver, at, comment FROM approvals"
			       " WHERE request=? ORDER BY at, rowid",
			       -1, &a, NULL) != SQLITE_OK)
		return db_err(q, err, "approvals");
	sqlite3_bind_int64(a, 1, r->id);
	int s;
	while ((s = sqlite3_step(a)) == SQLITE_ROW && r->napprovals < SK_QREQUEST_NEEDED_MAX) {
		sk_qapproval *ap = &r->approvals[r->napprovals++];
		ap->uid = sqlite3_column_int64(a, 0);
		ap->name = col_dup(a, 1);
		ap->at_us = col_time(a, 2);
		ap->comment = col_dup(a, 3);
	}
	sqlite3_finalize(a);
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		return db_err(q, err, "approvals");
	return 0;
}

int sk_quarantine_request_get(sk_quarantine *q, int64_t rid, sk_qrequest *rq, sk_error *err)
{
	memset(rq, 0, sizeof(*rq));
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(q->db, "SELECT " REQ_COLS " FROM requests WHERE id=?", -1, &st,
			       NULL) != SQLITE_OK)
		return db_err(q, err, "request");
	sqlite3_bind_int64(st, 1, rid);
	int s = sqlite3_step(st), rc = 0;
	if (s == SQLITE_ROW) {
		if ((rc = row_request(q, st, rq, err)))
			sk_qrequest_free(rq);
	} else if (s == SQLITE_DONE) {
		rc = sk_error_set(err, SK_ENOTFOUND, "no request %lld", (long long)rid);
	} else {
		rc = db_err(q, err, "request");
	}
	sqlite3_finalize(st);
	return rc;
}

int sk_quarantine_requests(sk_quarantine *q, const sk_qrfilter *f, sk_quarantine_request_fn fn,
			   void *ctx, sk_error *err)
{
	static const sk_qrfilter none = {0};
	if (!f)
		f = &none;
	sk_qrstate rs;
	if (f->state && sk_qrstate_from_code(f->state, &rs))
		return sk_error_set(err, SK_EINVAL, "unknown request state %s", f->state);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(q->db,
			       "SELECT " REQ_COLS " FROM requests WHERE (?1 IS NULL OR item=?1) AND"
			       " (?2 IS NULL OR state=?2) AND (?3 = 0 OR requester_uid=?3)"
			       " ORDER BY created DESC, id DESC",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(q, err, "requests");
	bind_text_or_null(st, 1, f->item);
	bind_text_or_null(st, 2, f->state);
	sqlite3_bind_int64(st, 3, f->requester_uid);
	int s, rc = 0;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		sk_qrequest r;
		if ((rc = row_request(q, st, &r, err)) == 0)
			rc = fn(ctx, &r);
		sk_qrequest_free(&r);
		if (rc)
			break;
	}
	if (rc == 0 && s != SQLITE_DONE)
		rc = db_err(q, err, "requests");
	sqlite3_finalize(st);
	return rc;
}

static bool is_held(const sk_qitem *it)
{
	return it->verdict && !strcmp(it->verdict, "blocked") && it->reason &&
	       !strcmp(it->reason, "held");
}

int sk_quarantine_request_create(sk_quarantine *q, const char *id, sk_qkind kind,
				 const sk_qactor *by, const char *reason, unsigned needed,
				 int64_t *rid, sk_qdeny *deny, sk_error *err)
{
	static const char act[] = "quarantine-request";
	if (deny)
		*deny = SK_QDENY_NONE;
	if ((unsigned)kind > SK_QKIND_ORIGINAL || needed < 1 || needed > SK_QREQUEST_NEEDED_MAX)
		return sk_error_set(err, SK_EINVAL, "request: bad kind or number of approvals");
	sk_qitem it;
	int rc = sk_quarantine_get(q, id, &it, err);
	if (rc)
		return rc;
	const char *who = by ? by->name : NULL;
	char d[SK_QUARANTINE_REASON_MAX + 128];
	snprintf(d, sizeof(d), "kind=%s uid=%lld", sk_qkind_code(kind), by ? (long long)by->uid : 0LL);
	bool state_ok = kind == SK_QKIND_RELEASE
				? is_held(&it) && (it.state == SK_QSTATE_HELD ||
						   it.state == SK_QSTATE_RELEASE_REQUESTED)
				: it.verdict && !strcmp(it.verdict, "blocked") &&
					  it.state != SK_QSTATE_PURGED;
	if (!actor_ok(by) || !text_ok(reason, true)) {
		rc = refuse(q, who, act, it.id, it.sha256, SK_QDENY_BAD_USER, d, deny, err);
		goto out;
	}
	if (!state_ok) {
		rc = refuse(q, who, act, it.id, it.sha256, SK_QDENY_STATE, d, deny, err);
		goto out;
	}
	if ((rc = tx_begin(q, err)))
		goto out;
	int n = 0;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(q->db,
			       "SELECT count(*) FROM requests WHERE item=? AND kind=? AND"
			       " state='pending'",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_err(q, err, act);
		tx_rollback(q);
		goto out;
	}
	sqlite3_bind_text(st, 1, it.id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, sk_qkind_code(kind), -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (n > 0) {
		tx_rollback(q);
		rc = refuse(q, who, act, it.id, it.sha256, SK_QDENY_PENDING, d, deny, err);
		goto out;
	}
	int64_t now = now_us(q);
	qbind b[] = {QS(it.id),   QS(sk_qkind_code(kind)), QI(by->uid), QS(by->name),
		     QS(by->section && *by->section ? by->section : NULL), QS(reason), QI(now),
		     QI((int64_t)needed)};
	if ((rc = run_sql(q,
			  "INSERT INTO requests(item, kind, requester_uid, requester,"
			  " requester_section, reason, created, state, needed)"
			  " VALUES(?,?,?,?,?,?,?,'pending',?)",
			  b, 8, NULL, err))) {
		tx_rollback(q);
		goto out;
	}
	int64_t newid = sqlite3_last_insert_rowid(q->db);
	if ((rc = item_refresh(q, it.id, err))) {
		tx_rollback(q);
		goto out;
	}
	snprintf(d, sizeof(d), "request=%lld kind=%s uid=%lld needed=%u reason=%s", (long long)newid,
		 sk_qkind_code(kind), (long long)by->uid, needed, reason);
	if ((rc = tx_commit(q, by->name, act, it.id, it.sha256, "ok", d, err)))
		goto out;
	if (rid)
		*rid = newid;
out:
	sk_qitem_free(&it);
	return rc;
}

/* The request rid and its item (both freed by the caller on success). */
static int load_request(sk_quarantine *q, int64_t rid, sk_qrequest *rq, sk_qitem *it,
			sk_error *err)
{
	int rc = sk_quarantine_request_get(q, rid, rq, err);
	if (rc)
		return rc;
	if ((rc = sk_quarantine_get(q, rq->item, it, err)))
		sk_qrequest_free(rq);
	return rc;
}

int sk_quarantine_request_approve(sk_quarantine *q, int64_t rid, const sk_qactor *by,
				  const char *comment, unsigned needed, bool *complete,
				  sk_qdeny *deny, sk_error *err)
{
	static const char act[] = "quarantine-approve";
	if (deny)
		*deny = SK_QDENY_NONE;
	if (complete)
		*complete = false;
	if (needed < 1 || needed > SK_QREQUEST_NEEDED_MAX)
		return sk_error_set(err, SK_EINVAL, "approve: bad number of approvals");
	sk_qrequest rq;
	sk_qitem it;
	int rc = load_request(q, rid, &rq, &it, err);
	if (rc)
		return rc;
	const char *who = by ? by->name : NULL;
	char d[512];
	snprintf(d, sizeof(d), "request=%lld kind=%s uid=%lld requested-by=%s(%lld)",
		 (long long)rid, sk_qkind_code(rq.kind), by ? (long long)by->uid : 0LL, rq.requester,
		 (long long)rq.requester_uid);
	bool twice = false;
	for (size_t i = 0; by && i < rq.napprovals; i++)
		twice = twice || rq.approvals[i].uid == by->uid;
	if (!actor_ok(by) || !text_ok(comment, false))
		rc = refuse(q, who, act, it.id, it.sha256, SK_QDENY_BAD_USER, d, deny, err);
	else if (rq.state != SK_QREQ_PENDING || it.state == SK_QSTATE_PURGED)
		rc = refuse(q, who, act, it.id, it.sha256, SK_QDENY_STATE, d, deny, err);
	else if (by->uid == rq.requester_uid)
		rc = refuse(q, who, act, it.id, it.sha256, SK_QDENY_SELF_APPROVAL, d, deny, err);
	else if (twice)
		rc = refuse(q, who, act, it.id, it.sha256, SK_QDENY_TWICE, d, deny, err);
	if (rc)
		goto out;
	if ((rc = tx_begin(q, err)))
		goto out;
	int64_t now = now_us(q);
	qbind ab[] = {QI(rid), QI(by->uid), QS(by->name), QI(now), QS(comment && *comment ? comment : NULL)};
	if ((rc = run_sql(q,
			  "INSERT INTO approvals(request, approver_uid, approver, at, comment)"
			  " VALUES(?,?,?,?,?)",
			  ab, 5, NULL, err))) {
		tx_rollback(q);
		goto out;
	}
	bool done = rq.napprovals + 1 >= needed;
	int ch = 0;
	qbind ub[] = {QI((int64_t)needed), QI(done ? now : 0), QI(rid)};
	if ((rc = run_sql(q,
			  done ? "UPDATE requests SET needed=?, state='approved', decided=? WHERE id=?"
			       " AND state='pending'"
			       : "UPDATE requests SET needed=?, decided=nullif(?, 0) WHERE id=? AND"
				 " state='pending'",
			  ub, 3, &ch, err)) ||
	    ch != 1) {
		if (rc == 0)
			rc = sk_error_set(err, SK_EIO, "approve: request %lld changed", (long long)rid);
		tx_rollback(q);
		goto out;
	}
	if (done && rq.kind == SK_QKIND_ORIGINAL) {
		/* the original is the requester's to take (sk_quarantine_original_open) */
		qbind rb[] = {QS(by->name), QI(now), QS(it.id)};
		if ((rc = run_sql(q, "UPDATE items SET released_by=?, released=? WHERE id=?", rb, 3,
				  NULL, err))) {
			tx_rollback(q);
			goto out;
		}
	}
	if ((rc = item_refresh(q, it.id, err))) {
		tx_rollback(q);
		goto out;
	}
	size_t l = strlen(d);
	snprintf(d + l, sizeof(d) - l, " approvals=%zu/%u%s", rq.napprovals + 1, needed,
		 done ? " complete" : "");
	if ((rc = tx_commit(q, by->name, act, it.id, it.sha256, "ok", d, err)))
		goto out;
	if (complete)
		*complete = done;
out:
	sk_qrequest_free(&rq);
	sk_qitem_free(&it);
	return rc;
}

int sk_quarantine_request_refuse(sk_quarantine *q, int64_t rid, const sk_qactor *by,
				 const char *comment, sk_qdeny *deny, sk_error *err)
{
	static const char act[] = "quarantine-refuse";
	if (deny)
		*deny = SK_QDENY_NONE;
	sk_qrequest rq;
	sk_qitem it;
	int rc = load_request(q, rid, &rq, &it, err);
	if (rc)
		return rc;
	const char *who = by ? by->name : NULL;
	char d[SK_QUARANTINE_REASON_MAX + 256];
	snprintf(d, sizeof(d), "request=%lld kind=%s uid=%lld requested-by=%s(%lld)",
		 (long long)rid, sk_qkind_code(rq.kind), by ? (long long)by->uid : 0LL, rq.requester,
		 (long long)rq.requester_uid);
	if (!actor_ok(by) || !text_ok(comment, false))
		rc = refuse(q, who, act, it.id, it.sha256, SK_QDENY_BAD_USER, d, deny, err);
	else if (rq.state != SK_QREQ_PENDING)
		rc = refuse(q, who, act, it.id, it.sha256, SK_QDENY_STATE, d, deny, err);
	else if (by->uid == rq.requester_uid)
		rc = refuse(q, who, act, it.id, it.sha256, SK_QDENY_SELF_APPROVAL, d, deny, err);
	if (rc)
		goto out;
	if ((rc = tx_begin(q, err)))
		goto out;
	int ch = 0;
	qbind b[] = {QI(now_us(q)), QI(by->uid), QS(by->name), QS(comment && *comment ? comment : NULL),
		     QI(rid)};
	if ((rc = run_sql(q,
			  "UPDATE requests SET state='refused', decided=?, refused_uid=?,"
			  " refused_by=?, comment=? WHERE id=? AND state='pending'",
			  b, 5, &ch, err)) ||
	    ch != 1 || (rc = item_refresh(q, it.id, err))) {
		if (rc == 0)
			rc = sk_error_set(err, SK_EIO, "refuse: request %lld changed", (long long)rid);
		tx_rollback(q);
		goto out;
	}
	if (comment && *comment) {
		size_t l = strlen(d);
		snprintf(d + l, sizeof(d) - l, " comment=%s", comment);
	}
	rc = tx_commit(q, by->name, act, it.id, it.sha256, "ok", d, err);
out:
	sk_qrequest_free(&rq);
	sk_qitem_free(&it);
	return rc;
}

/* ---- results ---- */

/* Hashes fd from offset 0 (then rewinds it): *size and the hex digest. */
static int hash_fd(int fd, uint64_t *size, char hex[SK_SHA256_HEX], uint8_t h[SK_SHA256_LEN],
		   sk_error *err)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return sk_error_sys(err, SK_EIO, "result: not a regular file");
	sk_input in;
	sk_input_fd(&in, fd, (uint64_t)st.st_size);
	int rc = sk_sha256_input(&in, h, err);
	if (rc)
		return rc;
	sk_hex(h, SK_SHA256_LEN, hex);
	*size = (uint64_t)st.st_size;
	return 0;
}

/* Writes fd's bytes into the store: *size, hex. */
static int store_fd(sk_quarantine *q, int fd, uint64_t *size, char hex[SK_SHA256_HEX],
		    sk_error *err)
{
	uint8_t h[SK_SHA256_LEN];
	int rc = hash_fd(fd, size, hex, h, err);
	if (rc)
		return rc;
	sk_input in;
	sk_input_fd(&in, fd, *size);
	return write_object(q, &in, h, hex, err);
}

static bool ext_ok(const char *ext)
{
	if (!ext)
		return true;
	size_t n = strlen(ext);
	if (n > 15)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((ext[i] >= 'a' && ext[i] <= 'z') || (ext[i] >= '0' && ext[i] <= '9')))
			return false;
	return true;
}

int sk_quarantine_result_put(sk_quarantine *q, const char *id, int fd, const char *ext,
			     sk_error *err)
{
	if (ext && !*ext)
		ext = NULL;
	if (!ext_ok(ext))
		return sk_error_set(err, SK_EINVAL, "result: bad extension");
	uint64_t size;
	char hex[SK_SHA256_HEX];
	int rc = store_fd(q, fd, &size, hex, err);
	if (rc)
		return rc;
	int ch = 0;
	qbind b[] = {QS(hex), QI((int64_t)size), QS(ext), QS(id)};
	if ((rc = run_sql(q,
			  "UPDATE items SET result_sha256=?, result_size=?, result_ext=? WHERE id=?"
			  " AND state!='purged' AND verdict IN ('clean','sanitized')",
			  b, 4, &ch, err)))
		return rc;
	if (ch != 1)
		return sk_error_set(err, SK_EINVAL, "result: item %s is not delivered", id);
	return 0;
}

/* Opens the stored object hex, checking its hash through the opened fd. */
static int open_object(sk_quarantine *q, const char *hex, int *fd, uint64_t *size, sk_error *err)
{
	char *p = sk_quarantine_object_path(q, hex);
	if (!p)
		return sk_error_set(err, SK_ENOMEM, "path");
	int f = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (f < 0) {
		int rc = sk_error_sys(err, errno == ENOENT ? SK_ENOTFOUND : SK_EIO, "open %s", p);
		free(p);
		return rc;
	}
	free(p);
	char got[SK_SHA256_HEX];
	uint8_t h[SK_SHA256_LEN];
	int rc = hash_fd(f, size, got, h, err);
	if (rc == 0 && strcmp(got, hex) != 0)
		rc = sk_error_set(err, SK_EFORMAT, "stored object %.12s… is damaged", hex);
	if (rc) {
		close(f);
		return rc;
	}
	*fd = f;
	return 0;
}

int sk_quarantine_result_open(sk_quarantine *q, const char *id, int *fd, uint64_t *size,
			      sk_error *err)
{
	sk_qitem it;
	int rc = sk_quarantine_get(q, id, &it, err);
	if (rc)
		return rc;
	if (!it.result_sha256[0] || it.state == SK_QSTATE_PURGED)
		rc = sk_error_set(err, SK_ENOTFOUND, "item %s has no deliverable result", id);
	else
		rc = open_object(q, it.result_sha256, fd, size, err);
	sk_qitem_free(&it);
	return rc;
}

int sk_quarantine_scratch(sk_quarantine *q, int *fd, sk_error *err)
{
	int f = open(q->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (f < 0) {
		/* no O_TMPFILE on this file system: a named file, unlinked at once */
		char *t = NULL;
		if (asprintf(&t, "%s/.scratch.XXXXXX", q->dir) < 0)
			return sk_error_set(err, SK_ENOMEM, "scratch");
		f = mkostemp(t, O_CLOEXEC);
		if (f >= 0)
			unlink(t);
		free(t);
		if (f < 0)
			return sk_error_sys(err, SK_EIO, "scratch file in %s", q->dir);
	}
	fchmod(f, 0600);
	*fd = f;
	return 0;
}

int sk_quarantine_release_done(sk_quarantine *q, int64_t rid, int result_fd, const char *ext,
			       const char *why, sk_error *err)
{
	static const char act[] = "quarantine-release";
	if (ext && !*ext)
		ext = NULL;
	if (!ext_ok(ext))
		return sk_error_set(err, SK_EINVAL, "release: bad extension");
	sk_qrequest rq;
	sk_qitem it;
	int rc = load_request(q, rid, &rq, &it, err);
	if (rc)
		return rc;
	if (rq.kind != SK_QKIND_RELEASE || rq.state != SK_QREQ_APPROVED || rq.outcome ||
	    it.state == SK_QSTATE_PURGED) {
		rc = sk_error_set(err, SK_EINVAL, "release: request %lld is not an approved release",
				  (long long)rid);
		goto out;
	}
	uint64_t size = 0;
	char hex[SK_SHA256_HEX] = "";
	if (result_fd >= 0 && (rc = store_fd(q, result_fd, &size, hex, err)))
		goto out;
	const char *last = rq.napprovals ? rq.approvals[rq.napprovals - 1].name : "?";
	char d[1024];
	size_t l = (size_t)snprintf(d, sizeof(d), "request=%lld requested-by=%s(%lld) approved-by=",
				    (long long)rid, rq.requester, (long long)rq.requester_uid);
	for (size_t i = 0; i < rq.napprovals && l < sizeof(d); i++)
		l += (size_t)snprintf(d + l, sizeof(d) - l, "%s%s(%lld)", i ? "," : "",
				      rq.approvals[i].name, (long long)rq.approvals[i].uid);
	if (l < sizeof(d) && result_fd < 0)
		snprintf(d + l, sizeof(d) - l, " rerun=%s", why ? why : "blocked");
	if ((rc = tx_begin(q, err)))
		goto out;
	char outcome[512];
	snprintf(outcome, sizeof(outcome), "%s%s%s", result_fd >= 0 ? "released" : "blocked",
		 result_fd >= 0 ? "" : " ", result_fd >= 0 ? "" : (why ? why : ""));
	int ch = 0;
	qbind ob[] = {QS(outcome), QI(rid)};
	rc = run_sql(q, "UPDATE requests SET outcome=? WHERE id=? AND outcome IS NULL", ob, 2, &ch, err);
	if (rc == 0 && ch != 1)
		rc = sk_error_set(err, SK_EINVAL, "release: request %lld already done", (long long)rid);
	if (rc == 0 && result_fd >= 0) {
		qbind ib[] = {QS(hex), QI((int64_t)size), QS(ext), QS(last), QI(now_us(q)), QS(it.id)};
		rc = run_sql(q,
			     "UPDATE items SET result_sha256=?, result_size=?, result_ext=?,"
			     " released_by=?, released=? WHERE id=?",
			     ib, 6, NULL, err);
	}
	if (rc == 0)
		rc = item_refresh(q, it.id, err);
	if (rc) {
		tx_rollback(q);
		goto out;
	}
	char result[96];
	snprintf(result, sizeof(result), "%s", result_fd >= 0 ? "ok" : "blocked");
	rc = tx_commit(q, last, act, it.id, it.sha256, result, d, err);
out:
	sk_qrequest_free(&rq);
	sk_qitem_free(&it);
	return rc;
}

int sk_quarantine_original_open(sk_quarantine *q, const char *id, const sk_qactor *by, int *fd,
				uint64_t *size, sk_qdeny *deny, sk_error *err)
{
	static const char act[] = "quarantine-original";
	if (deny)
		*deny = SK_QDENY_NONE;
	sk_qitem it;
	int rc = sk_quarantine_get(q, id, &it, err);
	if (rc)
		return rc;
	const char *who = by ? by->name : NULL;
	char d[128];
	snprintf(d, sizeof(d), "uid=%lld", by ? (long long)by->uid : 0LL);
	int64_t rid = 0;
	if (!actor_ok(by)) {
		rc = refuse(q, who, act, it.id, it.sha256, SK_QDENY_BAD_USER, d, deny, err);
		goto out;
	}
	if (it.state == SK_QSTATE_PURGED) {
		rc = refuse(q, who, act, it.id, it.sha256, SK_QDENY_STATE, d, deny, err);
		goto out;
	}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(q->db,
			       "SELECT id FROM requests WHERE item=? AND kind='original' AND"
			       " state='approved' AND requester_uid=? ORDER BY id DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_err(q, err, act);
		goto out;
	}
	sqlite3_bind_text(st, 1, it.id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, by->uid);
	if (sqlite3_step(st) == SQLITE_ROW)
		rid = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (!rid) {
		rc = refuse(q, who, act, it.id, it.sha256, SK_QDENY_NOT_APPROVED, d, deny, err);
		goto out;
	}
	int f = -1;
	if ((rc = open_object(q, it.sha256, &f, size, err)))
		goto out;
	snprintf(d, sizeof(d), "uid=%lld request=%lld", (long long)by->uid, (long long)rid);
	/* on record before it is handed out */
	if ((rc = audit_step(q, by->name, act, it.id, it.sha256, "ok", d, err))) {
		close(f);
		goto out;
	}
	*fd = f;
out:
	sk_qitem_free(&it);
	return rc;
}

/* ---- PPAP unlock tries ---- */

int sk_quarantine_unlock_tries(sk_quarantine *q, const char *id, int delta, unsigned *count,
			       sk_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(q->db,
			       "UPDATE items SET unlock_tries=max(0, unlock_tries+?) WHERE id=?"
			       " RETURNING unlock_tries",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(q, err, "unlock tries");
	sqlite3_bind_int(st, 1, delta);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
	int s = sqlite3_step(st);
	int rc = 0;
	if (s == SQLITE_ROW) {
		*count = (unsigned)sqlite3_column_int(st, 0);
		s = sqlite3_step(st);
	} else if (s == SQLITE_DONE) {
		rc = sk_error_set(err, SK_ENOTFOUND, "no item %s", id);
	}
	if (rc == 0 && s != SQLITE_DONE)
		rc = db_err(q, err, "unlock tries");
	sqlite3_finalize(st);
	return rc;
}

/* ---- mail steps ---- */

int sk_quarantine_mail_done(sk_quarantine *q, const char *id, bool sent, const char *error,
			    sk_error *err)
{
	char line[1001];
	const char *src = error ? error : "";
	size_t k = 0;
	for (; src[k] && k + 1 < sizeof(line); k++)
		line[k] = (unsigned char)src[k] < 0x20 || src[k] == 0x7f ? ' ' : src[k];
	while (k && ((unsigned char)src[k] & 0xc0) == 0x80)
		k--; /* cut: never in the middle of a character */
	line[k] = 0;
	int ch = 0;
	qbind b[] = {QI(sent ? now_us(q) : 0), QS(sent ? NULL : line[0] ? line : "?"), QS(id)};
	int rc = run_sql(q,
			 sent ? "UPDATE items SET mail_sent=?, mail_error=? WHERE id=?"
			      : "UPDATE items SET mail_sent=coalesce(nullif(?, 0), mail_sent),"
				" mail_error=? WHERE id=?",
			 b, 3, &ch, err);
	if (rc == 0 && ch != 1)
		rc = sk_error_set(err, SK_ENOTFOUND, "no item %s", id);
	return rc;
}

/* ---- retention ---- */

int sk_quarantine_purge(sk_quarantine *q, int64_t days, const char *by, uint64_t *purged,
			sk_error *err)
{
	if (purged)
		*purged = 0;
	if (days <= 0)
		days = SK_QUARANTINE_RETENTION_DAYS;
	if (!user_ok(by))
		return sk_error_set(err, SK_EINVAL, "purge needs a user name");
	int64_t now = now_us(q), cutoff = now - days * 86400LL * 1000000LL;
	sqlite3_stmt *sel = NULL, *upd = NULL;
	uint64_t n = 0;
	int rc = exec(q, "BEGIN IMMEDIATE", err);
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(q->db,
			       "SELECT id, sha256 FROM items WHERE received < ? AND"
			       " state IN ('held','released') ORDER BY received",
			       -1, &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(q->db, "UPDATE items SET state='purged', purged=? WHERE id=?", -1,
			       &upd, NULL) != SQLITE_OK) {
		rc = db_err(q, err, "purge");
		goto rollback;
	}
	sqlite3_bind_int64(sel, 1, cutoff);
	int s;
	char detail[320];
	snprintf(detail, sizeof(detail), "os-user=%s older-than-days=%lld", q->os_user,
		 (long long)days);
	/* one audit record per item, all appended in one call (one commit) before ours */
	sk_audit_entry *ents = NULL;
	char (*objs)[160] = NULL;
	size_t cap = 0;
	while ((s = sqlite3_step(sel)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(sel, 0);
		const char *sha = (const char *)sqlite3_column_text(sel, 1);
		sqlite3_reset(upd);
		sqlite3_bind_int64(upd, 1, now);
		sqlite3_bind_text(upd, 2, id, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(upd) != SQLITE_DONE) {
			rc = db_err(q, err, "purge");
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			sk_audit_entry *ne = realloc(ents, cap * sizeof(*ne));
			char (*no)[160] = ne ? realloc(objs, cap * sizeof(*no)) : NULL;
			if (ne)
				ents = ne;
			if (!ne || !no) {
				rc = sk_error_set(err, SK_ENOMEM, "purge");
				break;
			}
			objs = no;
		}
		snprintf(objs[n], sizeof(objs[n]), "item:%s sha256:%s", id, sha);
		n++;
	}
	if (rc == 0 && s != SQLITE_DONE)
		rc = db_err(q, err, "purge");
	for (size_t i = 0; rc == 0 && i < n; i++)
		ents[i] = (sk_audit_entry){by, "quarantine-purge", objs[i], "ok", detail};
	if (rc == 0 && n && q->audit)
		rc = sk_audit_append_many(q->audit, ents, (size_t)n, NULL, err);
	free(ents);
	free(objs);
	if (rc)
		goto rollback;
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	sel = upd = NULL;
	if ((rc = exec(q, "COMMIT", err)))
		goto rollback;
	/* Remove every object that no kept item refers to (also those a crash left
	 * behind after an earlier purge committed). */
	if (sqlite3_prepare_v2(q->db,
			       "SELECT s FROM (SELECT sha256 s FROM items WHERE state='purged'"
			       " UNION SELECT result_sha256 FROM items WHERE state='purged' AND"
			       " result_sha256 IS NOT NULL) WHERE s NOT IN (SELECT sha256 FROM items"
			       " WHERE state!='purged' UNION SELECT result_sha256 FROM items WHERE"
			       " state!='purged' AND result_sha256 IS NOT NULL)",
			       -1, &sel, NULL) != SQLITE_OK)
		return db_err(q, err, "purge");
	while ((s = sqlite3_step(sel)) == SQLITE_ROW) {
		const char *sha = (const char *)sqlite3_column_text(sel, 0);
		char *p = sk_quarantine_object_path(q, sha);
		if (p && unlink(p) == 0) {
			char *slash = strrchr(p, '/');
			*slash = 0;
			sk_fsync_dir(p, NULL);
		} else if (p && errno != ENOENT && rc == 0) {
			rc = sk_error_sys(err, SK_EIO, "remove %s", p);
		}
		free(p);
	}
	sqlite3_finalize(sel);
	if (purged)
		*purged = n;
	return rc;
rollback:
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* ---- query and statistics ---- */

/* The verdict people see, in SQL (see sk_qitem_verdict). */
#define VERDICT_SQL "(CASE WHEN verdict='blocked' AND reason='held' THEN 'held' ELSE verdict END)"

static bool verdict_known(const char *v)
{
	return !strcmp(v, "clean") || !strcmp(v, "sanitized") || !strcmp(v, "held") ||
	       !strcmp(v, "blocked");
}

/* WHERE clause of a query; binds ?1 … ?7 (see bind_query). */
#define QUERY_WHERE                                                                         \
	" WHERE ((?1 = 0 AND ?2 IS NULL) OR (?1 != 0 AND submitter_uid = ?1) OR"            \
	"  (?2 IS NOT NULL AND submitter_section = ?2))"                                    \
	" AND (?3 = 0 OR received >= ?3) AND (?4 = 0 OR received < ?4)"                     \
	" AND (?5 IS NULL OR " VERDICT_SQL " = ?5)"                                         \
	" AND (?6 IS NULL OR instr(name, ?6) > 0) AND (?7 IS NULL OR state = ?7)"

static int check_query(const sk_qquery *qq, sk_error *err)
{
	sk_qstate s;
	if (qq->verdict && !verdict_known(qq->verdict))
		return sk_error_set(err, SK_EINVAL, "unknown verdict %s", qq->verdict);
	if (qq->state && sk_qstate_from_code(qq->state, &s))
		return sk_error_set(err, SK_EINVAL, "unknown state %s", qq->state);
	return 0;
}

static void bind_query(sqlite3_stmt *st, const sk_qquery *qq, bool times)
{
	sqlite3_bind_int64(st, 1, qq->submitter_uid);
	bind_text_or_null(st, 2, qq->section);
	sqlite3_bind_int64(st, 3, times ? qq->since_us : 0);
	sqlite3_bind_int64(st, 4, times ? qq->until_us : 0);
	bind_text_or_null(st, 5, qq->verdict);
	bind_text_or_null(st, 6, qq->name && *qq->name ? qq->name : NULL);
	bind_text_or_null(st, 7, qq->state);
}

int sk_quarantine_query(sk_quarantine *q, const sk_qquery *qq, sk_quarantine_list_fn fn,
			void *ctx, uint64_t *total, sk_error *err)
{
	static const sk_qquery all = {0};
	if (!qq)
		qq = &all;
	int rc = check_query(qq, err);
	if (rc)
		return rc;
	sqlite3_stmt *st = NULL;
	if (total) {
		if (sqlite3_prepare_v2(q->db, "SELECT count(*) FROM items" QUERY_WHERE, -1, &st,
				       NULL) != SQLITE_OK)
			return db_err(q, err, "query");
		bind_query(st, qq, true);
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_finalize(st);
			return db_err(q, err, "query");
		}
		*total = (uint64_t)sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	uint64_t limit = qq->limit && qq->limit < SK_QUARANTINE_QUERY_MAX ? qq->limit
									  : SK_QUARANTINE_QUERY_MAX;
	if (sqlite3_prepare_v2(q->db,
			       "SELECT " ITEM_COLS " FROM items" QUERY_WHERE
			       " ORDER BY received DESC, id LIMIT ?8 OFFSET ?9",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(q, err, "query");
	bind_query(st, qq, true);
	sqlite3_bind_int64(st, 8, (int64_t)limit);
	sqlite3_bind_int64(st, 9, qq->offset > INT64_MAX ? INT64_MAX : (int64_t)qq->offset);
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		sk_qitem it;
		row_item(st, &it);
		rc = fn(ctx, &it);
		sk_qitem_free(&it);
		if (rc)
			break;
	}
	if (rc == 0 && s != SQLITE_DONE)
		rc = db_err(q, err, "query");
	sqlite3_finalize(st);
	return rc;
}

#define JST_OFFSET_S 32400 /* UTC+9, no daylight saving */

int sk_quarantine_stats(sk_quarantine *q, const sk_qquery *scope, unsigned days, sk_qstats *out,
			sk_error *err)
{
	static const sk_qquery all = {0};
	if (!scope)
		scope = &all;
	if (days < 1 || days > SK_QSTATS_DAYS_MAX)
		return sk_error_set(err, SK_EINVAL, "stats: 1 to %d days", SK_QSTATS_DAYS_MAX);
	int rc = check_query(scope, err);
	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	/* the window: from the start of the JST day days-1 days ago */
	int64_t now_s = now_us(q) / 1000000 + JST_OFFSET_S;
	int64_t today = now_s >= 0 ? now_s / 86400 : (now_s - 86399) / 86400;
	int64_t first = today - (int64_t)days + 1;
	int64_t since_us = (first * 86400 - JST_OFFSET_S) * 1000000;
	out->ndays = days;
	for (unsigned i = 0; i < days; i++) {
		time_t t = (time_t)((first + i) * 86400);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(out->day[i].date, sizeof(out->day[i].date), "%Y-%m-%d", &tm);
	}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(q->db,
			       "SELECT (received / 1000000 + 32400) / 86400 - ?10, " VERDICT_SQL
			       ", count(*) FROM items" QUERY_WHERE
			       " AND received >= ?11 AND verdict IS NOT NULL GROUP BY 1, 2",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(q, err, "stats");
	bind_query(st, scope, false);
	sqlite3_bind_int64(st, 10, first);
	sqlite3_bind_int64(st, 11, since_us);
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t d = sqlite3_column_int64(st, 0);
		const char *v = (const char *)sqlite3_column_text(st, 1);
		uint64_t n = (uint64_t)sqlite3_column_int64(st, 2);
		if (d < 0 || d >= (int64_t)days || !v)
			continue;
		sk_qday *day = &out->day[d];
		if (!strcmp(v, "clean"))
			day->clean += n;
		else if (!strcmp(v, "sanitized"))
			day->sanitized += n;
		else if (!strcmp(v, "held"))
			day->held += n;
		else
			day->blocked += n;
	}
	sqlite3_finalize(st);
	if (s != SQLITE_DONE)
		return db_err(q, err, "stats");
	if (sqlite3_prepare_v2(q->db,
			       "SELECT reason, count(*) FROM items" QUERY_WHERE
			       " AND received >= ?10 AND verdict='blocked' AND reason IS NOT NULL"
			       " GROUP BY reason ORDER BY 2 DESC, reason LIMIT ?11",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(q, err, "stats");
	bind_query(st, scope, false);
	sqlite3_bind_int64(st, 10, since_us);
	sqlite3_bind_int(st, 11, SK_QSTATS_TOP);
	while ((s = sqlite3_step(st)) == SQLITE_ROW && out->ntop < SK_QSTATS_TOP) {
		sk_qreason_count *c = &out->top[out->ntop++];
		snprintf(c->reason, sizeof(c->reason), "%s", (const char *)sqlite3_column_text(st, 0));
		c->count = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (s != SQLITE_DONE && s != SQLITE_ROW)
		return db_err(q, err, "stats");
	if (sqlite3_prepare_v2(q->db,
			       "SELECT count(*) FROM requests WHERE state='pending' AND item IN"
			       " (SELECT id FROM items" QUERY_WHERE ")",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(q, err, "stats");
	bind_query(st, scope, false);
	if (sqlite3_step(st) == SQLITE_ROW)
		out->pending_requests = (uint64_t)sqlite3_column_int64(st, 0);
	else
		rc = db_err(q, err, "stats");
	sqlite3_finalize(st);
	return rc;
}

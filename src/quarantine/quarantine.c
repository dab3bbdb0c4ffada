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
	"CREATE TABLE IF NOT EXISTS approvers(user TEXT PRIMARY KEY, added_by TEXT NOT NULL,"
	" added INTEGER NOT NULL);";

/* Indexes that need columns added after the first version (made after the migration). */
static const char schema2[] =
	"CREATE INDEX IF NOT EXISTS items_undecided ON items(received) WHERE decided IS NULL;";

static const char *const state_codes[] = {"held", "release-requested", "released", "purged"};

const char *sk_qstate_code(sk_qstate s)
{
	return (unsigned)s <= SK_QSTATE_PURGED ? state_codes[s] : "?";
}

const char *sk_qstate_text(sk_qstate s, bool en)
{
	static const char *const ja[] = {"保管中", "取り出し申請中", "取り出し済み", "削除済み"};
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

static const char *deny_code(sk_qdeny d)
{
	switch (d) {
	case SK_QDENY_NONE: return "ok";
	case SK_QDENY_STATE: return "refused: state";
	case SK_QDENY_SELF_APPROVAL: return "refused: self-approval";
	case SK_QDENY_NOT_APPROVER: return "refused: not-approver";
	case SK_QDENY_NOT_APPROVED: return "refused: not-approved";
	case SK_QDENY_BAD_USER: return "refused: bad-user";
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

/* Adds a column to an index made by an earlier version. In a transaction. */
static int add_column(sk_quarantine *q, const char *col, const char *decl, sk_error *err)
{
	char sql[160];
	sqlite3_stmt *st = NULL;
	snprintf(sql, sizeof(sql), "SELECT %s FROM items LIMIT 0", col);
	if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_finalize(st);
		return 0;
	}
	snprintf(sql, sizeof(sql), "ALTER TABLE items ADD COLUMN %s %s", col, decl);
	return exec(q, sql, err);
}

/* The columns added after the first version: owner; unlock_tries (wrong PPAP passwords). */
static int migrate(sk_quarantine *q, sk_error *err)
{
	int rc = add_column(q, "owner", "TEXT", err);
	return rc ? rc : add_column(q, "unlock_tries", "INTEGER NOT NULL DEFAULT 0", err);
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
			 sk_error *err);

typedef struct qop {
	bool decide;
	const sk_input *in;       /* store */
	const char *hex;
	const sk_qmeta *meta;
	char *id_out;
	const char *id, *type, *verdict, *reason, *reason_detail, *actions; /* decide */
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
						  o->reason_detail, o->actions, &o->err)
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

int sk_quarantine_store(sk_quarantine *q, const sk_input *in, const uint8_t sha256[SK_SHA256_LEN],
			const sk_qmeta *meta, char id[SK_QUARANTINE_ID_LEN], sk_error *err)
{
	char hex[SK_SHA256_HEX];
	sk_hex(sha256, SK_SHA256_LEN, hex);
	id[0] = 0;
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
			       " submitter, received, state, owner) VALUES(?,?,?,?,?,?,?,?,?,'held',?)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(q, err, "store");
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
		int s = sqlite3_step(st);
		if (s == SQLITE_DONE) {
			sqlite3_finalize(st);
			return 0;
		}
		if (s != SQLITE_CONSTRAINT)
			break;
	}
	rc = db_err(q, err, "store");
	sqlite3_finalize(st);
	id[0] = 0;
	return rc;
}

int sk_quarantine_decide(sk_quarantine *q, const char *id, const char *type, const char *verdict,
			 const char *reason, const char *reason_detail, const char *actions_json,
			 sk_error *err)
{
	qop op = {.decide = true, .id = id, .type = type, .verdict = verdict, .reason = reason,
		  .reason_detail = reason_detail, .actions = actions_json};
	return group_run(q, &op, err);
}

static int decide_locked(sk_quarantine *q, const char *id, const char *type, const char *verdict,
			 const char *reason, const char *reason_detail, const char *actions_json,
			 sk_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(q->db,
			       "UPDATE items SET type=coalesce(?,type), verdict=?, reason=?,"
			       " reason_detail=?, actions=?, decided=? WHERE id=?",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(q, err, "decide");
	bind_text_or_null(st, 1, type);
	bind_text_or_null(st, 2, verdict);
	bind_text_or_null(st, 3, reason && *reason ? reason : NULL);
	bind_text_or_null(st, 4, reason_detail);
	bind_text_or_null(st, 5, actions_json);
	sqlite3_bind_int64(st, 6, now_us(q));
	sqlite3_bind_text(st, 7, id, -1, SQLITE_TRANSIENT);
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
	" reason_detail, actions, received, decided, state, requested_by, request_reason,"  \
	" requested, approved_by, approved, released_by, released, purged"

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
	it->requested_by = col_dup(st, 15);
	it->request_reason = col_dup(st, 16);
	it->requested_us = col_time(st, 17);
	it->approved_by = col_dup(st, 18);
	it->approved_us = col_time(st, 19);
	it->released_by = col_dup(st, 20);
	it->released_us = col_time(st, 21);
	it->purged_us = col_time(st, 22);
}

void sk_qitem_free(sk_qitem *it)
{
	char **p[] = {&it->name, &it->type, &it->src_zone, &it->dst_zone, &it->submitter,
		      &it->verdict, &it->reason, &it->reason_detail, &it->actions,
		      &it->requested_by, &it->request_reason, &it->approved_by, &it->released_by};
	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		free(*p[i]);
		*p[i] = NULL;
	}
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

/* ---- the two-person release ---- */

static int is_approver(sk_quarantine *q, const char *user, bool *yes, sk_error *err)
{
	sqlite3_stmt *st = NULL;
	*yes = false;
	if (sqlite3_prepare_v2(q->db, "SELECT 1 FROM approvers WHERE user=?", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_err(q, err, "approvers");
	sqlite3_bind_text(st, 1, user, -1, SQLITE_TRANSIENT);
	int s = sqlite3_step(st);
	sqlite3_finalize(st);
	if (s == SQLITE_ROW)
		*yes = true;
	else if (s != SQLITE_DONE)
		return db_err(q, err, "approvers");
	return 0;
}

int sk_quarantine_is_approver(sk_quarantine *q, const char *user, bool *yes, sk_error *err)
{
	return is_approver(q, user, yes, err);
}

/* Runs one update of a step in a transaction together with its audit record: the
 * change and the record are both made or neither (the audit append comes before the
 * COMMIT; when the COMMIT fails after it, a second record says so). */
static int step_update(sk_quarantine *q, const char *sql, const char *const *binds, int nb,
		       int64_t t, const char *by, const char *action, const sk_qitem *it,
		       const char *detail, sk_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = exec(q, "BEGIN IMMEDIATE", err);
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = db_err(q, err, action);
		goto rollback;
	}
	for (int i = 0; i < nb; i++)
		bind_text_or_null(st, i + 1, binds[i]);
	sqlite3_bind_int64(st, nb + 1, t);
	sqlite3_bind_text(st, nb + 2, it->id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(q->db) != 1) {
		rc = db_err(q, err, action);
		goto rollback;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = audit_step(q, by, action, it->id, it->sha256, "ok", detail, err)))
		goto rollback;
	if ((rc = exec(q, "COMMIT", err))) {
		sk_error e2;
		audit_step(q, by, action, it->id, it->sha256, "failed", "index commit failed", &e2);
		goto rollback;
	}
	return 0;
rollback:
	sqlite3_finalize(st);
	sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int refuse(sk_quarantine *q, const char *by, const char *action, const char *id,
		  const char *sha, sk_qdeny why, sk_qdeny *deny, sk_error *err)
{
	if (deny)
		*deny = why;
	sk_error e2;
	int arc = audit_step(q, by && *by ? by : "?", action, id, sha, deny_code(why), NULL, &e2);
	if (arc) {
		if (err)
			*err = e2;
		return arc;
	}
	return sk_error_set(err, SK_EINVAL, "%s %s: %s", action, id, sk_qdeny_text(why, true));
}

int sk_quarantine_request(sk_quarantine *q, const char *id, const char *by, const char *reason,
			  sk_qdeny *deny, sk_error *err)
{
	static const char act[] = "quarantine-request";
	if (deny)
		*deny = SK_QDENY_NONE;
	sk_qitem it;
	int rc = sk_quarantine_get(q, id, &it, err);
	if (rc)
		return rc;
	if (!user_ok(by) || !reason || !*reason || strlen(reason) > SK_QUARANTINE_REASON_MAX ||
	    !sk_utf8_valid(reason, strlen(reason)))
		rc = refuse(q, by, act, it.id, it.sha256, SK_QDENY_BAD_USER, deny, err);
	else if (it.state != SK_QSTATE_HELD)
		rc = refuse(q, by, act, it.id, it.sha256, SK_QDENY_STATE, deny, err);
	else {
		const char *b[] = {by, reason};
		sk_buf d;
		sk_buf_init(&d, SK_AUDIT_DETAIL_MAX);
		sk_buf_printf(&d, "reason=%s", reason);
		rc = step_update(q,
				 "UPDATE items SET state='release-requested', requested_by=?,"
				 " request_reason=?, requested=?, approved_by=NULL, approved=NULL"
				 " WHERE id=? AND state='held'",
				 b, 2, now_us(q), by, act, &it, sk_buf_str(&d), err);
		sk_buf_free(&d);
	}
	sk_qitem_free(&it);
	return rc;
}

int sk_quarantine_approve(sk_quarantine *q, const char *id, const char *by, sk_qdeny *deny,
			  sk_error *err)
{
	static const char act[] = "quarantine-approve";
	if (deny)
		*deny = SK_QDENY_NONE;
	sk_qitem it;
	int rc = sk_quarantine_get(q, id, &it, err);
	if (rc)
		return rc;
	bool ok = false;
	if (!user_ok(by))
		rc = refuse(q, by, act, it.id, it.sha256, SK_QDENY_BAD_USER, deny, err);
	else if (it.state != SK_QSTATE_RELEASE_REQUESTED || it.approved_by)
		rc = refuse(q, by, act, it.id, it.sha256, SK_QDENY_STATE, deny, err);
	else if (it.requested_by && !strcmp(it.requested_by, by))
		rc = refuse(q, by, act, it.id, it.sha256, SK_QDENY_SELF_APPROVAL, deny, err);
	else if ((rc = is_approver(q, by, &ok, err)) == 0 && !ok)
		rc = refuse(q, by, act, it.id, it.sha256, SK_QDENY_NOT_APPROVER, deny, err);
	else if (rc == 0) {
		const char *b[] = {by};
		char d[SK_QUARANTINE_USER_MAX + 32];
		snprintf(d, sizeof(d), "requested-by=%s", it.requested_by ? it.requested_by : "?");
		rc = step_update(q,
				 "UPDATE items SET approved_by=?, approved=? WHERE id=? AND"
				 " state='release-requested' AND approved_by IS NULL",
				 b, 1, now_us(q), by, act, &it, d, err);
	}
	sk_qitem_free(&it);
	return rc;
}

int sk_quarantine_release(sk_quarantine *q, const char *id, const char *by, const char *path,
			  sk_qdeny *deny, sk_error *err)
{
	static const char act[] = "quarantine-release";
	if (deny)
		*deny = SK_QDENY_NONE;
	sk_qitem it;
	int rc = sk_quarantine_get(q, id, &it, err);
	if (rc)
		return rc;
	char *obj = NULL;
	int fd = -1;
	sk_tmpfile tf = {.fd = -1};
	if (!user_ok(by)) {
		rc = refuse(q, by, act, it.id, it.sha256, SK_QDENY_BAD_USER, deny, err);
		goto out;
	}
	if (it.state != SK_QSTATE_RELEASE_REQUESTED) {
		rc = refuse(q, by, act, it.id, it.sha256,
			    it.state == SK_QSTATE_HELD ? SK_QDENY_NOT_APPROVED : SK_QDENY_STATE, deny,
			    err);
		goto out;
	}
	if (!it.approved_by) {
		rc = refuse(q, by, act, it.id, it.sha256, SK_QDENY_NOT_APPROVED, deny, err);
		goto out;
	}
	/* copy into a temporary file beside path, checking the hash on the way */
	obj = sk_quarantine_object_path(q, it.sha256);
	if (!obj) {
		rc = sk_error_set(err, SK_ENOMEM, "path");
		goto out;
	}
	fd = open(obj, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = sk_error_sys(err, SK_EIO, "open original %s", obj);
		goto out;
	}
	if ((rc = sk_tmpfile_open(&tf, path, err))) /* PATH.sekisho-tmp.PID.RANDOM, 0600 */
		goto out;
	crypto_hash_sha256_state hs;
	crypto_hash_sha256_init(&hs);
	sk_output o;
	sk_output_fd(&o, tf.fd, 0);
	uint8_t buf[65536];
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = sk_error_sys(err, SK_EIO, "read %s", obj);
			goto out;
		}
		if (r == 0)
			break;
		crypto_hash_sha256_update(&hs, buf, (size_t)r);
		if ((rc = sk_output_write(&o, buf, (size_t)r, err)))
			goto out;
	}
	uint8_t h[SK_SHA256_LEN];
	char hex[SK_SHA256_HEX];
	crypto_hash_sha256_final(&hs, h);
	sk_hex(h, SK_SHA256_LEN, hex);
	if (strcmp(hex, it.sha256) != 0) {
		rc = sk_error_set(err, SK_EFORMAT, "stored original of %s is damaged", it.id);
		goto out;
	}
	/* the bytes on disk before the step is recorded (a full disk shows here) */
	if (fsync(tf.fd) != 0) {
		rc = sk_error_sys(err, SK_EIO, "fsync %s", tf.tmp);
		goto out;
	}
	/* record first, then hand out */
	const char *b[] = {by};
	char d[SK_QUARANTINE_USER_MAX * 2 + 64];
	snprintf(d, sizeof(d), "requested-by=%s approved-by=%s",
		 it.requested_by ? it.requested_by : "?", it.approved_by);
	if ((rc = step_update(q,
			      "UPDATE items SET state='released', released_by=?, released=? WHERE"
			      " id=? AND state='release-requested' AND approved_by IS NOT NULL",
			      b, 1, now_us(q), by, act, &it, d, err)))
		goto out;
	if ((rc = sk_tmpfile_commit(&tf, path, 0600, true, err)) != 0) {
		sk_error e2;
		audit_step(q, by, act, it.id, it.sha256, "failed", "could not write the file", &e2);
		goto out;
	}
out:
	sk_tmpfile_discard(&tf);
	if (fd >= 0)
		close(fd);
	free(obj);
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
			       "SELECT DISTINCT sha256 FROM items WHERE state='purged' AND sha256"
			       " NOT IN (SELECT sha256 FROM items WHERE state!='purged')",
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

/* ---- approvers ---- */

static int count_approvers(sk_quarantine *q, int64_t *n, sk_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(q->db, "SELECT count(*) FROM approvers", -1, &st, NULL) != SQLITE_OK)
		return db_err(q, err, "approvers");
	int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : db_err(q, err, "approvers");
	*n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc;
}

/* While the list is empty anyone may add the first approver; after that only an
 * approver may change the list. */
static int approver_change(sk_quarantine *q, const char *user, const char *by, bool add,
			   sk_error *err)
{
	const char *act = add ? "approver-add" : "approver-remove";
	char obj[SK_QUARANTINE_USER_MAX + 8];
	snprintf(obj, sizeof(obj), "user:%s", user ? user : "");
	if (!user_ok(user) || !user_ok(by))
		return sk_error_set(err, SK_EINVAL, "%s: bad user name", act);
	int rc = exec(q, "BEGIN IMMEDIATE", err);
	if (rc)
		return rc;
	int64_t n = 0;
	bool ok = false;
	if ((rc = count_approvers(q, &n, err)) || (rc = is_approver(q, by, &ok, err)))
		goto rollback;
	char detail[160];
	snprintf(detail, sizeof(detail), "os-user=%s", q->os_user);
	if (n > 0 && !ok) {
		if (q->audit && (rc = sk_audit_append(q->audit, by, act, obj, "refused: not-approver",
						      detail, NULL, err)))
			goto rollback;
		rc = sk_error_set(err, SK_EINVAL, "%s: %s is not an approver", act, by);
		goto rollback;
	}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(q->db,
			       add ? "INSERT OR IGNORE INTO approvers(user, added_by, added) VALUES(?,?,?)"
				   : "DELETE FROM approvers WHERE user=?",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_err(q, err, act);
		goto rollback;
	}
	sqlite3_bind_text(st, 1, user, -1, SQLITE_TRANSIENT);
	if (add) {
		sqlite3_bind_text(st, 2, by, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, now_us(q));
	}
	int s = sqlite3_step(st);
	bool changed = sqlite3_changes(q->db) > 0;
	sqlite3_finalize(st);
	if (s != SQLITE_DONE) {
		rc = db_err(q, err, act);
		goto rollback;
	}
	if (!changed) {
		rc = sk_error_set(err, add ? SK_EINVAL : SK_ENOTFOUND, "%s: %s %s", act, user,
				  add ? "is already an approver" : "is not an approver");
		goto rollback;
	}
	if (q->audit && (rc = sk_audit_append(q->audit, by, act, obj, "ok", detail, NULL, err)))
		goto rollback;
	return exec(q, "COMMIT", err);
rollback:
	sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int sk_quarantine_approver_add(sk_quarantine *q, const char *user, const char *by, sk_error *err)
{
	return approver_change(q, user, by, true, err);
}

int sk_quarantine_approver_remove(sk_quarantine *q, const char *user, const char *by,
				  sk_error *err)
{
	return approver_change(q, user, by, false, err);
}

int sk_quarantine_approvers(sk_quarantine *q, sk_quarantine_user_fn fn, void *ctx, sk_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(q->db, "SELECT user, added_by, added FROM approvers ORDER BY user", -1,
			       &st, NULL) != SQLITE_OK)
		return db_err(q, err, "approvers");
	int s, rc = 0;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = fn(ctx, (const char *)sqlite3_column_text(st, 0),
			     (const char *)sqlite3_column_text(st, 1), sqlite3_column_int64(st, 2))))
			break;
	}
	if (rc == 0 && s != SQLITE_DONE)
		rc = db_err(q, err, "approvers");
	sqlite3_finalize(st);
	return rc;
}

/* The audit log in SQLite: records, subtree hashes, signed checkpoints; group commit.
 *
 * Durability: journal_mode=WAL with synchronous=FULL, so COMMIT returns only after the
 * WAL (holding the transaction) is fsync'ed; SQLite's automatic WAL checkpoints fsync the
 * database before the WAL is reused. A caller of sk_audit_append() is answered only after
 * that COMMIT. Concurrent callers are batched: the first to arrive leads and commits every
 * record queued so far in one transaction (one fsync), the others wait for it; records
 * that arrive meanwhile form the next batch. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "sekisho/audit.h"
#include "sekisho/io.h"
#include "sekisho/name.h"

struct req {
	const sk_audit_entry *v; /* n records, numbered consecutively from seq */
	size_t n;
	uint64_t seq;
	int rc;
	sk_error err;
	bool done; /* committed (or failed): rc, seq and err are set */
	bool lead; /* this caller commits the next batch */
	sem_t sem; /* posted when done or lead is set */
	struct req *next;
};

struct sk_audit {
	sqlite3 *db;
	sk_audit_options opt;
	char *anchor_file, *anchor_syslog, *syslog_host;
	sk_note_signer signer;
	sk_note_verifier verifier;
	char *vkey;
	/* group commit */
	pthread_mutex_t mu;
	struct req *head, *tail;
	bool leading;
	/* everything below is used with db_mu held */
	pthread_mutex_t db_mu;
	bool cache_ok;
	sk_merkle_frontier fr;
	int64_t last_ts;
	uint64_t cp_size;
	int64_t cp_time;
	sqlite3_stmt *ins_rec, *ins_node, *ins_cp, *sel_last, *sel_cp, *sel_leaf, *sel_node;
	sk_buf leaf;
	uint64_t commits, records;
	char anchor_err[256];
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS records(seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
	" leaf BLOB NOT NULL, hash BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS nodes(level INTEGER NOT NULL, idx INTEGER NOT NULL,"
	" hash BLOB NOT NULL, PRIMARY KEY(level, idx)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS checkpoints(id INTEGER PRIMARY KEY, size INTEGER NOT NULL,"
	" ts INTEGER NOT NULL, note TEXT NOT NULL);";

void sk_audit_options_default(sk_audit_options *o)
{
	memset(o, 0, sizeof(*o));
	o->checkpoint_every = 1000;
	o->checkpoint_seconds = 300;
}

static int64_t now_us(const sk_audit *a)
{
	return a->opt.clock ? a->opt.clock(a->opt.clock_ctx) : sk_time_now_us();
}

static int db_err(sk_audit *a, sk_error *err, const char *what)
{
	return sk_error_set(err, SK_EIO, "audit db: %s: %s", what, sqlite3_errmsg(a->db));
}

static int exec(sk_audit *a, const char *sql, sk_error *err)
{
	if (sqlite3_exec(a->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_err(a, err, sql);
	return 0;
}

/* dir/audit.db and its -wal and -shm files 0600 whatever they were (SQLite gives new -wal
 * and -shm files the mode of the database). */
static int private_files(const char *dir, sk_error *err)
{
	static const char *const names[] = {"audit.db", "audit.db-wal", "audit.db-shm"};
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

/* Reads dir/audit.key, creating the key (and dir/audit.pub) when missing. Called with
 * the database's write lock held, so that two processes never both create one. */
static int load_key(sk_audit *a, const char *dir, sk_error *err)
{
	char *kpath = NULL, *ppath = NULL;
	int rc = 0;
	if (asprintf(&kpath, "%s/audit.key", dir) < 0 || asprintf(&ppath, "%s/audit.pub", dir) < 0) {
		free(kpath);
		return sk_error_set(err, SK_ENOMEM, "path");
	}
	sk_buf kb;
	sk_buf_init(&kb, 4096);
	struct stat st;
	if (stat(kpath, &st) != 0) {
		if (errno != ENOENT) {
			rc = sk_error_sys(err, SK_EIO, "stat %s", kpath);
			goto out;
		}
		/* a log that has signed checkpoints lost its key: never sign on with a new one */
		sqlite3_stmt *cs = NULL;
		bool signed_before = false;
		if (sqlite3_prepare_v2(a->db, "SELECT 1 FROM checkpoints LIMIT 1", -1, &cs, NULL) == SQLITE_OK)
			signed_before = sqlite3_step(cs) == SQLITE_ROW;
		sqlite3_finalize(cs);
		if (signed_before) {
			rc = sk_error_set(err, SK_EINVAL,
					  "%s is missing but the log has signed checkpoints: restore the key",
					  kpath);
			goto out;
		}
		uint8_t rnd[4];
		char hx[9], name[64], *skey, *vkey;
		randombytes_buf(rnd, sizeof(rnd));
		sk_hex(rnd, 4, hx);
		snprintf(name, sizeof(name), "sekisho/audit/%s", hx);
		if ((rc = sk_note_key_generate(name, &skey, &vkey, err)))
			goto out;
		size_t sl = strlen(skey), vl = strlen(vkey);
		skey[sl] = '\n'; /* the buffers have room: sk_buf keeps a NUL after len */
		vkey[vl] = '\n';
		rc = sk_write_file_atomic(kpath, skey, sl + 1, 0600, err);
		if (rc == 0)
			rc = sk_write_file_atomic(ppath, vkey, vl + 1, 0644, err);
		sodium_memzero(skey, sl + 1);
		free(skey);
		free(vkey);
		if (rc)
			goto out;
		if (stat(kpath, &st) != 0) {
			rc = sk_error_sys(err, SK_EIO, "stat %s", kpath);
			goto out;
		}
	}
	if (st.st_mode & 077) {
		rc = sk_error_set(err, SK_EINVAL,
				  "%s is readable by others (mode %03o); it must be 0600", kpath,
				  (unsigned)(st.st_mode & 0777));
		goto out;
	}
	if ((rc = sk_read_file(kpath, 4096, &kb, err)))
		goto out;
	if ((rc = sk_note_signer_parse(sk_buf_str(&kb), &a->signer, err)))
		goto out;
	if (stat(ppath, &st) != 0) {
		/* a crash between writing the key and its public half: write it again */
		sk_buf vb;
		sk_buf_init(&vb, 4096);
		if ((rc = sk_note_signer_vkey(&a->signer, &vb)) == 0 && (rc = sk_buf_addc(&vb, '\n')) == 0)
			rc = sk_write_file_atomic(ppath, vb.data, vb.len, 0644, err);
		else
			rc = sk_error_set(err, rc, "vkey");
		sk_buf_free(&vb);
	}
out:
	if (kb.data)
		sodium_memzero(kb.data, kb.len);
	sk_buf_free(&kb);
	free(kpath);
	free(ppath);
	return rc;
}

static int prepare(sk_audit *a, sqlite3_stmt **st, const char *sql, sk_error *err)
{
	if (sqlite3_prepare_v3(a->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
		return db_err(a, err, "prepare");
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int sk_audit_open(const char *dir, const sk_audit_options *opt, sk_audit **out, sk_error *err)
{
	*out = NULL;
	int rc = sk_crypto_init(err);
	if (rc)
		return rc;
	if ((rc = sk_dir_private(dir, err)))
		return rc;
	sk_audit *a = calloc(1, sizeof(*a));
	if (!a)
		return sk_error_set(err, SK_ENOMEM, "audit");
	if (opt)
		a->opt = *opt;
	else
		sk_audit_options_default(&a->opt);
	if (!a->opt.checkpoint_every)
		a->opt.checkpoint_every = 1000;
	if (!a->opt.checkpoint_seconds)
		a->opt.checkpoint_seconds = 300;
	a->anchor_file = dup_or_null(a->opt.anchor_file);
	a->anchor_syslog = dup_or_null(a->opt.anchor_syslog);
	a->syslog_host = dup_or_null(a->opt.syslog_hostname);
	a->opt.anchor_file = a->anchor_file;
	a->opt.anchor_syslog = a->anchor_syslog;
	a->opt.syslog_hostname = a->syslog_host;
	pthread_mutex_init(&a->mu, NULL);
	pthread_mutex_init(&a->db_mu, NULL);
	sk_buf_init(&a->leaf, SK_AUDIT_RECORD_MAX);

	char *path = NULL;
	if (asprintf(&path, "%s/audit.db", dir) < 0) {
		sk_audit_close(a);
		return sk_error_set(err, SK_ENOMEM, "path");
	}
	/* every use of the connection holds db_mu, so SQLite's own mutex is not needed */
	if (sqlite3_open_v2(path, &a->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				   SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = sk_error_set(err, SK_EIO, "open %s: %s", path,
				  a->db ? sqlite3_errmsg(a->db) : "out of memory");
		free(path);
		sk_audit_close(a);
		return rc;
	}
	free(path);
	if ((rc = private_files(dir, err))) {
		sk_audit_close(a);
		return rc;
	}
	sqlite3_busy_timeout(a->db, 60000);
	/* reads (verify, proofs) through a memory map: one page read is a system call
	 * otherwise, and those are slow on a busy virtual machine */
	sqlite3_exec(a->db, "PRAGMA mmap_size=4294967296", NULL, NULL, NULL);
	if ((rc = exec(a, "PRAGMA journal_mode=WAL", err)) ||
	    (rc = exec(a, "PRAGMA synchronous=FULL", err)) ||
	    (rc = exec(a, "BEGIN IMMEDIATE", err))) {
		sk_audit_close(a);
		return rc;
	}
	if ((rc = exec(a, schema, err)) == 0 && (rc = load_key(a, dir, err)) == 0)
		rc = exec(a, "COMMIT", err);
	if (rc == 0) /* the -wal and -shm files exist now */
		rc = private_files(dir, err);
	if (rc) {
		sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
		sk_audit_close(a);
		return rc;
	}
	memcpy(a->verifier.name, a->signer.name, sizeof(a->verifier.name));
	memcpy(a->verifier.id, a->signer.id, 4);
	memcpy(a->verifier.pk, a->signer.pk, 32);
	sk_buf vb;
	sk_buf_init(&vb, 4096);
	if (sk_note_signer_vkey(&a->signer, &vb) != 0) {
		sk_buf_free(&vb);
		sk_audit_close(a);
		return sk_error_set(err, SK_ENOMEM, "vkey");
	}
	size_t vl;
	a->vkey = (char *)sk_buf_take(&vb, &vl);
	if ((rc = prepare(a, &a->ins_rec, "INSERT INTO records(seq, ts, leaf, hash) VALUES(?,?,?,?)", err)) ||
	    (rc = prepare(a, &a->ins_node, "INSERT INTO nodes(level, idx, hash) VALUES(?,?,?)", err)) ||
	    (rc = prepare(a, &a->ins_cp, "INSERT INTO checkpoints(size, ts, note) VALUES(?,?,?)", err)) ||
	    (rc = prepare(a, &a->sel_last, "SELECT seq, ts FROM records ORDER BY seq DESC LIMIT 1", err)) ||
	    (rc = prepare(a, &a->sel_cp, "SELECT size, ts FROM checkpoints ORDER BY id DESC LIMIT 1", err)) ||
	    (rc = prepare(a, &a->sel_leaf, "SELECT hash FROM records WHERE seq=?", err)) ||
	    (rc = prepare(a, &a->sel_node, "SELECT hash FROM nodes WHERE level=? AND idx=?", err))) {
		sk_audit_close(a);
		return rc;
	}
	*out = a;
	return 0;
}

void sk_audit_close(sk_audit *a)
{
	if (!a)
		return;
	sqlite3_stmt *sts[] = {a->ins_rec, a->ins_node, a->ins_cp, a->sel_last,
			       a->sel_cp, a->sel_leaf, a->sel_node};
	for (size_t i = 0; i < sizeof(sts) / sizeof(sts[0]); i++)
		sqlite3_finalize(sts[i]);
	if (a->db)
		sqlite3_close(a->db);
	pthread_mutex_destroy(&a->mu);
	pthread_mutex_destroy(&a->db_mu);
	sk_buf_free(&a->leaf);
	sodium_memzero(&a->signer, sizeof(a->signer));
	free(a->vkey);
	free(a->anchor_file);
	free(a->anchor_syslog);
	free(a->syslog_host);
	free(a);
}

const char *sk_audit_vkey(const sk_audit *a)
{
	return a->vkey;
}

const char *sk_audit_anchor_error(const sk_audit *a)
{
	return a->anchor_err;
}

void sk_audit_stats(sk_audit *a, uint64_t *commits, uint64_t *records)
{
	pthread_mutex_lock(&a->db_mu);
	if (commits)
		*commits = a->commits;
	if (records)
		*records = a->records;
	pthread_mutex_unlock(&a->db_mu);
}

/* The stored hash of a complete subtree. */
static int node_fn(void *ctx, unsigned level, uint64_t index, uint8_t out[SK_SHA256_LEN],
		   sk_error *err)
{
	sk_audit *a = ctx;
	sqlite3_stmt *st = level == 0 ? a->sel_leaf : a->sel_node;
	sqlite3_reset(st);
	if (level == 0) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)index);
	} else {
		sqlite3_bind_int(st, 1, (int)level);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
	}
	int r = sqlite3_step(st);
	int rc = 0;
	if (r == SQLITE_ROW && sqlite3_column_bytes(st, 0) == SK_SHA256_LEN)
		memcpy(out, sqlite3_column_blob(st, 0), SK_SHA256_LEN);
	else if (r == SQLITE_ROW || r == SQLITE_DONE)
		rc = sk_error_set(err, SK_ENOTFOUND, "subtree %u/%llu missing", level,
				  (unsigned long long)index);
	else
		rc = db_err(a, err, "read subtree");
	sqlite3_reset(st);
	return rc;
}

/* Brings the cached tree state in step with the database (another process may have
 * appended). Called inside a transaction. */
static int load_state(sk_audit *a, sk_error *err)
{
	uint64_t size = 0;
	int64_t last_ts = 0;
	sqlite3_reset(a->sel_last);
	int r = sqlite3_step(a->sel_last);
	if (r == SQLITE_ROW) {
		size = (uint64_t)sqlite3_column_int64(a->sel_last, 0) + 1;
		last_ts = sqlite3_column_int64(a->sel_last, 1);
	} else if (r != SQLITE_DONE) {
		sqlite3_reset(a->sel_last);
		return db_err(a, err, "read last record");
	}
	sqlite3_reset(a->sel_last);
	sqlite3_reset(a->sel_cp);
	r = sqlite3_step(a->sel_cp);
	if (r == SQLITE_ROW) {
		a->cp_size = (uint64_t)sqlite3_column_int64(a->sel_cp, 0);
		a->cp_time = sqlite3_column_int64(a->sel_cp, 1);
	} else if (r == SQLITE_DONE) {
		a->cp_size = 0;
		a->cp_time = INT64_MIN;
	} else {
		sqlite3_reset(a->sel_cp);
		return db_err(a, err, "read last checkpoint");
	}
	sqlite3_reset(a->sel_cp);
	if (a->cache_ok && a->fr.size == size) {
		a->last_ts = last_ts;
		return 0;
	}
	/* rebuild the frontier from the stored subtrees of [0, size) */
	sk_merkle_frontier_init(&a->fr);
	uint64_t off = 0;
	for (int l = 63; l >= 0; l--) {
		if (!((size >> l) & 1))
			continue;
		int rc = node_fn(a, (unsigned)l, off >> l, a->fr.h[l], err);
		if (rc)
			return rc;
		off += (uint64_t)1 << l;
	}
	a->fr.size = size;
	a->last_ts = last_ts;
	a->cache_ok = true;
	return 0;
}

static int store_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[SK_SHA256_LEN])
{
	sk_audit *a = ctx;
	if (level == 0)
		return 0; /* leaf hashes live in records */
	sqlite3_stmt *st = a->ins_node;
	sqlite3_reset(st);
	sqlite3_bind_int(st, 1, (int)level);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
	sqlite3_bind_blob(st, 3, hash, SK_SHA256_LEN, SQLITE_STATIC);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	return r == SQLITE_DONE ? 0 : SK_EIO;
}

static int add_record(sk_audit *a, const sk_audit_entry *e, int64_t now, uint64_t *seq,
		      sk_error *err)
{
	int64_t ts = now;
	if (ts < a->last_ts)
		ts = a->last_ts; /* times never go backwards in the log */
	sk_audit_record r = {.seq = a->fr.size, .time_us = ts, .actor = e->actor,
			     .action = e->action, .object = e->object,
			     .result = e->result ? e->result : "", .detail = e->detail ? e->detail : ""};
	int rc = sk_audit_record_encode(&r, &a->leaf, err);
	if (rc)
		return rc;
	uint8_t h[SK_SHA256_LEN];
	sk_merkle_leaf_hash(a->leaf.data, a->leaf.len, h);
	sqlite3_stmt *st = a->ins_rec;
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)r.seq);
	sqlite3_bind_int64(st, 2, ts);
	sqlite3_bind_blob(st, 3, a->leaf.data, (int)a->leaf.len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, h, SK_SHA256_LEN, SQLITE_STATIC);
	int s = sqlite3_step(st);
	sqlite3_reset(st);
	if (s != SQLITE_DONE)
		return db_err(a, err, "insert record");
	if (sk_merkle_frontier_push(&a->fr, h, store_node, a) != 0)
		return db_err(a, err, "insert subtree");
	a->last_ts = ts;
	*seq = r.seq;
	return 0;
}

/* Signs (size, root) of the current tree into note and stores it. In a transaction. */
static int make_checkpoint(sk_audit *a, sk_buf *note, sk_error *err)
{
	sk_checkpoint cp;
	memset(&cp, 0, sizeof(cp));
	memcpy(cp.origin, a->signer.name, sizeof(cp.origin));
	cp.size = a->fr.size;
	sk_merkle_frontier_root(&a->fr, cp.root);
	int64_t ts = now_us(a);
	cp.time_us = ts;
	sk_buf text;
	sk_buf_init(&text, SK_NOTE_MAX);
	int rc = sk_checkpoint_format(&cp, &text);
	if (rc)
		rc = sk_error_set(err, rc, "checkpoint");
	if (rc == 0)
		rc = sk_note_sign(&a->signer, (const char *)text.data, text.len, note, err);
	sk_buf_free(&text);
	if (rc)
		return rc;
	sqlite3_stmt *st = a->ins_cp;
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)cp.size);
	sqlite3_bind_int64(st, 2, ts);
	sqlite3_bind_text(st, 3, (const char *)note->data, (int)note->len, SQLITE_STATIC);
	int s = sqlite3_step(st);
	sqlite3_reset(st);
	if (s != SQLITE_DONE)
		return db_err(a, err, "insert checkpoint");
	return 0;
}

static bool checkpoint_due(sk_audit *a)
{
	if (a->fr.size - a->cp_size >= a->opt.checkpoint_every)
		return true;
	return a->cp_time == INT64_MIN ||
	       now_us(a) - a->cp_time >= a->opt.checkpoint_seconds * 1000000;
}

static void anchor(sk_audit *a, const sk_buf *note)
{
	sk_error e;
	sk_error_clear(&e);
	a->anchor_err[0] = 0;
	if (a->anchor_file &&
	    sk_write_file_atomic(a->anchor_file, note->data, note->len, 0644, &e) != 0)
		snprintf(a->anchor_err, sizeof(a->anchor_err), "%s", e.msg);
	if (a->anchor_syslog && sk_audit_syslog_send(a->anchor_syslog, a->syslog_host,
						     (const char *)note->data, note->len, &e) != 0)
		snprintf(a->anchor_err, sizeof(a->anchor_err), "%s", e.msg);
}

/* Commits a batch of requests in one transaction. */
static void commit_batch(sk_audit *a, struct req *batch)
{
	sk_error err;
	sk_error_clear(&err);
	sk_buf note;
	sk_buf_init(&note, SK_NOTE_MAX);
	bool made = false;
	uint64_t n = 0;
	pthread_mutex_lock(&a->db_mu);
	int rc = exec(a, "BEGIN IMMEDIATE", &err);
	if (rc == 0)
		rc = load_state(a, &err);
	int64_t now = now_us(a);
	for (struct req *r = batch; rc == 0 && r; r = r->next)
		for (size_t i = 0; rc == 0 && i < r->n; i++, n++) {
			uint64_t seq = 0;
			rc = add_record(a, &r->v[i], now, &seq, &err);
			if (i == 0)
				r->seq = seq;
		}
	if (rc == 0 && checkpoint_due(a)) {
		rc = make_checkpoint(a, &note, &err);
		made = rc == 0;
	}
	if (rc == 0)
		rc = exec(a, "COMMIT", &err);
	if (rc) {
		sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
		a->cache_ok = false;
		made = false;
	} else {
		a->commits++;
		a->records += n;
		if (made) {
			a->cp_size = a->fr.size;
			a->cp_time = now_us(a);
		}
	}
	pthread_mutex_unlock(&a->db_mu);
	if (made)
		anchor(a, &note);
	sk_buf_free(&note);
	for (struct req *r = batch; r; r = r->next) {
		r->rc = rc;
		if (rc)
			r->err = err;
	}
}

/* What sk_audit_record_encode() would refuse, checked in the caller's thread so that
 * one bad record cannot fail a whole batch. */
static int validate(const sk_audit_entry *e, sk_error *err)
{
	const char *v[5] = {e->actor, e->action, e->object, e->result, e->detail};
	static const char *const names[5] = {"actor", "action", "object", "result", "detail"};
	for (int i = 0; i < 5; i++) {
		const char *x = v[i] ? v[i] : "";
		size_t n = strlen(x);
		if (i < 3 && n == 0)
			return sk_error_set(err, SK_EINVAL, "audit %s is empty", names[i]);
		if (n > (i == 4 ? SK_AUDIT_DETAIL_MAX : SK_AUDIT_FIELD_MAX))
			return sk_error_set(err, SK_ELIMIT, "audit %s longer than %d bytes", names[i],
					    i == 4 ? SK_AUDIT_DETAIL_MAX : SK_AUDIT_FIELD_MAX);
		if (!sk_utf8_valid(x, n))
			return sk_error_set(err, SK_EINVAL, "audit %s is not UTF-8", names[i]);
	}
	return 0;
}

int sk_audit_append(sk_audit *a, const char *actor, const char *action, const char *object,
		    const char *result, const char *detail, uint64_t *seq, sk_error *err)
{
	sk_audit_entry e = {actor, action, object, result, detail};
	return sk_audit_append_many(a, &e, 1, seq, err);
}

int sk_audit_append_many(sk_audit *a, const sk_audit_entry *v, size_t n, uint64_t *first_seq,
			 sk_error *err)
{
	if (n == 0)
		return sk_error_set(err, SK_EINVAL, "no records");
	for (size_t i = 0; i < n; i++) {
		int rc = validate(&v[i], err);
		if (rc)
			return rc;
	}
	struct req me = {.v = v, .n = n};
	/* Queue the request. The first caller while nobody commits leads; the others sleep
	 * on their own semaphore until their batch is committed or they are made leader,
	 * so a commit wakes exactly the callers it answers (no thundering herd). */
	sem_init(&me.sem, 0, 0);
	pthread_mutex_lock(&a->mu);
	if (a->tail)
		a->tail->next = &me;
	else
		a->head = &me;
	a->tail = &me;
	if (!a->leading) {
		a->leading = true;
		me.lead = true;
	}
	pthread_mutex_unlock(&a->mu);
	while (!me.lead) {
		while (sem_wait(&me.sem) != 0)
			; /* EINTR */
		if (me.done)
			break;
	}
	if (!me.done) {
		/* lead: commit everything queued so far (our request is the first of it) */
		pthread_mutex_lock(&a->mu);
		struct req *batch = a->head;
		a->head = a->tail = NULL;
		pthread_mutex_unlock(&a->mu);
		commit_batch(a, batch);
		/* hand the lead to the first of those who queued meanwhile */
		pthread_mutex_lock(&a->mu);
		struct req *next = a->head;
		if (next)
			next->lead = true;
		else
			a->leading = false;
		pthread_mutex_unlock(&a->mu);
		for (struct req *r = batch, *nx; r; r = nx) {
			nx = r->next; /* r may be gone once posted */
			r->done = true;
			if (r != &me)
				sem_post(&r->sem);
		}
		if (next)
			sem_post(&next->sem);
	}
	sem_destroy(&me.sem);
	if (me.rc) {
		if (err)
			*err = me.err;
		return me.rc;
	}
	if (first_seq)
		*first_seq = me.seq;
	return 0;
}

enum cp_when { CP_FORCE, CP_DUE, CP_TAIL };

/* A checkpoint now (CP_FORCE), when N records or T seconds have passed (CP_DUE), or when
 * records are past the newest checkpoint or it is older than max_age_s (CP_TAIL). */
static int checkpoint_run(sk_audit *a, enum cp_when when, uint32_t max_age_s, sk_buf *note,
			  bool *made, sk_error *err)
{
	sk_buf nb;
	sk_buf_init(&nb, SK_NOTE_MAX);
	bool m = false;
	pthread_mutex_lock(&a->db_mu);
	int rc = exec(a, "BEGIN IMMEDIATE", err);
	if (rc == 0)
		rc = load_state(a, err);
	bool due = when == CP_FORCE;
	if (rc == 0 && when == CP_DUE)
		due = checkpoint_due(a);
	if (rc == 0 && when == CP_TAIL)
		due = a->fr.size > a->cp_size ||
		      (max_age_s && (a->cp_time == INT64_MIN ||
				     now_us(a) - a->cp_time >= (int64_t)max_age_s * 1000000));
	if (rc == 0 && due) {
		rc = make_checkpoint(a, &nb, err);
		m = rc == 0;
	}
	if (rc == 0 && !m) {
		/* the newest existing one */
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(a->db, "SELECT note FROM checkpoints ORDER BY id DESC LIMIT 1",
				       -1, &st, NULL) != SQLITE_OK)
			rc = db_err(a, err, "read checkpoint");
		else if (sqlite3_step(st) == SQLITE_ROW)
			rc = sk_buf_add(&nb, sqlite3_column_text(st, 0),
					(size_t)sqlite3_column_bytes(st, 0));
		sqlite3_finalize(st);
	}
	if (rc == 0)
		rc = exec(a, "COMMIT", err);
	if (rc) {
		sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
		a->cache_ok = false;
		m = false;
	} else if (m) {
		a->cp_size = a->fr.size;
		a->cp_time = now_us(a);
	}
	pthread_mutex_unlock(&a->db_mu);
	if (m)
		anchor(a, &nb);
	if (rc == 0 && m && a->anchor_err[0])
		rc = sk_error_set(err, SK_EIO, "anchor: %s", a->anchor_err);
	if (note) {
		sk_buf_reset(note);
		if (sk_buf_add(note, nb.data ? nb.data : (const uint8_t *)"", nb.len) && rc == 0)
			rc = sk_error_set(err, SK_ENOMEM, "note");
	}
	sk_buf_free(&nb);
	if (made)
		*made = m;
	return rc;
}

int sk_audit_checkpoint(sk_audit *a, bool force, sk_buf *note, bool *made, sk_error *err)
{
	return checkpoint_run(a, force ? CP_FORCE : CP_DUE, 0, note, made, err);
}

int sk_audit_checkpoint_if_due(sk_audit *a, uint32_t max_age_s, bool *made, sk_error *err)
{
	return checkpoint_run(a, CP_TAIL, max_age_s, NULL, made, err);
}

int sk_audit_signed_size(sk_audit *a, uint64_t *size, uint64_t *signed_size, sk_error *err)
{
	pthread_mutex_lock(&a->db_mu);
	int rc = exec(a, "BEGIN", err);
	if (rc == 0) {
		rc = load_state(a, err);
		if (rc == 0) {
			if (size)
				*size = a->fr.size;
			if (signed_size)
				*signed_size = a->cp_size;
		}
		exec(a, "COMMIT", NULL);
	}
	pthread_mutex_unlock(&a->db_mu);
	return rc;
}

int sk_audit_size(sk_audit *a, uint64_t *size, sk_error *err)
{
	pthread_mutex_lock(&a->db_mu);
	int rc = exec(a, "BEGIN", err);
	if (rc == 0) {
		rc = load_state(a, err);
		*size = a->fr.size;
		exec(a, "COMMIT", NULL);
	}
	pthread_mutex_unlock(&a->db_mu);
	return rc;
}

int sk_audit_list(sk_audit *a, int64_t since_us, sk_audit_list_fn fn, void *ctx, sk_error *err)
{
	sqlite3_stmt *st = NULL;
	sk_buf scratch;
	sk_buf_init(&scratch, SK_AUDIT_RECORD_MAX);
	pthread_mutex_lock(&a->db_mu);
	int rc = 0;
	if (sqlite3_prepare_v2(a->db, "SELECT seq, leaf FROM records WHERE ts >= ? ORDER BY seq",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_err(a, err, "list");
		goto out;
	}
	sqlite3_bind_int64(st, 1, since_us);
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		sk_audit_record r;
		uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
		if (sk_audit_record_decode(sqlite3_column_blob(st, 1),
					   (size_t)sqlite3_column_bytes(st, 1), &r, &scratch, NULL) != 0) {
			rc = sk_error_set(err, SK_EFORMAT, "record %llu is damaged",
					  (unsigned long long)seq);
			goto out;
		}
		if ((rc = fn(ctx, &r)))
			goto out;
	}
	if (s != SQLITE_DONE)
		rc = db_err(a, err, "list");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&a->db_mu);
	sk_buf_free(&scratch);
	return rc;
}

int sk_audit_inclusion_proof(sk_audit *a, uint64_t seq, uint64_t size, uint64_t *size_out,
			     uint8_t leaf[SK_SHA256_LEN], uint8_t root[SK_SHA256_LEN],
			     uint8_t proof[][SK_SHA256_LEN], size_t *len, sk_error *err)
{
	*len = 0;
	pthread_mutex_lock(&a->db_mu);
	int rc = exec(a, "BEGIN", err);
	if (rc == 0)
		rc = load_state(a, err);
	if (rc == 0 && size == 0)
		size = a->cp_size > seq ? a->cp_size : a->fr.size;
	if (rc == 0 && (seq >= size || size > a->fr.size))
		rc = sk_error_set(err, SK_ENOTFOUND, "record %llu is not in a tree of %llu",
				  (unsigned long long)seq, (unsigned long long)size);
	if (rc == 0)
		rc = node_fn(a, 0, seq, leaf, err);
	if (rc == 0)
		rc = sk_merkle_range_hash(node_fn, a, 0, size, root, err);
	if (rc == 0)
		rc = sk_merkle_inclusion_proof(node_fn, a, seq, size, proof, len, err);
	if (rc == 0 && !sk_merkle_verify_inclusion(leaf, seq, size, proof, *len, root))
		rc = sk_error_set(err, SK_EFORMAT, "stored subtree hashes are inconsistent");
	exec(a, "COMMIT", NULL);
	pthread_mutex_unlock(&a->db_mu);
	if (size_out)
		*size_out = size;
	return rc;
}

int sk_audit_consistency_proof(sk_audit *a, uint64_t old, uint64_t size,
			       uint8_t old_root[SK_SHA256_LEN], uint8_t root[SK_SHA256_LEN],
			       uint8_t proof[][SK_SHA256_LEN], size_t *len, sk_error *err)
{
	*len = 0;
	pthread_mutex_lock(&a->db_mu);
	int rc = exec(a, "BEGIN", err);
	if (rc == 0)
		rc = load_state(a, err);
	if (rc == 0 && (old == 0 || old > size || size > a->fr.size))
		rc = sk_error_set(err, SK_ENOTFOUND, "no consistency proof from %llu to %llu (log has %llu)",
				  (unsigned long long)old, (unsigned long long)size,
				  (unsigned long long)a->fr.size);
	if (rc == 0)
		rc = sk_merkle_range_hash(node_fn, a, 0, old, old_root, err);
	if (rc == 0)
		rc = sk_merkle_range_hash(node_fn, a, 0, size, root, err);
	if (rc == 0)
		rc = sk_merkle_consistency_proof(node_fn, a, old, size, proof, len, err);
	if (rc == 0 && !sk_merkle_verify_consistency(old, size, proof, *len, old_root, root))
		rc = sk_error_set(err, SK_EFORMAT, "stored subtree hashes are inconsistent");
	exec(a, "COMMIT", NULL);
	pthread_mutex_unlock(&a->db_mu);
	return rc;
}

/* ---- verify ---- */

struct vcp {
	int64_t id; /* 0: the anchor */
	uint64_t size;
	uint8_t root[SK_SHA256_LEN];
	sk_audit_problem problem; /* a problem found while loading it */
	char why[96];
};

struct vstate {
	sk_audit *a;
	sqlite3_stmt *lv[64]; /* per level: stored subtrees in order */
	sk_audit_verify_result *vr;
	bool failed;
	int rc;
	sk_error *err;
};

static void fail(sk_audit_verify_result *vr, sk_audit_problem p, uint64_t seq, uint64_t end,
		 int64_t cp, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void fail(sk_audit_verify_result *vr, sk_audit_problem p, uint64_t seq, uint64_t end,
		 int64_t cp, const char *fmt, ...)
{
	if (!vr->ok)
		return; /* the first problem is the one reported */
	vr->ok = false;
	vr->problem = p;
	vr->bad_seq = seq;
	vr->bad_end = end;
	vr->bad_checkpoint = cp;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(vr->message, sizeof(vr->message), fmt, ap);
	va_end(ap);
}

/* Compares each subtree the recomputation completes with the stored one. */
static int check_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[SK_SHA256_LEN])
{
	struct vstate *vs = ctx;
	if (level == 0 || !vs->vr->ok)
		return 0;
	sqlite3_stmt **st = &vs->lv[level];
	if (!*st) {
		if (sqlite3_prepare_v2(vs->a->db,
				       "SELECT idx, hash FROM nodes WHERE level=? ORDER BY idx", -1,
				       st, NULL) != SQLITE_OK) {
			vs->rc = db_err(vs->a, vs->err, "verify nodes");
			return vs->rc;
		}
		sqlite3_bind_int(*st, 1, (int)level);
	}
	uint64_t first = index << level, end = (index + 1) << level;
	int s = sqlite3_step(*st);
	if (s != SQLITE_ROW) {
		if (s != SQLITE_DONE) {
			vs->rc = db_err(vs->a, vs->err, "verify nodes");
			return vs->rc;
		}
		fail(vs->vr, SK_AUDIT_NODE, first, end, -1, "subtree %u/%llu is missing", level,
		     (unsigned long long)index);
		return 0;
	}
	if ((uint64_t)sqlite3_column_int64(*st, 0) != index ||
	    sqlite3_column_bytes(*st, 1) != SK_SHA256_LEN ||
	    memcmp(sqlite3_column_blob(*st, 1), hash, SK_SHA256_LEN) != 0)
		fail(vs->vr, SK_AUDIT_NODE, first, end, -1,
		     "stored subtree %u/%llu (records %llu..%llu) is wrong", level,
		     (unsigned long long)index, (unsigned long long)first,
		     (unsigned long long)end - 1);
	return 0;
}

static int vcp_cmp(const void *x, const void *y)
{
	const struct vcp *a = x, *b = y;
	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* Reads a checkpoint note; sets problem when it cannot be trusted. */
static void load_cp(const sk_note_verifier *v, const char *note, size_t n, struct vcp *c)
{
	size_t tl;
	sk_checkpoint cp;
	sk_note_status s = sk_note_open(v, note, n, &tl);
	if (s == SK_NOTE_MALFORMED || (s == SK_NOTE_OK && sk_checkpoint_parse(note, tl, &cp, NULL))) {
		c->problem = SK_AUDIT_CHECKPOINT;
		snprintf(c->why, sizeof(c->why), "malformed checkpoint note");
		return;
	}
	if (s != SK_NOTE_OK) {
		c->problem = SK_AUDIT_SIGNATURE;
		snprintf(c->why, sizeof(c->why), "%s",
			 s == SK_NOTE_UNSIGNED ? "not signed by the log key" : "invalid signature");
		/* the size still tells which records it claims */
		if (sk_checkpoint_parse(note, tl, &cp, NULL) == 0)
			c->size = cp.size;
		return;
	}
	if (strcmp(cp.origin, v->name) != 0) {
		c->problem = SK_AUDIT_CHECKPOINT;
		snprintf(c->why, sizeof(c->why), "origin is not this log");
		return;
	}
	c->size = cp.size;
	memcpy(c->root, cp.root, SK_SHA256_LEN);
}

#define VBATCH 65536 /* rows a batch: few thread starts, ~25 MB at most */

struct vrow {
	uint64_t seq, dseq;
	int64_t ts, dts;
	size_t off, len;
	bool stored_ok, dec_ok;
	uint8_t stored[SK_SHA256_LEN], h[SK_SHA256_LEN];
};

struct vbatch {
	struct vrow *rows;
	size_t n;
	uint8_t *arena;
	size_t used, cap;
};

struct vjob {
	struct vbatch *b;
	size_t from, to;
};

/* Decodes (checks only) and hashes rows [from, to). */
static void *vwork(void *p)
{
	struct vjob *j = p;
	for (size_t i = j->from; i < j->to; i++) {
		struct vrow *w = &j->b->rows[i];
		const uint8_t *leaf = j->b->arena + w->off;
		sk_audit_record r;
		w->dec_ok = sk_audit_record_decode(leaf, w->len, &r, NULL, NULL) == 0;
		w->dseq = r.seq;
		w->dts = r.time_us;
		sk_merkle_leaf_hash(leaf, w->len, w->h);
	}
	return NULL;
}

int sk_audit_verify(sk_audit *a, const char *vkey, const char *anchor_note, size_t anchor_len,
		    sk_audit_verify_result *vr, sk_error *err)
{
	memset(vr, 0, sizeof(*vr));
	vr->ok = true;
	vr->bad_checkpoint = -1;
	sk_note_verifier v;
	if (vkey) {
		int rc = sk_note_verifier_parse(vkey, &v, err);
		if (rc)
			return rc;
	} else {
		v = a->verifier;
	}
	struct vcp *cps = NULL;
	size_t ncp = 0, cap = 0;
	struct vstate vs = {.a = a, .vr = vr, .err = err};
	sqlite3_stmt *st = NULL;
	sk_buf scratch;
	sk_buf_init(&scratch, SK_AUDIT_RECORD_MAX);
	int rc = 0;
	pthread_mutex_lock(&a->db_mu);
	if ((rc = exec(a, "BEGIN", err))) {
		pthread_mutex_unlock(&a->db_mu);
		sk_buf_free(&scratch);
		return rc;
	}
	/* checkpoints (and the anchor), by size */
	if (sqlite3_prepare_v2(a->db, "SELECT id, size, note FROM checkpoints ORDER BY id", -1, &st,
			       NULL) != SQLITE_OK) {
		rc = db_err(a, err, "read checkpoints");
		goto out;
	}
	int s;
	uint64_t prev_size = 0;
	for (;;) {
		s = sqlite3_step(st);
		if (s != SQLITE_ROW)
			break;
		if (ncp + 2 > cap) {
			cap = cap ? cap * 2 : 64;
			struct vcp *nc = realloc(cps, cap * sizeof(*nc));
			if (!nc) {
				rc = sk_error_set(err, SK_ENOMEM, "checkpoints");
				goto out;
			}
			cps = nc;
		}
		struct vcp *c = &cps[ncp++];
		memset(c, 0, sizeof(*c));
		c->id = sqlite3_column_int64(st, 0);
		uint64_t col_size = (uint64_t)sqlite3_column_int64(st, 1);
		load_cp(&v, (const char *)sqlite3_column_text(st, 2), (size_t)sqlite3_column_bytes(st, 2), c);
		if (c->problem == SK_AUDIT_OK && c->size != col_size) {
			c->problem = SK_AUDIT_CHECKPOINT;
			snprintf(c->why, sizeof(c->why), "size column differs from the signed size");
		}
		if (c->problem == SK_AUDIT_OK && c->size < prev_size) {
			c->problem = SK_AUDIT_CHECKPOINT;
			snprintf(c->why, sizeof(c->why), "smaller than an earlier checkpoint");
		}
		if (c->problem == SK_AUDIT_OK)
			prev_size = c->size;
	}
	if (s != SQLITE_DONE) {
		rc = db_err(a, err, "read checkpoints");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (anchor_note) {
		if (ncp + 1 > cap) {
			struct vcp *nc = realloc(cps, (ncp + 1) * sizeof(*nc));
			if (!nc) {
				rc = sk_error_set(err, SK_ENOMEM, "checkpoints");
				goto out;
			}
			cps = nc;
		}
		struct vcp *c = &cps[ncp++];
		memset(c, 0, sizeof(*c));
		c->id = 0;
		load_cp(&v, anchor_note, anchor_len, c);
		if (c->problem != SK_AUDIT_OK) {
			/* an anchor we cannot trust proves nothing: that is a failure */
			fail(vr, c->problem, 0, 0, 0, "anchor: %s", c->why);
			goto out;
		}
	}
	if (ncp)
		qsort(cps, ncp, sizeof(*cps), vcp_cmp);

	/* the records, in order */
	if (sqlite3_prepare_v2(a->db, "SELECT seq, ts, leaf, hash FROM records ORDER BY seq", -1, &st,
			       NULL) != SQLITE_OK) {
		rc = db_err(a, err, "read records");
		goto out;
	}
	sk_merkle_frontier fr;
	sk_merkle_frontier_init(&fr);
	size_t ci = 0;
	uint64_t good_size = 0; /* records covered by the last checkpoint that matched */
	int64_t prev_ts = INT64_MIN;
	/* checkpoints of size 0 */
	for (; vr->ok && ci < ncp && cps[ci].size == 0; ci++) {
		uint8_t empty[SK_SHA256_LEN];
		sk_merkle_empty_root(empty);
		if (cps[ci].problem)
			fail(vr, cps[ci].problem, 0, 0, cps[ci].id, "checkpoint %lld: %s",
			     (long long)cps[ci].id, cps[ci].why);
		else if (memcmp(cps[ci].root, empty, SK_SHA256_LEN) != 0)
			fail(vr, SK_AUDIT_ROOT, 0, 0, cps[ci].id,
			     "checkpoint %lld of the empty log has a wrong root", (long long)cps[ci].id);
		else
			vr->checkpoints++;
	}
	/* Rows are read in batches; decoding and hashing a batch is shared by two threads,
	 * then the checks run in order. */
	struct vbatch vb = {0};
	if (!(vb.rows = malloc(VBATCH * sizeof(*vb.rows)))) {
		rc = sk_error_set(err, SK_ENOMEM, "verify");
		goto out;
	}
	s = SQLITE_ROW;
	while (vr->ok && s == SQLITE_ROW) {
		vb.n = vb.used = 0;
		while (vb.n < VBATCH && (s = sqlite3_step(st)) == SQLITE_ROW) {
			struct vrow *w = &vb.rows[vb.n];
			size_t ll = (size_t)sqlite3_column_bytes(st, 2);
			const uint8_t *leaf = sqlite3_column_blob(st, 2);
			if (vb.used + ll > vb.cap) {
				size_t nc = (vb.cap ? vb.cap * 2 : 1 << 20) + ll;
				uint8_t *na = realloc(vb.arena, nc);
				if (!na) {
					free(vb.rows);
					free(vb.arena);
					rc = sk_error_set(err, SK_ENOMEM, "verify");
					goto out;
				}
				vb.arena = na;
				vb.cap = nc;
			}
			if (ll)
				memcpy(vb.arena + vb.used, leaf, ll);
			w->off = vb.used;
			w->len = ll;
			vb.used += ll;
			w->seq = (uint64_t)sqlite3_column_int64(st, 0);
			w->ts = sqlite3_column_int64(st, 1);
			w->stored_ok = sqlite3_column_bytes(st, 3) == SK_SHA256_LEN;
			if (w->stored_ok)
				memcpy(w->stored, sqlite3_column_blob(st, 3), SK_SHA256_LEN);
			vb.n++;
		}
		if (vb.n == 0)
			break;
		struct vjob j1 = {&vb, 0, vb.n / 2}, j2 = {&vb, vb.n / 2, vb.n};
		pthread_t th;
		bool threaded = vb.n >= 512 && pthread_create(&th, NULL, vwork, &j2) == 0;
		vwork(&j1);
		if (threaded)
			pthread_join(th, NULL);
		else
			vwork(&j2);
		for (size_t i = 0; vr->ok && i < vb.n; i++) {
			const struct vrow *w = &vb.rows[i];
			uint64_t expect = fr.size, seq = w->seq;
			vr->records++;
			if (seq != expect) {
				fail(vr, SK_AUDIT_MISSING, expect, seq > expect ? seq : expect + 1, -1,
				     "record %llu is missing (next present: %llu)",
				     (unsigned long long)expect, (unsigned long long)seq);
				break;
			}
			if (!w->dec_ok) {
				fail(vr, SK_AUDIT_MALFORMED, seq, seq + 1, -1, "record %llu is not canonical",
				     (unsigned long long)seq);
				break;
			}
			if (w->dseq != seq) {
				fail(vr, SK_AUDIT_MISPLACED, seq, seq + 1, -1,
				     "record at %llu says it is record %llu", (unsigned long long)seq,
				     (unsigned long long)w->dseq);
				break;
			}
			if (w->dts != w->ts || w->ts < prev_ts) {
				fail(vr, SK_AUDIT_TIME, seq, seq + 1, -1,
				     w->dts != w->ts ? "record %llu: time column differs from the record"
						     : "record %llu: time goes backwards",
				     (unsigned long long)seq);
				break;
			}
			prev_ts = w->ts;
			if (!w->stored_ok || memcmp(w->stored, w->h, SK_SHA256_LEN) != 0) {
				fail(vr, SK_AUDIT_MODIFIED, seq, seq + 1, -1,
				     "record %llu does not match its stored hash", (unsigned long long)seq);
				break;
			}
			sk_merkle_frontier_push(&fr, w->h, check_node, &vs);
			if (vs.rc) {
				rc = vs.rc;
				free(vb.rows);
				free(vb.arena);
				goto out;
			}
			for (; vr->ok && ci < ncp && cps[ci].size == fr.size; ci++) {
				struct vcp *c = &cps[ci];
				uint64_t from = good_size < c->size ? good_size : 0;
				if (c->problem) {
					fail(vr, c->problem, from, c->size, c->id, "checkpoint %lld: %s",
					     (long long)c->id, c->why);
					break;
				}
				uint8_t root[SK_SHA256_LEN];
				sk_merkle_frontier_root(&fr, root);
				if (memcmp(root, c->root, SK_SHA256_LEN) != 0) {
					fail(vr, SK_AUDIT_ROOT, from, c->size, c->id,
					     "%s %lld (size %llu): root differs; a record in %llu..%llu was changed",
					     c->id ? "checkpoint" : "anchor", (long long)c->id,
					     (unsigned long long)c->size, (unsigned long long)from,
					     (unsigned long long)c->size - 1);
					break;
				}
				vr->checkpoints++;
				good_size = c->size;
			}
		}
	}
	free(vb.rows);
	free(vb.arena);
	if (vr->ok && s != SQLITE_DONE && s != SQLITE_ROW) {
		rc = db_err(a, err, "read records");
		goto out;
	}
	if (vr->ok && ci < ncp) {
		struct vcp *c = &cps[ci];
		if (c->problem)
			fail(vr, c->problem, good_size, c->size, c->id, "checkpoint %lld: %s",
			     (long long)c->id, c->why);
		else
			fail(vr, SK_AUDIT_TRUNCATED, fr.size, c->size, c->id,
			     "%s %lld covers %llu records but the log has %llu: records %llu.. are gone",
			     c->id ? "checkpoint" : "anchor", (long long)c->id,
			     (unsigned long long)c->size, (unsigned long long)fr.size,
			     (unsigned long long)fr.size);
	}
	/* stored subtrees beyond the records are harmless leftovers of nothing: ignore */
	vr->covered = good_size;
out:
	sqlite3_finalize(st);
	for (int l = 0; l < 64; l++)
		sqlite3_finalize(vs.lv[l]);
	exec(a, "COMMIT", NULL);
	pthread_mutex_unlock(&a->db_mu);
	sk_buf_free(&scratch);
	free(cps);
	return rc;
}

const char *sk_audit_problem_code(sk_audit_problem p)
{
	static const char *const codes[] = {"ok", "missing", "malformed", "misplaced", "time",
					    "modified", "node", "root", "signature", "checkpoint",
					    "truncated"};
	return (unsigned)p <= SK_AUDIT_TRUNCATED ? codes[p] : "?";
}

const char *sk_audit_problem_text(sk_audit_problem p, bool en)
{
	switch (p) {
	case SK_AUDIT_OK: return en ? "ok" : "正常";
	case SK_AUDIT_MISSING: return en ? "record deleted" : "記録が削除されています";
	case SK_AUDIT_MALFORMED: return en ? "record damaged" : "記録が壊れています";
	case SK_AUDIT_MISPLACED: return en ? "record moved or swapped" : "記録の順序が入れ替えられています";
	case SK_AUDIT_TIME: return en ? "record time altered" : "記録の時刻が改変されています";
	case SK_AUDIT_MODIFIED: return en ? "record modified" : "記録が改ざんされています";
	case SK_AUDIT_NODE: return en ? "stored tree hash altered" : "ハッシュ木が改ざんされています";
	case SK_AUDIT_ROOT: return en ? "records differ from a signed checkpoint"
				      : "署名済みチェックポイントと記録が一致しません";
	case SK_AUDIT_SIGNATURE: return en ? "checkpoint signature invalid"
					   : "チェックポイントの署名が不正です";
	case SK_AUDIT_CHECKPOINT: return en ? "checkpoint damaged" : "チェックポイントが壊れています";
	case SK_AUDIT_TRUNCATED: return en ? "log truncated" : "ログの末尾が削除されています";
	}
	return "?";
}

int sk_audit_checkpoints(sk_audit *a, size_t max, sk_audit_checkpoint_fn fn, void *ctx,
			 sk_error *err)
{
	pthread_mutex_lock(&a->db_mu);
	sqlite3_stmt *st = NULL;
	int rc = 0;
	if (sqlite3_prepare_v2(a->db, "SELECT size, ts, note FROM checkpoints ORDER BY id DESC LIMIT ?",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_err(a, err, "read checkpoints");
	} else {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)(max ? max : 1));
		int s;
		while ((s = sqlite3_step(st)) == SQLITE_ROW) {
			const char *note = (const char *)sqlite3_column_text(st, 2);
			rc = fn(ctx, (uint64_t)sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
				note ? note : "");
			if (rc)
				break;
		}
		if (!rc && s != SQLITE_DONE)
			rc = db_err(a, err, "read checkpoints");
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&a->db_mu);
	return rc;
}

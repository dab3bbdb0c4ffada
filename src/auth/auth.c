/* The auth service: console users (auth.db), passwords (argon2id, libcrack2, history),
 * lockout, TOTP (liboath) and sessions. See include/sekisho/auth.h. */
#include <stddef.h>

#include <crack.h>
#include <liboath/oath.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sekisho/auth.h"
#include "sekisho/hash.h"
#include "sekisho/io.h"
#include "sekisho/name.h"
#include "sekisho/policy.h"

#define TOTP_STEP 30
#define TOTP_DIGITS 6
#define TOTP_SECRET_BYTES 20
#define TOTP_B32_LEN 32 /* base32 of 20 bytes, no padding */
#define HISTORY_MAX 24   /* the policy's upper bound */

struct sk_auth {
	sqlite3 *db;
	sk_audit *audit;
	sk_auth_settings s;
	char *org; /* owned copy of s.organization */
	sk_auth_options opt;
	char *dummy_hash; /* verified against for unknown users (same cost as a real one) */
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS users ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" name TEXT NOT NULL UNIQUE,"
	" section TEXT NOT NULL DEFAULT '',"
	" mail TEXT NOT NULL DEFAULT '',"
	" roles TEXT NOT NULL," /* role ids separated by '\n' */
	" disabled INTEGER NOT NULL DEFAULT 0,"
	" created_us INTEGER NOT NULL,"
	" password_us INTEGER NOT NULL,"
	" hash TEXT NOT NULL,"
	" totp TEXT NOT NULL,"  /* base32 secret */
	" totp_step INTEGER NOT NULL DEFAULT 0," /* last accepted 30 s step (no replay) */
	" failures INTEGER NOT NULL DEFAULT 0,"
	" locked_until_us INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS history ("
	" user_id INTEGER NOT NULL, set_us INTEGER NOT NULL, hash TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS history_user ON history(user_id, set_us);"
	"CREATE TABLE IF NOT EXISTS sessions ("
	" token_sha BLOB PRIMARY KEY," /* SHA-256 of the cookie token */
	" csrf TEXT NOT NULL,"
	" user_id INTEGER NOT NULL,"
	" zone TEXT NOT NULL,"
	" created_us INTEGER NOT NULL,"
	" last_us INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id);";

/* ---- settings ---- */

void sk_auth_settings_default(sk_auth_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->password_min = 12;
	s->history = 5;
	s->lockout_after = 5;
	s->lockout_seconds = 900;
	s->session_idle_seconds = 1800;
	s->session_max_seconds = 28800;
	s->totp_window = 1;
	s->organization = NULL;
}

void sk_auth_settings_from_policy(const struct sk_policy *p, sk_auth_settings *s)
{
	sk_auth_settings_default(s);
	if (!p)
		return;
	sk_policy_auth a;
	sk_policy_auth_get(p, &a);
	if (a.password_min >= 0)
		s->password_min = (uint32_t)a.password_min;
	if (a.history >= 0)
		s->history = (uint32_t)a.history;
	if (a.lockout_after >= 0)
		s->lockout_after = (uint32_t)a.lockout_after;
	if (a.lockout_seconds >= 0)
		s->lockout_seconds = (uint32_t)a.lockout_seconds;
	if (a.session_idle_seconds >= 0)
		s->session_idle_seconds = (uint32_t)a.session_idle_seconds;
	if (a.session_max_seconds >= 0)
		s->session_max_seconds = (uint32_t)a.session_max_seconds;
	if (a.totp_window >= 0)
		s->totp_window = (uint32_t)a.totp_window;
	s->organization = sk_policy_organization(p);
}

const char *sk_auth_weak_text(sk_auth_weak w, sk_lang lang)
{
	bool en = lang == SK_LANG_EN;
	switch (w) {
	case SK_AUTH_WEAK_NONE: return en ? "the password is acceptable" : "パスワードは使えます";
	case SK_AUTH_WEAK_SHORT: return en ? "the password is shorter than the policy's minimum"
					   : "パスワードがポリシーの最小文字数より短いです";
	case SK_AUTH_WEAK_GUESSABLE: return en ? "the password is easy to guess (a dictionary word or too simple)"
					       : "パスワードが推測されやすいです (辞書の語・単純すぎる)";
	case SK_AUTH_WEAK_PERSONAL: return en ? "the password contains the user's name, section or the organization's name"
					      : "パスワードに利用者名・所属・団体名が含まれています";
	case SK_AUTH_WEAK_REUSED: return en ? "the password was used recently (history)"
					    : "最近使ったパスワードは使えません (履歴)";
	case SK_AUTH_WEAK_TOO_LONG: return en ? "the password is too long (at most 1024 bytes)"
					      : "パスワードが長すぎます (1024 バイトまで)";
	}
	return "?";
}

const char *sk_auth_perm_code(uint32_t one_perm)
{
	return sk_policy_perm_code(one_perm);
}

/* ---- helpers ---- */

static int64_t now_us(const sk_auth *a)
{
	return a->opt.clock ? a->opt.clock(a->opt.clock_ctx) : sk_time_now_us();
}

static int db_err(sk_auth *a, sk_error *err, const char *what)
{
	return sk_error_set(err, SK_EIO, "auth db: %s: %s", what, sqlite3_errmsg(a->db));
}

static int exec(sk_auth *a, const char *sql, sk_error *err)
{
	if (sqlite3_exec(a->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_err(a, err, sql);
	return 0;
}

static void rollback(sk_auth *a)
{
	sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
}

static int prepare(sk_auth *a, const char *sql, sqlite3_stmt **st, sk_error *err)
{
	if (sqlite3_prepare_v2(a->db, sql, -1, st, NULL) != SQLITE_OK)
		return db_err(a, err, "prepare");
	return 0;
}

/* Runs a prepared statement to completion (no rows expected) and finalizes it. */
static int step_done(sk_auth *a, sqlite3_stmt *st, sk_error *err)
{
	int r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return db_err(a, err, "step");
	return 0;
}

static int audit(sk_auth *a, const char *actor, const char *action, const char *name,
		 const char *result, const char *detail, sk_error *err)
{
	if (!a->audit)
		return 0;
	char obj[SK_AUTH_NAME_MAX + 8];
	snprintf(obj, sizeof(obj), "user:%s", name);
	return sk_audit_append(a->audit, actor && *actor ? actor : "sekisho", action, obj, result,
			       detail ? detail : "", NULL, err);
}

/* lower-case ASCII [a-z0-9._-], first a letter or digit, 1..64 bytes */
static bool name_ok(const char *n)
{
	size_t l = n ? strlen(n) : 0;
	if (!l || l > SK_AUTH_NAME_MAX)
		return false;
	for (size_t i = 0; i < l; i++) {
		char c = n[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

bool sk_auth_name_valid(const char *name)
{
	return name_ok(name);
}

static bool by_ok(const char *by)
{
	if (!by || !*by || strlen(by) > 256 || !sk_utf8_valid(by, strlen(by)))
		return false;
	for (const char *p = by; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_init_rc;
static void oath_start(void)
{
	oath_init_rc = oath_init();
}

static pthread_mutex_t crack_mu = PTHREAD_MUTEX_INITIALIZER;

/* A fresh secret: TOTP_SECRET_BYTES random bytes, base32 (32 characters) to b32. */
static int totp_new(char b32[TOTP_B32_LEN + 1], sk_error *err)
{
	uint8_t raw[TOTP_SECRET_BYTES];
	randombytes_buf(raw, sizeof(raw));
	char *out = NULL;
	size_t len = 0;
	int rc = oath_base32_encode((const char *)raw, sizeof(raw), &out, &len);
	sodium_memzero(raw, sizeof(raw));
	if (rc != OATH_OK || len != TOTP_B32_LEN) {
		free(out);
		return sk_error_set(err, SK_EIO, "totp secret: %s", oath_strerror(rc));
	}
	memcpy(b32, out, TOTP_B32_LEN);
	b32[TOTP_B32_LEN] = 0;
	sodium_memzero(out, len);
	free(out);
	return 0;
}

/* Percent-encodes s into b (unreserved characters kept). */
static int pct(sk_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p && !rc; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_' || *p == '~')
			rc = sk_buf_addc(b, *p);
		else
			rc = sk_buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
	}
	return rc;
}

static int totp_uri(const sk_auth *a, const char *name, const char *b32, char **uri,
		    sk_error *err)
{
	if (!uri)
		return 0;
	const char *issuer = a->org && *a->org ? a->org : "sekisho";
	sk_buf b;
	sk_buf_init(&b, 8192);
	int rc = sk_buf_adds(&b, "otpauth://totp/");
	if (!rc)
		rc = pct(&b, issuer);
	if (!rc)
		rc = sk_buf_adds(&b, ":");
	if (!rc)
		rc = pct(&b, name);
	if (!rc)
		rc = sk_buf_printf(&b, "?secret=%s&issuer=", b32);
	if (!rc)
		rc = pct(&b, issuer);
	if (!rc)
		rc = sk_buf_adds(&b, "&algorithm=SHA1&digits=6&period=30");
	if (rc) {
		sk_buf_free(&b);
		return sk_error_set(err, SK_ENOMEM, "otpauth uri");
	}
	*uri = strdup(sk_buf_str(&b));
	sodium_memzero(b.data, b.len);
	sk_buf_free(&b);
	return *uri ? 0 : sk_error_set(err, SK_ENOMEM, "otpauth uri");
}

int sk_auth_totp_code(const char *secret_b32, int64_t t, char code[7], sk_error *err)
{
	pthread_once(&oath_once, oath_start);
	if (oath_init_rc != OATH_OK)
		return sk_error_set(err, SK_EIO, "liboath: %s", oath_strerror(oath_init_rc));
	char *raw = NULL;
	size_t n = 0;
	int rc = secret_b32 ? oath_base32_decode(secret_b32, strlen(secret_b32), &raw, &n)
			    : OATH_INVALID_BASE32;
	if (rc != OATH_OK || n == 0) {
		free(raw);
		return sk_error_set(err, SK_EINVAL, "TOTP secret is not base32");
	}
	char out[TOTP_DIGITS + 1];
	rc = oath_totp_generate(raw, n, (time_t)t, TOTP_STEP, 0, TOTP_DIGITS, out);
	sodium_memzero(raw, n);
	free(raw);
	if (rc != OATH_OK)
		return sk_error_set(err, SK_EIO, "totp: %s", oath_strerror(rc));
	memcpy(code, out, TOTP_DIGITS + 1);
	return 0;
}

/* The step (t / 30) whose code equals code within ±window of now and is later than
 * last_step; -1 when none. Every candidate is compared (constant time each). */
static int64_t totp_match(const char *b32, const char *code, int64_t now_s, uint32_t window,
			  int64_t last_step)
{
	if (!code || strlen(code) != TOTP_DIGITS)
		return -1;
	for (int i = 0; i < TOTP_DIGITS; i++)
		if (code[i] < '0' || code[i] > '9')
			return -1;
	int64_t cur = now_s / TOTP_STEP, found = -1;
	for (int64_t s = cur - (int64_t)window; s <= cur + (int64_t)window; s++) {
		char c[7];
		sk_error e;
		if (s < 0 || sk_auth_totp_code(b32, s * TOTP_STEP, c, &e))
			continue;
		if (sodium_memcmp(c, code, TOTP_DIGITS) == 0 && s > last_step && found < 0)
			found = s;
	}
	return found;
}

/* ASCII case-insensitive substring */
static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle), h = strlen(hay);
	for (size_t i = 0; n && i + n <= h; i++) {
		size_t j = 0;
		while (j < n) {
			unsigned char x = (unsigned char)hay[i + j], y = (unsigned char)needle[j];
			if (x >= 'A' && x <= 'Z')
				x = (unsigned char)(x + 32);
			if (y >= 'A' && y <= 'Z')
				y = (unsigned char)(y + 32);
			if (x != y)
				break;
			j++;
		}
		if (j == n)
			return true;
	}
	return false;
}

/* word itself and its parts split at . _ - and spaces, those of at least 3 bytes */
static bool personal(const char *pw, const char *word)
{
	if (!word || !*word)
		return false;
	if (strlen(word) >= 3 && contains_ci(pw, word))
		return true;
	char part[256];
	size_t k = 0;
	for (const char *p = word;; p++) {
		bool sep = !*p || *p == '.' || *p == '_' || *p == '-' || *p == ' ';
		if (!sep && k + 1 < sizeof(part)) {
			part[k++] = *p;
			continue;
		}
		if (sep) {
			part[k] = 0;
			if (k >= 3 && contains_ci(pw, part))
				return true;
			k = 0;
		}
		if (!*p)
			break;
	}
	return false;
}

static bool is_letter(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		n += (*p & 0xC0) != 0x80;
	return n;
}

/* Checks a new password (history is checked by the caller). */
static int check_password(sk_auth *a, const char *name, const char *section,
			  const char *password, sk_auth_weak *weak, sk_error *err)
{
	*weak = SK_AUTH_WEAK_NONE;
	if (!password)
		return sk_error_set(err, SK_EINVAL, "no password");
	size_t len = strlen(password);
	if (len > SK_AUTH_PASSWORD_MAX)
		*weak = SK_AUTH_WEAK_TOO_LONG;
	else if (!sk_utf8_valid(password, len))
		return sk_error_set(err, SK_EINVAL, "the password is not valid UTF-8");
	else if (utf8_chars(password) < a->s.password_min)
		*weak = SK_AUTH_WEAK_SHORT;
	else if (personal(password, name) || personal(password, section) ||
		 personal(password, a->org))
		*weak = SK_AUTH_WEAK_PERSONAL;
	else {
		/* libcrack2 on the whole password, then on its core without the digits and
		 * symbols around it ("password1234", "Password2024!" are a dictionary word
		 * with a suffix that cracklib's own rules do not strip) */
		size_t b = 0, e = len;
		while (b < e && !is_letter((unsigned char)password[b]))
			b++;
		while (e > b && !is_letter((unsigned char)password[e - 1]))
			e--;
		char core[SK_AUTH_PASSWORD_MAX + 1];
		memcpy(core, password + b, e - b);
		core[e - b] = 0;
		pthread_mutex_lock(&crack_mu);
		const char *dict = GetDefaultCracklibDict();
		const char *msg = FascistCheckUser(password, dict, name, NULL);
		const char *msg2 = !msg && e - b >= 6 && e - b < len
					   ? FascistCheckUser(core, dict, name, NULL)
					   : NULL;
		pthread_mutex_unlock(&crack_mu);
		sodium_memzero(core, sizeof(core));
		if (msg && strstr(msg, "error loading"))
			return sk_error_set(err, SK_EIO, "cracklib: %s", msg);
		if (msg || (msg2 && strstr(msg2, "dictionary")))
			*weak = SK_AUTH_WEAK_GUESSABLE;
	}
	if (*weak)
		return sk_error_set(err, SK_EINVAL, "%s", sk_auth_weak_text(*weak, SK_LANG_EN));
	return 0;
}

static int hash_password(const char *password, char out[crypto_pwhash_STRBYTES], sk_error *err)
{
	if (crypto_pwhash_str_alg(out, password, strlen(password),
				  crypto_pwhash_OPSLIMIT_INTERACTIVE,
				  crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return sk_error_set(err, SK_ENOMEM, "argon2id: out of memory");
	return 0;
}

static bool verify_password(const char *hash, const char *password)
{
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

/* SK_EINVAL with *weak = REUSED when password matches one of the newest `history` hashes
 * of user id. */
static int check_history(sk_auth *a, int64_t id, const char *password, sk_auth_weak *weak,
			 sk_error *err)
{
	if (!a->s.history)
		return 0;
	sqlite3_stmt *st;
	int rc = prepare(a, "SELECT hash FROM history WHERE user_id=? ORDER BY set_us DESC, rowid DESC LIMIT ?",
			 &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, a->s.history);
	int r;
	bool reused = false;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		reused = reused || verify_password((const char *)sqlite3_column_text(st, 0), password);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return db_err(a, err, "history");
	if (reused) {
		*weak = SK_AUTH_WEAK_REUSED;
		return sk_error_set(err, SK_EINVAL, "%s", sk_auth_weak_text(*weak, SK_LANG_EN));
	}
	return 0;
}

/* Records hash in the history of id, keeping the newest HISTORY_MAX. In a transaction. */
static int add_history(sk_auth *a, int64_t id, const char *hash, int64_t t, sk_error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(a, "INSERT INTO history(user_id, set_us, hash) VALUES(?,?,?)", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, t);
	sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
	if ((rc = step_done(a, st, err)))
		return rc;
	if ((rc = prepare(a, "DELETE FROM history WHERE user_id=?1 AND rowid NOT IN (SELECT rowid FROM history WHERE user_id=?1 ORDER BY set_us DESC, rowid DESC LIMIT ?2)",
			  &st, err)))
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, HISTORY_MAX);
	return step_done(a, st, err);
}

static int private_files(const char *dir, sk_error *err)
{
	static const char *const names[] = {"auth.db", "auth.db-wal", "auth.db-shm"};
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

static int set_settings(sk_auth *a, const sk_auth_settings *s, sk_error *err)
{
	sk_auth_settings d;
	if (!s) {
		sk_auth_settings_default(&d);
		s = &d;
	}
	char *org = NULL;
	if (s->organization && !(org = strdup(s->organization)))
		return sk_error_set(err, SK_ENOMEM, "auth settings");
	free(a->org);
	a->org = org;
	a->s = *s;
	a->s.organization = a->org;
	if (a->s.history > HISTORY_MAX)
		a->s.history = HISTORY_MAX;
	return 0;
}

int sk_auth_open(const char *dir, sk_audit *audit, const sk_auth_settings *s,
		 const sk_auth_options *opt, sk_auth **out, sk_error *err)
{
	*out = NULL;
	int rc = sk_crypto_init(err);
	if (rc)
		return rc;
	pthread_once(&oath_once, oath_start);
	if (oath_init_rc != OATH_OK)
		return sk_error_set(err, SK_EIO, "liboath: %s", oath_strerror(oath_init_rc));
	sk_auth *a = calloc(1, sizeof(*a));
	if (!a)
		return sk_error_set(err, SK_ENOMEM, "auth");
	a->audit = audit;
	if (opt)
		a->opt = *opt;
	if ((rc = set_settings(a, s, err)) || (rc = sk_dir_private(dir, err))) {
		sk_auth_close(a);
		return rc;
	}
	char *path = NULL;
	if (asprintf(&path, "%s/auth.db", dir) < 0) {
		sk_auth_close(a);
		return sk_error_set(err, SK_ENOMEM, "auth");
	}
	if (sqlite3_open_v2(path, &a->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				   SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		rc = sk_error_set(err, SK_EIO, "open %s: %s", path,
				  a->db ? sqlite3_errmsg(a->db) : "out of memory");
		free(path);
		sk_auth_close(a);
		return rc;
	}
	free(path);
	if ((rc = private_files(dir, err))) {
		sk_auth_close(a);
		return rc;
	}
	sqlite3_busy_timeout(a->db, 60000);
	if ((rc = exec(a, "PRAGMA journal_mode=WAL", err)) ||
	    (rc = exec(a, "PRAGMA synchronous=FULL", err)) ||
	    (rc = exec(a, "BEGIN IMMEDIATE", err))) {
		sk_auth_close(a);
		return rc;
	}
	if ((rc = exec(a, schema, err)) == 0)
		rc = exec(a, "COMMIT", err);
	if (rc == 0)
		rc = private_files(dir, err);
	if (rc) {
		rollback(a);
		sk_auth_close(a);
		return rc;
	}
	*out = a;
	return 0;
}

void sk_auth_close(sk_auth *a)
{
	if (!a)
		return;
	sqlite3_close_v2(a->db);
	free(a->org);
	free(a->dummy_hash);
	free(a);
}

int sk_auth_configure(sk_auth *a, const sk_auth_settings *s, sk_error *err)
{
	return set_settings(a, s, err);
}

/* ---- users ---- */

#define USER_COLS \
	"id, name, section, mail, roles, disabled, created_us, password_us, locked_until_us, failures"

static void read_user(sqlite3_stmt *st, sk_auth_user *u)
{
	memset(u, 0, sizeof(*u));
	u->id = sqlite3_column_int64(st, 0);
	snprintf(u->name, sizeof(u->name), "%s", (const char *)sqlite3_column_text(st, 1));
	snprintf(u->section, sizeof(u->section), "%s", (const char *)sqlite3_column_text(st, 2));
	snprintf(u->mail, sizeof(u->mail), "%s", (const char *)sqlite3_column_text(st, 3));
	const char *r = (const char *)sqlite3_column_text(st, 4);
	while (r && *r && u->nroles < SK_AUTH_ROLES_MAX) {
		size_t l = strcspn(r, "\n");
		if (l && l <= SK_AUTH_ROLE_MAX) {
			memcpy(u->roles[u->nroles], r, l);
			u->roles[u->nroles++][l] = 0;
		}
		r += l + (r[l] == '\n');
	}
	u->disabled = sqlite3_column_int(st, 5) != 0;
	u->created_us = sqlite3_column_int64(st, 6);
	u->password_us = sqlite3_column_int64(st, 7);
	u->locked_until_us = sqlite3_column_int64(st, 8);
	u->failures = (uint32_t)sqlite3_column_int64(st, 9);
}

static int get_user(sk_auth *a, const char *name, int64_t id, sk_auth_user *u, sk_error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(a, name ? "SELECT " USER_COLS " FROM users WHERE name=?"
				 : "SELECT " USER_COLS " FROM users WHERE id=?",
			 &st, err);
	if (rc)
		return rc;
	if (name)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, id);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		read_user(st, u);
	sqlite3_finalize(st);
	if (r == SQLITE_ROW)
		return 0;
	if (r == SQLITE_DONE)
		return name ? sk_error_set(err, SK_ENOTFOUND, "no user '%s'", name)
			    : sk_error_set(err, SK_ENOTFOUND, "no user with id %lld", (long long)id);
	return db_err(a, err, "user");
}

int sk_auth_user_get(sk_auth *a, const char *name, sk_auth_user *u, sk_error *err)
{
	if (!name_ok(name))
		return sk_error_set(err, SK_ENOTFOUND, "no user '%s'", name ? name : "");
	return get_user(a, name, 0, u, err);
}

int sk_auth_user_get_id(sk_auth *a, int64_t id, sk_auth_user *u, sk_error *err)
{
	return get_user(a, NULL, id, u, err);
}

int sk_auth_user_list(sk_auth *a, sk_auth_user_fn fn, void *ctx, sk_error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(a, "SELECT " USER_COLS " FROM users ORDER BY name", &st, err);
	if (rc)
		return rc;
	int r;
	sk_auth_user u;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		read_user(st, &u);
		if ((rc = fn(ctx, &u)))
			break;
	}
	sqlite3_finalize(st);
	if (rc)
		return rc;
	if (r != SQLITE_DONE)
		return db_err(a, err, "list");
	return 0;
}

int sk_auth_user_add(sk_auth *a, const struct sk_policy *p, const char *name,
		     const char *const *roles, size_t nroles, const char *section,
		     const char *password, const char *by, int64_t *id, char *totp_b32,
		     char **uri, sk_auth_weak *weak, sk_error *err)
{
	sk_auth_weak w = SK_AUTH_WEAK_NONE;
	if (weak)
		*weak = w;
	if (!name_ok(name))
		return sk_error_set(err, SK_EINVAL,
				    "login name '%s' is invalid (lower-case a-z, 0-9, . _ -, at most %d, starting with a letter or digit)",
				    name ? name : "", SK_AUTH_NAME_MAX);
	if (!by_ok(by))
		return sk_error_set(err, SK_EINVAL, "acting user missing or invalid");
	if (!p)
		return sk_error_set(err, SK_EINVAL, "no policy");
	if (!nroles || nroles > SK_AUTH_ROLES_MAX)
		return sk_error_set(err, SK_EINVAL, "a user has 1 to %d roles", SK_AUTH_ROLES_MAX);
	sk_buf rl;
	sk_buf_init(&rl, (SK_AUTH_ROLE_MAX + 1) * SK_AUTH_ROLES_MAX);
	for (size_t i = 0; i < nroles; i++) {
		if (!roles[i] || !sk_policy_has_role(p, roles[i]) || strlen(roles[i]) > SK_AUTH_ROLE_MAX) {
			sk_buf_free(&rl);
			return sk_error_set(err, SK_EINVAL, "role '%s' is not defined in the policy",
					    roles[i] ? roles[i] : "");
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(roles[i], roles[j])) {
				sk_buf_free(&rl);
				return sk_error_set(err, SK_EINVAL, "role '%s' given twice", roles[i]);
			}
		if (sk_buf_printf(&rl, "%s%s", i ? "\n" : "", roles[i])) {
			sk_buf_free(&rl);
			return sk_error_set(err, SK_ENOMEM, "roles");
		}
	}
	if (!section)
		section = "";
	if (*section && !sk_policy_has_section(p, section)) {
		sk_buf_free(&rl);
		return sk_error_set(err, SK_EINVAL, "section '%s' is not defined in the policy", section);
	}
	int rc = check_password(a, name, section, password, &w, err);
	if (weak)
		*weak = w;
	char hash[crypto_pwhash_STRBYTES], b32[TOTP_B32_LEN + 1];
	if (rc == 0)
		rc = hash_password(password, hash, err);
	if (rc == 0)
		rc = totp_new(b32, err);
	if (rc) {
		sk_buf_free(&rl);
		return rc;
	}
	int64_t t = now_us(a), nid = 0;
	sqlite3_stmt *st = NULL;
	if ((rc = exec(a, "BEGIN IMMEDIATE", err))) {
		sk_buf_free(&rl);
		sodium_memzero(b32, sizeof(b32));
		return rc;
	}
	rc = prepare(a, "INSERT INTO users(name, section, roles, created_us, password_us, hash, totp) VALUES(?,?,?,?,?,?,?)",
		     &st, err);
	if (rc == 0) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, section, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, sk_buf_str(&rl), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, t);
		sqlite3_bind_int64(st, 5, t);
		sqlite3_bind_text(st, 6, hash, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, b32, -1, SQLITE_STATIC);
		int r = sqlite3_step(st);
		sqlite3_finalize(st);
		if (r == SQLITE_CONSTRAINT)
			rc = sk_error_set(err, SK_EINVAL, "user '%s' exists", name);
		else if (r != SQLITE_DONE)
			rc = db_err(a, err, "insert user");
		nid = sqlite3_last_insert_rowid(a->db);
	}
	if (rc == 0)
		rc = add_history(a, nid, hash, t, err);
	if (rc == 0) {
		char detail[1200];
		snprintf(detail, sizeof(detail), "id=%lld roles=%s section=%s", (long long)nid,
			 sk_buf_str(&rl), *section ? section : "-");
		for (char *q = detail; *q; q++)
			if (*q == '\n')
				*q = ',';
		rc = audit(a, by, "auth.user-add", name, "ok", detail, err);
	}
	if (rc == 0)
		rc = exec(a, "COMMIT", err);
	sk_buf_free(&rl);
	if (rc == 0)
		rc = totp_uri(a, name, b32, uri, err);
	if (rc) {
		rollback(a);
		sodium_memzero(b32, sizeof(b32));
		return rc;
	}
	if (id)
		*id = nid;
	if (totp_b32)
		memcpy(totp_b32, b32, sizeof(b32));
	sodium_memzero(b32, sizeof(b32));
	return 0;
}

/* UPDATE users SET <set> WHERE name=? with one text or integer value, and the audit record,
 * in one transaction; SK_ENOTFOUND when there is no such user. extra (may be NULL) runs
 * in the same transaction with the user's id. */
static int update_user(sk_auth *a, const char *name, const char *set, const char *text,
		       int64_t num, const char *by, const char *action, const char *detail,
		       int (*extra)(sk_auth *, int64_t, void *, sk_error *), void *ectx,
		       sk_error *err)
{
	if (!name_ok(name))
		return sk_error_set(err, SK_ENOTFOUND, "no user '%s'", name ? name : "");
	if (!by_ok(by))
		return sk_error_set(err, SK_EINVAL, "acting user missing or invalid");
	int rc = exec(a, "BEGIN IMMEDIATE", err);
	if (rc)
		return rc;
	sk_auth_user u;
	rc = get_user(a, name, 0, &u, err);
	char sql[256];
	snprintf(sql, sizeof(sql), "UPDATE users SET %s WHERE id=?2", set);
	sqlite3_stmt *st = NULL;
	if (rc == 0 && (rc = prepare(a, sql, &st, err)) == 0) {
		if (text)
			sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
		else
			sqlite3_bind_int64(st, 1, num);
		sqlite3_bind_int64(st, 2, u.id);
		rc = step_done(a, st, err);
	}
	if (rc == 0 && extra)
		rc = extra(a, u.id, ectx, err);
	if (rc == 0)
		rc = audit(a, by, action, name, "ok", detail, err);
	if (rc == 0)
		rc = exec(a, "COMMIT", err);
	if (rc)
		rollback(a);
	return rc;
}

static int drop_sessions(sk_auth *a, int64_t id, void *ctx, sk_error *err)
{
	(void)ctx;
	sqlite3_stmt *st;
	int rc = prepare(a, "DELETE FROM sessions WHERE user_id=?", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	return step_done(a, st, err);
}

int sk_auth_user_set_mail(sk_auth *a, const char *name, const char *mail, const char *by,
			  sk_error *err)
{
	if (!mail)
		mail = "";
	if (*mail && !sk_mail_addr_valid(mail))
		return sk_error_set(err, SK_EINVAL, "mail address '%s' is invalid", mail);
	char detail[300];
	snprintf(detail, sizeof(detail), "mail=%s", *mail ? mail : "-");
	return update_user(a, name, "mail=?1", mail, 0, by, "auth.mail-set", detail, NULL, NULL,
			   err);
}

int sk_auth_user_disable(sk_auth *a, const char *name, bool disabled, const char *by,
			 sk_error *err)
{
	return update_user(a, name, disabled ? "disabled=?1" : "disabled=?1, failures=0, locked_until_us=0",
			   NULL, disabled, by, disabled ? "auth.user-disable" : "auth.user-enable",
			   "", disabled ? drop_sessions : NULL, NULL, err);
}

int sk_auth_totp_reset(sk_auth *a, const char *name, const char *by, char *totp_b32,
		       char **uri, sk_error *err)
{
	char b32[TOTP_B32_LEN + 1];
	int rc = totp_new(b32, err);
	if (rc == 0)
		rc = update_user(a, name, "totp=?1, totp_step=0", b32, 0, by, "auth.totp-reset", "",
				 drop_sessions, NULL, err);
	if (rc == 0 && (rc = totp_uri(a, name, b32, uri, err)) == 0 && totp_b32)
		memcpy(totp_b32, b32, sizeof(b32));
	sodium_memzero(b32, sizeof(b32));
	return rc;
}

struct pwset {
	const char *hash;
	int64_t t;
};

static int pw_extra(sk_auth *a, int64_t id, void *ctx, sk_error *err)
{
	struct pwset *x = ctx;
	sqlite3_stmt *st;
	int rc = prepare(a, "UPDATE users SET password_us=? WHERE id=?", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, x->t);
	sqlite3_bind_int64(st, 2, id);
	if ((rc = step_done(a, st, err)) || (rc = add_history(a, id, x->hash, x->t, err)))
		return rc;
	return drop_sessions(a, id, NULL, err);
}

int sk_auth_password_set(sk_auth *a, const char *name, const char *password, const char *by,
			 sk_auth_weak *weak, sk_error *err)
{
	sk_auth_weak w = SK_AUTH_WEAK_NONE;
	if (weak)
		*weak = w;
	sk_auth_user u;
	int rc = sk_auth_user_get(a, name, &u, err);
	if (rc)
		return rc;
	rc = check_password(a, u.name, u.section, password, &w, err);
	if (rc == 0)
		rc = check_history(a, u.id, password, &w, err);
	if (weak)
		*weak = w;
	char hash[crypto_pwhash_STRBYTES];
	if (rc == 0)
		rc = hash_password(password, hash, err);
	if (rc)
		return rc;
	struct pwset x = {hash, now_us(a)};
	return update_user(a, name, "hash=?1", hash, 0, by, "auth.password-set", "", pw_extra, &x,
			   err);
}

/* ---- rights ---- */

bool sk_auth_has_role(const sk_auth_rights *r, const char *role)
{
	for (size_t i = 0; role && i < r->nroles; i++)
		if (!strcmp(r->roles[i], role))
			return true;
	return false;
}

static void add_role(const struct sk_policy *p, sk_auth_rights *r, const char *role)
{
	if (!sk_policy_has_role(p, role) || strlen(role) > SK_AUTH_ROLE_MAX ||
	    r->nroles >= SK_AUTH_ROLES_MAX || sk_auth_has_role(r, role))
		return;
	snprintf(r->roles[r->nroles++], sizeof(r->roles[0]), "%s", role);
	r->perms |= sk_policy_role_perms(p, role);
}

int sk_auth_effective(const sk_auth_user *u, const struct sk_policy *p, sk_auth_rights *r)
{
	memset(r, 0, sizeof(*r));
	if (!u || !p)
		return SK_EINVAL;
	const char *const *proles = NULL;
	size_t npr = 0;
	const char *psec = NULL;
	const char *sec = u->section;
	if (sk_policy_user_find(p, u->name, &proles, &npr, &psec, NULL) == 0) {
		for (size_t i = 0; i < npr; i++)
			add_role(p, r, proles[i]);
		if (psec)
			sec = psec;
	} else {
		for (size_t i = 0; i < u->nroles; i++)
			add_role(p, r, u->roles[i]);
	}
	if (sec && *sec && sk_policy_has_section(p, sec) && strlen(sec) <= SK_AUTH_SECTION_MAX)
		snprintf(r->section, sizeof(r->section), "%s", sec);
	if (u->disabled) {
		r->perms = 0;
		r->nroles = 0;
	}
	return 0;
}

/* ---- login and sessions ---- */

static void token_new(char out[SK_AUTH_TOKEN_LEN + 1])
{
	uint8_t raw[32];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, SK_AUTH_TOKEN_LEN + 1, raw, sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

static bool token_ok(const char *t)
{
	if (!t || strlen(t) != SK_AUTH_TOKEN_LEN)
		return false;
	for (const char *p = t; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_'))
			return false;
	return true;
}

static void session_expiry(const sk_auth *a, sk_auth_session *s)
{
	int64_t idle = s->last_us + (int64_t)a->s.session_idle_seconds * 1000000;
	int64_t max = s->created_us + (int64_t)a->s.session_max_seconds * 1000000;
	s->expires_us = idle < max ? idle : max;
}

/* Counts a failure (locks at lockout_after) and writes the audit records; in a transaction. */
static int fail_login(sk_auth *a, const sk_auth_user *u, int64_t t, const char *detail,
		      const char *why, sk_error *err)
{
	uint32_t f = u->failures + 1;
	bool lock = a->s.lockout_after && f >= a->s.lockout_after;
	sqlite3_stmt *st;
	int rc = prepare(a, "UPDATE users SET failures=?, locked_until_us=? WHERE id=?", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, lock ? 0 : f);
	sqlite3_bind_int64(st, 2, lock ? t + (int64_t)a->s.lockout_seconds * 1000000 : u->locked_until_us);
	sqlite3_bind_int64(st, 3, u->id);
	if ((rc = step_done(a, st, err)))
		return rc;
	char d[512];
	snprintf(d, sizeof(d), "%s failures=%u", detail, f);
	if ((rc = audit(a, u->name, "auth.login", u->name, why, d, err)))
		return rc;
	if (lock) {
		snprintf(d, sizeof(d), "%s failures=%u minutes=%u", detail, f,
			 a->s.lockout_seconds / 60);
		rc = audit(a, "sekisho", "auth.lockout", u->name, "locked", d, err);
	}
	return rc;
}

int sk_auth_login(sk_auth *a, const char *name, const char *password, const char *totp,
		  const char *zone, const char *peer, sk_auth_session *s, sk_auth_fail *fail,
		  sk_error *err)
{
	sk_auth_fail fl = SK_AUTH_FAIL_BAD;
	if (fail)
		*fail = fl;
	if (!zone || !*zone || strlen(zone) >= sizeof(s->zone))
		return sk_error_set(err, SK_EINVAL, "zone missing or too long");
	char detail[256];
	char pr[64];
	snprintf(pr, sizeof(pr), "%s", peer && by_ok(peer) ? peer : "-");
	snprintf(detail, sizeof(detail), "zone=%s peer=%s", zone, pr);
	if (!password || strlen(password) > SK_AUTH_PASSWORD_MAX)
		password = "";
	sk_auth_user u;
	int64_t t = now_us(a);
	int rc = name_ok(name) ? get_user(a, name, 0, &u, err) : SK_ENOTFOUND;
	if (rc == SK_ENOTFOUND) {
		/* the same cost as a known user: the answer's time does not tell */
		if (!a->dummy_hash && (a->dummy_hash = malloc(crypto_pwhash_STRBYTES)) &&
		    hash_password("sekisho-no-such-user", a->dummy_hash, err)) {
			free(a->dummy_hash);
			a->dummy_hash = NULL;
		}
		if (a->dummy_hash)
			verify_password(a->dummy_hash, password);
		char obj[SK_AUTH_NAME_MAX + 1];
		snprintf(obj, sizeof(obj), "%s", name_ok(name) ? name : "(invalid)");
		if ((rc = audit(a, "sekisho", "auth.login", obj, "failed: unknown-user", detail, err)))
			return rc;
		return sk_error_set(err, SK_EINVAL, "login failed");
	}
	if (rc)
		return rc;
	if ((rc = exec(a, "BEGIN IMMEDIATE", err)))
		return rc;
	/* read again inside the transaction (failures of a concurrent login count) */
	sqlite3_stmt *st = NULL;
	char hash[crypto_pwhash_STRBYTES] = "", b32[TOTP_B32_LEN + 8] = "";
	int64_t last_step = 0;
	if ((rc = get_user(a, name, 0, &u, err)) == 0 &&
	    (rc = prepare(a, "SELECT hash, totp, totp_step FROM users WHERE id=?", &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, u.id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			snprintf(hash, sizeof(hash), "%s", (const char *)sqlite3_column_text(st, 0));
			snprintf(b32, sizeof(b32), "%s", (const char *)sqlite3_column_text(st, 1));
			last_step = sqlite3_column_int64(st, 2);
		} else {
			rc = db_err(a, err, "login");
		}
		sqlite3_finalize(st);
	}
	if (rc) {
		rollback(a);
		return rc;
	}
	if (u.locked_until_us > t) {
		fl = SK_AUTH_FAIL_LOCKED;
		rc = audit(a, u.name, "auth.login", u.name, "refused: locked", detail, err);
	} else if (u.disabled) {
		fl = SK_AUTH_FAIL_DISABLED;
		rc = audit(a, u.name, "auth.login", u.name, "refused: disabled", detail, err);
	} else {
		bool pw = verify_password(hash, password);
		int64_t step = totp_match(b32, totp, t / 1000000, a->s.totp_window, last_step);
		if (!pw || step < 0) {
			rc = fail_login(a, &u, t, detail, !pw ? "failed: password" : "failed: totp", err);
		} else {
			fl = SK_AUTH_FAIL_NONE;
			sk_auth_session ns;
			memset(&ns, 0, sizeof(ns));
			token_new(ns.token);
			token_new(ns.csrf);
			ns.user_id = u.id;
			snprintf(ns.user, sizeof(ns.user), "%s", u.name);
			snprintf(ns.zone, sizeof(ns.zone), "%s", zone);
			ns.created_us = ns.last_us = t;
			session_expiry(a, &ns);
			uint8_t th[SK_SHA256_LEN];
			sk_sha256(ns.token, SK_AUTH_TOKEN_LEN, th);
			char sid[17];
			sk_hex(th, 8, sid);
			if ((rc = prepare(a, "UPDATE users SET failures=0, locked_until_us=0, totp_step=? WHERE id=?",
					  &st, err)) == 0) {
				sqlite3_bind_int64(st, 1, step);
				sqlite3_bind_int64(st, 2, u.id);
				rc = step_done(a, st, err);
			}
			if (rc == 0 &&
			    (rc = prepare(a, "INSERT INTO sessions(token_sha, csrf, user_id, zone, created_us, last_us) VALUES(?,?,?,?,?,?)",
					  &st, err)) == 0) {
				sqlite3_bind_blob(st, 1, th, sizeof(th), SQLITE_STATIC);
				sqlite3_bind_text(st, 2, ns.csrf, -1, SQLITE_STATIC);
				sqlite3_bind_int64(st, 3, u.id);
				sqlite3_bind_text(st, 4, zone, -1, SQLITE_STATIC);
				sqlite3_bind_int64(st, 5, t);
				sqlite3_bind_int64(st, 6, t);
				rc = step_done(a, st, err);
			}
			if (rc == 0) {
				char d[320];
				snprintf(d, sizeof(d), "%s session=%s", detail, sid);
				rc = audit(a, u.name, "auth.login", u.name, "ok", d, err);
			}
			if (rc == 0)
				*s = ns;
			sodium_memzero(&ns, sizeof(ns));
		}
	}
	sodium_memzero(hash, sizeof(hash));
	sodium_memzero(b32, sizeof(b32));
	if (rc == 0)
		rc = exec(a, "COMMIT", err);
	if (rc) {
		rollback(a);
		if (fl == SK_AUTH_FAIL_NONE)
			memset(s, 0, sizeof(*s));
		return rc;
	}
	if (fail)
		*fail = fl;
	if (fl != SK_AUTH_FAIL_NONE)
		return sk_error_set(err, SK_EINVAL, fl == SK_AUTH_FAIL_LOCKED ? "user locked" : "login failed");
	return 0;
}

static int delete_session(sk_auth *a, const uint8_t th[SK_SHA256_LEN], sk_error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(a, "DELETE FROM sessions WHERE token_sha=?", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_blob(st, 1, th, SK_SHA256_LEN, SQLITE_STATIC);
	return step_done(a, st, err);
}

int sk_auth_session_get(sk_auth *a, const char *token, const char *zone, sk_auth_session *s,
			sk_error *err)
{
	if (!token_ok(token) || !zone)
		return sk_error_set(err, SK_ENOTFOUND, "no session");
	uint8_t th[SK_SHA256_LEN];
	sk_sha256(token, SK_AUTH_TOKEN_LEN, th);
	sqlite3_stmt *st;
	int rc = prepare(a, "SELECT s.csrf, s.user_id, s.zone, s.created_us, s.last_us, u.name, u.disabled"
			 " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_sha=?",
			 &st, err);
	if (rc)
		return rc;
	sqlite3_bind_blob(st, 1, th, sizeof(th), SQLITE_STATIC);
	sk_auth_session ns;
	memset(&ns, 0, sizeof(ns));
	bool disabled = false;
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		snprintf(ns.csrf, sizeof(ns.csrf), "%s", (const char *)sqlite3_column_text(st, 0));
		ns.user_id = sqlite3_column_int64(st, 1);
		snprintf(ns.zone, sizeof(ns.zone), "%s", (const char *)sqlite3_column_text(st, 2));
		ns.created_us = sqlite3_column_int64(st, 3);
		ns.last_us = sqlite3_column_int64(st, 4);
		snprintf(ns.user, sizeof(ns.user), "%s", (const char *)sqlite3_column_text(st, 5));
		disabled = sqlite3_column_int(st, 6) != 0;
	}
	sqlite3_finalize(st);
	if (r == SQLITE_DONE)
		return sk_error_set(err, SK_ENOTFOUND, "no session");
	if (r != SQLITE_ROW)
		return db_err(a, err, "session");
	if (strcmp(ns.zone, zone))
		return sk_error_set(err, SK_ENOTFOUND, "no session"); /* another listener's */
	int64_t t = now_us(a);
	session_expiry(a, &ns);
	if (disabled || t >= ns.expires_us) {
		if ((rc = delete_session(a, th, err)))
			return rc;
		return sk_error_set(err, SK_ENOTFOUND, "session expired");
	}
	if ((rc = prepare(a, "UPDATE sessions SET last_us=? WHERE token_sha=?", &st, err)))
		return rc;
	sqlite3_bind_int64(st, 1, t);
	sqlite3_bind_blob(st, 2, th, sizeof(th), SQLITE_STATIC);
	if ((rc = step_done(a, st, err)))
		return rc;
	ns.last_us = t;
	session_expiry(a, &ns);
	*s = ns;
	return 0;
}

bool sk_auth_csrf_ok(const sk_auth_session *s, const char *header)
{
	if (!s || !header || strlen(s->csrf) != SK_AUTH_TOKEN_LEN ||
	    strlen(header) != SK_AUTH_TOKEN_LEN)
		return false;
	return sodium_memcmp(s->csrf, header, SK_AUTH_TOKEN_LEN) == 0;
}

int sk_auth_logout(sk_auth *a, const char *token, sk_error *err)
{
	if (!token_ok(token))
		return sk_error_set(err, SK_ENOTFOUND, "no session");
	uint8_t th[SK_SHA256_LEN];
	sk_sha256(token, SK_AUTH_TOKEN_LEN, th);
	int rc = exec(a, "BEGIN IMMEDIATE", err);
	if (rc)
		return rc;
	sqlite3_stmt *st;
	char name[SK_AUTH_NAME_MAX + 1] = "";
	if ((rc = prepare(a, "SELECT u.name FROM sessions s JOIN users u ON u.id=s.user_id WHERE s.token_sha=?",
			  &st, err)) == 0) {
		sqlite3_bind_blob(st, 1, th, sizeof(th), SQLITE_STATIC);
		int r = sqlite3_step(st);
		if (r == SQLITE_ROW)
			snprintf(name, sizeof(name), "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		if (r == SQLITE_DONE)
			rc = sk_error_set(err, SK_ENOTFOUND, "no session");
		else if (r != SQLITE_ROW)
			rc = db_err(a, err, "logout");
	}
	char sid[17];
	sk_hex(th, 8, sid);
	char d[64];
	snprintf(d, sizeof(d), "session=%s", sid);
	if (rc == 0)
		rc = delete_session(a, th, err);
	if (rc == 0)
		rc = audit(a, name, "auth.logout", name, "ok", d, err);
	if (rc == 0)
		rc = exec(a, "COMMIT", err);
	if (rc)
		rollback(a);
	return rc;
}

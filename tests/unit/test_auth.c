/* The auth service: password refusals, history, lockout and unlock, TOTP against an
 * independent RFC 6238 computation (OpenSSL HMAC-SHA1 here, not liboath), sessions
 * (expiry, zone binding, fixation, CSRF), rights from the policy, audit records. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sekisho/audit.h"
#include "sekisho/auth.h"
#include "sekisho/policy.h"
#include "testutil.h"

static const char POLICY[] =
	"version: 1\n"
	"organization: 相模原市\n"
	"zones:\n"
	"  mynumber: { networks: [192.0.2.0/25], gateway: { interface: sk-myn, address: 192.0.2.1 } }\n"
	"  lgwan: { networks: [198.51.100.0/24], gateway: { interface: sk-lgwan, address: 198.51.100.1 } }\n"
	"  internet: { networks: [203.0.113.0/24], gateway: { interface: sk-inet, address: 203.0.113.1 } }\n"
	"sections:\n"
	"  johoseisaku: { name: 情報政策課 }\n"
	"  somu: { name: 総務課 }\n"
	"roles:\n"
	"  staff: { name: 職員 }\n"
	"  security-manager: { name: 情報セキュリティ管理者 }\n"
	"  auditor: { name: 監査員 }\n"
	"  temp: { name: 臨時, permissions: [upload] }\n"
	"users:\n"
	"  - { id: joho-kacho, roles: [security-manager], section: somu }\n";

/* the same policy with the role temp gone */
static const char POLICY_NO_TEMP[] =
	"version: 1\n"
	"zones:\n"
	"  mynumber: { networks: [192.0.2.0/25], gateway: { interface: sk-myn, address: 192.0.2.1 } }\n"
	"  lgwan: { networks: [198.51.100.0/24], gateway: { interface: sk-lgwan, address: 198.51.100.1 } }\n"
	"  internet: { networks: [203.0.113.0/24], gateway: { interface: sk-inet, address: 203.0.113.1 } }\n"
	"sections:\n"
	"  johoseisaku: { name: 情報政策課 }\n"
	"roles:\n"
	"  staff: { name: 職員 }\n"
	"  security-manager: { name: 情報セキュリティ管理者 }\n"
	"  auditor: { name: 監査員 }\n";

#define GOOD "Kx9#vq2!Lm7@pz"
#define GOOD2 "Rw4$hn8%Tb3^ky"
#define T0 ((int64_t)1767225600 * 1000000) /* 2026-01-01 00:00:00 UTC */

struct env {
	char dir[64];
	int64_t now;
	sk_audit *audit;
	sk_auth *a;
	sk_policy *p;
	sk_auth_settings s;
};

static int64_t fake_now(void *ctx)
{
	return ((struct env *)ctx)->now;
}

static sk_policy *load(const char *text)
{
	sk_policy *p = NULL;
	sk_error err;
	assert_int_equal(sk_policy_parse(text, strlen(text), 20260101, &p, NULL, &err), 0);
	return p;
}

static struct env *env_new(void)
{
	struct env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	snprintf(e->dir, sizeof(e->dir), "/tmp/sk-auth-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	e->now = T0;
	e->p = load(POLICY);
	sk_auth_settings_from_policy(e->p, &e->s);
	sk_error err;
	sk_audit_options ao;
	sk_audit_options_default(&ao);
	ao.clock = fake_now;
	ao.clock_ctx = e;
	sk_auth_options o = {.clock = fake_now, .clock_ctx = e};
	if (sk_audit_open(e->dir, &ao, &e->audit, &err) ||
	    sk_auth_open(e->dir, e->audit, &e->s, &o, &e->a, &err))
		fail_msg("open: %s", err.msg);
	return e;
}

static void env_free(struct env *e)
{
	sk_auth_close(e->a);
	sk_audit_close(e->audit);
	sk_policy_free(e->p);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	assert_int_equal(system(cmd), 0);
	free(e);
}

/* ---- an independent TOTP (RFC 6238 with HMAC-SHA1 from OpenSSL) ---- */

static size_t b32dec(const char *s, uint8_t *out)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;
	for (; *s && *s != '='; s++) {
		const char *q = strchr(al, *s);
		assert_non_null(q);
		acc = (acc << 5) | (uint32_t)(q - al);
		bits += 5;
		if (bits >= 8) {
			out[n++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	return n;
}

static void totp_at(const char *b32, int64_t t_s, char code[7])
{
	uint8_t key[64], msg[8], md[20];
	size_t kl = b32dec(b32, key);
	uint64_t c = (uint64_t)(t_s / 30);
	for (int i = 7; i >= 0; i--, c >>= 8)
		msg[i] = (uint8_t)c;
	unsigned mdl = 0;
	assert_non_null(HMAC(EVP_sha1(), key, (int)kl, msg, 8, md, &mdl));
	int off = md[19] & 15;
	uint32_t v = ((uint32_t)(md[off] & 0x7f) << 24) | ((uint32_t)md[off + 1] << 16) |
		     ((uint32_t)md[off + 2] << 8) | md[off + 3];
	snprintf(code, 7, "%06u", v % 1000000);
}

static void add_user(struct env *e, const char *name, const char *role, const char *section,
		     char secret[33])
{
	sk_error err;
	sk_auth_weak w;
	const char *roles[] = {role};
	char *uri = NULL;
	if (sk_auth_user_add(e->a, e->p, name, roles, 1, section, GOOD, "admin", NULL, secret, &uri,
			     &w, &err))
		fail_msg("add %s: %s", name, err.msg);
	assert_non_null(uri);
	free(uri);
}

static int login(struct env *e, const char *name, const char *pw, const char *secret,
		 int64_t offset_s, const char *zone, sk_auth_session *s, sk_auth_fail *f)
{
	char code[7];
	totp_at(secret, e->now / 1000000 + offset_s, code);
	sk_error err;
	return sk_auth_login(e->a, name, pw, code, zone, "127.0.0.1", s, f, &err);
}

/* the audit records of an action (result text of the last one to res) */
struct acount {
	const char *action;
	size_t n;
	char res[128];
	bool leak;
	const char *secret;
};

static int count_fn(void *ctx, const sk_audit_record *r)
{
	struct acount *c = ctx;
	if (!strcmp(r->action, c->action)) {
		c->n++;
		snprintf(c->res, sizeof(c->res), "%s", r->result);
	}
	const char *f[] = {r->actor, r->action, r->object, r->result, r->detail};
	for (int i = 0; i < 5; i++)
		if (strstr(f[i], GOOD) || strstr(f[i], GOOD2) || (c->secret && strstr(f[i], c->secret)))
			c->leak = true;
	return 0;
}

static size_t audit_count(struct env *e, const char *action, char *last, const char *secret)
{
	struct acount c = {.action = action, .secret = secret};
	sk_error err;
	assert_int_equal(sk_audit_list(e->audit, 0, count_fn, &c, &err), 0);
	assert_false(c.leak);
	if (last)
		strcpy(last, c.res);
	return c.n;
}

/* ---- tests ---- */

static void rfc6238_vector(void **state)
{
	(void)state;
	/* RFC 6238 appendix B, SHA-1, secret "12345678901234567890", last 6 digits */
	const char *b32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
	const struct {
		int64_t t;
		const char *code;
	} v[] = {{59, "287082"}, {1111111109, "081804"}, {1234567890, "005924"}, {20000000000, "353130"}};
	for (size_t i = 0; i < 4; i++) {
		char c[7], mine[7];
		sk_error err;
		assert_int_equal(sk_auth_totp_code(b32, v[i].t, c, &err), 0);
		assert_string_equal(c, v[i].code);
		totp_at(b32, v[i].t, mine);
		assert_string_equal(mine, v[i].code);
	}
	char c[7];
	sk_error err;
	assert_int_equal(sk_auth_totp_code("not base32!", 0, c, &err), SK_EINVAL);
}

static void refusals(void **state)
{
	(void)state;
	struct env *e = env_new();
	sk_error err;
	sk_auth_weak w;
	const char *staff[] = {"staff"};
	char secret[33];
	struct {
		const char *name, *pw, *section;
		sk_auth_weak why;
	} bad[] = {
		{"tanaka", "Kx9#vq2!Lm7", NULL, SK_AUTH_WEAK_SHORT},      /* 11 < 12 */
		{"tanaka", "あいうえおかきくけこさ", NULL, SK_AUTH_WEAK_SHORT}, /* 11 code points, 33 bytes */
		{"tanaka", "monkey123456", NULL, SK_AUTH_WEAK_GUESSABLE},
		{"tanaka", "password1234", NULL, SK_AUTH_WEAK_GUESSABLE}, /* the core is a word */
		{"tanaka", "2024!Sunshine#", NULL, SK_AUTH_WEAK_GUESSABLE},
		{"tanaka", "aaaaaaaaaaaaaaaa", NULL, SK_AUTH_WEAK_GUESSABLE},
		{"tanaka", "abcdefghijklmn", NULL, SK_AUTH_WEAK_GUESSABLE},
		{"tanaka", "x9#TANAKA!q2Lm", NULL, SK_AUTH_WEAK_PERSONAL},  /* name, any case */
		{"tanaka.taro", "x9#Taro!q2Lmvv", NULL, SK_AUTH_WEAK_PERSONAL}, /* part of the name */
		{"tanaka", "x9#Somu!q2Lmvv", "somu", SK_AUTH_WEAK_PERSONAL}, /* section */
		{"tanaka", "x9#相模原市!q2Lm", NULL, SK_AUTH_WEAK_PERSONAL}, /* organization */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		w = SK_AUTH_WEAK_NONE;
		int rc = sk_auth_user_add(e->a, e->p, bad[i].name, staff, 1, bad[i].section, bad[i].pw,
					  "admin", NULL, secret, NULL, &w, &err);
		if (rc != SK_EINVAL || w != bad[i].why)
			fail_msg("case %zu (%s): rc %d weak %d: %s", i, bad[i].pw, rc, (int)w, err.msg);
		assert_string_not_equal(sk_auth_weak_text(w, SK_LANG_JA), sk_auth_weak_text(w, SK_LANG_EN));
	}
	/* too long: SK_AUTH_PASSWORD_MAX + 1 bytes; exactly the maximum is accepted */
	char longpw[SK_AUTH_PASSWORD_MAX + 2];
	for (size_t i = 0; i < sizeof(longpw) - 1; i++)
		longpw[i] = "Kx9#vq2!Lm7@pzRw4$hn8%Tb3^kyZ"[i % 29];
	longpw[SK_AUTH_PASSWORD_MAX + 1] = 0;
	assert_int_equal(sk_auth_user_add(e->a, e->p, "tanaka", staff, 1, NULL, longpw, "admin", NULL,
					  secret, NULL, &w, &err), SK_EINVAL);
	assert_int_equal(w, SK_AUTH_WEAK_TOO_LONG);
	longpw[SK_AUTH_PASSWORD_MAX] = 0;
	assert_int_equal(sk_auth_user_add(e->a, e->p, "long", staff, 1, NULL, longpw, "admin", NULL,
					  secret, NULL, &w, &err), 0);
	/* names, roles, sections */
	const char *bogus[] = {"root"}, *twice[] = {"staff", "staff"};
	assert_int_equal(sk_auth_user_add(e->a, e->p, "Tanaka", staff, 1, NULL, GOOD, "admin", NULL,
					  secret, NULL, &w, &err), SK_EINVAL);
	assert_int_equal(sk_auth_user_add(e->a, e->p, "-x", staff, 1, NULL, GOOD, "admin", NULL,
					  secret, NULL, &w, &err), SK_EINVAL);
	char n65[66];
	memset(n65, 'a', 65);
	n65[65] = 0;
	assert_int_equal(sk_auth_user_add(e->a, e->p, n65, staff, 1, NULL, GOOD, "admin", NULL,
					  secret, NULL, &w, &err), SK_EINVAL);
	n65[64] = 0; /* 64 bytes: the limit */
	assert_int_equal(sk_auth_user_add(e->a, e->p, n65, staff, 1, NULL, GOOD, "admin", NULL,
					  secret, NULL, &w, &err), 0);
	assert_int_equal(sk_auth_user_add(e->a, e->p, "tanaka", bogus, 1, NULL, GOOD, "admin", NULL,
					  secret, NULL, &w, &err), SK_EINVAL);
	assert_non_null(strstr(err.msg, "root"));
	assert_int_equal(sk_auth_user_add(e->a, e->p, "tanaka", twice, 2, NULL, GOOD, "admin", NULL,
					  secret, NULL, &w, &err), SK_EINVAL);
	assert_int_equal(sk_auth_user_add(e->a, e->p, "tanaka", staff, 0, NULL, GOOD, "admin", NULL,
					  secret, NULL, &w, &err), SK_EINVAL);
	assert_int_equal(sk_auth_user_add(e->a, e->p, "tanaka", staff, 1, "jinji", GOOD, "admin", NULL,
					  secret, NULL, &w, &err), SK_EINVAL);
	assert_non_null(strstr(err.msg, "jinji"));
	/* accepted, then the same name again */
	int64_t id = 0;
	char *uri = NULL;
	assert_int_equal(sk_auth_user_add(e->a, e->p, "tanaka", staff, 1, "johoseisaku", GOOD, "admin",
					  &id, secret, &uri, &w, &err), 0);
	assert_int_equal(w, SK_AUTH_WEAK_NONE);
	assert_true(id > 0);
	assert_int_equal(strlen(secret), 32);
	assert_true(strncmp(uri, "otpauth://totp/", 15) == 0);
	char want[128];
	snprintf(want, sizeof(want), "secret=%s&issuer=", secret);
	assert_non_null(strstr(uri, want));
	assert_non_null(strstr(uri, ":tanaka?"));
	assert_non_null(strstr(uri, "%E7%9B%B8")); /* 相 percent-encoded (the organization) */
	free(uri);
	assert_int_equal(sk_auth_user_add(e->a, e->p, "tanaka", staff, 1, NULL, GOOD2, "admin", NULL,
					  secret, NULL, &w, &err), SK_EINVAL);
	/* history: the current and recent passwords are refused, up to `history` back */
	assert_int_equal(sk_auth_password_set(e->a, "tanaka", GOOD, "admin", &w, &err), SK_EINVAL);
	assert_int_equal(w, SK_AUTH_WEAK_REUSED);
	assert_int_equal(sk_auth_password_set(e->a, "tanaka", GOOD2, "admin", &w, &err), 0);
	assert_int_equal(sk_auth_password_set(e->a, "tanaka", GOOD, "admin", &w, &err), SK_EINVAL);
	assert_int_equal(w, SK_AUTH_WEAK_REUSED);
	assert_int_equal(sk_auth_password_set(e->a, "tanaka", "x9#TANAKA!q2Lm", "admin", &w, &err),
			 SK_EINVAL);
	assert_int_equal(w, SK_AUTH_WEAK_PERSONAL);
	/* with history 1 only the current one counts */
	e->s.history = 1;
	assert_int_equal(sk_auth_configure(e->a, &e->s, &err), 0);
	assert_int_equal(sk_auth_password_set(e->a, "tanaka", GOOD2, "admin", &w, &err), SK_EINVAL);
	assert_int_equal(sk_auth_password_set(e->a, "tanaka", GOOD, "admin", &w, &err), 0);
	assert_int_equal(sk_auth_password_set(e->a, "nobody", GOOD2, "admin", &w, &err), SK_ENOTFOUND);
	/* the audit records name the changes and never hold a password or secret */
	assert_int_equal(audit_count(e, "auth.user-add", NULL, secret), 3);
	assert_int_equal(audit_count(e, "auth.password-set", NULL, secret), 2);
	/* the files are private */
	char path[128];
	struct stat st;
	snprintf(path, sizeof(path), "%s/auth.db", e->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(e->dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	env_free(e);
}

static void users_and_mail(void **state)
{
	(void)state;
	struct env *e = env_new();
	char s1[33];
	add_user(e, "sato", "staff", NULL, s1);
	sk_error err;
	sk_auth_user u;
	assert_int_equal(sk_auth_user_get(e->a, "sato", &u, &err), 0);
	assert_string_equal(u.name, "sato");
	assert_int_equal(u.nroles, 1);
	assert_string_equal(u.roles[0], "staff");
	assert_int_equal(u.created_us, T0);
	assert_false(u.disabled);
	sk_auth_user v;
	assert_int_equal(sk_auth_user_get_id(e->a, u.id, &v, &err), 0);
	assert_string_equal(v.name, "sato");
	assert_int_equal(sk_auth_user_get(e->a, "Sato", &v, &err), SK_ENOTFOUND);
	assert_int_equal(sk_auth_user_get_id(e->a, 999, &v, &err), SK_ENOTFOUND);
	assert_int_equal(sk_auth_user_set_mail(e->a, "sato", "sato@city.example.lg.jp", "admin", &err), 0);
	assert_int_equal(sk_auth_user_set_mail(e->a, "sato", "a@b.jp\r\nBcc: x@y.jp", "admin", &err),
			 SK_EINVAL);
	assert_int_equal(sk_auth_user_set_mail(e->a, "sato", "Sato <s@b.jp>", "admin", &err), SK_EINVAL);
	assert_int_equal(sk_auth_user_get(e->a, "sato", &u, &err), 0);
	assert_string_equal(u.mail, "sato@city.example.lg.jp");
	assert_int_equal(sk_auth_user_set_mail(e->a, "sato", "", "admin", &err), 0);
	assert_int_equal(sk_auth_user_get(e->a, "sato", &u, &err), 0);
	assert_string_equal(u.mail, "");
	/* ids are never reused */
	char s2[33];
	add_user(e, "suzuki", "staff", NULL, s2);
	sk_auth_user w;
	assert_int_equal(sk_auth_user_get(e->a, "suzuki", &w, &err), 0);
	assert_true(w.id > u.id);
	assert_int_equal(sk_auth_user_disable(e->a, "suzuki", true, "admin", &err), 0);
	assert_int_equal(sk_auth_user_get(e->a, "suzuki", &w, &err), 0);
	assert_true(w.disabled);
	assert_int_equal(sk_auth_user_disable(e->a, "nobody", true, "admin", &err), SK_ENOTFOUND);
	assert_int_equal(sk_auth_user_disable(e->a, "sato", true, "", &err), SK_EINVAL); /* no actor */
	assert_int_equal(audit_count(e, "auth.user-disable", NULL, NULL), 1);
	env_free(e);
}

static void totp_window_and_replay(void **state)
{
	(void)state;
	struct env *e = env_new();
	char secret[33];
	add_user(e, "ito", "staff", NULL, secret);
	sk_auth_session s;
	sk_auth_fail f;
	/* the code of now, of the previous and next steps (window 1); not two steps away */
	assert_int_equal(login(e, "ito", GOOD, secret, 0, "lgwan", &s, &f), 0);
	assert_int_equal(f, SK_AUTH_FAIL_NONE);
	/* the same code again (replay) is refused */
	assert_int_equal(login(e, "ito", GOOD, secret, 0, "lgwan", &s, &f), SK_EINVAL);
	assert_int_equal(f, SK_AUTH_FAIL_BAD);
	e->now += 60 * 1000000; /* now two steps on */
	assert_int_equal(login(e, "ito", GOOD, secret, -60, "lgwan", &s, &f), SK_EINVAL);
	assert_int_equal(login(e, "ito", GOOD, secret, 60, "lgwan", &s, &f), SK_EINVAL);
	assert_int_equal(login(e, "ito", GOOD, secret, -30, "lgwan", &s, &f), 0);
	assert_int_equal(login(e, "ito", GOOD, secret, -30, "lgwan", &s, &f), SK_EINVAL);
	assert_int_equal(login(e, "ito", GOOD, secret, 30, "lgwan", &s, &f), 0);
	/* a step older than the last one used is refused although inside the window */
	assert_int_equal(login(e, "ito", GOOD, secret, 0, "lgwan", &s, &f), SK_EINVAL);
	e->now += 120 * 1000000;
	assert_int_equal(login(e, "ito", GOOD, secret, -30, "lgwan", &s, &f), 0);
	/* wrong password with the right code, right password with no or a malformed code */
	e->now += 120 * 1000000;
	assert_int_equal(login(e, "ito", GOOD2, secret, 0, "lgwan", &s, &f), SK_EINVAL);
	sk_error err;
	assert_int_equal(sk_auth_login(e->a, "ito", GOOD, NULL, "lgwan", NULL, &s, &f, &err), SK_EINVAL);
	assert_int_equal(sk_auth_login(e->a, "ito", GOOD, "12345", "lgwan", NULL, &s, &f, &err), SK_EINVAL);
	assert_int_equal(sk_auth_login(e->a, "ito", GOOD, "12345a", "lgwan", NULL, &s, &f, &err), SK_EINVAL);
	/* window 0: only the current step */
	e->s.totp_window = 0;
	e->s.lockout_after = 100; /* four failures above; the lockout is tested below */
	assert_int_equal(sk_auth_configure(e->a, &e->s, &err), 0);
	assert_int_equal(login(e, "ito", GOOD, secret, -30, "lgwan", &s, &f), SK_EINVAL);
	assert_int_equal(login(e, "ito", GOOD, secret, 0, "lgwan", &s, &f), 0);
	/* a reset secret: the old one's codes stop working */
	char fresh[33];
	char *uri = NULL;
	assert_int_equal(sk_auth_totp_reset(e->a, "ito", "admin", fresh, &uri, &err), 0);
	assert_string_not_equal(fresh, secret);
	assert_non_null(strstr(uri, fresh));
	free(uri);
	e->now += 60 * 1000000;
	assert_int_equal(login(e, "ito", GOOD, secret, 0, "lgwan", &s, &f), SK_EINVAL);
	assert_int_equal(login(e, "ito", GOOD, fresh, 0, "lgwan", &s, &f), 0);
	assert_int_equal(audit_count(e, "auth.totp-reset", NULL, fresh), 1);
	env_free(e);
}

static void lockout_and_unlock(void **state)
{
	(void)state;
	struct env *e = env_new();
	char secret[33];
	add_user(e, "kato", "staff", NULL, secret);
	sk_auth_session s;
	sk_auth_fail f;
	sk_auth_user u;
	sk_error err;
	/* lockout_after - 1 failures, then a success resets the counter */
	for (uint32_t i = 0; i + 1 < e->s.lockout_after; i++)
		assert_int_equal(login(e, "kato", GOOD2, secret, 0, "lgwan", &s, &f), SK_EINVAL);
	assert_int_equal(sk_auth_user_get(e->a, "kato", &u, &err), 0);
	assert_int_equal(u.failures, e->s.lockout_after - 1);
	assert_int_equal(login(e, "kato", GOOD, secret, 0, "lgwan", &s, &f), 0);
	assert_int_equal(sk_auth_user_get(e->a, "kato", &u, &err), 0);
	assert_int_equal(u.failures, 0);
	/* lockout_after failures in a row: locked */
	for (uint32_t i = 0; i < e->s.lockout_after; i++) {
		assert_int_equal(login(e, "kato", GOOD2, secret, 30, "lgwan", &s, &f), SK_EINVAL);
		assert_int_equal(f, SK_AUTH_FAIL_BAD);
	}
	assert_int_equal(sk_auth_user_get(e->a, "kato", &u, &err), 0);
	assert_int_equal(u.locked_until_us, e->now + (int64_t)e->s.lockout_seconds * 1000000);
	char last[128];
	assert_int_equal(audit_count(e, "auth.lockout", last, secret), 1);
	assert_string_equal(last, "locked");
	/* the right password and code are refused while locked */
	e->now += 60 * 1000000;
	assert_int_equal(login(e, "kato", GOOD, secret, 0, "lgwan", &s, &f), SK_EINVAL);
	assert_int_equal(f, SK_AUTH_FAIL_LOCKED);
	e->now = u.locked_until_us - 1;
	assert_int_equal(login(e, "kato", GOOD, secret, 0, "lgwan", &s, &f), SK_EINVAL);
	assert_int_equal(f, SK_AUTH_FAIL_LOCKED);
	/* after lockout_seconds: open again */
	e->now = u.locked_until_us;
	assert_int_equal(login(e, "kato", GOOD, secret, 0, "lgwan", &s, &f), 0);
	assert_int_equal(f, SK_AUTH_FAIL_NONE);
	/* a disabled user is refused with the right password (DISABLED), not counted */
	assert_int_equal(sk_auth_user_disable(e->a, "kato", true, "admin", &err), 0);
	e->now += 60 * 1000000;
	assert_int_equal(login(e, "kato", GOOD, secret, 0, "lgwan", &s, &f), SK_EINVAL);
	assert_int_equal(f, SK_AUTH_FAIL_DISABLED);
	assert_int_equal(sk_auth_user_disable(e->a, "kato", false, "admin", &err), 0);
	assert_int_equal(login(e, "kato", GOOD, secret, 0, "lgwan", &s, &f), 0);
	/* an unknown user: BAD, audited */
	assert_int_equal(login(e, "nobody", GOOD, secret, 0, "lgwan", &s, &f), SK_EINVAL);
	assert_int_equal(f, SK_AUTH_FAIL_BAD);
	assert_int_equal(login(e, "No Body", GOOD, secret, 0, "lgwan", &s, &f), SK_EINVAL);
	assert_true(audit_count(e, "auth.login", NULL, secret) >= 12);
	env_free(e);
}

static void sessions(void **state)
{
	(void)state;
	struct env *e = env_new();
	char secret[33];
	add_user(e, "kimura", "staff", NULL, secret);
	sk_auth_session s, s2, g;
	sk_auth_fail f;
	sk_error err;
	assert_int_equal(login(e, "kimura", GOOD, secret, 0, "lgwan", &s, &f), 0);
	assert_int_equal(strlen(s.token), SK_AUTH_TOKEN_LEN);
	assert_int_equal(strlen(s.csrf), SK_AUTH_TOKEN_LEN);
	assert_string_not_equal(s.token, s.csrf);
	assert_string_equal(s.user, "kimura");
	assert_string_equal(s.zone, "lgwan");
	assert_int_equal(s.expires_us, T0 + (int64_t)e->s.session_idle_seconds * 1000000);
	/* found on its zone only, without the token */
	assert_int_equal(sk_auth_session_get(e->a, s.token, "lgwan", &g, &err), 0);
	assert_string_equal(g.token, "");
	assert_string_equal(g.csrf, s.csrf);
	assert_int_equal(g.user_id, s.user_id);
	assert_int_equal(sk_auth_session_get(e->a, s.token, "internet", &g, &err), SK_ENOTFOUND);
	assert_int_equal(sk_auth_session_get(e->a, "short", "lgwan", &g, &err), SK_ENOTFOUND);
	char forged[SK_AUTH_TOKEN_LEN + 1];
	memcpy(forged, s.token, sizeof(forged));
	forged[0] = forged[0] == 'A' ? 'B' : 'A';
	assert_int_equal(sk_auth_session_get(e->a, forged, "lgwan", &g, &err), SK_ENOTFOUND);
	/* fixation: each login makes a new token; none equals an earlier one */
	e->now += 30 * 1000000;
	assert_int_equal(login(e, "kimura", GOOD, secret, 0, "lgwan", &s2, &f), 0);
	assert_string_not_equal(s2.token, s.token);
	assert_string_not_equal(s2.csrf, s.csrf);
	/* CSRF: exact, constant-time */
	assert_true(sk_auth_csrf_ok(&g, s.csrf));
	assert_false(sk_auth_csrf_ok(&g, s2.csrf));
	assert_false(sk_auth_csrf_ok(&g, ""));
	assert_false(sk_auth_csrf_ok(&g, NULL));
	char longer[SK_AUTH_TOKEN_LEN + 2];
	snprintf(longer, sizeof(longer), "%sx", s.csrf);
	assert_false(sk_auth_csrf_ok(&g, longer));
	/* idle expiry: used just before it, the session lives on; idle past it, gone */
	e->now = T0 + (int64_t)e->s.session_idle_seconds * 1000000 - 1;
	assert_int_equal(sk_auth_session_get(e->a, s.token, "lgwan", &g, &err), 0);
	e->now += (int64_t)e->s.session_idle_seconds * 1000000;
	assert_int_equal(sk_auth_session_get(e->a, s.token, "lgwan", &g, &err), SK_ENOTFOUND);
	assert_int_equal(sk_auth_session_get(e->a, s.token, "lgwan", &g, &err), SK_ENOTFOUND);
	/* absolute expiry: touched every 20 minutes, still ends after session_max */
	e->now = T0 + 3600 * (int64_t)1000000;
	assert_int_equal(login(e, "kimura", GOOD, secret, 0, "internet", &s, &f), 0);
	int64_t start = e->now, used = 0;
	while (e->now + 1200 * (int64_t)1000000 < start + (int64_t)e->s.session_max_seconds * 1000000) {
		e->now += 1200 * (int64_t)1000000;
		assert_int_equal(sk_auth_session_get(e->a, s.token, "internet", &g, &err), 0);
		used++;
	}
	assert_true(used > 10);
	e->now = start + (int64_t)e->s.session_max_seconds * 1000000;
	assert_int_equal(sk_auth_session_get(e->a, s.token, "internet", &g, &err), SK_ENOTFOUND);
	/* logout removes it; a disabled user's sessions are gone */
	assert_int_equal(login(e, "kimura", GOOD, secret, 0, "lgwan", &s, &f), 0);
	assert_int_equal(sk_auth_logout(e->a, s.token, &err), 0);
	assert_int_equal(sk_auth_session_get(e->a, s.token, "lgwan", &g, &err), SK_ENOTFOUND);
	assert_int_equal(sk_auth_logout(e->a, s.token, &err), SK_ENOTFOUND);
	e->now += 30 * 1000000;
	assert_int_equal(login(e, "kimura", GOOD, secret, 0, "lgwan", &s, &f), 0);
	assert_int_equal(sk_auth_user_disable(e->a, "kimura", true, "admin", &err), 0);
	assert_int_equal(sk_auth_session_get(e->a, s.token, "lgwan", &g, &err), SK_ENOTFOUND);
	assert_int_equal(audit_count(e, "auth.logout", NULL, s.token), 1);
	/* the stored form is not the token: no row holds it in clear */
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "grep -rqF '%s' '%s'", s2.token, e->dir);
	assert_int_not_equal(system(cmd), 0);
	env_free(e);
}

static void rights_from_policy(void **state)
{
	(void)state;
	struct env *e = env_new();
	sk_error err;
	sk_auth_weak w;
	char secret[33];
	const char *roles[] = {"staff", "temp"};
	assert_int_equal(sk_auth_user_add(e->a, e->p, "yamada", roles, 2, "johoseisaku", GOOD, "admin",
					  NULL, secret, NULL, &w, &err), 0);
	sk_auth_user u;
	sk_auth_rights r;
	assert_int_equal(sk_auth_user_get(e->a, "yamada", &u, &err), 0);
	assert_int_equal(sk_auth_effective(&u, e->p, &r), 0);
	assert_int_equal(r.nroles, 2);
	assert_true(sk_auth_has_role(&r, "temp"));
	assert_string_equal(r.section, "johoseisaku");
	assert_int_equal(r.perms, SK_PERM_UPLOAD | SK_PERM_DOWNLOAD | SK_PERM_REQUEST |
					  SK_PERM_INCIDENT_REPORT);
	assert_string_equal(sk_auth_perm_code(SK_PERM_RELEASE_ORIGINAL), "release-original");
	/* a reload without the role temp (and without the section somu): gone */
	sk_policy *p2 = load(POLICY_NO_TEMP);
	assert_int_equal(sk_auth_effective(&u, p2, &r), 0);
	assert_int_equal(r.nroles, 1);
	assert_false(sk_auth_has_role(&r, "temp"));
	assert_true(sk_auth_has_role(&r, "staff"));
	/* the policy's users: entry wins over the stored roles and section */
	const char *staff[] = {"staff"};
	assert_int_equal(sk_auth_user_add(e->a, e->p, "joho-kacho", staff, 1, "johoseisaku", GOOD,
					  "admin", NULL, secret, NULL, &w, &err), 0);
	assert_int_equal(sk_auth_user_get(e->a, "joho-kacho", &u, &err), 0);
	assert_int_equal(sk_auth_effective(&u, e->p, &r), 0);
	assert_int_equal(r.nroles, 1);
	assert_string_equal(r.roles[0], "security-manager");
	assert_false(sk_auth_has_role(&r, "staff"));
	assert_string_equal(r.section, "somu");
	assert_true(r.perms & SK_PERM_APPROVE);
	assert_true(r.perms & SK_PERM_SECTION_ITEMS);
	/* not listed in p2: the stored roles again */
	assert_int_equal(sk_auth_effective(&u, p2, &r), 0);
	assert_string_equal(r.roles[0], "staff");
	assert_false(r.perms & SK_PERM_APPROVE);
	assert_string_equal(r.section, "johoseisaku");
	/* a disabled user has no rights */
	u.disabled = true;
	assert_int_equal(sk_auth_effective(&u, e->p, &r), 0);
	assert_int_equal(r.perms, 0);
	/* settings from the policy */
	sk_auth_settings s;
	sk_auth_settings_from_policy(e->p, &s);
	assert_string_equal(s.organization, "相模原市");
	assert_int_equal(s.password_min, 12);
	assert_int_equal(s.lockout_seconds, 900);
	sk_policy_free(p2);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc6238_vector),
		cmocka_unit_test(refusals),
		cmocka_unit_test(users_and_mail),
		cmocka_unit_test(totp_window_and_replay),
		cmocka_unit_test(lockout_and_unlock),
		cmocka_unit_test(sessions),
		cmocka_unit_test(rights_from_policy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

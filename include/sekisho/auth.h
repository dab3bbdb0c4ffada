/* sekisho — the auth service: console users, passwords, TOTP and sessions.
 *
 * Users live in auth.db (SQLite, WAL, 0600) in the state folder. A user has a numeric
 * id (never reused), a login name (lower-case ASCII [a-z0-9._-], 1–64 bytes: "Tanaka" is
 * refused, not folded, so that one person has one name), a section, the roles given at
 * `user add`, an argon2id password hash (libsodium crypto_pwhash_str), the hashes of the
 * last N passwords, a TOTP secret (RFC 6238, SHA-1, 6 digits, 30 s; liboath), a failure
 * counter and a lock time. The policy stays the source of rights: the roles a user has
 * are the stored roles that the policy still defines; a user listed in the policy's
 * `users:` gets the roles (and section) written there instead (sk_auth_effective).
 *
 * Login is password + TOTP, always. Sessions are random 256-bit tokens; only their
 * SHA-256 is stored. Each session is bound to the zone of the listener it was made on, and
 * carries a CSRF token (random, 256 bit) that every changing request must echo. Passwords,
 * TOTP codes, secrets and tokens are never logged or written to the audit log.
 *
 * Every change (user added, disabled, password set, TOTP reset, login, failed login,
 * lockout, logout) is an audit record (actor = the acting user's name or "sekisho"). A
 * handle is for one thread at a time. */
#ifndef SEKISHO_AUTH_H
#define SEKISHO_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sekisho/audit.h"
#include "sekisho/error.h"
#include "sekisho/policy.h"
#include "sekisho/report.h"

struct sk_policy;

#define SK_AUTH_NAME_MAX 64      /* bytes of a login name */
#define SK_AUTH_SECTION_MAX 64   /* bytes of a section id */
#define SK_AUTH_ROLES_MAX 16     /* roles of one user */
#define SK_AUTH_ROLE_MAX 64      /* bytes of a role id */
#define SK_AUTH_PASSWORD_MAX 1024 /* bytes of a password (longer: refused) */
#define SK_AUTH_TOKEN_LEN 43     /* base64url of 32 random bytes, without padding */

typedef struct sk_auth sk_auth;

/* The policy's `auth:` section (docs/policy.md), with these defaults. */
typedef struct sk_auth_settings {
	uint32_t password_min;        /* 12 characters (UTF-8 code points) */
	uint32_t history;             /* 5: a new password may not equal one of the last N */
	uint32_t lockout_after;       /* 5 failed logins in a row lock the user */
	uint32_t lockout_seconds;     /* 900 */
	uint32_t session_idle_seconds; /* 1800 */
	uint32_t session_max_seconds; /* 28800 (a working day) */
	uint32_t totp_window;         /* 1: codes of the previous and next 30 s step accepted */
	const char *organization;     /* the municipality's name (guessability check); may be NULL */
} sk_auth_settings;

void sk_auth_settings_default(sk_auth_settings *s);
/* The policy's `auth:` settings over the defaults, organization from its `organization`. */
void sk_auth_settings_from_policy(const struct sk_policy *p, sk_auth_settings *s);

typedef struct sk_auth_options {
	int64_t (*clock)(void *ctx); /* µs since the epoch; NULL: sk_time_now_us (tests set it) */
	void *clock_ctx;
} sk_auth_options;

/* Opens (creating) dir/auth.db (dir 0700, files 0600). audit may be NULL (tests only).
 * opt may be NULL. s is copied (organization too). */
int sk_auth_open(const char *dir, sk_audit *audit, const sk_auth_settings *s,
		 const sk_auth_options *opt, sk_auth **out, sk_error *err);
void sk_auth_close(sk_auth *a);
/* New settings after a policy reload. */
int sk_auth_configure(sk_auth *a, const sk_auth_settings *s, sk_error *err);

typedef struct sk_auth_user {
	int64_t id;
	char name[SK_AUTH_NAME_MAX + 1];
	char section[SK_AUTH_SECTION_MAX + 1];   /* "" when none */
	char mail[256];                          /* address for notices; "" when none */
	char roles[SK_AUTH_ROLES_MAX][SK_AUTH_ROLE_MAX + 1];
	size_t nroles;
	bool disabled;
	int64_t created_us, password_us;  /* when created, when the password was last set */
	int64_t locked_until_us;          /* 0 when not locked */
	uint32_t failures;                /* failed logins in a row */
} sk_auth_user;

/* true when name is a valid login name (lower-case a-z, 0-9, '.', '_', '-'; 1–64 bytes;
 * first a letter or digit). */
bool sk_auth_name_valid(const char *name);

/* Why a password was refused (sk_auth_user_add / sk_auth_password_set return SK_EINVAL). */
typedef enum sk_auth_weak {
	SK_AUTH_WEAK_NONE = 0,
	SK_AUTH_WEAK_SHORT,     /* shorter than password_min */
	SK_AUTH_WEAK_GUESSABLE, /* libcrack2 says so (dictionary word, too simple …) */
	SK_AUTH_WEAK_PERSONAL,  /* contains the user's name, section or the organization */
	SK_AUTH_WEAK_REUSED,    /* one of the last `history` passwords */
	SK_AUTH_WEAK_TOO_LONG,  /* over SK_AUTH_PASSWORD_MAX */
} sk_auth_weak;

/* Japanese or English sentence for the refusal (static). */
const char *sk_auth_weak_text(sk_auth_weak w, sk_lang lang);

/* Adds a user. name must be a valid login name not yet used; roles (nroles ≥ 1) and
 * section (may be NULL or "") must be ones p defines (SK_EINVAL with err saying which
 * otherwise). The password is checked (*weak says why it was refused; weak may be NULL).
 * A TOTP secret is generated: its base32 form (32 characters, NUL-terminated) goes to
 * totp_b32 (at least 33 bytes) and an otpauth://totp/ISSUER:NAME?secret=…&issuer=ISSUER
 * URI, issuer "sekisho" (or the organization), is written to uri (malloc'd, caller frees;
 * may be NULL to skip). *id gets the new user's id (may be NULL). by: the acting name. */
int sk_auth_user_add(sk_auth *a, const struct sk_policy *p, const char *name,
		     const char *const *roles, size_t nroles, const char *section,
		     const char *password, const char *by, int64_t *id, char *totp_b32,
		     char **uri, sk_auth_weak *weak, sk_error *err);
/* Looks a user up by name (exact) or id; SK_ENOTFOUND when there is none. */
int sk_auth_user_get(sk_auth *a, const char *name, sk_auth_user *u, sk_error *err);
int sk_auth_user_get_id(sk_auth *a, int64_t id, sk_auth_user *u, sk_error *err);
/* Calls fn for every user, by name; a non-zero return stops the walk. */
typedef int (*sk_auth_user_fn)(void *ctx, const sk_auth_user *u);
int sk_auth_user_list(sk_auth *a, sk_auth_user_fn fn, void *ctx, sk_error *err);
/* The address notices go to ("" or NULL: none); checked to be one addr-spec. */
int sk_auth_user_set_mail(sk_auth *a, const char *name, const char *mail, const char *by,
			  sk_error *err);
int sk_auth_user_disable(sk_auth *a, const char *name, bool disabled, const char *by,
			 sk_error *err);
/* A new TOTP secret (the old one stops working); outputs as in sk_auth_user_add. */
int sk_auth_totp_reset(sk_auth *a, const char *name, const char *by, char *totp_b32,
		       char **uri, sk_error *err);
/* Sets a new password (checked as in sk_auth_user_add, history included). */
int sk_auth_password_set(sk_auth *a, const char *name, const char *password, const char *by,
			 sk_auth_weak *weak, sk_error *err);

/* The rights of a user under policy p: the roles the policy still defines (or the
 * policy's own `users:` entry for that name: its roles and section), the section, and
 * the permissions those roles carry (SK_PERM_* bits; docs/policy.md "roles"). */
/* SK_PERM_* are defined in policy.h (the policy is the source of rights). */
const char *sk_auth_perm_code(uint32_t one_perm); /* "upload", "release-original" … */

typedef struct sk_auth_rights {
	char section[SK_AUTH_SECTION_MAX + 1];
	char roles[SK_AUTH_ROLES_MAX][SK_AUTH_ROLE_MAX + 1];
	size_t nroles;
	uint32_t perms; /* SK_PERM_* */
} sk_auth_rights;

int sk_auth_effective(const sk_auth_user *u, const struct sk_policy *p, sk_auth_rights *r);
bool sk_auth_has_role(const sk_auth_rights *r, const char *role);

/* ---- login and sessions ---- */

typedef enum sk_auth_fail {
	SK_AUTH_FAIL_NONE = 0,
	SK_AUTH_FAIL_BAD,      /* unknown user, wrong password or wrong code (never says which) */
	SK_AUTH_FAIL_LOCKED,   /* locked after repeated failures (until locked_until_us) */
	SK_AUTH_FAIL_DISABLED, /* reported to the caller as BAD to the client */
} sk_auth_fail;

typedef struct sk_auth_session {
	char token[SK_AUTH_TOKEN_LEN + 1]; /* the cookie value (only at login) */
	char csrf[SK_AUTH_TOKEN_LEN + 1];
	int64_t user_id;
	char user[SK_AUTH_NAME_MAX + 1];
	char zone[32];                     /* the listener's zone the session belongs to */
	int64_t created_us, last_us, expires_us;
} sk_auth_session;

/* Password + TOTP. On success a new session bound to zone is created (*s filled, token
 * included); a failure counts towards the lockout (*fail says why; SK_EINVAL returned).
 * A locked user is refused even with the right password. The audit record names the user
 * and the remote address (peer, may be NULL), never the password or code. */
int sk_auth_login(sk_auth *a, const char *name, const char *password, const char *totp,
		  const char *zone, const char *peer, sk_auth_session *s, sk_auth_fail *fail,
		  sk_error *err);
/* The live session of a cookie token on zone (a session of another zone is not found),
 * idle and absolute expiry applied (an expired one is removed): 0 and *s (token "");
 * SK_ENOTFOUND otherwise. Touches last_us. */
int sk_auth_session_get(sk_auth *a, const char *token, const char *zone, sk_auth_session *s,
			sk_error *err);
/* Constant-time comparison of a request's X-CSRF-Token with the session's. */
bool sk_auth_csrf_ok(const sk_auth_session *s, const char *header);
int sk_auth_logout(sk_auth *a, const char *token, sk_error *err);

/* The current TOTP code of a base32 secret at time t (seconds), for tests and the CLI's
 * `user totp` helper: writes 6 digits and a NUL to code. */
int sk_auth_totp_code(const char *secret_b32, int64_t t, char code[7], sk_error *err);

#endif

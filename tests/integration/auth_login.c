/* auth_login STATE NAME PASSWORD-FILE CODE ZONE — one login through the auth service
 * (sk_auth_login), for tests/integration/user.sh: exit 0 when accepted (the session is
 * then logged out), 1 when refused (the reason on stdout: bad, locked, disabled), 2 on
 * trouble. The code comes from outside (oathtool), so the TOTP is checked independently. */
#include <stdio.h>
#include <string.h>

#include "sekisho/audit.h"
#include "sekisho/auth.h"

int main(int argc, char **argv)
{
	if (argc != 6) {
		fputs("usage: auth_login STATE NAME PASSWORD-FILE CODE ZONE\n", stderr);
		return 2;
	}
	char pw[SK_AUTH_PASSWORD_MAX + 2] = "";
	FILE *f = fopen(argv[3], "r");
	if (!f || !fgets(pw, sizeof(pw), f)) {
		fputs("cannot read the password file\n", stderr);
		return 2;
	}
	fclose(f);
	pw[strcspn(pw, "\r\n")] = 0;
	sk_error err;
	sk_audit *audit = NULL;
	sk_auth *a = NULL;
	if (sk_audit_open(argv[1], NULL, &audit, &err) || sk_auth_open(argv[1], audit, NULL, NULL, &a, &err)) {
		fprintf(stderr, "open: %s\n", err.msg);
		return 2;
	}
	sk_auth_session s;
	sk_auth_fail fail = SK_AUTH_FAIL_NONE;
	int rc = sk_auth_login(a, argv[2], pw, argv[4], argv[5], "127.0.0.1", &s, &fail, &err);
	int st = 0;
	if (rc == 0) {
		puts("ok");
		st = sk_auth_logout(a, s.token, &err) ? 2 : 0;
	} else if (rc == SK_EINVAL && fail != SK_AUTH_FAIL_NONE) {
		puts(fail == SK_AUTH_FAIL_LOCKED ? "locked" : fail == SK_AUTH_FAIL_DISABLED ? "disabled" : "bad");
		st = 1;
	} else {
		fprintf(stderr, "login: %s\n", err.msg);
		st = 2;
	}
	sk_auth_close(a);
	sk_audit_checkpoint_if_due(audit, 0, NULL, &err);
	sk_audit_close(audit);
	return st;
}

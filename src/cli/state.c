/* sekisho — the state folder shared by the sub-commands (--state DIR). */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sekisho/audit.h"
#include "sekisho/core.h"
#include "sekisho/auth.h"
#include "sekisho/policy.h"
#include "sekisho/quarantine.h"

char *cli_state_dir(const char *opt)
{
	char *s = NULL;
	if (opt && *opt)
		return asprintf(&s, "%s", opt) < 0 ? NULL : s;
	const char *x = getenv("XDG_STATE_HOME");
	if (x && *x == '/')
		return asprintf(&s, "%s/sekisho", x) < 0 ? NULL : s;
	const char *home = getenv("HOME");
	if (!home || !*home) {
		struct passwd *pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : NULL;
	}
	if (!home || !*home)
		return NULL;
	return asprintf(&s, "%s/.local/state/sekisho", home) < 0 ? NULL : s;
}

const char *cli_os_user(void)
{
	static char name[256];
	struct passwd *pw = getpwuid(geteuid());
	snprintf(name, sizeof(name), "%s", pw ? pw->pw_name : "unknown");
	return name;
}

int cli_who_get(sk_lang lang, const char *dir, sk_audit *audit, const sk_policy *pol,
		const char *name, cli_who *w)
{
	memset(w, 0, sizeof(*w));
	if (!name)
		name = cli_os_user();
	sk_error err;
	sk_error_clear(&err);
	sk_auth_settings s;
	sk_auth_settings_from_policy(pol, &s);
	sk_auth *a = NULL;
	if (sk_auth_open(dir, audit, &s, NULL, &a, &err) != 0) {
		cli_fail(lang, "利用者の情報 (auth.db) を開けません", "cannot open the users (auth.db)",
			NULL, &err);
		return 2;
	}
	int rc = sk_auth_name_valid(name) ? sk_auth_user_get(a, name, &w->user, &err) : SK_ENOTFOUND;
	sk_auth_close(a);
	if (rc == SK_ENOTFOUND) {
		cli_err(lang,
			"その利用者はいません (利用者名は英小文字です。sekisho user list で確かめてください)",
			"no such user (login names are lower case; see sekisho user list)", name);
		return 1;
	}
	if (rc) {
		cli_fail(lang, "利用者の情報を読めません", "cannot read the users", NULL, &err);
		return 2;
	}
	if (w->user.disabled) {
		cli_err(lang, "この利用者は停止されています", "this user is disabled", name);
		return 1;
	}
	const char *section = w->user.section;
	if (pol) {
		sk_auth_effective(&w->user, pol, &w->rights);
		w->policy = true;
		section = w->rights.section;
	}
	w->actor = (sk_qactor){.uid = w->user.id, .name = w->user.name,
			       .section = section && *section ? section : NULL};
	return 0;
}

void cli_who_detail(const cli_who *w, char *out, size_t n)
{
	snprintf(out, n, "uid=%lld os-user=%s(%u) via=cli", (long long)w->user.id, cli_os_user(),
		 (unsigned)geteuid());
}

int cli_state_open(sk_lang lang, const char *dir, sk_audit **audit, sk_quarantine **quar)
{
	sk_error err;
	sk_error_clear(&err);
	*audit = NULL;
	*quar = NULL;
	if (sk_audit_open(dir, NULL, audit, &err) != 0 ||
	    sk_quarantine_open(dir, *audit, NULL, quar, &err) != 0) {
		cli_fail(lang, "状態フォルダを開けません", "cannot open the state folder", dir, &err);
		sk_audit_close(*audit);
		*audit = NULL;
		return 2;
	}
	/* items a killed or failed run left undecided: blocked "interrupted", on record */
	unsigned n = 0;
	if (sk_quarantine_recover(*quar, *audit, &n, &err) != 0)
		cli_fail(lang, "中断された項目を監査ログに記録できませんでした (次回また試みます)",
			"could not record the interrupted items (tried again next time)", NULL, &err);
	if (n)
		fprintf(stderr,
			lang == SK_LANG_EN
				? "sekisho: %u interrupted item(s) recorded as blocked (interrupted)\n"
				: "sekisho: 中断されていた %u 件を遮断 (interrupted) として記録しました\n",
			n);
	return 0;
}

int cli_audit_seal(sk_lang lang, sk_audit *audit)
{
	if (!audit)
		return 0;
	sk_error err;
	sk_error_clear(&err);
	if (sk_audit_checkpoint_if_due(audit, 0, NULL, &err) != 0) {
		cli_fail(lang, "監査ログのチェックポイントに署名できませんでした",
			"could not sign a checkpoint of the audit log", NULL, &err);
		return 2;
	}
	return 0;
}

int cli_state_close(sk_lang lang, sk_audit *audit, sk_quarantine *quar)
{
	int st = cli_audit_seal(lang, audit);
	sk_quarantine_close(quar);
	sk_audit_close(audit);
	return st;
}

int cli_office_open(sk_lang lang, bool off, const sk_profile *profile, unsigned workers,
		    bool quiet, sk_options *opt, sk_gate_office **office)
{
	*office = NULL;
	bool wanted = !off;
	if (wanted && profile) {
		/* the office workers convert legacy formats and make images (画像化) */
		wanted = profile->pdf_image || profile->ooxml_image || profile->damaged_pdf_image;
		for (int f = 0; f < SK_LEGACY__COUNT; f++)
			wanted = wanted || profile->legacy[f] != SK_LEGACY_BLOCK;
	}
	if (!wanted)
		return 0;
	sk_office_config oc;
	sk_office_config_default(&oc);
	oc.workers = workers; /* a long document's pages (画像化) are spread over them */
	oc.quiet = quiet;
	/* the office worker of a build or a test (default: next to this program) */
	if (getenv("SEKISHO_OFFICE") && *getenv("SEKISHO_OFFICE"))
		oc.worker = getenv("SEKISHO_OFFICE");
	sk_error err;
	sk_error_clear(&err);
	if (sk_gate_office_new(&oc, true, office, &err) != 0) {
		cli_fail(lang, "変換の準備ができません", "cannot prepare conversions", NULL, &err);
		return 2; /* EXIT_TROUBLE */
	}
	opt->convert = sk_gate_office_convert;
	opt->convert_ctx = *office;
	return 0;
}

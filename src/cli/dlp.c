/* sekisho dlp scan — find 個人番号, 法人番号 and the policy's patterns in text files. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "sekisho/detect.h"
#include "sekisho/dlp.h"
#include "sekisho/policy.h"

enum { ST_NONE = 0, ST_FOUND = 1, ST_TROUBLE = 2 };

static void usage(sk_lang lang)
{
	fputs(lang == SK_LANG_EN
		      ? "usage: sekisho dlp scan [--policy FILE] [--json] [--lang ja|en] FILE...\n"
			"  exit 0: nothing found, 1: something found, 2: a file could not be scanned\n"
		      : "使い方: sekisho dlp scan [--policy ファイル] [--json] [--lang ja|en] ファイル...\n"
			"  終了コード 0: 検出なし、1: 検出あり、2: 検査できないファイルがあった\n",
	      stderr);
}

static bool text_kind(sk_kind k)
{
	return sk_kind_is_text(k) || k == SK_KIND_MESSAGE; /* an .eml file as its bytes are */
}

static int scan_one(const sk_dlp *d, const char *path, bool json, sk_lang lang)
{
	bool en = lang == SK_LANG_EN;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		cli_err(lang, "読み込めません", "cannot read", path);
		if (fd >= 0)
			close(fd);
		return ST_TROUBLE;
	}
	sk_input in;
	sk_input_fd(&in, fd, (uint64_t)st.st_size);
	sk_type t;
	sk_error err;
	sk_error_clear(&err);
	int rc = sk_detect(&in, path, &t, &err);
	if (rc == 0 && !text_kind(t.kind)) {
		cli_err(lang, "テキストではないため検査できません (形式)", "not text, not scanned (type)",
			t.code);
		sk_input_release(&in);
		close(fd);
		return ST_TROUBLE;
	}
	sk_dlp_result r;
	sk_dlp_result_init(&r);
	if (rc == 0)
		rc = sk_dlp_scan_input(d, &in, &r, &err);
	sk_input_release(&in);
	close(fd);
	if (rc) {
		cli_err(lang, rc == SK_ELIMIT ? "サイズの上限を超えたため検査できません" : "検査できません",
			rc == SK_ELIMIT ? "over the size limit, not scanned" : "cannot scan", path);
		sk_dlp_result_free(&r);
		return ST_TROUBLE;
	}
	for (size_t i = 0; i < r.n; i++) {
		const sk_dlp_match *m = &r.v[i];
		if (json) {
			json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:b, s:b, s:s, s:s, s:s}",
					      "input", path, "kind", sk_dlp_kind_code(m->kind), "rule", m->rule,
					      "offset", (json_int_t)m->offset, "length", (json_int_t)m->length,
					      "line", (json_int_t)m->line, "column", (json_int_t)m->column,
					      "grouped", m->grouped, "context_word", m->context, "masked",
					      m->masked, "context", m->context_text, "encoding", r.encoding);
			char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
			if (s)
				puts(s);
			free(s);
			json_decref(o);
		} else {
			printf("%s:%u:%u: %s (%s): %s  「%s」\n", path, m->line, m->column,
			       sk_dlp_kind_text(m->kind, en), m->rule, m->masked, m->context_text);
		}
	}
	if (!json) {
		if (en)
			printf("%s: %zu match%s (%s, %llu bytes)%s\n", path, r.n, r.n == 1 ? "" : "es",
			       r.encoding, (unsigned long long)r.scanned,
			       r.truncated ? " — more not listed" : "");
		else
			printf("%s: 検出 %zu 件 (%s, %llu バイト)%s\n", path, r.n, r.encoding,
			       (unsigned long long)r.scanned, r.truncated ? " — 以降は省略" : "");
	}
	int st_ret = r.n ? ST_FOUND : ST_NONE;
	sk_dlp_result_free(&r);
	return st_ret;
}

int cmd_dlp(int argc, char **argv)
{
	sk_lang lang = cli_lang(NULL);
	if (argc < 2 || strcmp(argv[1], "scan")) {
		if (argc >= 2 && strcmp(argv[1], "-h") && strcmp(argv[1], "--help"))
			cli_err(lang, "不明なサブコマンドです", "unknown sub-command", argv[1]);
		usage(lang);
		return argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) ? 0 : ST_TROUBLE;
	}
	argc--;
	argv++;
	const char *lang_opt = NULL, *policy = NULL;
	bool json = false;
	static const struct option longs[] = {
		{"policy", required_argument, NULL, 'p'}, {"json", no_argument, NULL, 'j'},
		{"lang", required_argument, NULL, 'l'},   {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (c) {
		case 'p': policy = optarg; break;
		case 'j': json = true; break;
		case 'l': lang_opt = optarg; break;
		case 'h': usage(cli_lang(lang_opt)); return 0;
		default: usage(cli_lang(lang_opt)); return ST_TROUBLE;
		}
	}
	lang = cli_lang(lang_opt);
	if (optind >= argc) {
		usage(lang);
		return ST_TROUBLE;
	}
	sk_error err;
	sk_error_clear(&err);
	sk_dlp *d = NULL;
	int rc;
	if (policy) {
		sk_policy *p = NULL;
		sk_policy_diags diags;
		sk_policy_diags_init(&diags);
		rc = sk_policy_load(policy, 0, &p, &diags, &err);
		if (rc) {
			sk_buf out;
			sk_buf_init(&out, SK_BUF_MAX_DEFAULT);
			sk_policy_diags_format(&diags, policy, lang, &out);
			fputs(sk_buf_str(&out), stderr);
			sk_buf_free(&out);
			cli_err(lang, "ポリシーを読み込めません", "cannot load the policy", policy);
			sk_policy_diags_free(&diags);
			return ST_TROUBLE;
		}
		sk_policy_diags_free(&diags);
		rc = sk_policy_dlp(p, &d, &err);
		sk_policy_free(p);
	} else {
		sk_dlp_config cfg;
		sk_dlp_config_default(&cfg);
		rc = sk_dlp_new(&cfg, &d, &err);
	}
	if (rc) {
		cli_fail(lang, "検出器を準備できません", "cannot set up the detectors", NULL, &err);
		return ST_TROUBLE;
	}
	int status = ST_NONE;
	for (int i = optind; i < argc; i++) {
		int s = scan_one(d, argv[i], json, lang);
		if (s > status)
			status = s;
	}
	fflush(stdout);
	sk_dlp_free(d);
	return status;
}

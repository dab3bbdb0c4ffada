/* sekisho policy check|explain|nft — the policy file from the command line. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sekisho/policy.h"

enum { ST_OK = 0, ST_FAIL = 1, ST_TROUBLE = 2 };

static void usage(sk_lang lang)
{
	fputs(lang == SK_LANG_EN
		      ? "usage: sekisho policy check FILE [--lang ja|en] [--today YYYY-MM-DD]\n"
			"       sekisho policy explain FILE --from ZONE --to ZONE --channel mail|file|web\n"
			"                              [--class LEVEL] [--lang ja|en] [--today YYYY-MM-DD]\n"
			"       sekisho policy nft FILE [--today YYYY-MM-DD]\n"
		      : "使い方: sekisho policy check ファイル [--lang ja|en] [--today YYYY-MM-DD]\n"
			"        sekisho policy explain ファイル --from ゾーン --to ゾーン --channel mail|file|web\n"
			"                               [--class レベル] [--lang ja|en] [--today YYYY-MM-DD]\n"
			"        sekisho policy nft ファイル [--today YYYY-MM-DD]\n",
	      stderr);
}

struct popts {
	const char *lang_opt, *from, *to, *channel, *klass, *today_s;
	sk_lang lang;
	int32_t today;
	const char *file;
};

static int parse_opts(int argc, char **argv, struct popts *o)
{
	static const struct option longs[] = {
		{"lang", required_argument, NULL, 'l'},    {"from", required_argument, NULL, 'f'},
		{"to", required_argument, NULL, 't'},      {"channel", required_argument, NULL, 'c'},
		{"class", required_argument, NULL, 'k'},   {"today", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (c) {
		case 'l': o->lang_opt = optarg; break;
		case 'f': o->from = optarg; break;
		case 't': o->to = optarg; break;
		case 'c': o->channel = optarg; break;
		case 'k': o->klass = optarg; break;
		case 'd': o->today_s = optarg; break;
		case 'h': usage(cli_lang(o->lang_opt)); return -1;
		default: usage(cli_lang(o->lang_opt)); return ST_TROUBLE;
		}
	}
	o->lang = cli_lang(o->lang_opt);
	if (o->lang_opt && strcmp(o->lang_opt, "ja") && strcmp(o->lang_opt, "en")) {
		cli_err(o->lang, "--lang は ja か en です", "--lang takes ja or en", o->lang_opt);
		return ST_TROUBLE;
	}
	if (o->today_s && (o->today = sk_policy_date_parse(o->today_s)) < 0) {
		cli_err(o->lang, "--today は YYYY-MM-DD です", "--today takes YYYY-MM-DD", o->today_s);
		return ST_TROUBLE;
	}
	if (!o->today_s)
		o->today = sk_policy_today();
	if (optind + 1 != argc) {
		usage(o->lang);
		return ST_TROUBLE;
	}
	o->file = argv[optind];
	return 0;
}

/* Loads the policy, printing diagnostics (all of them when verbose, else errors only) */
static int load(const struct popts *o, sk_policy **p, bool verbose)
{
	sk_policy_diags d;
	sk_policy_diags_init(&d);
	sk_error err;
	sk_error_clear(&err);
	int rc = sk_policy_load(o->file, o->today, p, &d, &err);
	if (rc && rc != SK_EFORMAT) {
		cli_fail(o->lang, "ポリシーファイルを読めません", "cannot read the policy file", o->file,
			 &err);
		sk_policy_diags_free(&d);
		return ST_TROUBLE;
	}
	if (verbose || rc) {
		sk_buf out;
		sk_buf_init(&out, SK_BUF_MAX_DEFAULT);
		sk_policy_diags_format(&d, o->file, o->lang, &out);
		fputs(sk_buf_str(&out), verbose ? stdout : stderr);
		sk_buf_free(&out);
	}
	sk_policy_diags_free(&d);
	return rc ? ST_FAIL : ST_OK;
}

static int do_check(int argc, char **argv)
{
	struct popts o = {0};
	int rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc < 0 ? ST_OK : rc;
	sk_policy *p = NULL;
	rc = load(&o, &p, true);
	sk_policy_free(p);
	return rc;
}

static const char *dlp_action_text(sk_dlp_action a, sk_lang lang)
{
	bool en = lang == SK_LANG_EN;
	switch (a) {
	case SK_DLP_ACTION_RECORD: return en ? "record" : "記録";
	case SK_DLP_ACTION_HOLD: return en ? "hold" : "保留";
	case SK_DLP_ACTION_BLOCK: return en ? "block" : "遮断";
	case SK_DLP_ACTION_OFF: return en ? "off" : "検査しない";
	}
	return "?";
}

static int do_explain(int argc, char **argv)
{
	struct popts o = {0};
	int rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc < 0 ? ST_OK : rc;
	if (!o.from || !o.to || !o.channel) {
		cli_err(o.lang, "--from・--to・--channel を指定してください",
			"--from, --to and --channel are required", NULL);
		return ST_TROUBLE;
	}
	sk_policy *p = NULL;
	rc = load(&o, &p, false);
	if (rc)
		return rc == ST_FAIL ? ST_TROUBLE : rc;
	sk_policy_decision d;
	sk_error err;
	sk_error_clear(&err);
	char why[256];
	if (sk_policy_check_request(p, o.from, o.to, o.channel, o.klass, o.lang, why, sizeof(why))) {
		cli_err(o.lang, "判定できません", "cannot decide", why);
		sk_policy_free(p);
		return ST_TROUBLE;
	}
	if (sk_policy_decide(p, o.from, o.to, o.channel, o.klass, o.today, &d, &err)) {
		cli_fail(o.lang, "判定できません", "cannot decide", NULL, &err);
		sk_policy_free(p);
		return ST_TROUBLE;
	}
	bool en = o.lang == SK_LANG_EN;
	printf("%s: %s", en ? "decision" : "判定", sk_flow_action_text(d.action, o.lang));
	if (d.action == SK_FLOW_SANITIZE)
		printf(" (%s %s)", en ? "profile" : "プロファイル", d.profile);
	if (d.action == SK_FLOW_HOLD)
		printf(" (%s %s)", en ? "approver role" : "承認者の役割",
		       sk_policy_role_name(p, d.role, o.lang));
	printf(" [%s]\n", sk_flow_action_code(d.action));
	if (d.line)
		printf("%s: %s (%s:%u:%u)\n", en ? "rule" : "規則", d.rule, o.file, d.line, d.col);
	else
		printf("%s: %s\n", en ? "rule" : "規則",
		       en ? "default-deny (no flow matches)" : "default-deny (一致する通信規則がありません)");
	if (d.flow_rule[0] && strcmp(d.flow_rule, d.rule))
		printf("%s: %s\n", en ? "flow" : "通信規則", d.flow_rule);
	if (d.note[0])
		printf("%s: %s\n", en ? "note" : "備考", en ? d.note : d.note_ja);
	if (d.action != SK_FLOW_DENY) {
		printf("DLP: %s %s, %s %s, %s %s, %s %s, %s %s\n", sk_dlp_kind_text(SK_DLP_MYNUMBER, en),
		       dlp_action_text(d.dlp[SK_DLP_MYNUMBER], o.lang), sk_dlp_kind_text(SK_DLP_CORPORATE, en),
		       dlp_action_text(d.dlp[SK_DLP_CORPORATE], o.lang), sk_dlp_kind_text(SK_DLP_PATTERN, en),
		       dlp_action_text(d.dlp[SK_DLP_PATTERN], o.lang), sk_dlp_kind_text(SK_DLP_ASSET, en),
		       dlp_action_text(d.dlp[SK_DLP_ASSET], o.lang), en ? "unscannable" : "検査できない内容",
		       dlp_action_text(d.dlp_unscannable, o.lang));
	}
	sk_policy_free(p);
	return ST_OK;
}

static int do_nft(int argc, char **argv)
{
	struct popts o = {0};
	int rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc < 0 ? ST_OK : rc;
	sk_policy *p = NULL;
	rc = load(&o, &p, false);
	if (rc)
		return rc;
	sk_buf out;
	sk_buf_init(&out, SK_BUF_MAX_DEFAULT);
	sk_error err;
	sk_error_clear(&err);
	rc = sk_policy_nft(p, o.today, &out, &err);
	if (rc) {
		cli_fail(o.lang, "ルールを生成できません", "cannot generate the ruleset", NULL, &err);
		rc = ST_TROUBLE;
	} else {
		fputs(sk_buf_str(&out), stdout);
		rc = fflush(stdout) == 0 ? ST_OK : ST_TROUBLE;
	}
	sk_buf_free(&out);
	sk_policy_free(p);
	return rc;
}

int cli_policy_load(sk_lang lang, const char *file, sk_policy **out)
{
	*out = NULL;
	struct popts o = {.lang = lang, .file = file, .today = sk_policy_today()};
	return load(&o, out, false) ? ST_TROUBLE : 0;
}

int cli_sanitize_policy(sk_lang lang, const char *file, const char *from, const char *to,
			const char *channel, const char *klass, sk_policy **out)
{
	*out = NULL;
	if (!file || !from || !to) {
		cli_err(lang, "--policy・--from・--to は一緒に指定してください",
			"--policy, --from and --to go together", NULL);
		return ST_TROUBLE;
	}
	struct popts o = {.lang = lang, .file = file, .today = sk_policy_today()};
	int rc = load(&o, out, false);
	if (rc)
		return ST_TROUBLE;
	char why[256];
	if (sk_policy_check_request(*out, from, to, channel, klass, lang, why, sizeof(why))) {
		cli_err(lang, "ポリシーで判定できません", "the policy cannot decide", why);
		sk_policy_free(*out);
		*out = NULL;
		return ST_TROUBLE;
	}
	return 0;
}

int cmd_policy(int argc, char **argv)
{
	sk_lang lang = cli_lang(NULL);
	if (argc < 2) {
		usage(lang);
		return ST_TROUBLE;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "check"))
		return do_check(argc - 1, argv + 1);
	if (!strcmp(sub, "explain"))
		return do_explain(argc - 1, argv + 1);
	if (!strcmp(sub, "nft"))
		return do_nft(argc - 1, argv + 1);
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		usage(lang);
		return ST_OK;
	}
	cli_err(lang, "不明なサブコマンドです", "unknown sub-command", sub);
	usage(lang);
	return ST_TROUBLE;
}

/* sekisho milter — the options; the milter itself is src/milter (sk_milter_run).
 *   sekisho milter --socket unix:PATH|inet:PORT@127.0.0.1 [--state DIR] [--profile P]
 *                  [--on-error tempfail|accept|reject] [--internal DOMAIN]... [--lang ja|en]
 *                  [--max-sessions N] [--max-buffered BYTES] [--max-message BYTES]
 *                  [--socket-mode OCTAL] [--socket-group GROUP] [--workers N | --in-process]
 *                  [--no-office] */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "milter.h"
#include "sekisho/audit.h"
#include "sekisho/mail.h"
#include "sekisho/policy.h"
#include "sekisho/pool.h"
#include "sekisho/quarantine.h"

static void usage(sk_lang lang)
{
	fputs(lang == SK_LANG_EN
		      ? "usage: sekisho milter --socket unix:PATH|inet:PORT@127.0.0.1 [--state DIR]\n"
			"         [--profile default|sanitize|en] [--on-error tempfail|accept|reject] [--internal DOMAIN]...\n"
			"         [--policy FILE --from ZONE --to ZONE] [--lang ja|en]\n"
			"         [--max-sessions N] (default 64) [--max-buffered BYTES] (default 512M; over all sessions)\n"
			"         [--max-message BYTES] (default 64M) [--socket-mode OCTAL] (default 0660) [--socket-group GROUP]\n"
			"         [--workers N] (default: one per core) [--in-process] [--no-office]\n"
			"  --no-office: attachments in legacy formats (doc, xls, ppt, rtf, odt …) are not\n"
			"  converted by LibreOffice; they are blocked unsupported-*.\n"
			"  over --max-sessions or --max-buffered the MTA gets 451 4.3.2 and retries later.\n"
			"  messages are parsed in sandboxed worker processes; --in-process parses them in\n"
			"  this process, without the sandbox: for debugging only.\n"
		      : "使い方: sekisho milter --socket unix:パス|inet:ポート@127.0.0.1 [--state フォルダ]\n"
			"         [--profile default|sanitize|en|ポリシーのプロファイル] [--on-error tempfail|accept|reject] [--internal ドメイン]... [--lang ja|en]\n"
			"         [--policy ファイル --from ゾーン --to ゾーン]\n"
			"         [--max-sessions 数] (既定 64) [--max-buffered バイト] (既定 512M、全セッションの合計)\n"
			"         [--max-message バイト] (既定 64M) [--socket-mode 8進数] (既定 0660) [--socket-group グループ]\n"
			"         [--workers 数] (既定: コア数) [--in-process] [--no-office]\n"
			"  --no-office: 旧形式 (doc・xls・ppt・rtf・odt など) の添付ファイルを LibreOffice で\n"
			"  変換せず、unsupported-* で遮断します。\n"
			"  --max-sessions または --max-buffered を超えると MTA に 451 4.3.2 を返し、MTA が後で再送します。\n"
			"  メールはサンドボックス化したワーカープロセスで解析します。--in-process はサンドボックスを\n"
			"  使わずこのプロセス内で解析します (デバッグ専用)。\n",
	      stderr);
}

/* A byte count: digits with an optional K, M or G (binary); 0 or SK_EINVAL. */
static int parse_size(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (!*s || *s == '-' || errno || end == s)
		return SK_EINVAL;
	unsigned shift = 0;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (*end || (shift && x > (UINT64_MAX >> shift)))
		return SK_EINVAL;
	*v = (uint64_t)x << shift;
	return 0;
}

int cmd_milter(int argc, char **argv)
{
	const char *sock = NULL, *state = NULL, *profile = NULL, *onerr = "tempfail", *lang_opt = NULL,
		   *policy = NULL, *from = NULL, *to = NULL, *max_sessions = NULL,
		   *max_buffered = NULL, *max_message = NULL, *sock_mode = NULL, *sgroup = NULL,
		   *workers = NULL;
	bool in_process = false, no_office = false;
	uint64_t n_sessions = 0;
	static sk_mail_options mopt;
	static sk_options fopt;
	static const char *internal[SK_MAIL_IDS_MAX + 1];
	int ni = 0;
	static const struct option longs[] = {
		{"socket", required_argument, NULL, 'S'},
		{"state", required_argument, NULL, 's'},
		{"profile", required_argument, NULL, 'p'},
		{"on-error", required_argument, NULL, 'e'},
		{"internal", required_argument, NULL, 'i'},
		{"lang", required_argument, NULL, 'l'},
		{"policy", required_argument, NULL, 'P'},
		{"from", required_argument, NULL, 'F'},
		{"to", required_argument, NULL, 'U'},
		{"max-sessions", required_argument, NULL, 'N'},
		{"max-buffered", required_argument, NULL, 'B'},
		{"max-message", required_argument, NULL, 'M'},
		{"socket-mode", required_argument, NULL, 'O'},
		{"socket-group", required_argument, NULL, 'G'},
		{"workers", required_argument, NULL, 'W'},
		{"in-process", no_argument, NULL, 'I'},
		{"no-office", no_argument, NULL, 'X'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (c) {
		case 'S': sock = optarg; break;
		case 's': state = optarg; break;
		case 'p': profile = optarg; break;
		case 'e': onerr = optarg; break;
		case 'l': lang_opt = optarg; break;
		case 'P': policy = optarg; break;
		case 'F': from = optarg; break;
		case 'U': to = optarg; break;
		case 'N': max_sessions = optarg; break;
		case 'B': max_buffered = optarg; break;
		case 'M': max_message = optarg; break;
		case 'O': sock_mode = optarg; break;
		case 'G': sgroup = optarg; break;
		case 'W': workers = optarg; break;
		case 'I': in_process = true; break;
		case 'X': no_office = true; break;
		case 'i':
			if (ni < SK_MAIL_IDS_MAX - 1)
				internal[ni++] = optarg;
			break;
		case 'h': usage(cli_lang(lang_opt)); return 0;
		default: usage(cli_lang(lang_opt)); return 2;
		}
	}
	sk_lang lang = cli_lang(lang_opt);
	if (!sock) {
		usage(lang);
		return 2;
	}
	sk_policy *pol;
	int prc = cli_mail_setup(lang, lang_opt != NULL, policy, from, to, profile, internal, ni,
				 &mopt, &fopt, &pol);
	if (prc)
		return prc;
	sk_milter_onerr onerr_act;
	if (!strcmp(onerr, "tempfail"))
		onerr_act = SK_MILTER_TEMPFAIL;
	else if (!strcmp(onerr, "accept"))
		onerr_act = SK_MILTER_ACCEPT;
	else if (!strcmp(onerr, "reject"))
		onerr_act = SK_MILTER_REJECT;
	else {
		cli_err(lang, "--on-error は tempfail、accept、reject のいずれかです",
			"--on-error takes tempfail, accept or reject", onerr);
		sk_policy_free(pol);
		return 2;
	}
	sk_milter_config mc = {.socket = sock, .mail = &mopt, .gate = &fopt, .socket_group = sgroup,
			       .on_error = onerr_act, .from_zone = from, .to_zone = to};
	uint64_t n_workers = 0;
	struct {
		const char *arg, *name;
		uint64_t *v;
		uint64_t max;
	} nums[] = {{max_sessions, "--max-sessions", &n_sessions, 1000000},
		    {max_buffered, "--max-buffered", &mc.max_buffered, UINT64_MAX},
		    {max_message, "--max-message", &mc.max_message, (uint64_t)1 << 30},
		    {workers, "--workers", &n_workers, 256},
		    {sock_mode, "--socket-mode", NULL, 0}};
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		if (!nums[i].arg)
			continue;
		uint64_t v = 0;
		int bad;
		if (!nums[i].v) { /* the socket mode, octal */
			char *end;
			errno = 0;
			unsigned long m = strtoul(nums[i].arg, &end, 8);
			bad = !*nums[i].arg || *end || errno || m > 0777 || m == 0;
			mc.socket_mode = (int)m;
		} else {
			bad = parse_size(nums[i].arg, &v) != 0 || v == 0 || v > nums[i].max;
			*nums[i].v = v;
		}
		if (bad) {
			cli_err(lang, "値が正しくありません", "invalid value", nums[i].name);
			sk_policy_free(pol);
			return 2;
		}
	}
	mc.max_sessions = (unsigned)n_sessions;
	if (workers && in_process) {
		cli_err(lang, "--workers は --in-process とは併用できません",
			"--workers cannot be used with --in-process", workers);
		sk_policy_free(pol);
		return 2;
	}
	sk_error err;
	sk_error_clear(&err);
	sk_audit *audit = NULL;
	sk_quarantine *quar = NULL;
	if (state) {
		if (cli_state_open(lang, state, &audit, &quar) != 0) {
			sk_policy_free(pol);
			return 2;
		}
		fopt.quarantine = quar;
		fopt.audit = audit;
	}
	/* messages are parsed only in sandboxed workers (unless --in-process) */
	sk_pool *pool = NULL;
	if (!in_process) {
		sk_pool_config pc;
		sk_pool_config_default(&pc);
		pc.workers = (unsigned)n_workers;
		if (sk_pool_open(&pc, &pool, &err) != 0) {
			cli_fail(lang, "ワーカーを起動できません", "cannot start the workers", NULL, &err);
			cli_state_close(lang, audit, quar);
			sk_policy_free(pol);
			return 2;
		}
		fopt.pool = pool;
	}
	/* legacy attachments (doc, xls …) converted by LibreOffice in its own workers */
	sk_gate_office *office = NULL;
	if (cli_office_open(lang, no_office, policy ? NULL : fopt.profile, 1, false, &fopt,
			    &office)) {
		sk_pool_close(pool);
		cli_state_close(lang, audit, quar);
		sk_policy_free(pol);
		return 2;
	}
	/* stray library prints go to the log, with ours */
	fflush(stdout);
	dup2(STDERR_FILENO, STDOUT_FILENO);
	int rc = 0;
	if (sk_milter_run(&mc, &err) != 0) {
		cli_fail(lang, "milter を開始できません", "cannot run the milter", NULL, &err);
		rc = 2;
	}
	sk_gate_office_free(office);
	sk_pool_close(pool);
	if (cli_state_close(lang, audit, quar) != 0) /* signs what this run recorded */
		rc = 2;
	sk_policy_free(pol);
	return rc;
}

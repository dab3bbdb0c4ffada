/* sekisho mail — one message through the gate (sk_gate_mail), the MIME walk in a sandboxed
 * worker: sekisho mail [--profile P] [--state DIR] [--policy F --from Z --to Z]
 * [--in-process] < in > out */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sekisho/audit.h"
#include "sekisho/core.h"
#include "sekisho/mail.h"
#include "sekisho/policy.h"
#include "sekisho/pool.h"
#include "sekisho/quarantine.h"

enum { EXIT_DELIVERED = 0, EXIT_HELD = 1, EXIT_TROUBLE = 2 };

static void usage(sk_lang lang)
{
	fputs(lang == SK_LANG_EN
		      ? "usage: sekisho mail [--profile default|sanitize|en|POLICY-PROFILE] [--state DIR] [--internal DOMAIN]... [--lang ja|en]\n"
			"         [--policy FILE --from ZONE --to ZONE] [--in-process] [--no-office] < in.eml > out.eml\n"
			"  the message is parsed in a sandboxed worker process; --in-process parses it in\n"
			"  this process, without the sandbox: for debugging only.\n"
			"  --no-office: attachments in legacy formats (doc, xls, ppt, rtf, odt …) are not\n"
			"  converted by LibreOffice but blocked.\n"
			"  exit 0: delivered (sanitised), 1: held (a notice is written), 2: trouble\n"
		      : "使い方: sekisho mail [--profile default|sanitize|en|ポリシーのプロファイル] [--state フォルダ] [--internal ドメイン]... [--lang ja|en]\n"
			"         [--policy ファイル --from ゾーン --to ゾーン] [--in-process] [--no-office] < 入力.eml > 出力.eml\n"
			"  メールはサンドボックス化したワーカープロセスで解析します。--in-process は\n"
			"  サンドボックスを使わずこのプロセス内で解析します (デバッグ専用)。\n"
			"  --no-office: 旧形式 (doc・xls・ppt・rtf・odt など) の添付ファイルを LibreOffice で\n"
			"  変換せず、遮断します。\n"
			"  終了コード 0: 配信 (無害化済み)、1: 保留 (通知を出力)、2: 異常\n",
	      stderr);
}

int cli_mail_setup(sk_lang lang, bool lang_set, const char *policy, const char *from,
		   const char *to, const char *profile, const char **internal, int ni,
		   sk_mail_options *o, sk_options *opt, sk_policy **pol)
{
	sk_mail_options_default(o);
	sk_options_default(opt);
	*pol = NULL;
	if (policy || from || to) {
		int prc = cli_sanitize_policy(lang, policy, from, to, "mail", NULL, pol);
		if (prc)
			return prc;
		opt->policy = *pol;
	}
	/* --profile: a profile of the policy or a built-in mail profile (a sanitize flow's
	 * own profile replaces it in the gate) */
	sk_error err;
	sk_error_clear(&err);
	if (sk_gate_mail_profile(*pol, profile, o, &err) != 0) {
		cli_err(lang, "不明なプロファイルです", "unknown profile", profile);
		sk_policy_free(*pol);
		*pol = NULL;
		return EXIT_TROUBLE;
	}
	if (o->file_profile)
		opt->profile = o->file_profile;
	/* --internal, else the policy's internal_domains (the external-sender warning, the
	 * look-alike domains of the notice) */
	if (ni)
		o->internal_domains = internal;
	else if (*pol && sk_policy_internal_domains(*pol)[0])
		o->internal_domains = sk_policy_internal_domains(*pol);
	if (lang_set) /* --lang also sets the language of the notice */
		o->lang = lang;
	return 0;
}

int cmd_mail(int argc, char **argv)
{
	const char *profile = NULL, *state = NULL, *lang_opt = NULL, *policy = NULL, *from = NULL,
		   *to = NULL;
	const char *internal[SK_MAIL_IDS_MAX + 1] = {0};
	int ni = 0;
	bool in_process = false, no_office = false;
	static const struct option longs[] = {
		{"profile", required_argument, NULL, 'p'},
		{"state", required_argument, NULL, 's'},
		{"lang", required_argument, NULL, 'l'},
		{"internal", required_argument, NULL, 'i'},
		{"policy", required_argument, NULL, 'P'},
		{"from", required_argument, NULL, 'F'},
		{"to", required_argument, NULL, 'U'},
		{"in-process", no_argument, NULL, 'I'},
		{"no-office", no_argument, NULL, 'N'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (c) {
		case 'p': profile = optarg; break;
		case 's': state = optarg; break;
		case 'l': lang_opt = optarg; break;
		case 'P': policy = optarg; break;
		case 'F': from = optarg; break;
		case 'U': to = optarg; break;
		case 'I': in_process = true; break;
		case 'N': no_office = true; break;
		case 'i':
			if (ni < SK_MAIL_IDS_MAX - 1)
				internal[ni++] = optarg;
			break;
		case 'h': usage(cli_lang(lang_opt)); return 0;
		default: usage(cli_lang(lang_opt)); return EXIT_TROUBLE;
		}
	}
	sk_lang lang = cli_lang(lang_opt);
	sk_mail_options o;
	sk_options fo; /* the gate's */
	sk_policy *pol;
	int prc = cli_mail_setup(lang, lang_opt != NULL, policy, from, to, profile, internal, ni,
				 &o, &fo, &pol);
	if (prc)
		return prc;
	sk_error err;
	sk_error_clear(&err);
	sk_buf in;
	sk_buf_init(&in, (size_t)o.max_size + 1);
	int rc = 0;
	char chunk[65536];
	size_t got;
	while ((got = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
		if ((rc = sk_buf_add(&in, chunk, got)) != 0)
			break;
	}
	if (rc == SK_ELIMIT) {
		/* over the limit: the buffer filled to max_size + 1 bytes makes the size check
		 * hold the message (the quarantine keeps those bytes) */
		size_t room = in.max - in.len;
		rc = room < got ? sk_buf_add(&in, chunk, room) : 0;
		while (fread(chunk, 1, sizeof(chunk), stdin) > 0)
			;
	}
	if (rc || ferror(stdin)) {
		cli_err(lang, "入力を読み込めません", "cannot read the input", NULL);
		sk_buf_free(&in);
		sk_policy_free(pol);
		return EXIT_TROUBLE;
	}
	sk_audit *audit = NULL;
	sk_quarantine *quar = NULL;
	if (state) {
		if (cli_state_open(lang, state, &audit, &quar) != 0) {
			sk_buf_free(&in);
			sk_policy_free(pol);
			return EXIT_TROUBLE;
		}
		fo.quarantine = quar;
		fo.audit = audit;
	}
	/* the message is parsed only in a sandboxed worker (unless --in-process) */
	sk_pool *pool = NULL;
	if (!in_process) {
		sk_pool_config pc;
		sk_pool_config_default(&pc);
		pc.workers = 1;
		pc.colocate = true; /* one message, this thread waits */
		sk_error perr;
		sk_error_clear(&perr);
		if (sk_pool_open(&pc, &pool, &perr) != 0) {
			cli_fail(lang, "ワーカーを起動できません", "cannot start the workers", NULL, &perr);
			sk_buf_free(&in);
			cli_state_close(lang, audit, quar);
			sk_policy_free(pol);
			return EXIT_TROUBLE;
		}
		fo.pool = pool;
	}
	/* attachments in legacy formats: LibreOffice started only when one needs it */
	sk_gate_office *office = NULL;
	if (cli_office_open(lang, no_office, policy ? NULL : fo.profile, 1, true, &fo, &office)) {
		sk_buf_free(&in);
		sk_pool_close(pool);
		cli_state_close(lang, audit, quar);
		sk_policy_free(pol);
		return EXIT_TROUBLE;
	}
	sk_buf out;
	sk_buf_init(&out, SK_BUF_MAX_DEFAULT);
	sk_mail_result res;
	/* a library that prints (GMime, GLib warnings) must not write
	 * into the message: standard output points at standard error while we work */
	fflush(stdout);
	int outfd = dup(STDOUT_FILENO);
	if (outfd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		cli_err(lang, "出力を準備できません", "cannot set up the output", NULL);
		if (outfd >= 0)
			close(outfd);
		sk_buf_free(&out);
		sk_buf_free(&in);
		sk_pool_close(pool);
		sk_gate_office_free(office);
		cli_state_close(lang, audit, quar);
		sk_policy_free(pol);
		return EXIT_TROUBLE;
	}
	sk_item item = {.src_zone = from, .dst_zone = to, .submitter = "mail", .channel = "mail"};
	sk_input_mem(&item.input, sk_buf_len(&in) ? sk_buf_data(&in) : (const uint8_t *)"",
		     sk_buf_len(&in));
	sk_result gres;
	rc = sk_gate_mail(&item, &o, &fo, &out, &gres, &res, &err);
	if (rc == 0 && gres.unrecorded[0]) {
		/* not on record: nothing is delivered (the next run finishes it as interrupted) */
		cli_err(lang, "判定を監査ログに記録できません", "cannot record the decision", gres.unrecorded);
		rc = SK_EIO;
	}
	sk_result_free(&gres);
	sk_pool_close(pool);
	sk_gate_office_free(office);
	fflush(stdout);
	int st = EXIT_TROUBLE;
	size_t done = 0;
	if (!rc) {
		while (done < out.len) {
			ssize_t w = write(outfd, out.data + done, out.len - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			done += (size_t)w;
		}
	}
	if (rc) {
		cli_fail(lang, "メールを処理できませんでした (何も出力していません)",
			"could not process the mail (nothing written)", NULL, &err);
	} else if (done != out.len) {
		cli_err(lang, "出力を書き込めません", "cannot write the output", NULL);
	} else {
		st = res.held ? EXIT_HELD : EXIT_DELIVERED;
		/* one status line: the outcome in words, then the codes (actions, id=, reason=) */
		fprintf(stderr, "%s %s%s%s%s%s\n",
			lang == SK_LANG_EN ? (res.held ? "held" : "delivered")
					   : (res.held ? "保留しました" : "配送しました"),
			res.actions,
			res.quarantine_id[0] ? " id=" : "", res.quarantine_id,
			res.held ? " reason=" : "", res.held ? sk_reason_code(res.reason) : "");
	}
	close(outfd);
	sk_buf_free(&out);
	sk_buf_free(&in);
	if (cli_state_close(lang, audit, quar) != 0) /* signs what this run recorded */
		st = EXIT_TROUBLE;
	sk_policy_free(pol);
	return st;
}

/* sekisho report — the yearly report for the 情報セキュリティ委員会: one xlsx (and a PDF made
 * by LibreOffice headless) with the gateway's figures, incidents, training and the
 * self-inspections and audits of one fiscal year (sk_ledger_yearly_report). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sekisho/audit.h"
#include "sekisho/ledger.h"
#include "sekisho/policy.h"

enum { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_TROUBLE = 2 };

static void usage(FILE *f, sk_lang lang)
{
	if (lang == SK_LANG_EN)
		fputs("usage: sekisho report --policy FILE [--state DIR] [--year FY] -o FILE.xlsx [--pdf FILE.pdf]\n"
		      "                      [--lang ja|en]\n"
		      "  the yearly report for the information security committee: one Excel workbook\n"
		      "  (summary, gateway, incidents, training, self-inspections and audits) of fiscal\n"
		      "  year FY (April FY to March FY+1; default: the current one), from the quarantine\n"
		      "  and the ledgers of the state folder\n"
		      "  --pdf FILE.pdf   the same as a PDF, made by LibreOffice headless (soffice)\n",
		      f);
	else
		fputs("使い方: sekisho report --policy ファイル [--state フォルダ] [--year 年度] -o ファイル.xlsx\n"
		      "                      [--pdf ファイル.pdf] [--lang ja|en]\n"
		      "  情報セキュリティ委員会への年次報告: 年度 (その年の4月から翌年3月。既定は今年度) の\n"
		      "  概要・ゲートウェイ・事故・研修・自己点検と監査を 1 つの Excel ファイルにまとめます\n"
		      "  (状態フォルダの隔離の記録と台帳から)\n"
		      "  --pdf ファイル.pdf   同じ内容の PDF (LibreOffice (soffice) で作成)\n",
		      f);
}

/* the fiscal year of a date (yyyymmdd): April to March */
static int fiscal_year(int32_t ymd)
{
	int y = ymd / 10000, m = ymd / 100 % 100;
	return m >= 4 ? y : y - 1;
}

int cmd_report(int argc, char **argv)
{
	const char *state = NULL, *lang_opt = NULL, *policy = NULL, *out = NULL, *pdf = NULL,
		   *year = NULL;
	static const struct option longs[] = {
		{"state", required_argument, NULL, 's'},  {"lang", required_argument, NULL, 'l'},
		{"policy", required_argument, NULL, 'p'}, {"year", required_argument, NULL, 'y'},
		{"output", required_argument, NULL, 'o'}, {"pdf", required_argument, NULL, 'P'},
		{"help", no_argument, NULL, 'h'},	  {NULL, 0, NULL, 0},
	};
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "ho:", longs, NULL)) != -1) {
		switch (ch) {
		case 's': state = optarg; break;
		case 'l': lang_opt = optarg; break;
		case 'p': policy = optarg; break;
		case 'y': year = optarg; break;
		case 'o': out = optarg; break;
		case 'P': pdf = optarg; break;
		case 'h': usage(stdout, cli_lang(lang_opt)); return EXIT_OK;
		default: usage(stderr, cli_lang(lang_opt)); return EXIT_TROUBLE;
		}
	}
	sk_lang lang = cli_lang(lang_opt);
	bool en = lang == SK_LANG_EN;
	if (lang_opt && strcmp(lang_opt, "ja") && strcmp(lang_opt, "en")) {
		cli_err(lang, "--lang は ja か en です", "--lang takes ja or en", lang_opt);
		return EXIT_TROUBLE;
	}
	if (optind != argc) {
		usage(stderr, lang);
		return EXIT_TROUBLE;
	}
	if (!out) {
		cli_err(lang, "-o で出力先の .xlsx を指定してください", "give the .xlsx to write with -o", NULL);
		return EXIT_TROUBLE;
	}
	if (!policy) {
		cli_err(lang, "--policy でポリシーファイルを指定してください (団体名・所属)",
			"give the policy file with --policy (organization, sections)", NULL);
		return EXIT_TROUBLE;
	}
	int fy = fiscal_year(sk_policy_today());
	if (year) {
		char *end = NULL;
		long v = strtol(year, &end, 10);
		if (end && (!strcmp(end, "年度") || !*end) && end != year && v >= 1900 && v <= 9998) {
			fy = (int)v;
		} else {
			cli_err(lang, "--year は西暦の年度です (例 2026)", "--year takes a fiscal year (e.g. 2026)",
				year);
			return EXIT_TROUBLE;
		}
	}
	sk_policy *p = NULL;
	int st = cli_policy_load(lang, policy, &p);
	if (st)
		return st;
	char *dir = cli_state_dir(state);
	if (!dir) {
		sk_policy_free(p);
		cli_err(lang, "状態フォルダが決まりません (--state を指定してください)",
			"no state folder (give --state)", NULL);
		return EXIT_TROUBLE;
	}
	sk_error err;
	sk_error_clear(&err);
	sk_audit *audit = NULL;
	sk_ledger *l = NULL;
	sk_ledger_options lo = {.lang = lang};
	if (sk_audit_open(dir, NULL, &audit, &err) != 0 ||
	    sk_ledger_open(dir, audit, p, &lo, &l, &err) != 0) {
		cli_fail(lang, "状態フォルダを開けません", "cannot open the state folder", dir, &err);
		sk_audit_close(audit);
		sk_policy_free(p);
		free(dir);
		return EXIT_TROUBLE;
	}
	int rc = sk_ledger_yearly_report(l, dir, fy, out, pdf, lang, &err);
	if (rc) {
		/* the PDF's problems come in lang (LibreOffice missing, failing, too slow) */
		cli_fail(lang, "年次報告を書けません", "cannot write the report", NULL, &err);
		st = EXIT_TROUBLE;
	} else {
		fprintf(stderr, en ? "sekisho: FY%d report: %s written\n" : "sekisho: %d年度の報告: %s を書きました\n",
			fy, out);
		if (pdf)
			fprintf(stderr, en ? "sekisho: %s written\n" : "sekisho: %s を書きました\n", pdf);
	}
	sk_ledger_close(l);
	sk_audit_close(audit);
	sk_policy_free(p);
	free(dir);
	return st;
}

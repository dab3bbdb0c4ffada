/* sekisho — command entry: parses the sub-command and calls the library. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

sk_lang cli_lang(const char *opt)
{
	if (opt)
		return sk_lang_from_string(opt);
	const char *vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
	for (size_t i = 0; i < 3; i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return sk_lang_from_string(v);
	}
	return SK_LANG_JA;
}

void cli_err(sk_lang lang, const char *ja, const char *en, const char *arg)
{
	fprintf(stderr, "sekisho: %s%s%s\n", lang == SK_LANG_EN ? en : ja, arg ? ": " : "",
		arg ? arg : "");
}

static void usage(FILE *f, sk_lang lang)
{
	if (lang == SK_LANG_EN)
		fputs("usage: sekisho COMMAND [OPTIONS]\n"
		      "commands:\n"
		      "  sanitize [-o OUTDIR] [--json] [--profile NAME] [--lang ja|en] PATH...\n"
		      "      disarm and rebuild files (folders recursively)\n"
		      "      --state DIR: keep originals in quarantine and audit each decision\n"
		      "      --clamd SOCKET: scan every item with clamd first\n"
		      "      --policy FILE --from ZONE --to ZONE [--channel file] [--class LEVEL]: apply a flow\n"
		      "  quarantine list|show|request|approve|refuse|release|purge|unlock [--state DIR]\n"
		      "      originals kept aside; release needs the approval of other users\n"
		      "      (--by USER: a console user; rights from the roles of --policy FILE)\n"
		      "  audit append|list|verify|proof|checkpoint|key [--state DIR]\n"
		      "      the tamper-evident audit log\n"
		      "  policy check|explain|nft FILE ...   validate, explain a decision, firewall rules\n"
		      "  dlp scan [--policy FILE] FILE...     find My Numbers, corporate numbers, patterns\n"
		      "  mail [--profile P] [--state DIR] < in.eml > out.eml   make a mail text-only\n"
		      "  milter --socket unix:PATH|inet:PORT@127.0.0.1 [--state DIR]   the same for Postfix\n"
		      "  user add|list|disable|enable|reset-totp|passwd --state DIR [--policy FILE]\n"
		      "      console users (password + TOTP)\n"
		      "  ledger list|show|add|update|fields|export|import NAME --policy FILE [--state DIR]\n"
		      "      the ledgers: assets, incidents, exceptions, training, entries, contractors,\n"
		      "      inspections, laws (Excel export, Excel CSV import)\n"
		      "  report --year FY --policy FILE [--state DIR] -o FILE.xlsx [--pdf FILE.pdf]\n"
		      "      the yearly report for the information security committee (Excel, PDF)\n",
		      f);
	else
		fputs("使い方: sekisho コマンド [オプション]\n"
		      "コマンド:\n"
		      "  sanitize [-o 出力先] [--json] [--profile 名前] [--lang ja|en] パス...\n"
		      "      ファイルを無害化して再構成します (フォルダは再帰的に処理)\n"
		      "      --state フォルダ: 原本を隔離保管し、判定を監査ログに記録\n"
		      "      --clamd ソケット: 各ファイルを先に clamd で検査\n"
		      "      --policy ファイル --from ゾーン --to ゾーン [--channel file] [--class レベル]: 通信規則を適用\n"
		      "  quarantine list|show|request|approve|refuse|release|purge|unlock [--state フォルダ]\n"
		      "      隔離した原本 (取り出しには申請者以外の承認が必要。--by 利用者は画面の利用者、\n"
		      "      権限は --policy ファイルの役割から)\n"
		      "  audit append|list|verify|proof|checkpoint|key [--state フォルダ]\n"
		      "      改ざん検知付きの監査ログ\n"
		      "  policy check|explain|nft ファイル ...  ポリシーの検証・判定の説明・ファイアウォール規則\n"
		      "  dlp scan [--policy ファイル] ファイル...  個人番号・法人番号・独自パターンの検出\n"
		      "  mail [--profile P] [--state フォルダ] < 入力.eml > 出力.eml   メールをテキスト化して無害化\n"
		      "  milter --socket unix:パス|inet:ポート@127.0.0.1 [--state フォルダ]   Postfix 用 milter\n"
		      "  user add|list|disable|enable|reset-totp|passwd --state フォルダ [--policy ファイル]\n"
		      "      画面の利用者 (パスワード + TOTP)\n"
		      "  ledger list|show|add|update|fields|export|import 台帳 --policy ファイル [--state フォルダ]\n"
		      "      台帳: 情報資産・事故・例外措置・研修・入退室・外部委託・点検・法規制等\n"
		      "      (Excel への書き出し、Excel の CSV の取り込み)\n"
		      "  report --year 年度 --policy ファイル [--state フォルダ] -o ファイル.xlsx [--pdf ファイル.pdf]\n"
		      "      情報セキュリティ委員会への年次報告 (Excel・PDF)\n",
		      f);
}

int main(int argc, char **argv)
{
	sk_lang lang = cli_lang(NULL);
	if (argc < 2) {
		usage(stderr, lang);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "sanitize"))
		return cmd_sanitize(argc - 1, argv + 1);
	if (!strcmp(cmd, "quarantine"))
		return cmd_quarantine(argc - 1, argv + 1);
	if (!strcmp(cmd, "audit"))
		return cmd_audit(argc - 1, argv + 1);
	if (!strcmp(cmd, "policy"))
		return cmd_policy(argc - 1, argv + 1);
	if (!strcmp(cmd, "dlp"))
		return cmd_dlp(argc - 1, argv + 1);
	if (!strcmp(cmd, "mail"))
		return cmd_mail(argc - 1, argv + 1);
	if (!strcmp(cmd, "milter"))
		return cmd_milter(argc - 1, argv + 1);
	if (!strcmp(cmd, "user"))
		return cmd_user(argc - 1, argv + 1);
	if (!strcmp(cmd, "ledger"))
		return cmd_ledger(argc - 1, argv + 1);
	if (!strcmp(cmd, "report"))
		return cmd_report(argc - 1, argv + 1);
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout, lang);
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		puts("sekisho 0.1.0");
		return 0;
	}
	cli_err(lang, "不明なコマンドです", "unknown command", cmd);
	usage(stderr, lang);
	return 2;
}

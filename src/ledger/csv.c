/* The CSV that Excel writes (CP932 or UTF-8 with a BOM, CRLF, quoted fields with line
 * breaks), read into rows and imported in one transaction (see ledger.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ledger_int.h"
#include "sekisho/charset.h"

typedef struct crow {
	char **f;
	size_t n, cap;
	size_t line;
} crow;

typedef struct csv {
	crow *rows;
	size_t n, cap;
} csv;

static void csv_free(csv *c)
{
	for (size_t i = 0; i < c->n; i++) {
		for (size_t j = 0; j < c->rows[i].n; j++)
			free(c->rows[i].f[j]);
		free(c->rows[i].f);
	}
	free(c->rows);
	memset(c, 0, sizeof(*c));
}

static int push_field(crow *r, sk_buf *b)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		char **v = realloc(r->f, cap * sizeof(*v));
		if (!v)
			return SK_ENOMEM;
		r->f = v;
		r->cap = cap;
	}
	char *s = strdup(sk_buf_str(b));
	if (!s)
		return SK_ENOMEM;
	r->f[r->n++] = s;
	sk_buf_reset(b);
	return 0;
}

static crow *push_row(csv *c, size_t line)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		crow *v = realloc(c->rows, cap * sizeof(*v));
		if (!v)
			return NULL;
		c->rows = v;
		c->cap = cap;
	}
	crow *r = &c->rows[c->n++];
	memset(r, 0, sizeof(*r));
	r->line = line;
	return r;
}

/* RFC 4180 with what Excel does: records end with CRLF, LF or CR; a quoted field may hold
 * commas, "" and line breaks. A row is kept with the line it starts on. */
static int parse(const char *s, size_t n, csv *c, sk_ledger_problems *pr, sk_error *err)
{
	sk_buf b;
	sk_buf_init(&b, SK_LEDGER_VALUE_MAX * 4);
	size_t line = 1, i = 0;
	int rc = 0;
	while (i < n && rc == 0) {
		if (c->n >= SK_LEDGER_IMPORT_ROWS_MAX + 1) {
			sk_ledger_problem_add(pr, line, "", "行が多すぎます (上限 %d 行)",
					      "too many rows (at most %d)", SK_LEDGER_IMPORT_ROWS_MAX);
			rc = SK_ELIMIT;
			break;
		}
		crow *r = push_row(c, line);
		if (!r) {
			rc = SK_ENOMEM;
			break;
		}
		for (;;) { /* fields of one record */
			bool quoted = i < n && s[i] == '"';
			if (quoted) {
				i++;
				for (;;) {
					if (i >= n) {
						sk_ledger_problem_add(pr, r->line, "",
								      "引用符 (\") が閉じられていません",
								      "a quote (\") is never closed");
						rc = SK_EFORMAT;
						break;
					}
					if (s[i] == '"') {
						if (i + 1 < n && s[i + 1] == '"') {
							rc = sk_buf_addc(&b, '"');
							i += 2;
							continue;
						}
						i++;
						break;
					}
					if (s[i] == '\r' || s[i] == '\n') {
						line++;
						if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
							rc = sk_buf_addc(&b, '\r');
							i++;
						}
					}
					rc = rc ? rc : sk_buf_addc(&b, (uint8_t)s[i++]);
					if (rc)
						break;
				}
			}
			/* unquoted (or what follows a closing quote, kept as it is) */
			while (rc == 0 && i < n && s[i] != ',' && s[i] != '\r' && s[i] != '\n')
				rc = sk_buf_addc(&b, (uint8_t)s[i++]);
			if (rc == SK_ELIMIT)
				sk_ledger_problem_add(pr, r->line, "", "値が長すぎます", "a value is too long");
			if (rc == 0)
				rc = push_field(r, &b);
			if (rc)
				break;
			if (i < n && s[i] == ',') {
				i++;
				continue;
			}
			if (i < n && s[i] == '\r')
				i++;
			if (i < n && s[i] == '\n')
				i++;
			line++;
			break;
		}
	}
	sk_buf_free(&b);
	if (rc == SK_ENOMEM)
		return sk_error_set(err, rc, "csv");
	return rc;
}

static bool empty_row(const crow *r)
{
	for (size_t j = 0; j < r->n; j++)
		if (r->f[j][0])
			return false;
	return true;
}

/* The text of the file as UTF-8 (a BOM dropped): UTF-8 as it is, else CP932 (what
 * Excel's "CSV (comma delimited)" writes in Japanese Windows). */
static int to_utf8(const uint8_t *p, size_t n, sk_buf *out, sk_ledger_problems *pr,
		   sk_error *err)
{
	sk_charset_guess g;
	sk_charset_detect(p, n, false, &g);
	if (g.cs == SK_CHARSET_UTF16LE || g.cs == SK_CHARSET_UTF16BE || g.cs == SK_CHARSET_UTF32LE ||
	    g.cs == SK_CHARSET_UTF32BE) {
		sk_ledger_problem_add(pr, 0, "",
				      "UTF-16 のファイルは読めません。「CSV UTF-8」か「CSV (コンマ区切り)」で保存してください",
				      "UTF-16 files are not read; save as \"CSV UTF-8\" or \"CSV (Comma delimited)\"");
		return SK_EFORMAT;
	}
	p += g.bom;
	n -= g.bom;
	if (g.cs == SK_CHARSET_ASCII || g.cs == SK_CHARSET_UTF8) {
		if (sk_buf_add(out, p, n))
			return sk_error_set(err, SK_ELIMIT, "csv");
		return 0;
	}
	if (!sk_charset_decodes("CP932", p, n, false)) {
		sk_ledger_problem_add(pr, 0, "",
				      "文字コードが UTF-8 でも Shift_JIS (CP932) でもありません",
				      "the file is neither UTF-8 nor Shift_JIS (CP932)");
		return SK_EFORMAT;
	}
	size_t bad = 0;
	return sk_charset_to_utf8("CP932", p, n, out, &bad, err);
}

static bool meta_header(const char *h, bool *is_id)
{
	for (size_t i = 0; i < LMETA_COUNT; i++)
		if (!strcmp(h, sk_ledger_meta_headers[i][0]) || !strcasecmp(h, sk_ledger_meta_headers[i][1])) {
			*is_id = i == 0;
			return true;
		}
	return false;
}

int sk_ledger_import_csv(sk_ledger *l, const char *table, const uint8_t *p, size_t n,
			 const char *by, size_t *added, size_t *updated, sk_ledger_problems *pr,
			 sk_error *err)
{
	const sk_ledger_table *t = sk_ledger_table_find(l, table);
	if (!t)
		return sk_error_set(err, SK_EINVAL, "no ledger %s", table ? table : "(null)");
	if (n > SK_LEDGER_IMPORT_BYTES_MAX) {
		sk_ledger_problem_add(pr, 0, "", "ファイルが大きすぎます (上限 %zu バイト)",
				      "the file is too large (at most %zu bytes)", SK_LEDGER_IMPORT_BYTES_MAX);
		return sk_error_set(err, SK_ELIMIT, "csv over %zu bytes", SK_LEDGER_IMPORT_BYTES_MAX);
	}
	sk_buf text;
	sk_buf_init(&text, SK_LEDGER_IMPORT_BYTES_MAX * 2);
	csv c = {0};
	int *cols = NULL;
	char ***rows = NULL;
	size_t *lines = NULL;
	int rc = to_utf8(p, n, &text, pr, err);
	if (rc == 0)
		rc = parse(sk_buf_str(&text), sk_buf_len(&text), &c, pr, err);
	if (rc == 0 && c.n == 0) {
		sk_ledger_problem_add(pr, 0, "", "見出しの行がありません", "there is no header row");
		rc = SK_EFORMAT;
	}
	int id_col = -1;
	if (rc == 0 && !(cols = calloc(c.rows[0].n, sizeof(int))))
		rc = SK_ENOMEM;
	for (size_t j = 0; rc == 0 && j < c.rows[0].n; j++) {
		char *h = c.rows[0].f[j];
		if (j == 0 && !strncmp(h, "\xef\xbb\xbf", 3)) /* a second BOM (a file re-saved by a tool that adds one) */
			memmove(h, h + 3, strlen(h + 3) + 1);
		bool is_id = false;
		cols[j] = sk_ledger_field_index(t, h);
		if (cols[j] >= 0 && (t->fields[cols[j]].type == SK_LF_COMPUTED ||
				     t->fields[cols[j]].type == SK_LF_FILES))
			cols[j] = -1;
		else if (cols[j] < 0 && meta_header(h, &is_id)) {
			if (is_id)
				id_col = (int)j;
		} else if (cols[j] < 0 && *h) {
			sk_ledger_problem_add(pr, c.rows[0].line, h, "%s にこの列はありません",
					      "%s has no such column", t->name);
			rc = SK_EFORMAT;
		}
		for (size_t k = 0; rc == 0 && cols[j] >= 0 && k < j; k++)
			if (cols[k] == cols[j]) {
				sk_ledger_problem_add(pr, c.rows[0].line, h, "列が二度あります",
						      "the column is given twice");
				rc = SK_EFORMAT;
			}
	}
	size_t nrows = 0;
	if (rc == 0 && (!(rows = calloc(c.n, sizeof(*rows))) || !(lines = calloc(c.n, sizeof(*lines)))))
		rc = SK_ENOMEM;
	bool bad = false;
	for (size_t i = 1; rc == 0 && i < c.n; i++) {
		crow *r = &c.rows[i];
		if (empty_row(r))
			continue;
		bool extra = false;
		for (size_t j = c.rows[0].n; j < r->n; j++)
			extra = extra || r->f[j][0];
		if (extra) {
			sk_ledger_problem_add(pr, r->line, "", "見出しより列が多い行です",
					      "the row has more columns than the header");
			bad = true;
			continue;
		}
		/* short rows: the missing columns are empty */
		while (r->n < c.rows[0].n) {
			sk_buf e;
			sk_buf_init(&e, 1);
			if (push_field(r, &e)) {
				rc = SK_ENOMEM;
				break;
			}
		}
		rows[nrows] = r->f;
		lines[nrows++] = r->line;
	}
	if (rc == 0 && bad)
		rc = SK_EINVAL;
	if (rc == 0)
		rc = sk_ledger_import_rows(l, t, cols, c.rows[0].n, rows, lines, nrows, id_col, by,
					   added, updated, pr, err);
	else if (rc == SK_ENOMEM)
		sk_error_set(err, rc, "csv");
	else if (rc == SK_EFORMAT || rc == SK_EINVAL || rc == SK_ELIMIT)
		sk_error_set(err, rc, "%s: the file has problems, nothing imported", t->name);
	free(cols);
	free(rows);
	free(lines);
	csv_free(&c);
	sk_buf_free(&text);
	return rc;
}

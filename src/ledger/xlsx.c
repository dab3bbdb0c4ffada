/* A ledger as an Excel workbook (libxlsxwriter): one sheet per table, Japanese headers,
 * dates as date cells, A4 landscape fitted to the page width, the header row frozen and
 * repeated on every printed page (see ledger.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xlsxwriter.h>

#include "ledger_int.h"
#include "sekisho/io.h"
#include "xlsx_int.h"

#define FONT "游ゴシック"

typedef struct xctx {
	sk_ledger *l;
	lxw_worksheet *ws;
	sk_ledger_xlsx_formats f;
	sk_lang lang;
	lxw_row_t row;
	int rc;
} xctx;

lxw_format *sk_ledger_xlsx_format(lxw_workbook *wb, bool wrap, const char *num)
{
	lxw_format *f = workbook_add_format(wb);
	if (!f)
		return NULL;
	format_set_font_name(f, FONT);
	format_set_font_size(f, 10);
	format_set_align(f, LXW_ALIGN_VERTICAL_TOP);
	format_set_border(f, LXW_BORDER_THIN);
	if (wrap)
		format_set_text_wrap(f);
	if (num)
		format_set_num_format(f, num);
	return f;
}

int sk_ledger_xlsx_formats_add(lxw_workbook *wb, sk_ledger_xlsx_formats *f)
{
	f->head = sk_ledger_xlsx_format(wb, true, NULL);
	f->text = sk_ledger_xlsx_format(wb, false, NULL);
	f->wrap = sk_ledger_xlsx_format(wb, true, NULL);
	f->date = sk_ledger_xlsx_format(wb, false, "yyyy-mm-dd");
	f->datetime = sk_ledger_xlsx_format(wb, false, "yyyy-mm-dd hh:mm");
	f->num = sk_ledger_xlsx_format(wb, false, "0");
	if (!f->head || !f->text || !f->wrap || !f->date || !f->datetime || !f->num)
		return SK_ENOMEM;
	format_set_bold(f->head);
	format_set_bg_color(f->head, 0xDDE5F0);
	format_set_align(f->head, LXW_ALIGN_CENTER);
	format_set_align(f->head, LXW_ALIGN_VERTICAL_CENTER);
	return 0;
}

lxw_datetime sk_ledger_xlsx_dt_text(const char *v)
{
	lxw_datetime d = {0};
	sscanf(v, "%4d-%2d-%2d %2d:%2d", &d.year, &d.month, &d.day, &d.hour, &d.min);
	return d;
}

lxw_datetime sk_ledger_xlsx_dt_us(int64_t us)
{
	time_t t = (time_t)(us / 1000000) + 9 * 3600; /* JST */
	struct tm tm;
	gmtime_r(&t, &tm);
	return (lxw_datetime){tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			      tm.tm_sec};
}

void sk_ledger_xlsx_page(lxw_worksheet *ws, lxw_row_t first_row, lxw_row_t last_row, const char *title)
{
	worksheet_set_paper(ws, 9);
	worksheet_set_landscape(ws);
	worksheet_fit_to_pages(ws, 1, 0);
	worksheet_set_margins(ws, 0.4, 0.4, 0.6, 0.6);
	worksheet_repeat_rows(ws, first_row, last_row);
	char header[256];
	snprintf(header, sizeof(header), "&L%s&R&P / &N", title);
	worksheet_set_header(ws, header);
}

static int put(xctx *x, lxw_col_t col, lxw_error e)
{
	(void)col;
	if (e != LXW_NO_ERROR && x->rc == 0)
		x->rc = SK_EIO;
	return x->rc;
}

static int write_row(void *ctx, const sk_ledger_table *t, const sk_ledger_record *r)
{
	xctx *x = ctx;
	lxw_row_t row = ++x->row;
	lxw_col_t c = 0;
	put(x, c, worksheet_write_string(x->ws, row, c, r->id, x->f.text));
	c++;
	for (size_t i = 0; i < t->nfields; i++, c++) {
		const sk_ledger_field *f = &t->fields[i];
		const char *v = r->values[i];
		if (!v) {
			put(x, c, worksheet_write_blank(x->ws, row, c, f->type == SK_LF_NOTE ? x->f.wrap : x->f.text));
			continue;
		}
		if (f->type == SK_LF_DATE || f->type == SK_LF_DATETIME) {
			lxw_datetime d = sk_ledger_xlsx_dt_text(v);
			put(x, c, worksheet_write_datetime(x->ws, row, c, &d,
							  f->type == SK_LF_DATE ? x->f.date : x->f.datetime));
			continue;
		}
		lxw_format *fm = f->type == SK_LF_NOTE || f->type == SK_LF_COMPUTED || f->type == SK_LF_FILES ? x->f.wrap : x->f.text;
		put(x, c, worksheet_write_string(x->ws, row, c, sk_ledger_value_text(x->l, f, v, x->lang), fm));
	}
	put(x, c, worksheet_write_number(x->ws, row, c, (double)r->version, x->f.num));
	c++;
	lxw_datetime d = sk_ledger_xlsx_dt_us(r->created_us);
	put(x, c, worksheet_write_datetime(x->ws, row, c, &d, x->f.datetime));
	c++;
	put(x, c, worksheet_write_string(x->ws, row, c, r->created_by, x->f.text));
	c++;
	d = sk_ledger_xlsx_dt_us(r->updated_us);
	put(x, c, worksheet_write_datetime(x->ws, row, c, &d, x->f.datetime));
	c++;
	put(x, c, worksheet_write_string(x->ws, row, c, r->updated_by, x->f.text));
	return x->rc;
}

static int sheet(sk_ledger *l, lxw_workbook *wb, const sk_ledger_table *t, sk_lang lang,
		 lxw_format *head, xctx *x, sk_error *err)
{
	bool en = lang == SK_LANG_EN;
	lxw_worksheet *ws = workbook_add_worksheet(wb, en ? t->en : t->ja);
	if (!ws)
		return sk_error_set(err, SK_EIO, "xlsx: cannot add the sheet %s", t->name);
	x->ws = ws;
	x->row = 0;
	x->rc = 0;
	lxw_col_t c = 0;
	put(x, c, worksheet_write_string(ws, 0, c, sk_ledger_meta_headers[0][en], head));
	put(x, c, worksheet_set_column(ws, c, c, 10, NULL));
	c++;
	for (size_t i = 0; i < t->nfields; i++, c++) {
		const sk_ledger_field *f = &t->fields[i];
		put(x, c, worksheet_write_string(ws, 0, c, en ? f->en : f->ja, head));
		put(x, c, worksheet_set_column(ws, c, c, f->width ? f->width : 12, NULL));
	}
	static const unsigned meta_w[] = {5, 17, 12, 17, 12};
	for (size_t i = 1; i < LMETA_COUNT; i++, c++) {
		put(x, c, worksheet_write_string(ws, 0, c, sk_ledger_meta_headers[i][en], head));
		put(x, c, worksheet_set_column(ws, c, c, meta_w[i - 1], NULL));
	}
	worksheet_set_row(ws, 0, 30, NULL);
	int rc = x->rc ? x->rc : sk_ledger_list(l, t->name, write_row, x, err);
	if (rc)
		return rc == SK_EIO && !err->msg[0] ? sk_error_set(err, rc, "xlsx: cannot write") : rc;
	/* print: A4 landscape, the width of one page, the header row on every page */
	sk_ledger_xlsx_page(ws, 0, 0, en ? t->en : t->ja);
	worksheet_freeze_panes(ws, 1, 1);
	worksheet_autofilter(ws, 0, 0, x->row, (lxw_col_t)(c - 1));
	return 0;
}

int sk_ledger_export_xlsx(sk_ledger *l, const char *ledger, const char *path, sk_lang lang,
			  sk_error *err)
{
	const sk_ledger_table *tv[LT_COUNT];
	size_t nt = sk_ledger_tables(l, ledger, tv, LT_COUNT);
	if (!nt) {
		const sk_ledger_table *t = sk_ledger_table_find(l, ledger);
		if (!t)
			return sk_error_set(err, SK_EINVAL, "no ledger %s", ledger ? ledger : "(null)");
		tv[0] = t;
		nt = 1;
	}
	sk_tmpfile tf;
	int rc = sk_tmpfile_open(&tf, path, err);
	if (rc)
		return rc;
	lxw_workbook *wb = workbook_new(tf.tmp);
	if (!wb) {
		sk_tmpfile_discard(&tf);
		return sk_error_set(err, SK_EIO, "xlsx: cannot start the workbook");
	}
	lxw_doc_properties props = {.title = (char *)(lang == SK_LANG_EN ? tv[0]->en : tv[0]->ja),
				    .author = (char *)"sekisho", .comments = (char *)"sekisho ledger export"};
	workbook_set_properties(wb, &props);
	xctx x = {.l = l, .lang = lang};
	if (sk_ledger_xlsx_formats_add(wb, &x.f) != 0)
		rc = sk_error_set(err, SK_ENOMEM, "xlsx formats");
	for (size_t i = 0; i < nt && rc == 0; i++)
		rc = sheet(l, wb, tv[i], lang, x.f.head, &x, err);
	lxw_error e = workbook_close(wb); /* frees wb whatever happened */
	if (rc == 0 && e != LXW_NO_ERROR)
		rc = sk_error_set(err, SK_EIO, "xlsx: %s", lxw_strerror(e));
	if (rc) {
		sk_tmpfile_discard(&tf);
		return rc;
	}
	return sk_tmpfile_commit(&tf, path, -1, true, err);
}

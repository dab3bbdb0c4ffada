/* Internal to the ledger module: what the Excel writers share (the ledger export, xlsx.c,
 * and the yearly report, report.c): the cell formats, dates, the A4 landscape page. */
#ifndef SK_LEDGER_XLSX_INT_H
#define SK_LEDGER_XLSX_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <xlsxwriter.h>

/* The formats of a workbook: the header cells (bold, shaded, centred, wrapped), text,
 * wrapped text, date, date-time, whole number. */
typedef struct sk_ledger_xlsx_formats {
	lxw_format *head, *text, *wrap, *date, *datetime, *num;
} sk_ledger_xlsx_formats;

/* Adds the formats to wb; SK_ENOMEM when one could not be made. */
int sk_ledger_xlsx_formats_add(lxw_workbook *wb, sk_ledger_xlsx_formats *f);
/* A cell format (the font and borders of the others): wrap, num a number format or NULL. */
lxw_format *sk_ledger_xlsx_format(lxw_workbook *wb, bool wrap, const char *num);
/* "YYYY-MM-DD[ HH:MM]" as a date(-time) cell value. */
lxw_datetime sk_ledger_xlsx_dt_text(const char *v);
/* µs since the epoch as a date-time in JST. */
lxw_datetime sk_ledger_xlsx_dt_us(int64_t us);
/* Print set-up: A4 landscape fitted to the page width, narrow margins, rows first_row ..
 * last_row repeated on every printed page, frozen below them, the title and page numbers
 * in the page header. */
void sk_ledger_xlsx_page(lxw_worksheet *ws, lxw_row_t first_row, lxw_row_t last_row, const char *title);

#endif

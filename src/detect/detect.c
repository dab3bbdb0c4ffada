/* True-type detection by content. See include/sekisho/detect.h. */
#include "sekisho/cfb.h"
#include "sekisho/detect.h"
#include "sekisho/mail.h"
#include "sekisho/name.h"
#include "sekisho/zipio.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HEAD_MAX (64 * 1024)
#define ZIP_SCAN_MAX 10000 /* entries looked at to tell OOXML/ODF/JAR from ZIP */
#define MIMETYPE_MAX 63    /* bytes of an ODF/EPUB "mimetype" entry looked at */

/* Every type sk_detect() can answer, once: the code is the key (sk_type_find). */
static const sk_type types[] = {
	{SK_KIND_UNKNOWN, "unknown", "application/octet-stream", ""},
	{SK_KIND_OLE2, "ole2", "application/x-ole-storage", "doc"},
	{SK_KIND_EXECUTABLE, "msi", "application/x-executable", "msi"},
	{SK_KIND_OLE2, "encrypted-office", "application/x-ole-storage", ""},
	{SK_KIND_ZIP, "zip", "application/zip", "zip"},
	{SK_KIND_OLE2, "doc", "application/msword", "doc"},
	{SK_KIND_OLE2, "xls", "application/vnd.ms-excel", "xls"},
	{SK_KIND_OLE2, "ppt", "application/vnd.ms-powerpoint", "ppt"},
	{SK_KIND_OLE2, "msg", "application/vnd.ms-outlook", "msg"},
	{SK_KIND_ODF, "odf", "application/vnd.oasis.opendocument", "odt"},
	{SK_KIND_ODF, "odt", "application/vnd.oasis.opendocument.text", "odt"},
	{SK_KIND_ODF, "ods", "application/vnd.oasis.opendocument.spreadsheet", "ods"},
	{SK_KIND_ODF, "odp", "application/vnd.oasis.opendocument.presentation", "odp"},
	{SK_KIND_ARCHIVE, "epub", "application/epub+zip", "epub"},
	{SK_KIND_EXECUTABLE, "apk", "application/x-executable", "apk"},
	{SK_KIND_EXECUTABLE, "appx", "application/x-executable", "appx"},
	{SK_KIND_EXECUTABLE, "vsix", "application/x-executable", "vsix"},
	{SK_KIND_EXECUTABLE, "jar", "application/x-executable", "jar"},
	{SK_KIND_OOXML, "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"},
	{SK_KIND_OOXML, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"},
	{SK_KIND_OOXML, "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx"},
	{SK_KIND_OOXML, "ooxml", "application/vnd.openxmlformats-officedocument", ""},
	{SK_KIND_OOXML, "xlsb", "application/vnd.ms-excel.sheet.binary.macroEnabled.12", "xlsb"},
	{SK_KIND_EXECUTABLE, "script", "application/x-executable", "sh"},
	{SK_KIND_EXECUTABLE, "bat", "application/x-executable", "bat"},
	{SK_KIND_EXECUTABLE, "reg", "application/x-executable", "reg"},
	{SK_KIND_EXECUTABLE, "shortcut", "application/x-executable", "url"},
	{SK_KIND_EXECUTABLE, "sylk", "application/x-executable", "slk"},
	{SK_KIND_EXECUTABLE, "hta", "application/x-executable", "hta"},
	{SK_KIND_SVG, "svg", "image/svg+xml", "svg"},
	{SK_KIND_XML, "xml", "application/xml", "xml"},
	/* Word 2003 XML (WordprocessingML) and Excel 2003 XML (SpreadsheetML) */
	{SK_KIND_XML, "wordml", "application/xml", "xml"},
	{SK_KIND_XML, "spreadsheetml", "application/xml", "xml"},
	{SK_KIND_HTML, "html", "text/html", "html"},
	{SK_KIND_CSV, "csv", "text/csv", "csv"},
	{SK_KIND_TEXT, "text", "text/plain", "txt"},
	{SK_KIND_PNG, "png", "image/png", "png"},
	{SK_KIND_JPEG, "jpeg", "image/jpeg", "jpg"},
	{SK_KIND_GIF, "gif", "image/gif", "gif"},
	{SK_KIND_BMP, "bmp", "image/bmp", "bmp"},
	{SK_KIND_TIFF, "tiff", "image/tiff", "tif"},
	{SK_KIND_RTF, "rtf", "application/rtf", "rtf"},
	{SK_KIND_EXECUTABLE, "pe", "application/x-executable", "exe"},
	{SK_KIND_EXECUTABLE, "elf", "application/x-executable", ""},
	{SK_KIND_EXECUTABLE, "macho", "application/x-executable", ""},
	{SK_KIND_EXECUTABLE, "lnk", "application/x-executable", "lnk"},
	{SK_KIND_EXECUTABLE, "wasm", "application/x-executable", "wasm"},
	{SK_KIND_EXECUTABLE, "chm", "application/x-executable", "chm"},
	{SK_KIND_EXECUTABLE, "iso", "application/x-executable", "iso"},
	{SK_KIND_EXECUTABLE, "vhd", "application/x-executable", "vhd"},
	{SK_KIND_EXECUTABLE, "vhdx", "application/x-executable", "vhdx"},
	{SK_KIND_EXECUTABLE, "dmg", "application/x-executable", "dmg"},
	{SK_KIND_EXECUTABLE, "disk-image", "application/x-executable", "img"},
	{SK_KIND_PDF, "pdf", "application/pdf", "pdf"},
	{SK_KIND_ARCHIVE, "7z", "application/x-7z-compressed", "7z"},
	{SK_KIND_ARCHIVE, "rar", "application/vnd.rar", "rar"},
	{SK_KIND_ARCHIVE, "gzip", "application/gzip", "gz"},
	{SK_KIND_ARCHIVE, "bzip2", "application/x-bzip2", "bz2"},
	{SK_KIND_ARCHIVE, "xz", "application/x-xz", "xz"},
	{SK_KIND_ARCHIVE, "zstd", "application/zstd", "zst"},
	{SK_KIND_ARCHIVE, "cab", "application/vnd.ms-cab-compressed", "cab"},
	{SK_KIND_ARCHIVE, "tar", "application/x-tar", "tar"},
	{SK_KIND_ARCHIVE, "lzh", "application/x-lzh-compressed", "lzh"},
	/* an Internet message: an .eml file (rebuilt by the eml module), the type of a message
	 * the mail engine rebuilt (sk_mail_sanitize) and of a .msg the msg module rebuilt (its
	 * out_ext); DLP reads it as a message (sk_cdr_dlp) */
	{SK_KIND_MESSAGE, "eml", "message/rfc822", "eml"},
};

bool sk_kind_is_text(sk_kind k)
{
	return k == SK_KIND_TEXT || k == SK_KIND_CSV || k == SK_KIND_HTML || k == SK_KIND_XML ||
	       k == SK_KIND_SVG;
}

const sk_type *sk_type_find(const char *code)
{
	if (!code)
		return NULL;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(types[i].code, code))
			return &types[i];
	return NULL;
}

/* t becomes the table's type code (a code missing from the table is a bug: unknown) */
static void set(sk_type *t, const char *code)
{
	const sk_type *f = sk_type_find(code);
	*t = f ? *f : types[0];
}

static bool has(const uint8_t *h, size_t n, size_t off, const void *m, size_t ml)
{
	return off <= n && ml <= n - off && memcmp(h + off, m, ml) == 0;
}
#define HAS(off, lit) has(h, n, (off), (lit), sizeof(lit) - 1)

/* case-insensitive search of an ASCII needle in the first lim bytes */
static bool contains_ci(const uint8_t *h, size_t n, size_t lim, const char *needle)
{
	size_t nl = strlen(needle);
	if (lim > n)
		lim = n;
	for (size_t i = 0; i + nl <= lim; i++)
		if (strncasecmp((const char *)h + i, needle, nl) == 0)
			return true;
	return false;
}

/* ---- OLE2: MSI versus Office ------------------------------------------------ */

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* What the streams and storages directly under the root say the document is. */
enum { OLE_HAS_WORD = 1, OLE_HAS_XLS = 2, OLE_HAS_PPT = 4, OLE_HAS_MSG = 8 };

static unsigned ole_entry_kind(const sk_cfb_entry *e)
{
	if (e->type == SK_CFB_STREAM && !strcmp(e->name, "WordDocument"))
		return OLE_HAS_WORD;
	if (e->type == SK_CFB_STREAM && (!strcmp(e->name, "Workbook") || !strcmp(e->name, "Book")))
		return OLE_HAS_XLS;
	if (e->type == SK_CFB_STREAM && !strcmp(e->name, "PowerPoint Document"))
		return OLE_HAS_PPT;
	if ((e->type == SK_CFB_STORAGE || e->type == SK_CFB_STREAM) &&
	    !strncmp(e->name, "__substg1.0_", 12))
		return OLE_HAS_MSG;
	return 0;
}

/* The root directory entry's CLSID tells an installer (MSI/MSP/MST) from a document;
 * the "EncryptionInfo" / "EncryptedPackage" streams an encrypted OOXML package (Office
 * password protection) from a legacy document; the streams under the root what kind of
 * document it is: "WordDocument" a Word file (doc, its templates .dot too), "Workbook"
 * (or Excel 5's "Book") an Excel file (xls/xlt), "PowerPoint Document" a PowerPoint file
 * (ppt/pot/pps), "__substg1.0_" properties an Outlook message (msg); anything else stays
 * "ole2". Only the entries of the root's own tree name what the file is, not the streams
 * of an embedded object or of an attachment inside an Outlook message. The directory is
 * read by the compound file reader (cfb.h) in its lenient mode: as far as it can be
 * followed, at most 4096 entries; a tree that points outside the directory or back at an
 * entry is followed no further there. */
static void detect_ole2(sk_input *in, sk_type *t)
{
	set(t, "ole2");
	static const uint8_t msi[16] = {0x84, 0x10, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00,
					0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};
	static const uint8_t msp[16] = {0x86, 0x10, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00,
					0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};
	static const uint8_t mst[16] = {0x82, 0x10, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00,
					0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};
	sk_cfb *c = NULL;
	sk_reason why;
	sk_error ce; /* what stops the reader only leaves the type at "ole2" */
	sk_error_clear(&ce);
	if (sk_cfb_open(&c, in, NULL, SK_CFB_LENIENT, &why, &ce) != 0)
		return; /* "ole2": blocked, never converted */
	uint32_t n = sk_cfb_count(c);
	const sk_cfb_entry *root = sk_cfb_entry_at(c, 0);
	if (root && (!memcmp(root->clsid, msi, 16) || !memcmp(root->clsid, msp, 16) ||
		     !memcmp(root->clsid, mst, 16))) {
		set(t, "msi");
		sk_cfb_close(c);
		return;
	}
	bool encrypted = false;
	unsigned k = 0;
	for (uint32_t i = 0; i < n; i++) {
		const sk_cfb_entry *e = sk_cfb_entry_at(c, i);
		if (e->type == SK_CFB_STREAM &&
		    (!strcmp(e->name, "EncryptionInfo") || !strcmp(e->name, "EncryptedPackage")))
			encrypted = true;
		if (e->parent == SK_CFB_ROOT_ID)
			k |= ole_entry_kind(e);
	}
	sk_cfb_close(c);
	if (encrypted)
		set(t, "encrypted-office");
	else if (k & OLE_HAS_WORD)
		set(t, "doc");
	else if (k & OLE_HAS_XLS)
		set(t, "xls");
	else if (k & OLE_HAS_PPT)
		set(t, "ppt");
	else if (k & OLE_HAS_MSG)
		set(t, "msg");
}

/* ---- ZIP family ---------------------------------------------------------------- */

/* An entry's raw name (not NUL-terminated) is lit / starts with lit; ci: ASCII case
 * ignored. A name holding a NUL byte is never equal to a literal. */
static bool name_is(const sk_zipio_entry *e, const char *lit, bool ci)
{
	size_t l = strlen(lit);
	if (e->raw_name_len != l)
		return false;
	return ci ? strncasecmp((const char *)e->raw_name, lit, l) == 0
		  : memcmp(e->raw_name, lit, l) == 0;
}

static bool name_starts(const sk_zipio_entry *e, const char *lit)
{
	size_t l = strlen(lit);
	return e->raw_name_len >= l && memcmp(e->raw_name, lit, l) == 0;
}

static bool name_ends(const sk_zipio_entry *e, const char *lit)
{
	size_t l = strlen(lit);
	return e->raw_name_len > l && memcmp(e->raw_name + e->raw_name_len - l, lit, l) == 0;
}

/* Stops the read of "mimetype" once its first MIMETYPE_MAX bytes are in. */
static sk_reason mimetype_piece(void *ud, const uint8_t *p, size_t n)
{
	const sk_buf *got = ud;
	(void)p;
	(void)n;
	return sk_buf_len(got) >= MIMETYPE_MAX ? SK_REASON_LIMIT_SIZE : SK_REASON_NONE;
}

/* The first bytes of the "mimetype" entry i into mt (NUL-terminated; empty when it cannot
 * be read), under a budget of its own: one piece of at most 64 KiB, no time limit. */
static void read_mimetype(sk_zipio *z, uint64_t i, char mt[MIMETYPE_MAX + 1])
{
	mt[0] = 0;
	sk_budget b;
	sk_budget_default(&b);
	b.max_expanded = 64 * 1024;
	b.max_seconds = 0;
	sk_buf got;
	sk_buf_init(&got, 64 * 1024);
	sk_error e = {0};
	sk_reason why = SK_REASON_NONE;
	int rc = sk_zipio_read_cb(z, i, &b, &got, NULL, mimetype_piece, &got, &why, &e);
	/* read whole, or stopped by mimetype_piece (not by a limit or damage) */
	if (rc == 0 || (rc == SK_EBLOCKED && !strcmp(e.msg, SK_ZIPIO_STOPPED))) {
		size_t n = sk_buf_len(&got) < MIMETYPE_MAX ? sk_buf_len(&got) : MIMETYPE_MAX;
		memcpy(mt, sk_buf_data(&got), n);
		mt[n] = 0;
	}
	sk_buf_free(&got);
}

/* The ODF subtype after "application/vnd.oasis.opendocument.": the text, spreadsheet and
 * presentation documents (white space may end the entry); anything else (drawings,
 * templates, formulas, databases) stays "odf". */
static const char *odf_code(const char *sub)
{
	static const struct {
		const char *sub, *code;
	} subs[] = {{"text", "odt"}, {"spreadsheet", "ods"}, {"presentation", "odp"}};
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		size_t l = strlen(subs[i].sub);
		if (!strncmp(sub, subs[i].sub, l) && (!sub[l] || isspace((unsigned char)sub[l])))
			return subs[i].code;
	}
	return "odf";
}

/* OOXML, ODF, EPUB, JAR, APK, APPX and VSIX are ZIPs told apart by their entries' names
 * (and ODF/EPUB by their "mimetype" entry), read through sekisho/zipio.h. An archive zipio
 * does not open (damaged, inconsistent, encrypted directory) stays "zip": the ZIP module
 * meets the same refusal and blocks it. */
static void detect_zip(sk_input *in, sk_type *t, sk_error *err)
{
	set(t, "zip");
	const uint8_t *p;
	size_t n;
	if (sk_input_load(in, &p, &n, err))
		return; /* the zip module meets the same error and blocks */
	sk_zipio *z = NULL;
	sk_error e = {0};
	sk_reason why = SK_REASON_NONE;
	if (sk_zipio_open(&z, p, n, &why, &e) != 0)
		return;
	uint64_t ne = sk_zipio_count(z);
	bool ct = false, rels = false, word = false, xl = false, ppt = false, manifest = false,
	     classes = false, dex = false, appx = false, vsix = false, xlsb = false;
	for (uint64_t i = 0; i < ne && i < ZIP_SCAN_MAX; i++) {
		sk_zipio_entry en;
		if (sk_zipio_entry_get(z, i, &en, &e) != 0)
			continue;
		if (name_is(&en, "[Content_Types].xml", false))
			ct = true;
		else if (name_is(&en, "_rels/.rels", false))
			rels = true;
		else if (name_starts(&en, "word/"))
			word = true;
		else if (name_starts(&en, "xl/")) {
			xl = true;
			xlsb = xlsb || name_is(&en, "xl/workbook.bin", false);
		}
		else if (name_starts(&en, "ppt/"))
			ppt = true;
		else if (name_is(&en, "META-INF/MANIFEST.MF", false))
			manifest = true;
		else if (name_is(&en, "classes.dex", false))
			dex = true;
		else if (name_is(&en, "AppxManifest.xml", true) ||
			 name_is(&en, "AppxMetadata/AppxBundleManifest.xml", true))
			appx = true;
		else if (name_is(&en, "extension.vsixmanifest", false))
			vsix = true;
		if (name_ends(&en, ".class"))
			classes = true;
		if (name_is(&en, "META-INF/manifest.xml", false) && t->kind == SK_KIND_ZIP)
			set(t, "odf");
		/* ODF puts mimetype first; some writers do not */
		if (name_is(&en, "mimetype", false)) {
			char mt[MIMETYPE_MAX + 1];
			read_mimetype(z, i, mt);
			if (!strncmp(mt, "application/vnd.oasis.opendocument.", 35))
				set(t, odf_code(mt + 35));
			else if (!strncmp(mt, "application/epub", 16))
				set(t, "epub");
		}
	}
	if (dex)
		set(t, "apk");
	else if (appx)
		set(t, "appx");
	else if (vsix)
		set(t, "vsix");
	else if (classes || (manifest && t->kind == SK_KIND_ZIP))
		set(t, "jar");
	else if ((ct || (rels && (word || xl || ppt))) && t->kind == SK_KIND_ZIP) {
		/* a package without [Content_Types].xml is still OOXML: the module repairs it */
		if (word)
			set(t, "docx");
		else if (xl)
			set(t, xlsb ? "xlsb" : "xlsx");
		else if (ppt)
			set(t, "pptx");
		else
			set(t, "ooxml");
	}
	sk_zipio_close(z);
}

/* ---- text ---------------------------------------------------------------------- */

/* Bytes a text file may hold besides printable ones: TAB LF VT FF CR, ESC (ISO-2022-JP)
 * and SUB (the old DOS end-of-file mark). */
static bool text_ctrl_ok(uint8_t c)
{
	return c == 9 || c == 10 || c == 11 || c == 12 || c == 13 || c == 0x1B || c == 0x1A;
}

static bool looks_text(const uint8_t *h, size_t n)
{
	if (has(h, n, 0, "\xFF\xFE", 2) || has(h, n, 0, "\xFE\xFF", 2))
		return true; /* UTF-16 with a BOM */
	size_t bad = 0;
	for (size_t i = 0; i < n; i++)
		if (h[i] < 0x20 && !text_ctrl_ok(h[i]))
			bad++;
	/* A few stray control characters (NUL too) are stripped by the text module; more
	 * than 1 % (plus a handful, for short notes) means binary. */
	return bad <= n / 100 + 4;
}

/* Skips a UTF-8 BOM and leading white space. */
static size_t text_start(const uint8_t *h, size_t n)
{
	size_t i = has(h, n, 0, "\xEF\xBB\xBF", 3) ? 3 : 0;
	while (i < n && isspace(h[i]))
		i++;
	return i;
}

/* Consistent separator counts over the first lines (quotes respected): CSV/TSV. */
static bool looks_csv(const uint8_t *h, size_t n)
{
	static const char seps[] = {',', '\t', ';'};
	for (size_t s = 0; s < sizeof(seps); s++) {
		long first = -1;
		int lines = 0;
		long cnt = 0;
		bool q = false, ok = true;
		size_t i = 0;
		for (; i < n && lines < 20; i++) {
			uint8_t c = h[i];
			if (c == '"')
				q = !q;
			else if (!q && c == (uint8_t)seps[s])
				cnt++;
			else if (!q && c == '\n') {
				if (first < 0)
					first = cnt;
				else if (cnt != first) {
					ok = false;
					break;
				}
				lines++;
				cnt = 0;
			}
		}
		/* a last line cut by the 64 KiB head is not counted */
		if (ok && lines >= 2 && first >= 1)
			return true;
	}
	return false;
}

/* Whether the text in, whose first n bytes are h, is an Internet message: sk_mail_is_message
 * on its first SK_MAIL_SNIFF bytes (read further than the head only when the head is all
 * header fields and the input goes on), or a text named .eml. */
static bool is_message(sk_input *in, const uint8_t *h, size_t n, const char *ext)
{
	if (!strcmp(ext, "eml"))
		return true;
	if (in->size <= n || n < HEAD_MAX)
		return sk_mail_is_message(h, n);
	/* the head is full: a header block still going on at its end is looked at further */
	size_t i = 0;
	if (n >= 5 && !memcmp(h, "From ", 5)) {
		const uint8_t *nl = memchr(h, '\n', n);
		i = nl ? (size_t)(nl - h) + 1 : n;
	}
	for (; i < n; i++) /* a blank line ends the block within the head */
		if (h[i] == '\n' && i + 1 < n &&
		    (h[i + 1] == '\n' || (h[i + 1] == '\r' && i + 2 < n && h[i + 2] == '\n')))
			return sk_mail_is_message(h, n);
	size_t want = in->size > SK_MAIL_SNIFF ? SK_MAIL_SNIFF + 1 : (size_t)in->size, got = 0;
	uint8_t *b = malloc(want);
	if (!b)
		return true; /* read as a message: the mail module meets the same shortage */
	bool yes = sk_input_pread(in, 0, b, want, &got, NULL) != 0 || sk_mail_is_message(b, got);
	free(b);
	return yes;
}

static void detect_text(sk_input *in, const uint8_t *h, size_t n, const char *name, sk_type *t)
{
	size_t s = text_start(h, n);
	const uint8_t *b = h + s;
	size_t bn = n - s;
	if (has(b, bn, 0, "#!", 2)) {
		set(t, "script");
		return;
	}
	if (bn >= 9 && (!strncasecmp((const char *)b, "@echo off", 9) ||
			!strncasecmp((const char *)b, "echo off", 8))) {
		set(t, "bat");
		return;
	}
	if (has(b, bn, 0, "Windows Registry Editor", 23) || has(b, bn, 0, "REGEDIT4", 8)) {
		set(t, "reg");
		return;
	}
	if (bn >= 17 && (!strncasecmp((const char *)b, "[InternetShortcut]", 18) ||
			 !strncasecmp((const char *)b, "[Shell]", 7) ||
			 !strncasecmp((const char *)b, "[Desktop Entry]", 15))) {
		set(t, "shortcut");
		return;
	}
	if (has(b, bn, 0, "ID;P", 4) || has(b, bn, 0, "ID;N", 4)) {
		set(t, "sylk"); /* Excel runs DDE formulas in SYLK */
		return;
	}
	if (contains_ci(h, n, n, "<hta:application")) {
		set(t, "hta");
		return;
	}
	/* before XML, HTML and CSV: a message's parts may hold any of them */
	char ext[32];
	sk_name_ext(name ? name : "", ext, sizeof(ext));
	if (is_message(in, h, n, ext)) {
		set(t, "eml");
		return;
	}
	if (contains_ci(b, bn, 1024, "<?xml") || contains_ci(b, bn, 256, "<svg")) {
		/* Office 2003 XML: the processing instruction Office opens it by, or the root */
		if (contains_ci(b, bn, 4096, "progid=\"Word.Document\"") ||
		    contains_ci(b, bn, 4096, "<w:wordDocument"))
			set(t, "wordml");
		else if (contains_ci(b, bn, 4096, "progid=\"Excel.Sheet\"") ||
			 contains_ci(b, bn, 4096, "<ss:Workbook") ||
			 contains_ci(b, bn, 4096, "urn:schemas-microsoft-com:office:spreadsheet"))
			set(t, "spreadsheetml");
		else if (contains_ci(b, bn, 4096, "<svg"))
			set(t, "svg");
		else
			set(t, "xml");
		return;
	}
	if (contains_ci(b, bn, 256, "<!doctype html") || contains_ci(b, bn, 1024, "<html") ||
	    contains_ci(b, bn, 256, "<script") || contains_ci(b, bn, 256, "<head") ||
	    contains_ci(b, bn, 256, "<body")) {
		set(t, "html");
		return;
	}
	if (!strcmp(ext, "csv") || !strcmp(ext, "tsv") || !strcmp(ext, "tab") || looks_csv(h, n))
		set(t, "csv");
	else
		set(t, "text");
}

/* ---- entry point --------------------------------------------------------------- */

int sk_detect(sk_input *in, const char *name, sk_type *t, sk_error *err)
{
	uint8_t *h = malloc(HEAD_MAX);
	if (!h)
		return sk_error_set(err, SK_ENOMEM, "detect");
	size_t n;
	int rc = sk_input_pread(in, 0, h, HEAD_MAX, &n, err);
	if (rc) {
		free(h);
		return rc;
	}
	uint8_t tail[512];
	size_t tn = 0;
	if (in->size >= 1024)
		sk_input_pread(in, in->size - 512, tail, 512, &tn, NULL);

	set(t, "unknown");
	if (n == 0) {
		set(t, "text");
	} else if (HAS(0, "\x89PNG\r\n\x1a\n")) {
		set(t, "png");
	} else if (HAS(0, "\xFF\xD8\xFF")) {
		set(t, "jpeg");
	} else if (HAS(0, "GIF87a") || HAS(0, "GIF89a")) {
		set(t, "gif");
	} else if (HAS(0, "BM") && n >= 26 &&
		   (le32(h + 14) == 12 || le32(h + 14) == 40 || le32(h + 14) == 52 ||
		    le32(h + 14) == 56 || le32(h + 14) == 64 || le32(h + 14) == 108 ||
		    le32(h + 14) == 124)) {
		set(t, "bmp");
	} else if (HAS(0, "II*\0") || HAS(0, "MM\0*")) {
		set(t, "tiff");
	} else if (HAS(0, "PK\x03\x04") || HAS(0, "PK\x05\x06") || HAS(0, "PK\x07\x08")) {
		detect_zip(in, t, err);
	} else if (HAS(0, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")) {
		detect_ole2(in, t);
	} else if (HAS(0, "{\\rtf")) {
		set(t, "rtf");
	} else if ((HAS(0, "MZ") || HAS(0, "ZM")) && (n < 64 || memchr(h, 0, 64))) {
		/* a DOS/PE header has NUL bytes in its first 64; a text that starts with
		 * "MZ" (a base64 line, a name) does not, and is typed as text below */
		set(t, "pe");
	} else if (HAS(0, "\x7F" "ELF")) {
		set(t, "elf");
	} else if (HAS(0, "\xFE\xED\xFA\xCE") || HAS(0, "\xFE\xED\xFA\xCF") ||
		   HAS(0, "\xCE\xFA\xED\xFE") || HAS(0, "\xCF\xFA\xED\xFE") ||
		   HAS(0, "\xCA\xFE\xBA\xBE") || HAS(0, "\xBE\xBA\xFE\xCA")) {
		set(t, "macho"); /* CAFEBABE is also a Java class: both run */
	} else if (HAS(0, "L\0\0\0\x01\x14\x02\0")) {
		set(t, "lnk");
	} else if (HAS(0, "\0asm")) {
		set(t, "wasm");
	} else if (HAS(0, "ITSF")) {
		set(t, "chm");
	} else if (HAS(0x8001, "CD001") || HAS(0x8801, "CD001") || HAS(0x9001, "CD001") ||
		   HAS(0x8001, "BEA01") || HAS(0x8001, "NSR02") || HAS(0x8001, "NSR03")) {
		set(t, "iso");
	} else if (HAS(0, "conectix") || has(tail, tn, 0, "conectix", 8)) {
		set(t, "vhd");
	} else if (HAS(0, "vhdxfile")) {
		set(t, "vhdx");
	} else if (has(tail, tn, 0, "koly", 4)) {
		set(t, "dmg");
	} else if (HAS(0, "QFI\xFB") || HAS(0, "KDMV") || HAS(0, "# Disk DescriptorFile")) {
		set(t, "disk-image");
	} else if (n >= 512 && h[510] == 0x55 && h[511] == 0xAA &&
		   (HAS(0x36, "FAT") || HAS(0x52, "FAT32") || HAS(3, "NTFS") || HAS(3, "EXFAT") ||
		    (h[0x1BE] & 0x7F) == 0)) {
		set(t, "disk-image");
	} else if (HAS(0, "%PDF-") || contains_ci(h, n, 1024, "%PDF-")) {
		set(t, "pdf");
	} else if (HAS(0, "7z\xBC\xAF\x27\x1C")) {
		set(t, "7z");
	} else if (HAS(0, "Rar!\x1A\x07")) {
		set(t, "rar");
	} else if (HAS(0, "\x1F\x8B")) {
		set(t, "gzip");
	} else if (HAS(0, "BZh")) {
		set(t, "bzip2");
	} else if (HAS(0, "\xFD" "7zXZ\0")) {
		set(t, "xz");
	} else if (HAS(0, "\x28\xB5\x2F\xFD")) {
		set(t, "zstd");
	} else if (HAS(0, "MSCF")) {
		set(t, "cab");
	} else if (HAS(257, "ustar")) {
		set(t, "tar");
	} else if (n > 7 && h[2] == '-' && h[3] == 'l' && (h[4] == 'h' || h[4] == 'z') && h[6] == '-') {
		set(t, "lzh");
	} else if (looks_text(h, n)) {
		detect_text(in, h, n, name, t);
	}
	free(h);
	return 0;
}

/* ---- names --------------------------------------------------------------------- */

void sk_name_ext(const char *name, char *ext, size_t extsz)
{
	ext[0] = 0;
	if (!name || extsz == 0)
		return;
	/* the final component, with control/bidi characters and trailing dots and spaces
	 * removed as sk_name_clean() does, so "a.exe\u202E" or "a.exe." is seen as exe */
	sk_buf clean;
	sk_buf_init(&clean, 4096);
	if (sk_name_clean(name, &clean) < 0) {
		sk_buf_free(&clean);
		return;
	}
	const char *s = sk_buf_str(&clean);
	const char *base = strrchr(s, '/');
	base = base ? base + 1 : s;
	const char *dot = strrchr(base, '.');
	if (dot && dot != base) {
		size_t i = 0;
		for (const char *p = dot + 1; *p && i + 1 < extsz; p++)
			ext[i++] = (char)tolower((unsigned char)*p);
		ext[i] = 0;
	}
	sk_buf_free(&clean);
}

static const char *const exec_exts[] = {
	"exe", "dll", "com", "scr", "pif", "cpl", "msi", "msp", "mst", "msc", "bat", "cmd",
	"js", "jse", "vbs", "vbe", "vb", "wsf", "wsh", "ws", "wsc", "sct", "ps1", "ps1xml",
	"ps2", "ps2xml", "psc1", "psc2", "psm1", "psd1", "hta", "lnk", "url", "website",
	"scf", "reg", "inf", "iso", "img", "vhd", "vhdx", "dmg", "jar", "apk", "appx",
	"appxbundle", "msix", "msixbundle", "application", "appref-ms", "gadget", "chm",
	"hlp", "sys", "drv", "ocx", "shb", "shs", "xbap", "xll", "xla", "xlam", "ppa",
	"ppam", "library-ms", "settingcontent-ms", "searchconnector-ms", "diagcab", "py",
	"pyw", "pyc", "pl", "rb", "sh", "bash", "zsh", "command", "run", "desktop",
	"so", "dylib", "deb", "rpm", "pkg", "mpkg", "xpi", "crx", "vsix", "wasm", "slk",
	"iqy", "dqy", "rqy", "oqy", "jnlp", "mde", "mda", "accde", "ade", "adp", "cer",
	"crt", "der", "mof", "job", "elf", "out", "action", "workflow", "vdi", "vmdk",
	"qcow2", "mht", "mhtml", "xsl", "wiz",
};

bool sk_name_ext_is_executable(const char *ext)
{
	if (!ext || !*ext)
		return false;
	for (size_t i = 0; i < sizeof(exec_exts) / sizeof(exec_exts[0]); i++)
		if (!strcmp(ext, exec_exts[i]))
			return true;
	return false;
}

struct ext_kind {
	const char *ext;
	sk_kind kind;
};

static const struct ext_kind ext_kinds[] = {
	{"png", SK_KIND_PNG}, {"jpg", SK_KIND_JPEG}, {"jpeg", SK_KIND_JPEG},
	{"jpe", SK_KIND_JPEG}, {"jfif", SK_KIND_JPEG}, {"gif", SK_KIND_GIF},
	{"bmp", SK_KIND_BMP}, {"dib", SK_KIND_BMP}, {"tif", SK_KIND_TIFF},
	{"tiff", SK_KIND_TIFF}, {"zip", SK_KIND_ZIP}, {"pdf", SK_KIND_PDF},
	{"docx", SK_KIND_OOXML}, {"docm", SK_KIND_OOXML}, {"dotx", SK_KIND_OOXML},
	{"dotm", SK_KIND_OOXML}, {"xlsx", SK_KIND_OOXML}, {"xlsm", SK_KIND_OOXML},
	{"xltx", SK_KIND_OOXML}, {"xltm", SK_KIND_OOXML}, {"pptx", SK_KIND_OOXML},
	{"pptm", SK_KIND_OOXML}, {"potx", SK_KIND_OOXML}, {"potm", SK_KIND_OOXML},
	{"ppsx", SK_KIND_OOXML}, {"ppsm", SK_KIND_OOXML},
	{"doc", SK_KIND_OLE2}, {"xls", SK_KIND_OLE2}, {"ppt", SK_KIND_OLE2},
	{"dot", SK_KIND_OLE2}, {"xlt", SK_KIND_OLE2}, {"pot", SK_KIND_OLE2},
	{"pps", SK_KIND_OLE2}, {"xlsb", SK_KIND_OOXML},
	{"msg", SK_KIND_OLE2}, {"rtf", SK_KIND_RTF}, {"odt", SK_KIND_ODF},
	{"ods", SK_KIND_ODF}, {"odp", SK_KIND_ODF}, {"odg", SK_KIND_ODF},
	{"txt", SK_KIND_TEXT}, {"csv", SK_KIND_CSV}, {"tsv", SK_KIND_CSV},
	{"html", SK_KIND_HTML}, {"htm", SK_KIND_HTML}, {"svg", SK_KIND_SVG},
	{"xml", SK_KIND_XML}, {"7z", SK_KIND_ARCHIVE}, {"rar", SK_KIND_ARCHIVE},
	{"gz", SK_KIND_ARCHIVE}, {"tgz", SK_KIND_ARCHIVE}, {"lzh", SK_KIND_ARCHIVE},
	{"cab", SK_KIND_ARCHIVE}, {"tar", SK_KIND_ARCHIVE}, {"eml", SK_KIND_MESSAGE},
};

static bool same_family(sk_kind a, sk_kind b)
{
	if (a == b)
		return true;
	if ((a == SK_KIND_TEXT || a == SK_KIND_CSV) && (b == SK_KIND_TEXT || b == SK_KIND_CSV))
		return true;
	/* a message is text: a mail saved as .txt, a note named .eml */
	if ((a == SK_KIND_TEXT && b == SK_KIND_MESSAGE) || (a == SK_KIND_MESSAGE && b == SK_KIND_TEXT))
		return true;
	/* OOXML/ODF are ZIPs and ZIPs are often renamed; a docx named .zip is no lie */
	if ((a == SK_KIND_ZIP && (b == SK_KIND_OOXML || b == SK_KIND_ODF)) ||
	    (b == SK_KIND_ZIP && (a == SK_KIND_OOXML || a == SK_KIND_ODF)))
		return true;
	/* SVG and HTML are XML-ish text */
	if ((a == SK_KIND_XML && b == SK_KIND_SVG) || (a == SK_KIND_SVG && b == SK_KIND_XML))
		return true;
	return false;
}

bool sk_name_mismatch(const char *name, const sk_type *t)
{
	char ext[32];
	sk_name_ext(name, ext, sizeof(ext));
	if (!*ext)
		return false;
	for (size_t i = 0; i < sizeof(ext_kinds) / sizeof(ext_kinds[0]); i++)
		if (!strcmp(ext, ext_kinds[i].ext))
			return !same_family(ext_kinds[i].kind, t->kind);
	return false; /* an extension we do not know says nothing */
}

/* True-type detection and the blocks that follow from it (sk_process end to end). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <zip.h>

#include "testutil.h"

static sk_type detect(const void *p, size_t n, const char *name)
{
	sk_input in;
	sk_input_mem(&in, p, n);
	sk_type t;
	sk_error err;
	assert_int_equal(sk_detect(&in, name, &t, &err), 0);
	sk_input_release(&in);
	/* every answer maps back to the same static type (a worker's answer is mapped so) */
	const sk_type *f = sk_type_find(t.code);
	assert_non_null(f);
	assert_int_equal(f->kind, t.kind);
	assert_ptr_equal(f->code, t.code);
	assert_ptr_equal(f->mime, t.mime);
	assert_ptr_equal(f->ext, t.ext);
	return t;
}

static void type_find(void **state)
{
	(void)state;
	assert_null(sk_type_find(NULL));
	assert_null(sk_type_find(""));
	assert_null(sk_type_find("PNG"));
	assert_null(sk_type_find("png "));
	const sk_type *t = sk_type_find("docx");
	assert_non_null(t);
	assert_int_equal(t->kind, SK_KIND_OOXML);
	assert_string_equal(t->ext, "docx");
	t = sk_type_find("pe");
	assert_non_null(t);
	assert_int_equal(t->kind, SK_KIND_EXECUTABLE);
	assert_string_equal(t->ext, "exe");
}

static void assert_code(const void *p, size_t n, const char *name, sk_kind kind, const char *code)
{
	sk_type t = detect(p, n, name);
	assert_string_equal(t.code, code);
	assert_int_equal(t.kind, kind);
}

#define LIT(s) (s), (sizeof(s) - 1)

static void magic(void **state)
{
	(void)state;
	assert_code(LIT("\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "x.png", SK_KIND_PNG, "png");
	assert_code(LIT("\xFF\xD8\xFF\xE0\0\x10JFIF"), NULL, SK_KIND_JPEG, "jpeg");
	assert_code(LIT("GIF89a\x01\0\x01\0"), NULL, SK_KIND_GIF, "gif");
	assert_code(LIT("%PDF-1.7\n"), NULL, SK_KIND_PDF, "pdf");
	assert_code(LIT("{\\rtf1\\ansi"), NULL, SK_KIND_RTF, "rtf");
	assert_code(LIT("7z\xBC\xAF\x27\x1C\0\x04"), NULL, SK_KIND_ARCHIVE, "7z");
	assert_code(LIT("Rar!\x1A\x07\x01\0"), NULL, SK_KIND_ARCHIVE, "rar");
	assert_code(LIT("hello\nworld\n"), "a.txt", SK_KIND_TEXT, "text");
	assert_code(LIT(""), "empty.txt", SK_KIND_TEXT, "text");
	/* binary with NULs and no magic */
	uint8_t bin[512];
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)i;
	assert_code(bin, sizeof(bin), NULL, SK_KIND_UNKNOWN, "unknown");
	/* a short note with a stray NUL and BEL is still text */
	assert_code(LIT("notice\0 closed\a on Monday\n"), NULL, SK_KIND_TEXT, "text");
}

static void bmp(void **state)
{
	(void)state;
	uint8_t h[64] = {'B', 'M'};
	h[14] = 40; /* BITMAPINFOHEADER */
	assert_code(h, sizeof(h), NULL, SK_KIND_BMP, "bmp");
	h[14] = 41; /* not a DIB header size: "BM" alone proves nothing */
	sk_type t = detect(h, sizeof(h), NULL);
	assert_int_not_equal(t.kind, SK_KIND_BMP);
}

static void executables(void **state)
{
	(void)state;
	assert_code(LIT("MZ\x90\0\x03\0\0\0"), NULL, SK_KIND_EXECUTABLE, "pe");
	/* text that merely starts with MZ is not a PE */
	assert_code(LIT("MZ Holdings quarterly report, 2026\nline two of the report text here....\n"),
		    "r.txt", SK_KIND_TEXT, "text");
	assert_code(LIT("\x7F" "ELF\x02\x01\x01"), NULL, SK_KIND_EXECUTABLE, "elf");
	assert_code(LIT("\xCF\xFA\xED\xFE\x07\0\0\x01"), NULL, SK_KIND_EXECUTABLE, "macho");
	assert_code(LIT("L\0\0\0\x01\x14\x02\0\0\0\0\0\xC0\0\0\0\0\0\0F"), NULL, SK_KIND_EXECUTABLE, "lnk");
	assert_code(LIT("#!/bin/sh\nrm -rf /\n"), "notes.txt", SK_KIND_EXECUTABLE, "script");
	assert_code(LIT("@ECHO OFF\r\ndel *.*\r\n"), NULL, SK_KIND_EXECUTABLE, "bat");
	assert_code(LIT("<html><head><HTA:APPLICATION id=x></head></html>"), NULL, SK_KIND_EXECUTABLE, "hta");
	assert_code(LIT("[InternetShortcut]\r\nURL=file://x/y.exe\r\n"), NULL, SK_KIND_EXECUTABLE, "shortcut");
	assert_code(LIT("ID;PWXL;N;E\r\nC;Y1;X1;K0;E=cmd|'/c calc'!A0\r\n"), NULL, SK_KIND_EXECUTABLE, "sylk");
	assert_code(LIT("Windows Registry Editor Version 5.00\r\n"), NULL, SK_KIND_EXECUTABLE, "reg");

	/* ISO 9660: "CD001" at 0x8001 */
	size_t n = 0x8800;
	uint8_t *iso = calloc(1, n);
	memcpy(iso + 0x8001, "CD001", 5);
	assert_code(iso, n, "disk.dat", SK_KIND_EXECUTABLE, "iso");
	/* VHD footer at the end */
	memset(iso, 0, n);
	memcpy(iso + n - 512, "conectix", 8);
	assert_code(iso, n, NULL, SK_KIND_EXECUTABLE, "vhd");
	free(iso);
}

/* A minimal OLE2 header whose root directory entry carries clsid. */
static uint8_t *ole2(const uint8_t clsid[16], size_t *n)
{
	*n = 512 * 3;
	uint8_t *p = calloc(1, *n);
	memcpy(p, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
	p[0x1E] = 9;  /* 512-byte sectors */
	p[0x30] = 1;  /* directory at sector 1 → offset 1024 */
	memcpy(p + 1024 + 0x50, clsid, 16);
	return p;
}

/* A compound file with 512-byte sectors whose directory (sector 0, then 1, chained in the
 * FAT at sector 2) holds the root and the entries e[0..n): names, types (1 storage, 2
 * stream) and tree links given by index (-1: none). */
typedef struct oent {
	const char *name;
	uint8_t type;
	int left, right, child;
} oent;

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t *ole2_tree(const oent *e, size_t n, int root_child, size_t *sz)
{
	assert_true(n + 1 <= 8);
	*sz = 512 * 4;
	uint8_t *p = calloc(1, *sz);
	memcpy(p, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
	put16(p + 0x1E, 9);
	put32(p + 0x30, 0); /* directory at sector 0 → offset 512 */
	for (int i = 0; i < 109; i++)
		put32(p + 0x4C + 4 * i, 0xFFFFFFFF);
	put32(p + 0x4C, 2); /* FAT at sector 2 */
	uint8_t *fat = p + 512 * 3;
	for (int i = 0; i < 128; i++)
		put32(fat + 4 * i, 0xFFFFFFFF);
	put32(fat + 0, 1);          /* directory: 0 → 1 */
	put32(fat + 4, 0xFFFFFFFE);
	put32(fat + 8, 0xFFFFFFFD);
	for (size_t i = 0; i <= n; i++) {
		uint8_t *d = p + 512 + 128 * i;
		const char *name = i ? e[i - 1].name : "Root Entry";
		size_t l = strlen(name);
		for (size_t j = 0; j < l; j++)
			d[2 * j] = (uint8_t)name[j];
		put16(d + 0x40, (uint16_t)((l + 1) * 2));
		d[0x42] = i ? e[i - 1].type : 5;
		put32(d + 0x44, i && e[i - 1].left >= 0 ? (uint32_t)e[i - 1].left : 0xFFFFFFFF);
		put32(d + 0x48, i && e[i - 1].right >= 0 ? (uint32_t)e[i - 1].right : 0xFFFFFFFF);
		int c = i ? e[i - 1].child : root_child;
		put32(d + 0x4C, c >= 0 ? (uint32_t)c : 0xFFFFFFFF);
	}
	return p;
}

#define OLE_CODE(root_child, code, ...)                                                  \
	do {                                                                               \
		const oent v_[] = {__VA_ARGS__};                                           \
		size_t n_;                                                                 \
		uint8_t *p_ = ole2_tree(v_, sizeof(v_) / sizeof(v_[0]), (root_child), &n_); \
		assert_code(p_, n_, NULL, SK_KIND_OLE2, (code));                          \
		free(p_);                                                                  \
	} while (0)

/* Legacy Office files told apart by the streams under the root (entries are 1-based:
 * 0 is the root). */
static void ole2_kinds(void **state)
{
	(void)state;
	OLE_CODE(1, "doc", {"WordDocument", 2, -1, 2, -1}, {"1Table", 2, -1, -1, -1});
	/* the stream found anywhere in the root's tree (left and right siblings) */
	OLE_CODE(2, "doc", {"1Table", 2, -1, -1, -1}, {"Data", 2, 1, 3, -1},
		 {"WordDocument", 2, -1, -1, -1});
	OLE_CODE(1, "xls", {"Workbook", 2, -1, -1, -1});
	OLE_CODE(1, "xls", {"Book", 2, -1, -1, -1}); /* Excel 5/95 */
	OLE_CODE(1, "ppt", {"Current User", 2, -1, 2, -1}, {"PowerPoint Document", 2, -1, -1, -1});
	OLE_CODE(1, "msg", {"__properties_version1.0", 2, -1, 2, -1},
		 {"__substg1.0_0037001F", 2, -1, -1, -1});
	/* an Outlook message with a Word document attached: still the message */
	OLE_CODE(1, "msg", {"__substg1.0_0037001F", 2, -1, 2, -1},
		 {"__attach_version1.0_#00000000", 1, -1, -1, 3},
		 {"__substg1.0_3701000D", 1, -1, -1, 4}, {"WordDocument", 2, -1, -1, -1});
	/* a Word document that embeds a workbook: still the document */
	OLE_CODE(1, "doc", {"WordDocument", 2, -1, 2, -1}, {"ObjectPool", 1, -1, -1, 3},
		 {"_1234", 1, -1, -1, 4}, {"Workbook", 2, -1, -1, -1});
	/* streams only inside a storage say nothing about the file */
	OLE_CODE(1, "ole2", {"Objects", 1, -1, -1, 2}, {"WordDocument", 2, -1, -1, -1});
	/* a storage named like the stream is not it; a longer name is not it */
	OLE_CODE(1, "ole2", {"WordDocument", 1, -1, -1, -1});
	OLE_CODE(1, "ole2", {"WordDocuments", 2, -1, -1, -1});
	/* encryption wins over the kind */
	OLE_CODE(1, "encrypted-office", {"EncryptionInfo", 2, -1, 2, -1},
		 {"EncryptedPackage", 2, -1, 3, -1}, {"WordDocument", 2, -1, -1, -1});
	/* a broken tree: loops, pointers past the directory, back at the root */
	OLE_CODE(1, "xls", {"x", 2, 1, 2, -1}, {"Workbook", 2, 1, 1, -1});
	OLE_CODE(1, "ole2", {"x", 2, 40, 0, -1});
	OLE_CODE(0, "ole2", {"WordDocument", 2, -1, -1, -1});
	OLE_CODE(-1, "ole2", {"WordDocument", 2, -1, -1, -1});
	/* the same code, whatever the file is named (templates are aliases, not types) */
	size_t n;
	const oent d[] = {{"WordDocument", 2, -1, -1, -1}};
	uint8_t *p = ole2_tree(d, 1, 1, &n);
	assert_code(p, n, "t.dot", SK_KIND_OLE2, "doc");
	assert_false(sk_name_mismatch("t.dot", sk_type_find("doc")));
	assert_false(sk_name_mismatch("t.pps", sk_type_find("ppt")));
	assert_false(sk_name_mismatch("t.xlt", sk_type_find("xls")));
	assert_true(sk_name_mismatch("t.pdf", sk_type_find("doc")));
	free(p);
}

/* RTF, Word and Excel 2003 XML */
static void office_text_formats(void **state)
{
	(void)state;
	assert_code(LIT("{\\rtf1\\ansi\\ansicpg932 {\\f0 MS Mincho;}}"), "a.rtf", SK_KIND_RTF, "rtf");
	assert_code(LIT("<?xml version=\"1.0\"?>\n<?mso-application progid=\"Word.Document\"?>\n"
			"<w:wordDocument xmlns:w=\"http://schemas.microsoft.com/office/word/2003/wordml\"/>"),
		    "a.xml", SK_KIND_XML, "wordml");
	assert_code(LIT("<?xml version=\"1.0\"?>\n<w:wordDocument xmlns:w=\"x\"/>"), "a.doc", SK_KIND_XML,
		    "wordml");
	assert_code(LIT("<?xml version=\"1.0\"?>\n<?mso-application progid=\"Excel.Sheet\"?>\n"
			"<Workbook xmlns=\"urn:schemas-microsoft-com:office:spreadsheet\"/>"),
		    "a.xml", SK_KIND_XML, "spreadsheetml");
	assert_code(LIT("<?xml version=\"1.0\"?>\n<ss:Workbook xmlns:ss=\"x\"/>"), NULL, SK_KIND_XML,
		    "spreadsheetml");
	/* Word's HTML names its ProgId otherwise; plain XML stays XML */
	assert_code(LIT("<html><head><meta name=ProgId content=Word.Document></head></html>"), NULL,
		    SK_KIND_HTML, "html");
	assert_code(LIT("<?xml version=\"1.0\"?>\n<doc>Word.Document</doc>"), NULL, SK_KIND_XML, "xml");
}

/* Every file of the legacy corpus (Apache POI's test files) gets the type of its
 * extension, but for the few the fuzzers made or that are encrypted. */
static void corpus_legacy(void **state)
{
	(void)state;
	const char *dir = tu_src("../shared/corpus/legacy/poi");
	if (access(dir, R_OK) != 0)
		dir = "/work/shared/corpus/legacy/poi";
	DIR *d = opendir(dir);
	if (!d)
		skip();
	struct dirent *de;
	size_t total = 0, same = 0;
	while ((de = readdir(d)) != NULL) {
		const char *dot = strrchr(de->d_name, '.');
		if (de->d_name[0] == '.' || !dot)
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		sk_buf b;
		tu_read(path, &b);
		sk_type t = detect(b.data, b.len, de->d_name);
		sk_buf_free(&b);
		total++;
		if (!strcmp(t.code, dot + 1))
			same++;
		else if (strcmp(t.code, "encrypted-office") && strcmp(t.code, "ole2"))
			fail_msg("%s detected as %s", de->d_name, t.code);
		else
			printf("# %s: %s\n", de->d_name, t.code);
	}
	closedir(d);
	printf("# legacy corpus: %zu files, %zu of the type their extension says\n", total, same);
	assert_true(total >= 100);
	assert_true(same * 100 >= total * 95);
}

static void msi_vs_office(void **state)
{
	(void)state;
	static const uint8_t msi[16] = {0x84, 0x10, 0x0C, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46};
	static const uint8_t word[16] = {0x06, 0x09, 0x02, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46};
	size_t n;
	uint8_t *p = ole2(msi, &n);
	assert_code(p, n, "setup.doc", SK_KIND_EXECUTABLE, "msi");
	free(p);
	p = ole2(word, &n);
	assert_code(p, n, "a.doc", SK_KIND_OLE2, "ole2");
	tu_run r;
	tu_process(p, n, "a.doc", NULL, &r);
	assert_verdict(&r, SK_VERDICT_BLOCKED);
	assert_reason(&r, SK_REASON_UNSUPPORTED_LEGACY_OFFICE);
	tu_free(&r);
	free(p);
}

static void csv_sniff(void **state)
{
	(void)state;
	assert_code(LIT("a,b,c\r\n1,2,3\r\n4,5,6\r\n"), "data.txt", SK_KIND_CSV, "csv");
	assert_code(LIT("name\tage\nx\t1\ny\t2\n"), NULL, SK_KIND_CSV, "csv");
	/* commas in prose do not make a CSV */
	assert_code(LIT("Hello, world.\nThis line has none\nBut this, has, three\n"), NULL, SK_KIND_TEXT, "text");
	/* the name says CSV: Excel will open it as one */
	assert_code(LIT("just one line"), "x.csv", SK_KIND_CSV, "csv");
}

/* The name never lets something through, but it can block. */
static void blocks(void **state)
{
	(void)state;
	tu_run r;
	/* a PE named .txt */
	tu_process(LIT("MZ\x90\0\x03\0\0\0\x04\0"), "readme.txt", NULL, &r);
	assert_verdict(&r, SK_VERDICT_BLOCKED);
	assert_reason(&r, SK_REASON_EXECUTABLE);
	assert_int_equal(r.out.len, 0);
	tu_free(&r);
	/* harmless text named .js: Windows would run it */
	tu_process(LIT("var a = 1;\n"), "invoice.js", NULL, &r);
	assert_reason(&r, SK_REASON_EXECUTABLE);
	tu_free(&r);
	/* RTLO disguise: shown as "invoice_exe.txt"-like, really .exe */
	tu_process(LIT("hello"), "invoice\xE2\x80\xAEtxt.exe", NULL, &r);
	assert_reason(&r, SK_REASON_EXECUTABLE);
	tu_free(&r);
	/* a type no module accepts */
	tu_process(LIT("7z\xBC\xAF\x27\x1C\0\x04"), "a.7z", NULL, &r);
	assert_reason(&r, SK_REASON_UNKNOWN_TYPE);
	tu_free(&r);
	uint8_t bin[512];
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)i;
	tu_process(bin, sizeof(bin), "blob.dat", NULL, &r);
	assert_reason(&r, SK_REASON_UNKNOWN_TYPE);
	tu_free(&r);
	/* input over max_input */
	sk_options o;
	sk_options_default(&o);
	o.budget.max_input = 4;
	tu_process(LIT("hello"), "a.txt", &o, &r);
	assert_reason(&r, SK_REASON_LIMIT_SIZE);
	tu_free(&r);
}

static void mismatch(void **state)
{
	(void)state;
	sk_type t = {.kind = SK_KIND_PNG, .code = "png"};
	assert_true(sk_name_mismatch("photo.pdf", &t));
	assert_false(sk_name_mismatch("photo.PNG", &t));
	assert_false(sk_name_mismatch("photo", &t));
	assert_false(sk_name_mismatch("photo.dat", &t)); /* unknown extension: no claim */
	t.kind = SK_KIND_CSV;
	assert_false(sk_name_mismatch("a.txt", &t));
	assert_true(sk_name_mismatch("a.docx", &t));
}

/* ---- ZIP family: told apart by entry names and the "mimetype" entry ---------------- */

typedef struct zent_spec {
	const char *name;
	const char *data; /* NULL: "x" */
	size_t len;       /* 0: strlen(data) */
	bool store;
	bool encrypt;
} zent_spec;

static void zmake(sk_buf *out, const zent_spec *v, size_t n)
{
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *dst = zip_source_buffer_create(NULL, 0, 0, &ze);
	assert_non_null(dst);
	zip_source_keep(dst);
	zip_t *za = zip_open_from_source(dst, ZIP_TRUNCATE, &ze);
	assert_non_null(za);
	for (size_t i = 0; i < n; i++) {
		const char *d = v[i].data ? v[i].data : "x";
		size_t l = v[i].len ? v[i].len : strlen(d);
		zip_source_t *s = zip_source_buffer(za, d, l, 0);
		assert_non_null(s);
		zip_int64_t idx = zip_file_add(za, v[i].name, s, 0);
		assert_true(idx >= 0);
		zip_set_file_compression(za, (zip_uint64_t)idx,
					 v[i].store ? ZIP_CM_STORE : ZIP_CM_DEFLATE, 9);
		if (v[i].encrypt)
			assert_int_equal(zip_file_set_encryption(za, (zip_uint64_t)idx,
								 ZIP_EM_AES_256, "pw"), 0);
	}
	assert_int_equal(zip_close(za), 0);
	assert_int_equal(zip_source_open(dst), 0);
	sk_buf_init(out, 0);
	uint8_t buf[8192];
	zip_int64_t got;
	while ((got = zip_source_read(dst, buf, sizeof(buf))) > 0)
		assert_int_equal(sk_buf_add(out, buf, (size_t)got), 0);
	zip_source_close(dst);
	zip_source_free(dst);
	zip_error_fini(&ze);
}

static void zip_code(const zent_spec *v, size_t n, sk_kind kind, const char *code)
{
	sk_buf z;
	zmake(&z, v, n);
	assert_code(sk_buf_data(&z), sk_buf_len(&z), NULL, kind, code);
	sk_buf_free(&z);
}

#define ZC(kind, code, ...)                                                                \
	do {                                                                               \
		const zent_spec v_[] = {__VA_ARGS__};                                      \
		zip_code(v_, sizeof(v_) / sizeof(v_[0]), kind, code);                      \
	} while (0)

#define ODT "application/vnd.oasis.opendocument.text"

static void zip_family(void **state)
{
	(void)state;
	ZC(SK_KIND_ZIP, "zip", {.name = "a.txt"}, {.name = "b/c.txt"});
	ZC(SK_KIND_OOXML, "docx", {.name = "[Content_Types].xml"}, {.name = "word/document.xml"});
	/* without [Content_Types].xml: still a package (the module repairs it) */
	ZC(SK_KIND_OOXML, "xlsx", {.name = "_rels/.rels"}, {.name = "xl/workbook.xml"});
	ZC(SK_KIND_OOXML, "pptx", {.name = "[Content_Types].xml"}, {.name = "ppt/presentation.xml"});
	ZC(SK_KIND_OOXML, "ooxml", {.name = "[Content_Types].xml"}, {.name = "other.xml"});
	ZC(SK_KIND_ZIP, "zip", {.name = "_rels/.rels"}, {.name = "other.xml"});
	ZC(SK_KIND_ODF, "odt", {.name = "mimetype", .data = ODT, .store = true},
	   {.name = "content.xml"});
	/* mimetype not first, deflated */
	ZC(SK_KIND_ODF, "odt", {.name = "content.xml"}, {.name = "mimetype", .data = ODT});
	ZC(SK_KIND_ODF, "odt", {.name = "META-INF/manifest.xml"}, {.name = "mimetype", .data = ODT});
	/* the subtype: text, spreadsheet, presentation; the rest stays "odf" */
	ZC(SK_KIND_ODF, "ods", {.name = "mimetype", .data = "application/vnd.oasis.opendocument.spreadsheet", .store = true});
	ZC(SK_KIND_ODF, "odp", {.name = "mimetype", .data = "application/vnd.oasis.opendocument.presentation", .store = true});
	ZC(SK_KIND_ODF, "odf", {.name = "mimetype", .data = "application/vnd.oasis.opendocument.graphics", .store = true});
	ZC(SK_KIND_ODF, "odf", {.name = "mimetype", .data = "application/vnd.oasis.opendocument.text-template", .store = true});
	ZC(SK_KIND_ODF, "odf", {.name = "mimetype", .data = "application/vnd.oasis.opendocument.textual", .store = true});
	ZC(SK_KIND_ODF, "odf", {.name = "META-INF/manifest.xml"}, {.name = "content.xml"});
	/* an Excel binary workbook: xl/workbook.bin */
	ZC(SK_KIND_OOXML, "xlsb", {.name = "[Content_Types].xml"}, {.name = "xl/workbook.bin"});
	ZC(SK_KIND_OOXML, "xlsx", {.name = "[Content_Types].xml"}, {.name = "xl/workbook.xml"},
	   {.name = "xl/workbook.bin.bak"});
	ZC(SK_KIND_ARCHIVE, "epub", {.name = "mimetype", .data = "application/epub+zip", .store = true},
	   {.name = "OEBPS/a.xhtml"});
	ZC(SK_KIND_ZIP, "zip", {.name = "mimetype", .data = "text/plain"});
	/* an encrypted mimetype is not read */
	ZC(SK_KIND_ZIP, "zip", {.name = "mimetype", .data = ODT, .encrypt = true});
	ZC(SK_KIND_EXECUTABLE, "jar", {.name = "com/x/Main.class"});
	ZC(SK_KIND_EXECUTABLE, "jar", {.name = "META-INF/MANIFEST.MF"}, {.name = "a.txt"});
	ZC(SK_KIND_EXECUTABLE, "apk", {.name = "classes.dex"}, {.name = "AndroidManifest.xml"});
	ZC(SK_KIND_EXECUTABLE, "appx", {.name = "appxmanifest.xml"});
	ZC(SK_KIND_EXECUTABLE, "appx", {.name = "AppxMetadata/AppxBundleManifest.xml"});
	ZC(SK_KIND_EXECUTABLE, "vsix", {.name = "extension.vsixmanifest"});
	/* a name that only ends like one is not it */
	ZC(SK_KIND_ZIP, "zip", {.name = "x.classes.dex"}, {.name = ".class"});

	/* a mimetype entry longer than what is looked at (its first 63 bytes): still read,
	 * stored (pieces of its bytes) or deflated (a 100:1 run, past a piece) */
	size_t big = 100 * 1024;
	char *m = malloc(big + 1);
	assert_non_null(m);
	memset(m, ' ', big);
	memcpy(m, ODT, strlen(ODT));
	m[big] = 0;
	ZC(SK_KIND_ODF, "odt", {.name = "mimetype", .data = m, .store = true});
	ZC(SK_KIND_ODF, "odt", {.name = "mimetype", .data = m});
	free(m);
}

/* An archive that libzip alone would open but zipio refuses (a local header that does
 * not agree with its central record) stays "zip", and the ZIP module blocks it. */
static void zip_family_refused(void **state)
{
	(void)state;
	zent_spec v[] = {{.name = "[Content_Types].xml"}, {.name = "word/document.xml"}};
	sk_buf z;
	zmake(&z, v, 2);
	assert_code(sk_buf_data(&z), sk_buf_len(&z), "a.docx", SK_KIND_OOXML, "docx");
	/* the first "word/document.xml" is the local header's name */
	uint8_t *p = (uint8_t *)sk_buf_data(&z);
	uint8_t *hit = memmem(p, sk_buf_len(&z), "word/document.xml", 17);
	assert_non_null(hit);
	assert_true(memmem(hit + 1, sk_buf_len(&z) - (size_t)(hit + 1 - p), "word/document.xml", 17));
	hit[5] = 'W';
	assert_code(sk_buf_data(&z), sk_buf_len(&z), "a.docx", SK_KIND_ZIP, "zip");
	tu_run r;
	tu_process(sk_buf_data(&z), sk_buf_len(&z), "a.docx", NULL, &r);
	assert_verdict(&r, SK_VERDICT_BLOCKED);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	sk_buf_free(&z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(magic),
		cmocka_unit_test(bmp),
		cmocka_unit_test(executables),
		cmocka_unit_test(msi_vs_office),
		cmocka_unit_test(ole2_kinds),
		cmocka_unit_test(office_text_formats),
		cmocka_unit_test(corpus_legacy),
		cmocka_unit_test(csv_sniff),
		cmocka_unit_test(blocks),
		cmocka_unit_test(mismatch),
		cmocka_unit_test(type_find),
		cmocka_unit_test(zip_family),
		cmocka_unit_test(zip_family_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The OOXML module alone: ZIP container, content types, relationships, XML parts.
 *
 * Random mutations of a ZIP mostly break its CRCs, so the parts' XML is seldom reached.
 * Two modes, chosen by the first byte:
 *   even: the rest of the input is the package, as it is;
 *   odd:  the rest is split at "@@" into document.xml, its relationships, the content
 *         types, settings.xml and its relationships, which are wrapped into a valid
 *         package (with defaults for what is missing), so the XML cleaning is fuzzed. */
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "fuzzutil.h"

static const char *const names[] = {
	"word/document.xml", "word/_rels/document.xml.rels", "[Content_Types].xml",
	"word/settings.xml", "word/_rels/settings.xml.rels",
};

static const char default_ct[] =
	"<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
	"<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
	"<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
	"<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>"
	"<Override PartName=\"/word/settings.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml\"/>"
	"</Types>";
static const char root_rels[] =
	"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
	"<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/>"
	"</Relationships>";

static void wrapped(const uint8_t *data, size_t size)
{
	const uint8_t *chunk[5] = {0};
	size_t len[5] = {0};
	size_t n = 0, start = 0;
	for (size_t i = 0; i <= size && n < 5; i++) {
		if (i == size || (i + 1 < size && data[i] == '@' && data[i + 1] == '@')) {
			chunk[n] = data + start;
			len[n] = i - start;
			n++;
			start = i + 2;
			i++;
		}
	}
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *dst = zip_source_buffer_create(NULL, 0, 0, &ze);
	if (!dst)
		return;
	zip_source_keep(dst);
	zip_t *za = zip_open_from_source(dst, ZIP_TRUNCATE, &ze);
	if (!za) {
		zip_source_free(dst);
		return;
	}
	for (size_t i = 0; i < 5; i++) {
		const void *p = chunk[i];
		size_t l = len[i];
		if (i >= n) {
			if (i != 2)
				continue;
			p = default_ct;
			l = sizeof(default_ct) - 1;
		}
		zip_source_t *s = zip_source_buffer(za, p, l, 0);
		if (s && zip_file_add(za, names[i], s, 0) < 0)
			zip_source_free(s);
	}
	zip_source_t *s = zip_source_buffer(za, root_rels, sizeof(root_rels) - 1, 0);
	if (s && zip_file_add(za, "_rels/.rels", s, 0) < 0)
		zip_source_free(s);
	if (zip_close(za) != 0) {
		zip_discard(za);
		zip_source_free(dst);
		return;
	}
	zip_stat_t st;
	if (zip_source_open(dst) == 0) {
		if (zip_source_stat(dst, &st) == 0 && (st.valid & ZIP_STAT_SIZE)) {
			uint8_t *buf = malloc(st.size ? st.size : 1);
			if (buf && zip_source_read(dst, buf, st.size) == (zip_int64_t)st.size)
				fz_run_module(buf, st.size, SK_KIND_OOXML, "docx", "fuzz.docx");
			free(buf);
		}
		zip_source_close(dst);
	}
	zip_source_free(dst);
	zip_error_fini(&ze);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		wrapped(data + 1, size - 1);
	else
		fz_run_module(data + 1, size - 1, SK_KIND_OOXML, "docx", "fuzz.docx");
	return 0;
}

/* The OOXML type a legacy office type converts to, and what 画像化 takes (office.h). A
 * table of codes only: the gate's office pool and the sekisho-office worker both use it. */
#include "sekisho/office.h"

#include <string.h>

const char *sk_office_target(const char *from)
{
	static const char *const map[][2] = {
		{"doc", "docx"}, {"dot", "docx"}, {"rtf", "docx"}, {"odt", "docx"},
		{"wordml", "docx"}, {"xls", "xlsx"}, {"xlt", "xlsx"}, {"xlsb", "xlsx"},
		{"ods", "xlsx"}, {"spreadsheetml", "xlsx"}, {"ppt", "pptx"}, {"pot", "pptx"},
		{"pps", "pptx"}, {"odp", "pptx"},
	};
	for (size_t i = 0; from && i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(from, map[i][0]))
			return map[i][1];
	return NULL;
}

bool sk_office_image_from(const char *from)
{
	if (!from)
		return false;
	return !strcmp(from, "pdf") || !strcmp(from, "docx") || !strcmp(from, "xlsx") ||
	       !strcmp(from, "pptx") || sk_office_target(from) != NULL;
}

/* The policy file's YAML as a tree of nodes that keep their 1-based line and column
 * (libyaml's marks are 0-based). Built from libyaml events so that aliases can be refused
 * with a position and the size of the tree is bounded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "policy_int.h"

void sk_pyaml_free(pnode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		sk_pyaml_free(n->k[i]);
	free(n->k);
	free(n->s);
	free(n);
}

static pnode *new_node(int t, const yaml_mark_t *m)
{
	pnode *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->t = t;
	n->line = (uint32_t)m->line + 1;
	n->col = (uint32_t)m->column + 1;
	return n;
}

static int add_child(pnode *parent, pnode *c)
{
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 8;
		pnode **k = realloc(parent->k, cap * sizeof(*k));
		if (!k)
			return SK_ENOMEM;
		parent->k = k;
		parent->cap = cap;
	}
	parent->k[parent->n++] = c;
	return 0;
}

int sk_pyaml_load(const char *text, size_t len, pnode **root, sk_policy_diags *d)
{
	*root = NULL;
	yaml_parser_t ps;
	if (!yaml_parser_initialize(&ps))
		return SK_ENOMEM;
	yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
	pnode *stack[PN_MAX_DEPTH + 1];
	size_t depth = 0, nodes = 0, docs = 0;
	int rc = 0;
	bool done = false;
	while (!done) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&ps, &ev)) {
			uint32_t line = (uint32_t)ps.problem_mark.line + 1;
			uint32_t col = (uint32_t)ps.problem_mark.column + 1;
			const char *prob = ps.problem ? ps.problem : "syntax error";
			const char *ctx = ps.context ? ps.context : "";
			sk_pdiag_at_v(d, SK_DIAG_ERROR, "E-YAML-SYNTAX", line, col,
				      "YAML の構文エラーです: %s%s%s", "YAML syntax error: %s%s%s", prob,
				      *ctx ? " " : "", ctx);
			rc = SK_EFORMAT;
			break;
		}
		pnode *n = NULL;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				sk_pdiag_at_v(d, SK_DIAG_ERROR, "E-YAML-MULTIDOC",
					      (uint32_t)ev.start_mark.line + 1,
					      (uint32_t)ev.start_mark.column + 1,
					      "ポリシーファイルには文書を一つだけ書いてください",
					      "a policy file holds one YAML document only");
				rc = SK_EFORMAT;
				done = true;
			}
			break;
		case YAML_ALIAS_EVENT:
			sk_pdiag_at_v(d, SK_DIAG_ERROR, "E-YAML-ALIAS", (uint32_t)ev.start_mark.line + 1,
				      (uint32_t)ev.start_mark.column + 1,
				      "エイリアス (*%s) は使えません。値をそのまま書いてください",
				      "aliases (*%s) are not allowed; write the value out",
				      ev.data.alias.anchor ? (const char *)ev.data.alias.anchor : "");
			rc = SK_EFORMAT;
			done = true;
			break;
		case YAML_SCALAR_EVENT:
			if (!(n = new_node(PN_SCALAR, &ev.start_mark))) {
				rc = SK_ENOMEM;
				break;
			}
			n->sl = ev.data.scalar.length;
			n->s = malloc(n->sl + 1);
			if (!n->s) {
				free(n);
				n = NULL;
				rc = SK_ENOMEM;
				break;
			}
			memcpy(n->s, ev.data.scalar.value, n->sl);
			n->s[n->sl] = 0;
			n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth >= PN_MAX_DEPTH) {
				sk_pdiag_at_v(d, SK_DIAG_ERROR, "E-YAML-LIMIT", (uint32_t)ev.start_mark.line + 1,
					      (uint32_t)ev.start_mark.column + 1,
					      "入れ子が深すぎます (上限 %d)", "nesting too deep (limit %d)",
					      PN_MAX_DEPTH);
				rc = SK_EFORMAT;
				done = true;
				break;
			}
			n = new_node(ev.type == YAML_SEQUENCE_START_EVENT ? PN_SEQ : PN_MAP, &ev.start_mark);
			if (!n)
				rc = SK_ENOMEM;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0) {
				pnode *c = stack[--depth];
				if (depth > 0) {
					if (add_child(stack[depth - 1], c)) {
						sk_pyaml_free(c);
						rc = SK_ENOMEM;
					}
				} else if (!*root) {
					*root = c;
				} else {
					sk_pyaml_free(c);
				}
			}
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (rc) {
			sk_pyaml_free(n);
			break;
		}
		if (!n)
			continue;
		if (++nodes > PN_MAX_NODES) {
			sk_pdiag_at_v(d, SK_DIAG_ERROR, "E-YAML-LIMIT", n->line, n->col,
				      "ノード数が多すぎます (上限 %d)", "too many nodes (limit %d)",
				      PN_MAX_NODES);
			sk_pyaml_free(n);
			rc = SK_EFORMAT;
			break;
		}
		if (n->t == PN_SCALAR) {
			if (depth > 0) {
				if (add_child(stack[depth - 1], n)) {
					sk_pyaml_free(n);
					rc = SK_ENOMEM;
					break;
				}
			} else if (!*root) {
				*root = n;
			} else {
				sk_pyaml_free(n);
			}
		} else {
			stack[depth++] = n;
		}
	}
	/* unwind what is still open after an error */
	while (depth > 0) {
		pnode *c = stack[--depth];
		if (depth > 0 && add_child(stack[depth - 1], c) == 0)
			continue;
		if (depth == 0 && !*root && rc == 0) {
			*root = c;
			continue;
		}
		sk_pyaml_free(c);
	}
	yaml_parser_delete(&ps);
	if (rc) {
		sk_pyaml_free(*root);
		*root = NULL;
	}
	return rc;
}

/* YAML -> a tree of nodes with 1-based line:column, from libyaml's event API.
 *
 * Hostile input is refused here, early and cheaply (SPEC §2): nesting deeper
 * than SYSG_MAX_DEPTH stops the parse at the first event past it (libyaml's
 * own cost grows with depth); aliases are allowed but the tree is counted as
 * if every alias were expanded and refused past SYSG_MAX_NODES (an alias bomb
 * costs us one node per alias, not the expansion); an alias to an anchor that
 * is still open (`&a [*a]`, which libyaml itself accepts) is refused; so are
 * NUL bytes, invalid UTF-8 (libyaml's reader), several documents, tags other
 * than the core schema's, and `<<` merge keys. Aliases share the anchored
 * node: nothing here ever walks the tree recursively.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config/internal.h"

struct frame {
	struct ynode *node;
	struct ynode **items; /* children; for maps key, value, key, value ... */
	size_t n, cap;
	const char *anchor;
};

struct reader {
	struct arena *a;
	struct sysg_diags *d;
	const char *name;
	const char *buf;
	size_t len;
	struct frame stack[SYSG_MAX_DEPTH];
	size_t depth;
	struct strmap anchors; /* name -> struct ynode * */
	uint64_t total;
	bool aliased; /* an alias was met: the count includes expansions */
	struct ynode *root;
	int ndocs;
	bool failed; /* stop reading (a duplicate key does not stop it) */
};

/* The key path of the position being read, from the open collections. */
static void reader_path(const struct reader *r, struct cbuf *out)
{
	for (size_t i = 0; i < r->depth; i++) {
		const struct frame *f = &r->stack[i];
		if (f->node->kind == Y_MAP) {
			if (f->n % 2 == 1 && f->items[f->n - 1]->kind == Y_SCALAR) {
				if (out->len)
					cbuf_addc(out, '.');
				cbuf_add(out, f->items[f->n - 1]->str,
					 f->items[f->n - 1]->len > 64 ? 64 : f->items[f->n - 1]->len);
			}
		} else {
			cbuf_addf(out, "[%zu]", f->n);
		}
	}
}

/* An error; the parse goes on (duplicate keys) or stops (everything else). */
static void rerr_at(struct reader *r, bool fatal, unsigned line, unsigned col, const char *hint,
		    const char *what, const char *key)
{
	struct cbuf path = {0};

	reader_path(r, &path);
	if (key) {
		if (path.len)
			cbuf_addc(&path, '.');
		cbuf_add(&path, key, strnlen(key, 64));
	}
	for (size_t i = 0; i < path.len; i++) /* keys are shown, not obeyed */
		if ((unsigned char)path.s[i] < 0x20 || path.s[i] == 0x7f)
			path.s[i] = '?';
	if (path.len)
		diags_add(r->d, DIAG_ERROR, r->name, line, col, hint, "%s: %s", path.s, what);
	else
		diags_add(r->d, DIAG_ERROR, r->name, line, col, hint, "%s", what);
	cbuf_free(&path);
	if (fatal)
		r->failed = true;
}

static void rerr(struct reader *r, unsigned line, unsigned col, const char *hint,
		 const char *what, const char *key)
{
	rerr_at(r, true, line, col, hint, what, key);
}

static void mark_pos(const yaml_mark_t *m, unsigned *line, unsigned *col)
{
	*line = (unsigned)m->line + 1;
	*col = (unsigned)m->column + 1;
}

/* Line and column (in characters) of a byte offset, for libyaml's reader errors. */
static void offset_pos(const char *buf, size_t len, size_t off, unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

static void report_parser_error(struct reader *r, const yaml_parser_t *p)
{
	unsigned line, col;
	char hint[160];

	if (p->error == YAML_MEMORY_ERROR) {
		rerr(r, 0, 0, NULL, "out of memory while reading YAML", NULL);
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		offset_pos(r->buf, r->len, p->problem_offset, &line, &col);
		if (p->problem_offset < r->len && r->buf[p->problem_offset] == '\0')
			rerr(r, line, col, NULL, "the file contains a NUL byte", NULL);
		else if (strstr(p->problem ? p->problem : "", "UTF-8") ||
			 strstr(p->problem ? p->problem : "", "Unicode"))
			rerr(r, line, col, "sysg reads UTF-8 only",
			     "the file is not valid UTF-8", NULL);
		else {
			char what[200];
			snprintf(what, sizeof(what), "cannot read YAML: %s",
				 p->problem ? p->problem : "unknown error");
			rerr(r, line, col, NULL, what, NULL);
		}
		return;
	}
	mark_pos(&p->problem_mark, &line, &col);
	hint[0] = '\0';
	if (p->context)
		snprintf(hint, sizeof(hint), "%s at line %zu, column %zu", p->context,
			 p->context_mark.line + 1, p->context_mark.column + 1);
	{
		char what[200];
		snprintf(what, sizeof(what), "YAML syntax error: %s",
			 p->problem ? p->problem : "unknown error");
		/* The path is meaningless mid-syntax-error: report bare. */
		size_t depth = r->depth;
		r->depth = 0;
		rerr(r, line, col, hint[0] ? hint : NULL, what, NULL);
		r->depth = depth;
	}
}

static bool count_nodes(struct reader *r, uint64_t n, const yaml_mark_t *m, bool alias)
{
	unsigned line, col;
	char what[160];

	r->total += n;
	r->aliased = r->aliased || alias;
	if (r->total <= SYSG_MAX_NODES)
		return true;
	mark_pos(m, &line, &col);
	snprintf(what, sizeof(what), "the document has more than %u nodes%s", SYSG_MAX_NODES,
		 r->aliased ? " once aliases are expanded" : "");
	rerr(r, line, col,
	     r->aliased ? "an alias bomb? write the values out instead of nesting aliases"
			: "split the stack into several files",
	     what, NULL);
	return false;
}

static void add_child(struct reader *r, struct ynode *node)
{
	struct frame *f;

	if (r->depth == 0) {
		r->root = node;
		return;
	}
	f = &r->stack[r->depth - 1];
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 8;
		f->items = cfg_xrealloc(f->items, f->cap * sizeof(*f->items));
	}
	f->items[f->n++] = node;
}

static const char *tag_ok(const char *tag, bool *is_str)
{
	static const char *const core[] = {"int", "float", "bool", "null", "map", "seq", "str"};
	const char *prefix = "tag:yaml.org,2002:";

	*is_str = false;
	if (!tag || !strcmp(tag, "!"))
		return tag ? tag : "";
	if (strncmp(tag, prefix, strlen(prefix)))
		return NULL;
	for (size_t i = 0; i < CFG_ARRAY_SIZE(core); i++) {
		if (!strcmp(tag + strlen(prefix), core[i])) {
			*is_str = !strcmp(core[i], "str");
			return tag;
		}
	}
	return NULL;
}

static bool check_tag(struct reader *r, const char *tag, const yaml_mark_t *m, bool *is_str)
{
	unsigned line, col;

	if (tag_ok(tag, is_str))
		return true;
	mark_pos(m, &line, &col);
	rerr(r, line, col, "only !!str, !!int, !!float, !!bool, !!null, !!map and !!seq are understood",
	     "unsupported YAML tag", NULL);
	return false;
}

static void register_anchor(struct reader *r, const char *anchor, struct ynode *node)
{
	if (anchor)
		strmap_put(&r->anchors, arena_strdup(r->a, anchor), (size_t)(uintptr_t)node);
}

static void on_scalar(struct reader *r, const yaml_event_t *ev)
{
	struct ynode *n;
	bool is_str;
	unsigned line, col;

	mark_pos(&ev->start_mark, &line, &col);
	if (!check_tag(r, (const char *)ev->data.scalar.tag, &ev->start_mark, &is_str))
		return;
	if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length)) {
		rerr(r, line, col, "NUL cannot be passed to a program", "the string contains a NUL byte",
		     NULL);
		return;
	}
	if (!count_nodes(r, 1, &ev->start_mark, false))
		return;
	n = arena_alloc(r->a, sizeof(*n));
	n->kind = Y_SCALAR;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !is_str;
	n->line = line;
	n->col = col;
	n->str = arena_strndup(r->a, (const char *)ev->data.scalar.value, ev->data.scalar.length);
	n->len = ev->data.scalar.length;
	n->weight = 1;
	add_child(r, n);
	register_anchor(r, (const char *)ev->data.scalar.anchor, n);
}

static void on_alias(struct reader *r, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	unsigned line, col;
	size_t v;

	mark_pos(&ev->start_mark, &line, &col);
	for (size_t i = 0; i < r->depth; i++) {
		if (r->stack[i].anchor && !strcmp(r->stack[i].anchor, name)) {
			rerr(r, line, col, "a value cannot contain itself",
			     "the alias refers to its own anchor (a recursive alias)", NULL);
			return;
		}
	}
	if (!strmap_get(&r->anchors, name, &v)) {
		rerr(r, line, col, "define the anchor (&name) before the alias (*name)",
		     "the alias refers to an unknown anchor", NULL);
		return;
	}
	struct ynode *target = (struct ynode *)(uintptr_t)v;
	if (!count_nodes(r, target->weight, &ev->start_mark, true))
		return;
	add_child(r, target);
}

static void on_start(struct reader *r, const yaml_event_t *ev, enum ykind kind)
{
	const char *tag = kind == Y_MAP ? (const char *)ev->data.mapping_start.tag
					: (const char *)ev->data.sequence_start.tag;
	const char *anchor = kind == Y_MAP ? (const char *)ev->data.mapping_start.anchor
					   : (const char *)ev->data.sequence_start.anchor;
	struct frame *f;
	struct ynode *n;
	bool is_str;
	unsigned line, col;

	mark_pos(&ev->start_mark, &line, &col);
	if (r->depth == SYSG_MAX_DEPTH) {
		char what[80];
		snprintf(what, sizeof(what), "nesting deeper than %d levels", SYSG_MAX_DEPTH);
		rerr(r, line, col, NULL, what, NULL);
		return;
	}
	if (!check_tag(r, tag, &ev->start_mark, &is_str) || !count_nodes(r, 1, &ev->start_mark, false))
		return;
	if (is_str) {
		rerr(r, line, col, NULL, "!!str on a collection", NULL);
		return;
	}
	n = arena_alloc(r->a, sizeof(*n));
	n->kind = kind;
	n->line = line;
	n->col = col;
	f = &r->stack[r->depth++];
	*f = (struct frame){.node = n, .anchor = anchor ? arena_strdup(r->a, anchor) : NULL};
}

/* Drops duplicate and non-string keys (reported), and refuses merge keys. */
static size_t check_keys(struct reader *r, struct frame *f)
{
	struct strmap seen = {0};
	size_t out = 0;

	for (size_t i = 0; i + 1 < f->n; i += 2) {
		struct ynode *k = f->items[i], *v = f->items[i + 1];
		size_t first;

		if (k->kind != Y_SCALAR) {
			rerr_at(r, false, k->line, k->col, "write the key as a plain string",
			     "a mapping key must be a string, not a collection", NULL);
			continue;
		}
		if (k->plain && !strcmp(k->str, "<<")) {
			rerr_at(r, false, k->line, k->col, "repeat the keys, or use the top-level env and logs defaults",
			     "YAML merge keys (<<) are not supported", NULL);
			continue;
		}
		if (strmap_get(&seen, k->str, &first)) {
			const struct ynode *fk = f->items[first];
			char what[96];
			snprintf(what, sizeof(what), "duplicate key (first at line %u, column %u)",
				 fk->line, fk->col);
			rerr_at(r, false, k->line, k->col, "a key may appear once in a mapping", what,
				k->str);
			continue;
		}
		strmap_put(&seen, k->str, i);
		f->items[out++] = k;
		f->items[out++] = v;
	}
	strmap_free(&seen);
	return out;
}

static void on_end(struct reader *r)
{
	struct frame *f = &r->stack[r->depth - 1];
	struct ynode *n = f->node;
	size_t count = f->n;

	/* Keys are checked with the map's own frame still open, so an error
	 * names the path of the map; the frame is popped just below. */
	if (n->kind == Y_MAP)
		count = check_keys(r, f);
	n->weight = 1;
	for (size_t i = 0; i < count; i++)
		n->weight += f->items[i]->weight;
	n->items = arena_array(r->a, count ? count : 1, sizeof(*n->items));
	if (count)
		memcpy(n->items, f->items, count * sizeof(*n->items));
	n->n = n->kind == Y_MAP ? count / 2 : count;
	free(f->items);
	r->depth--;
	add_child(r, n);
	register_anchor(r, f->anchor, n);
}

static bool handle_event(struct reader *r, const yaml_event_t *ev)
{
	unsigned line, col;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++r->ndocs > 1) {
			mark_pos(&ev->start_mark, &line, &col);
			rerr(r, line, col, "put each stack in its own file",
			     "the file holds more than one YAML document", NULL);
		}
		break;
	case YAML_SCALAR_EVENT:
		on_scalar(r, ev);
		break;
	case YAML_ALIAS_EVENT:
		on_alias(r, ev);
		break;
	case YAML_SEQUENCE_START_EVENT:
		on_start(r, ev, Y_SEQ);
		break;
	case YAML_MAPPING_START_EVENT:
		on_start(r, ev, Y_MAP);
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		on_end(r);
		break;
	case YAML_STREAM_END_EVENT:
		return false;
	default:
		break;
	}
	return !r->failed;
}

static int check_root(struct reader *r)
{
	if (r->ndocs == 0 || !r->root) {
		rerr(r, 0, 0, "start with version: \"2\" and services:", "the file is empty", NULL);
		return -1;
	}
	if (r->root->kind != Y_MAP) {
		char what[96];
		if (y_is_null(r->root)) {
			rerr(r, 0, 0, "start with version: \"2\" and services:",
			     "the document is empty", NULL);
			return -1;
		}
		snprintf(what, sizeof(what), "the top level must be a mapping (key: value), not %s",
			 y_kind_name(r->root));
		rerr(r, r->root->line, r->root->col, NULL, what, NULL);
		return -1;
	}
	return 0;
}

int ytree_parse(struct arena *a, const char *name, const char *buf, size_t len,
		struct ynode **root, struct sysg_diags *d)
{
	struct reader r = {.a = a, .d = d, .name = name, .buf = buf, .len = len};
	yaml_parser_t p;
	yaml_event_t ev;
	bool more = true;
	int ret = -1;

	*root = NULL;
	if (!yaml_parser_initialize(&p)) {
		rerr(&r, 0, 0, NULL, "out of memory while reading YAML", NULL);
		return -1;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (more) {
		if (!yaml_parser_parse(&p, &ev)) {
			report_parser_error(&r, &p);
			break;
		}
		more = handle_event(&r, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	for (size_t i = 0; i < r.depth; i++)
		free(r.stack[i].items);
	strmap_free(&r.anchors);
	if (!r.failed && check_root(&r) == 0) {
		*root = r.root;
		ret = 0;
	}
	return ret;
}

/* ---- node helpers ------------------------------------------------------------- */

bool y_is_null(const struct ynode *n)
{
	if (!n)
		return true;
	if (n->kind != Y_SCALAR || !n->plain)
		return false;
	return n->len == 0 || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
	       !strcmp(n->str, "Null") || !strcmp(n->str, "NULL");
}

bool y_is_bool(const struct ynode *n, bool *v)
{
	static const char *const t[] = {"true", "True", "TRUE"}, *const f[] = {"false", "False", "FALSE"};

	if (n->kind != Y_SCALAR || !n->plain)
		return false;
	for (size_t i = 0; i < 3; i++) {
		if (!strcmp(n->str, t[i]) || !strcmp(n->str, f[i])) {
			if (v)
				*v = !strcmp(n->str, t[i]);
			return true;
		}
	}
	return false;
}

static bool looks_numeric(const char *s)
{
	char *end;
	if (!*s)
		return false;
	(void)strtod(s, &end);
	return *end == '\0';
}

const char *y_kind_name(const struct ynode *n)
{
	if (n->kind == Y_MAP)
		return "a mapping";
	if (n->kind == Y_SEQ)
		return "a list";
	if (y_is_null(n))
		return "empty";
	if (y_is_bool(n, NULL))
		return "a boolean";
	if (n->plain && looks_numeric(n->str))
		return "a number";
	return "a string";
}

const struct ynode *y_map_get(const struct ynode *map, const char *key)
{
	if (!map || map->kind != Y_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (!strcmp(y_key(map, i)->str, key))
			return y_val(map, i);
	return NULL;
}

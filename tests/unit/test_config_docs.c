/* docs/config.md documents every key of every schema table, so the reference
 * cannot drift from the parser: each table has a section marked
 * `<!-- keys: NAME -->` holding a table row "| `key` |" per key. */
#include "config_test.h"

static char *read_docs(void)
{
	char path[512], *buf = NULL;
	size_t len = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/docs/config.md", SYSG_SOURCE_DIR);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	buf = malloc(1 << 20);
	len = fread(buf, 1, (1 << 20) - 1, f);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/* The text between this table's marker and the next marker. */
static char *section(const char *docs, const char *name)
{
	char marker[128];
	const char *start, *end;

	snprintf(marker, sizeof(marker), "<!-- keys: %s -->", name);
	start = strstr(docs, marker);
	if (!start)
		return NULL;
	start += strlen(marker);
	end = strstr(start, "<!-- keys:");
	return strndup(start, end ? (size_t)(end - start) : strlen(start));
}

static void test_every_key_documented(void **state UNUSED)
{
	char *docs = read_docs(), row[128];
	int missing = 0;

	for (size_t t = 0; t < schema_ntables; t++) {
		const struct key_table *kt = schema_tables[t];
		char *sec = section(docs, kt->name);
		if (!sec) {
			fprintf(stderr, "docs/config.md: no section <!-- keys: %s -->\n", kt->name);
			missing++;
			continue;
		}
		for (size_t i = 0; i < kt->nkeys; i++) {
			if (kt->keys[i].kind == V_HINT)
				continue;
			snprintf(row, sizeof(row), "\n| `%s` |", kt->keys[i].name);
			if (!strstr(sec, row)) {
				fprintf(stderr, "docs/config.md: section %s lacks a row for `%s`\n",
					kt->name, kt->keys[i].name);
				missing++;
			}
		}
		free(sec);
	}
	free(docs);
	assert_int_equal(missing, 0);
}

static void test_tables_fit_the_bitmask(void **state UNUSED)
{
	for (size_t t = 0; t < schema_ntables; t++) {
		const struct key_table *kt = schema_tables[t];
		assert_true(kt->nkeys <= 64);
		for (size_t i = 0; i < kt->nkeys; i++) {
			assert_non_null(kt->keys[i].help);
			assert_true(kt->keys[i].kind != V_CUSTOM || kt->keys[i].fn);
			for (size_t j = 0; j < i; j++)
				assert_string_not_equal(kt->keys[i].name, kt->keys[j].name);
		}
	}
}

/* Every pending feature is marked as such in the reference: the row of its
 * key, in the section of the table holding it, says "not supported yet". */
static void test_pending_documented(void **state UNUSED)
{
	char *docs = read_docs(), table[64], row[96];

	for (size_t i = 0; i < npending; i++) {
		const char *path = pending[i].path, *dot = strrchr(path, '.');
		const char *key = dot ? dot + 1 : path;
		char *sec;

		if (pending[i].scope == PENDING_TOP)
			snprintf(table, sizeof(table), "top");
		else if (dot)
			snprintf(table, sizeof(table), "%.*s", (int)(dot - path), path);
		else
			snprintf(table, sizeof(table), "service");
		sec = section(docs, table);
		if (!sec)
			fail_msg("no section for %s", table);
		snprintf(row, sizeof(row), "\n| `%s` |", key);
		const char *r = strstr(sec, row);
		if (!r)
			fail_msg("section %s has no row for `%s`", table, key);
		const char *eol = strchr(r + 1, '\n');
		if (!memmem(r, eol ? (size_t)(eol - r) : strlen(r), "not supported yet", 17))
			fail_msg("the row for %s does not say it is not supported yet", path);
		free(sec);
	}
	free(docs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key_documented),
		cmocka_unit_test(test_tables_fit_the_bitmask),
		cmocka_unit_test(test_pending_documented),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

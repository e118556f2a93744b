/* `command:` strings: shell syntax runs under /bin/sh -c, anything else is
 * split with POSIX quoting rules and exec'd directly (no resident shell). */
#include <stdlib.h>
#include <string.h>

#include "config/internal.h"

/* Words that only a shell understands as the first word of a command. */
static const char *const shell_words[] = {
	"!", ".", ":", "[[", "alias", "bg", "break", "case", "cd", "command", "continue",
	"declare", "do", "done", "elif", "else", "esac", "eval", "exec", "exit", "export",
	"fc", "fg", "fi", "for", "function", "getopts", "hash", "if", "jobs", "local",
	"readonly", "read", "return", "select", "set", "shift", "source", "then", "time",
	"times", "trap", "type", "typeset", "ulimit", "umask", "unalias", "unset", "until",
	"wait", "while",
};

static bool is_shell_word(const char *w)
{
	for (size_t i = 0; i < CFG_ARRAY_SIZE(shell_words); i++)
		if (!strcmp(w, shell_words[i]))
			return true;
	return false;
}

/* "FOO=1 cmd": an assignment prefix needs the shell. */
static bool is_assignment(const char *w)
{
	const char *p = w;

	if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_'))
		return false;
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
	       *p == '_')
		p++;
	return *p == '=';
}

enum split { SPLIT_OK, SPLIT_SHELL, SPLIT_ERROR };

/* Splits text into words, or says it needs a shell. Quotes make shell
 * characters literal, except $ and ` inside double quotes. */
static enum split split_words(struct arena *a, const char *text, struct strv *out,
			      const char **why)
{
	struct cbuf w = {0};
	char **v = NULL;
	size_t n = 0, cap = 0;
	bool in_word = false, word_quoted = false;
	enum split ret = SPLIT_OK;
	const char *p = text;

	for (;; p++) {
		char ch = *p;
		bool end_word = !ch || ch == ' ' || ch == '\t';

		if (end_word) {
			if (in_word) {
				if (n == 0 && !word_quoted && (is_shell_word(w.s) || is_assignment(w.s))) {
					ret = SPLIT_SHELL;
					goto out;
				}
				if (n + 2 > cap) {
					cap = cap ? cap * 2 : 8;
					v = cfg_xrealloc(v, cap * sizeof(*v));
				}
				v[n++] = arena_strndup(a, w.s ? w.s : "", w.len);
				cbuf_truncate(&w, 0);
				in_word = word_quoted = false;
			}
			if (!ch)
				break;
			continue;
		}
		/* Operators, expansions and globs anywhere; '#' (comment) and '~'
		 * (home) only at the start of a word, as in sh. */
		if (strchr("|&;<>()$`*?[{}\n\r", ch) || ((ch == '#' || ch == '~') && !in_word)) {
			ret = SPLIT_SHELL;
			goto out;
		}
		in_word = true;
		if (!w.s)
			cbuf_add(&w, "", 0);
		if (ch == '\\') {
			if (!p[1]) {
				*why = "ends with a lone backslash";
				ret = SPLIT_ERROR;
				goto out;
			}
			if (*++p != '\n') /* backslash-newline continues the line */
				cbuf_addc(&w, *p);
		} else if (ch == '\'') {
			const char *q = strchr(p + 1, '\'');
			if (!q) {
				*why = "has an unterminated single quote";
				ret = SPLIT_ERROR;
				goto out;
			}
			cbuf_add(&w, p + 1, (size_t)(q - p - 1));
			word_quoted = true;
			p = q;
		} else if (ch == '"') {
			word_quoted = true;
			for (p++; *p != '"'; p++) {
				if (!*p) {
					*why = "has an unterminated double quote";
					ret = SPLIT_ERROR;
					goto out;
				}
				if (*p == '$' || *p == '`') {
					ret = SPLIT_SHELL;
					goto out;
				}
				if (*p == '\\' && p[1] && strchr("\"\\$`\n", p[1]))
					p++;
				cbuf_addc(&w, *p);
			}
		} else {
			cbuf_addc(&w, ch);
		}
	}
out:
	cbuf_free(&w);
	if (ret == SPLIT_OK) {
		if (!v)
			v = cfg_xrealloc(v, sizeof(*v));
		out->v = arena_array(a, n + 1, sizeof(char *));
		memcpy(out->v, v, n * sizeof(char *));
		out->v[n] = NULL;
		out->n = n;
	}
	free(v);
	return ret;
}

int cmd_parse(struct arena *a, const char *text, struct cmd *out, const char **why)
{
	size_t len = strlen(text);
	char *t;

	/* A folded (>) block ends in a newline; it is not part of the command. */
	while (len && strchr(" \t\n\r", text[len - 1]))
		len--;
	while (len && strchr(" \t\n\r", *text)) {
		text++;
		len--;
	}
	if (!len) {
		*why = "is empty";
		return -1;
	}
	t = arena_strndup(a, text, len);
	memset(out, 0, sizeof(*out));
	out->text = t;
	switch (split_words(a, t, &out->argv, why)) {
	case SPLIT_OK:
		return 0;
	case SPLIT_SHELL:
		out->shell = true;
		out->argv.v = arena_array(a, 4, sizeof(char *));
		out->argv.v[0] = "/bin/sh";
		out->argv.v[1] = "-c";
		out->argv.v[2] = t;
		out->argv.n = 3;
		return 0;
	default:
		return -1;
	}
}

char *argv_render(struct arena *a, char *const *argv)
{
	struct cbuf b = {0};
	char *r;

	for (size_t i = 0; argv[i]; i++) {
		const char *w = argv[i];
		if (i)
			cbuf_addc(&b, ' ');
		if (*w && !w[strcspn(w, " \t\n\"'\\$`*?[]{}()<>|&;#~!=")]) {
			cbuf_adds(&b, w);
			continue;
		}
		cbuf_addc(&b, '\'');
		for (; *w; w++) {
			if (*w == '\'')
				cbuf_adds(&b, "'\\''");
			else
				cbuf_addc(&b, *w);
		}
		cbuf_addc(&b, '\'');
	}
	r = arena_strdup(a, b.s ? b.s : "");
	cbuf_free(&b);
	return r;
}

/* Placeholder until the parser lands (delete when config/ has the real loader). */
#include "config/config.h"

int sysg_config_load(const char *path, const struct sysg_load_opts *opts,
		     struct sysg_config **out, struct sysg_diags *d)
{
	(void)path, (void)opts, (void)d;
	*out = NULL;
	return -1;
}

const struct rlimit_name sysg_rlimit_names[SYSG_RLIM__COUNT] = {
	{"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC}, {"memlock", RLIMIT_MEMLOCK},
	{"core", RLIMIT_CORE},     {"stack", RLIMIT_STACK}, {"as", RLIMIT_AS},
	{"fsize", RLIMIT_FSIZE},
};

#include <signal.h>
#include <string.h>
void diags_print(const struct sysg_diags *d, FILE *out) { (void)d, (void)out; }
void diags_free(struct sysg_diags *d) { (void)d; }
const struct svc_config *sysg_config_find(const struct sysg_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nsvcs; i++)
		if (strcmp(cfg->svcs[i].name, name) == 0)
			return &cfg->svcs[i];
	return NULL;
}
void sysg_config_free(struct sysg_config *cfg) { (void)cfg; }
const char *signal_name(int sig)
{
	static const struct { int n; const char *s; } t[] = {
		{SIGTERM, "SIGTERM"}, {SIGKILL, "SIGKILL"}, {SIGINT, "SIGINT"}, {SIGSEGV, "SIGSEGV"},
		{SIGQUIT, "SIGQUIT"}, {SIGHUP, "SIGHUP"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].n == sig)
			return t[i].s;
	return NULL;
}

/* Secrets: read at every start from their source ({file}, {env}, {value}),
 * delivered as environment variables or as files in $CREDENTIALS_DIRECTORY
 * (a private tmpfs in system mode, mode 0400, owned by the service's user,
 * removed when the service stops), and masked in every log line, in the
 * foreground stream and in sysg's own messages. */
#ifndef SYSG_SECRETS_H
#define SYSG_SECRETS_H

#include <stdbool.h>
#include <sys/types.h>

#include "config/config.h"
#include "supervisor/mask.h"

struct svc_secrets {
	char **env;          /* "NAME=value" for env delivery, NULL-terminated (or NULL) */
	char *cred_dir;      /* $CREDENTIALS_DIRECTORY when some secret is a file, else NULL */
	bool cred_made;      /* the directory exists (and is a tmpfs when cred_mounted) */
	bool cred_mounted;
	char **values;       /* every value, for masking */
	size_t *lens, n;
	struct mask_dfa *dfa;
};

/* Reads every secret of svc. runtime_dir is where credentials directories go.
 * 0, or -errno with *why naming the secret (never its value). */
int secrets_load(const struct svc_config *svc, const char *runtime_dir, char *const *environ,
		 struct svc_secrets *out, char **why);
/* Writes the file-delivered secrets for a service running as uid:gid. */
int secrets_deliver(struct svc_secrets *s, const struct svc_config *svc, bool system_mode,
		    uid_t uid, gid_t gid, char **why);
/* Removes the credentials directory (the service stopped). */
void secrets_remove_files(struct svc_secrets *s);
void secrets_free(struct svc_secrets *s);

/* sysg's own messages are masked with every service's secrets: call after a
 * service's secrets changed. */
void secrets_update_global(struct svc_secrets *const *all, size_t n);
const struct mask_dfa *secrets_global(void);

#endif

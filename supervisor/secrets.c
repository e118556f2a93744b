#include "supervisor/secrets.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/log.h"
#include "supervisor/util.h"

#define SECRET_MAX_BYTES (1u << 20)

static struct mask_dfa *global_dfa;

static const char *env_lookup(char *const *env, const char *name)
{
	extern char **environ;
	size_t n = strlen(name);

	if (!env)
		env = environ;
	for (size_t i = 0; env[i]; i++)
		if (!strncmp(env[i], name, n) && env[i][n] == '=')
			return env[i] + n + 1;
	return NULL;
}

/* One secret's bytes. A file's single trailing newline is dropped when the
 * secret goes into the environment (`echo token > file` is the common case). */
static int read_secret(const struct secret_def *d, char *const *env, char **val, size_t *len,
		       char **why)
{
	const char *v;
	int r;

	switch (d->source) {
	case SECRET_FILE:
		if ((r = read_file(d->ref, SECRET_MAX_BYTES, val, len)) < 0) {
			*why = xasprintf("secret %s: %s: %s", d->name, d->ref, strerror(-r));
			return r;
		}
		if (d->deliver == DELIVER_ENV && *len && (*val)[*len - 1] == '\n')
			(*val)[--*len] = '\0';
		break;
	case SECRET_ENV:
		if (!(v = env_lookup(env, d->ref))) {
			*why = xasprintf("secret %s: variable %s is not set in sysg's environment",
					 d->name, d->ref);
			return -ENOENT;
		}
		*val = xstrdup(v);
		*len = strlen(v);
		break;
	default:
		*val = xstrdup(d->ref);
		*len = strlen(d->ref);
		break;
	}
	if (d->deliver == DELIVER_ENV && memchr(*val, '\0', *len)) {
		*why = xasprintf("secret %s: holds a NUL byte and cannot be an environment variable "
				 "(use deliver: file)", d->name);
		free(*val);
		return -EINVAL;
	}
	return 0;
}

int secrets_load(const struct svc_config *svc, const char *runtime_dir, char *const *env,
		 struct svc_secrets *out, char **why)
{
	size_t nenv = 0;
	int r, err = 0;

	memset(out, 0, sizeof(*out));
	if (!svc->nsecrets)
		return 0;
	out->values = xcalloc(svc->nsecrets, sizeof(char *));
	out->lens = xcalloc(svc->nsecrets, sizeof(size_t));
	out->env = xcalloc(svc->nsecrets + 1, sizeof(char *));
	for (size_t i = 0; i < svc->nsecrets; i++) {
		const struct secret_def *d = &svc->secrets[i];
		char *val;
		size_t len;

		if ((r = read_secret(d, env, &val, &len, why)) < 0) {
			secrets_free(out);
			return r;
		}
		out->values[out->n] = val;
		out->lens[out->n++] = len;
		if (d->deliver == DELIVER_ENV)
			out->env[nenv++] = xasprintf("%s=%s", d->name, val);
		else if (!out->cred_dir)
			out->cred_dir = xasprintf("%s/credentials/%s", runtime_dir, svc->unit);
	}
	out->dfa = mask_dfa_new((const char *const *)out->values, out->lens, out->n, &err);
	if (err) {
		*why = xasprintf("secrets: too long in total to be masked in logs");
		secrets_free(out);
		return err;
	}
	return 0;
}

int secrets_deliver(struct svc_secrets *s, const struct svc_config *svc, bool system_mode,
		    uid_t uid, gid_t gid, char **why)
{
	char *parent;
	int r, dirfd;

	if (!s->cred_dir)
		return 0;
	secrets_remove_files(s);
	/* The parent is traversable, not listable: each service's own dir is 0500. */
	parent = xstrndup(s->cred_dir, strrchr(s->cred_dir, '/') - s->cred_dir);
	r = mkdir_secure(parent, 0711, geteuid());
	free(parent);
	if (r < 0 || (mkdir(s->cred_dir, 0700) < 0 && errno != EEXIST)) {
		r = r < 0 ? r : -errno;
		goto fail;
	}
	s->cred_made = true;
	if (system_mode) {
		/* Never on disk, never in another service's view of the directory. */
		char opts[96];
		snprintf(opts, sizeof(opts), "mode=0700,size=%u,nr_inodes=%zu", SECRET_MAX_BYTES * 2,
			 svc->nsecrets + 16);
		if (mount("sysg-credentials", s->cred_dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  opts) < 0) {
			r = -errno;
			goto fail;
		}
		s->cred_mounted = true;
	}
	dirfd = open(s->cred_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0) {
		r = -errno;
		goto fail;
	}
	for (size_t i = 0; i < svc->nsecrets; i++) {
		if (svc->secrets[i].deliver != DELIVER_FILE)
			continue;
		int fd = openat(dirfd, svc->secrets[i].name,
				O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0400);
		if (fd < 0 || write_all(fd, s->values[i], s->lens[i]) < 0 ||
		    fchown(fd, uid, gid) < 0) {
			r = -errno;
			if (fd >= 0)
				close(fd);
			close(dirfd);
			goto fail;
		}
		close(fd);
	}
	r = fchown(dirfd, uid, gid) < 0 || fchmod(dirfd, 0500) < 0 ? -errno : 0;
	close(dirfd);
	if (r == 0)
		return 0;
fail:
	*why = xasprintf("secrets: %s: %s", s->cred_dir, strerror(-r));
	secrets_remove_files(s);
	return r;
}

void secrets_remove_files(struct svc_secrets *s)
{
	if (!s->cred_dir || !s->cred_made)
		return;
	if (s->cred_mounted) {
		umount2(s->cred_dir, MNT_DETACH);
		s->cred_mounted = false;
	} else {
		/* User mode: a plain directory on the runtime tmpfs, emptied by hand. */
		int dirfd = open(s->cred_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		DIR *d = dirfd >= 0 ? fdopendir(dirfd) : NULL;
		struct dirent *de;

		if (dirfd >= 0)
			fchmod(dirfd, 0700);
		while (d && (de = readdir(d)))
			if (de->d_name[0] != '.')
				unlinkat(dirfd, de->d_name, 0);
		if (d)
			closedir(d);
		else if (dirfd >= 0)
			close(dirfd);
	}
	rmdir(s->cred_dir);
	s->cred_made = false;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void secrets_free(struct svc_secrets *s)
{
	size_t nenv = 0;

	while (s->env && s->env[nenv])
		nenv++;
	free_strv(s->env, nenv);
	for (size_t i = 0; i < s->n; i++)
		explicit_bzero(s->values[i], s->lens[i]);
	free_strv(s->values, s->n);
	free(s->lens);
	free(s->cred_dir);
	mask_dfa_free(s->dfa);
	memset(s, 0, sizeof(*s));
}

static void global_filter(char *buf, unsigned cap) { mask_string(global_dfa, buf, cap); }

void secrets_update_global(struct svc_secrets *const *all, size_t n)
{
	const char **values = NULL;
	size_t *lens = NULL, total = 0;
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		if (!all[i])
			continue;
		values = xreallocarray(values, total + all[i]->n, sizeof(char *));
		lens = xreallocarray(lens, total + all[i]->n, sizeof(size_t));
		for (size_t j = 0; j < all[i]->n; j++) {
			values[total] = all[i]->values[j];
			lens[total++] = all[i]->lens[j];
		}
	}
	mask_dfa_free(global_dfa);
	global_dfa = total ? mask_dfa_new(values, lens, total, &err) : NULL;
	log_set_filter(global_dfa ? global_filter : NULL);
	free(values);
	free(lens);
}

const struct mask_dfa *secrets_global(void) { return global_dfa; }

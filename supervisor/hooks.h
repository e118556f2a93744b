/* Conditional services and lifecycle hooks (SPEC §2.2 `skip`, §2.3 `hooks`).
 *
 * skip: `true` marks the service skipped at once; a command is run when the
 * service would start (after its dependencies allow it), with the service's
 * identity, environment and isolation: exit 0 skips it, any other exit lets it
 * start, and a command that cannot run (or is killed) fails the service.
 * A skipped service blocks its dependents ("dependency X is skipped").
 *
 * hooks: onstart runs once the service is ready, onerr after an unsuccessful
 * exit (non-zero, a signal, an exec failure) that sysg did not ask for. Both
 * run as auxiliary processes of the service (sup_spawn_aux: its identity,
 * environment, isolation; output into its log), are killed with their whole
 * process group at their timeout, and never change the service's state. At
 * most one run of each hook at a time.
 */
#ifndef SYSG_HOOKS_H
#define SYSG_HOOKS_H

#include <stdbool.h>

#include "supervisor/service.h"

struct sup;

/* The reconciler, before dependencies: `skip: true` -> skipped, returns true. */
bool hooks_skip_now(struct sup *s, struct service *svc);
/* The reconciler, dependencies satisfied: true while a skip command decides
 * (or once it decided to skip or failed); false = start now. */
bool hooks_skip_check(struct sup *s, struct service *svc);
/* svc->state changed from `from`: runs onstart / onerr. */
void hooks_transition(struct sup *s, struct service *svc, enum svc_state from);
/* Kills every hook and skip check still running (their whole groups). */
void hooks_free(struct sup *s);

/* Default time a skip command may take before it is killed (and the service fails). */
#define SKIP_TIMEOUT_USEC (30 * USEC_PER_SEC)

#endif
